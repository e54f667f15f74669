import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import { ProxyServer } from '../../../src/core/proxy';
import { delay, makeCa, memoryLogger, waitFor, type TestCa } from './helpers';

/*
 * HTTP/2 abuse (issue 14): each attack runs from a client that writes raw frames on a TLS socket
 * with ALPN h2, while a well-behaved HTTP/2 client keeps making requests on a session of its own. A
 * counting dev server tells what reached it. Timeouts are shortened (idleTimeoutMs) so that every
 * disconnect happens within a test's time; memory and CPU are this process's deltas (the proxy, the
 * dev server and the clients all run in it), printed per attack. bench/http2Abuse.bench.mjs measures
 * the proxy alone, in a process of its own.
 */

const IDLE_MS = 1000;
/** A well-behaved request on another session must not take longer than this while an attack runs. */
const LATENCY_BOUND_MS = 750;

const enum Type { Data = 0, Headers = 1, RstStream = 3, Settings = 4, Ping = 6, Goaway = 7, WindowUpdate = 8, Continuation = 9 }
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const CANCEL = 0x8;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;

/** One frame: the 9-byte header and its payload. */
function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(streamId, 5);
	return Buffer.concat([header, payload]);
}

/** An HPACK string literal, no Huffman (lengths below 127). */
function hpackString(text: string): Buffer {
	assert.ok(text.length < 127);
	return Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
}

/** A request header block: static-table method and scheme, literal :path and :authority, no dynamic table. */
function requestBlock(path: string, authority: string, method: 'GET' | 'POST' = 'GET'): Buffer {
	return Buffer.concat([
		Buffer.from([method === 'GET' ? 0x82 : 0x83, 0x87]),
		Buffer.from([0x04]), hpackString(path),
		Buffer.from([0x01]), hpackString(authority),
	]);
}

function settings(entries: Array<[number, number]>): Buffer {
	const payload = Buffer.alloc(entries.length * 6);
	entries.forEach(([id, value], i) => { payload.writeUInt16BE(id, i * 6); payload.writeUInt32BE(value, i * 6 + 2); });
	return frame(Type.Settings, 0, 0, payload);
}

function rstStream(streamId: number, code: number): Buffer {
	const payload = Buffer.alloc(4);
	payload.writeUInt32BE(code);
	return frame(Type.RstStream, 0, streamId, payload);
}

interface Received { readonly type: number; readonly flags: number; readonly streamId: number; readonly payload: Buffer }

/**
 * A client that speaks HTTP/2 by hand: preface and SETTINGS (plus `settings`), then whatever the test
 * writes. With `read: false` it never reads the socket; whether the proxy closed it is then found out
 * by writing (see probe()).
 */
class RawClient {
	readonly socket: tls.TLSSocket;
	/** Frames received, except DATA and PING/SETTINGS acknowledgements (counted instead). */
	readonly frames: Received[] = [];
	dataBytes = 0;
	/** The first KiB of DATA of each stream, as text. */
	readonly text = new Map<number, string>();
	acks = 0;
	/** The first GOAWAY received. */
	goaway: { lastStreamId: number; code: number } | undefined;
	closedAt: number | undefined;
	readonly ready: Promise<void>;
	readonly closed: Promise<void>;
	private pending: Buffer = Buffer.alloc(0);

