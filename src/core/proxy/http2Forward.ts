import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { TlsDetails } from '../../shared/exchange';
import type { ProxyContext } from './context';
import { renderErrorPage, type GatewayFailure } from './errorPage';
import { Exchange, RequestBody } from './exchange';
import { http2RequestHeaders, http2ResponseHeaders, requestHeadText } from './headers';
import type { Framing, ResponseHead } from './http1Parser';

/** Client address facts an HTTP/2 session computes once for all its streams. */
export interface Peer {
	readonly ip: string;
	/** `ip:port` for capture. */
	readonly client: string;
	/** TLS details of the session's connection for capture (empty when capture is off). */
	readonly tls: TlsDetails;
}

const kExchange = Symbol('tlsLens.exchange');
type Tagged = ServerHttp2Stream & { [kExchange]: Http2Exchange };

const upstreamResetError = new Error('The dev server closed the connection in the middle of the response.');

/** An exchange whose client is an HTTP/2 stream. */
class Http2Exchange extends Exchange {
	private waitingForDrain = false;

	constructor(proxy: ProxyContext, private readonly stream: ServerHttp2Stream, private readonly requestHeaders: IncomingHttpHeaders,
		method: string, head: string, authority: string | undefined, body: RequestBody) {
		super(proxy, method, head, authority, body);
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
		this.stream.resume();
	}

	drained(): void {
		this.waitingForDrain = false;
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
		stream.resume();
	}

	protected reset(): void {
		// destroy() with an error sends RST_STREAM(INTERNAL_ERROR) alone; close() would first end the
		// stream, and a client that sees END_STREAM short of Content-Length reports a protocol error.
		this.stream.destroy(upstreamResetError);
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
	// HTTP/2 frames the body itself; upstream it needs chunked framing unless its length is known.
	const body = !hasBody ? RequestBody.None : headers['content-length'] === undefined ? RequestBody.Chunked : RequestBody.Sized;
	const forwarded = http2RequestHeaders(rawHeaders, {
		clientIp: peer.ip,
		rewriteHost: proxy.rewriteHost,
		fallbackHost: proxy.endpoint.authority,
		chunked: body === RequestBody.Chunked,
		upgrade: undefined,
	});
	const exchange = new Http2Exchange(proxy, stream, headers, method, requestHeadText(method, path, forwarded.headers), forwarded.authority, body);
	(stream as Tagged)[kExchange] = exchange;
	stream.on('close', onStreamClose);
	if (proxy.capture !== undefined) {
		exchange.recorder = proxy.capture.beginExchange({
			kind: 'http',
			client: peer.client,
			tls: peer.tls,
			request: { method, path, authority: forwarded.authority ?? '', httpVersion: '2', rawHeaders },
			startMonotonic: performance.now(),
		});
	}
	exchange.start();
	if (hasBody) {
		stream.on('data', onStreamData);
		stream.on('end', onStreamEnd);
	}
}

function onStreamData(this: ServerHttp2Stream, chunk: Buffer): void {
	if (!(this as Tagged)[kExchange].requestData(chunk)) { this.pause(); }
}

function onStreamEnd(this: ServerHttp2Stream): void {
	(this as Tagged)[kExchange].endRequest();
}

function onStreamDrain(this: ServerHttp2Stream): void {
	(this as Tagged)[kExchange].drained();
}

function onStreamClose(this: ServerHttp2Stream): void {
	const exchange = (this as Tagged)[kExchange];
	if (exchange.done) { return; }
	// Node ends the writable side itself when a stream is reset, so `writableFinished` cannot tell an
	// abort from a completion here; `aborted` is set exactly when the reset came before our end.
	if (this.aborted || !this.writableEnded) {
		exchange.clientAborted();
	} else {
		exchange.end('completed');
	}
}

/** Client-side streams fail when clients go away; the 'close' handler deals with that. */
function ignoreError(): void { }
