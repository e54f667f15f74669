import * as assert from 'node:assert/strict';
import { CaptureStore } from '../../../src/core/capture';
import { toHar } from '../../../src/core/inspector/har';
import { exchangeDetails } from '../../../src/core/inspector/views';
import type { Exchange } from '../../../src/shared/exchange';
import { startDevServer } from '../../fixtures/proxy/devServer';
import { h1Request, h2Request, makeCa, startHarness, waitFor, type Harness, type Reply, type RequestOptions, type TestCa } from './helpers';

type Protocol = 'h1' | 'h2';

/** A request through the proxy that names `authority` as its Host (HTTP/1.1) or :authority (HTTP/2). */
function send(protocol: Protocol, ca: TestCa, port: number, path: string, authority: string): Promise<Reply> {
	const options: RequestOptions = { headers: protocol === 'h1' ? { host: authority } : { ':authority': authority } };
	return protocol === 'h1' ? h1Request(ca, port, path, options) : h2Request(ca, port, path, options);
}

/** The dev server's /redirect route, answering with these headers. */
function redirect(headers: Record<string, string>, code = 302): string {
	return `/redirect?${new URLSearchParams({ code: String(code), ...headers })}`;
}

describe('proxy: redirects to the dev server\'s own origin stay on HTTPS', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let h: Harness;
	const store = new CaptureStore();

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca, { capture: store });
	});
	after(async () => {
		await h?.close();
		store.dispose();
	});

	const captured = async (path: string): Promise<Exchange> => {
		await waitFor(() => store.list().some((e) => e.request?.path === path && e.state === 'completed'), 5000, path);
		return store.list().findLast((e) => e.request?.path === path)!;
	};

	for (const protocol of ['h1', 'h2'] as const) {
		it(`${protocol}: Location in any spelling of the target's origin becomes https://<the authority the browser used>/path`, async () => {
			const dev = h.dev.port;
			const spellings = [`http://localhost:${dev}`, `http://127.0.0.1:${dev}`, `http://[::1]:${dev}`, `HTTP://LocalHost:${dev}`];
			const authorities = [`localhost:${h.port}`, `127.0.0.1:${h.port}`, `[::1]:${h.port}`, `app.localhost:${h.port}`];
			for (const spelling of spellings) {
				for (const authority of authorities) {
					const reply = await send(protocol, ca, h.port, redirect({ Location: `${spelling}/dashboard?tab=1#top` }), authority);
					assert.equal(reply.status, 302);
					assert.equal(reply.headers.location, `https://${authority}/dashboard?tab=1#top`, `${spelling} via ${authority}`);
				}
			}
		});

		it(`${protocol}: Content-Location and Refresh too; every other URL untouched`, async () => {
			const dev = h.dev.port;
			const authority = `localhost:${h.port}`;
			const both = await send(protocol, ca, h.port, redirect({ 'Content-Location': `http://127.0.0.1:${dev}/item/1`, Refresh: `3; url=http://localhost:${dev}/next` }, 200), authority);
			assert.equal(both.headers['content-location'], `https://${authority}/item/1`);
			assert.equal(both.headers.refresh, `3; url=https://${authority}/next`);
			for (const other of [`http://localhost:${dev + 1}/x`, `http://example.com:${dev}/x`, '/relative', 'relative', '//example.com/x',
				`https://localhost:${dev}/x`, `http://user@localhost:${dev}/x`]) {
				const reply = await send(protocol, ca, h.port, redirect({ Location: other, Refresh: `0; url=${other}` }), authority);
				assert.equal(reply.headers.location, other);
				assert.equal(reply.headers.refresh, `0; url=${other}`);
			}
		});

		it(`${protocol}: the capture keeps what the browser received and the original, for the inspector and HAR`, async () => {
			const original = `http://localhost:${h.dev.port}/dashboard`;
			const path = redirect({ 'X-Before': 'a', Location: original, Refresh: '5' });
			const reply = await send(protocol, ca, h.port, path, `localhost:${h.port}`);
			const received = `https://localhost:${h.port}/dashboard`;
			assert.equal(reply.headers.location, received);
			const exchange = await captured(path);
			const headers = exchange.response!.headers;
			const index = headers.findIndex(([name]) => name === 'Location');
			assert.deepEqual(headers[index], ['Location', received]);
			assert.deepEqual(exchange.response!.rewritten, [{ index, original }]);
			assert.ok(headers.some(([name, value]) => name === 'Refresh' && value === '5'), 'headers not rewritten stay as sent');
			// The inspector's details carry both; HAR what the browser received.
			const details = await exchangeDetails(store, exchange.id);
			assert.deepEqual(details!.response!.rewritten, [{ index, original }]);
			assert.deepEqual(details!.response!.headers[index], ['Location', received]);
			const har = toHar([exchange], (id, side) => store.body(id, side)).log.entries[0].response;
			assert.equal(har.redirectURL, received);
			assert.ok(har.headers.some(({ name, value }) => name === 'Location' && value === received));
			assert.ok(!JSON.stringify(har).includes(original));
		});
	}

	it('leaves Location alone with rewriteRedirects off (and records nothing rewritten)', async () => {
		const off = new CaptureStore();
		const plain = await startHarness(ca, { rewriteRedirects: false, capture: off });
		try {
			const location = `http://localhost:${plain.dev.port}/dashboard`;
			for (const protocol of ['h1', 'h2'] as const) {
				const reply = await send(protocol, ca, plain.port, redirect({ Location: location, Refresh: `0; url=${location}` }), `localhost:${plain.port}`);
				assert.equal(reply.headers.location, location);
				assert.equal(reply.headers.refresh, `0; url=${location}`);
			}
			await waitFor(() => off.list().filter((e) => e.state === 'completed').length === 2, 5000, 'both exchanges');
			assert.ok(off.list().every((e) => e.response!.rewritten === undefined));
		} finally {
			await plain.close();
			off.dispose();
		}
	});

	it('TLS forward mode: rewrites https://localhost:<target port>, not http://', async () => {
		const leaf = await ca.stored.ca.issue(['localhost', '127.0.0.1']);
		const dev = await startDevServer({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
		const forward = await startHarness(ca, { target: `https://localhost:${dev.port}` });
		try {
			const authority = `localhost:${forward.port}`;
			assert.equal((await send('h2', ca, forward.port, redirect({ Location: `https://127.0.0.1:${dev.port}/a` }), authority)).headers.location, `https://${authority}/a`);
			assert.equal((await send('h1', ca, forward.port, redirect({ Location: `http://127.0.0.1:${dev.port}/a` }), authority)).headers.location, `http://127.0.0.1:${dev.port}/a`);
		} finally {
			await forward.close();
			await dev.close();
		}
	});
});
