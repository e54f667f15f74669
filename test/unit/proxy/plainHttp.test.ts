import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { httpsLocation } from '../../../src/core/proxy/plainHttpRedirect';
import { parseRequestHead } from '../../../src/core/proxy/http1Parser';
import { launchChromium } from '../../vscode/testVscode.mjs';
import { run, runAsync, tempDir } from '../helpers';
import { delay, h1Request, h2Request, makeCa, RecordingSink, startHarness, waitFor, type Harness, type TestCa } from './helpers';

/** What came back on a plain TCP connection, and whether (and how soon) the proxy closed it. */
interface RawReply {
	readonly text: string;
	readonly closed: boolean;
	readonly ms: number;
}

/**
 * Sends `chunks` over plain TCP (each its own write; `gapMs` apart when given) and collects the answer
 * until the proxy closes, or `waitMs` passes.
 */
function rawPlain(port: number, chunks: ReadonlyArray<string | Buffer>, options: { gapMs?: number; waitMs?: number; host?: string } = {}): Promise<RawReply> {
	return new Promise((resolve) => {
		const started = Date.now();
		const socket = net.connect(port, options.host ?? '127.0.0.1');
		socket.setNoDelay(true);
		let text = '';
		let done = false;
		const finish = (closed: boolean): void => {
			if (done) { return; }
			done = true;
			clearTimeout(timer);
			socket.destroy();
			resolve({ text, closed, ms: Date.now() - started });
		};
		const timer = setTimeout(() => finish(false), options.waitMs ?? 5000);
		socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
		socket.on('close', () => finish(true));
		socket.on('error', () => { });
		socket.on('connect', async () => {
			for (const chunk of chunks) {
				if (done || !socket.writable) { return; }
				socket.write(chunk);
				if (options.gapMs !== undefined) { await delay(options.gapMs); }
			}
		});
	});
}

/** The value of header `name` in a raw HTTP/1.1 answer. */
function header(reply: string, name: string): string | undefined {
	const head = reply.split('\r\n\r\n')[0];
	return head.split('\r\n').slice(1).find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();
}

function body(reply: string): string {
	return reply.slice(reply.indexOf('\r\n\r\n') + 4);
}

/**
 * A TCP relay in front of the proxy that passes what the client sends one byte per write, a turn of the
 * event loop apart: the proxy sees the first bytes of each connection as separate reads.
 */
async function byteByByteRelay(targetPort: number): Promise<{ port: number; close(): void }> {
	const sockets = new Set<net.Socket>();
	const relay = net.createServer((client) => {
		const upstream = net.connect(targetPort, '127.0.0.1');
		upstream.setNoDelay(true);
		sockets.add(client).add(upstream);
		let queue = Promise.resolve();
		client.on('data', (chunk: Buffer) => {
			queue = queue.then(async () => {
				for (const byte of chunk) {
					if (!upstream.writable) { return; }
					upstream.write(Buffer.of(byte));
					await new Promise((resolve) => setTimeout(resolve, 1));
				}
			});
		});
		upstream.pipe(client);
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => client.destroy());
		client.on('error', () => { });
		upstream.on('error', () => { });
	});
	await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
	return {
		port: (relay.address() as net.AddressInfo).port,
		close: () => {
			for (const socket of sockets) { socket.destroy(); }
			relay.close();
		},
	};
}

