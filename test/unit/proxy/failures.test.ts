import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { ProxyServer } from '../../../src/core/proxy';
import { startDevServer } from '../../fixtures/proxy/devServer';
import { delay, freePort, h1Request, h2Request, makeCa, memoryLogger, startHarness, waitFor, type Harness, type TestCa } from './helpers';

describe('proxy: failures', function () {
	this.timeout(20_000);
	let ca: TestCa;

	before(async () => { ca = await makeCa(); });

	describe('dev server down', () => {
		let port: number;
		let targetPort: number;
		let proxy: ProxyServer;
		const logs: string[] = [];

		before(async () => {
			targetPort = await freePort();
			proxy = new ProxyServer({ target: targetPort, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger(logs) });
			({ port } = await proxy.start());
		});
		after(async () => { await proxy.stop(); });

		it('answers 502 with an HTML page that names the target and says what to do', async () => {
			const reply = await h1Request(ca, port, '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
			assert.equal(reply.status, 502);
			assert.match(String(reply.headers['content-type']), /^text\/html/);
			const html = reply.body.toString();
			assert.match(html, new RegExp(`http://localhost:${targetPort}`));
			assert.match(html, /connection refused/i);
			assert.match(html, /Start your dev server/);
			// The command is code, not Markdown read out.
			assert.match(html, /<code>npm run dev<\/code>/);
			assert.ok(!html.includes('`'), 'no literal backticks');
			assert.match(logs.join('\n'), new RegExp(`warn \\[proxy\\] Cannot reach http://localhost:${targetPort}`));
		});

		it('answers JSON to JSON clients and plain text to others, over HTTP/2 too', async () => {
			const json = await h2Request(ca, port, '/api', { headers: { accept: 'application/json' } });
			assert.equal(json.status, 502);
			const body = JSON.parse(json.body.toString()) as { status: number; target: string; hint: string };
			assert.equal(body.status, 502);
			assert.equal(body.target, `http://localhost:${targetPort}`);
			assert.match(body.hint, /"npm run dev"/);
			const plain = await h2Request(ca, port, '/x', { method: 'POST', body: 'data' });
			assert.equal(plain.status, 502);
			assert.match(String(plain.headers['content-type']), /^text\/plain/);
			assert.match(plain.body.toString(), /^502 Bad Gateway/);
			assert.ok(!plain.body.toString().includes('`'), 'no literal backticks');
		});

		it('forwards again as soon as the dev server is up, and says so in the log', async () => {
			const dev = await startDevServer({ port: targetPort });
			try {
				const reply = await h1Request(ca, port, '/hello');
				assert.equal(reply.status, 200);
				assert.equal(reply.body.toString(), 'hello');
				assert.equal((await h2Request(ca, port, '/hello')).status, 200);
				assert.match(logs.join('\n'), /answers again/);
			} finally {
				await dev.close();
			}
			assert.equal((await h2Request(ca, port, '/hello')).status, 502, 'and 502 again once it is gone');
		});
	});

	describe('with a dev server', () => {
		let h: Harness;
		before(async () => { h = await startHarness(ca); });
		after(async () => { await h?.close(); });

		it('cancels the upstream request when an HTTP/1.1 client aborts', async () => {
			const before = h.dev.slowClosed;
			const req = https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/slow', ca: ca.caPem, agent: false });
			req.on('error', () => { });
			await waitFor(() => h.dev.seen.some((s) => s.url === '/slow'), 5000, 'the request to reach the dev server');
			req.destroy();
			await waitFor(() => h.dev.slowClosed === before + 1, 5000, 'the dev server to see the request closed');
		});

		it('cancels the upstream request when an HTTP/2 client resets its stream', async () => {
			const before = h.dev.slowClosed;
			const seen = h.dev.seen.length;
			const session = http2.connect(`https://localhost:${h.port}`, { ca: ca.caPem, host: '127.0.0.1' });
			try {
				const stream = session.request({ ':path': '/slow' });
				stream.on('error', () => { });
				await waitFor(() => h.dev.seen.length > seen, 5000, 'the request to reach the dev server');
				stream.close(http2.constants.NGHTTP2_CANCEL);
				await waitFor(() => h.dev.slowClosed === before + 1, 5000, 'the dev server to see the request closed');
				// The session itself stays usable.
				assert.equal((await h2Request(ca, h.port, '/hello', { session })).status, 200);
			} finally {
				session.close();
			}
		});

		it('ends a response cleanly when the dev server resets mid-response (HTTP/2: RST_STREAM)', async () => {
			const session = http2.connect(`https://localhost:${h.port}`, { ca: ca.caPem, host: '127.0.0.1' });
			try {
				const outcome = await new Promise<{ status: number; code: number; received: number }>((resolve) => {
					const stream = session.request({ ':path': '/reset' });
					let status = 0;
					let received = 0;
					stream.on('response', (headers) => { status = Number(headers[':status']); });
					stream.on('data', (chunk: Buffer) => { received += chunk.length; });
					stream.on('error', () => { });
					stream.on('close', () => resolve({ status, code: stream.rstCode, received }));
					stream.end();
				});
				assert.equal(outcome.status, 200);
				assert.equal(outcome.code, http2.constants.NGHTTP2_INTERNAL_ERROR);
				assert.ok(outcome.received < 100_000);
				assert.equal((await h2Request(ca, h.port, '/hello', { session })).status, 200, 'the session survives');
			} finally {
				session.close();
			}
		});

		it('ends a response cleanly when the dev server resets mid-response (HTTP/1.1: connection closed)', async () => {
			const outcome = await new Promise<string>((resolve) => {
				const req = https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/reset', ca: ca.caPem, agent: false }, (res) => {
					res.on('data', () => { });
					res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'));
					res.on('aborted', () => resolve('aborted'));
					res.on('error', () => resolve('aborted'));
				});
				req.on('error', () => resolve('error'));
			});
			assert.notEqual(outcome, 'complete');
			assert.equal((await h1Request(ca, h.port, '/hello')).status, 200);
		});
	});

	it('answers 504 when the dev server does not finish connecting in time (https target stuck in the handshake)', async () => {
		const sockets: net.Socket[] = [];
		const silent = net.createServer((socket) => { sockets.push(socket); });
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const target = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
		const proxy = new ProxyServer({ target, issuer: ca.issuer, ca: ca.stored.ca, port: 0, connectTimeoutMs: 300 });
		const { port } = await proxy.start();
		try {
			const started = Date.now();
			const reply = await h1Request(ca, port, '/', { headers: { accept: 'application/json' } });
			assert.equal(reply.status, 504);
			assert.match(reply.body.toString(), /did not accept the connection within/);
			assert.ok(Date.now() - started < 3000);
		} finally {
			await proxy.stop();
			sockets.forEach((socket) => socket.destroy());
			silent.close();
		}
	});

	it('resends a body-less request once when a kept-alive upstream socket turns out to be closed', async () => {
		let connections = 0;
		const flaky = net.createServer((socket) => {
			connections++;
			let requests = 0;
			socket.on('data', () => {
				// Answer the first request and keep the connection; drop it on the second, as a server
				// whose keep-alive timeout just fired would.
				if (++requests === 1) {
					socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
				} else {
					socket.destroy();
				}
			});
		});
		await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
		const proxy = new ProxyServer({ target: (flaky.address() as net.AddressInfo).port, issuer: ca.issuer, ca: ca.stored.ca, port: 0 });
		const { port } = await proxy.start();
		try {
			assert.equal((await h1Request(ca, port, '/a')).body.toString(), 'ok');
			assert.equal((await h2Request(ca, port, '/b')).body.toString(), 'ok');
			assert.equal(connections, 2);
		} finally {
			await proxy.stop();
			flaky.close();
		}
	});

	it('survives a dev server that closes every connection without answering', async () => {
		const rude = net.createServer((socket) => socket.destroy());
		await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
		const proxy = new ProxyServer({ target: (rude.address() as net.AddressInfo).port, issuer: ca.issuer, ca: ca.stored.ca, port: 0 });
		const { port } = await proxy.start();
		try {
			for (let i = 0; i < 3; i++) {
				assert.equal((await h2Request(ca, port, '/')).status, 502);
				assert.equal((await h1Request(ca, port, '/')).status, 502);
			}
			await delay(10);
		} finally {
			await proxy.stop();
			rude.close();
		}
	});
});
