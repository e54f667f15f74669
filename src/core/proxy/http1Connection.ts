import type { TLSSocket } from 'node:tls';
import type { TlsDetails } from '../../shared/exchange';
import type { ProxyContext } from './context';
import { RequestBody } from './forwardExchange';
import { http1RequestHeaders, ownResponseHead, requestHeadText } from './headers';
import { Http1Exchange, type Http1Owner } from './http1Exchange';
import { ChunkedDecoder, findHeadEnd, hasBareLineBreak, HttpParseError, MAX_HEAD_BYTES, parseRequestHead, requestFraming, type Framing, type RequestHead } from './http1Parser';
import { clientAddress } from './tlsDetails';
import { forwardUpgrade } from './webSocket';

/*
 * HTTP/1.1 from clients, parsed and written by the proxy itself rather than by Node's http server:
 * a request costs one head parse, one upstream write, and one client write for small responses, with
 * no IncomingMessage/ServerResponse streams in between. Requests on a connection are handled one at a
 * time; pipelined requests wait (the socket is paused) until the response before them is complete.
 */

/** Where a client connection is. */
const enum State {
	/** Between requests (no bytes of the next one yet). */
	Idle,
	/** Part of a request head has arrived. */
	Head,
	/** Request body bytes are being forwarded. */
	Body,
	/** The request is complete; its response is in progress. */
	Waiting,
	Closed,
}

const kConnection = Symbol('tlsLens.http1Connection');
type Tagged = TLSSocket & { [kConnection]: Http1Connection };

const STATUS_TEXT: Readonly<Record<number, string>> = {
	400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large',
	501: 'Not Implemented', 505: 'HTTP Version Not Supported',
};

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** Timeouts of client connections, enforced by one sweep over all connections instead of a timer each. */
export interface Http1Timeouts {
	/** A request head must be complete this long after its first byte (slow-loris guard). */
	readonly headersMs: number;
	/** A connection with no request in progress is closed after this long. */
	readonly idleMs: number;
}

/**
 * Every open HTTP/1.1 client connection, and the periodic check of their timeouts. Owned by the
 * ProxyServer; dispose() stops the timer (the sockets are closed by the server's own tracking).
 */
export class Http1Connections {
	private readonly open = new Set<Http1Connection>();
	private readonly timer: NodeJS.Timeout;
	private readonly keepAliveHeaders: string;

