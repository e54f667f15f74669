import { writeFile } from 'node:fs/promises';
import { bodyKind, bodyText, isTextKind } from '../../shared/bodyKind';
import type { Exchange, ExchangeId, RawHeaders, TlsDetails, WebSocketMessage } from '../../shared/exchange';
import { decodeBodySync, decodeWebSocketPayloadSync } from './bodyDecoding';
import type { BodySide } from '../capture/captureStore';
import { REDACTED, redactHeader } from './redaction';

// The HAR 1.2 shapes we write (http://www.softwareishard.com/blog/har-12-spec/). Fields starting with
// `_` are custom, as the spec allows; `_webSocketMessages` and `_resourceType` follow Chrome DevTools.

export interface HarNameValue {
	name: string;
	value: string;
}

export interface HarCookie {
	name: string;
	value: string;
	path?: string;
	domain?: string;
	expires?: string;
	httpOnly?: boolean;
	secure?: boolean;
	sameSite?: string;
}

export interface HarPostData {
	mimeType: string;
	text: string;
	/** Custom (like `content.encoding`): `base64` when the body is not text. */
	encoding?: 'base64';
	_truncated?: boolean;
}

export interface HarRequest {
	method: string;
	url: string;
	httpVersion: string;
	cookies: HarCookie[];
	headers: HarNameValue[];
	queryString: HarNameValue[];
	postData?: HarPostData;
	headersSize: number;
	bodySize: number;
}

export interface HarContent {
	size: number;
	compression?: number;
	mimeType: string;
	text?: string;
	encoding?: 'base64';
	_truncated?: boolean;
	/** Why the body is shown still encoded (e.g. an encoding this runtime cannot decode). */
	_error?: string;
	_note?: string;
}

export interface HarResponse {
	status: number;
	statusText: string;
	httpVersion: string;
	cookies: HarCookie[];
	headers: HarNameValue[];
	content: HarContent;
	redirectURL: string;
	headersSize: number;
	bodySize: number;
	_error?: string;
}

export interface HarTimings {
	blocked: number;
	dns: number;
	connect: number;
	send: number;
	wait: number;
	receive: number;
	ssl: number;
}

/** A WebSocket message in Chrome DevTools' HAR form. */
export interface HarWebSocketMessage {
	type: 'send' | 'receive';
	/** Seconds since the Unix epoch (Chrome's unit for this field). */
	time: number;
	opcode: number;
	/** Text for text frames, base64 otherwise (and for payloads that could not be decoded). */
	data: string;
	_size: number;
	_truncated?: boolean;
	_compressed?: boolean;
	_encoding?: 'base64';
}

export interface HarEntry {
	startedDateTime: string;
	time: number;
	request: HarRequest;
	response: HarResponse;
	cache: Record<string, never>;
	timings: HarTimings;
	serverIPAddress?: string;
	connection?: string;
	_id: ExchangeId;
	_state: Exchange['state'];
	_clientAddress: string;
	_tls: TlsDetails;
	_resourceType?: 'websocket';
	_webSocketMessages?: HarWebSocketMessage[];
}

export interface HarTlsError {
	startedDateTime: string;
	clientAddress: string;
	error: string;
	tls: TlsDetails;
}

export interface HarCreator {
	name: string;
	version: string;
}

export interface Har {
	log: {
		version: '1.2';
		creator: HarCreator;
		/** Says what was redacted, when something was. */
		comment?: string;
		entries: HarEntry[];
		/** Failed TLS handshakes: no request was made, so they are not entries. */
		_tlsErrors?: HarTlsError[];
	};
}

/** Options of {@link toHar}. */
export interface HarOptions {
	/** The dev server's address, for `serverIPAddress` (the model does not carry it). */
	readonly serverIPAddress?: string;
	/**
	 * Keep the values of Authorization, Proxy-Authorization, Cookie and Set-Cookie (headers and the
	 * cookie lists) as they were sent. Off by default: a HAR is made to be shared, and these are the
	 * session's credentials; they are redacted ({@link redactHeader}), as in Chrome DevTools' sanitized
	 * export, but keeping the names and cookie attributes.
	 */
	readonly includeSensitive?: boolean;
}

/** The log comment of a redacted HAR. */
export const REDACTION_COMMENT = `Values of Authorization, Proxy-Authorization, Cookie and Set-Cookie are replaced by ${REDACTED}.`;