	constructor(port: number, ca: string, options: { settings?: Array<[number, number]>; read?: boolean } = {}) {
		this.socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['h2'] });
		this.socket.on('error', () => { });
		this.closed = new Promise((resolve) => this.socket.once('close', () => { this.closedAt = performance.now(); resolve(); }));
		this.ready = new Promise((resolve, reject) => {
			this.socket.once('secureConnect', () => {
				if (this.socket.alpnProtocol !== 'h2') { reject(new Error(`the proxy chose ${String(this.socket.alpnProtocol)}`)); return; }
				this.socket.write(Buffer.concat([PREFACE, settings(options.settings ?? [])]));
				if (options.read === false) { this.socket.pause(); }
				resolve();
			});
			this.socket.once('close', () => reject(new Error('closed before the handshake')));
		});
		if (options.read !== false) { this.socket.on('data', (chunk: Buffer) => this.onData(chunk)); }
	}

	get isClosed(): boolean { return this.closedAt !== undefined; }

	write(data: Buffer): void {
		if (!this.socket.destroyed) { this.socket.write(data); }
	}

	/** Writes `data` unless more than `limit` bytes are waiting in our own send buffer (the proxy stopped reading). */
	writeUnlessBlocked(data: Buffer, limit = 1 << 20): boolean {
		if (this.socket.destroyed || this.socket.writableLength > limit) { return false; }
		this.socket.write(data);
		return true;
	}

	/** For a client that does not read: a write fails (RST) once the proxy has closed its end. */
	probe(): void {
		this.write(frame(Type.WindowUpdate, 0, 0, Buffer.from([0, 0, 0, 1])));
	}

	/** Waits until the socket closed (probing every 50 ms when `probe`), at most `ms`; false on timeout. */
	async waitClosed(ms: number, probe = false): Promise<boolean> {
		const deadline = performance.now() + ms;
		while (!this.isClosed && performance.now() < deadline) {
			if (probe) { this.probe(); }
			await Promise.race([this.closed, delay(50)]);
		}
		return this.isClosed;
	}

	resets(code?: number): Received[] {
		return this.frames.filter((f) => f.type === Type.RstStream && (code === undefined || f.payload.readUInt32BE(0) === code));
	}

	/** The response HEADERS frames received (header blocks left encoded). */
	responseHeaders(): Received[] {
		return this.frames.filter((f) => f.type === Type.Headers);
	}

	destroy(): void {
		this.socket.destroy();
	}

	private onData(chunk: Buffer): void {
		let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
		while (buffer.length >= 9) {
			const length = buffer.readUIntBE(0, 3);
			if (buffer.length < 9 + length) { break; }
			const f: Received = { type: buffer[3], flags: buffer[4], streamId: buffer.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buffer.subarray(9, 9 + length)) };
			buffer = buffer.subarray(9 + length);
			if (f.type === Type.Data) {
				this.dataBytes += length;
				const text = this.text.get(f.streamId) ?? '';
				if (text.length < 1024) { this.text.set(f.streamId, text + f.payload.toString('latin1', 0, 1024 - text.length)); }
			} else if ((f.type === Type.Ping || f.type === Type.Settings) && (f.flags & ACK) !== 0) {
				this.acks++;
			} else {
				if (f.type === Type.Goaway && this.goaway === undefined) { this.goaway = { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) }; }
				this.frames.push(f);
			}
		}
		this.pending = buffer;
	}
}

/** A plain-HTTP dev server that counts what reaches it, per path. */
interface CountingServer {
	readonly port: number;
	/** Requests received, by path. */
	readonly requests: Map<string, number>;
	/** Requests whose connection closed before their response was complete, by path. */
	readonly aborted: Map<string, number>;
	/** Connections accepted. */
	connections: number;
	close(): Promise<void>;
}

const BIG_BYTES = 4 * 1024 * 1024;

