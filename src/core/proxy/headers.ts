import type { OutgoingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { RedirectRewriter } from './redirects';

/*
 * Header rewriting for both directions. Headers travel as flat `[name, value, name, value, …]` arrays
 * (Node's rawHeaders format, accepted by http.request and writeHead), so each message is rewritten in
 * one pass with one new array, and names keep the case and order the client or dev server used.
 */

/** What a header name means to the proxy (lower-case name -> role). */
const enum Role {
	/** Hop-by-hop (RFC 9110 §7.6.1): describes one connection, never forwarded. */
	HopByHop = 1,
	Host,
	Connection,
	Upgrade,
	XForwardedFor,
	Forwarded,
	/** X-Forwarded-Proto / -Host: replaced by ours, since this proxy is the TLS edge. */
	ReplacedForwarding,
	Cookie,
	Hsts,
	TransferEncoding,
	ContentLength,
	/** Expect: 100-continue is answered by the proxy itself (RFC 9110 §10.1.1), not forwarded. */
	Expect,
	/** Location, Content-Location: a URL that may point at the target's own origin. */
	Location,
	/** Refresh: `time; url=…`, the same. */
	Refresh,
}

const ROLES = new Map<string, Role>([
	['connection', Role.Connection],
	['keep-alive', Role.HopByHop],
	['proxy-connection', Role.HopByHop],
	['proxy-authenticate', Role.HopByHop],
	['proxy-authorization', Role.HopByHop],
	['te', Role.HopByHop],
	['trailer', Role.HopByHop],
	['transfer-encoding', Role.TransferEncoding],
	['content-length', Role.ContentLength],
	['expect', Role.Expect],
	['upgrade', Role.Upgrade],
	// h2c upgrade settings: meaningless past this hop, and forbidden in HTTP/2 responses.
	['http2-settings', Role.HopByHop],
	['host', Role.Host],
	['x-forwarded-for', Role.XForwardedFor],
	['forwarded', Role.Forwarded],
	['x-forwarded-proto', Role.ReplacedForwarding],
	['x-forwarded-host', Role.ReplacedForwarding],
	['cookie', Role.Cookie],
	['strict-transport-security', Role.Hsts],
	['location', Role.Location],
	['content-location', Role.Location],
	['refresh', Role.Refresh],
]);

function roleOf(lowerName: string): Role | undefined {
	const role = ROLES.get(lowerName);
	// Any other Proxy-* header is about the proxy hop too (e.g. Proxy-Authorization variants).
	if (role === undefined && lowerName.startsWith('proxy-')) { return Role.HopByHop; }
	return role;
}

/**
 * Header names that the message's Connection header(s) list, besides the usual tokens that name
 * hop-by-hop headers anyway. Undefined in the common case (`keep-alive`, `close`, `upgrade`), so that
 * no Set is built per request.
 */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
	let tokens: Set<string> | undefined;
	for (let i = 0; i < raw.length; i += 2) {
		if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') { continue; }
		for (const part of raw[i + 1].split(',')) {
			const token = part.trim().toLowerCase();
			if (token === '' || token === 'keep-alive' || token === 'close' || token === 'upgrade') { continue; }
			(tokens ??= new Set()).add(token);
		}
	}
	return tokens;
}

/** Facts about the incoming request that the forwarding headers carry. */
export interface ForwardingFacts {
	/** Client IP address. */
	readonly clientIp: string;
	/** The target's authority when the Host header is rewritten to it, else undefined. */
	readonly rewriteHost: string | undefined;
	/** Host to send when the client named none (HTTP/1.0): the target's authority. */
	readonly fallbackHost: string;
	/** HTTP/2 only: the request has a body of unknown length, to be framed as chunked upstream. */
	readonly chunked?: boolean;
	/** The `Upgrade` value to forward (a WebSocket handshake), else undefined. */
	readonly upgrade: string | undefined;
}

