import type { ProxyContext } from './context';
import { describeUpstreamError, type GatewayFailure } from './errorPage';
import type { RewriteListener } from './headers';
import { chunkHeader, type Framing, type ResponseHead } from './http1Parser';
import { RecordedExchange } from './recordedExchange';
import type { UpstreamConnection, UpstreamSink } from './upstreamConnection';

/** Methods that may be resent when a kept-alive socket turns out to be closed (RFC 9110 §9.2.2). */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** How the request body travels upstream. */
export const enum RequestBody {
	None,
	/** Content-Length known: bytes as they come. */
	Sized,
	/** Length unknown (chunked HTTP/1.1, HTTP/2 without content-length): chunked framing upstream. */
	Chunked,
}

/**
 * One request/response exchange between a client (HTTP/1.x or HTTP/2) and the dev server (HTTP/1.1
 * over a pooled {@link UpstreamConnection}). This base class drives the upstream side, retries a stale
 * pooled socket once for body-less idempotent requests, and reports to capture; subclasses write the
 * response to their kind of client.
 */
export abstract class ForwardExchange extends RecordedExchange implements UpstreamSink, RewriteListener {
	/** The dev server's response head has been passed on to the client. */
	private started = false;
	protected connection: UpstreamConnection | undefined = undefined;
	private retried = false;
	private requestEnded = false;
	/** The upstream socket is usable; until then "request sent" cannot be reported. */
	private connected = false;

	constructor(
		proxy: ProxyContext,
		readonly method: string,
		/** The upstream request head, ready to write (request line, headers, blank line). */
		private readonly head: string,
		/** Host or :authority as the client sent it. */
		readonly authority: string | undefined,
		private readonly body: RequestBody,
	) {
		super(proxy);
	}

	/** The dev server's response head has been passed on to the client: an error can no longer be answered cleanly. */
	get responseStarted(): boolean {
		return this.started;
	}

	/** Sends the request head upstream; a body follows through requestData()/endRequest(). */
	start(): void {
		const connection = this.connection = this.proxy.upstream.acquire(this, this.method);
		connection.write(this.head);
		if (this.body === RequestBody.None) { this.endRequest(); }
	}

	/** Forwards request body bytes; false when the upstream socket is full (wait for requestDrained()). */
	requestData(data: Buffer): boolean {
		this.recorder?.requestBody(data);
		const connection = this.connection;
		if (connection === undefined || data.length === 0) { return true; }
		if (this.body === RequestBody.Chunked) {
			connection.write(chunkHeader(data.length));
			connection.write(data);
			return connection.write('\r\n');
		}
		return connection.write(data);
	}

	/** The request is complete. */
	endRequest(): void {
		if (this.requestEnded) { return; }
		this.requestEnded = true;
		const connection = this.connection;
		if (connection === undefined) { return; }
		if (this.body === RequestBody.Chunked) { connection.write('0\r\n\r\n'); }
		connection.endRequest();
		if (this.connected) { this.recorder?.requestSent(); }
	}

	/**
	 * The client went away before the response was complete: cancel the upstream request. Without a
	 * `reason` that is the client's choice (an EventSource closed, a fetch aborted), recorded as such and
	 * not as a failure; with one, the client broke the exchange off by misbehaving, and `reason` says how.
	 */
	clientAborted(reason?: string): void {
		this.connection?.abort();
		this.connection = undefined;
		if (reason === undefined) {
			this.end('closed-by-client');
		} else {
			this.end('aborted', reason);
		}
	}

	/** A response header went to the client rewritten (see {@link RewriteListener}). */
	headerRewritten(index: number, original: string, value: string): void {
		this.recorder?.responseHeaderRewritten(index, original, value);
	}

	// UpstreamSink

	upstreamConnected(reused: boolean): void {
		this.connected = true;
		const recorder = this.recorder;
		if (recorder === undefined) { return; }
		recorder.upstreamConnected(reused);
		// A new socket buffered the request until it connected: it is on its way now.
		if (this.requestEnded) { recorder.requestSent(); }
	}

	upstreamHead(head: ResponseHead, framing: Framing): void {
		this.proxy.upstream.reachable();
		this.recorder?.response(head.statusCode, head.statusMessage, head.rawHeaders, head.text);
		if (this.done) {
			this.connection?.abort();
			return;
		}
		this.started = true;
		this.respond(head, framing);
	}

	upstreamData(data: Buffer): void {
		// Nothing to pass on (an empty chunk would even end a chunked response to an HTTP/1.1 client).
		if (data.length === 0) { return; }
		// The pooled read buffer behind `data` may be kept by capture instead of copied.
		this.recorder?.responseBody(data, this.connection);
		if (!this.responseData(data)) { this.connection?.pause(); }
	}

	upstreamEnd(): void {
		this.connection = undefined;
		this.responseEnd();
	}

	upstreamDrain(): void {
		this.requestDrained();
	}

	upstreamError(error: NodeJS.ErrnoException, reused: boolean): void {
		this.connection = undefined;
		if (this.done) { return; }
		if (this.started) {
			this.reset();
			// An invalid body (HPE_*) says what was wrong with it; anything else is a connection that broke.
			const reason = error.code?.startsWith('HPE_') ? `${error.message}; the response was cut off.` : `${this.proxy.endpoint.display} closed the connection in the middle of the response.`;
			this.end('upstream-error', reason);
			return;
		}
		// A kept-alive socket the dev server had closed: resend once on a fresh one, if that is safe.
		if (reused && !this.retried && this.body === RequestBody.None && RETRYABLE_METHODS.has(this.method)) {
			this.retried = true;
			this.requestEnded = false;
			this.connected = false;
			this.proxy.upstream.dropIdle();
			this.start();
			return;
		}
		const proxy = this.proxy;
		proxy.upstream.failed(error);
		const failure = describeUpstreamError(error, proxy.endpoint.display, proxy.connectTimeoutMs);
		this.fail(failure);
		this.end('upstream-error', failure.reason);
	}

	/**
	 * From {@link respond}, before anything of the response went to the client: it cannot be passed on
	 * as it is, so the client gets a 502 that says `reason`, and the dev server's connection is dropped.
	 */
	protected refuseResponse(reason: string): void {
		const connection = this.connection;
		this.connection = undefined;
		connection?.abort();
		this.started = false;
		const error: NodeJS.ErrnoException = new Error(reason);
		error.code = 'HPE_INVALID_RESPONSE';
		const failure = describeUpstreamError(error, this.proxy.endpoint.display, this.proxy.connectTimeoutMs);
		this.fail(failure);
		this.end('upstream-error', failure.reason);
	}

	/** The client can take more response bytes: read from the dev server again. */
	protected clientDrained(): void {
		this.connection?.resume();
	}

	/** Sends the dev server's response head to the client. */
	protected abstract respond(head: ResponseHead, framing: Framing): void;
	/** Sends response body bytes; false when the client's buffer is full (call clientDrained() later). */
	protected abstract responseData(data: Buffer): boolean;
	/** The response body is complete. */
	protected abstract responseEnd(): void;
	/** The dev server can take more request body bytes. */
	protected abstract requestDrained(): void;
	/** Answers for the dev server (502/504 page) before any response started. */
	protected abstract fail(failure: GatewayFailure): void;
	/** Cuts off a response that has started (the dev server reset mid-response). */
	protected abstract reset(): void;
}
