import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import WebSocket from 'ws';
import { ProxyServer } from '../../../src/core/proxy';
import { startDevServer, type DevServer } from '../../fixtures/proxy/devServer';
import { h1Request, h2Request, makeCa, waitFor, type TestCa } from './helpers';

function bindable(port: number, host: string): Promise<boolean> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once('error', () => resolve(false));
		server.listen(port, host, () => server.close(() => resolve(true)));
	});
}

function connectable(port: number, host: string): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(port, host, () => { socket.destroy(); resolve(true); });
		socket.on('error', () => resolve(false));
	});
}

describe('proxy: lifecycle', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let dev: DevServer;

	before(async () => {
		ca = await makeCa();
		dev = await startDevServer();
	});
	after(async () => { await dev?.close(); });

	it('stop() closes open connections of every kind at once and frees the port', async () => {
		const proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0 });
		const { port } = await proxy.start();
		// An idle HTTP/1.1 keep-alive connection, an HTTP/2 session, a WebSocket, a request in flight
		// and a connection that never finished its handshake.
		const agent = new https.Agent({ keepAlive: true, ca: ca.caPem });
		await new Promise<void>((resolve, reject) => https.get({ host: '127.0.0.1', port, servername: 'localhost', path: '/hello', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
		const session = http2.connect(`https://localhost:${port}`, { ca: ca.caPem, host: '127.0.0.1' });
		session.on('error', () => { });
		assert.equal((await h2Request(ca, port, '/hello', { session })).status, 200);
		const ws = new WebSocket(`wss://localhost:${port}/`, ['vite-hmr'], { ca: ca.caPem });
		ws.on('error', () => { });
		await new Promise((resolve) => ws.once('message', resolve));
		const inFlight = https.get({ host: '127.0.0.1', port, servername: 'localhost', path: '/slow', ca: ca.caPem, agent: false });
		inFlight.on('error', () => { });
		const silent = net.connect(port, '::1');
		silent.on('error', () => { });
		await waitFor(() => dev.seen.some((s) => s.url === '/slow'), 5000, '/slow to arrive');

		const started = Date.now();
		const closes = [
			new Promise((resolve) => session.once('close', resolve)),
			new Promise((resolve) => ws.once('close', resolve)),
			new Promise((resolve) => silent.once('close', resolve)),
			new Promise((resolve) => inFlight.once('close', resolve)),
		];
		await proxy.stop();
		await Promise.all(closes);
		assert.ok(Date.now() - started < 1000, `stopped in ${Date.now() - started} ms`);
		assert.ok(await bindable(port, '127.0.0.1'), 'the port is free on 127.0.0.1');
		assert.ok(await bindable(port, '::1'), 'and on ::1');
		await waitFor(() => dev.webSocketClients === 0, 2000, 'the upstream WebSocket to close');
		agent.destroy();
		await proxy.stop(); // twice is fine
	});

	it('can bind the same port again right after stop()', async () => {
		const first = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0 });
		const { port } = await first.start();
		assert.equal((await h1Request(ca, port, '/hello')).status, 200);
		await first.stop();
		const second = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port });
		assert.equal((await second.start()).port, port);
		assert.equal((await h2Request(ca, port, '/hello')).status, 200);
		await second.stop();
	});

	it('rejects with a clear EADDRINUSE error when the port is taken (on either loopback)', async () => {
		for (const host of ['127.0.0.1', '::1']) {
			const blocker = net.createServer();
			await new Promise<void>((resolve) => blocker.listen(0, host, resolve));
			const port = (blocker.address() as net.AddressInfo).port;
			const proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port });
			try {
				await assert.rejects(proxy.start(), (error: NodeJS.ErrnoException) => {
					assert.equal(error.code, 'EADDRINUSE');
					assert.match(error.message, new RegExp(`Port ${port} on ${host.replace(/\./g, '\\.')} is already in use`));
					assert.match(error.message, /choose another port/);
					return true;
				});
				assert.equal(await connectable(port, host === '::1' ? '127.0.0.1' : '::1'), false, 'nothing is left listening');
			} finally {
				blocker.close();
				await proxy.stop();
			}
		}
	});

	it('listens only where asked', async () => {
		const proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, host: '127.0.0.1' });
		const { port, urls } = await proxy.start();
		try {
			assert.deepEqual(urls, [`https://localhost:${port}`, `https://127.0.0.1:${port}`]);
			assert.equal(await connectable(port, '127.0.0.1'), true);
			assert.equal(await connectable(port, '::1'), false);
		} finally {
			await proxy.stop();
		}
		const v6 = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, host: ['::1'] });
		const bound = await v6.start();
		try {
			assert.deepEqual(bound.urls, [`https://localhost:${bound.port}`, `https://[::1]:${bound.port}`]);
			assert.equal((await h1Request(ca, bound.port, '/hello', { host: '::1' })).status, 200);
		} finally {
			await v6.stop();
		}
	});

	it('validates its options and refuses a second start()', async () => {
		assert.throws(() => new ProxyServer({ target: 'ftp://x', issuer: ca.issuer, ca: ca.stored.ca }), /uses ftp/);
		assert.throws(() => new ProxyServer({ target: 3000, issuer: ca.issuer, ca: ca.stored.ca, port: 70000 }), /proxy port "70000" is not valid/);
		const proxy = new ProxyServer({ target: '127.0.0.1:3000', issuer: ca.issuer, ca: ca.stored.ca, port: 0 });
		assert.equal(proxy.target.href, 'http://127.0.0.1:3000/');
		await proxy.start();
		await assert.rejects(proxy.start(), /already started/);
		await proxy.stop();
	});
});
