/*
 * The llhttp oracle: what Node's own strict HTTP/1.1 parser (default options, no insecureHTTPParser,
 * default 16 KiB maxHeaderSize) makes of a byte string.
 *
 * - Requests go to a real `http.createServer()` over a plain TCP connection, followed by a FIN: every
 *   'request' it emits is a message, and its 'clientError' (or its own refusal of a missing Host) ends
 *   the sequence. The bodies are read off IncomingMessage#push, which the parser calls synchronously,
 *   so that a connection destroyed after an error still shows what was complete before it.
 * - Responses come from a raw `net` server that writes the bytes and closes, to a real `http.request`.
 *
 * The same request-side server type serves as the dev server behind the proxy (see driver.ts), so the
 * bytes the proxy forwards are judged by the same parser.
 */
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as net from 'node:net';

/** A message as llhttp delivered it. */
export interface ParsedRequest {
	readonly method: string;
	readonly url: string;
	readonly httpVersion: string;
	readonly rawHeaders: string[];
	readonly chunks: Buffer[];
	/** The parser saw the message's end. */
	complete: boolean;
	/** The server would read another request after this one. */
	readonly keepAlive: boolean;
}

export function bodyOf(message: ParsedRequest): Buffer {
	return Buffer.concat(message.chunks);
}

/** How llhttp ended a byte string of requests. */
export interface RequestVerdict {
	/** The complete messages a real server would act on, in order. */
	readonly messages: ParsedRequest[];
	/**
	 * clean: everything parsed (or the server stopped reading after a message without keep-alive);
	 * incomplete: the bytes end inside a message (HPE_INVALID_EOF_STATE at the FIN);
	 * refused: the next message is invalid (`code` says why).
	 */
	readonly end: 'clean' | 'incomplete' | 'refused';
	readonly code?: string;
	readonly reason?: string;
	/** A message whose head arrived but whose body did not end (incomplete or refused mid-body). */
	readonly partial?: ParsedRequest;
}

/** What one connection of the oracle's server saw. */
interface ConnectionLog {
	readonly messages: ParsedRequest[];
	code?: string;
	reason?: string;
	connect: boolean;
	/** Index (among the messages) of the first HTTP/1.1 request without Host. */
	missingHostAt?: number;
}

/** Node's llhttp binding (what its http client and server parse with), for raw parsing. */
interface HttpParserBinding {
	initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
	execute(data: Buffer): number | Error;
	finish(): undefined | Error;
	[key: number]: unknown;
}
interface HttpParserClass {
	new(): HttpParserBinding;
	readonly REQUEST: number;
	readonly RESPONSE: number;
	readonly kOnMessageBegin: number;
	readonly kOnHeaders: number;
	readonly kOnHeadersComplete: number;
	readonly kOnBody: number;
	readonly kOnMessageComplete: number;
}
export const { HTTPParser } = createRequire(__filename)('_http_common') as { HTTPParser: HttpParserClass };

/**
 * Whether llhttp, fed `bytes` and then their end, is left inside a message after `complete` whole ones.
 * Node's server does not report that (a head cut off after a kept-alive message ends without a
 * 'clientError'), but a proxy waiting for the rest of that head is right to.
 */
function endsInsideMessage(bytes: Buffer, complete: number): boolean {
	const parser = new HTTPParser();
	parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
	let begun = 0;
	let done = 0;
	parser[HTTPParser.kOnMessageBegin] = () => { begun++; };
	parser[HTTPParser.kOnHeadersComplete] = () => 0;
	parser[HTTPParser.kOnMessageComplete] = () => { done++; };
	if (parser.execute(bytes) instanceof Error) { return false; }
	const end = parser.finish();
	return done === complete && begun > done && end instanceof Error && (end as NodeJS.ErrnoException).code === 'HPE_INVALID_EOF_STATE';
}

/** Where a {@link requestParserServer} reports what it parsed, per connection. */
export interface ParseEvents {
	/** A message's head was parsed (its body and `complete` fill in as the parser goes on); returns its index. */
	message(socket: net.Socket, message: ParsedRequest): number;
	/** llhttp refused the connection's bytes (the first error only). */
	error(socket: net.Socket, code: string | undefined, reason: string): void;
	/** A CONNECT request: llhttp hands the connection over as a tunnel. */
	connect(socket: net.Socket): void;
	/** An HTTP/1.1 request without Host, which Node's server answers with its own 400 and does not emit. */
	missingHost(socket: net.Socket): void;
}

