import { constants, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { TlsDetails } from '../../shared/exchange';
import type { ProxyContext } from './context';
import { renderErrorPage, type GatewayFailure } from './errorPage';
import { ForwardExchange, RequestBody } from './forwardExchange';
import { http2RequestHeaders, http2ResponseHeaders, requestHeadText } from './headers';
import { MAX_HEAD_BYTES, type Framing, type ResponseHead } from './http1Parser';

/*
 * Abuse limits (issue 14), measured with raw frames in test/unit/proxy/http2Abuse.test.ts. What Node's
 * HTTP/2 (nghttp2 1.61 in Node 20) does by itself: more than 8 CONTINUATION frames after a HEADERS get
 * GOAWAY and the socket closed; an empty-SETTINGS flood that is read ends the same way; a stream with
 * more than 128 header pairs gets RST_STREAM(ENHANCE_YOUR_CALM); a header field over 64 KiB gets
 * GOAWAY(COMPRESSION_ERROR) (the socket then stays until the idle timeout); a stream beyond
 * SETTINGS_MAX_CONCURRENT_STREAMS ends the session. By its documented defaults Node also ends a
 * session after 1,000 invalid frames or 100 refused streams, refuses SETTINGS with over 32 entries and
 * caps a session's memory at 10 MB. What it leaves open is handled here: rapid reset, streams stuck on
 * a client that does not read or does not finish its request body, and sessions whose socket never
 * closes.
 */

/**
 * Client resets (RST_STREAM before the response ended) a session may send in a burst, and how many it
 * earns back per second (a token bucket); past them the session gets GOAWAY(ENHANCE_YOUR_CALM) and is
 * closed. Rapid reset (CVE-2023-44487) opens and resets thousands of streams a second, each of which
 * would be forwarded. nghttp2's own limit (a burst of 1,000, then 33/s) only sends GOAWAY: the
 * connection stays open, and the client may go on sending frames that nghttp2 reads and ignores.
 * A browser cancels at most its open streams at once (a reload, a navigation away), so the burst is
 * twice the concurrent-stream limit the proxy advertises (128).
 */
export const RESET_BURST = 256;
/** How many client resets a session earns back per second, after {@link RESET_BURST}. */
export const RESETS_PER_SECOND = 50;

/**
 * After a session has begun to close (idle, abuse) and has no streams left, its socket gets this long to
 * flush and close; then it is destroyed. Node's close ends the socket and waits for the end to be
 * written, which never happens when the client does not read (measured: a PING flood whose ACKs are
 * never read kept the socket, and ~10 MB of unsent ACKs, until the proxy stopped).
 */
const CLOSE_LINGER_MS = 2_000;

/** An HTTP/2 session's client: address facts computed once for all its streams, and abuse accounting. */
export class Http2Client {
	/** Streams forwarded and not closed yet. */
	open = 0;
	/** Streams forwarded so far: every one after the first reuses the connection. */
	streams = 0;
	/** When the session was first seen closing with no streams left (0: not yet). */
	closingSince = 0;
	private resetTokens = RESET_BURST;
	private resetsCountedAt = performance.now();

	constructor(
		readonly session: ServerHttp2Session,
		/**
		 * The TLS socket under the session (not session.socket, a proxy that refuses destroy()); undefined
		 * if the HTTP/2 server ever made a session of a socket it was not handed.
		 */
		readonly socket: TLSSocket | undefined,
		readonly ip: string,
		/** `ip:port` for capture. */
		readonly client: string,
		/** TLS details of the session's connection for capture (empty when capture is off). */
		readonly tls: TlsDetails,
	) { }

	/** The client reset a stream before its response ended: false when it has done so too often. */
	reset(): boolean {
		const now = performance.now();
		this.resetTokens = Math.min(RESET_BURST, this.resetTokens + (now - this.resetsCountedAt) * RESETS_PER_SECOND / 1000);
		this.resetsCountedAt = now;
		return --this.resetTokens >= 0;
	}
}

const kExchange = Symbol('tlsLens.exchange');
type Tagged = ServerHttp2Stream & { [kExchange]: Http2Exchange };

/**
 * The HTTP/2 sessions of a proxy and one periodic check over them (like Http1Connections): streams
 * stuck on their client and sessions that will not close. Owned by the ProxyServer; dispose() stops
 * the timer (the sockets are closed by the server's own tracking).
 */
export class Http2Sessions {
	private readonly clients = new Set<Http2Client>();
	/** Exchanges waiting for their client: for request body bytes, or for it to take response bytes. */
	readonly waiting = new Set<Http2Exchange>();
	private readonly timer: NodeJS.Timeout;

	/**
	 * @param stallMs how long a stream may wait for its client (request body bytes, or room in its
	 * flow-control window for the response) before it is reset: nginx's client_body_timeout and
	 * send_timeout, for which the proxy's idle timeout serves.
	 */
	constructor(readonly proxy: ProxyContext, readonly stallMs: number) {
		// Checked a few times per timeout, so a stream times out at most about a quarter late.
		this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, stallMs / 4, CLOSE_LINGER_MS / 4)));
		this.timer.unref();
	}

	/** A new session on `socket` (the TLS socket that negotiated h2). */
	add(session: ServerHttp2Session, socket: TLSSocket | undefined, ip: string, client: string, tls: TlsDetails): Http2Client {
		const entry = new Http2Client(session, socket, ip, client, tls);
		this.clients.add(entry);
		return entry;
	}

	dispose(): void {
		clearInterval(this.timer);
		this.clients.clear();
		this.waiting.clear();
	}

	private sweep(): void {
		const now = performance.now();
		const stallMs = this.stallMs;
		for (const exchange of this.waiting) {
			if (!exchange.checkStalled(now, stallMs)) { this.waiting.delete(exchange); }
		}
		for (const client of this.clients) {
			const socket = client.socket;
			if (socket === undefined || socket.destroyed) {
				this.clients.delete(client);
			} else if (client.open === 0 && (client.session.closed || client.session.destroyed)) {
				if (client.closingSince === 0) {
					client.closingSince = now;
				} else if (now - client.closingSince > CLOSE_LINGER_MS) {
					this.clients.delete(client);
					socket.destroy();
				}
			}
		}
	}
}

