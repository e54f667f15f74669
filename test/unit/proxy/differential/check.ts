/*
 * The invariant, checked per case:
 *
 * - Whatever the proxy forwards, in either direction, llhttp accepts: the dev server's llhttp parses
 *   the forwarded requests without error, the client's llhttp parses the proxy's responses; and the
 *   forwarded messages are llhttp's messages of the original bytes: same count (never more), same
 *   method, target, body bytes and end-to-end header fields.
 * - Whatever llhttp refuses in the original is never forwarded as a success: the dev server never gets
 *   a complete message for it and the client gets a 4xx/5xx of the proxy's own (requests), or a 502 or
 *   a closed connection, never the dev server's response (responses).
 *
 * The proxy may be stricter than llhttp (refuse what llhttp accepts, with its own 4xx/5xx or a 502):
 * that is counted, not failed. One difference the other way is decided and counted too: a method that
 * is a token but unknown to llhttp is forwarded (the dev server's llhttp then refuses it).
 */
import type { Case } from './generators';
import { bodyOf, type ParsedRequest, type RequestVerdict, type ResponseVerdict } from './oracle';
import { closesAfter, SENTINEL_URL, type ClientResponse, type RequestObservation, type ResponseObservation } from './driver';

export interface Failure {
	/** What went wrong, without case-specific detail: failures are grouped by it. */
	readonly cause: string;
	readonly detail: string;
}

export interface CaseResult {
	readonly case: Case;
	readonly failures: Failure[];
	/** Where the proxy refused what llhttp accepted (not a failure), e.g. `request: 505 HTTP version not supported`. */
	readonly stricter?: string;
	/** What llhttp and the proxy each did, for failure messages. */
	readonly report: string;
}

/** A byte string as JSON, cut to `limit` characters of it when longer. */
export function showBytes(data: Buffer | readonly Buffer[], limit = Infinity): string {
	const text = (Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[])).toString('latin1');
	if (text.length <= limit) { return JSON.stringify(text); }
	return `${JSON.stringify(text.slice(0, limit))} … (${text.length} bytes in all)`;
}

const HOP_BY_HOP_REQUEST = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'content-length', 'expect', 'upgrade', 'http2-settings', 'host',
	'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded']);
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'content-length', 'upgrade', 'http2-settings',
	'strict-transport-security', 'location', 'content-location', 'refresh']);

/** The end-to-end fields of a message, as `name: value` lines: what a proxy passes on unchanged. */
function endToEnd(raw: readonly string[], dropped: ReadonlySet<string>, named: ReadonlySet<string>): string[] {
	const lines: string[] = [];
	for (let i = 0; i + 1 < raw.length; i += 2) {
		const lower = raw[i].toLowerCase();
		if (dropped.has(lower) || lower.startsWith('proxy-') || named.has(lower)) { continue; }
		lines.push(`${raw[i]}: ${raw[i + 1]}`);
	}
	return lines;
}

/** Names listed in Connection: hop-by-hop too (RFC 9110 §7.6.1). */
function connectionNames(raw: readonly string[]): Set<string> {
	const names = new Set<string>();
	for (let i = 0; i + 1 < raw.length; i += 2) {
		if (raw[i].toLowerCase() !== 'connection') { continue; }
		for (const token of raw[i + 1].split(',')) { names.add(token.trim().toLowerCase()); }
	}
	return names;
}

function describeMessage(m: ParsedRequest): string {
	return `${m.method} ${JSON.stringify(m.url)} HTTP/${m.httpVersion} body ${showBytes(bodyOf(m), 200)}${m.complete ? '' : ' (incomplete)'}`;
}

function describeResponse(r: ClientResponse): string {
	return `${r.status} ${r.fromDev ? 'from the dev server' : `of the proxy's own ${showBytes(r.chunks, 120)}`}`;
}

function describeVerdict(v: RequestVerdict): string {
	const messages = v.messages.map(describeMessage).join('; ');
	const end = v.end === 'clean' ? 'accepted' : `${v.end}: ${v.code} (${v.reason})`;
	return `${v.messages.length} message(s) [${messages}], then ${end}${v.partial ? `; the next one partial: ${describeMessage(v.partial)}` : ''}`;
}

