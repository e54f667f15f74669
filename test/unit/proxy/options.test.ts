import * as assert from 'node:assert/strict';
import { startDevServer } from '../../fixtures/proxy/devServer';
import { h1Request, h2Request, makeCa, RecordingSink, startHarness, type TestCa } from './helpers';

function rawValue(raw: string[], name: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		if (raw[i].toLowerCase() === name) { return raw[i + 1]; }
	}
	return undefined;
}

describe('proxy: options', function () {
	this.timeout(20_000);
	let ca: TestCa;

	before(async () => { ca = await makeCa(); });

	it('keeps Strict-Transport-Security with keepHsts, and for non-loopback hosts', async () => {
		const kept = await startHarness(ca, { keepHsts: true });
		try {
			assert.equal((await h2Request(ca, kept.port, '/headers')).headers['strict-transport-security'], 'max-age=31536000');
			assert.equal((await h1Request(ca, kept.port, '/headers')).headers['strict-transport-security'], 'max-age=31536000');
		} finally {
			await kept.close();
		}
		const dropped = await startHarness(ca);
		try {
			assert.equal((await h1Request(ca, dropped.port, '/headers', { servername: 'app.localhost' })).headers['strict-transport-security'], undefined);
			const lan = await h1Request(ca, dropped.port, '/headers', { headers: { host: 'devbox.example:8443' } });
			assert.equal(lan.headers['strict-transport-security'], 'max-age=31536000', 'only loopback names lose HSTS');
		} finally {
			await dropped.close();
		}
	});

	it('rewrites Host to the target with rewriteHost, and keeps X-Forwarded-Host as the browser sent it', async () => {
		const h = await startHarness(ca, { rewriteHost: true });
		try {
			for (const reply of [await h1Request(ca, h.port, '/echo'), await h2Request(ca, h.port, '/echo')]) {
				const raw = (JSON.parse(reply.body.toString()) as { rawHeaders: string[] }).rawHeaders;
				assert.equal(rawValue(raw, 'host'), `localhost:${h.dev.port}`);
				assert.equal(rawValue(raw, 'x-forwarded-host'), `localhost:${h.port}`);
			}
		} finally {
			await h.close();
		}
	});

	it('accepts the target as "127.0.0.1:PORT" and as a URL', async () => {
		const dev = await startDevServer();
		try {
			for (const target of [`127.0.0.1:${dev.port}`, `http://127.0.0.1:${dev.port}`, String(dev.port)]) {
				const h = await startHarness(ca, { target });
				try {
					assert.equal((await h2Request(ca, h.port, '/hello')).body.toString(), 'hello', target);
				} finally {
					await h.close();
				}
			}
		} finally {
			await dev.close();
		}
	});

	it('calls the capture sink once per exchange when given one', async () => {
		const sink = new RecordingSink();
		const h = await startHarness(ca, { capture: sink });
		try {
			await h1Request(ca, h.port, '/hello');
			assert.equal(sink.exchanges.length, 1);
		} finally {
			await h.close();
		}
	});
});
