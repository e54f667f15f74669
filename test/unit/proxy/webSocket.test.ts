import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import WebSocket from 'ws';
import { makeCa, pairs, RecordingSink, startHarness, waitFor, type Harness, type TestCa } from './helpers';

/** Opens a WebSocket through the proxy and resolves with it once open. */
function connect(ca: TestCa, port: number, protocols: string[] = ['vite-hmr'], path = '/'): Promise<WebSocket> {
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(`wss://localhost:${port}${path}`, protocols, { ca: ca.caPem, perMessageDeflate: true });
		ws.once('open', () => resolve(ws));
		ws.once('error', reject);
	});
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
	return new Promise((resolve) => ws.once('message', (data, binary) => resolve({ data: data as Buffer, binary })));
}

describe('proxy: WebSockets', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let h: Harness;
	const sink = new RecordingSink();

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca, { capture: sink, captureBodyLimit: 16 });
	});
	after(async () => { await h?.close(); });

	it('passes the vite-hmr subprotocol and permessage-deflate through, and echoes text and binary', async () => {
		const ws = await connect(ca, h.port);
		const hello = JSON.parse((await nextMessage(ws)).data.toString()) as { type: string; extensions: string };
		assert.equal(hello.type, 'connected');
		assert.match(hello.extensions, /permessage-deflate/, 'the dev server saw the extension offer');
		assert.equal(ws.protocol, 'vite-hmr');
		assert.match(ws.extensions, /permessage-deflate/, 'and the client got it negotiated');
		ws.send('{"type":"ping"}');
		assert.equal((await nextMessage(ws)).data.toString(), '{"type":"ping"}');
		const binary = Buffer.from([0, 1, 2, 255]);
		ws.send(binary);
		const echoed = await nextMessage(ws);
		assert.equal(echoed.binary, true);
		assert.deepEqual(echoed.data, binary);
		const big = 'x'.repeat(200_000);
		ws.send(big);
		assert.equal((await nextMessage(ws)).data.toString(), big);
		ws.close(1000, 'bye');
		await new Promise((resolve) => ws.once('close', resolve));
	});

	it('records the upgrade and the messages both ways, without changing what passes', async () => {
		const before = sink.exchanges.length;
		const ws = await connect(ca, h.port, ['vite-hmr'], '/hmr?token=1');
		await nextMessage(ws);
		ws.send('hello from client');
		await nextMessage(ws);
		ws.close();
		await new Promise((resolve) => ws.once('close', resolve));
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.equal(exchange.init.kind, 'websocket');
		assert.equal(exchange.init.request.path, '/hmr?token=1');
		assert.ok(pairs(exchange.init.request.rawHeaders).some(([name, value]) => name.toLowerCase() === 'sec-websocket-protocol' && value === 'vite-hmr'));
		const response = exchange.events.find(([kind]) => kind === 'response')![1] as { statusCode: number; headers: Array<[string, string]> };
		assert.equal(response.statusCode, 101);
		const messages = exchange.events.filter(([kind]) => kind === 'webSocketMessage').map(([, m]) => m as { direction: string; opcode: number; size: number; truncated: boolean; compressed: boolean; payload: Buffer });
		const fromClient = messages.filter((m) => m.direction === 'client' && m.opcode === 1);
		const fromServer = messages.filter((m) => m.direction === 'server' && m.opcode === 1);
		assert.equal(fromClient.length, 1);
		assert.equal(fromServer.length, 2);
		assert.ok(fromClient[0].compressed, 'permessage-deflate payloads are marked compressed');
		assert.ok(fromServer[0].payload.length <= 16, 'payload capped at captureBodyLimit');
		assert.ok(messages.some((m) => m.opcode === 8), 'the close frame is seen');
		assert.deepEqual(exchange.events.at(-1)!.slice(0, 2), ['finish', 'completed']);
	});

	it('relays a refused upgrade (no matching route: 400 from ws) and closes', async () => {
		const before = h.dev.seen.length;
		const raw = await new Promise<string>((resolve, reject) => {
			const socket = tls.connect({ host: '127.0.0.1', port: h.port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] }, () => {
				socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n');
			});
			let text = '';
			socket.on('data', (chunk) => { text += chunk.toString(); });
			socket.on('close', () => resolve(text));
			socket.on('error', reject);
		});
		assert.match(raw, /^HTTP\/1\.1 400 /);
		assert.match(raw, /Connection: close/i);
		assert.equal(h.dev.seen.length, before, 'ws rejects before the http handler');
	});

	it('answers a WebSocket upgrade with 502 when the dev server is down', async () => {
		const closed = net.createServer();
		await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
		const port = (closed.address() as net.AddressInfo).port;
		await new Promise<void>((resolve) => closed.close(() => resolve()));
		const down = await startHarness(ca, { target: port });
		try {
			const error = await new Promise<Error>((resolve) => {
				const ws = new WebSocket(`wss://localhost:${down.port}/`, ['vite-hmr'], { ca: ca.caPem });
				ws.once('error', resolve);
			});
			assert.match(error.message, /502/);
		} finally {
			await down.close();
		}
	});

	it('closes the dev server side when the browser goes away', async () => {
		const ws = await connect(ca, h.port);
		await nextMessage(ws);
		assert.equal(h.dev.webSocketClients, 1);
		ws.terminate();
		await waitFor(() => h.dev.webSocketClients === 0, 5000, 'the dev server side to close');
	});
});