describe('proxy: plain HTTP on the TLS port', function () {
	this.timeout(30_000);
	let ca: TestCa;
	let h: Harness;
	const sink = new RecordingSink();

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca, { capture: sink, headersTimeoutMs: 600, handshakeTimeoutMs: 800 });
	});
	after(async () => { await h?.close(); });
	afterEach(async () => {
		// Whatever the plaintext client did, TLS clients on the same port are served as before.
		assert.equal((await h1Request(ca, h.port, '/hello')).status, 200);
		assert.equal((await h2Request(ca, h.port, '/hello')).status, 200);
	});

	it('curl http://localhost:PORT/x?y gets a 307 to the same URL over https, and TLS on the same port still works', async () => {
		const before = h.dev.seen.length;
		const plain = await runAsync('curl', ['-sS', '-i', `http://localhost:${h.port}/x?y`]);
		assert.equal(plain.status, 0, plain.stderr);
		const reply = plain.stdout;
		assert.match(reply, /^HTTP\/1\.1 307 Temporary Redirect\r\n/);
		assert.equal(header(reply, 'Location'), `https://localhost:${h.port}/x?y`);
		assert.equal(header(reply, 'Connection'), 'close');
		assert.equal(header(reply, 'Cache-Control'), 'no-store');
		assert.equal(body(reply), `TLS Lens serves HTTPS on this port. Redirecting to https://localhost:${h.port}/x?y\n`);
		assert.equal(h.dev.seen.length, before, 'nothing reached the dev server');
		const tlsReply = await runAsync('curl', ['-sS', '--cacert', ca.caFile, `https://localhost:${h.port}/hello`]);
		assert.equal(tlsReply.stdout, 'hello', tlsReply.stderr);
	});

	it('curl -L follows it to the page over https, and a POST stays a POST with its body', async () => {
		const followed = await runAsync('curl', ['-sS', '-L', '--cacert', ca.caFile, `http://localhost:${h.port}/hello`]);
		assert.equal(followed.stdout, 'hello', followed.stderr);
		const posted = await runAsync('curl', ['-sS', '-L', '--cacert', ca.caFile, '--data-binary', 'user=me', `http://localhost:${h.port}/echo?login`]);
		const echo = JSON.parse(posted.stdout) as { method: string; url: string; body: string };
		assert.deepEqual([echo.method, echo.url, echo.body], ['POST', '/echo?login', 'user=me']);
	});

	it('records the request as a row, as failed handshakes are, and logs it at debug level once per connection', async () => {
		const before = sink.tlsFailures.length;
		const logsBefore = h.logs.length;
		const reply = await rawPlain(h.port, ['GET /login?next=%2F HTTP/1.1\r\nHost: localhost:' + h.port + '\r\n\r\n']);
		assert.ok(reply.closed);
		await waitFor(() => sink.tlsFailures.length > before, 5000, 'the row');
		const row = sink.tlsFailures[before];
		assert.equal(row.error, `Plain HTTP on the TLS port → redirected to https: GET /login?next=%2F → 307 https://localhost:${h.port}/login?next=%2F`);
		assert.match(row.client, /^127\.0\.0\.1:\d+$/);
		assert.deepEqual(row.tls, {});
		const lines = h.logs.slice(logsBefore).filter((line) => line.includes('Plain HTTP on the TLS port'));
		assert.equal(lines.length, 1, lines.join('\n'));
		assert.match(lines[0], /^debug \[proxy\] Plain HTTP on the TLS port → redirected to https: .* \(client 127\.0\.0\.1:\d+\)$/);
	});

	it('keeps the host and port the client named (IPv6, absolute-form, no port), and answers HEAD without a body', async () => {
		const v6 = await rawPlain(h.port, [`GET /six HTTP/1.1\r\nHost: [::1]:${h.port}\r\n\r\n`], { host: '::1' });
		assert.equal(header(v6.text, 'Location'), `https://[::1]:${h.port}/six`);
		const absolute = await rawPlain(h.port, [`GET http://127.0.0.1:${h.port}/abs?q=1 HTTP/1.1\r\nHost: ignored.localhost\r\n\r\n`]);
		assert.equal(header(absolute.text, 'Location'), `https://127.0.0.1:${h.port}/abs?q=1`);
		const portless = await rawPlain(h.port, ['GET / HTTP/1.0\r\nHost: app.localhost\r\n\r\n']);
		assert.equal(header(portless.text, 'Location'), `https://app.localhost:${h.port}/`, 'the port the connection came in on');
		const head = await rawPlain(h.port, [`HEAD /page HTTP/1.1\r\nHost: localhost:${h.port}\r\n\r\n`]);
		assert.match(head.text, /^HTTP\/1\.1 307 /);
		assert.equal(body(head.text), '');
		assert.equal(Number(header(head.text, 'Content-Length')), `TLS Lens serves HTTPS on this port. Redirecting to https://localhost:${h.port}/page\n`.length);
	});

	it('answers 400 to a Host that is not a plain host[:port] (no injection, no redirect elsewhere), or to none', async () => {
		const bad = [
			'Host: localhost@evil.example', 'Host: evil.example/path', 'Host: evil.example\\@localhost', 'Host: local host',
			'Host: localhost:99999', 'Host: localhost:8443:1', 'Host: [::1%25eth0]:8443', 'Host: [nope]', 'Host: ', 'Host: "localhost"',
			'Host: localhost:8443\r\nHost: other.localhost:8443',
		];
		for (const line of bad) {
			const reply = await rawPlain(h.port, [`GET /x HTTP/1.1\r\n${line}\r\n\r\n`]);
			assert.match(reply.text, /^HTTP\/1\.1 400 Bad Request\r\n/, line);
			assert.equal(header(reply.text, 'Location'), undefined, line);
			assert.ok(reply.closed, line);
		}
		const noHost = await rawPlain(h.port, ['GET /x HTTP/1.0\r\n\r\n']);
		assert.match(noHost.text, /^HTTP\/1\.1 400 /);
		const asterisk = await rawPlain(h.port, ['OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n']);
		assert.match(asterisk.text, /^HTTP\/1\.1 400 /);
		const https = await rawPlain(h.port, ['GET https://evil.example/ HTTP/1.1\r\nHost: localhost\r\n\r\n']);
		assert.match(https.text, /^HTTP\/1\.1 400 /);
	});

	it('answers 400 to what is neither TLS nor HTTP, and closes at once (binary at its first byte, text at its first line)', async () => {
		const before = sink.tlsFailures.length;
		const zeros = await rawPlain(h.port, [Buffer.alloc(1024, 0)]);
		assert.match(zeros.text, /^HTTP\/1\.1 400 Bad Request\r\n/);
		assert.match(body(zeros.text), /TLS Lens serves HTTPS on this port/);
		assert.ok(zeros.closed && zeros.ms < 500, `closed after ${zeros.ms} ms`);
		const ssh = await rawPlain(h.port, ['SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n']);
		assert.match(ssh.text, /^HTTP\/1\.1 400 /);
		assert.ok(ssh.closed && ssh.ms < 500, `closed after ${ssh.ms} ms`);
		const bareLf = await rawPlain(h.port, ['GET / HTTP/1.1\nHost: localhost\n\n']);
		assert.match(bareLf.text, /^HTTP\/1\.1 400 /);
		const h2c = await rawPlain(h.port, ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n']);
		assert.match(h2c.text, /^HTTP\/1\.1 505 /);
		await waitFor(() => sink.tlsFailures.length >= before + 4, 5000, 'four rows');
		assert.match(sink.tlsFailures[before].error, /^Neither TLS nor HTTP on the TLS port \(byte 0x00 .*\) → answered 400$/);
		assert.match(sink.tlsFailures[before + 1].error, /^Neither TLS nor HTTP on the TLS port \(the first line is not an HTTP request line\) → answered 400$/);
	});

	it('answers 431 to a plaintext head over 16 KiB', async () => {
		const reply = await rawPlain(h.port, [`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`]);
		assert.match(reply.text, /^HTTP\/1\.1 431 /);
		assert.ok(reply.closed);
	});

	it('still detects both when the first bytes arrive one at a time', async () => {
		const plain = await rawPlain(h.port, Array.from(`GET /drip HTTP/1.1\r\nHost: localhost:${h.port}\r\n\r\n`), { gapMs: 2 });
		assert.equal(header(plain.text, 'Location'), `https://localhost:${h.port}/drip`);
		const relay = await byteByByteRelay(h.port);
		try {
			const reply = await h1Request(ca, relay.port, '/hello');
			assert.equal(reply.body.toString(), 'hello');
		} finally {
			relay.close();
		}
	});

	it('cuts a slow-loris plaintext client off with the headers timeout (408), and a silent connection with the handshake timeout', async () => {
		const drip = Array.from({ length: 100 }, (_, i) => (i === 0 ? 'GET / HTTP/1.1\r\nHost: localhost\r\n' : 'X-Drip: 1\r\n'));
		const loris = await rawPlain(h.port, drip, { gapMs: 100, waitMs: 8000 });
		assert.match(loris.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
		assert.ok(loris.closed && loris.ms < 3000, `closed after ${loris.ms} ms (timeout 600 ms)`);
		const silent = await rawPlain(h.port, [], { waitMs: 8000 });
		assert.equal(silent.text, '');
		assert.ok(silent.closed && silent.ms < 3000, `closed after ${silent.ms} ms (timeout 800 ms)`);
	});
});