function describeObservation(o: RequestObservation): string {
	const complete = o.forwarded.filter((m) => m.complete);
	const lines = [
		`forwarded ${complete.length} complete message(s) [${o.forwarded.map(describeMessage).join('; ')}]${o.devErrors.length ? `, dev server's llhttp errors ${o.devErrors.join(', ')}` : ''}`,
		`client got ${o.interim ? `${o.interim} interim + ` : ''}[${o.responses.map(describeResponse).join('; ')}]${o.clientParseError ? `, llhttp refused the rest: ${o.clientParseError}` : ''}`
		+ `${o.truncatedResponse ? ', a response cut off' : ''}; connection ${o.closed ? 'closed' : 'open'}${o.stalled ? ' and waiting for more bytes' : ''}`
		+ `${o.probed ? ' (after a stall, CRLFCRLF was written to end any head)' : ''}${o.timedOut ? '; TIMED OUT' : ''}`
		+ `${o.sentinel !== 'not sent' ? `; a request written after the case was ${o.sentinel}` : ''}`,
		`dev server received ${showBytes(o.devBytes, 1500)}`,
		`client received ${showBytes(o.clientBytes, 1500)}`,
	];
	return lines.map((l) => `    ${l}`).join('\n');
}

/** Normal at the end of an aborted forward: the proxy cut off a message it had started to send. */
const ABORT_CODES = new Set(['HPE_INVALID_EOF_STATE', 'ECONNRESET']);

export function checkRequest(c: Case, v: RequestVerdict, o: RequestObservation): CaseResult {
	const failures: Failure[] = [];
	const fail = (cause: string, detail = ''): void => { failures.push({ cause, detail }); };
	const k = v.messages.length;
	const complete = o.forwarded.filter((m) => m.complete && m.url !== SENTINEL_URL);
	const m = complete.length;
	const partial = o.forwarded.some((x) => !x.complete);
	let stricter: string | undefined;

	if (o.timedOut) { fail('request: the proxy did not settle within 4 s'); }
	if (o.clientParseError !== undefined) { fail(`request: llhttp (client) refused the proxy's response: ${o.clientParseError}`); }
	let refusedForwards = [...new Set(o.devErrors.filter((code) => !ABORT_CODES.has(code)))];
	// Decided (README, "The proxy"): a method is any token (RFC 9110 §9.1), so the proxy forwards those
	// llhttp does not know, for dev servers of other stacks; a Node dev server refuses them itself. What
	// follows such a message is past where llhttp stopped, so only the messages before it are compared.
	const unknownMethod = v.code === 'HPE_INVALID_METHOD' && refusedForwards.includes('HPE_INVALID_METHOD');
	if (unknownMethod) { refusedForwards = refusedForwards.filter((code) => code !== 'HPE_INVALID_METHOD'); }
	const report = `  llhttp: ${describeVerdict(v)}\n  proxy:\n${describeObservation(o)}`;
	if (refusedForwards.length > 0) {
		// The dev server's llhttp stopped reading the forwarded stream: what came after (the proxy's 502, a
		// retry on a new connection, later messages) cannot be matched message by message with the original.
		for (const code of refusedForwards) { fail(`request: llhttp (dev server) refused the forwarded bytes: ${code}`); }
		return { case: c, failures, report };
	}
	for (let i = 0; i < Math.min(m, k); i++) {
		const original = v.messages[i];
		const forwarded = complete[i];
		if (original.method !== forwarded.method) { fail('request: forwarded method differs from llhttp\'s', `${original.method} -> ${forwarded.method}`); }
		if (original.url !== forwarded.url) { fail('request: forwarded target differs from llhttp\'s', `${JSON.stringify(original.url)} -> ${JSON.stringify(forwarded.url)}`); }
		if (!bodyOf(original).equals(bodyOf(forwarded))) { fail('request: forwarded body differs from llhttp\'s', `message ${i + 1}`); }
		const named = connectionNames(original.rawHeaders);
		const before = endToEnd(original.rawHeaders, HOP_BY_HOP_REQUEST, named);
		const after = endToEnd(forwarded.rawHeaders, HOP_BY_HOP_REQUEST, named);
		if (JSON.stringify(before) !== JSON.stringify(after)) { fail('request: forwarded header fields differ from llhttp\'s', `${JSON.stringify(before)} -> ${JSON.stringify(after)}`); }
		const answer = o.responses[i];
		if (answer !== undefined && !answer.fromDev) { fail('request: the proxy answered a forwarded message itself', describeResponse(answer)); }
	}
	if (unknownMethod) { return { case: c, failures, stricter: 'request: allowed: a method llhttp does not know, forwarded', report }; }
	if (o.sentinel === 'not answered' && m <= k) {
		fail('request: after the messages llhttp found, the proxy did not serve the next request as one (it holds bytes of the case back)');
	}
	if (m > k) {
		if (v.end === 'clean') {
			fail('request: the proxy forwarded more messages than llhttp found');
		} else {
			fail(`request: the proxy forwarded a message llhttp ${v.end === 'refused' ? `refuses (${v.code})` : 'finds incomplete'}`);
		}
	} else if (m === k && v.end === 'refused') {
		const answer = o.responses[m];
		if (answer !== undefined && !answer.fromDev && answer.status >= 400) {
			// Refused, as it must be.
		} else if (o.closed && closesAfter(o.responses[m - 1])) {
			// The proxy ended the connection after the last answer, and said so: nothing after it is read.
		} else if (o.closed) {
			fail(`request: the connection closed without a 4xx where llhttp refuses (${v.code})${partial ? ', after part of the message was forwarded' : ''}`);
		} else if (!o.timedOut) {
			fail(`request: the proxy waits for more bytes where llhttp refuses (${v.code})`);
		}
	} else if (m < k) {
		const answer = o.responses[m];
		if (answer !== undefined && !answer.fromDev && answer.status >= 400) {
			stricter = `request: ${answer.status} ${Buffer.concat(answer.chunks).toString('latin1').split('\n')[0].slice(0, 80)}`;
		} else if (o.closed) {
			stricter = closesAfter(o.responses[m - 1]) ? 'request: connection closed after a response with Connection: close'
				: `request: connection closed without an answer${partial ? ' (mid-body)' : ''}`;
		} else if (!o.timedOut) {
			fail('request: the proxy waits for more bytes where llhttp found a complete message');
		}
	}
	return { case: c, failures, stricter, report };
}