const upstreamResetError = new Error('The dev server closed the connection in the middle of the response.');

/** An exchange whose client is an HTTP/2 stream. */
class Http2Exchange extends ForwardExchange {
	private waitingForDrain = false;
	/** Since when the request body has waited for the client's next DATA (0: it is not waiting for the client). */
	bodySince = 0;
	/** Since when a response write has waited for the client to make room (0: not waiting). */
	private drainSince = 0;

	constructor(readonly sessions: Http2Sessions, readonly client: Http2Client, readonly stream: ServerHttp2Stream,
		private readonly requestHeaders: IncomingHttpHeaders, method: string, head: string, authority: string | undefined, body: RequestBody) {
		super(sessions.proxy, method, head, authority, body);
	}

	/** Starts the upstream request, unless the client reset the stream in the meantime. */
	begin(): void {
		const stream = this.stream;
		if (this.done || stream.destroyed || stream.closed) { return; }
		this.start();
		if (!stream.endAfterHeaders) {
			stream.on('data', onStreamData);
			stream.on('end', onStreamEnd);
			this.bodySince = performance.now();
			this.sessions.waiting.add(this);
		}
	}

	/** A request body chunk arrived. */
	bodyData(chunk: Buffer): void {
		if (this.bodySince !== 0) { this.bodySince = performance.now(); }
		if (!this.requestData(chunk)) {
			// The dev server is not keeping up: not the client's wait.
			this.bodySince = 0;
			this.stream.pause();
		}
	}

	bodyEnd(): void {
		this.bodySince = 0;
		this.endRequest();
	}

	/**
	 * The periodic check: times the exchange out when it has waited for its client for longer than
	 * `stallMs`. False when it no longer waits for the client (to be dropped from the check).
	 */
	checkStalled(now: number, stallMs: number): boolean {
		if (this.done) { return false; }
		if (this.bodySince !== 0 && now - this.bodySince > stallMs) {
			this.timeOut(`The client sent no request body bytes for ${seconds(stallMs)}.`, 408);
			return false;
		}
		if (this.drainSince !== 0 && now - this.drainSince > stallMs) {
			this.timeOut(`The client took no response bytes for ${seconds(stallMs)}.`);
			return false;
		}
		return this.bodySince !== 0 || this.drainSince !== 0;
	}

