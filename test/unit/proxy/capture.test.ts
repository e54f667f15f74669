import * as assert from 'node:assert/strict';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { h1Request, h2Request, makeCa, pairs, RecordingSink, startHarness, waitFor, type Harness, type TestCa } from './helpers';

describe('proxy: capture calls', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let h: Harness;
	const sink = new RecordingSink();

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca, { capture: sink });
	});
	after(async () => { await h?.close(); });

	it('reports an HTTP/1.1 exchange in order, with raw headers, bodies and TLS details', async () => {
		const before = sink.exchanges.length;
		await h1Request(ca, h.port, '/echo?q=1', { method: 'POST', headers: { 'X-Mixed-Case': 'A', 'content-type': 'text/plain' }, body: 'request body' });
		const exchange = sink.exchanges[before];
		await exchange.finished;
		const { init, events } = exchange;
		assert.equal(init.kind, 'http');
		assert.match(init.client, /^127\.0\.0\.1:\d+$/);
		assert.deepEqual({ method: init.request.method, path: init.request.path, authority: init.request.authority, httpVersion: init.request.httpVersion },
			{ method: 'POST', path: '/echo?q=1', authority: `localhost:${h.port}`, httpVersion: '1.1' });
		assert.ok(pairs(init.request.rawHeaders).some(([name, value]) => name === 'X-Mixed-Case' && value === 'A'), 'raw header case kept');
		assert.equal(init.tls.protocol, 'TLSv1.3');
		assert.equal(init.tls.alpn, 'http/1.1');
		assert.equal(init.tls.sni, 'localhost');
		assert.equal(init.tls.resumed, false);
		assert.match(init.tls.cipher ?? '', /^TLS_/);
		assert.ok(typeof init.tls.handshakeMs === 'number' && init.tls.handshakeMs >= 0);
		assert.ok(init.tls.certificate?.subjectAltNames.includes('DNS:localhost'), JSON.stringify(init.tls.certificate));
		assert.match(init.tls.certificate?.issuer ?? '', /TLS Lens Development CA/);
		assert.match(init.tls.certificate?.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
		assert.ok(init.startMonotonic > 0 && performance.timeOrigin + init.startMonotonic > Date.now() - 60_000);
		const kinds = events.map(([kind]) => kind);
		const order = ['upstreamConnected', 'requestSent', 'response', 'responseBody', 'finish'].map((kind) => kinds.indexOf(kind));
		assert.ok(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1])), kinds.join());
		assert.ok(kinds.lastIndexOf('requestBody') < kinds.indexOf('requestSent'), kinds.join());
		assert.equal(Buffer.concat(events.filter(([kind]) => kind === 'requestBody').map(([, chunk]) => chunk as Buffer)).toString(), 'request body');
		const response = events.find(([kind]) => kind === 'response')![1] as { statusCode: number; headers: Array<[string, string]> };
		assert.equal(response.statusCode, 200);
		const body = Buffer.concat(events.filter(([kind]) => kind === 'responseBody').map(([, chunk]) => chunk as Buffer));
		assert.equal((JSON.parse(body.toString()) as { body: string }).body, 'request body');
		assert.deepEqual(events.at(-1), ['finish', 'completed', undefined]);
	});

	it('reports the response head as the dev server sent it (before HSTS and hop-by-hop stripping)', async () => {
		const before = sink.exchanges.length;
		await h2Request(ca, h.port, '/headers');
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.equal(exchange.init.request.httpVersion, '2');
		assert.equal(exchange.init.tls.alpn, 'h2');
		assert.ok(pairs(exchange.init.request.rawHeaders).some(([name]) => name === ':path'));
		const response = exchange.events.find(([kind]) => kind === 'response')![1] as { headers: Array<[string, string]> };
		const names = response.headers.map(([name]) => name);
		assert.ok(names.includes('Strict-Transport-Security') && names.includes('X-Private') && names.includes('Keep-Alive'), names.join());
	});

	it('reports upstream errors, clients that close and clients that break off as such', async () => {
		const before = sink.exchanges.length;
		const req = https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/slow', ca: ca.caPem, agent: false });
		req.on('error', () => { });
		await waitFor(() => sink.exchanges.length > before, 5000, 'the exchange');
		await waitFor(() => h.dev.seen.some((s) => s.url === '/slow'), 5000, '/slow');
		req.destroy();
		await sink.exchanges[before].finished;
		assert.deepEqual(sink.exchanges[before].events.at(-1), ['finish', 'closed-by-client', undefined]);

		// A chunked request body that stops making sense halfway: the client broke the exchange off.
		const broken = sink.exchanges.length;
		const socket = tls.connect({ host: '127.0.0.1', port: h.port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] }, () => {
			socket.write('POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
		});
		socket.on('error', () => { });
		await waitFor(() => sink.exchanges.length > broken, 5000, 'the exchange');
		await sink.exchanges[broken].finished;
		const [, state, error] = sink.exchanges[broken].events.at(-1)!;
		assert.equal(state, 'aborted');
		assert.match(String(error), /malformed chunked request body \(invalid chunk size\)/);
		socket.destroy();

		const reset = sink.exchanges.length;
		await h2Request(ca, h.port, '/reset').catch(() => undefined);
		await sink.exchanges[reset].finished;
		assert.equal(sink.exchanges[reset].events.at(-1)![1], 'upstream-error');
	});

	it('records each connection\'s handshake once: a second request on it reuses the details', async () => {
		const agent = new https.Agent({ keepAlive: true, ca: ca.caPem, maxSockets: 1 });
		try {
			const before = sink.exchanges.length;
			for (let i = 0; i < 2; i++) {
				await new Promise<void>((resolve, reject) => https.get({ host: '127.0.0.1', port: h.port, servername: 'localhost', path: '/hello', agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
			}
			await sink.exchanges[before + 1].finished;
			assert.equal(sink.exchanges[before].init.tls, sink.exchanges[before + 1].init.tls);
			// The first request opened the connection (its handshake is its own), the second reused it.
			assert.deepEqual(sink.exchanges.slice(before, before + 2).map((e) => e.init.connectionReused), [false, true]);
			assert.ok(Number.isInteger(sink.exchanges[before].init.tls.connectionId), 'the connection has a number');
			const connected = sink.exchanges[before + 1].events.find(([kind]) => kind === 'upstreamConnected');
			assert.deepEqual(connected, ['upstreamConnected', true], 'the upstream keep-alive socket is reused');
		} finally {
			agent.destroy();
		}
	});

	it('numbers client connections: HTTP/2 streams of one session share it, a new connection gets another', async () => {
		const http2 = await import('node:http2');
		const before = sink.exchanges.length;
		const session = http2.connect(`https://localhost:${h.port}`, { ca: ca.caPem, host: '127.0.0.1', servername: 'localhost' });
		try {
			await h2Request(ca, h.port, '/hello', { session });
			await Promise.all([h2Request(ca, h.port, '/hello', { session }), h2Request(ca, h.port, '/hello', { session })]);
		} finally {
			session.close();
		}
		await h2Request(ca, h.port, '/hello');
		await waitFor(() => sink.exchanges.length >= before + 4);
		const seen = sink.exchanges.slice(before, before + 4).map((e) => [e.init.tls.connectionId, e.init.connectionReused]);
		const first = seen[0][0] as number;
		assert.deepEqual(seen.slice(0, 3), [[first, false], [first, true], [first, true]]);
		assert.equal(seen[3][1], false, 'a new connection is opened by its first stream');
		assert.ok((seen[3][0] as number) > first, `a new connection gets a new number: ${JSON.stringify(seen)}`);
	});
});
