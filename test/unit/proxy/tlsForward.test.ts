import * as assert from 'node:assert/strict';
import { startDevServer, type DevServer } from '../../fixtures/proxy/devServer';
import { h1Request, h2Request, makeCa, startHarness, type TestCa } from './helpers';

describe('proxy: TLS forward mode (https target)', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let trusted: DevServer;
	let untrusted: DevServer;

	before(async () => {
		ca = await makeCa();
		const leaf = await ca.stored.ca.issue(['localhost', '127.0.0.1']);
		trusted = await startDevServer({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
		const stranger = await makeCa();
		const strangeLeaf = await stranger.stored.ca.issue(['localhost', '127.0.0.1']);
		untrusted = await startDevServer({ tls: { cert: strangeLeaf.certPem, key: strangeLeaf.keyPem } });
	});
	after(async () => {
		await trusted?.close();
		await untrusted?.close();
	});

	it('re-encrypts to a dev server whose certificate comes from our CA, verifying it', async () => {
		const h = await startHarness(ca, { target: `https://localhost:${trusted.port}` });
		try {
			assert.equal((await h2Request(ca, h.port, '/hello')).body.toString(), 'hello');
			assert.equal((await h1Request(ca, h.port, '/hello')).body.toString(), 'hello');
			assert.ok(!h.logs.some((line) => line.startsWith('warn')), h.logs.join('\n'));
		} finally {
			await h.close();
		}
	});

	it('refuses a dev server certificate it cannot verify: 502 naming the TLS problem', async () => {
		const h = await startHarness(ca, { target: `https://127.0.0.1:${untrusted.port}` });
		try {
			const reply = await h2Request(ca, h.port, '/hello', { headers: { accept: 'application/json' } });
			assert.equal(reply.status, 502);
			const body = JSON.parse(reply.body.toString()) as { message: string; hint: string };
			assert.match(body.message, /TLS connection to https:\/\/127\.0\.0\.1:\d+ failed: .*certificate/i);
			assert.match(body.hint, /turn off upstream verification/);
			assert.equal(untrusted.seen.length, 0, 'no request reached the untrusted server');
		} finally {
			await h.close();
		}
	});

	it('skips verification only when told to, and warns loudly', async () => {
		const h = await startHarness(ca, { target: `https://127.0.0.1:${untrusted.port}`, upstreamTlsVerify: false });
		try {
			assert.equal((await h1Request(ca, h.port, '/hello')).body.toString(), 'hello');
			assert.match(h.logs.join('\n'), /warn \[proxy\] Upstream TLS verification is OFF/);
		} finally {
			await h.close();
		}
	});
});