	/**
	 * Gives up on a client that stopped taking part: the upstream request is cancelled, and the client
	 * gets `status` if no response has started, else RST_STREAM(CANCEL). The status goes without a body:
	 * a body would wait for the client's flow-control window, which a stalled client may never open, and
	 * the stream would never close. As the request never ended, RST_STREAM(NO_ERROR) follows it.
	 */
	private timeOut(reason: string, status?: number): void {
		this.clientAborted(reason);
		this.proxy.logger.debug(`[proxy] HTTP/2 stream of ${this.client.client} reset: ${reason}`);
		const stream = this.stream;
		if (stream.destroyed || stream.closed) { return; }
		if (status !== undefined && !stream.headersSent) {
			stream.respond({ ':status': status, 'cache-control': 'no-store' }, { endStream: true });
			stream.close(constants.NGHTTP2_NO_ERROR);
		} else {
			stream.close(constants.NGHTTP2_CANCEL);
		}
	}

	protected respond(head: ResponseHead, framing: Framing): void {
		const stream = this.stream;
		if (stream.destroyed) { return; }
		try {
			// HEAD, 204 and 304 responses end with their headers.
			const unsized = framing.kind === 'chunked' || framing.kind === 'close';
			const headers = http2ResponseHeaders(head.statusCode, head.rawHeaders, this.proxy.keepHsts, this.authority, unsized, this.proxy.redirects, this);
			stream.respond(headers, { endStream: framing.kind === 'none' });
		} catch (error) {
			// The dev server sent a head HTTP/2 cannot carry (e.g. a header Node refuses): answer 502 instead.
			this.connection?.abort();
			this.connection = undefined;
			const reason = `${this.proxy.endpoint.display} sent a response TLS Lens cannot forward: ${(error as Error).message}.`;
			this.fail({ status: 502, reason, hint: 'Check the response headers your dev server sends.' });
			this.end('upstream-error', reason);
		}
	}

	protected responseData(data: Buffer): boolean {
		const stream = this.stream;
		if (stream.destroyed || stream.writableEnded) { return true; }
		if (stream.write(data, this.connection?.hold())) { return true; }
		if (!this.waitingForDrain) {
			this.waitingForDrain = true;
			this.drainSince = performance.now();
			this.sessions.waiting.add(this);
			stream.once('drain', onStreamDrain);
		}
		return false;
	}

	protected responseEnd(): void {
		const stream = this.stream;
		// Completion is recorded when the stream closes (onStreamClose): only then has the client got it all.
		if (!stream.destroyed && !stream.writableEnded) { stream.end(); }
	}

	protected requestDrained(): void {
		if (this.stream.isPaused()) {
			this.bodySince = performance.now();
			this.stream.resume();
		}
	}

	drained(): void {
		this.waitingForDrain = false;
		this.drainSince = 0;
		this.clientDrained();
	}

	protected fail(failure: GatewayFailure): void {
		const stream = this.stream;
		if (stream.destroyed || stream.closed) { return; }
		if (stream.headersSent) {
			this.reset();
			return;
		}
		const page = renderErrorPage(failure, this.proxy.endpoint.display, this.requestHeaders.accept);
		stream.respond({ ':status': page.status, 'content-type': page.contentType, 'content-length': page.body.length, 'cache-control': 'no-store' });
		stream.end(page.body);
		// Drain an unfinished upload so that the stream can close.
		stream.removeListener('data', onStreamData);
		this.bodySince = 0;
		stream.resume();
	}

	protected reset(): void {
		// destroy() with an error sends RST_STREAM(INTERNAL_ERROR) alone; close() would first end the
		// stream, and a client that sees END_STREAM short of Content-Length reports a protocol error.
		this.stream.destroy(upstreamResetError);
	}
}

/**
 * Exchanges whose upstream request starts once the current batch of frames has been read: a stream
 * that the client resets in the same read (rapid reset sends HEADERS and RST_STREAM together) then
 * never reaches the dev server. Node reports the reset only after the 'stream' event's callback has
 * returned, and also after process.nextTick (measured), so the batch runs on setImmediate, in the same
 * event-loop turn; one callback serves all the streams of a read.
 */
const starting: Http2Exchange[] = [];
let startScheduled = false;