/** A real http.Server (default options) that reports what it parses; `respond` answers each complete message. */
export function requestParserServer(events: ParseEvents,
	respond: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void): http.Server {
	const server = http.createServer();
	const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
		const message: ParsedRequest = {
			method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, chunks: [], complete: false,
			keepAlive: res.shouldKeepAlive,
		};
		const index = events.message(req.socket, message);
		const push = req.push;
		req.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
			if (chunk === null) { message.complete = true; } else { message.chunks.push(Buffer.from(chunk as Buffer)); }
			return push.call(this, chunk, encoding);
		};
		req.resume();
		req.on('end', () => respond(req, res, index));
		req.on('error', () => { });
	};
	// Node's server refuses an HTTP/1.1 request without Host itself (RFC 9112 §3.2), after llhttp parsed it
	// and without an event: seen here, at the parser's hand-over of each request to the server.
	server.on('connection', (socket: net.Socket & { parser?: { onIncoming?: (req: http.IncomingMessage, keepAlive: boolean) => unknown } }) => {
		const parser = socket.parser;
		const onIncoming = parser?.onIncoming;
		if (parser === undefined || onIncoming === undefined) { return; }
		parser.onIncoming = function (req: http.IncomingMessage, keepAlive: boolean): unknown {
			if ((server as { requireHostHeader?: boolean }).requireHostHeader !== false && req.httpVersion === '1.1' && req.headers.host === undefined) { events.missingHost(socket); }
			return onIncoming.call(this, req, keepAlive);
		};
	});
	server.on('request', onRequest);
	// Expectations other than 100-continue are the server's business, not the parser's: served like any request.
	server.on('checkExpectation', onRequest);
	server.on('clientError', (error: NodeJS.ErrnoException & { reason?: string }, socket: net.Socket) => {
		events.error(socket, error.code, error.reason ?? error.message);
		socket.destroy();
	});
	// CONNECT: no server without a 'connect' listener serves it.
	server.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
		events.connect(socket);
		socket.destroy();
	});
	return server;
}

/** Turns a connection's log into a verdict. */
function verdictOf(log: ConnectionLog): RequestVerdict {
	const hostRefusedAt = log.missingHostAt;
	const messages: ParsedRequest[] = [];
	for (let i = 0; i < log.messages.length; i++) {
		const message = log.messages[i];
		if (hostRefusedAt !== undefined && i >= hostRefusedAt) { break; }
		if (!message.complete) {
			const incomplete = log.code === undefined || log.code === 'HPE_INVALID_EOF_STATE';
			return { messages, end: incomplete ? 'incomplete' : 'refused', code: log.code, reason: log.reason, partial: message };
		}
		messages.push(message);
		// A server closes after a message without keep-alive; llhttp refuses whatever follows (HPE_CLOSED_CONNECTION).
		if (!message.keepAlive) { return { messages, end: 'clean' }; }
	}
	if (hostRefusedAt !== undefined) { return { messages, end: 'refused', code: 'MISSING_HOST', reason: 'HTTP/1.1 request without Host (Node answers 400)' }; }
	if (log.connect) { return { messages, end: 'refused', code: 'CONNECT', reason: 'CONNECT: no tunnel is served' }; }
	if (log.code === 'HPE_INVALID_EOF_STATE') { return { messages, end: 'incomplete', code: log.code, reason: log.reason }; }
	if (log.code !== undefined) { return { messages, end: 'refused', code: log.code, reason: log.reason }; }
	return { messages, end: 'clean' };
}

/** The llhttp verdict on request byte strings, through one real http.Server. */
export class RequestOracle {
	private readonly logs = new Map<number, ConnectionLog>();
	private readonly server = requestParserServer({
		message: (socket, message) => (this.logFor(socket)?.messages.push(message) ?? 0) - 1,
		error: (socket, code, reason) => {
			const log = this.logFor(socket);
			if (log !== undefined && log.code === undefined) {
				log.code = code;
				log.reason = reason;
			}
		},
		connect: (socket) => {
			const log = this.logFor(socket);
			if (log !== undefined) { log.connect = true; }
		},
		missingHost: (socket) => {
			const log = this.logFor(socket);
			if (log !== undefined) { log.missingHostAt ??= log.messages.length; }
		},
	}, (_req, res) => {
		// With a length, as the proxy's answers have one: without it Node closes an HTTP/1.0 keep-alive
		// connection after its response, and llhttp would never read the messages after it.
		res.setHeader('Content-Length', 2);
		res.end('ok');
	});
	private port = 0;

