import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { runAsync } from '../helpers';
import { h1Request, h2Request, makeCa, startHarness, type Harness, type TestCa } from './helpers';

/** Header value from a flat raw header list (first match, case-insensitive). */
function rawValue(raw: string[], name: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		if (raw[i].toLowerCase() === name) { return raw[i + 1]; }
	}
	return undefined;
}

describe('proxy: forwarding', function () {
	this.timeout(30_000);
	let ca: TestCa;
	let h: Harness;

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca, {}, { downloadSize: 50 * 1024 * 1024 });
	});
	after(async () => { await h?.close(); });

	it('serves HTTP/2 to curl --http2 with only our CA trusted', async () => {
		const result = await runAsync('curl', ['-sS', '--http2', '--cacert', ca.caFile, '-o', '-', '-w', '\n%{http_version} %{http_code}', `https://localhost:${h.port}/hello`]);
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout, 'hello\n2 200');
	});

	it('serves HTTP/1.1 to curl --http1.1', async () => {
		const result = await runAsync('curl', ['-sS', '--http1.1', '--cacert', ca.caFile, '-o', '-', '-w', '\n%{http_version} %{http_code}', `https://localhost:${h.port}/hello`]);
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout, 'hello\n1.1 200');
	});

	it('negotiates TLS 1.3 and ALPN h2 (openssl s_client)', async () => {
		const result = await runAsync('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${h.port} -servername localhost -alpn h2 -CAfile '${ca.caFile}' 2>&1`]);
		assert.match(result.stdout, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/);
		assert.match(result.stdout, /ALPN protocol: h2/);
		assert.match(result.stdout, /Verify return code: 0 \(ok\)/);
	});

	it('accepts TLS 1.2 clients', async () => {
		const result = await runAsync('curl', ['-sS', '--tlsv1.2', '--tls-max', '1.2', '--cacert', ca.caFile, '-w', ' %{http_version}', `https://localhost:${h.port}/hello`]);
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout, 'hello 2');
	});

	it('answers Node https and http2 clients on both loopback addresses', async () => {
		assert.deepEqual(h.urls, [`https://localhost:${h.port}`, `https://127.0.0.1:${h.port}`, `https://[::1]:${h.port}`]);
		for (const host of ['127.0.0.1', '::1']) {
			const one = await h1Request(ca, h.port, '/hello', { host });
			assert.equal(one.status, 200);
			assert.equal(one.body.toString(), 'hello');
			assert.equal(one.alpn, 'http/1.1');
			const two = await h2Request(ca, h.port, '/hello', { host });
			assert.equal(two.status, 200);
			assert.equal(two.body.toString(), 'hello');
			assert.equal(two.alpn, 'h2');
		}
	});

	it('serves a certificate for a *.localhost name (SNI) and for clients connecting by IP', async () => {
		const named = await h1Request(ca, h.port, '/hello', { servername: 'app.localhost' });
		assert.equal(named.status, 200);
		const byIp = await new Promise<number>((resolve, reject) => {
			https.get({ host: '127.0.0.1', port: h.port, path: '/hello', ca: ca.caPem, agent: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject);
		});
		assert.equal(byIp, 200);
	});

	it('keeps Host, adds X-Forwarded-* and Forwarded, strips hop-by-hop request headers (HTTP/1.1)', async () => {
		const reply = await h1Request(ca, h.port, '/echo?x=1', {
			method: 'POST',
			headers: { 'Connection': 'keep-alive, X-Hop', 'X-Hop': 'secret', 'Keep-Alive': 'timeout=1', 'Proxy-Authorization': 'Basic x', 'TE': 'trailers', 'X-Forwarded-For': '10.0.0.1', 'X-Case-Kept': 'v', 'Content-Type': 'text/plain' },
			body: 'payload',
		});
		const echoed = JSON.parse(reply.body.toString()) as { method: string; url: string; rawHeaders: string[]; body: string };
		assert.equal(echoed.method, 'POST');
		assert.equal(echoed.url, '/echo?x=1');
		assert.equal(echoed.body, 'payload');
		const raw = echoed.rawHeaders;
		assert.equal(rawValue(raw, 'host'), `localhost:${h.port}`);
		assert.equal(rawValue(raw, 'x-forwarded-for'), '10.0.0.1, 127.0.0.1');
		assert.equal(rawValue(raw, 'x-forwarded-proto'), 'https');
		assert.equal(rawValue(raw, 'x-forwarded-host'), `localhost:${h.port}`);
		assert.equal(rawValue(raw, 'forwarded'), `for=127.0.0.1;host="localhost:${h.port}";proto=https`);
		for (const hop of ['x-hop', 'keep-alive', 'proxy-authorization', 'te']) { assert.equal(rawValue(raw, hop), undefined, hop); }
		assert.ok(raw.includes('X-Case-Kept'), 'header case kept');
		assert.equal(rawValue(raw, 'connection'), 'keep-alive', 'the proxy\'s own keep-alive to the dev server');
	});

	it('maps HTTP/2 :authority to Host and joins split cookies (HTTP/2)', async () => {
		const reply = await h2Request(ca, h.port, '/echo', { headers: { cookie: ['a=1', 'b=2'], 'x-forwarded-proto': 'http' } });
		const raw = (JSON.parse(reply.body.toString()) as { rawHeaders: string[] }).rawHeaders;
		assert.equal(raw[0], 'Host');
		assert.equal(raw[1], `localhost:${h.port}`);
		assert.equal(rawValue(raw, 'cookie'), 'a=1; b=2');
		assert.equal(rawValue(raw, 'x-forwarded-proto'), 'https');
		assert.equal(raw.filter((name) => name.toLowerCase() === 'x-forwarded-proto').length, 1);
		assert.equal(rawValue(raw, 'forwarded'), `for=127.0.0.1;host="localhost:${h.port}";proto=https`);
	});

	it('strips hop-by-hop and (on loopback) HSTS response headers, keeps the rest', async () => {
		const one = await h1Request(ca, h.port, '/headers', { headers: { connection: 'keep-alive' } });
		assert.equal(one.headers['x-kept'], 'yes');
		assert.deepEqual(one.headers['set-cookie'], ['a=1', 'b=2']);
		for (const hop of ['x-private', 'proxy-authenticate', 'strict-transport-security']) { assert.equal(one.headers[hop], undefined, hop); }
		assert.equal(one.headers.connection, 'keep-alive', 'the proxy\'s own connection handling, not the dev server\'s');
		const two = await h2Request(ca, h.port, '/headers');
		assert.equal(two.status, 200);
		assert.equal(two.headers['x-kept'], 'yes');
		for (const hop of ['x-private', 'keep-alive', 'connection', 'proxy-authenticate', 'strict-transport-security']) { assert.equal(two.headers[hop], undefined, hop); }
	});

	it('streams server-sent events: the first event arrives before the dev server finishes', async () => {
		for (const version of ['1.1', '2'] as const) {
			const first = await new Promise<string>((resolve, reject) => {
				const onData = (chunk: Buffer): void => resolve(chunk.toString());
				if (version === '2') {
					const session = http2.connect(`https://localhost:${h.port}`, { ca: ca.caPem, host: '127.0.0.1' });
					session.on('error', reject);
					const stream = session.request({ ':path': '/sse' });
					stream.once('data', (chunk: Buffer) => { onData(chunk); stream.on('end', () => session.close()); h.dev.releaseSse(); stream.resume(); });
					stream.on('error', reject);
					stream.end();
				} else {
					https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/sse', ca: ca.caPem, agent: false }, (res) => {
						assert.equal(res.headers['content-type'], 'text/event-stream');
						res.once('data', (chunk: Buffer) => { onData(chunk); h.dev.releaseSse(); res.resume(); });
					}).on('error', reject);
				}
			});
			assert.equal(first, 'data: first\n\n', `HTTP/${version}`);
		}
	});

	it('streams a 50 MiB download and upload with matching SHA-256 (HTTP/1.1 and HTTP/2)', async () => {
		const download = await runAsync('sh', ['-c', `curl -sS --http2 --cacert '${ca.caFile}' https://localhost:${h.port}/download | sha256sum`]);
		assert.equal(download.stdout.split(' ')[0], h.dev.download.sha256);
		const download1 = await h1Request(ca, h.port, '/download');
		assert.equal(createHash('sha256').update(download1.body).digest('hex'), h.dev.download.sha256);
		const upload = randomBytes(50 * 1024 * 1024);
		const sha256 = createHash('sha256').update(upload).digest('hex');
		const one = JSON.parse((await h1Request(ca, h.port, '/upload', { method: 'POST', body: upload })).body.toString()) as { size: number; sha256: string };
		assert.deepEqual(one, { size: upload.length, sha256 });
		const two = JSON.parse((await h2Request(ca, h.port, '/upload', { method: 'PUT', body: upload })).body.toString()) as { size: number; sha256: string };
		assert.deepEqual(two, { size: upload.length, sha256 });
	});

	it('forwards HEAD, 204 and 304 without bodies', async () => {
		for (const code of [204, 304]) {
			assert.equal((await h2Request(ca, h.port, `/status?code=${code}`)).status, code);
			assert.equal((await h1Request(ca, h.port, `/status?code=${code}`)).status, code);
		}
		const head = await h2Request(ca, h.port, '/hello', { method: 'HEAD' });
		assert.equal(head.status, 200);
		assert.equal(head.headers['content-length'], '5');
		assert.equal(head.body.length, 0);
	});

	it('serves many concurrent HTTP/2 streams on one session', async () => {
		const session = http2.connect(`https://localhost:${h.port}`, { ca: ca.caPem, host: '127.0.0.1' });
		try {
			const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => h2Request(ca, h.port, `/hello?stream=${i}`, { session })));
			assert.ok(replies.every((reply) => reply.status === 200 && reply.body.toString() === 'hello'));
			// Each stream is forwarded exactly once (Node's HTTP/2 compatibility layer is not also at work).
			assert.equal(h.dev.seen.filter((s) => s.url.startsWith('/hello?stream=')).length, 100);
		} finally {
			session.close();
		}
	});
});