describe('proxy: httpsLocation', () => {
	const location = (head: string, port = 8443): unknown => httpsLocation(parseRequestHead(head), port);

	it('is https:// + Host + target for origin-form requests', () => {
		assert.deepEqual(location('GET /a/b?c=d&e HTTP/1.1\r\nHost: localhost:8443'), { location: 'https://localhost:8443/a/b?c=d&e' });
		assert.deepEqual(location('GET //evil.example/ HTTP/1.1\r\nHost: localhost:8443'), { location: 'https://localhost:8443//evil.example/' }, 'a path, never an authority');
		assert.deepEqual(location('GET / HTTP/1.1\r\nHost: 127.0.0.1'), { location: 'https://127.0.0.1:8443/' });
		assert.deepEqual(location('GET / HTTP/1.1\r\nHost: localhost', 443), { location: 'https://localhost/' });
		assert.deepEqual(location('GET / HTTP/1.1\r\nHost: my_app.localhost.:3000'), { location: 'https://my_app.localhost.:3000/' });
	});

	it('refuses hosts that would add anything to the URL', () => {
		for (const host of ['a@b', 'a/b', 'a\\b', 'a?b', 'a#b', '[::1', '[::1]x', '[::1]:', 'a:', 'a:0', ':8443', '-a.localhost', 'a..b', `${'a'.repeat(64)}.localhost`]) {
			assert.ok('problem' in (location(`GET / HTTP/1.1\r\nHost: ${host}`) as object), host);
		}
	});
});