function startBatch(): void {
	startScheduled = false;
	// begin() adds no exchange, so the loop sees exactly this batch.
	for (let i = 0; i < starting.length; i++) { starting[i].begin(); }
	starting.length = 0;
}

/** Forwards an HTTP/2 request (the server's 'stream' event). */
export function forwardHttp2(sessions: Http2Sessions, client: Http2Client, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
	stream.on('error', ignoreError);
	const method = headers[':method'] as string;
	if (method === 'CONNECT') {
		// Plain CONNECT tunnels are not ours to make, and extended CONNECT (RFC 8441) is not advertised.
		stream.respond({ ':status': 405, 'content-type': 'text/plain; charset=utf-8' });
		stream.end('TLS Lens does not tunnel CONNECT requests.\n');
		return;
	}
	const proxy = sessions.proxy;
	const path = headers[':path'] as string;
	const hasBody = !stream.endAfterHeaders;
	// Node answers Expect: 100-continue itself only for HTTP/1.1; the body is forwarded as it comes.
	if (hasBody && headers.expect !== undefined && headers.expect.toLowerCase() === '100-continue') { stream.additionalHeaders({ ':status': 100 }); }
	// HTTP/2 frames the body itself; upstream it needs chunked framing unless its length is known.
	const body = !hasBody ? RequestBody.None : headers['content-length'] === undefined ? RequestBody.Chunked : RequestBody.Sized;
	const forwarded = http2RequestHeaders(rawHeaders, {
		clientIp: client.ip,
		rewriteHost: proxy.rewriteHost,
		fallbackHost: proxy.endpoint.authority,
		chunked: body === RequestBody.Chunked,
		upgrade: undefined,
	});
	const upstreamHead = requestHeadText(method, path, forwarded.headers);
	if (upstreamHead.length > MAX_HEAD_BYTES) {
		// As for HTTP/1.1 clients: the dev server's parser would refuse the head it makes upstream.
		stream.respond({ ':status': 431, 'content-type': 'text/plain; charset=utf-8' });
		stream.end('The request headers are larger than 16 KiB as HTTP/1.1 with the X-Forwarded-* fields that TLS Lens adds.\n');
		return;
	}
	const exchange = new Http2Exchange(sessions, client, stream, headers, method, upstreamHead, forwarded.authority, body);
	(stream as Tagged)[kExchange] = exchange;
	client.open++;
	const connectionReused = client.streams++ > 0;
	stream.on('close', onStreamClose);
	if (proxy.capture !== undefined) {
		exchange.recorder = proxy.capture.begin({
			kind: 'http',
			client: client.client,
			tls: client.tls,
			connectionReused,
			request: { method, path, authority: forwarded.authority ?? '', httpVersion: '2', rawHeaders },
			startMonotonic: performance.now(),
		});
	}
	starting.push(exchange);
	if (!startScheduled) {
		startScheduled = true;
		setImmediate(startBatch);
	}
}

function onStreamData(this: ServerHttp2Stream, chunk: Buffer): void {
	(this as Tagged)[kExchange].bodyData(chunk);
}

function onStreamEnd(this: ServerHttp2Stream): void {
	(this as Tagged)[kExchange].bodyEnd();
}

function onStreamDrain(this: ServerHttp2Stream): void {
	(this as Tagged)[kExchange].drained();
}

function onStreamClose(this: ServerHttp2Stream): void {
	const exchange = (this as Tagged)[kExchange];
	const client = exchange.client;
	client.open--;
	if (exchange.done) { return; }
	// Node ends the writable side itself when a stream is reset, so `writableFinished` cannot tell an
	// abort from a completion here; `aborted` is set exactly when the reset came before our end.
	if (this.aborted || !this.writableEnded) {
		exchange.clientAborted();
		if (!client.reset() && !client.session.destroyed) {
			// With an error (logged as a session error), as destroy() without one sends GOAWAY(NO_ERROR) whatever the code.
			client.session.destroy(new Error(`${client.client} reset more than ${RESET_BURST} streams in a burst (rapid reset): connection closed`), constants.NGHTTP2_ENHANCE_YOUR_CALM);
		}
	} else {
		exchange.end('completed');
	}
}

function seconds(ms: number): string {
	return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Client-side streams fail when clients go away; the 'close' handler deals with that. */
function ignoreError(): void { }