	async start(): Promise<void> {
		await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as net.AddressInfo).port;
	}

	private logFor(socket: net.Socket): ConnectionLog | undefined {
		const port = socket.remotePort;
		if (port === undefined) { return undefined; }
		let log = this.logs.get(port);
		if (log === undefined) {
			log = { messages: [], connect: false };
			this.logs.set(port, log);
		}
		return log;
	}

	/** Sends `bytes` and a FIN on a new connection; resolves once the server has closed it. */
	judge(bytes: Buffer): Promise<RequestVerdict> {
		return new Promise((resolve, reject) => {
			const socket = net.connect({ port: this.port, host: '127.0.0.1' });
			let localPort: number | undefined;
			const timer = setTimeout(() => socket.destroy(new Error('oracle: the server did not close the connection within 5 s')), 5000);
			socket.on('connect', () => {
				localPort = socket.localPort;
				socket.end(bytes);
			});
			socket.resume();
			socket.on('error', (error: NodeJS.ErrnoException) => {
				// The server resetting a connection it refused is an answer, not a failure of the oracle.
				if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') { reject(error); }
			});
			socket.on('close', () => {
				clearTimeout(timer);
				// The server's side of the events may still be queued behind our 'close'.
				setImmediate(() => {
					const log = (localPort !== undefined ? this.logs.get(localPort) : undefined) ?? { messages: [], connect: false };
					if (localPort !== undefined) { this.logs.delete(localPort); }
					const verdict = verdictOf(log);
					resolve(verdict.end === 'clean' && endsInsideMessage(bytes, verdict.messages.length)
						? { messages: verdict.messages, end: 'incomplete', code: 'HPE_INVALID_EOF_STATE', reason: 'the bytes end inside a message (raw llhttp)' } : verdict);
				});
			});
		});
	}

	close(): Promise<void> {
		this.server.closeAllConnections();
		return new Promise((resolve) => this.server.close(() => resolve()));
	}
}

/** How Node's http client took a response. */
export interface ResponseVerdict {
	/** Interim (1xx) responses before the final one. */
	readonly info: number[];
	readonly status?: number;
	readonly statusMessage?: string;
	readonly rawHeaders?: string[];
	readonly body: Buffer;
	/** The final response's end was seen. */
	readonly complete: boolean;
	/** The request's error, if any (HPE_* for a parse error, ECONNRESET for a cut-off body). */
	readonly code?: string;
	/** A 101 Switching Protocols: llhttp hands the socket over, as an upgrade nobody asked for. */
	readonly upgrade: boolean;
}

/** Collects a response from an http(s) request: the bodies off IncomingMessage#push, as for requests. */
export function collectResponse(req: http.ClientRequest, timeoutMs = 5000): Promise<ResponseVerdict> {
	return new Promise((resolve) => {
		const info: number[] = [];
		const chunks: Buffer[] = [];
		let response: http.IncomingMessage | undefined;
		let complete = false;
		let code: string | undefined;
		let upgrade = false;
		let finished = false;
		const finish = (): void => {
			if (finished) { return; }
			finished = true;
			clearTimeout(timer);
			setImmediate(() => resolve({
				info, status: response?.statusCode, statusMessage: response?.statusMessage, rawHeaders: response?.rawHeaders, body: Buffer.concat(chunks),
				complete, code, upgrade,
			}));
		};
		const timer = setTimeout(() => {
			code ??= 'TIMEOUT';
			req.destroy();
			finish();
		}, timeoutMs);
		req.on('information', (message: { statusCode: number }) => info.push(message.statusCode));
		req.on('upgrade', (_res: http.IncomingMessage, socket: net.Socket) => {
			upgrade = true;
			socket.destroy();
			finish();
		});
		req.on('response', (res: http.IncomingMessage) => {
			response = res;
			const push = res.push;
			res.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
				if (chunk === null) { complete = true; } else { chunks.push(Buffer.from(chunk as Buffer)); }
				return push.call(this, chunk, encoding);
			};
			res.on('error', (error: NodeJS.ErrnoException) => { code ??= error.code ?? error.message; });
			res.on('close', finish);
			res.resume();
		});
		req.on('error', (error: NodeJS.ErrnoException) => {
			code ??= error.code ?? error.message;
			if (response === undefined) { finish(); }
		});
		req.on('close', () => { if (response === undefined) { finish(); } });
	});
}

/** The llhttp verdict on response byte strings: a raw server writes them to a real http.request. */
export class ResponseOracle {
	private readonly pending = new Map<string, Buffer>();
	private readonly server = net.createServer((socket) => {
		let head = '';
		let answered = false;
		socket.on('error', () => { });
		socket.on('data', (chunk: Buffer) => {
			if (answered) { return; }
			head += chunk.toString('latin1');
			if (!head.includes('\r\n\r\n')) { return; }
			answered = true;
			const id = /^[A-Z]+ \/case\/(\d+) /.exec(head)?.[1];
			const bytes = id === undefined ? undefined : this.pending.get(id);
			if (bytes === undefined) {
				socket.destroy();
			} else {
				socket.end(bytes);
			}
		});
	});
	private port = 0;
	private nextId = 0;

	async start(): Promise<void> {
		await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as net.AddressInfo).port;
	}

	judge(method: string, bytes: Buffer): Promise<ResponseVerdict> {
		const id = String(this.nextId++);
		this.pending.set(id, bytes);
		const req = http.request({ host: '127.0.0.1', port: this.port, method, path: `/case/${id}`, agent: false });
		req.end();
		return collectResponse(req).finally(() => this.pending.delete(id));
	}

	close(): Promise<void> {
		return new Promise((resolve) => this.server.close(() => resolve()));
	}
}
