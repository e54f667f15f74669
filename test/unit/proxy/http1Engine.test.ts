import * as assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import * as tls from 'node:tls';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import type { CaptureSink } from '../../../src/core/capture/types';
import type { ChunkHolder } from '../../../src/core/memory/chunkHolder';
import { ProxyServer, type ProxyOptions } from '../../../src/core/proxy';
import { delay, h2Request, makeCa, memoryLogger, startHarness, type Harness, type TestCa } from './helpers';
import { RawTlsClient } from './rawTlsClient';

/*
 * The HTTP/1.1 engine the proxy now owns: client-side parsing and framing (http1Connection), the
 * upstream keep-alive pool and response parsing (upstream, upstreamConnection), and pooled read
 * buffers (readPool). Clients here write and read raw bytes where framing matters, so that what the
 * proxy puts on the wire is checked, not what a lenient client library makes of it.
 */

type Pair = [string, string];

/** A message head split into its start line and header fields (names as sent). */
function parseHead(text: string): { startLine: string; headers: Pair[] } {
	const lines = text.split('\r\n');
	const headers = lines.slice(1).map((line): Pair => {
		const colon = line.indexOf(':');
		assert.ok(colon > 0, `malformed header line ${JSON.stringify(line)}`);
		return [line.slice(0, colon), line.slice(colon + 1).trim()];
	});
	return { startLine: lines[0], headers };
}

/** First value of a header, by case-insensitive name. */
function valueOf(headers: readonly Pair[], name: string): string | undefined {
	return headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

/** Value of a header in a flat raw list (as the fixture dev server echoes them). */
function rawValue(raw: readonly string[], name: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		if (raw[i].toLowerCase() === name) { return raw[i + 1]; }
	}
	return undefined;
}

/**
 * Decodes a chunked body that starts at `offset` of `buf`: undefined while it is incomplete. Throws on
 * bad framing. `extensions`: whether chunk extensions are acceptable (the proxy itself sends none).
 */
function decodeChunked(buf: Buffer, offset: number, extensions: boolean): { body: Buffer; trailers: Pair[]; end: number } | undefined {
	const parts: Buffer[] = [];
	let pos = offset;
	for (;;) {
		const lineEnd = buf.indexOf('\r\n', pos);
		if (lineEnd < 0) { return undefined; }
		const line = buf.toString('latin1', pos, lineEnd);
		const match = (extensions ? /^([0-9a-fA-F]+)(;.*)?$/ : /^([0-9a-fA-F]+)$/).exec(line);
		if (match === null) { throw new Error(`bad chunk-size line ${JSON.stringify(line)}`); }
		const size = parseInt(match[1], 16);
		pos = lineEnd + 2;
		if (size === 0) { break; }
		if (buf.length < pos + size + 2) { return undefined; }
		parts.push(buf.subarray(pos, pos + size));
		if (buf[pos + size] !== 0x0d || buf[pos + size + 1] !== 0x0a) { throw new Error('no CRLF after chunk data'); }
		pos += size + 2;
	}
	const trailers: Pair[] = [];
	for (;;) {
		const lineEnd = buf.indexOf('\r\n', pos);
		if (lineEnd < 0) { return undefined; }
		const line = buf.toString('latin1', pos, lineEnd);
		pos = lineEnd + 2;
		if (line === '') { break; }
		trailers.push(parseHead(`-\r\n${line}`).headers[0]);
	}
	return { body: Buffer.concat(parts), trailers, end: pos };
}

/** `data` in chunked framing, chunks of 1..maxChunk bytes; the first chunk has an extension, a trailer ends it. */
function chunkedPieces(data: Buffer, maxChunk: number): Buffer[] {
	const pieces: Buffer[] = [];
	let offset = 0;
	let first = true;
	while (offset < data.length) {
		const size = Math.min(data.length - offset, randomInt(1, maxChunk + 1));
		pieces.push(Buffer.from(`${size.toString(16)}${first ? ';note="first chunk"' : ''}\r\n`), data.subarray(offset, offset + size), Buffer.from('\r\n'));
		offset += size;
		first = false;
	}
	pieces.push(Buffer.from('0\r\nX-Checksum: ignored\r\n\r\n'));
	return pieces;
}

/** Slice sizes for {@link trickle}: tiny ones first, so that framing lines are split between reads. */
const SLICES = [1, 2, 3, 7, 100, 1500, 16_384, 5, 65_536];

/** Writes `data` in slices, each a macrotask apart, so that the reader gets it in many reads. */
async function trickle(socket: net.Socket | tls.TLSSocket, data: Buffer): Promise<void> {
	let offset = 0;
	for (let i = 0; offset < data.length && !socket.destroyed; i++) {
		const end = Math.min(data.length, offset + SLICES[i % SLICES.length]);
		socket.write(data.subarray(offset, end));
		offset = end;
		await new Promise(setImmediate);
	}
}

/** An HTTP/1.x response exactly as it came over the wire. */
interface WireResponse {
	readonly version: string;
	readonly status: number;
	readonly headers: Pair[];
	readonly body: Buffer;
	/** How the body was delimited. */
	readonly framing: 'none' | 'length' | 'chunked' | 'close';
}

/** A TLS connection to the proxy that writes raw bytes and parses responses strictly. */
class WireClient extends RawTlsClient {
	static async connect(ca: TestCa, port: number, alpn = 'http/1.1', host = '127.0.0.1'): Promise<WireClient> {
		return new WireClient(await RawTlsClient.open(ca, port, alpn, host));
	}

