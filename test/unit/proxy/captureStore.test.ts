import * as assert from 'node:assert/strict';
import WebSocket from 'ws';
import { CaptureStore } from '../../../src/core/capture';
import { h2Request, makeCa, startHarness, waitFor, type Harness } from './helpers';

describe('proxy: with the real CaptureStore', function () {
	this.timeout(20_000);
	let h: Harness;
	const store = new CaptureStore();

	before(async () => { h = await startHarness(await makeCa(), { capture: store }); });
	after(async () => { await h?.close(); });

	it('stores HTTP/2 exchanges and WebSocket messages as they passed', async () => {
		const reply = await h2Request(h.ca, h.port, '/echo', { method: 'POST', body: 'captured body' });
		assert.equal(reply.status, 200);
		await waitFor(() => store.list().some((exchange) => exchange.state === 'completed'), 5000, 'the exchange to complete');
		const exchange = store.list().find((e) => e.request?.path === '/echo')!;
		assert.equal(exchange.tls.alpn, 'h2');
		assert.equal(exchange.response?.statusCode, 200);
		assert.equal(store.body(exchange.id, 'request')?.toString(), 'captured body');
		assert.deepEqual(store.body(exchange.id, 'response'), reply.body);

		const ws = new WebSocket(`wss://localhost:${h.port}/`, ['vite-hmr'], { ca: h.ca.caPem });
		await new Promise((resolve) => ws.once('message', resolve));
		ws.send('hi');
		await new Promise((resolve) => ws.once('message', resolve));
		ws.close();
		await waitFor(() => store.list().some((e) => e.kind === 'websocket' && e.state === 'completed'), 5000, 'the WebSocket exchange');
		const socket = store.list().find((e) => e.kind === 'websocket')!;
		assert.ok(socket.messages!.some((m) => m.direction === 'client' && m.opcode === 1));
		assert.ok(socket.messages!.some((m) => m.direction === 'server' && m.opcode === 1));
	});
});
