import type { Socket } from 'node:net';
import type { ChunkHolder } from '../memory/chunkHolder';
import { ReadSlot } from './readPool';
import { ChunkedDecoder, findHeadEnd, hasBareLineBreak, MAX_HEAD_BYTES, parseResponseHead, responseFraming, type Framing, type ResponseHead } from './http1Parser';

/**
 * What an exchange hears from its upstream connection, in order: `upstreamConnected`, `upstreamHead`,
 * `upstreamData`*, `upstreamEnd` — or `upstreamError` at any point, after which nothing else comes.
 */
export interface UpstreamSink {
	/** The socket is usable: `reused` when it came from the keep-alive pool. */
	upstreamConnected(reused: boolean): void;
	/** The final response head (interim 1xx responses are skipped). */
	upstreamHead(head: ResponseHead, framing: Framing): void;
	/**
	 * Body bytes, de-chunked: a view into a read buffer that is reused once this call returns, unless
	 * the sink holds it (see UpstreamConnection.hold) until its write of the view is done. Copy the
	 * bytes to keep them otherwise.
	 */
	upstreamData(data: Buffer): void;
	upstreamEnd(): void;
	/** The request's write buffer drained (request body backpressure). */
	upstreamDrain(): void;
	/**
	 * The connection failed. `reused`: the socket came from the pool (a stale one may be retried, unless
	 * its response head had arrived, which the sink knows from upstreamHead).
	 */
	upstreamError(error: NodeJS.ErrnoException, reused: boolean): void;
}

/** Where a connection's response parsing is. */
const enum State { Idle, Head, Length, Chunked, Close, Done }

const kConnection = Symbol('tlsLens.upstreamConnection');
type Tagged = Socket & { [kConnection]: UpstreamConnection };

/** What the pool does with connections whose exchange is over. */
export interface ConnectionOwner {
	release(connection: UpstreamConnection): void;
	forget(connection: UpstreamConnection): void;
}

/**
 * One keep-alive HTTP/1.1 connection to the dev server, carrying one exchange at a time. It writes
 * what the exchange gives it and parses the response itself (head, Content-Length, chunked or
 * close-delimited body), handing body bytes on as views of the socket's reads: no per-request
 * streams, parsers or header objects besides the parsed head.
 */
export class UpstreamConnection implements ChunkHolder {
	sink: UpstreamSink | undefined = undefined;
	/** performance.now() when it went back to the pool. */
	idleSince = 0;
	/** How long it may sit in the pool: ours, or less when the server announced `Keep-Alive: timeout`. */
	idleLimitMs: number;
	private state = State.Idle;
	private method = '';
	private reused = false;
	private requestDone = false;
	private keepAlive = true;
	private partial: Buffer | undefined = undefined;
	/** Bytes of the incomplete response head in `partial` already checked for bare CR/LF. */
	private headChecked = 0;
	private decoder: ChunkedDecoder | undefined = undefined;
	private remaining = 0;
	/** The pooled buffer of the read being processed. */
	private slot: ReadSlot | undefined = undefined;
	/** While a chunked body that came with its head is checked before the head goes on: the payload views so far. */
	private early: Buffer[] | undefined = undefined;

	/**
	 * `pooledReads`: the socket was created with an `onread` buffer from a ReadPool whose callback
	 * calls onRead(); otherwise its 'data' events are used.
	 */
	constructor(readonly socket: Socket, private readonly owner: ConnectionOwner, idleLimitMs: number, pooledReads: boolean) {
		this.idleLimitMs = idleLimitMs;
		(socket as Tagged)[kConnection] = this;
		if (!pooledReads) { socket.on('data', onData); }
		socket.on('drain', onDrain);
		socket.on('error', onError);
		socket.on('close', onClose);
	}

	/** Whether the socket can carry another request. */
	get usable(): boolean {
		// `destroyed` only: the `writable` getter costs more, and a socket the server half-closed fails on
		// write before any response, which the exchange retries like any stale pooled socket.
		return this.state === State.Idle && !this.socket.destroyed;
	}

	/** Starts an exchange: the request head (and body) go out with write(); the response comes to `sink`. */
	begin(sink: UpstreamSink, method: string, reused: boolean): void {
		this.sink = sink;
		this.method = method;
		this.reused = reused;
		this.requestDone = false;
		this.keepAlive = true;
		this.headChecked = 0;
		this.state = State.Head;
	}

	/** Writes request bytes; false when the socket's buffer is full (wait for `upstreamDrain`). */
	write(data: string | Buffer): boolean {
		return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
	}

	/** The whole request has been written. */
	endRequest(): void {
		this.requestDone = true;
	}

	/** Response backpressure: stop reading until resume(). */
	pause(): void {
		this.socket.pause();
	}

	resume(): void {
		this.socket.resume();
	}