	write(data: string | Buffer): Promise<void> {
		return new Promise((resolve, reject) => this.socket.write(data, (error) => (error ? reject(error) : resolve())));
	}

	/** The next message from the proxy, 1xx included; `method` is the request's (HEAD responses have no body). */
	async read(method = 'GET'): Promise<WireResponse> {
		const headEnd = await this.until(() => {
			const at = this.buffer.indexOf('\r\n\r\n');
			return at < 0 ? undefined : at;
		}, 'a response head');
		const { startLine, headers } = parseHead(this.buffer.toString('latin1', 0, headEnd));
		this.buffer = this.buffer.subarray(headEnd + 4);
		const match = /^HTTP\/(1\.[01]) ([1-9]\d\d)(?: .*)?$/.exec(startLine);
		assert.ok(match, `bad status line ${JSON.stringify(startLine)}`);
		const status = Number(match[2]);
		const coding = valueOf(headers, 'transfer-encoding');
		const length = valueOf(headers, 'content-length');
		let body: Buffer;
		let framing: WireResponse['framing'];
		if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
			framing = 'none';
			body = Buffer.alloc(0);
		} else if (coding !== undefined) {
			assert.equal(coding, 'chunked');
			assert.equal(length, undefined, 'Content-Length sent next to Transfer-Encoding');
			const decoded = await this.until(() => decodeChunked(this.buffer, 0, false), 'the end of a chunked body');
			assert.deepEqual(decoded.trailers, [], 'the proxy sends no trailers');
			body = decoded.body;
			this.buffer = this.buffer.subarray(decoded.end);
			framing = 'chunked';
		} else if (length !== undefined) {
			const size = Number(length);
			await this.until(() => (this.buffer.length >= size ? true : undefined), `${size} body bytes`);
			body = Buffer.from(this.buffer.subarray(0, size));
			this.buffer = this.buffer.subarray(size);
			framing = 'length';
		} else {
			await this.closed;
			body = this.buffer;
			this.buffer = Buffer.alloc(0);
			framing = 'close';
		}
		return { version: match[1], status, headers, body, framing };
	}

	/** The next final (non-1xx) response. */
	async readFinal(method = 'GET'): Promise<WireResponse> {
		for (;;) {
			const response = await this.read(method);
			if (response.status >= 200) { return response; }
		}
	}
}

/** A request as a {@link RawDevServer} received it. */
interface UpstreamRequest {
	readonly method: string;
	readonly target: string;
	readonly headers: Pair[];
	readonly body: Buffer;
	/** The connection that carried it (1 = the first accepted) and its place on that connection (1 = first). */
	readonly connection: number;
	readonly sequence: number;
}

/**
 * A dev server written on raw sockets, for responses Node's http server would never send: any
 * framing, interim responses, broken heads, closes at awkward moments.
 */
interface RawDevServer {
	readonly target: string;
	readonly requests: UpstreamRequest[];
	/** Connections accepted so far. */
	readonly connections: number;
	/** Requests that arrived on a connection the server had already ended (the proxy reused a closed socket). */
	readonly requestsAfterEnd: number;
	close(): Promise<void>;
}

type Respond = (request: UpstreamRequest, socket: net.Socket) => void;

