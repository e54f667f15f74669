import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { toCurl } from '../../../src/core/inspector/curl';
import { harForFilter, replay } from '../../../src/core/inspector/actions';
import { ProxySession } from '../../../src/core/session';
import { toFetch } from '../../../src/shared/fetchSnippet';
import { tempDir } from '../helpers';
import { flat, init, request, sleep } from '../capture/helpers';

function capture(store: CaptureStore, method: string, p: string, status: number, body?: string, headers: Array<[string, string]> = []): number {
	const recorder = store.beginExchange(init({ request: request({ method, path: p, headers: [['Host', 'localhost:8443'], ...headers] }) }))!;
	if (body !== undefined) recorder.requestBody(Buffer.from(body));
	recorder.response(status, 'X', flat([['content-type', 'application/json'], ['content-encoding', 'gzip']]));
	recorder.responseBody(zlib.gzipSync(JSON.stringify({ p })));
	recorder.finish('completed');
	return recorder.id;
}

describe('inspector export, copy and replay', () => {
	it('exports the HAR of what the filter shows, with decoded bodies', () => {
		const store = new CaptureStore();
		try {
			capture(store, 'GET', '/api/a', 200);
			capture(store, 'POST', '/api/b', 404, '{"x":1}', [['Content-Type', 'application/json']]);
			capture(store, 'GET', '/page', 200);
			store.tlsFailure({ client: '127.0.0.1:1', tls: { sni: 'localhost' }, error: 'unknown ca', startMonotonic: performance.now() });
			const all = harForFilter(store, '', { name: 'TLS Lens', version: '1.0.0' });
			assert.equal(all.log.version, '1.2');
			assert.equal(all.log.entries.length, 3);
			assert.equal(all.log._tlsErrors?.length, 1);
			const errors = harForFilter(store, 'status:4xx', { name: 'TLS Lens', version: '1.0.0' });
			assert.deepEqual(errors.log.entries.map((e) => [e.request.method, e.request.url, e.response.status]), [['POST', 'https://localhost:8443/api/b', 404]]);
			assert.deepEqual(JSON.parse(errors.log.entries[0].response.content.text!), { p: '/api/b' });
			assert.equal(errors.log.entries[0].request.postData?.text, '{"x":1}');
			assert.equal(harForFilter(store, '-type:json', { name: 'x', version: '' }).log.entries.length, 0);
			// Survives a JSON round trip (what writeHar does).
			assert.deepEqual(JSON.parse(JSON.stringify(all)), all);
		} finally {
			store.dispose();
		}
	});

	it('Copy as fetch: runnable JavaScript that makes the same request', () => {
		const store = new CaptureStore();
		try {
			const id = capture(store, 'POST', '/api/b?q=1', 201, '{"name":"O\'Brien \\"x\\"\\u2028"}', [
				['Content-Type', 'application/json'], ['X-Custom', 'a "quoted" \'value\''], ['Cookie', 'sid=1'], ['Referer', 'https://localhost:8443/page'],
				['Connection', 'keep-alive'], ['Accept-Encoding', 'gzip'], ['Sec-Fetch-Mode', 'cors'],
			]);
			const exchange = store.get(id)!;
			const snippet = toFetch(exchange, store.body(id, 'request'));
			const calls: Array<[string, RequestInit & { referrer?: string }]> = [];
			new Function('fetch', snippet)((url: string, options: RequestInit) => { calls.push([url, options]); });
			assert.equal(calls.length, 1);
			const [url, options] = calls[0];
			assert.equal(url, 'https://localhost:8443/api/b?q=1');
			assert.equal(options.method, 'POST');
			assert.equal(options.body, '{"name":"O\'Brien \\"x\\"\\u2028"}');
			// Forbidden (Cookie, Referer, Connection, Accept-Encoding, Sec-*) and Host are left out; Cookie and Referer become options.
			assert.deepEqual(options.headers, { 'content-type': 'application/json', 'x-custom': 'a "quoted" \'value\'' });
			assert.equal(options.referrer, 'https://localhost:8443/page');
			assert.equal(options.credentials, 'include');
			// GET without a body, binary bodies as bytes.
			const get = capture(store, 'GET', '/x', 200);
			assert.doesNotThrow(() => new Function('fetch', toFetch(store.get(get)!, undefined))(() => undefined));
			const bin = capture(store, 'PUT', '/bin', 200, undefined);
			const withBytes = toFetch(store.get(bin)!, Buffer.from([0xff, 0x00, 0x01]));
			const seen: RequestInit[] = [];
			new Function('fetch', withBytes)((_u: string, o: RequestInit) => seen.push(o));
			assert.deepEqual(Array.from(seen[0].body as Uint8Array), [255, 0, 1]);
			assert.match(toFetch({ ...store.get(get)!, request: undefined, error: 'unknown ca' }), /^\/\/ exchange \d+ has no request \(unknown ca\)$/);
		} finally {
			store.dispose();
		}
	});

	it('Copy as cURL: the captured request as a shell command', () => {
		const store = new CaptureStore();
		try {
			const id = capture(store, 'POST', '/api/b', 201, '{"a":1}', [['Content-Type', 'application/json'], ['X-Evil', "$(touch /tmp/pwned)'`id`"]]);
			const curl = toCurl(store.get(id)!, store.body(id, 'request'));
			assert.match(curl, /^curl 'https:\/\/localhost:8443\/api\/b'/);
			assert.match(curl, /-H 'X-Evil: \$\(touch \/tmp\/pwned\)'\\''`id`'/);
			assert.match(curl, /--data-binary '\{"a":1\}'/);
		} finally {
			store.dispose();
		}
	});

	describe('Replay through a running proxy', function () {
		this.timeout(30_000);
		let dev: http.Server;
		let session: ProxySession;
		const seen: Array<{ method: string; url: string; headers: string[]; body: string }> = [];

		before(async () => {
			dev = http.createServer((req, res) => {
				let body = '';
				req.on('data', (c: Buffer) => { body += c; });
				req.on('end', () => {
					seen.push({ method: req.method!, url: req.url!, headers: req.rawHeaders, body });
					res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
					res.end('ok');
				});
			});
			await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', () => resolve()));
			session = await ProxySession.start({ target: (dev.address() as AddressInfo).port, port: 0, caDir: path.join(tempDir(), 'ca') });
		});
		after(async () => {
			await session?.stop();
			dev?.close();
		});

		it('resends method, path, headers and body; the replay is captured as a new exchange', async () => {
			const store = session.store!;
			const original = new CaptureStore();
			try {
				const id = capture(original, 'PUT', '/items/1?x=y', 200, 'payload', [['Content-Type', 'text/plain'], ['X-Trace', 'abc'], ['Connection', 'keep-alive']]);
				const before = store.list().length;
				const result = await replay(original.get(id)!, original.body(id, 'request'), { port: session.port, caPem: session.ca.ca.certPem });
				assert.deepEqual(result, { ok: true, status: 200 });
				const last = seen[seen.length - 1];
				assert.equal(last.method, 'PUT');
				assert.equal(last.url, '/items/1?x=y');
				assert.equal(last.body, 'payload');
				assert.ok(last.headers.includes('X-Trace'), 'header case kept');
				await sleep(200);
				const added = store.list().slice(before);
				assert.equal(added.length, 1);
				assert.equal(added[0].request?.path, '/items/1?x=y');
				assert.equal(added[0].request?.method, 'PUT');
			} finally {
				original.dispose();
			}
		});

		it('refuses what cannot be replayed faithfully', async () => {
			const original = new CaptureStore({ bodyLimit: 4 });
			try {
				const id = capture(original, 'POST', '/x', 200, 'longer than four');
				const result = await replay(original.get(id)!, original.body(id, 'request'), { port: session.port, caPem: session.ca.ca.certPem });
				assert.equal(result.ok, false);
				assert.match(result.error!, /cut by the capture limit/);
				const ws = original.beginExchange(init({ kind: 'websocket' }))!;
				assert.match((await replay(original.get(ws.id)!, undefined, { port: session.port, caPem: session.ca.ca.certPem })).error!, /WebSocket/);
			} finally {
				original.dispose();
			}
		});
	});
});
