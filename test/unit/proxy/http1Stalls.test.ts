import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { ProxyServer } from '../../../src/core/proxy';
import { silentLogger } from '../../../src/core/logger';
import { delay, h1Request, makeCa, waitFor, type TestCa } from './helpers';

/*
 * HTTP/1.1 clients that stop half-way, over real TLS, with a short idle timeout: a request body that
 * stops arriving, and a client that stops reading its response. Each would otherwise hold a client
 * connection and a dev server socket for good. Clients that are slow but keep going are served.
 */

const IDLE_MS = 400;
const BIG = 32 * 1024 * 1024;

describe('proxy: HTTP/1.1 clients that stall (idle timeout 400 ms)', function () {
	this.timeout(30_000);
	let ca: TestCa;
	let dev: http.Server;
	let proxy: ProxyServer;
	let port: number;
	/** What the dev server saw happen to each request: `<path> complete`, `<path> cut off`. */
	const events: string[] = [];

	before(async () => {
		ca = await makeCa();
		dev = http.createServer((req, res) => {
			const path = req.url ?? '';
			if (path === '/upload') {
				req.on('close', () => events.push(`${path} ${req.complete ? 'complete' : 'cut off'}`));
				let length = 0;
				req.on('data', (chunk: Buffer) => { length += chunk.length; });
				req.on('end', () => res.end(`got ${length}`));
				return;
			}
			if (path === '/big') {
				res.on('close', () => events.push(`${path} ${res.writableFinished ? 'complete' : 'cut off'}`));
				res.setHeader('Content-Length', BIG);
				const piece = Buffer.alloc(64 * 1024, 0x61);
				let sent = 0;
				const pump = (): void => {
					while (sent < BIG) {
						sent += piece.length;
						if (!res.write(piece)) { res.once('drain', pump); return; }
					}
					res.end();
				};
				pump();
				return;
			}
			res.end('hello');
		});
		await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', resolve));
		const devPort = (dev.address() as net.AddressInfo).port;
		proxy = new ProxyServer({ target: devPort, issuer: ca.issuer, ca: ca.stored.ca, port: 0, idleTimeoutMs: IDLE_MS, logger: silentLogger });
		({ port } = await proxy.start());
	});
	after(async () => {
		await proxy?.stop();
		dev?.closeAllConnections();
		await new Promise((resolve) => dev?.close(resolve));
	});
	afterEach(async () => {
		assert.equal((await h1Request(ca, port, '/hello')).body.toString(), 'hello', 'the proxy serves on');
	});

	function connect(): Promise<tls.TLSSocket> {
		return new Promise((resolve, reject) => {
			const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] }, () => resolve(socket));
			socket.once('error', reject);
		});
	}

	/** Everything the proxy sends on `socket` until it closes (or `ms` passes), and whether it closed. */
	function collect(socket: tls.TLSSocket, ms: number): Promise<{ text: string; closed: boolean; closedAfter: number }> {
		const started = performance.now();
		let text = '';
		socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
		return Promise.race([
			new Promise<{ text: string; closed: boolean; closedAfter: number }>((resolve) => socket.once('close', () => resolve({ text, closed: true, closedAfter: performance.now() - started }))),
			delay(ms).then(() => ({ text, closed: false, closedAfter: Infinity })),
		]);
	}

	it('answers 408 to a request body that stops arriving, closes, and cancels the dev server\'s request', async () => {
		const socket = await connect();
		socket.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc');
		const result = await collect(socket, 5000);
		assert.match(result.text, /^HTTP\/1\.1 408 Request Timeout\r\n[^]*Connection: close\r\n[^]*The request body stopped arriving/);
		assert.ok(result.closed && result.closedAfter < IDLE_MS * 4, `closed after ${result.closedAfter.toFixed(0)} ms`);
		await waitFor(() => events.includes('/upload cut off'), 2000, 'the dev server\'s request cut off');
	});

	it('serves a chunked body that is slow but never silent for the idle timeout', async () => {
		const socket = await connect();
		const answer = collect(socket, 10_000);
		socket.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
		// Five times the idle timeout in all, a chunk every half of it.
		for (let i = 0; i < 10; i++) {
			socket.write('3\r\nabc\r\n');
			await delay(IDLE_MS / 2);
		}
		socket.write('0\r\n\r\n');
		await waitFor(() => events.includes('/upload complete'), 3000, 'the upload completes');
		socket.end();
		assert.match((await answer).text, /^HTTP\/1\.1 200 [^]*\r\n\r\ngot 30$/);
	});

	it('closes a connection whose client stops reading its response, and cancels the dev server\'s response', async () => {
		const before = events.filter((event) => event === '/big cut off').length;
		const socket = await connect();
		socket.write('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n');
		// Read the head, then nothing: the socket buffers fill and the proxy waits on its client.
		await new Promise((resolve) => socket.once('data', resolve));
		socket.pause();
		const closed = new Promise<number>((resolve) => {
			const started = performance.now();
			socket.once('close', () => resolve(performance.now() - started));
		});
		await waitFor(() => events.filter((event) => event === '/big cut off').length > before, 10_000, 'the dev server\'s response cut off');
		socket.resume();
		const after = await Promise.race([closed, delay(5000).then(() => Infinity)]);
		assert.ok(after < 10_000, 'the client connection closed');
	});

	it('serves a big response to a client that reads in bursts with pauses shorter than the idle timeout', async () => {
		const before = events.filter((event) => event === '/big complete').length;
		const socket = await connect();
		let received = 0;
		socket.on('data', (chunk: Buffer) => { received += chunk.length; });
		socket.write('GET /big HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
		const closed = new Promise((resolve) => socket.once('close', resolve));
		let done = false;
		void closed.then(() => { done = true; });
		while (!done) {
			socket.pause();
			await delay(IDLE_MS / 2);
			socket.resume();
			await delay(20);
		}
		assert.ok(received > BIG, `received ${received} bytes`);
		assert.equal(events.filter((event) => event === '/big complete').length, before + 1, 'the dev server finished its response');
	});
});
