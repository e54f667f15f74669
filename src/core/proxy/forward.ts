import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { ExchangeRecorder } from '../capture/types';
import type { CapturedRequest, ExchangeState } from '../../shared/exchange';
import type { ProxyContext } from './context';
import { describeUpstreamError, renderErrorPage, type GatewayFailure } from './errorPage';
import { headerPairs, http1RequestHeaders, http1ResponseHeaders, http2RequestHeaders, http2ResponseHeaders } from './headers';
import { clientAddress } from './tlsDetails';

/*
 * Forwarding of one request/response exchange, HTTP/1.x or HTTP/2 on the client side, HTTP/1.1 to the
 * dev server. Event handlers are module-level functions that find their exchange through a symbol on
 * the emitter, so a request costs one Exchange object rather than a handful of closures.
 */

const kExchange = Symbol('tlsLens.exchange');
type Tagged = { [kExchange]?: Exchange };

function tag(emitter: object, exchange: Exchange): void {
	(emitter as Tagged)[kExchange] = exchange;
}

function exchangeOf(emitter: object): Exchange {
	return (emitter as Tagged)[kExchange]!;
}

/** Methods that may be resent when a kept-alive socket turns out to be closed (RFC 9110 §9.2.2). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Client address facts an HTTP/2 session computes once for all its streams. */
export interface Peer {
	readonly ip: string;
	/** `ip:port` for capture. */
	readonly client: string;
}

abstract class Exchange {
	upstreamRequest: ClientRequest | undefined = undefined;
	upstreamResponse: IncomingMessage | undefined = undefined;
	recorder: ExchangeRecorder | undefined = undefined;
	/** The exchange is over for the client (completed, failed or aborted): later upstream events are moot. */
	done = false;
	private retried = false;

	constructor(
		readonly proxy: ProxyContext,
		private readonly method: string,
		private readonly path: string,
		private readonly headers: string[],
		/** Host or :authority as the client sent it. */
		readonly authority: string | undefined,
		/** No body and an idempotent method: may be resent once on a stale keep-alive socket. */
		private readonly retryable: boolean,
	) { }

	/** Sends the request head upstream; the caller ends the request or pipes the body into it. */
	startUpstream(): ClientRequest {
		const request = this.proxy.upstream.request(this.method, this.path, this.headers);
		tag(request, this);
		request.on('response', onUpstreamResponse);
		request.on('error', onUpstreamError);
		if (this.recorder !== undefined) {
			request.on('socket', onUpstreamSocket);
			request.on('finish', onUpstreamRequestSent);
		}
		this.upstreamRequest = request;
		return request;
	}

	/** Resends a body-less request after a stale pooled socket; false when that is not allowed. */
	retry(): boolean {
		if (!this.retryable || this.retried) { return false; }
		this.retried = true;
		this.startUpstream().end();
		return true;
	}

	/** Marks the exchange over and tells capture how it ended (once). */
	end(state: Exclude<ExchangeState, 'pending'>, error?: string): void {
		if (this.done) { return; }
		this.done = true;
		if (this.recorder !== undefined) {
			try {
				this.recorder.finish(state, error);
			} catch (captureError) {
				this.proxy.logger.debug(`[proxy] capture failed: ${(captureError as Error).message}`);
			}
		}
	}

	/** The client went away before the response was complete: cancel the upstream request. */
	clientAborted(): void {
		this.upstreamRequest?.destroy();
		this.end('aborted', 'The client closed the connection before the response was complete.');
	}

	/** Sends the dev server's response head to the client and streams its body. */
	abstract respond(response: IncomingMessage): void;
	/** Answers for the dev server (502/504 page) or, once a response has started, cuts it off. */
	abstract fail(failure: GatewayFailure): void;
	/** Ends the client's response abnormally (the dev server reset mid-response). */
	abstract reset(): void;
}

class Http1Exchange extends Exchange {
	constructor(proxy: ProxyContext, private readonly req: IncomingMessage, private readonly res: ServerResponse,
		method: string, path: string, headers: string[], authority: string | undefined, retryable: boolean) {
		super(proxy, method, path, headers, authority, retryable);
	}

	respond(response: IncomingMessage): void {
		const res = this.res;
		try {
			res.writeHead(response.statusCode!, response.statusMessage, http1ResponseHeaders(response.rawHeaders, this.proxy.keepHsts, this.authority));
		} catch (error) {
			badResponse(this, response, error as Error);
			return;
		}
		// Without a length the body is a stream (server-sent events, chunked output): send the head
		// now instead of waiting for the first chunk, which may be a long time coming.
		if (response.headers['content-length'] === undefined) { res.flushHeaders(); }
		response.pipe(res);
	}