function describeResponseVerdict(v: ResponseVerdict): string {
	const status = v.upgrade ? '101 (upgrade)' : v.status === undefined ? 'no response' : `${v.status} ${JSON.stringify(v.statusMessage)}`;
	return `${v.info.length ? `interim ${v.info.join(', ')}; ` : ''}${status}${v.rawHeaders ? ` headers ${JSON.stringify(v.rawHeaders).slice(0, 600)}` : ''}`
		+ ` body ${showBytes(v.body, 300)}, ${v.complete ? 'complete' : 'not complete'}${v.code ? `, error ${v.code}` : ''}`;
}

export function checkResponse(c: Case, v: ResponseVerdict, o: ResponseObservation): CaseResult {
	const failures: Failure[] = [];
	const fail = (cause: string, detail = ''): void => { failures.push({ cause, detail }); };
	const p = o.client;
	let stricter: string | undefined;
	const accepted = v.complete && !v.upgrade && v.status !== undefined;
	const own502 = p.status === 502;
	const success = p.complete && p.status !== undefined && !own502 && !p.upgrade;
	if (p.code?.startsWith('HPE_')) { fail(`response: llhttp (client) refused what the proxy sent: ${p.code}`); }
	if (p.code === 'TIMEOUT') { fail('response: the proxy did not answer within 4 s'); }
	if (p.upgrade) { fail('response: the proxy passed on a 101 Switching Protocols'); }
	if (!accepted) {
		if (success) { fail(`response: the proxy passed on a response llhttp refuses (${v.upgrade ? '101 upgrade' : v.code ?? 'incomplete'})`, `status ${p.status}`); }
	} else if (success) {
		if (p.status !== v.status) { fail('response: status differs from llhttp\'s', `${v.status} -> ${p.status}`); }
		if (!p.body.equals(v.body)) { fail('response: body differs from llhttp\'s'); }
		const named = connectionNames(v.rawHeaders ?? []);
		const before = endToEnd(v.rawHeaders ?? [], HOP_BY_HOP_RESPONSE, named);
		const after = endToEnd(p.rawHeaders ?? [], HOP_BY_HOP_RESPONSE, named);
		if (JSON.stringify(before) !== JSON.stringify(after)) { fail('response: header fields differ from llhttp\'s', `${JSON.stringify(before)} -> ${JSON.stringify(after)}`); }
	} else {
		const page = p.body.toString('latin1');
		const why = /not with valid HTTP\/1\.1: ([^<\n]*)/.exec(page)?.[1] ?? /\n(http:\/\/[^ ]+ [^<\n]*)/.exec(page)?.[1]?.replace(/^http:\/\/\S+ /, '') ?? '';
		stricter = own502 ? `response: 502 ${why.slice(0, 100)}` : 'response: connection closed mid-response';
	}
	const report = `  llhttp: ${describeResponseVerdict(v)}\n  proxy: client got ${describeResponseVerdict(p)}\n`
		+ `    dev server received ${showBytes(o.devBytes, 1500)}\n    client received ${showBytes(o.clientBytes, 1500)}`;
	return { case: c, failures, stricter, report };
}

/** A failed case as text: name, exact bytes (JSON), what the generator did, and what each side did. */
export function formatFailure(result: CaseResult): string {
	const c = result.case;
	const lines = [
		`${c.name} (${c.direction}${c.direction === 'response' ? ` to ${c.method}` : ''}):`,
		...result.failures.map((f) => `  FAIL ${f.cause}${f.detail ? ` — ${f.detail}` : ''}`),
		`  bytes: ${showBytes(c.bytes)}`,
	];
	if (c.notes?.length) { lines.push(`  generated by: ${c.notes.join('; ')}`); }
	lines.push(result.report);
	return lines.join('\n');
}