	constructor(private readonly proxy: ProxyContext, private readonly timeouts: Http1Timeouts) {
		// As Node's server says it: clients then never reuse a connection we are about to close.
		this.keepAliveHeaders = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(timeouts.idleMs / 1000)}\r\n`;
		// Checked a few times per timeout, so a timeout fires at most about a quarter late.
		const interval = Math.max(50, Math.min(1000, Math.min(timeouts.headersMs, timeouts.idleMs) / 4));
		this.timer = setInterval(() => this.sweep(), interval);
		this.timer.unref();
	}

	/** Serves HTTP/1.x on a TLS socket that negotiated http/1.1 (or no ALPN). */
	serve(socket: TLSSocket): void {
		const connection = new Http1Connection(this.proxy, socket, this.open, this.keepAliveHeaders);
		this.open.add(connection);
	}

	dispose(): void {
		clearInterval(this.timer);
		this.open.clear();
	}

	private sweep(): void {
		const now = performance.now();
		const { headersMs, idleMs } = this.timeouts;
		for (const connection of this.open) { connection.checkTimeouts(now, headersMs, idleMs); }
	}
}

class Http1Connection implements Http1Owner {
	state = State.Idle;
	/** Unparsed bytes: a partial head, or pipelined requests waiting for the current response. */
	private pending: Buffer | undefined = undefined;
	private since = performance.now();
	/** Requests that arrived on this connection so far: every one after the first reuses it. */
	private requests = 0;
	/** Bytes of the incomplete request head in `pending` already checked for bare CR/LF. */
	private headChecked = 0;
	private exchange: Http1Exchange | undefined = undefined;
	private bodyRemaining = 0;
	private decoder: ChunkedDecoder | undefined = undefined;
	/**
	 * Payload of a chunked body decoded before its request went upstream (see startRequest), or
	 * undefined once it has: views into the client's read, which is not reused.
	 */
	private early: Buffer[] | undefined = undefined;
	/** Reading is paused (backpressure from the dev server, or a pipelined request waiting). */
	private paused = false;
	/** When request body bytes last arrived (or reading resumed): a body silent for the idle timeout is given up. */
	private bodyAt = 0;
	private clientName: string | undefined = undefined;
	private tlsDetails: TlsDetails | undefined = undefined;

	constructor(readonly proxy: ProxyContext, readonly socket: TLSSocket, private readonly registry: Set<Http1Connection>,
		/** Header lines of a response after which the connection stays open (says how long it may idle). */
		readonly keepAliveHeaders: string) {
		(socket as Tagged)[kConnection] = this;
		socket.on('data', onSocketData);
		socket.on('drain', onSocketDrain);
		socket.on('close', onSocketClose);
		// Not every error is followed by 'close' (a TLS error after the handshake is only emitted), so the
		// handler ends the socket itself; 'close' then cleans up.
		socket.on('error', onSocketError);
	}

	/** `ip:port` of the client, for capture (computed once per connection). */
	get client(): string {
		return this.clientName ??= clientAddress(this.socket);
	}

	onData(chunk: Buffer): void {
		if (this.state === State.Body) { this.bodyAt = performance.now(); }
		if (this.state === State.Waiting || this.paused) {
			// A pipelined request (or bytes that arrived while pausing): keep for later.
			this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
			this.pause();
			return;
		}
		this.process(chunk, 0);
	}

	/** Parses and forwards what `chunk` holds from `offset` on, after any bytes kept from before. */
	private process(chunk: Buffer, offset: number): void {
		if (this.pending !== undefined) {
			chunk = Buffer.concat([this.pending, chunk.subarray(offset)]);
			offset = 0;
			this.pending = undefined;
		}
		while (offset < chunk.length) {
			switch (this.state) {
				case State.Idle: case State.Head:
					offset = this.readHead(chunk, offset);
					if (offset < 0) { return; }
					break;
				case State.Body:
					offset = this.readBody(chunk, offset);
					break;
				case State.Waiting:
					// The next request was pipelined behind this one: it waits for the response.
					this.pending = chunk.subarray(offset);
					this.pause();
					return;
				default:
					return;
			}
		}
	}

	/** Consumes a request head; returns the offset after it, or -1 when more bytes are needed or the connection is done. */
	private readHead(chunk: Buffer, offset: number): number {
		if (this.state === State.Idle) {
			// RFC 9112 §2.2: empty lines before a request line are ignored.
			while (offset < chunk.length && (chunk[offset] === 13 || chunk[offset] === 10)) { offset++; }
			if (offset === chunk.length) { return -1; }
			this.state = State.Head;
			this.since = performance.now();
			this.headChecked = 0;
		}
		const end = findHeadEnd(chunk, offset);
		if (end < 0) {
			// A bare CR or LF means the head is malformed: refused now, rather than at the head timeout or size limit.
			if (hasBareLineBreak(chunk, offset, offset + this.headChecked - 1)) {
				this.reject(400, 'The request head has a bare CR or LF: lines must end in CRLF.');
				return -1;
			}
			this.headChecked = chunk.length - offset;
			if (chunk.length - offset > MAX_HEAD_BYTES) {
				this.reject(431, 'The request headers are larger than 16 KiB.');
			} else {
				this.pending = chunk.subarray(offset);
			}
			return -1;
		}
		if (end - offset > MAX_HEAD_BYTES) {
			this.reject(431, 'The request headers are larger than 16 KiB.');
			return -1;
		}
		let head: RequestHead;
		let framing: Framing;
		try {
			head = parseRequestHead(chunk.toString('latin1', offset, end - 4));
			framing = requestFraming(head.rawHeaders, head.httpVersion);
		} catch (error) {
			if (!(error instanceof HttpParseError)) { throw error; }
			this.reject(error.status, error.message);
			return -1;
		}
		return this.startRequest(head, framing, chunk, end);
	}

	private startRequest(head: RequestHead, framing: Framing, chunk: Buffer, offset: number): number {
		const proxy = this.proxy;
		const socket = this.socket;
		const facts = scanConnectionFacts(head);
		const connectionReused = this.requests++ > 0;
		if (facts.hosts > 1) {
			// RFC 9112 §3.2: MUST answer 400. Which one would the dev server (or its host check) read?
			this.reject(400, 'The request has more than one Host header.', head.method);
			return -1;
		}
		if (facts.hosts === 0 && head.httpVersion === '1.1') {
			// RFC 9112 §3.2: MUST answer 400. Node's server does too, so the dev server would never see it.
			this.reject(400, 'The request has no Host header, which HTTP/1.1 requires.', head.method);
			return -1;
		}
		if (facts.upgrade !== undefined) {
			// The socket leaves this connection for good: WebSocket bytes are piped, not parsed.
			this.detach();
			forwardUpgrade(proxy, head, socket, chunk.subarray(offset), connectionReused);
			return -1;
		}
		if (head.method === 'CONNECT') {
			this.reject(405, 'TLS Lens does not tunnel CONNECT requests.', head.method);
			return -1;
		}
		if (facts.expectContinue && framing.kind !== 'none') { socket.write(CONTINUE); }
		const forwarded = http1RequestHeaders(head.rawHeaders, {
			clientIp: socket.remoteAddress ?? '',
			rewriteHost: proxy.rewriteHost,
			fallbackHost: proxy.endpoint.authority,
			upgrade: undefined,
		});
		const upstreamHead = requestHeadText(head.method, head.target, forwarded.headers);
		if (upstreamHead.length > MAX_HEAD_BYTES) {
			// The X-Forwarded-* fields pushed a head near the limit over it: the dev server's parser
			// (Node's allows 16 KiB too) would refuse it, and the client would only learn of a 502.
			this.reject(431, 'The request headers are larger than 16 KiB with the X-Forwarded-* fields that TLS Lens adds.', head.method);
			return -1;
		}
		const body = framing.kind === 'none' ? RequestBody.None : framing.kind === 'chunked' ? RequestBody.Chunked : RequestBody.Sized;
		const exchange = new Http1Exchange(this, head, upstreamHead, forwarded.host, body, facts.keepAlive);
		this.exchange = exchange;
		const capture = proxy.capture;
		if (capture !== undefined) {
			exchange.recorder = capture.begin({
				kind: 'http',
				client: this.client,
				tls: this.tlsDetails ??= capture.tlsDetails.detailsOf(this.socket),
				connectionReused,
				request: {
					method: head.method, path: head.target, authority: forwarded.host ?? '', httpVersion: head.httpVersion, rawHeaders: head.rawHeaders, headText: head.text,
				},
				startMonotonic: this.since,
			});
		}
		this.bodyAt = performance.now();
		if (framing.kind === 'length') {
			this.state = State.Body;
			this.bodyRemaining = framing.length;
		} else if (framing.kind === 'chunked') {
			this.state = State.Body;
			this.decoder = new ChunkedDecoder((data) => this.requestData(data));
			if (offset < chunk.length) {
				// Body bytes came with the head: decoded (readBody, next) before anything goes upstream, so that
				// malformed framing there is refused with nothing sent to the dev server.
				this.early = [];
				return offset;
			}
		} else {
			this.state = State.Waiting;
		}
		exchange.start();
		return offset;
	}

	private readBody(chunk: Buffer, offset: number): number {
		const decoder = this.decoder;
		if (decoder !== undefined) {
			try {
				offset = decoder.push(chunk, offset);
			} catch (error) {
				if (!(error instanceof HttpParseError)) { throw error; }
				this.badBody(error);
				return chunk.length;
			}
			const early = this.early;
			if (early !== undefined) {
				this.early = undefined;
				this.exchange!.start();
				for (const data of early) { this.requestData(data); }
			}
			if (decoder.done) { this.bodyDone(); }
			return offset;
		}
		const available = chunk.length - offset;
		const take = available < this.bodyRemaining ? available : this.bodyRemaining;
		this.bodyRemaining -= take;
		this.requestData(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
		if (this.bodyRemaining === 0) { this.bodyDone(); }
		return offset + take;
	}

	/**
	 * A malformed chunked request body: 400 and close while no response has begun (the dev server got
	 * nothing when the error came with the head, else a request it sees cut off), else the connection
	 * is cut, since the response cannot end cleanly.
	 */
	private badBody(error: HttpParseError): void {
		this.abandonRequest(`The client sent a malformed chunked request body (${error.message}).`, 400, `Malformed chunked request body: ${error.message}.`);
	}

	/**
	 * Gives up the request whose body is being read: the exchange ends as aborted with `reason` (its
	 * upstream request is cancelled), and the client gets `status` unless the response has begun, in
	 * which case the connection is cut, since the response cannot end cleanly.
	 */
	private abandonRequest(reason: string, status: number, message: string): void {
		const exchange = this.exchange;
		this.exchange = undefined;
		this.decoder = undefined;
		this.early = undefined;
		const answering = exchange !== undefined && exchange.responseStarted;
		exchange?.clientAborted(reason);
		if (answering) {
			this.state = State.Closed;
			this.socket.destroy();
		} else {
			this.reject(status, message);
		}
	}

	private requestData(data: Buffer): void {
		const early = this.early;
		if (early !== undefined) {
			early.push(data);
			return;
		}
		const exchange = this.exchange;
		if (exchange !== undefined && !exchange.requestData(data)) { this.pause(); }
	}

	private bodyDone(): void {
		this.decoder = undefined;
		this.state = State.Waiting;
		this.exchange?.endRequest();
	}

	/** The dev server's socket drained: read more of the request body. */
	requestDrained(): void {
		if (this.state !== State.Body || !this.paused) { return; }
		const pending = this.pending;
		this.pending = undefined;
		this.bodyAt = performance.now();
		this.resume();
		if (pending !== undefined) { this.process(pending, 0); }
	}

	/** The response to the current request is complete (`keepAlive`: the connection may carry another). */
	responseDone(keepAlive: boolean): void {
		this.exchange = undefined;
		if (!keepAlive || this.state !== State.Waiting) {
			// Closing: also when the request body was not read to its end (an early error response).
			this.state = State.Closed;
			this.socket.end();
			return;
		}
		this.state = State.Idle;
		this.since = performance.now();
		const pending = this.pending;
		this.pending = undefined;
		this.resume();
		if (pending !== undefined) { this.process(pending, 0); }
	}

	/**
	 * Answers a request we cannot forward with `status` and `message`, and closes: the rest of the
	 * connection cannot be trusted. `method`, when the request line was read, keeps a HEAD's answer
	 * body-less.
	 */
	reject(status: number, message: string, method?: string): void {
		this.state = State.Closed;
		this.pending = undefined;
		const body = `${message}\n`;
		const head = ownResponseHead(status, STATUS_TEXT[status] ?? 'Error', 'text/plain; charset=utf-8', Buffer.byteLength(body), 'Connection: close\r\n');
		this.socket.end(method === 'HEAD' ? head : head + body);
	}

	checkTimeouts(now: number, headersMs: number, idleMs: number): void {
		if (this.state === State.Head && now - this.since > headersMs) {
			this.reject(408, 'The request headers did not arrive in time.');
		} else if (this.state === State.Idle && now - this.since > idleMs) {
			this.state = State.Closed;
			this.socket.end();
		} else if (this.state === State.Body && !this.paused && now - this.bodyAt > idleMs) {
			// A body that stops (a slow-loris upload) would hold this connection and a dev server socket for good.
			const seconds = Math.round(idleMs / 1000);
			this.abandonRequest(`The request body stopped arriving for ${seconds} s.`, 408, `The request body stopped arriving for ${seconds} s.`);
		} else {
			const exchange = this.exchange;
			// A client that does not read its response holds the dev server's socket paused behind it.
			if (exchange !== undefined && exchange.waitingSince !== 0 && now - exchange.waitingSince > idleMs) {
				this.exchange = undefined;
				exchange.clientAborted(`The client took no response bytes for ${Math.round(idleMs / 1000)} s.`);
				this.state = State.Closed;
				this.socket.destroy();
			}
		}
	}

	onClose(): void {
		this.registry.delete(this);
		this.state = State.Closed;
		this.pending = undefined;
		const exchange = this.exchange;
		this.exchange = undefined;
		if (exchange !== undefined && !exchange.done) { exchange.clientAborted(); }
	}

	onDrain(): void {
		this.exchange?.drained();
	}

	private pause(): void {
		if (!this.paused) {
			this.paused = true;
			this.socket.pause();
		}
	}

	private resume(): void {
		if (this.paused) {
			this.paused = false;
			this.socket.resume();
		}
	}

	/** Hands the socket over (WebSocket upgrade): this connection stops listening to it. */
	private detach(): void {
		this.state = State.Closed;
		this.registry.delete(this);
		const socket = this.socket;
		socket.removeListener('data', onSocketData);
		socket.removeListener('drain', onSocketDrain);
		socket.removeListener('close', onSocketClose);
		socket.removeListener('error', onSocketError);
	}
}

/** What the request's Connection, Upgrade and Expect headers ask for. */
interface ConnectionFacts {
	/** The client wants the connection kept open after this exchange. */
	readonly keepAlive: boolean;
	/** The protocol of an upgrade request (`Connection: upgrade` with `Upgrade`), else undefined. */
	readonly upgrade: string | undefined;
	readonly expectContinue: boolean;
	/** How many Host fields the request has. */
	readonly hosts: number;
}

function scanConnectionFacts(head: RequestHead): ConnectionFacts {
	const raw = head.rawHeaders;
	let close = false;
	let keepAliveToken = false;
	let upgradeToken = false;
	let upgrade: string | undefined;
	let expectContinue = false;
	let hosts = 0;
	for (let i = 0; i < raw.length; i += 2) {
		const name = raw[i];
		if (name.length === 4) {
			// Every request has one: compared without the lower-cased copy (all letters, so | 0x20 folds case).
			if ((name.charCodeAt(0) | 0x20) === 0x68 && (name.charCodeAt(1) | 0x20) === 0x6f && (name.charCodeAt(2) | 0x20) === 0x73
				&& (name.charCodeAt(3) | 0x20) === 0x74) { hosts++; }
			continue;
		}
		// Only three other names matter here; their lengths rule out nearly every other header cheaply.
		if (name.length !== 10 && name.length !== 7 && name.length !== 6) { continue; }
		const lower = name.toLowerCase();
		if (lower === 'connection') {
			for (const token of raw[i + 1].toLowerCase().split(',')) {
				const trimmed = token.trim();
				if (trimmed === 'close') { close = true; } else if (trimmed === 'keep-alive') { keepAliveToken = true; } else if (trimmed === 'upgrade') { upgradeToken = true; }
			}
		} else if (lower === 'upgrade') {
			upgrade = raw[i + 1];
		} else if (lower === 'expect') {
			expectContinue = raw[i + 1].toLowerCase() === '100-continue';
		}
	}
	return {
		keepAlive: !close && (head.httpVersion === '1.1' || keepAliveToken),
		upgrade: upgradeToken ? upgrade : undefined,
		expectContinue,
		hosts,
	};
}

function onSocketData(this: TLSSocket, chunk: Buffer): void {
	(this as Tagged)[kConnection].onData(chunk);
}

function onSocketDrain(this: TLSSocket): void {
	(this as Tagged)[kConnection].onDrain();
}

function onSocketClose(this: TLSSocket): void {
	(this as Tagged)[kConnection].onClose();
}

function onSocketError(this: TLSSocket): void {
	this.destroy();
}
