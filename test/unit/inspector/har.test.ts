import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { toHar, writeHar } from '../../../src/core/inspector/har';
import { redactHeader } from '../../../src/core/inspector/redaction';
import { flat, init, request, sleep } from '../capture/helpers';

type Json = Record<string, unknown>;

/** Checks a value against the HAR 1.2 spec's required fields and types (http://www.softwareishard.com/blog/har-12-spec/). */
function checkHar(har: unknown): void {
	const isObject = (v: unknown, at: string): Json => {
		assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${at} is an object`);
		return v as Json;
	};
	const field = (o: Json, key: string, type: 'string' | 'number' | 'boolean' | 'object' | 'array', at: string, optional = false): unknown => {
		const v = o[key];
		if (optional && v === undefined) return undefined;
		if (type === 'array') assert.ok(Array.isArray(v), `${at}.${key} is an array`);
		else if (type === 'object') isObject(v, `${at}.${key}`);
		else assert.equal(typeof v, type, `${at}.${key} is a ${type}`);
		if (type === 'number') assert.ok(Number.isFinite(v), `${at}.${key} is finite`);
		return v;
	};
	const nameValues = (list: unknown, at: string) => (list as unknown[]).forEach((nv, i) => {
		const o = isObject(nv, `${at}[${i}]`);
		field(o, 'name', 'string', `${at}[${i}]`);
		field(o, 'value', 'string', `${at}[${i}]`);
	});
	const log = isObject(isObject(har, 'har').log, 'log');
	assert.equal(field(log, 'version', 'string', 'log'), '1.2');
	const creator = field(log, 'creator', 'object', 'log') as Json;
	field(creator, 'name', 'string', 'creator');
	field(creator, 'version', 'string', 'creator');
	for (const [i, e] of (field(log, 'entries', 'array', 'log') as unknown[]).entries()) {
		const at = `entries[${i}]`;
		const entry = isObject(e, at);
		assert.match(field(entry, 'startedDateTime', 'string', at) as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
		const time = field(entry, 'time', 'number', at) as number;
		field(entry, 'cache', 'object', at);
		field(entry, 'serverIPAddress', 'string', at, true);
		field(entry, 'connection', 'string', at, true);

		const req = field(entry, 'request', 'object', at) as Json;
		field(req, 'method', 'string', `${at}.request`);
		new URL(field(req, 'url', 'string', `${at}.request`) as string);
		field(req, 'httpVersion', 'string', `${at}.request`);
		nameValues(field(req, 'cookies', 'array', `${at}.request`), `${at}.request.cookies`);
		nameValues(field(req, 'headers', 'array', `${at}.request`), `${at}.request.headers`);
		nameValues(field(req, 'queryString', 'array', `${at}.request`), `${at}.request.queryString`);
		field(req, 'headersSize', 'number', `${at}.request`);
		field(req, 'bodySize', 'number', `${at}.request`);
		const postData = field(req, 'postData', 'object', `${at}.request`, true) as Json | undefined;
		if (postData) {
			field(postData, 'mimeType', 'string', `${at}.request.postData`);
			field(postData, 'text', 'string', `${at}.request.postData`);
		}

		const res = field(entry, 'response', 'object', at) as Json;
		field(res, 'status', 'number', `${at}.response`);
		field(res, 'statusText', 'string', `${at}.response`);
		field(res, 'httpVersion', 'string', `${at}.response`);
		nameValues(field(res, 'cookies', 'array', `${at}.response`), `${at}.response.cookies`);
		nameValues(field(res, 'headers', 'array', `${at}.response`), `${at}.response.headers`);
		field(res, 'redirectURL', 'string', `${at}.response`);
		field(res, 'headersSize', 'number', `${at}.response`);
		field(res, 'bodySize', 'number', `${at}.response`);
		const content = field(res, 'content', 'object', `${at}.response`) as Json;
		field(content, 'size', 'number', `${at}.response.content`);
		field(content, 'mimeType', 'string', `${at}.response.content`);
		field(content, 'compression', 'number', `${at}.response.content`, true);
		field(content, 'text', 'string', `${at}.response.content`, true);
		field(content, 'encoding', 'string', `${at}.response.content`, true);

		const timings = field(entry, 'timings', 'object', at) as Json;
		let sum = 0;
		for (const key of ['send', 'wait', 'receive']) assert.ok((field(timings, key, 'number', `${at}.timings`) as number) >= 0, `${at}.timings.${key} >= 0`);
		for (const key of ['blocked', 'dns', 'connect', 'ssl']) assert.ok((field(timings, key, 'number', `${at}.timings`, true) as number ?? -1) >= -1);
		// `ssl` is included in `connect` (HAR 1.2), so it is not added again.
		for (const key of ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']) sum += Math.max(0, (timings[key] as number | undefined) ?? 0);
		assert.ok(Math.abs(sum - time) < 1e-6, `${at}: time ${time} = sum of timings ${sum}`);
	}
}

describe('HAR export', () => {
	let store: CaptureStore;
	afterEach(() => store?.dispose());

	async function populate(): Promise<Record<string, number>> {
		store = new CaptureStore({ bodyLimit: 64 * 1024 });
		const ids: Record<string, number> = {};

		const post = store.beginExchange(init({
			request: request({ method: 'POST', path: '/api/items?q=a%20b&flag&x=1+2', httpVersion: '2', headers: [
				[':method', 'POST'], [':authority', 'localhost:8443'], [':path', '/api/items?q=a%20b&flag&x=1+2'], ['content-type', 'application/json'],
				['cookie', 'session=abc; theme=dark'], ['accept-encoding', 'gzip, br'], ['authorization', 'Bearer eyJhbGciOi.secret'],
				['proxy-authorization', 'Basic dXNlcjpwYXNz'],
			] }),
		}))!;
		ids.post = post.id;
		post.requestBody(Buffer.from('{"name":"thing"}'));
		post.upstreamConnected(false);
		await sleep(2);
		post.requestSent();
		await sleep(2);
		const json = Buffer.from(JSON.stringify({ items: Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` })) }));
		const gz = zlib.gzipSync(json);
		post.response(201, 'Created', flat([
			['Content-Type', 'application/json; charset=utf-8'], ['Content-Encoding', 'gzip'], ['Set-Cookie', 'session=xyz; Path=/; HttpOnly; Secure; SameSite=Lax'],
			['Location', '/api/items/7'],
		]));
		post.responseBody(gz.subarray(0, 10));
		post.responseBody(gz.subarray(10));
		await sleep(2);
		post.finish('completed');

		const image = store.beginExchange(init({ request: request({ path: '/logo.png' }) }))!;
		ids.image = image.id;
		image.upstreamConnected(true);
		image.requestSent();
		image.response(200, 'OK', flat([['Content-Type', 'image/png']]));
		image.responseBody(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff]));
		image.finish('completed');

		const br = store.beginExchange(init({ request: request({ path: '/main.js' }) }))!;
		ids.br = br.id;
		br.requestSent();
		br.response(200, 'OK', flat([['content-type', 'text/javascript'], ['content-encoding', 'br']]));
		br.responseBody(zlib.brotliCompressSync(Buffer.from('console.log("héllo");')));
		br.finish('completed');

		const failed = store.beginExchange(init({ request: request({ path: '/down' }) }))!;
		ids.failed = failed.id;
		failed.finish('upstream-error', 'connect ECONNREFUSED 127.0.0.1:5173');

		const ws = store.beginExchange(init({ kind: 'websocket', request: request({ path: '/?token=1', headers: [['Host', 'localhost:8443'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Protocol', 'vite-hmr']] }) }))!;
		ids.ws = ws.id;
		ws.upstreamConnected(false);
		ws.requestSent();
		ws.response(101, 'Switching Protocols', flat([['Upgrade', 'websocket'], ['Sec-WebSocket-Protocol', 'vite-hmr']]));
		ws.webSocketMessage({ direction: 'server', opcode: 1, size: 16, payload: Buffer.from('{"type":"connected"}'), truncated: false, compressed: false });
		ws.webSocketMessage({ direction: 'client', opcode: 2, size: 3, payload: Buffer.from([1, 2, 3]), truncated: false, compressed: false });
		const deflated = zlib.deflateRawSync(Buffer.from('{"type":"update"}'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
		ws.webSocketMessage({ direction: 'server', opcode: 1, size: deflated.length, payload: deflated, truncated: false, compressed: true });
		const close = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]);
		ws.webSocketMessage({ direction: 'client', opcode: 8, size: 5, payload: close, truncated: false, compressed: false });
		ws.finish('completed');

		store.tlsFailure({ client: '127.0.0.1:40000', tls: { sni: 'localhost' }, error: 'tlsv1 alert unknown ca', startMonotonic: performance.now() });
		// In flight at export time.
		ids.pending = store.beginExchange(init({ request: request({ path: '/slow' }) }))!.id;
		return ids;
	}

	it('produces valid HAR 1.2 with timings that add up', async () => {
		await populate();
		const har = toHar(store.list(), (id, side) => store.body(id, side), { name: 'TLS Lens', version: '0.1.0' });
		checkHar(JSON.parse(JSON.stringify(har)));
		assert.deepEqual(har.log.creator, { name: 'TLS Lens', version: '0.1.0' });
		assert.equal(har.log.entries.length, 6);
	});

	it('carries requests, decoded responses, cookies, TLS details and WebSocket messages', async () => {
		const ids = await populate();
		const har = toHar(store.list(), (id, side) => store.body(id, side), { name: 'TLS Lens', version: '0.1.0' }, { serverIPAddress: '127.0.0.1', includeSensitive: true });
		const byId = new Map(har.log.entries.map((e) => [e._id, e]));

		const post = byId.get(ids.post)!;
		assert.equal(post.request.url, 'https://localhost:8443/api/items?q=a%20b&flag&x=1+2');
		assert.equal(post.request.httpVersion, 'HTTP/2');
		assert.equal(post.request.headers[0].name, ':method', 'raw order, pseudo-headers included');
		assert.deepEqual(post.request.queryString, [{ name: 'q', value: 'a b' }, { name: 'flag', value: '' }, { name: 'x', value: '1 2' }]);
		assert.deepEqual(post.request.cookies, [{ name: 'session', value: 'abc' }, { name: 'theme', value: 'dark' }]);
		assert.ok(post.request.headers.some((h) => h.name === 'authorization' && h.value === 'Bearer eyJhbGciOi.secret'), 'asked for: as sent');
		assert.equal(har.log.comment, undefined);
		assert.deepEqual(post.request.postData, { mimeType: 'application/json', text: '{"name":"thing"}' });
		assert.equal(post.request.bodySize, 16);
		assert.equal(post.response.status, 201);
		assert.equal(post.response.redirectURL, '/api/items/7');
		assert.deepEqual(post.response.cookies, [{ name: 'session', value: 'xyz', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }]);
		const items = JSON.parse(post.response.content.text!);
		assert.equal(items.items.length, 200);
		assert.equal(post.response.content.size, Buffer.byteLength(post.response.content.text!));
		assert.equal(post.response.content.compression, post.response.content.size - post.response.bodySize);
		assert.ok(post.timings.connect >= 0 && post.timings.send >= 1 && post.timings.wait >= 1);
		assert.equal(post.serverIPAddress, '127.0.0.1');
		assert.equal(post.connection, '50000');
		assert.equal(post._tls.protocol, 'TLSv1.3');
		assert.equal(post._tls.alpn, 'h2');

		const image = byId.get(ids.image)!;
		assert.equal(image.response.content.encoding, 'base64');
		assert.deepEqual(Buffer.from(image.response.content.text!, 'base64'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff]));
		assert.equal(image.timings.connect, -1, 'reused upstream connection');

		assert.equal(byId.get(ids.br)!.response.content.text, 'console.log("héllo");');

		const failed = byId.get(ids.failed)!;
		assert.equal(failed.response.status, 0);
		assert.equal(failed.response._error, 'connect ECONNREFUSED 127.0.0.1:5173');
		assert.equal(failed._state, 'upstream-error');

		const ws = byId.get(ids.ws)!;
		assert.equal(ws._resourceType, 'websocket');
		assert.equal(ws.response.status, 101);
		const messages = ws._webSocketMessages!;
		assert.deepEqual(messages.map((m) => [m.type, m.opcode, m.data]), [
			['receive', 1, '{"type":"connected"}'],
			['send', 2, 'AQID'],
			['receive', 1, '{"type":"update"}'],
			['send', 8, '1000 bye'],
		]);
		assert.ok(messages.every((m) => Math.abs(m.time - Date.now() / 1000) < 60), 'seconds since the epoch');

		assert.equal(byId.get(ids.pending)!._state, 'pending');
		assert.equal(har.log._tlsErrors!.length, 1);
		assert.equal(har.log._tlsErrors![0].error, 'tlsv1 alert unknown ca');
	});

	it('redacts credentials and cookies by default, keeping names, schemes and cookie attributes', async () => {
		const ids = await populate();
		const har = toHar(store.list(), (id, side) => store.body(id, side));
		const post = har.log.entries.find((e) => e._id === ids.post)!;
		const value = (headers: Array<{ name: string; value: string }>, name: string): string | undefined => headers.find((h) => h.name.toLowerCase() === name)?.value;
		assert.equal(value(post.request.headers, 'authorization'), 'Bearer [redacted]');
		assert.equal(value(post.request.headers, 'proxy-authorization'), 'Basic [redacted]');
		assert.equal(value(post.request.headers, 'cookie'), 'session=[redacted]; theme=[redacted]');
		assert.equal(value(post.response.headers, 'set-cookie'), 'session=[redacted]; Path=/; HttpOnly; Secure; SameSite=Lax');
		assert.deepEqual(post.request.cookies, [{ name: 'session', value: '[redacted]' }, { name: 'theme', value: '[redacted]' }]);
		assert.deepEqual(post.response.cookies, [{ name: 'session', value: '[redacted]', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }]);
		// Everything else is as sent, and the file says what it left out.
		assert.equal(value(post.request.headers, 'content-type'), 'application/json');
		assert.equal(value(post.response.headers, 'location'), '/api/items/7');
		assert.match(har.log.comment!, /Authorization, Proxy-Authorization, Cookie and Set-Cookie/);
		const text = JSON.stringify(har);
		for (const secret of ['eyJhbGciOi', 'dXNlcjpwYXNz', 'session=abc', '"abc"', 'session=xyz', '"xyz"', 'theme=dark', '"dark"']) assert.ok(!text.includes(secret), `${secret} leaked`);
		checkHar(JSON.parse(text));
	});

	it('redacts each header form: schemes, bare tokens, cookie pairs without a name, any case', () => {
		assert.equal(redactHeader('Authorization', 'Bearer abc.def'), 'Bearer [redacted]');
		assert.equal(redactHeader('AUTHORIZATION', 'Digest username="u", response="r"'), 'Digest [redacted]');
		assert.equal(redactHeader('authorization', 'opaque-token'), '[redacted]', 'no scheme: all of it');
		assert.equal(redactHeader('authorization', 'Bearer '), '[redacted]');
		assert.equal(redactHeader('Cookie', 'a=1;b=2; ; lonely'), 'a=[redacted]; b=[redacted]; [redacted]');
		assert.equal(redactHeader('set-cookie', 'token=s3cret'), 'token=[redacted]');
		assert.equal(redactHeader('Set-Cookie', 'id=a=b; Expires=Wed, 21 Oct 2026 07:28:00 GMT'), 'id=[redacted]; Expires=Wed, 21 Oct 2026 07:28:00 GMT');
		assert.equal(redactHeader('x-api-key', 'kept'), 'kept', 'only the four named headers');
	});

	it('marks truncated bodies and decodes what was kept', () => {
		store = new CaptureStore({ bodyLimit: 100 });
		const r = store.beginExchange(init())!;
		const body = Buffer.from('€'.repeat(200));
		r.response(200, 'OK', flat([['Content-Type', 'text/plain; charset=utf-8']]));
		r.responseBody(body);
		r.finish('completed');
		const [entry] = toHar(store.list(), (id, side) => store.body(id, side)).log.entries;
		assert.equal(entry.response.content._truncated, true);
		// 100 bytes cut inside a 3-byte character: the 33 whole ones are shown as text.
		assert.equal(entry.response.content.text, '€'.repeat(33));
		assert.equal(entry.response.bodySize, 600);
	});

	it('writes a HAR file', async () => {
		await populate();
		const dir = await mkdtemp(join(tmpdir(), 'tls-lens-har-'));
		try {
			const file = join(dir, 'capture.har');
			await writeHar(file, toHar(store.list(), (id, side) => store.body(id, side)));
			const parsed = JSON.parse(await readFile(file, 'utf8'));
			checkHar(parsed);
			assert.equal(parsed.log.creator.name, 'TLS Lens');
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});
});