async function startRawDevServer(respond: Respond, onConnection?: (socket: net.Socket) => void): Promise<RawDevServer> {
	const requests: UpstreamRequest[] = [];
	const sockets = new Set<net.Socket>();
	let connections = 0;
	let requestsAfterEnd = 0;
	const server = net.createServer((socket) => {
		const connection = ++connections;
		let sequence = 0;
		let buffer = Buffer.alloc(0);
		sockets.add(socket);
		socket.setNoDelay(true);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => { });
		onConnection?.(socket);
		socket.on('data', (chunk: Buffer) => {
			buffer = Buffer.concat([buffer, chunk]);
			while (!socket.destroyed) {
				const headEnd = buffer.indexOf('\r\n\r\n');
				if (headEnd < 0) { return; }
				if (socket.writableEnded) {
					// As the kernel would answer a request on a closed socket.
					requestsAfterEnd++;
					socket.destroy();
					return;
				}
				const { startLine, headers } = parseHead(buffer.toString('latin1', 0, headEnd));
				const [method, target] = startLine.split(' ');
				let body: Buffer;
				let end: number;
				if (valueOf(headers, 'transfer-encoding') !== undefined) {
					const decoded = decodeChunked(buffer, headEnd + 4, true);
					if (decoded === undefined) { return; }
					({ body, end } = decoded);
				} else {
					end = headEnd + 4 + Number(valueOf(headers, 'content-length') ?? 0);
					if (buffer.length < end) { return; }
					body = buffer.subarray(headEnd + 4, end);
				}
				buffer = buffer.subarray(end);
				const request: UpstreamRequest = { method, target, headers, body: Buffer.from(body), connection, sequence: ++sequence };
				requests.push(request);
				respond(request, socket);
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		target: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
		requests,
		get connections() { return connections; },
		get requestsAfterEnd() { return requestsAfterEnd; },
		close: () => new Promise<void>((resolve) => {
			for (const socket of sockets) { socket.destroy(); }
			server.close(() => resolve());
		}),
	};
}

/** A proxy in front of `target`, on a free port. */
async function startProxy(ca: TestCa, target: string, options: Partial<ProxyOptions> = {}): Promise<{ proxy: ProxyServer; port: number; logs: string[] }> {
	const logs: string[] = [];
	const proxy = new ProxyServer({ target, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger(logs), ...options });
	const { port } = await proxy.start();
	return { proxy, port, logs };
}

function sha256(data: Buffer): string {
	return createHash('sha256').update(data).digest('hex');
}

/** Hash and size of a response body, read with pauses so that the proxy must queue (and hold) its writes. */
interface SlowRead {
	readonly status: number;
	readonly headers: IncomingHttpHeaders;
	readonly sha256: string;
	readonly length: number;
}

/**
 * How a test client reads: `bursts` pauses 10-80 ms at its first bytes and then after every 256 KiB-1 MiB
 * (the proxy's writes back up and its upstream socket is paused, over and over); `stall` stops once,
 * at the first bytes, for 300 ms (an HTTP/2 stream's window is soon full then, and the proxy's writes
 * wait in the session).
 */
type Reading = 'bursts' | 'stall';

function readSlowly(stream: Readable, reading: Reading, finish: (sha256: string, length: number) => void, fail: (error: Error) => void): void {
	const hash = createHash('sha256');
	let length = 0;
	let budget = 0;
	stream.on('data', (chunk: Buffer) => {
		hash.update(chunk);
		const first = length === 0;
		length += chunk.length;
		budget -= chunk.length;
		if (reading === 'stall' ? first : budget <= 0) {
			budget = randomInt(256 * 1024, 1024 * 1024);
			stream.pause();
			setTimeout(() => stream.resume(), reading === 'stall' ? 300 : randomInt(10, 80));
		}
	});
	stream.on('end', () => finish(hash.digest('hex'), length));
	stream.on('error', fail);
}

function slowH1Download(ca: TestCa, port: number, path: string, reading: Reading = 'bursts'): Promise<SlowRead> {
	return new Promise((resolve, reject) => {
		const options: https.RequestOptions & tls.ConnectionOptions = {
			host: '127.0.0.1', port, servername: 'localhost', path, ca: ca.caPem, agent: false, ALPNProtocols: ['http/1.1'],
		};
		https.get(options, (res) => {
			readSlowly(res, reading, (hash, length) => resolve({ status: res.statusCode!, headers: res.headers, sha256: hash, length }), reject);
		}).on('error', reject);
	});
}

function slowH2Download(session: http2.ClientHttp2Session, path: string, reading: Reading = 'bursts'): Promise<SlowRead> {
	return new Promise((resolve, reject) => {
		const stream = session.request({ ':path': path });
		let headers: IncomingHttpHeaders = {};
		stream.on('response', (h) => { headers = h as IncomingHttpHeaders; });
		readSlowly(stream, reading, (hash, length) => resolve({ status: Number(headers[':status']), headers, sha256: hash, length }), reject);
		stream.end();
	});
}

function h2Session(ca: TestCa, port: number): Promise<http2.ClientHttp2Session> {
	return new Promise((resolve, reject) => {
		// Streams keep HTTP/2's 64 KiB default window, so that a paused reader soon leaves the proxy's writes
		// queued in the session; the session's window is large, so that 10 streams do not crawl.
		const session = http2.connect(`https://localhost:${port}`, { ca: ca.caPem, host: '127.0.0.1' });
		session.once('error', reject);
		session.once('connect', () => {
			session.setLocalWindowSize(16 * 1024 * 1024);
			resolve(session);
		});
	});
}

describe('proxy: HTTP/1.1 engine', function () {
	this.timeout(20_000);
	let ca: TestCa;

	before(async () => { ca = await makeCa(); });

	describe('with the fixture dev server', () => {
		let h: Harness;
		before(async () => { h = await startHarness(ca, {}, { downloadSize: 256 * 1024 }); });
		after(async () => { await h?.close(); });

		it('answers pipelined requests (written in one TLS write) completely and in order on one connection', async () => {
			const client = await WireClient.connect(ca, h.port);
			try {
				await client.write(
					'GET /download HTTP/1.1\r\nHost: localhost\r\n\r\n'
					+ 'POST /echo?second HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello'
					+ 'POST /echo?third HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
					+ 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const first = await client.read();
				assert.equal(first.status, 200);
				assert.equal(sha256(first.body), h.dev.download.sha256, 'the 256 KiB download, whole');
				const echo = (response: WireResponse): [number, string, string] => {
					const { url, body } = JSON.parse(response.body.toString()) as { url: string; body: string };
					return [response.status, url, body];
				};
				assert.deepEqual(echo(await client.read()), [200, '/echo?second', 'hello']);
				assert.deepEqual(echo(await client.read()), [200, '/echo?third', 'abc']);
				const fourth = await client.read();
				assert.deepEqual([fourth.status, fourth.body.toString()], [200, 'hello']);
				assert.equal(client.isClosed, false);

				// A pipelined `Connection: close` ends the connection after its response; what follows is not served.
				const seen = h.dev.seen.length;
				await client.write('GET /hello?a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hello?b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\nGET /hello?c HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'hello');
				const closing = await client.read();
				assert.equal(valueOf(closing.headers, 'connection'), 'close');
				assert.equal(closing.body.toString(), 'hello');
				assert.ok(await client.closesWithin(2000), 'closed after the Connection: close response');
				assert.equal(client.unread, '');
				assert.deepEqual(h.dev.seen.slice(seen).map((s) => s.url), ['/hello?a', '/hello?b']);
			} finally {
				client.destroy();
			}
		});

		it('keeps its place when a request head is split across reads and the rest arrives with the body and the next request', async () => {
			const client = await WireClient.connect(ca, h.port);
			try {
				await client.write('POST /echo?split HTTP/1.1\r\nHo');
				await delay(20);
				await client.write('st: localhost\r\nContent-Length: 5\r\n\r\nhelloGET /hello?after HTTP/1.1\r\nHost: lo');
				await delay(20);
				await client.write('calhost\r\n\r\n');
				const echoed = JSON.parse((await client.read()).body.toString()) as { url: string; body: string };
				assert.deepEqual([echoed.url, echoed.body], ['/echo?split', 'hello']);
				assert.equal((await client.read()).body.toString(), 'hello');
				assert.equal(client.unread, '');
			} finally {
				client.destroy();
			}
		});

		it('de-chunks a chunked upload (extension, trailer, split across reads) for the dev server, and keeps the connection usable', async () => {
			const client = await WireClient.connect(ca, h.port);
			try {
				await client.write('POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
				for (const piece of ['5;name=val', 'ue\r', '\nhel', 'lo\r\n1\r\n \r\n', '6\r\nworld!\r', '\n0\r\nX-Tra', 'iler: t\r\n', '\r\n']) {
					await client.write(piece);
					await delay(5);
				}
				const reply = await client.read();
				const echoed = JSON.parse(reply.body.toString()) as { body: string; rawHeaders: string[] };
				assert.equal(echoed.body, 'hello world!');
				assert.equal(rawValue(echoed.rawHeaders, 'transfer-encoding'), 'chunked');
				assert.equal(rawValue(echoed.rawHeaders, 'content-length'), undefined);
				assert.equal(rawValue(echoed.rawHeaders, 'x-trailer'), undefined, 'the trailer is not turned into a header');

				// A binary body in chunks of all sizes, trickled across many reads.
				const data = randomBytes(300 * 1024);
				await client.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
				await trickle(client.socket, Buffer.concat(chunkedPieces(data, 20_000)));
				const uploaded = JSON.parse((await client.read()).body.toString()) as { size: number; sha256: string };
				assert.deepEqual(uploaded, { size: data.length, sha256: sha256(data) });

				await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'hello', 'the connection is still in step');
			} finally {
				client.destroy();
			}
		});

		it('forwards a Content-Length upload written in many small writes', async () => {
			const data = randomBytes(200 * 1024);
			const client = await WireClient.connect(ca, h.port);
			try {
				await client.write(`PUT /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${data.length}\r\n\r\n`);
				await trickle(client.socket, data);
				const uploaded = JSON.parse((await client.read()).body.toString()) as { size: number; sha256: string };
				assert.deepEqual(uploaded, { size: data.length, sha256: sha256(data) });
				await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'hello', 'the connection is still in step');
			} finally {
				client.destroy();
			}
		});

		it('answers Expect: 100-continue with 100 Continue before the body is sent, then the response', async () => {
			const client = await WireClient.connect(ca, h.port);
			try {
				await client.write('POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n');
				const interim = await client.read('POST');
				assert.equal(interim.status, 100);
				assert.equal(interim.version, '1.1');
				await client.write('hello world');
				const reply = await client.read('POST');
				assert.equal(reply.status, 200);
				const echoed = JSON.parse(reply.body.toString()) as { body: string; rawHeaders: string[] };
				assert.equal(echoed.body, 'hello world');
				assert.equal(rawValue(echoed.rawHeaders, 'expect'), undefined, 'answered by the proxy, not forwarded');

				// Without a body there is nothing to continue.
				await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n\r\n');
				const plain = await client.read();
				assert.deepEqual([plain.status, plain.body.toString()], [200, 'hello']);
			} finally {
				client.destroy();
			}
		});

		it('reuses few upstream connections for many sequential requests (HTTP/1.1 and HTTP/2)', async () => {
			let connections = 0;
			const count = (): void => { connections++; };
			h.dev.server.on('connection', count);
			const client = await WireClient.connect(ca, h.port);
			const session = await h2Session(ca, h.port);
			try {
				for (let i = 0; i < 30; i++) {
					if (i % 3 === 2) {
						await client.write(`POST /echo?${i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nbody`);
						assert.equal(JSON.parse((await client.read()).body.toString()).body, 'body');
					} else {
						await client.write(`GET /hello?${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
						assert.equal((await client.read()).body.toString(), 'hello');
					}
					assert.equal((await h2Request(ca, h.port, `/hello?h2-${i}`, { session })).body.toString(), 'hello');
				}
				assert.ok(connections <= 1, `${connections} upstream connections for 60 requests`);
			} finally {
				h.dev.server.off('connection', count);
				client.destroy();
				session.close();
			}
		});

		it('answers 400 and closes for a request with both Content-Length and Transfer-Encoding', async () => {
			const seen = h.dev.seen.length;
			const client = await WireClient.connect(ca, h.port);
			await client.write('POST /smuggle HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
			const reply = await client.read('POST');
			assert.equal(reply.status, 400);
			assert.equal(valueOf(reply.headers, 'connection'), 'close');
			assert.ok(await client.closesWithin(2000), 'closed');
			assert.equal(client.unread, '', 'the request behind it is not answered');
			assert.equal(h.dev.seen.length, seen, 'nothing reached the dev server');
		});

		it('answers 505 to an HTTP/2.0 request line over ALPN http/1.1', async () => {
			const client = await WireClient.connect(ca, h.port);
			await client.write('GET /hello HTTP/2.0\r\nHost: localhost\r\n\r\n');
			const reply = await client.read();
			assert.equal(reply.status, 505);
			assert.ok(await client.closesWithin(2000), 'closed');
		});

		it('sends the target as Host for an HTTP/1.0 request without one, and closes after a close-delimited answer', async () => {
			const client = await WireClient.connect(ca, h.port);
			await client.write('GET /echo?v10 HTTP/1.0\r\n\r\n');
			const reply = await client.read();
			assert.equal(reply.status, 200);
			// The dev server answered chunked; an HTTP/1.0 client cannot read that.
			assert.equal(reply.framing, 'close');
			assert.equal(valueOf(reply.headers, 'connection'), 'close');
			const echoed = JSON.parse(reply.body.toString()) as { url: string; rawHeaders: string[] };
			assert.equal(echoed.url, '/echo?v10');
			assert.equal(rawValue(echoed.rawHeaders, 'host'), `localhost:${h.dev.port}`);
			assert.equal(rawValue(echoed.rawHeaders, 'x-forwarded-host'), undefined, 'the client named no host');
		});
	});

	describe('with a raw dev server', () => {
		const bodies = { cl: randomBytes(300_000), chunked: randomBytes(300_000), close: randomBytes(300_000) };
		/** Distinct 4-8 MiB bodies for the concurrent downloads. */
		const blobs: Buffer[] = [];
		const blobHashes: string[] = [];
		let dev: RawDevServer;
		let port: number;
		let proxy: ProxyServer;

		const respond: Respond = (request, socket) => {
			const [path] = request.target.split('?');
			switch (path) {
				case '/cl':
					socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bodies.cl.length}\r\n\r\n`);
					void trickle(socket, bodies.cl);
					return;
				case '/chunked':
					socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
					void trickle(socket, Buffer.concat(chunkedPieces(bodies.chunked, 40_000)));
					return;
				case '/close':
					// HTTP/1.0 style: neither Content-Length nor Transfer-Encoding, the body ends with the connection.
					socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
					void trickle(socket, bodies.close).then(() => socket.end());
					return;
				case '/hints':
					socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n');
					setTimeout(() => socket.write('HTTP/1.1 100 Continue\r\n\r\n'), 10);
					setTimeout(() => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhints'), 20);
					return;
				case '/hints-burst':
					socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nburst');
					return;
				case '/bad-head':
					socket.write('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n');
					return;
				case '/huge-head':
					socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`);
					return;
				case '/blob': {
					const blob = blobs[Number(request.target.split('?')[1])];
					socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${blob.length}\r\n\r\n`);
					socket.write(blob);
					return;
				}
				case '/chunked-blob': {
					socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
					for (const piece of chunkedPieces(blobs[Number(request.target.split('?')[1])], 256 * 1024)) { socket.write(piece); }
					return;
				}
				case '/trickled-blob': case '/trickled-chunked-blob': {
					// 1 MiB of a blob in pieces a macrotask apart (a streamed response): the proxy reads it in
					// small reads, which do not fill the client's write buffer, so it goes on reading.
					const data = blobs[Number(request.target.split('?')[1])].subarray(0, 1024 * 1024);
					const chunked = path === '/trickled-chunked-blob';
					socket.write(`HTTP/1.1 200 OK\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${data.length}`}\r\n\r\n`);
					void (async () => {
						for (let offset = 0; offset < data.length && !socket.destroyed; offset += 4096) {
							const piece = data.subarray(offset, offset + 4096);
							socket.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece);
							await new Promise(setImmediate);
						}
						if (chunked) { socket.write('0\r\n\r\n'); }
					})();
					return;
				}
				default:
					socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
			}
		};

		/** The downloads whose status, length or content is wrong, by name (all of them listed, for a useful failure). */
		const damaged = (results: ReadonlyArray<{ result: SlowRead; i: number; via: string }>): string[] => results
			.filter(({ result, i }) => result.status !== 200 || result.length !== blobs[i].length || result.sha256 !== blobHashes[i])
			.map(({ result, i, via }) => `${via} #${i}: ${result.status}, ${result.length} of ${blobs[i].length} bytes${result.length === blobs[i].length ? ', content differs' : ''}`);

		before(async () => {
			for (let i = 0; i < 20; i++) {
				blobs.push(randomBytes(randomInt(4 * 1024 * 1024, 8 * 1024 * 1024)));
				blobHashes.push(sha256(blobs[i]));
			}
			dev = await startRawDevServer(respond);
			({ proxy, port } = await startProxy(ca, dev.target));
		});
		after(async () => {
			await proxy?.stop();
			await dev?.close();
		});

		it('passes Content-Length, chunked and close-delimited responses byte-exact to an HTTP/1.1 client', async () => {
			const client = await WireClient.connect(ca, port);
			try {
				await client.write('GET /cl HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const cl = await client.read();
				assert.equal(cl.framing, 'length');
				assert.equal(valueOf(cl.headers, 'content-length'), String(bodies.cl.length));
				assert.ok(cl.body.equals(bodies.cl), 'Content-Length body');

				await client.write('GET /chunked HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const chunked = await client.read();
				assert.equal(chunked.framing, 'chunked');
				assert.ok(chunked.body.equals(bodies.chunked), 'chunked body');

				await client.write('GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const close = await client.read();
				assert.equal(close.framing, 'chunked', 'a close-delimited body goes to an HTTP/1.1 client chunked');
				assert.notEqual(valueOf(close.headers, 'connection'), 'close');
				assert.ok(close.body.equals(bodies.close), 'close-delimited body');

				await client.write('GET /cl?again HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.ok((await client.read()).body.equals(bodies.cl), 'the connection carries another request');
			} finally {
				client.destroy();
			}
		});

		it('passes every framing to an HTTP/1.0 client close-delimited or sized, with Connection: close', async () => {
			for (const [path, body] of [['/close', bodies.close], ['/chunked', bodies.chunked]] as const) {
				const client = await WireClient.connect(ca, port);
				await client.write(`GET ${path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
				const reply = await client.read();
				assert.equal(reply.version, '1.1');
				assert.equal(reply.framing, 'close', path);
				assert.equal(valueOf(reply.headers, 'connection'), 'close', path);
				assert.equal(valueOf(reply.headers, 'content-length'), undefined, path);
				assert.ok(reply.body.equals(body), `${path} body`);
			}
			const client = await WireClient.connect(ca, port);
			await client.write('GET /cl HTTP/1.0\r\nHost: localhost\r\n\r\n');
			const sized = await client.read();
			assert.equal(sized.framing, 'length');
			assert.equal(valueOf(sized.headers, 'connection'), 'close');
			assert.ok(sized.body.equals(bodies.cl));
			assert.ok(await client.closesWithin(2000), 'closed after the response');
		});

		it('passes every framing byte-exact to an HTTP/2 client, without a stale content-length', async () => {
			const session = await h2Session(ca, port);
			try {
				const cl = await h2Request(ca, port, '/cl', { session });
				assert.equal(cl.headers['content-length'], String(bodies.cl.length));
				assert.ok(cl.body.equals(bodies.cl), 'Content-Length body');
				const chunked = await h2Request(ca, port, '/chunked', { session });
				assert.equal(chunked.headers['content-length'], undefined);
				assert.ok(chunked.body.equals(bodies.chunked), 'chunked body');
				const close = await h2Request(ca, port, '/close', { session });
				assert.equal(close.headers['content-length'], undefined);
				assert.ok(close.body.equals(bodies.close), 'close-delimited body');
			} finally {
				session.close();
			}
		});

		it('skips interim responses (103 Early Hints, 100 Continue) from the dev server', async () => {
			const client = await WireClient.connect(ca, port);
			const session = await h2Session(ca, port);
			try {
				for (const [path, text] of [['/hints', 'hints'], ['/hints-burst', 'burst']]) {
					await client.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
					const reply = await client.readFinal();
					assert.deepEqual([reply.status, reply.body.toString()], [200, text], `HTTP/1.1 ${path}`);
					const two = await h2Request(ca, port, path, { session });
					assert.deepEqual([two.status, two.body.toString()], [200, text], `HTTP/2 ${path}`);
				}
				await client.write('GET /cl HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.ok((await client.read()).body.equals(bodies.cl), 'the connection is still in step');
			} finally {
				client.destroy();
				session.close();
			}
		});

		it('answers 502 naming the problem when the dev server sends an invalid response head, and goes on serving', async () => {
			const client = await WireClient.connect(ca, port);
			try {
				const before = dev.requests.filter((r) => r.target === '/bad-head').length;
				await client.write('GET /bad-head HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n');
				const reply = await client.read();
				assert.equal(reply.status, 502);
				const page = JSON.parse(reply.body.toString()) as { message: string };
				assert.match(page.message, /invalid response: invalid header name/);
				const two = await h2Request(ca, port, '/bad-head', { headers: { accept: 'application/json' } });
				assert.equal(two.status, 502);
				assert.match((JSON.parse(two.body.toString()) as { message: string }).message, /invalid response/);
				assert.equal(dev.requests.filter((r) => r.target === '/bad-head').length - before, 2, 'each request sent once: an answer is not a stale socket');

				await client.write('GET /huge-head HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n');
				const huge = await client.read();
				assert.equal(huge.status, 502);
				assert.match((JSON.parse(huge.body.toString()) as { message: string }).message, /head (too large|larger than 16 KiB)/);
				assert.equal(dev.requests.filter((r) => r.target === '/huge-head').length, 1);

				await client.write('GET /cl HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.ok((await client.read()).body.equals(bodies.cl), 'the same client connection goes on');
				assert.equal((await h2Request(ca, port, '/hints')).body.toString(), 'hints');
			} finally {
				client.destroy();
			}
		});

		it('keeps 20 concurrent 4-8 MiB downloads intact for slow HTTP/1.1 and HTTP/2 readers (read buffer reuse)', async () => {
			const sessions = [await h2Session(ca, port), await h2Session(ca, port)];
			try {
				const downloads = blobs.flatMap((_, i) => [
					slowH1Download(ca, port, `/blob?${i}`).then((result) => ({ result, i, via: 'HTTP/1.1' })),
					slowH2Download(sessions[i % 2], `/blob?${i}`).then((result) => ({ result, i, via: 'HTTP/2' })),
				]);
				assert.deepEqual(damaged(await Promise.all(downloads)), []);
			} finally {
				for (const session of sessions) { session.close(); }
			}
		});

		it('captures the first MiB of 40 concurrent downloads by holding read buffers, intact while later downloads reuse the pool', async () => {
			// Capture keeps large response chunks by holding the pooled read buffer behind them until the
			// exchange is evicted. A buffer handed back too early is refilled by the next downloads (run here
			// with capture paused): the kept bodies would then differ from what was sent.
			const store = new CaptureStore();
			let holds = 0;
			const sink: CaptureSink = {
				tlsFailure: (failure) => store.tlsFailure(failure),
				beginExchange(exchange) {
					const recorder = store.beginExchange(exchange);
					if (recorder === undefined) { return undefined; }
					return new Proxy(recorder, {
						get(target, key) {
							if (key !== 'responseBody') { return Reflect.get(target, key) as unknown; }
							return (chunk: Buffer, holder?: ChunkHolder) => target.responseBody(chunk, holder && {
								hold() {
									const release = holder.hold();
									if (release) { holds++; }
									return release;
								},
							});
						},
					});
				},
			};
			const capturing = await startProxy(ca, dev.target, { capture: sink });
			const sessions = [await h2Session(ca, capturing.port), await h2Session(ca, capturing.port)];
			try {
				const round = (path: string) => Promise.all(blobs.flatMap((_, i) => [
					slowH1Download(ca, capturing.port, `${path}?${i}`).then((result) => ({ result, i, via: 'HTTP/1.1' })),
					slowH2Download(sessions[i % 2], `${path}?${i}`).then((result) => ({ result, i, via: 'HTTP/2' })),
				]));
				assert.deepEqual(damaged(await round('/blob')), []);
				const kept = store.list().filter((e) => e.request?.path.startsWith('/blob?'));
				assert.equal(kept.length, 40);
				assert.ok(holds >= 40 * 8, `${holds} chunks held (most of 40 MiB in 64 KiB reads)`);
				store.pause();
				assert.deepEqual(damaged(await round('/chunked-blob')), []);
				const { usedBytes, budgetBytes } = store.stats();
				assert.ok(usedBytes >= 40 * 1024 * 1024 && usedBytes <= budgetBytes, `${usedBytes} bytes accounted`);
				const wrong = kept.filter((e) => {
					const i = Number(e.request!.path.split('?')[1]);
					const body = store.body(e.id, 'response')!;
					return !e.responseBody.truncated || body.length !== 1024 * 1024 || !body.equals(blobs[i].subarray(0, 1024 * 1024));
				}).map((e) => `#${e.id} ${e.request!.path} HTTP/${e.request!.httpVersion}`);
				assert.deepEqual(wrong, [], 'kept bodies are the first MiB of what was sent');
			} finally {
				for (const session of sessions) { session.close(); }
				await capturing.proxy.stop();
				store.dispose();
			}
		});

		it('keeps 20 concurrent chunked downloads intact for slow HTTP/1.1 and HTTP/2 readers', async () => {
			const sessions = [await h2Session(ca, port), await h2Session(ca, port)];
			try {
				const downloads = blobs.flatMap((_, i) => [
					slowH1Download(ca, port, `/chunked-blob?${i}`).then((result) => ({ result, i, via: 'HTTP/1.1' })),
					slowH2Download(sessions[i % 2], `/chunked-blob?${i}`).then((result) => ({ result, i, via: 'HTTP/2' })),
				]);
				const results = await Promise.all(downloads);
				assert.ok(results.every(({ result, via }) => via === 'HTTP/2' || result.headers['transfer-encoding'] === 'chunked'), 'chunked to HTTP/1.1 clients');
				assert.deepEqual(damaged(results), []);
			} finally {
				for (const session of sessions) { session.close(); }
			}
		});

		it('keeps streamed responses intact for clients that stop reading (writes queue while the dev server socket reads on)', async () => {
			// Small reads do not fill a client's write buffer, so the dev server's socket is not paused while
			// views of earlier reads wait: in the HTTP/2 session, behind flow control. This is the case that
			// catches a read buffer reused too early (checked by removing the hold: the HTTP/2 downloads here
			// fail on every run). Over HTTP/1.1 a view waits only until its TLS write completes, and loopback
			// socket buffers are large enough that this comes before the same socket's next read (net hands
			// a socket its next buffer right after each read), so the HTTP/1.1 downloads cover streaming
			// rather than the pool.
			const session = await h2Session(ca, port);
			const prefix = (i: number): Buffer => blobs[i].subarray(0, 1024 * 1024);
			try {
				const downloads = [0, 1, 2, 3].flatMap((i) => [
					slowH1Download(ca, port, `/trickled-blob?${i}`, 'stall').then((result) => ({ result, i, via: 'HTTP/1.1 sized' })),
					slowH1Download(ca, port, `/trickled-chunked-blob?${i}`, 'stall').then((result) => ({ result, i, via: 'HTTP/1.1 chunked' })),
					slowH2Download(session, `/trickled-blob?${i}`, 'stall').then((result) => ({ result, i, via: 'HTTP/2 sized' })),
					slowH2Download(session, `/trickled-chunked-blob?${i}`, 'stall').then((result) => ({ result, i, via: 'HTTP/2 chunked' })),
				]);
				const wrong = (await Promise.all(downloads))
					.filter(({ result, i }) => result.status !== 200 || result.length !== prefix(i).length || result.sha256 !== sha256(prefix(i)))
					.map(({ result, i, via }) => `${via} #${i}: ${result.status}, ${result.length} bytes`);
				assert.deepEqual(wrong, []);
			} finally {
				session.close();
			}
		});
	});

	describe('upstream keep-alive', () => {
		it('never fails a request on a dev server that announces Keep-Alive: timeout=1 and closes idle sockets after 1 s', async () => {
			const dev = await startRawDevServer((request, socket) => {
				socket.write(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: ${request.body.length}\r\n\r\n`);
				socket.write(request.body);
			}, (socket) => socket.setTimeout(1000, () => socket.destroy()));
			const { proxy, port } = await startProxy(ca, dev.target);
			const client = await WireClient.connect(ca, port);
			try {
				await client.write('GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).status, 200);
				await delay(1200);
				await client.write('POST /second HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\n\r\nsecond');
				const second = await client.read('POST');
				assert.deepEqual([second.status, second.body.toString()], [200, 'second']);
				await delay(1200);
				const third = await h2Request(ca, port, '/third', { method: 'POST', body: 'third' });
				assert.deepEqual([third.status, third.body.toString()], [200, 'third']);
				assert.deepEqual(dev.requests.map((r) => r.target), ['/first', '/second', '/third'], 'each request sent once');
			} finally {
				client.destroy();
				await proxy.stop();
				await dev.close();
			}
		});

		it('resends a GET, but not a POST, when a kept-alive socket turns out to be closed', async () => {
			// Each connection answers its first request only; the close races the next request, which it
			// reads and drops, as a dev server closing right after a response (without saying so) does.
			const dev = await startRawDevServer((request, socket) => {
				if (request.sequence > 1) {
					socket.destroy();
					return;
				}
				const body = `${request.method} ${request.target}`;
				socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
			});
			const { proxy, port } = await startProxy(ca, dev.target);
			const client = await WireClient.connect(ca, port);
			try {
				await client.write('GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'GET /one');
				await client.write('GET /two HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'GET /two', 'retried on a new connection');
				await client.write('POST /three HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nContent-Length: 4\r\n\r\ndata');
				const post = await client.read('POST');
				assert.equal(post.status, 502);
				assert.match((JSON.parse(post.body.toString()) as { message: string }).message, /closed the connection before answering/);
				await client.write('GET /four HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.read()).body.toString(), 'GET /four', 'the client connection survives the 502');

				assert.equal((await h2Request(ca, port, '/five')).body.toString(), 'GET /five');
				assert.equal((await h2Request(ca, port, '/six', { method: 'POST', body: 'data' })).status, 502);

				const sent = (target: string): number => dev.requests.filter((r) => r.target === target).length;
				assert.deepEqual([sent('/one'), sent('/two'), sent('/three'), sent('/four'), sent('/five'), sent('/six')], [1, 2, 1, 1, 2, 1]);
			} finally {
				client.destroy();
				await proxy.stop();
				await dev.close();
			}
		});

		it('never reuses a socket the dev server closed right after its response', async () => {
			const dev = await startRawDevServer((request, socket) => {
				socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${request.body.length}\r\n\r\n${request.body.toString()}`);
			});
			const { proxy, port } = await startProxy(ca, dev.target);
			const client = await WireClient.connect(ca, port);
			try {
				for (let i = 0; i < 20; i++) {
					await client.write(`POST /p${i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`);
					const reply = await client.read('POST');
					assert.deepEqual([reply.status, reply.body.toString()], [200, String(i)], `request ${i}`);
				}
				assert.equal(dev.requestsAfterEnd, 0);
				assert.equal(dev.connections, 20);
			} finally {
				client.destroy();
				await proxy.stop();
				await dev.close();
			}
		});
	});

	describe('client idle timeout', () => {
		let h: Harness;
		before(async () => { h = await startHarness(ca, { idleTimeoutMs: 300 }); });
		after(async () => { await h?.close(); });

		it('closes an idle HTTP/1.1 connection soon after idleTimeoutMs, silently', async () => {
			const client = await WireClient.connect(ca, h.port);
			await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
			assert.equal((await client.read()).body.toString(), 'hello');
			const idleSince = Date.now();
			assert.ok(await client.closesWithin(1000), 'closed within 1 s');
			const idle = Date.now() - idleSince;
			assert.ok(idle >= 250, `closed after ${idle} ms of idleness`);
			assert.equal(client.unread, '', 'no response to a request nobody sent');
		});

		it('does not close a connection while a response or a request body is in progress', async () => {
			const client = await WireClient.connect(ca, h.port);
			try {
				// A response that pauses for longer than the idle timeout.
				await client.write('GET /sse HTTP/1.1\r\nHost: localhost\r\n\r\n');
				await delay(800);
				assert.equal(client.isClosed, false, 'open while the response is in progress');
				h.dev.releaseSse();
				assert.equal((await client.read()).body.toString(), 'data: first\n\ndata: second\n\n');

				// A request body that trickles in for longer than the idle timeout.
				await client.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n');
				for (const byte of 'slow!') {
					await delay(200);
					await client.write(byte);
				}
				assert.equal(client.isClosed, false, 'open while the body arrives');
				const uploaded = JSON.parse((await client.read()).body.toString()) as { size: number; sha256: string };
				assert.deepEqual(uploaded, { size: 5, sha256: sha256(Buffer.from('slow!')) });
				assert.ok(await client.closesWithin(1000), 'and closed once idle');
			} finally {
				client.destroy();
			}
		});
	});
});