	fail(failure: GatewayFailure): void {
		const res = this.res;
		if (res.headersSent) {
			res.destroy();
			return;
		}
		const page = renderErrorPage(failure, this.proxy.endpoint.display, this.req.headers.accept);
		// An upload still in progress would have to be read to the end to keep the connection; close it.
		if (!this.req.complete) { res.shouldKeepAlive = false; }
		res.writeHead(page.status, { 'Content-Type': page.contentType, 'Content-Length': page.body.length, 'Cache-Control': 'no-store' });
		res.end(page.body);
	}

	reset(): void {
		this.res.destroy();
	}
}

class Http2Exchange extends Exchange {
	constructor(proxy: ProxyContext, private readonly stream: ServerHttp2Stream, private readonly requestHeaders: IncomingHttpHeaders,
		method: string, path: string, headers: string[], authority: string | undefined, retryable: boolean) {
		super(proxy, method, path, headers, authority, retryable);
	}

	respond(response: IncomingMessage): void {
		const stream = this.stream;
		try {
			stream.respond(http2ResponseHeaders(response.statusCode!, response.headers, this.proxy.keepHsts, this.authority));
		} catch (error) {
			badResponse(this, response, error as Error);
			return;
		}
		// HEAD, 204 and 304 responses end with their headers (respond() ended the stream).
		if (stream.writableEnded) {
			response.resume();
		} else {
			response.pipe(stream);
		}
	}

	fail(failure: GatewayFailure): void {
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
		stream.unpipe();
		stream.resume();
	}

	reset(): void {
		// destroy() with an error sends RST_STREAM(INTERNAL_ERROR) alone; close() would first end the
		// stream, and a client that sees END_STREAM short of Content-Length reports a protocol error.
		this.stream.destroy(upstreamResetError);
	}
}

const upstreamResetError = new Error('The dev server closed the connection in the middle of the response.');

/** The dev server sent a head we cannot pass on (e.g. an invalid header): answer 502 instead. */
function badResponse(exchange: Exchange, response: IncomingMessage, error: Error): void {
	response.destroy();
	const reason = `${exchange.proxy.endpoint.display} sent a response TLS Lens cannot forward: ${error.message}.`;
	exchange.fail({ status: 502, reason, hint: 'Check the response headers your dev server sends.' });
	exchange.end('upstream-error', reason);
}

/** Forwards an HTTP/1.x request (the server's 'request' event). */
export function forwardHttp1(proxy: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
	const socket = req.socket;
	const method = req.method!;
	const path = req.url!;
	const forwarded = http1RequestHeaders(req.rawHeaders, {
		clientIp: socket.remoteAddress ?? '',
		rewriteHost: proxy.rewriteHost,
		fallbackHost: proxy.endpoint.authority,
		upgrade: undefined,
	});
	const exchange = new Http1Exchange(proxy, req, res, method, path, forwarded.headers, forwarded.host,
		!forwarded.hasBody && RETRYABLE_METHODS.has(method));
	tag(res, exchange);
	res.on('close', onHttp1ResponseClose);
	res.on('error', ignoreError);
	if (proxy.capture !== undefined) {
		beginCapture(exchange, socket, clientAddress(socket), { method, path, authority: forwarded.host ?? '', httpVersion: req.httpVersion, headers: headerPairs(req.rawHeaders) });
		if (exchange.recorder !== undefined && forwarded.hasBody) {
			tag(req, exchange);
			req.on('data', onRequestData);
		}
	}
	const upstream = exchange.startUpstream();
	if (forwarded.hasBody) {
		req.pipe(upstream);
	} else {
		// Node's server discards the (empty) request stream itself once the response is done.
		upstream.end();
	}
}

/** Forwards an HTTP/2 request (the server's 'stream' event). */
export function forwardHttp2(proxy: ProxyContext, peer: Peer, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders: string[]): void {
	stream.on('error', ignoreError);
	const method = headers[':method'] as string;
	if (method === 'CONNECT') {
		// Plain CONNECT tunnels are not ours to make, and extended CONNECT (RFC 8441) is not advertised.
		stream.respond({ ':status': 405, 'content-type': 'text/plain; charset=utf-8' });
		stream.end('TLS Lens does not tunnel CONNECT requests.\n');
		return;
	}
	const path = headers[':path'] as string;
	const hasBody = !stream.endAfterHeaders;
	// Node answers Expect: 100-continue itself only for HTTP/1.1; the body is forwarded as it comes.
	if (hasBody && headers.expect !== undefined && headers.expect.toLowerCase() === '100-continue') { stream.additionalHeaders({ ':status': 100 }); }
	const forwarded = http2RequestHeaders(rawHeaders, {
		clientIp: peer.ip,
		rewriteHost: proxy.rewriteHost,
		fallbackHost: proxy.endpoint.authority,
		// HTTP/2 frames the body itself; upstream it needs chunked framing unless its length is known.
		chunked: hasBody && headers['content-length'] === undefined,
		upgrade: undefined,
	});
	const exchange = new Http2Exchange(proxy, stream, headers, method, path, forwarded.headers, forwarded.authority,
		!hasBody && RETRYABLE_METHODS.has(method));
	tag(stream, exchange);
	stream.on('close', onHttp2StreamClose);
	if (proxy.capture !== undefined) {
		beginCapture(exchange, stream.session!.socket, peer.client, { method, path, authority: forwarded.authority ?? '', httpVersion: '2', headers: headerPairs(rawHeaders) });
		if (exchange.recorder !== undefined && hasBody) { stream.on('data', onRequestData); }
	}
	const upstream = exchange.startUpstream();
	if (hasBody) {
		stream.pipe(upstream);
	} else {
		upstream.end();
	}
}