	/** Cancels the exchange: the connection is closed, not reused, and the sink hears nothing more. */
	abort(): void {
		this.sink = undefined;
		this.state = State.Done;
		this.socket.destroy();
	}

	/** Called by the pool on a connection that is not in use. */
	close(): void {
		this.state = State.Done;
		this.socket.destroy();
	}

	/**
	 * The write callback that keeps the current read buffer from being reused until the write of a
	 * view of it is done; undefined when reads are not pooled (nothing to wait for).
	 */
	hold(): (() => void) | undefined {
		return this.slot?.hold();
	}

	/** The last pooled read filled its whole buffer (a large body is streaming). */
	lastReadFilled = false;

	/** `onread` callback: `nread` bytes arrived in a pooled buffer. Always true: go on reading. */
	onRead(nread: number, buffer: Buffer): true {
		this.lastReadFilled = nread === buffer.length;
		const slot = this.slot = ReadSlot.of(buffer);
		const release = slot.hold();
		try {
			this.onData(buffer.subarray(0, nread));
		} finally {
			this.slot = undefined;
			release();
		}
		return true;
	}

	onData(chunk: Buffer): void {
		let offset = 0;
		while (offset < chunk.length) {
			const sink = this.sink;
			switch (this.state) {
				case State.Head: {
					if (this.partial !== undefined) {
						chunk = Buffer.concat([this.partial, offset === 0 ? chunk : chunk.subarray(offset)]);
						offset = 0;
					}
					const end = findHeadEnd(chunk, offset);
					if (end < 0) {
						// Refused at once: a head with bare line ends may never get its CRLFCRLF.
						if (hasBareLineBreak(chunk, offset, offset + this.headChecked - 1)) {
							this.partial = undefined;
							this.fail(httpError('The dev server sent an invalid response: bare CR or LF in the response head'), true);
							return;
						}
						this.headChecked = chunk.length - offset;
						if (chunk.length - offset > MAX_HEAD_BYTES) {
							this.fail(httpError('The dev server sent a response head larger than 16 KiB.'), true);
						} else {
							// A copy: the read buffer may be reused before the rest arrives.
							this.partial = Buffer.from(chunk.subarray(offset));
						}
						return;
					}
					this.partial = undefined;
					this.headChecked = 0;
					let head: ResponseHead;
					let framing: Framing;
					try {
						head = parseResponseHead(chunk.toString('latin1', offset, end - 4));
						framing = responseFraming(head.rawHeaders, head.statusCode, this.method);
					} catch (error) {
						this.fail(httpError(`The dev server sent an invalid response: ${(error as Error).message}`), true);
						return;
					}
					offset = end;
					if (head.statusCode < 200) {
						// Requests on these connections never ask to upgrade (WebSockets go through their own), so a 101
						// would switch the connection to a protocol nobody asked for: a bad response, and the end of it.
						if (head.statusCode === 101) {
							this.fail(httpError('The dev server sent an invalid response: 101 Switching Protocols to a request that did not ask to upgrade'), true);
							return;
						}
						// 100 Continue, 102, 103 Early Hints: interim, the final response follows.
						continue;
					}
					this.readConnectionHeaders(head);
					if (framing.kind === 'close') { this.keepAlive = false; }
					this.state = framing.kind === 'length' ? State.Length : framing.kind === 'chunked' ? State.Chunked : framing.kind === 'close' ? State.Close : State.Done;
					if (framing.kind === 'length') { this.remaining = framing.length; }
					let early: Buffer[] | undefined;
					if (framing.kind === 'chunked') {
						const decoder = this.decoder = new ChunkedDecoder((data) => this.chunkData(data));
						if (offset < chunk.length) {
							// The body bytes that came with the head are decoded before the head goes on, so that
							// malformed framing in them (the whole body, for a small response) gets a clean 502.
							early = this.early = [];
							try {
								offset = decoder.push(chunk, offset);
							} catch (error) {
								this.early = undefined;
								this.fail(httpError(`The dev server sent an invalid chunked body: ${(error as Error).message}`), true);
								return;
							}
							this.early = undefined;
						}
					}
					sink!.upstreamHead(head, framing);
					if (early !== undefined) {
						// Views into this read: still valid, and held like any other (see hold()).
						for (let k = 0; k < early.length && this.sink !== undefined; k++) { this.sink.upstreamData(early[k]); }
						if (this.decoder!.done && this.sink !== undefined) {
							this.complete(offset < chunk.length);
							return;
						}
					}
					if (this.state === State.Done && this.sink !== undefined) {
						this.complete(offset < chunk.length);
						return;
					}
					break;
				}
				case State.Length: {
					const available = chunk.length - offset;
					const take = available < this.remaining ? available : this.remaining;
					this.remaining -= take;
					const data = offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
					offset += take;
					sink!.upstreamData(data);
					if (this.remaining === 0 && this.sink !== undefined) {
						this.complete(offset < chunk.length);
						return;
					}
					break;
				}
				case State.Chunked: {
					try {
						offset = this.decoder!.push(chunk, offset);
					} catch (error) {
						this.fail(httpError(`The dev server sent an invalid chunked body: ${(error as Error).message}`));
						return;
					}
					if (this.decoder!.done && this.sink !== undefined) {
						this.complete(offset < chunk.length);
						return;
					}
					break;
				}
				case State.Close:
					sink!.upstreamData(offset === 0 ? chunk : chunk.subarray(offset));
					return;
				default:
					// Bytes nobody asked for (or after an abort): the connection cannot be trusted any more.
					this.socket.destroy();
					return;
			}
			if (this.sink === undefined) { return; }
		}
	}

