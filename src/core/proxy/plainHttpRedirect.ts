import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { Logger } from '../logger';
import { findHeadEnd, HttpParseError, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './http1Parser';
import { destroyOnError } from './listeners';
import type { ProxyCapture } from './proxyCapture';
import { clientAddress } from './tlsDetails';

/*
 * Plaintext on the HTTPS port. Apps that build absolute URLs from `req.protocol` + Host behind a TLS
 * proxy send browsers to `http://localhost:PORT/…`, which a TLS server answers as a broken handshake
 * (ERR_EMPTY_RESPONSE in the browser). Such a request gets a redirect to the same URL over https; anything else
 * that is not TLS gets a 400. One request per connection, then the connection closes: nothing here is
 * forwarded to the dev server.
 */

/**
 * 307, not 308 or 301: both 307 and 308 keep the method and body (a POSTed login form is POSTed again
 * over https, where 301/302 let browsers turn it into a GET), and a temporary redirect is not cached
 * by browsers, so it cannot outlive TLS Lens: a remembered permanent one would keep sending
 * `http://localhost:PORT` to https after the port has gone back to a plain dev server (the trap
 * HSTS on localhost sets, which is why the proxy drops HSTS there by default). `no-store` makes sure.
 */
const REDIRECT_STATUS = 307;

const STATUS_TEXT: Readonly<Record<number, string>> = {
	307: 'Temporary Redirect', 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large',
	505: 'HTTP Version Not Supported',
};

/** After the answer, how long a client may keep the connection open (e.g. still sending a body we ignore). */
const LINGER_MS = 5000;

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3), as far as the first line tells.
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/\d\.\d$/;
const PORT = /^\d{1,5}$/;
/** A DNS name (labels of letters, digits, hyphens; underscores as some container names have), optional final dot. */
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const ABSOLUTE_HTTP = /^http:\/\/([^/?#]*)(.*)$/i;

/** Options of {@link PlainHttpRedirects}. */
export interface PlainHttpOptions {
	/** Time a client may take to send the request head (the proxy's slow-loris guard, as for HTTPS). */
	readonly headersMs: number;
	readonly logger: Logger;
	/** Where such requests are recorded as a row, as failed handshakes are; undefined with capture off. */
	readonly capture: ProxyCapture | undefined;
}

/** Where a plaintext request is sent, or why it cannot be. */
export type PlainHttpVerdict = { readonly location: string } | { readonly problem: string };

/**
 * The https URL for a plaintext request that arrived on `localPort`: `https://` + the Host the client
 * named + the path and query, or a problem when the request names no usable host. The host must be
 * exactly a host name, IPv4 address or bracketed IPv6 address with an optional port: nothing that
 * could add a header line, user info or a path to the Location, so a request can be redirected to the
 * host it named and nowhere else. A Host without a port gets `localPort` (the client thinks it talks
 * to port 80, which is this port); an absolute-form target (`GET http://host/path`) names the host
 * itself (RFC 9112 §3.2.2).
 */
export function httpsLocation(head: RequestHead, localPort: number): PlainHttpVerdict {
	let authority: string | undefined;
	let path: string;
	if (head.target.startsWith('/')) {
		path = head.target;
		const raw = head.rawHeaders;
		for (let i = 0; i < raw.length; i += 2) {
			if (raw[i].length !== 4 || raw[i].toLowerCase() !== 'host') { continue; }
			if (authority !== undefined) { return { problem: 'more than one Host header' }; }
			authority = raw[i + 1];
		}
		if (authority === undefined) { return { problem: 'no Host header' }; }
	} else {
		const absolute = ABSOLUTE_HTTP.exec(head.target);
		if (absolute === null) { return { problem: `a request-target that names no path (${head.method} ${head.target.slice(0, 40)})` }; }
		authority = absolute[1];
		path = absolute[2].startsWith('/') ? absolute[2] : `/${absolute[2]}`;
	}
	const host = validAuthority(authority, localPort);
	if (host === undefined) { return { problem: 'a Host that is not a valid host[:port]' }; }
	return { location: `https://${host}${path}` };
}

/** `authority` if it is host[:port] (with `localPort` added when it has none), else undefined. */
function validAuthority(authority: string, localPort: number): string | undefined {
	let host: string;
	let port: string | undefined;
	if (authority.startsWith('[')) {
		const close = authority.indexOf(']');
		if (close < 0) { return undefined; }
		host = authority.slice(1, close);
		const rest = authority.slice(close + 1);
		if (rest !== '' && !rest.startsWith(':')) { return undefined; }
		port = rest === '' ? undefined : rest.slice(1);
		// No zone IDs: `%` would need escaping in a URL, and a zone is meaningless to any other machine.
		if (!isIPv6(host) || host.includes('%')) { return undefined; }
		host = `[${host}]`;
	} else {
		const colon = authority.lastIndexOf(':');
		host = colon < 0 ? authority : authority.slice(0, colon);
		port = colon < 0 ? undefined : authority.slice(colon + 1);
		if (!isIPv4(host) && !HOST_NAME.test(host)) { return undefined; }
	}
	if (port === undefined) { return localPort === 443 ? host : `${host}:${localPort}`; }
	if (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535) { return undefined; }
	return `${host}:${port}`;
}

/** One plaintext connection: the bytes of its head so far, and where it is. */
interface PlainConnection {
	buffered: Buffer | undefined;
	/** Arrival, then (once answered) the time of the answer. */
	since: number;
	answered: boolean;
	/** The first line was checked and looks like a request line. */
	requestLine: boolean;
	/** Bytes of the first line already checked (the last one again, in case it is a CR). */
	scanned: number;
	readonly client: string;
}

/**
 * Answers plaintext connections on the HTTPS port: a plain HTTP/1.x request gets a 307 to the same URL
 * over https, anything else a 400, a request head over 16 KiB a 431, one that does not arrive within
 * the headers timeout a 408; then the connection closes. Binary garbage is refused at its first byte
 * and any other text at its first line, without waiting for a head that will never end. Each
 * connection is logged at debug level and, with capture on, recorded as a row the way failed TLS
 * handshakes are. Never throws. Owned by the ProxyServer; dispose() stops the timeout checks.
 */
export class PlainHttpRedirects {
	private readonly open = new Map<Socket, PlainConnection>();
	private readonly timer: NodeJS.Timeout;

	constructor(private readonly options: PlainHttpOptions) {
		this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, options.headersMs / 4)));
		this.timer.unref();
	}

	/** Takes a connection whose first chunk (`first`) is not the start of a TLS record. */
	serve(socket: Socket, first: Buffer): void {
		const connection: PlainConnection = { buffered: undefined, since: performance.now(), answered: false, requestLine: false, scanned: 0, client: clientAddress(socket) };
		this.open.set(socket, connection);
		socket.on('error', destroyOnError);
		socket.on('data', (chunk: Buffer) => this.read(socket, connection, chunk));
		socket.once('close', () => this.open.delete(socket));
		// The connection may have been paused by a previous owner; nothing here applies backpressure.
		socket.resume();
		this.read(socket, connection, first);
	}

	/** Stops the timeout checks (the sockets themselves are closed by their owner). */
	dispose(): void {
		clearInterval(this.timer);
		this.open.clear();
	}

	private read(socket: Socket, connection: PlainConnection, chunk: Buffer): void {
		if (connection.answered) { return; }
		try {
			let buffer = connection.buffered === undefined ? chunk : Buffer.concat([connection.buffered, chunk]);
			const before = connection.buffered?.length ?? 0;
			if (!connection.requestLine) {
				// RFC 9112 §2.2: empty lines before a request line are ignored.
				let start = 0;
				while (start < buffer.length && (buffer[start] === 0x0d || buffer[start] === 0x0a)) { start++; }
				buffer = buffer.subarray(start);
				connection.buffered = buffer;
				const problem = checkRequestLine(buffer, start > 0 ? 0 : connection.scanned);
				if (problem === undefined) {
					connection.scanned = buffer.length > 0 ? buffer.length - 1 : 0;
					return;
				}
				if (problem !== '') {
					this.refuse(socket, connection, 400, `Neither TLS nor HTTP on the TLS port (${problem})`);
					return;
				}
				connection.requestLine = true;
			}
			connection.buffered = buffer;
			// Searched from just before the new bytes: a head dripped in byte by byte stays linear.
			const end = findHeadEnd(buffer, before > 3 ? before - 3 : 0);
			if (end < 0) {
				if (buffer.length > MAX_HEAD_BYTES) { this.refuse(socket, connection, 431, 'Plain HTTP on the TLS port with request headers over 16 KiB'); }
				return;
			}
			this.answer(socket, connection, parseRequestHead(buffer.toString('latin1', 0, end - 4)));
		} catch (error) {
			if (error instanceof HttpParseError) {
				this.refuse(socket, connection, error.status === 431 || error.status === 505 ? error.status : 400, `Plain HTTP on the TLS port that is not valid HTTP/1.x (${error.message})`);
			} else {
				this.options.logger.debug(`[proxy] Plain HTTP on the TLS port: ${(error as Error).message}`);
				socket.destroy();
			}
		}
	}

	private answer(socket: Socket, connection: PlainConnection, head: RequestHead): void {
		const verdict = httpsLocation(head, socket.localPort ?? 0);
		if ('problem' in verdict) {
			this.refuse(socket, connection, 400, `Plain HTTP on the TLS port (${head.method} ${head.target.slice(0, 200)}), not redirected: ${verdict.problem}`);
			return;
		}
		const { location } = verdict;
		const text = `TLS Lens serves HTTPS on this port. Redirecting to ${location}\n`;
		// A HEAD answer has no body, but says how long the GET one would be (RFC 9110 §8.6).
		this.finish(socket, connection, REDIRECT_STATUS, `Location: ${location}\r\n`, head.method === 'HEAD' ? '' : text, text.length,
			`Plain HTTP on the TLS port → redirected to https: ${head.method} ${head.target.slice(0, 200)} → ${REDIRECT_STATUS} ${location}`);
	}

	private refuse(socket: Socket, connection: PlainConnection, status: number, why: string): void {
		const body = `TLS Lens serves HTTPS on this port: open it with an https:// URL. ${STATUS_TEXT[status] ?? 'Error'}: ${plainReason(status)}\n`;
		this.finish(socket, connection, status, '', body, body.length, `${why} → answered ${status}`);
	}

	/** Writes the answer, says what happened, and closes once the client has read it. */
	private finish(socket: Socket, connection: PlainConnection, status: number, extra: string, body: string, length: number, what: string): void {
		connection.answered = true;
		connection.buffered = undefined;
		connection.since = performance.now();
		const head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${length}\r\n`
			+ 'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n';
		// latin1 round-trips the request's bytes into the Location unchanged (the target is VCHAR only).
		socket.end(head + body, 'latin1');
		this.options.logger.debug(`[proxy] ${what} (client ${connection.client})`);
		this.options.capture?.tlsFailure({ client: connection.client, tls: {}, error: what, startMonotonic: performance.now() });
	}

	/** Answers 408 to heads that take too long, and closes answered connections the client keeps open. */
	private sweep(): void {
		const now = performance.now();
		const { headersMs } = this.options;
		for (const [socket, connection] of this.open) {
			if (socket.destroyed) {
				this.open.delete(socket);
			} else if (connection.answered) {
				if (now - connection.since > Math.min(headersMs, LINGER_MS)) { socket.destroy(); }
			} else if (now - connection.since > headersMs) {
				this.refuse(socket, connection, 408, 'Plain HTTP on the TLS port whose request headers did not arrive in time');
			}
		}
	}
}

/**
 * Looks at the first line as far as it has arrived: '' when it is a complete, plausible request
 * line; undefined when it may still become one; else what is wrong. Stops anything that is not
 * text at its first byte, and text that is not HTTP (an SSH banner, SMTP) at its first line end.
 * `from`: bytes already checked by an earlier call.
 */
function checkRequestLine(buffer: Buffer, from: number): string | undefined {
	const limit = Math.min(buffer.length, MAX_HEAD_BYTES);
	for (let i = from; i < limit; i++) {
		const c = buffer[i];
		if (c === 0x0a) {
			const lineEnd = i > 0 && buffer[i - 1] === 0x0d ? i - 1 : -1;
			if (lineEnd < 0) { return 'a line not ended by CRLF'; }
			return REQUEST_LINE.test(buffer.toString('latin1', 0, lineEnd)) ? '' : 'the first line is not an HTTP request line';
		}
		if ((c < 0x20 && c !== 0x0d) || c > 0x7e || (c === 0x0d && i + 1 < buffer.length && buffer[i + 1] !== 0x0a)) {
			return `byte 0x${c.toString(16).padStart(2, '0')} where an HTTP request line or a TLS ClientHello was expected`;
		}
	}
	return buffer.length > MAX_HEAD_BYTES ? 'a first line over 16 KiB' : undefined;
}

function plainReason(status: number): string {
	switch (status) {
		case 408: return 'the request headers did not arrive in time.';
		case 431: return 'the request headers are larger than 16 KiB.';
		case 505: return 'only HTTP/1.0 and HTTP/1.1 requests are redirected to https.';
		default: return 'this is neither a TLS handshake nor a plain HTTP request with a valid Host that could be redirected to https.';
	}
}