function beginCapture(exchange: Exchange, tlsSocket: object, client: string, request: CapturedRequest): void {
	const proxy = exchange.proxy;
	try {
		exchange.recorder = proxy.capture!.beginExchange({
			kind: 'http',
			client,
			tls: proxy.tlsDetails!.detailsOf(tlsSocket),
			request,
			startTime: Date.now(),
			startMonotonic: performance.now(),
		});
	} catch (error) {
		proxy.logger.debug(`[proxy] capture failed: ${(error as Error).message}`);
	}
}

// Downstream (client side) events.

function onHttp1ResponseClose(this: ServerResponse): void {
	const exchange = exchangeOf(this);
	if (exchange.done) { return; }
	if (this.writableFinished) {
		exchange.end('completed');
	} else {
		exchange.clientAborted();
	}
}

function onHttp2StreamClose(this: ServerHttp2Stream): void {
	const exchange = exchangeOf(this);
	if (exchange.done) { return; }
	// Node ends the writable side itself when a stream is reset, so `writableFinished` cannot tell an
	// abort from a completion here; `aborted` is set exactly when the reset came before our end.
	if (this.aborted) {
		exchange.clientAborted();
	} else {
		exchange.end('completed');
	}
}

function onRequestData(this: object, chunk: Buffer): void {
	const recorder = exchangeOf(this).recorder;
	try {
		recorder?.requestBody(chunk);
	} catch {
		// Capture must not disturb forwarding; the sink contract forbids throwing anyway.
	}
}

/** Client-side streams fail when clients go away; the 'close' handlers deal with that. */
function ignoreError(): void { }

// Upstream (dev server side) events.

function onUpstreamResponse(this: ClientRequest, response: IncomingMessage): void {
	const exchange = exchangeOf(this);
	exchange.upstreamResponse = response;
	tag(response, exchange);
	response.on('error', ignoreError);
	response.on('close', onUpstreamResponseClose);
	exchange.proxy.upstream.reachable();
	if (exchange.recorder !== undefined) {
		try {
			exchange.recorder.response({ statusCode: response.statusCode!, statusMessage: response.statusMessage ?? '', headers: headerPairs(response.rawHeaders) });
		} catch {
			// see onRequestData
		}
		response.on('data', onUpstreamResponseData);
	}
	if (exchange.done) {
		this.destroy();
		return;
	}
	exchange.respond(response);
}

function onUpstreamError(this: ClientRequest, error: NodeJS.ErrnoException): void {
	const exchange = exchangeOf(this);
	// A superseded (retried) request, a client that is gone, or a reset after the response started
	// (onUpstreamResponseClose handles that one).
	if (exchange.done || exchange.upstreamRequest !== this || exchange.upstreamResponse !== undefined) { return; }
	if (this.reusedSocket && error.code === 'ECONNRESET' && exchange.retry()) { return; }
	const proxy = exchange.proxy;
	proxy.upstream.failed(error);
	const failure = describeUpstreamError(error, proxy.endpoint.display, proxy.connectTimeoutMs);
	exchange.fail(failure);
	exchange.end('upstream-error', failure.reason);
}

function onUpstreamResponseClose(this: IncomingMessage): void {
	const exchange = exchangeOf(this);
	if (this.complete || exchange.done) { return; }
	exchange.reset();
	exchange.end('upstream-error', `${exchange.proxy.endpoint.display} closed the connection in the middle of the response.`);
}

function onUpstreamResponseData(this: IncomingMessage, chunk: Buffer): void {
	try {
		exchangeOf(this).recorder?.responseBody(chunk);
	} catch {
		// see onRequestData
	}
}

function onUpstreamSocket(this: ClientRequest, socket: Socket): void {
	const exchange = exchangeOf(this);
	const recorder = exchange.recorder;
	if (recorder === undefined) { return; }
	if (this.reusedSocket) {
		safely(() => recorder.upstreamConnected(true));
	} else {
		socket.once(exchange.proxy.upstream.readyEvent, () => safely(() => recorder.upstreamConnected(false)));
	}
}

function onUpstreamRequestSent(this: ClientRequest): void {
	const recorder = exchangeOf(this).recorder;
	if (recorder !== undefined) { safely(() => recorder.requestSent()); }
}

function safely(action: () => void): void {
	try {
		action();
	} catch {
		// see onRequestData
	}
}