async function startCountingServer(): Promise<CountingServer> {
	const requests = new Map<string, number>();
	const aborted = new Map<string, number>();
	const bump = (map: Map<string, number>, key: string): void => { map.set(key, (map.get(key) ?? 0) + 1); };
	const chunk = Buffer.alloc(64 * 1024, 0x61);
	const server = http.createServer((req, res) => {
		const path = new URL(req.url!, 'http://dev').pathname;
		bump(requests, path);
		res.on('close', () => { if (!res.writableFinished) { bump(aborted, path); } });
		switch (path) {
			case '/hello':
				res.end('hello');
				return;
			case '/hang':
				// Never answers: only the proxy cancelling the request ends it.
				return;
			case '/big': {
				// `?kib=N`: N KiB instead of BIG_BYTES (a multiple of 64).
				const size = Number(new URL(req.url!, 'http://dev').searchParams.get('kib') ?? BIG_BYTES / 1024) * 1024;
				res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
				let sent = 0;
				// One 64 KiB chunk per event-loop turn, as a file stream sends it (a loop writing until the socket
				// pushes back puts megabytes into loopback's kernel buffers per response, blocking this server).
				const more = (): void => {
					if (res.destroyed) { return; }
					if (sent >= size) {
						res.end();
						return;
					}
					sent += chunk.length;
					if (res.write(chunk)) {
						setImmediate(more);
					} else {
						res.once('drain', more);
					}
				};
				more();
				return;
			}
			case '/upload': {
				let size = 0;
				req.on('data', (data: Buffer) => { size += data.length; });
				req.on('end', () => res.end(`uploaded ${size}`));
				return;
			}
			default:
				res.writeHead(404);
				res.end();
		}
	});
	const counting: CountingServer = {
		port: 0, requests, aborted, connections: 0,
		close: () => {
			server.closeAllConnections();
			return new Promise((resolve) => server.close(() => resolve()));
		},
	};
	server.on('connection', (socket: Socket) => {
		counting.connections++;
		socket.on('error', () => { });
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return Object.assign(counting, { port: (server.address() as AddressInfo).port });
}

/** This process's CPU time and memory from now on; peak RSS sampled every 20 ms. */
class Meter {
	private readonly cpu = process.cpuUsage();
	private readonly start = process.memoryUsage();
	private peakRss = this.start.rss;
	private peakHeap = this.start.heapUsed + this.start.external;
	private readonly timer = setInterval(() => this.sample(), 20);

	sample(): void {
		const now = process.memoryUsage();
		this.peakRss = Math.max(this.peakRss, now.rss);
		this.peakHeap = Math.max(this.peakHeap, now.heapUsed + now.external);
	}

	/** Stops sampling and prints one line (numbers per abusive connection). */
	report(what: string, connections = 1): string {
		clearInterval(this.timer);
		this.sample();
		const cpu = process.cpuUsage(this.cpu);
		const mib = (bytes: number): string => (bytes / connections / 2 ** 20).toFixed(1);
		const line = `${what}: this process (proxy, dev server, clients) CPU ${((cpu.user + cpu.system) / 1000 / connections).toFixed(0)} ms, peak RSS +${mib(this.peakRss - this.start.rss)} MiB, peak heap+external +${mib(this.peakHeap - this.start.heapUsed - this.start.external)} MiB per abusive connection`;
		console.log(`      [measured] ${line}`);
		return line;
	}
}

describe('proxy: HTTP/2 abuse', function () {
	this.timeout(10_000);
	let ca: TestCa;
	let dev: CountingServer;
	let proxy: ProxyServer;
	let port: number;
	let authority: string;
	const logs: string[] = [];
	/** The well-behaved client's session, opened before each attack. */
	let good: http2.ClientHttp2Session;
	const abusers: RawClient[] = [];

	before(async () => {
		ca = await makeCa();
		dev = await startCountingServer();
		proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, host: '127.0.0.1', idleTimeoutMs: IDLE_MS, logger: memoryLogger(logs) });
		port = (await proxy.start()).port;
		authority = `localhost:${port}`;
	});
	after(async () => {
		await proxy?.stop();
		await dev?.close();
	});
	beforeEach(async () => {
		good = connectGood();
		await get(good, '/hello');
	});
	afterEach(async () => {
		// Whatever the abuser did, a new client is served.
		const fresh = http2.connect(`https://localhost:${port}`, { ca: ca.caPem, host: '127.0.0.1' });
		try {
			assert.equal((await get(fresh, '/hello')).status, 200);
		} finally {
			fresh.close();
			good.close();
			for (const abuser of abusers.splice(0)) { abuser.destroy(); }
		}
	});

	function abuser(options: ConstructorParameters<typeof RawClient>[2] = {}): RawClient {
		const client = new RawClient(port, ca.caPem, options);
		abusers.push(client);
		return client;
	}

	/** A GET on `session`; rejects after 5 s. */
	function get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string; ms: number }> {
		const start = performance.now();
		return new Promise((resolve, reject) => {
			const stream = session.request({ ':path': path });
			const timer = setTimeout(() => { stream.close(); reject(new Error(`${path} took over 5 s`)); }, 5000);
			let status = 0;
			let body = '';
			stream.on('response', (headers) => { status = Number(headers[':status']); });
			stream.setEncoding('utf8');
			stream.on('data', (text: string) => { body += text; });
			stream.on('end', () => { clearTimeout(timer); resolve({ status, body, ms: performance.now() - start }); });
			stream.on('error', (error) => { clearTimeout(timer); reject(error); });
		});
	}

	function connectGood(): http2.ClientHttp2Session {
		const session = http2.connect(`https://localhost:${port}`, { ca: ca.caPem, host: '127.0.0.1' });
		session.on('error', () => { });
		return session;
	}

	/**
	 * Makes well-behaved requests one after the other on the good session until `until` settles; each
	 * must succeed within the latency bound. Like a browser, the client connects again when the proxy
	 * has closed its connection (the short idle timeout closes one left alone while the attack starts).
	 * Returns the latencies.
	 */
	async function serveMeanwhile(until: Promise<unknown>): Promise<number[]> {
		let over = false;
		void until.finally(() => { over = true; });
		const latencies: number[] = [];
		do {
			if (good.closed || good.destroyed) {
				good.close();
				good = connectGood();
			}
			const reply = await get(good, '/hello').catch((error: unknown) => {
				// The proxy closed the shared session for idleness (GOAWAY) while this request was on its way:
				// a refused stream was not processed, and a client retries it on a new connection (RFC 9113
				// §8.7), as browsers do.
				if (!refusedUnprocessed(error)) throw error;
				good.close();
				good = connectGood();
				return get(good, '/hello');
			});
			assert.equal(reply.status, 200);
			assert.equal(reply.body, 'hello');
			latencies.push(reply.ms);
			await delay(20);
		} while (!over);
		assert.ok(Math.max(...latencies) < LATENCY_BOUND_MS, `well-behaved requests during the attack took ${latencies.map((ms) => ms.toFixed(0)).join(', ')} ms`);
		return latencies;
	}

	const count = (map: Map<string, number>, path: string): number => map.get(path) ?? 0;
	const refusedUnprocessed = (error: unknown): boolean => {
		const { code, message } = error as { code?: string; message?: string };
		return code === 'ERR_HTTP2_GOAWAY_SESSION' || (code === 'ERR_HTTP2_STREAM_ERROR' && /NGHTTP2_REFUSED_STREAM/.test(message ?? ''));
	};

	it('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM thousands of times gets GOAWAY and the socket closed; the dev server sees few of the requests', async () => {
		const meter = new Meter();
		const before = count(dev.requests, '/hang');
		const client = abuser();
		await client.ready;
		const started = performance.now();
		let streams = 0;
		const block = requestBlock('/hang', authority);
		const attack = (async () => {
			// Batches of 100 pairs, one per event-loop turn, for up to 3 s or until the proxy hangs up.
			while (!client.isClosed && performance.now() - started < 3000 && streams < 100_000) {
				const batch: Buffer[] = [];
				for (let i = 0; i < 100; i++) {
					const id = 1 + 2 * streams++;
					batch.push(frame(Type.Headers, END_STREAM | END_HEADERS, id, block), rstStream(id, CANCEL));
				}
				if (!client.writeUnlessBlocked(Buffer.concat(batch))) { streams -= 100; }
				await new Promise((resolve) => setImmediate(resolve));
			}
		})();
		const latencies = await serveMeanwhile(attack);
		assert.ok(await client.waitClosed(2000), `the abuser is still connected ${(performance.now() - started).toFixed(0)} ms after it started (GOAWAY ${JSON.stringify(client.goaway)})`);
		const closedAfter = client.closedAt! - started;
		const reached = count(dev.requests, '/hang') - before;
		// Whatever reached the dev server was cancelled.
		await waitFor(() => count(dev.aborted, '/hang') === count(dev.requests, '/hang'), 2000, 'the dev server to see every /hang request aborted');
		const line = meter.report(`rapid reset (${streams} streams sent, ${reached} reached the dev server, closed after ${closedAfter.toFixed(0)} ms, GOAWAY ${client.goaway?.code})`);
		assert.equal(client.goaway?.code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, line);
		assert.ok(closedAfter < 1000, line);
		assert.ok(reached < 300, line);
		assert.ok(latencies.length > 0);
	});

	it('a reset stream\'s upstream request is cancelled: the dev server sees it aborted', async () => {
		const client = abuser();
		await client.ready;
		const before = count(dev.requests, '/hang');
		const abortedBefore = count(dev.aborted, '/hang');
		const ids = Array.from({ length: 20 }, (_, i) => 1 + 2 * i);
		client.write(Buffer.concat(ids.map((id) => frame(Type.Headers, END_STREAM | END_HEADERS, id, requestBlock('/hang', authority)))));
		await waitFor(() => count(dev.requests, '/hang') - before === 20, 3000, 'the dev server to get the 20 requests');
		client.write(Buffer.concat(ids.map((id) => rstStream(id, CANCEL))));
		await waitFor(() => count(dev.aborted, '/hang') - abortedBefore === 20, 2000, 'the dev server to see the 20 requests aborted');
		// A browser cancelling some requests is not abuse: the session still serves.
		client.write(frame(Type.Headers, END_STREAM | END_HEADERS, 41, requestBlock('/hello', authority)));
		await waitFor(() => client.frames.some((f) => f.type === Type.Headers && f.streamId === 41), 2000, 'a response on the same connection');
		assert.equal(client.isClosed, false);
	});

	it('more streams than SETTINGS_MAX_CONCURRENT_STREAMS: refused, the dev server sees at most the limit', async () => {
		const client = abuser();
		await client.ready;
		await waitFor(() => client.frames.some((f) => f.type === Type.Settings), 2000, 'the proxy\'s SETTINGS');
		const advertised = client.frames.find((f) => f.type === Type.Settings)!;
		let limit: number | undefined;
		for (let i = 0; i + 6 <= advertised.payload.length; i += 6) {
			if (advertised.payload.readUInt16BE(i) === SETTINGS_MAX_CONCURRENT_STREAMS) { limit = advertised.payload.readUInt32BE(i + 2); }
		}
		assert.equal(limit, 128, 'SETTINGS_MAX_CONCURRENT_STREAMS');
		// Acknowledge the proxy's SETTINGS: from then on, a stream over the limit is a connection error.
		client.write(frame(Type.Settings, ACK, 0));
		await delay(50);
		const before = count(dev.requests, '/hang');
		const meter = new Meter();
		const block = requestBlock('/hang', authority);
		client.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(Type.Headers, END_STREAM | END_HEADERS, 1 + 2 * i, block))));
		await serveMeanwhile(client.waitClosed(3000));
		assert.ok(client.isClosed, 'the client that went over the limit is disconnected');
		await delay(100);
		const reached = count(dev.requests, '/hang') - before;
		meter.report(`1000 streams at once (${reached} reached the dev server, GOAWAY ${client.goaway?.code})`);
		assert.ok(reached <= 128, `${reached} requests reached the dev server`);
		// nghttp2 fails the session (a protocol error); Node closes the socket, mostly before its GOAWAY is out.
		assert.ok(client.goaway === undefined || client.goaway.code !== http2.constants.NGHTTP2_NO_ERROR, JSON.stringify(client.goaway));
		assert.match(logs.join('\n'), /HTTP\/2 session error: Protocol error/);
		await waitFor(() => count(dev.aborted, '/hang') === count(dev.requests, '/hang'), 2000, 'the dev server to see every /hang request aborted');
	});

	it('CONTINUATION flood: HEADERS without END_HEADERS, then CONTINUATION frames without end, gets GOAWAY and the socket closed', async () => {
		const meter = new Meter();
		const client = abuser();
		await client.ready;
		const started = performance.now();
		const before = count(dev.requests, '/flood');
		client.write(frame(Type.Headers, END_STREAM, 1, requestBlock('/flood', authority)));
		// Each a valid header field (literal, new name), 16 KiB of them per frame.
		const field = Buffer.concat([Buffer.from([0x00]), hpackString('x-flood'), hpackString('v'.repeat(100))]);
		const continuation = frame(Type.Continuation, 0, 1, Buffer.concat(Array.from({ length: Math.floor(16384 / field.length) }, () => field)));
		const attack = (async () => {
			while (!client.isClosed && performance.now() - started < 3000) {
				client.writeUnlessBlocked(Buffer.concat(Array.from({ length: 16 }, () => continuation)));
				await new Promise((resolve) => setImmediate(resolve));
			}
		})();
		await serveMeanwhile(attack);
		const closedAfter = client.closedAt === undefined ? undefined : client.closedAt - started;
		meter.report(`CONTINUATION flood (closed after ${closedAfter?.toFixed(0)} ms, GOAWAY ${client.goaway?.code})`);
		assert.ok(closedAfter !== undefined && closedAfter < 1000, `closed after ${closedAfter} ms`);
		assert.ok(client.goaway !== undefined, 'GOAWAY');
		assert.equal(count(dev.requests, '/flood'), before, 'the unfinished request never reaches the dev server');
	});

	for (const kind of ['SETTINGS', 'PING'] as const) {
		it(`${kind} flood without reading the ACKs: the proxy stops reading and closes the connection`, async () => {
			const meter = new Meter();
			const client = abuser({ read: false });
			await client.ready;
			const started = performance.now();
			const one = kind === 'SETTINGS' ? frame(Type.Settings, 0, 0) : frame(Type.Ping, 0, 0, Buffer.alloc(8));
			const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
			let sent = 0;
			const attack = (async () => {
				while (!client.isClosed && performance.now() - started < 5000) {
					if (client.writeUnlessBlocked(batch)) { sent += 1000; }
					await delay(sent % 100_000 === 0 ? 1 : 0);
				}
			})();
			await serveMeanwhile(attack);
			const closedAfter = client.closedAt === undefined ? undefined : client.closedAt - started;
			meter.report(`${kind} flood (${sent} frames written, closed after ${closedAfter?.toFixed(0)} ms)`);
			assert.ok(closedAfter !== undefined && closedAfter < 4 * IDLE_MS, `closed after ${closedAfter} ms`);
		});
	}

	it('a client whose receive window stays 0 (never WINDOW_UPDATE) while asking for big responses: streams reset, upstream cancelled, connection closed', async () => {
		const meter = new Meter();
		const before = count(dev.requests, '/big');
		const abortedBefore = count(dev.aborted, '/big');
		const client = abuser({ settings: [[SETTINGS_INITIAL_WINDOW_SIZE, 0]] });
		await client.ready;
		const started = performance.now();
		const block = requestBlock('/big', authority);
		client.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(Type.Headers, END_STREAM | END_HEADERS, 1 + 2 * i, block))));
		await waitFor(() => count(dev.requests, '/big') - before === 100, 3000, 'the 100 requests to reach the dev server');
		await serveMeanwhile(client.waitClosed(4 * IDLE_MS + 1000));
		const closedAfter = client.closedAt === undefined ? undefined : client.closedAt - started;
		meter.report(`receive window 0, 100 × 4 MiB asked (closed after ${closedAfter?.toFixed(0)} ms, ${client.resets(CANCEL).length} streams cancelled, GOAWAY ${client.goaway?.code})`);
		assert.equal(client.dataBytes, 0);
		assert.equal(client.resets(CANCEL).length, 100, 'every stuck stream is reset (CANCEL)');
		assert.ok(closedAfter !== undefined, 'the connection is closed');
		await waitFor(() => count(dev.aborted, '/big') - abortedBefore === 100, 2000, 'the dev server to see the 100 downloads aborted');
	});

	it('a client that never reads its socket while asking for big responses: upstream cancelled, connection closed', async () => {
		const meter = new Meter();
		const before = count(dev.requests, '/big');
		const abortedBefore = count(dev.aborted, '/big');
		const client = abuser({ read: false });
		await client.ready;
		const started = performance.now();
		const block = requestBlock('/big', authority);
		client.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(Type.Headers, END_STREAM | END_HEADERS, 1 + 2 * i, block))));
		await waitFor(() => count(dev.requests, '/big') - before === 100, 3000, 'the 100 requests to reach the dev server');
		// Stall timeout, then the idle timeout, then the linger before the socket is destroyed.
		await serveMeanwhile(client.waitClosed(7000, true));
		const closedAfter = client.closedAt === undefined ? undefined : client.closedAt - started;
		meter.report(`socket never read, 100 × 4 MiB asked (closed after ${closedAfter?.toFixed(0)} ms)`);
		assert.ok(closedAfter !== undefined, 'the connection is closed');
		await waitFor(() => count(dev.aborted, '/big') - abortedBefore === 100, 2000, 'the dev server to see the 100 downloads aborted');
	});

	it('request bodies that never end (DATA without END_STREAM, then silence), receive window 0: 408, upstream cancelled, connection closed', async () => {
		const meter = new Meter();
		const before = count(dev.requests, '/upload');
		const abortedBefore = count(dev.aborted, '/upload');
		// The window of 0 too: the 408 must not wait for room the client never makes.
		const client = abuser({ settings: [[SETTINGS_INITIAL_WINDOW_SIZE, 0]] });
		await client.ready;
		const started = performance.now();
		const block = requestBlock('/upload', authority, 'POST');
		const data = Buffer.alloc(1024, 0x62);
		client.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => [frame(Type.Headers, END_HEADERS, 1 + 2 * i, block), frame(Type.Data, 0, 1 + 2 * i, data)]).flat()));
		await waitFor(() => count(dev.requests, '/upload') - before === 100, 3000, 'the 100 uploads to reach the dev server');
		await serveMeanwhile(client.waitClosed(4 * IDLE_MS + 1000));
		const closedAfter = client.closedAt === undefined ? undefined : client.closedAt - started;
		const answered = client.responseHeaders().length;
		meter.report(`100 request bodies that never end (closed after ${closedAfter?.toFixed(0)} ms, ${answered} answered)`);
		// HPACK's static table has no 408: the status goes as a literal.
		assert.equal(answered, 100, 'every stuck upload is answered');
		// HPACK has no 408 in its static table: the first response carries it as a literal (the others
		// refer to it in the dynamic table). No body (END_STREAM on the HEADERS), then RST_STREAM(NO_ERROR).
		assert.ok(client.responseHeaders()[0].payload.includes(Buffer.from('408')), 'with 408');
		assert.ok(client.responseHeaders().every((f) => (f.flags & END_STREAM) !== 0), 'without a body');
		assert.equal(client.resets(http2.constants.NGHTTP2_NO_ERROR).length, 100, 'RST_STREAM(NO_ERROR) after each');
		assert.ok(closedAfter !== undefined, 'the connection is closed');
		await waitFor(() => count(dev.aborted, '/upload') - abortedBefore === 100, 2000, 'the dev server to see the 100 uploads aborted');
	});

	it('slow but steady clients are not cut off: a download read with pauses shorter than the timeout, an upload sent the same way', async () => {
		const session = http2.connect(`https://localhost:${port}`, { ca: ca.caPem, host: '127.0.0.1' });
		session.on('error', () => { });
		try {
			const pause = IDLE_MS * 0.6;
			const download = new Promise<number>((resolve, reject) => {
				const stream = session.request({ ':path': '/big?kib=256' });
				let received = 0;
				let sincePause = 0;
				stream.on('data', (chunk: Buffer) => {
					received += chunk.length;
					sincePause += chunk.length;
					// 64 KiB, then nothing for most of the stall timeout: the proxy's writes wait for us each time.
					if (sincePause >= 64 * 1024) {
						sincePause = 0;
						stream.pause();
						setTimeout(() => stream.resume(), pause);
					}
				});
				stream.on('end', () => resolve(received));
				stream.on('error', reject);
				stream.on('close', () => reject(new Error(`the download was reset (${stream.rstCode}) after ${received} bytes`)));
			});
			const upload = new Promise<string>((resolve, reject) => {
				const stream = session.request({ ':method': 'POST', ':path': '/upload' });
				let text = '';
				stream.setEncoding('utf8');
				stream.on('data', (chunk: string) => { text += chunk; });
				stream.on('end', () => resolve(text));
				stream.on('error', reject);
				stream.on('close', () => reject(new Error(`the upload was reset (${stream.rstCode}): ${text}`)));
				let chunks = 0;
				const next = (): void => {
					if (++chunks > 4) {
						stream.end();
						return;
					}
					stream.write(Buffer.alloc(1024, 0x63));
					setTimeout(next, pause);
				};
				next();
			});
			assert.equal(await download, 256 * 1024);
			assert.equal(await upload, `uploaded ${4 * 1024}`);
		} finally {
			session.close();
		}
	});
});
