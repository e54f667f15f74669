import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { decodeBody, toHar } from '../../../src/core/inspector';
import { ProxySession } from '../../../src/core/session';
import type { Exchange } from '../../../src/shared/exchange';
import { tempDir } from '../helpers';

const json = Buffer.from(JSON.stringify({ hello: 'world', list: Array.from({ length: 200 }, (_, i) => i) }));
const big = randomBytes(300 * 1024);

/** A dev server that answers compressed JSON and a body larger than the capture cap. */
function devServer(): http.Server {
	return http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			if (req.url === '/gzip') {
				res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'X-Order-B': '2', 'x-order-a': '1' });
				res.end(zlib.gzipSync(json));
			} else if (req.url === '/br') {
				res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
				res.end(zlib.brotliCompressSync(json));
			} else if (req.url === '/big') {
				res.end(big);
			} else {
				res.end(`got ${Buffer.concat(chunks).length} bytes`);
			}
		});
	});
}

function listen(server: http.Server): Promise<number> {
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Sends `count` GETs over one HTTP/2 session, `parallel` at a time. */
async function h2Requests(session: ProxySession, paths: string[], parallel = 50): Promise<number[]> {
	const client = http2.connect(session.url, { ca: session.ca.ca.certPem });
	client.on('error', () => { /* surfaces through the streams */ });
	const statuses: number[] = [];
	try {
		for (let i = 0; i < paths.length; i += parallel) {
			await Promise.all(paths.slice(i, i + parallel).map((p) => new Promise<void>((resolve, reject) => {
				const stream = client.request({ ':path': p, 'accept-encoding': 'gzip, br', 'x-test': 'Raw-Case' });
				stream.on('response', (headers) => statuses.push(headers[':status'] as number));
				stream.resume();
				stream.on('end', resolve);
				stream.on('error', reject);
			})));
		}
	} finally {
		client.close();
	}
	return statuses;
}

async function settled(session: ProxySession, predicate: (e: Exchange) => boolean): Promise<Exchange> {
	for (let i = 0; i < 100; i++) {
		const found = session.store!.list().find((e) => predicate(e) && e.state !== 'pending');
		if (found) { return found; }
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error('exchange not captured');
}

describe('capture through the proxy: records match what passed', function () {
	this.timeout(60_000);
	let server: http.Server;
	let session: ProxySession;

	before(async () => {
		server = devServer();
		const port = await listen(server);
		session = await ProxySession.start({ target: `127.0.0.1:${port}`, port: 0, caDir: path.join(tempDir(), 'ca'), bodyLimit: 64 * 1024, budgetBytes: 4 * 1024 * 1024 });
	});
	after(async () => {
		await session?.stop();
		server?.close();
	});

	it('keeps raw response headers in order and case, and bodies that decode (gzip, br) to what the server sent', async () => {
		await h2Requests(session, ['/gzip', '/br']);
		for (const [p, encoding] of [['/gzip', 'gzip'], ['/br', 'br']]) {
			const exchange = await settled(session, (e) => e.request?.path === p);
			assert.equal(exchange.state, 'completed');
			assert.equal(exchange.response!.statusCode, 200);
			const raw = session.store!.body(exchange.id, 'response')!;
			const decoded = await decodeBody(raw, encoding);
			assert.deepEqual(decoded.body, json, `${p} decodes to the original`);
			assert.deepEqual(decoded.decodedWith, [encoding]);
			assert.ok(exchange.request!.headers.some(([name, value]) => name === 'x-test' && value === 'Raw-Case'));
			assert.equal(exchange.tls.alpn, 'h2');
			assert.equal(exchange.tls.protocol, 'TLSv1.3');
			assert.equal(exchange.tls.sni, 'localhost');
			assert.match(exchange.tls.certificate!.subjectAltNames.join(','), /localhost/);
		}
		const gzip = await settled(session, (e) => e.request?.path === '/gzip');
		const names = gzip.response!.headers.map(([name]) => name);
		assert.ok(names.indexOf('X-Order-B') >= 0 && names.indexOf('X-Order-B') < names.indexOf('x-order-a'), names.join(','));
	});

	it('marks a body cut at the cap as truncated and still counts its full size', async () => {
		await h2Requests(session, ['/big']);
		const exchange = await settled(session, (e) => e.request?.path === '/big');
		assert.equal(exchange.responseBody.size, big.length);
		assert.equal(exchange.responseBody.captured, 64 * 1024);
		assert.equal(exchange.responseBody.truncated, true);
		assert.deepEqual(session.store!.body(exchange.id, 'response'), big.subarray(0, 64 * 1024));
	});

	it('exports valid HAR 1.2 with decoded content and timings', async () => {
		const har = toHar(session.store!.list(), (id, side) => session.store!.body(id, side));
		assert.equal(har.log.version, '1.2');
		assert.equal(har.log.creator.name, 'TLS Lens');
		const entry = har.log.entries.find((e) => e.request.url.endsWith('/gzip'))!;
		assert.equal(entry.request.url, `https://localhost:${session.port}/gzip`);
		assert.equal(entry.request.httpVersion, 'HTTP/2');
		assert.deepEqual(JSON.parse(entry.response.content.text!), JSON.parse(json.toString()));
		const timings = Object.values(entry.timings).filter((t): t is number => typeof t === 'number' && t > 0);
		assert.ok(Math.abs(timings.reduce((a, b) => a + b, 0) - entry.time) < 0.01, 'time is the sum of the timings');
		assert.ok(!Number.isNaN(Date.parse(entry.startedDateTime)));
		JSON.parse(JSON.stringify(har)); // serialisable as is
	});

	it('hands its capture over on stop(true): the store stays readable after the port is closed', async () => {
		const other = await ProxySession.start({ target: `127.0.0.1:${(server.address() as { port: number }).port}`, port: 0, caDir: path.join(tempDir(), 'ca2') });
		const store = other.store!;
		try {
			await h2Requests(other, ['/gzip']);
			const exchange = await settled(other, (e) => e.request?.path === '/gzip');
			await other.stop(true);
			assert.equal(store.get(exchange.id)?.state, 'completed', 'still kept');
			assert.ok(store.body(exchange.id, 'response')!.length > 0);
		} finally {
			store.dispose();
		}
		assert.equal(store.list().length, 0, 'the caller disposed it');
	});

	it('stays inside its budget after 20,000 requests and keeps the newest', async () => {
		const paths = Array.from({ length: 20_000 }, (_, i) => (i % 10 === 0 ? '/big' : `/small/${i}`));
		const statuses = await h2Requests(session, paths, 100);
		assert.equal(statuses.length, 20_000);
		assert.ok(statuses.every((s) => s === 200));
		await new Promise((resolve) => setTimeout(resolve, 200));
		const stats = session.store!.stats();
		assert.ok(stats.usedBytes <= stats.budgetBytes, `${stats.usedBytes} <= ${stats.budgetBytes}`);
		assert.ok(stats.evicted > 10_000, `evicted ${stats.evicted}`);
		const list = session.store!.list();
		assert.equal(list.at(-1)!.request!.path, '/small/19999', 'the newest exchange is kept');
		console.log(`      20,000 requests: ${stats.count} kept in ${(stats.usedBytes / 2 ** 20).toFixed(2)} MiB of ${(stats.budgetBytes / 2 ** 20).toFixed(0)} MiB, ${stats.evicted} evicted`);
	});
});