describe('proxy: plain HTTP on the TLS port in a real Chromium', function () {
	this.timeout(60_000);

	it('navigating to http://localhost:PORT/ lands on https://localhost:PORT/ (CA trusted through an NSS database)', async function () {
		if (run('sh', ['-c', 'command -v certutil']).status !== 0) {
			throw new Error('certutil is missing: apt-get install libnss3-tools (.ci/run installs it).');
		}
		const ca = await makeCa();
		const h = await startHarness(ca);
		const home = tempDir('tls-lens-plain-home-');
		const db = path.join(home, '.pki/nssdb');
		mkdirSync(db, { recursive: true, mode: 0o700 });
		assert.equal(run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']).status, 0);
		assert.equal(run('certutil', ['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'TLS Lens plain test', '-i', ca.caFile]).status, 0);
		const browser = await launchChromium([], { env: { ...process.env, HOME: home } });
		try {
			const page = await browser.newPage();
			const response = await page.goto(`http://localhost:${h.port}/hello?from=http`, { timeout: 15_000 });
			assert.equal(page.url(), `https://localhost:${h.port}/hello?from=http`);
			assert.equal(response?.status(), 200);
			assert.equal(await page.innerText('body'), 'hello');
			assert.equal(response?.request().redirectedFrom()?.url(), `http://localhost:${h.port}/hello?from=http`);
		} finally {
			await browser.close();
			await h.close();
		}
	});
});