/** An HTTP/1.x request's upstream headers and what the scan learnt about the request. */
export interface Http1Forwarding {
	readonly headers: string[];
	/** The Host header as the client sent it. */
	readonly host: string | undefined;
	/** Whether a body follows (Content-Length > 0 or Transfer-Encoding). */
	readonly hasBody: boolean;
}

/**
 * Upstream request headers for an HTTP/1.x request: the client's headers minus hop-by-hop ones, Host
 * kept (or rewritten), and X-Forwarded-For/-Proto/-Host plus Forwarded added. A chunked body is
 * de-chunked by Node's parser, so it is announced as chunked again for the new hop.
 */
export function http1RequestHeaders(raw: readonly string[], facts: ForwardingFacts): Http1Forwarding {
	const named = connectionTokens(raw);
	const out: string[] = [];
	let host: string | undefined;
	let xff: string | undefined;
	let forwarded: string | undefined;
	let chunked = false;
	let hasBody = false;
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i];
		const value = raw[i + 1];
		const lower = name.toLowerCase();
		switch (roleOf(lower)) {
			case Role.HopByHop: case Role.Connection: case Role.Upgrade: case Role.ReplacedForwarding: case Role.Expect:
				continue;
			case Role.TransferEncoding:
				chunked = hasBody = true;
				continue;
			case Role.ContentLength:
				// Node's parser rejects a request with both; with chunked, the length is not forwarded.
				if (value !== '0') { hasBody = true; }
				out.push(name, value);
				continue;
			case Role.Host:
				// A second Host never gets here from a client (HTTP/1.x answers it with 400): kept as a guard.
				if (host !== undefined) { continue; }
				host = value;
				out.push(name, facts.rewriteHost ?? value);
				continue;
			case Role.XForwardedFor:
				xff = xff === undefined ? value : `${xff}, ${value}`;
				continue;
			case Role.Forwarded:
				forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
				continue;
			default:
				if (named !== undefined && named.has(lower)) { continue; }
				out.push(name, value);
		}
	}
	if (host === undefined) { out.push('Host', facts.rewriteHost ?? facts.fallbackHost); }
	appendForwarding(out, facts, host, xff, forwarded, chunked);
	return { headers: out, host, hasBody };
}

/**
 * Upstream HTTP/1.1 headers for an HTTP/2 request (`raw` as the 'stream' event gives it: lower-case,
 * pseudo-headers first). `:authority` becomes Host (RFC 9113 §8.3.1) and split Cookie fields are joined
 * with "; " as HTTP/1.1 requires (RFC 9113 §8.2.3).
 */
export function http2RequestHeaders(raw: readonly string[], facts: ForwardingFacts): { headers: string[]; authority: string | undefined } {
	const out: string[] = ['Host', ''];
	let authority: string | undefined;
	let hostField: string | undefined;
	let xff: string | undefined;
	let forwarded: string | undefined;
	let cookie: string | undefined;
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i];
		const value = raw[i + 1];
		if (name.charCodeAt(0) === 58 /* ':' */) {
			if (name === ':authority') { authority = value; }
			continue;
		}
		switch (roleOf(name)) {
			case Role.HopByHop: case Role.Connection: case Role.Upgrade: case Role.ReplacedForwarding: case Role.TransferEncoding: case Role.Expect:
				continue;
			case Role.Host:
				hostField ??= value;
				continue;
			case Role.XForwardedFor:
				xff = xff === undefined ? value : `${xff}, ${value}`;
				continue;
			case Role.Forwarded:
				forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
				continue;
			case Role.Cookie:
				cookie = cookie === undefined ? value : `${cookie}; ${value}`;
				continue;
			default:
				out.push(name, value);
		}
	}
	authority ??= hostField;
	out[1] = facts.rewriteHost ?? authority ?? facts.fallbackHost;
	if (cookie !== undefined) { out.push('cookie', cookie); }
	appendForwarding(out, facts, authority, xff, forwarded, facts.chunked === true);
	return { headers: out, authority };
}