/**
 * Builds a HAR 1.2 log from captured exchanges. Response bodies are decoded (gzip, br, …) and included as
 * text when textual, as base64 otherwise; TLS details go into `_tls`, WebSocket messages into Chrome's
 * `_webSocketMessages`, failed handshakes into `log._tlsErrors`. Credentials and cookies are redacted
 * unless {@link HarOptions.includeSensitive}. Synchronous: decodes on the calling thread.
 *
 * @param bodyOf the kept raw body of an exchange (e.g. `CaptureStore.body`).
 * @param creator defaults to TLS Lens without a version.
 */
export function toHar(
	exchanges: readonly Exchange[],
	bodyOf: (id: ExchangeId, side: BodySide) => Buffer | undefined,
	creator: HarCreator = { name: 'TLS Lens', version: '' },
	options: HarOptions = {},
): Har {
	const entries: HarEntry[] = [];
	const tlsErrors: HarTlsError[] = [];
	for (const exchange of exchanges) {
		if (exchange.kind === 'tls-error' || exchange.request === undefined) {
			tlsErrors.push({
				startedDateTime: new Date(exchange.timings.startTime).toISOString(),
				clientAddress: exchange.client,
				error: exchange.error ?? '',
				tls: exchange.tls,
			});
			continue;
		}
		entries.push(toEntry(exchange, bodyOf, options, options.includeSensitive !== true));
	}
	// Entries in start order (HAR viewers expect it); sort is stable for equal times.
	entries.sort((a, b) => a.startedDateTime < b.startedDateTime ? -1 : a.startedDateTime > b.startedDateTime ? 1 : 0);
	return {
		log: {
			version: '1.2',
			creator: { name: creator.name, version: creator.version },
			...(options.includeSensitive === true ? {} : { comment: REDACTION_COMMENT }),
			entries,
			...(tlsErrors.length > 0 ? { _tlsErrors: tlsErrors } : {}),
		},
	};
}

/** Writes a HAR file (pretty-printed JSON, UTF-8). */
export async function writeHar(file: string, har: Har): Promise<void> {
	await writeFile(file, JSON.stringify(har, null, 2) + '\n', 'utf8');
}

function toEntry(exchange: Exchange, bodyOf: (id: ExchangeId, side: BodySide) => Buffer | undefined, options: HarOptions, redact: boolean): HarEntry {
	const request = exchange.request!;
	const httpVersion = request.httpVersion === '2' ? 'HTTP/2' : `HTTP/${request.httpVersion}`;
	const timings = harTimings(exchange);
	const entry: HarEntry = {
		startedDateTime: new Date(exchange.timings.startTime).toISOString(),
		time: timings.total,
		request: {
			method: request.method,
			url: requestUrl(request.authority, request.path),
			httpVersion,
			cookies: requestCookies(request.headers, redact),
			headers: nameValues(request.headers, redact),
			queryString: queryString(request.path),
			headersSize: -1,
			bodySize: exchange.requestBody.size,
		},
		response: harResponse(exchange, httpVersion, bodyOf, redact),
		cache: {},
		timings: timings.har,
		_id: exchange.id,
		_state: exchange.state,
		_clientAddress: exchange.client,
		_tls: exchange.tls,
	};
	const connection = clientPort(exchange.client);
	if (connection !== undefined) entry.connection = connection;
	if (options.serverIPAddress !== undefined) entry.serverIPAddress = options.serverIPAddress;
	if (exchange.requestBody.size > 0) {
		const raw = bodyOf(exchange.id, 'request') ?? Buffer.alloc(0);
		const mimeType = header(request.headers, 'content-type') ?? '';
		const postData: HarPostData = { mimeType, text: '' };
		const text = asText(raw, mimeType, exchange.requestBody.truncated);
		if (text !== undefined) {
			postData.text = text;
		} else {
			postData.text = raw.toString('base64');
			postData.encoding = 'base64';
		}
		if (exchange.requestBody.truncated) postData._truncated = true;
		entry.request.postData = postData;
	}
	if (exchange.kind === 'websocket') {
		entry._resourceType = 'websocket';
		entry._webSocketMessages = (exchange.messages ?? []).map((message) => webSocketMessage(message, exchange.timings.startTime));
	}
	return entry;
}

/**
 * HAR timings from the monotonic offsets. The client's TLS handshake happened before the request (and is
 * shared by the connection's requests), so it is not part of `time`: it is in `_tls.handshakeMs`, and
 * `ssl` is -1. Missing phases (a reused upstream socket, an exchange that failed early) count as 0 or -1
 * so that `time` is exactly the sum of the non-negative phases.
 */
