import * as assert from 'node:assert/strict';
import * as tls from 'node:tls';
import WebSocket from 'ws';
import { CaptureStore } from '../../../src/core/capture';
import { exchangeDetails } from '../../../src/core/inspector/views';
import { h1Request, h2Request, makeCa, startHarness, waitFor, type Harness } from './helpers';

describe('proxy: with the real CaptureStore', function () {
	this.timeout(20_000);
	let h: Harness;
	const store = new CaptureStore();

	before(async () => { h = await startHarness(await makeCa(), { capture: store }); });
	after(async () => { await h?.close(); });

	it('stores HTTP/1.1 heads exactly as received: names in order and case, values without surrounding whitespace', async () => {
		// Over HTTP/1.1 the store keeps the head's text and splits it only when read.
		const head = 'GET /headers?via=raw HTTP/1.1\r\nHost: localhost\r\nX-Mixed-Case:  spaced \t value \t\r\n'
			+ 'x-empty:\r\nX-Colon: a: b:c\r\nx-latin1: caf\u00e9\r\nConnection: close\r\n\r\n';
		await new Promise<void>((resolve, reject) => {
			const socket = tls.connect({ host: '127.0.0.1', port: h.port, servername: 'localhost', ca: h.ca.caPem, ALPNProtocols: ['http/1.1'] }, () => socket.write(Buffer.from(head, 'latin1')));
			socket.on('data', () => { });
			socket.on('close', () => resolve());
			socket.on('error', reject);
		});
		const reply = await h1Request(h.ca, h.port, '/headers?via=node');
		await waitFor(() => store.list().filter((e) => e.request?.path.startsWith('/headers?via=') && e.state === 'completed').length === 2, 5000, 'both exchanges');
		const raw = store.list().find((e) => e.request?.path === '/headers?via=raw')!;
		assert.equal(raw.request!.authority, 'localhost');
		assert.equal(raw.request!.httpVersion, '1.1');
		assert.deepEqual(raw.request!.headers, [['Host', 'localhost'], ['X-Mixed-Case', 'spaced \t value'], ['x-empty', ''], ['X-Colon', 'a: b:c'], ['x-latin1', 'caf\u00e9'], ['Connection', 'close']]);
		// The response as the dev server sent it: what the client got, plus what the proxy strips (the
		// fixture's hop-by-hop fields and HSTS), but for the framing and connection fields it writes itself.
		const viaNode = store.list().find((e) => e.request?.path === '/headers?via=node')!;
		const stripped = ['X-Private', 'Proxy-Authenticate', 'Strict-Transport-Security'];
		const ignored = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', ...stripped.map((n) => n.toLowerCase())]);
		const pairs = (flat: readonly string[]): Array<[string, string]> => flat.flatMap((v, i) => i % 2 === 0 && !ignored.has(v.toLowerCase()) ? [[v, flat[i + 1]] as [string, string]] : []);
		assert.equal(viaNode.response!.statusCode, reply.status);
		assert.deepEqual(viaNode.response!.headers.filter(([name]) => !ignored.has(name.toLowerCase())), pairs(reply.rawHeaders));
		assert.deepEqual(viaNode.response!.headers.filter(([name]) => stripped.includes(name)).map(([name]) => name), stripped);
		assert.ok(pairs(reply.rawHeaders).length >= 2);
	});

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

	for (const protocol of ['HTTP/1.1', 'HTTP/2'] as const) {
		it(`reads server-sent events back with when each arrived (${protocol})`, async () => {
			const path = `/events?via=${protocol}`;
			const reply = protocol === 'HTTP/2' ? await h2Request(h.ca, h.port, path) : await h1Request(h.ca, h.port, path);
			assert.equal(reply.status, 200);
			await waitFor(() => store.list().some((e) => e.request?.path === path && e.state === 'completed'), 5000, 'the stream to end');
			const exchange = store.list().find((e) => e.request?.path === path)!;
			const details = (await exchangeDetails(store, exchange.id))!;
			const events = details.events!;
			assert.deepEqual(events.map(({ id, type, data, retry }) => ({ id, type, data, retry })), [
				{ id: '1', type: 'tick', data: 'one', retry: 3000 },
				{ id: '2', type: 'message', data: 'two\nlines', retry: undefined },
				{ id: '2', type: 'message', data: 'caf\u00e9 \u2713', retry: undefined },
			]);
			const times = events.map((e) => e.time!);
			assert.ok(times.every((t) => typeof t === 'number' && t >= 0), `times: ${times}`);
			assert.ok(times[1] - times[0] >= 100 && times[2] - times[1] >= 100, `120 ms apart as sent: ${times}`);
			assert.ok(times[2] <= exchange.timings.end!, 'none after the stream ended');
			assert.equal(details.eventsNote, undefined);
		});
	}
});