	/** A chunked body's payload bytes: to the sink, or kept while the first read's framing is checked. */
	private chunkData(data: Buffer): void {
		const early = this.early;
		if (early !== undefined) {
			early.push(data);
		} else {
			this.sink?.upstreamData(data);
		}
	}

	/**
	 * Connection and Keep-Alive of a response: HTTP/1.1 stays open unless `Connection: close`, HTTP/1.0
	 * only with `Connection: keep-alive`; a server's `Keep-Alive: timeout=N` shortens our idle limit
	 * (by a second, so that we never reuse a socket the server is closing).
	 */
	private readConnectionHeaders(head: ResponseHead): void {
		let keepAlive = head.httpVersion === '1.1';
		const raw = head.rawHeaders;
		for (let i = 0; i < raw.length; i += 2) {
			const name = raw[i];
			if (name.length !== 10) { continue; }
			const lower = name.toLowerCase();
			if (lower === 'connection') {
				const value = raw[i + 1].toLowerCase();
				if (value.includes('close')) {
					this.keepAlive = false;
					return;
				}
				if (value.includes('keep-alive')) { keepAlive = true; }
			} else if (lower === 'keep-alive') {
				const match = /timeout=(\d+)/i.exec(raw[i + 1]);
				if (match !== null) { this.idleLimitMs = Math.min(this.idleLimitMs, Number(match[1]) * 1000 - 1000); }
			}
		}
		this.keepAlive = keepAlive && this.idleLimitMs > 0;
	}

	/** The response is complete: back to the pool when the connection can be reused, then tell the sink. */
	private complete(extraBytes: boolean): void {
		const sink = this.sink!;
		this.sink = undefined;
		this.decoder = undefined;
		// Released before upstreamEnd so that a pipelined next request can take this same connection.
		if (this.keepAlive && this.requestDone && !extraBytes) {
			this.state = State.Idle;
			// Paused for a slow client during the last body bytes: the next exchange must hear its response.
			if (this.socket.isPaused()) { this.socket.resume(); }
			this.owner.release(this);
		} else {
			this.state = State.Done;
			this.socket.destroy();
		}
		sink.upstreamEnd();
	}

	/**
	 * `answered`: the dev server did send a response (an invalid one). The socket was not stale then,
	 * so it is not reported as reused: a retry would only run the request on the dev server twice.
	 */
	private fail(error: NodeJS.ErrnoException, answered = false): void {
		const sink = this.sink;
		this.sink = undefined;
		this.state = State.Done;
		this.socket.destroy();
		sink?.upstreamError(error, this.reused && !answered);
	}

	onClose(error: NodeJS.ErrnoException | undefined): void {
		this.owner.forget(this);
		if (this.sink === undefined) { return; }
		if (this.state === State.Close && error === undefined) {
			// A close-delimited body ends with the connection.
			const sink = this.sink;
			this.sink = undefined;
			this.state = State.Done;
			sink.upstreamEnd();
			return;
		}
		this.fail(error ?? socketHangUp(this.state === State.Head));
	}
}

function onData(this: Socket, chunk: Buffer): void {
	(this as Tagged)[kConnection].onData(chunk);
}

function onDrain(this: Socket): void {
	(this as Tagged)[kConnection].sink?.upstreamDrain();
}

function onError(this: Socket, error: NodeJS.ErrnoException): void {
	// Not every error destroys the socket (a TLS error after the handshake, on a TLS target, is only
	// emitted): destroyed here, so that a socket the pool forgets is never left open.
	this.destroy();
	(this as Tagged)[kConnection].onClose(error);
}

function onClose(this: Socket): void {
	(this as Tagged)[kConnection].onClose(undefined);
}

function httpError(message: string): NodeJS.ErrnoException {
	const error: NodeJS.ErrnoException = new Error(message);
	error.code = 'HPE_INVALID_RESPONSE';
	return error;
}

function socketHangUp(beforeResponse: boolean): NodeJS.ErrnoException {
	const error: NodeJS.ErrnoException = new Error(beforeResponse ? 'socket hang up' : 'the connection closed in the middle of the response');
	error.code = 'ECONNRESET';
	return error;
}