function appendForwarding(out: string[], facts: ForwardingFacts, host: string | undefined, xff: string | undefined, forwarded: string | undefined, chunked: boolean): void {
	const ip = facts.clientIp;
	out.push('X-Forwarded-For', xff === undefined ? ip : `${xff}, ${ip}`);
	out.push('X-Forwarded-Proto', 'https');
	if (host !== undefined) { out.push('X-Forwarded-Host', host); }
	// RFC 7239: IPv6 nodes are bracketed and quoted; host is quoted because it may contain ':'.
	const node = isIP(ip) === 6 ? `"[${ip}]"` : ip;
	const element = host === undefined ? `for=${node};proto=https` : `for=${node};host=${quote(host)};proto=https`;
	out.push('Forwarded', forwarded === undefined ? element : `${forwarded}, ${element}`);
	if (chunked) { out.push('Transfer-Encoding', 'chunked'); }
	if (facts.upgrade !== undefined) {
		out.push('Connection', 'Upgrade', 'Upgrade', facts.upgrade);
	} else {
		// Persistent is HTTP/1.1's default, but said anyway, as Node's client does, for servers that want it.
		out.push('Connection', 'keep-alive');
	}
}

function quote(value: string): string {
	return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Hears of each response header value the proxy rewrote (for capture). */
export interface RewriteListener {
	/** Header `index` (a pair index into the dev server's flat headers) went to the client as `value` instead of `original`. */
	headerRewritten(index: number, original: string, value: string): void;
}

/**
 * Response headers for an HTTP/1.1 client: the dev server's headers minus hop-by-hop ones (so neither
 * side closes after each response), and minus Strict-Transport-Security for a loopback `authority`
 * unless `keepHsts`. With `keepUpgrade` (a 101 Switching Protocols), Connection and Upgrade stay: they
 * are the switch itself. `dropLength`: the body is framed otherwise (a Content-Length next to
 * Transfer-Encoding means nothing, RFC 9112 §6.3), so a stale length must not reach the client. With
 * `redirects`, URLs in Location, Content-Location and Refresh that point at the target go to the client
 * on `authority` instead, and `listener` hears of each.
 */
export function http1ResponseHeaders(raw: readonly string[], keepHsts: boolean, authority: string | undefined, keepUpgrade = false, dropLength = false,
	redirects?: RedirectRewriter, listener?: RewriteListener): string[] {
	const named = connectionTokens(raw);
	const out: string[] = [];
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i];
		const lower = name.toLowerCase();
		let value = raw[i + 1];
		switch (roleOf(lower)) {
			case Role.HopByHop: case Role.TransferEncoding:
				continue;
			case Role.ContentLength:
				if (dropLength) { continue; }
				break;
			case Role.Connection: case Role.Upgrade:
				if (!keepUpgrade) { continue; }
				break;
			case Role.Hsts:
				if (dropsHsts(keepHsts, authority)) { continue; }
				break;
			case Role.Location: case Role.Refresh:
				if (redirects !== undefined && authority !== undefined) { value = rewriteUrl(redirects, lower, i, value, authority, listener); }
				break;
			default:
				if (named !== undefined && named.has(lower)) { continue; }
		}
		out.push(name, value);
	}
	return out;
}

