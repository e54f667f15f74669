import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { CaptureStore } from '../../../src/core/capture';
import { toHar } from '../../../src/core/inspector/har';
import { applyFilter } from '../../../src/shared/filter';
import { summarize } from '../../../src/shared/summary';
import type { Exchange } from '../../../src/shared/exchange';
import { makeCa, startHarness, waitFor, type Harness } from './helpers';

describe('proxy: a stream the client closes is a normal end, not an error', function () {
	this.timeout(20_000);
	let h: Harness;
	const store = new CaptureStore();

	before(async () => { h = await startHarness(await makeCa(), { capture: store }); });
	after(async () => {
		await h?.close();
		store.dispose();
	});

	/** The newest /sse exchange, once it has ended. */
	const ended = async (): Promise<Exchange> => {
		const latest = (): Exchange | undefined => store.list().findLast((e) => e.request?.path === '/sse');
		await waitFor(() => latest() !== undefined && latest()!.state !== 'pending', 5000, 'the SSE exchange to end');
		return latest()!;
	};

	const checkClosed = (exchange: Exchange): void => {
		assert.equal(exchange.state, 'closed-by-client');
		assert.equal(exchange.error, undefined);
		assert.equal(exchange.response?.statusCode, 200);
		assert.equal(store.body(exchange.id, 'response')?.toString(), 'data: first\n\n', 'what the client got before it closed');
		assert.ok(exchange.timings.end !== undefined);
		// The inspector's row: the state, no error; `status:error` does not list it, `status:closed` does.
		const row = summarize(exchange);
		assert.equal(row.state, 'closed-by-client');
		assert.equal(row.error, undefined);
		assert.deepEqual(applyFilter('status:error', [row]), []);
		assert.deepEqual(applyFilter('status:closed', [row]), [row]);
		const har = toHar([exchange], (id, side) => store.body(id, side)).log.entries[0];
		assert.equal(har._state, 'closed-by-client');
		assert.equal(har.response._error, undefined);
	};

	it('HTTP/1.1: an EventSource-style client that closes after the first event', async () => {
		await new Promise<void>((resolve, reject) => {
			const req = https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/sse', ca: h.ca.caPem, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
				res.once('data', () => {
					req.destroy();
					resolve();
				});
			});
			req.on('error', (error) => { if (!req.destroyed) { reject(error); } });
		});
		checkClosed(await ended());
	});

	it('HTTP/2: a client that cancels the stream after the first event, on a session that stays open', async () => {
		const session = http2.connect(`https://localhost:${h.port}`, { ca: h.ca.caPem, host: '127.0.0.1' });
		try {
			await new Promise<void>((resolve, reject) => {
				const stream = session.request({ ':path': '/sse', accept: 'text/event-stream' });
				stream.on('error', () => { });
				stream.once('data', () => {
					// What Chrome does on EventSource.close() or an aborted fetch over HTTP/2: RST_STREAM(CANCEL).
					stream.close(http2.constants.NGHTTP2_CANCEL);
					resolve();
				});
				session.once('error', reject);
			});
			checkClosed(await ended());
		} finally {
			session.close();
		}
	});

	it('a client that goes away before any response is closed by the client too', async () => {
		const req = https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/slow', ca: h.ca.caPem, agent: false });
		req.on('error', () => { });
		await waitFor(() => h.dev.seen.some((s) => s.url === '/slow'), 5000, '/slow at the dev server');
		req.destroy();
		await waitFor(() => store.list().some((e) => e.request?.path === '/slow' && e.state !== 'pending'), 5000, '/slow to end');
		const exchange = store.list().find((e) => e.request?.path === '/slow')!;
		assert.equal(exchange.state, 'closed-by-client');
		assert.equal(exchange.error, undefined);
		assert.equal(exchange.response, undefined);
	});
});