function harTimings(exchange: Exchange): { har: HarTimings; total: number } {
	const t = exchange.timings;
	const connected = t.upstreamConnect ?? 0;
	const sent = Math.max(connected, t.requestSent ?? connected);
	const firstByte = Math.max(sent, t.responseStart ?? sent);
	const end = Math.max(firstByte, t.end ?? firstByte);
	const har: HarTimings = {
		blocked: -1,
		dns: -1,
		connect: t.upstreamConnect !== undefined ? round(connected) : -1,
		send: round(sent - connected),
		wait: round(firstByte - sent),
		receive: round(end - firstByte),
		ssl: -1,
	};
	const total = Math.max(0, har.connect) + har.send + har.wait + har.receive;
	return { har, total: round(total) };
}

function round(ms: number): number {
	// Microsecond resolution is plenty and keeps the JSON short; sums of rounded values stay exact enough.
	return Math.round(ms * 1000) / 1000;
}

function harResponse(exchange: Exchange, httpVersion: string, bodyOf: (id: ExchangeId, side: BodySide) => Buffer | undefined, redact: boolean): HarResponse {
	const response = exchange.response;
	if (response === undefined) {
		// Chrome's convention for a request that got no response.
		const failed: HarResponse = {
			status: 0, statusText: '', httpVersion: '', cookies: [], headers: [],
			content: { size: 0, mimeType: 'x-unknown' }, redirectURL: '', headersSize: -1, bodySize: -1,
		};
		if (exchange.error !== undefined) failed._error = exchange.error;
		return failed;
	}
	const mimeType = header(response.headers, 'content-type') ?? 'x-unknown';
	const info = exchange.responseBody;
	const content: HarContent = { size: 0, mimeType };
	if (info.size > 0) {
		const raw = bodyOf(exchange.id, 'response') ?? Buffer.alloc(0);
		const decoded = decodeBodySync(raw, header(response.headers, 'content-encoding'));
		const complete = !info.truncated && decoded.error === undefined && decoded.note === undefined;
		// content.size is the decoded length; compression the bytes saved by the encoding (HAR 1.2).
		content.size = complete ? decoded.body.length : Math.max(decoded.body.length, info.size);
		if (complete && decoded.decodedWith.length > 0) content.compression = Math.max(0, decoded.body.length - info.size);
		const text = decoded.error === undefined ? asText(decoded.body, mimeType, !complete) : undefined;
		if (text !== undefined) {
			content.text = text;
		} else {
			content.text = decoded.body.toString('base64');
			content.encoding = 'base64';
		}
		if (info.truncated) content._truncated = true;
		if (decoded.error !== undefined) content._error = decoded.error;
		if (decoded.note !== undefined) content._note = decoded.note;
	}
	const result: HarResponse = {
		status: response.statusCode,
		statusText: response.statusMessage,
		httpVersion,
		cookies: responseCookies(response.headers, redact),
		headers: nameValues(response.headers, redact),
		content,
		redirectURL: header(response.headers, 'location') ?? '',
		headersSize: -1,
		bodySize: info.size,
	};
	if (exchange.error !== undefined) result._error = exchange.error;
	return result;
}

function webSocketMessage(message: WebSocketMessage, startTime: number): HarWebSocketMessage {
	const result: HarWebSocketMessage = {
		type: message.direction === 'client' ? 'send' : 'receive',
		time: (startTime + message.time) / 1000,
		opcode: message.opcode,
		data: '',
		_size: message.size,
	};
	let payload: Uint8Array = message.payload;
	let decodedOk = true;
	if (message.compressed) {
		const decoded = decodeWebSocketPayloadSync(payload);
		decodedOk = decoded.error === undefined;
		if (decodedOk) payload = decoded.body;
		else result._compressed = true;
	}
	const text = decodedOk && message.opcode === 1 && !message.truncated ? utf8(payload) : undefined;
	if (text !== undefined) {
		result.data = text;
	} else if (message.opcode === 8 && decodedOk && payload.length >= 2) {
		// Close frames: a status code and a UTF-8 reason (RFC 6455 5.5.1), shown as Chrome does.
		result.data = `${(payload[0] << 8) | payload[1]} ${utf8(payload.subarray(2)) ?? ''}`.trimEnd();
	} else {
		result.data = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
		if (result.data.length > 0) result._encoding = 'base64';
	}
	if (message.truncated) result._truncated = true;
	return result;
}