/** `value` of header pair `i` (Location, Content-Location or Refresh) as the client is to get it. */
function rewriteUrl(redirects: RedirectRewriter, lowerName: string, i: number, value: string, authority: string, listener: RewriteListener | undefined): string {
	const rewritten = lowerName === 'refresh' ? redirects.refresh(value, authority) : redirects.location(value, authority);
	if (rewritten === undefined) { return value; }
	listener?.headerRewritten(i >> 1, value, rewritten);
	return rewritten;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Whether a Host/:authority value names this machine: localhost, *.localhost, 127.0.0.0/8 or ::1. An
 * absent host counts as loopback, since the request came in on a listener we chose.
 */
export function isLoopbackAuthority(authority: string | undefined): boolean {
	if (!authority) { return true; }
	let host: string;
	if (authority.startsWith('[')) {
		const end = authority.indexOf(']');
		host = authority.slice(1, end < 0 ? undefined : end);
	} else {
		const colon = authority.indexOf(':');
		host = colon >= 0 && authority.indexOf(':', colon + 1) < 0 ? authority.slice(0, colon) : authority;
	}
	host = host.toLowerCase();
	if (host.endsWith('.')) { host = host.slice(0, -1); }
	if (host === 'localhost' || host.endsWith('.localhost')) { return true; }
	const family = isIP(host);
	return family !== 0 && loopback.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Whether Strict-Transport-Security must be dropped for a request to `authority`: on loopback names,
 * Chrome would pin HTTPS for every port of the host. Decided only when the header is present.
 */
function dropsHsts(keepHsts: boolean, authority: string | undefined): boolean {
	return !keepHsts && isLoopbackAuthority(authority);
}

/** An HTTP/1.1 request head from flat headers: request line, header lines, blank line. */
export function requestHeadText(method: string, target: string, headers: readonly string[]): string {
	let text = `${method} ${target} HTTP/1.1\r\n`;
	for (let i = 0; i < headers.length; i += 2) { text += `${headers[i]}: ${headers[i + 1]}\r\n`; }
	return `${text}\r\n`;
}

/** An HTTP/1.1 response head from flat headers; `extra` is more header lines (each ending in CRLF). */
export function responseHeadText(status: number, message: string, headers: readonly string[], extra: string): string {
	let text = `HTTP/1.1 ${status} ${message}\r\n`;
	for (let i = 0; i < headers.length; i += 2) { text += `${headers[i]}: ${headers[i + 1]}\r\n`; }
	return `${text}${extra}\r\n`;
}

/**
 * The head of a response the proxy writes itself (refusals, error pages): Content-Type and
 * Content-Length of its body, then `extra` header lines (each ending in CRLF).
 */
export function ownResponseHead(status: number, message: string, contentType: string, length: number, extra: string): string {
	return responseHeadText(status, message, [], `Content-Type: ${contentType}\r\nContent-Length: ${length}\r\n${extra}`);
}

/**
 * Response headers for an HTTP/2 client from the dev server's flat headers: names lower-cased,
 * connection-specific fields removed (RFC 9113 §8.2.2; Node's respond() throws on them), HSTS dropped
 * as for HTTP/1.1, repeated fields kept as arrays (each becomes its own HTTP/2 field); `dropLength`,
 * `redirects` and `listener` as for HTTP/1.1.
 */
export function http2ResponseHeaders(status: number, raw: readonly string[], keepHsts: boolean, authority: string | undefined, dropLength = false,
	redirects?: RedirectRewriter, listener?: RewriteListener): OutgoingHttpHeaders {
	const named = connectionTokens(raw);
	const out: OutgoingHttpHeaders = { ':status': status };
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i].toLowerCase();
		let value = raw[i + 1];
		switch (roleOf(name)) {
			case Role.HopByHop: case Role.Connection: case Role.Upgrade: case Role.TransferEncoding:
				continue;
			case Role.ContentLength:
				if (dropLength) { continue; }
				break;
			case Role.Hsts:
				if (dropsHsts(keepHsts, authority)) { continue; }
				break;
			case Role.Location: case Role.Refresh:
				if (redirects !== undefined && authority !== undefined) { value = rewriteUrl(redirects, name, i, value, authority, listener); }
				break;
			default:
				if (named !== undefined && named.has(name)) { continue; }
		}
		const existing = out[name];
		if (existing === undefined) {
			out[name] = value;
		} else if (Array.isArray(existing)) {
			existing.push(value);
		} else {
			out[name] = [existing as string, value];
		}
	}
	return out;
}

/** The first value of a header (case-insensitive name), or undefined. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		if (raw[i].length === lowerName.length && raw[i].toLowerCase() === lowerName) { return raw[i + 1]; }
	}
	return undefined;
}