function requestUrl(authority: string, path: string): string {
	// Absolute-form targets (a client that treats us as a forward proxy) are already full URLs.
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
	return `https://${authority}${path.startsWith('/') || path === '*' ? path : '/' + path}`;
}

function nameValues(headers: RawHeaders, redact: boolean): HarNameValue[] {
	return headers.map(([name, value]) => ({ name, value: redact ? redactHeader(name, value) : value }));
}

function header(headers: RawHeaders, name: string): string | undefined {
	for (const [key, value] of headers) {
		if (key.toLowerCase() === name) return value;
	}
	return undefined;
}

function queryString(path: string): HarNameValue[] {
	const q = path.indexOf('?');
	if (q < 0) return [];
	const hash = path.indexOf('#', q);
	const query = path.slice(q + 1, hash < 0 ? undefined : hash);
	const result: HarNameValue[] = [];
	for (const part of query.split('&')) {
		if (part.length === 0) continue;
		const eq = part.indexOf('=');
		result.push({ name: decodeQueryPart(eq < 0 ? part : part.slice(0, eq)), value: eq < 0 ? '' : decodeQueryPart(part.slice(eq + 1)) });
	}
	return result;
}

function decodeQueryPart(part: string): string {
	try {
		return decodeURIComponent(part.replace(/\+/g, ' '));
	} catch {
		// Malformed percent-encoding: show it as sent.
		return part;
	}
}

function requestCookies(headers: RawHeaders, redact: boolean): HarCookie[] {
	const cookies: HarCookie[] = [];
	for (const [name, value] of headers) {
		if (name.toLowerCase() !== 'cookie') continue;
		for (const pair of value.split(';')) {
			const trimmed = pair.trim();
			if (trimmed.length === 0) continue;
			const eq = trimmed.indexOf('=');
			const value = redact ? REDACTED : eq < 0 ? trimmed : trimmed.slice(eq + 1).trim();
			cookies.push({ name: eq < 0 ? '' : trimmed.slice(0, eq).trim(), value });
		}
	}
	return cookies;
}

function responseCookies(headers: RawHeaders, redact: boolean): HarCookie[] {
	const cookies: HarCookie[] = [];
	for (const [name, header] of headers) {
		if (name.toLowerCase() !== 'set-cookie') continue;
		const [first, ...attributes] = header.split(';');
		const eq = first.indexOf('=');
		const value = redact ? REDACTED : eq < 0 ? first.trim() : first.slice(eq + 1).trim();
		const cookie: HarCookie = { name: eq < 0 ? '' : first.slice(0, eq).trim(), value };
		for (const attribute of attributes) {
			const aeq = attribute.indexOf('=');
			const key = (aeq < 0 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
			const val = aeq < 0 ? '' : attribute.slice(aeq + 1).trim();
			if (key === 'path') cookie.path = val;
			else if (key === 'domain') cookie.domain = val;
			else if (key === 'expires') {
				const date = new Date(val);
				cookie.expires = Number.isNaN(date.getTime()) ? val : date.toISOString();
			} else if (key === 'httponly') cookie.httpOnly = true;
			else if (key === 'secure') cookie.secure = true;
			else if (key === 'samesite') cookie.sameSite = val;
		}
		cookies.push(cookie);
	}
	return cookies;
}

function clientPort(client: string): string | undefined {
	const colon = client.lastIndexOf(':');
	return colon < 0 ? undefined : client.slice(colon + 1);
}

/**
 * The body as a string when {@link bodyKind} calls it text (the details view shows it as text then too),
 * decoded as the details view decodes it. A body cut by the capture cap may end inside a UTF-8 sequence:
 * that tail is dropped rather than exported as a replacement character.
 */
function asText(body: Uint8Array, contentType: string, truncated = false): string | undefined {
	if (!isTextKind(bodyKind(contentType, body))) return undefined;
	if (truncated && utf8(body) === undefined) {
		for (let cut = 1; cut <= 3 && cut < body.length; cut++) {
			const text = utf8(body.subarray(0, body.length - cut));
			if (text !== undefined) return text;
		}
	}
	return bodyText(body, contentType);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(bytes: Uint8Array): string | undefined {
	try {
		return strictUtf8.decode(bytes);
	} catch {
		return undefined;
	}
}
