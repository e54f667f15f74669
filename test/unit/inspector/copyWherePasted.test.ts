import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { openCa, type StoredCa } from '../../../src/core/certs';
import { toCurl } from '../../../src/core/inspector/curl';
import { CurlCaDecision } from '../../../src/core/inspector/actions';
import { ProxySession } from '../../../src/core/session';
import { caIdentity, DEBIAN, systemEnvironment, type CaIdentity } from '../../../src/core/trust';
import type { Exchange } from '../../../src/shared/exchange';
import { toFetch } from '../../../src/shared/fetchSnippet';
import { launchChromium } from '../../vscode/testVscode.mjs';
import { run, runAsync, tempDir } from '../helpers';
import { sleep } from '../capture/helpers';

interface Seen {
	method: string;
	url: string;
	headers: http.IncomingHttpHeaders;
	body: string;
}

describe('Copy as cURL and Copy as fetch run where they are pasted', function () {
	this.timeout(60_000);
	let dev: http.Server;
	let session: ProxySession;
	let stored: StoredCa;
	let ca: CaIdentity;
	const seen: Seen[] = [];

	before(async () => {
		// A CA of its own: not in this machine's system store, so a plain curl refuses the proxy.
		stored = await openCa(path.join(tempDir('tls-lens-copy-'), 'ca'), {});
		ca = caIdentity(stored.ca.certPem, stored.certPath);
		dev = http.createServer((req, res) => {
			let body = '';
			req.on('data', (chunk: Buffer) => { body += chunk; });
			req.on('end', () => {
				if (req.url !== '/favicon.ico') seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
				if (req.url === '/') {
					res.setHeader('content-type', 'text/html');
					res.end('<title>app</title>app page');
				} else {
					res.setHeader('content-type', 'application/json');
					res.end('{"ok":true}');
				}
			});
		});
		await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', resolve));
		session = await ProxySession.start({ target: String((dev.address() as AddressInfo).port), port: 0, caDir: stored.dir, capture: true });
	});

	after(async () => {
		await session?.stop();
		dev?.close();
	});

	/** Sends a request through the proxy as an app would, and returns what capture kept of it. */
	async function captured(method: string, requestPath: string, headers: Record<string, string>, body?: string): Promise<{ exchange: Exchange; body: Buffer | undefined }> {
		await new Promise<void>((resolve, reject) => {
			const req = https.request({ host: 'localhost', port: session.port, method, path: requestPath, headers, ca: stored.ca.certPem, agent: false }, (res) => {
				res.resume();
				res.on('end', resolve);
			});
			req.on('error', reject);
			req.end(body);
		});
		await sleep(50);
		const store = session.store!;
		const exchange = store.list().reverse().find((e) => e.request?.path === requestPath && e.request.method === method);
		assert.ok(exchange, `captured ${method} ${requestPath}`);
		return { exchange, body: store.body(exchange.id, 'request') };
	}

	const app = {
		'Content-Type': 'application/json', 'X-Custom': 'a "quoted" \'value\'', 'User-Agent': 'my-app/1.0', 'Accept-Encoding': 'gzip',
		'Sec-Fetch-Mode': 'cors', Connection: 'keep-alive',
	};

	it('cURL: the command names the CA file (the system store lacks it) and exits 0 in a shell; without it curl fails with 60', async () => {
		const { exchange, body } = await captured('POST', '/api/items?x=1', app, '{"name":"O\'Brien"}');
		const caFile = await new CurlCaDecision(systemEnvironment()).caFile(ca);
		assert.equal(caFile, ca.certPath);
		const command = toCurl(exchange, body, { caFile });
		assert.match(command, new RegExp(`^curl 'https://localhost:${session.port}/api/items\\?x=1' \\\\\n  --cacert '${ca.certPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
		// No proxy variables, no ~/.curlrc, no CURL_CA_BUNDLE: only the command decides.
		const env = { PATH: process.env.PATH, HOME: tempDir(), LC_ALL: 'C' };
		seen.length = 0;
		const result = await runAsync('sh', ['-c', `${command} --silent --show-error --fail --output /dev/null`], { env });
		assert.equal(result.status, 0, result.stderr);
		assert.deepEqual(seen.map((s) => [s.method, s.url, s.body, s.headers['x-custom']]), [['POST', '/api/items?x=1', '{"name":"O\'Brien"}', 'a "quoted" \'value\'']]);
		const without = await runAsync('sh', ['-c', `${toCurl(exchange, body)} --silent --output /dev/null`], { env });
		assert.equal(without.status, 60, 'curl error 60: the certificate is not trusted');
	});

	it('cURL: no --cacert when the system bundle holds the CA; the answer follows the bundle file, and is the CA file elsewhere', async () => {
		const dir = tempDir('tls-lens-copy-bundle-');
		const bundle = path.join(dir, 'ca-certificates.crt');
		const flavor = { ...DEBIAN, anchorDir: path.join(dir, 'anchors'), bundle };
		mkdirSync(flavor.anchorDir);
		writeFileSync(bundle, `${ca.certPem}`);
		const decision = new CurlCaDecision(systemEnvironment(), flavor);
		assert.equal(await decision.caFile(ca), undefined);
		const { exchange } = await captured('GET', '/api/trusted', {});
		assert.doesNotMatch(toCurl(exchange, undefined, { caFile: await decision.caFile(ca) }), /--cacert/);
		// update-ca-certificates rewrote the bundle without it: the next copy sees that.
		writeFileSync(bundle, '# empty\n');
		assert.equal(await decision.caFile(ca), ca.certPath);
		assert.equal(await new CurlCaDecision(systemEnvironment({ platform: 'darwin' })).caFile(ca), ca.certPath);
		assert.equal(await new CurlCaDecision(systemEnvironment(), { ...flavor, bundle: path.join(dir, 'missing.crt') }).caFile(ca), ca.certPath);
		// An http:// origin (replay against the dev server) needs no CA.
		assert.doesNotMatch(toCurl(exchange, undefined, { caFile: ca.certPath, origin: 'http://127.0.0.1:1' }), /--cacert/);
	});

	it('fetch: what a browser console on the proxy\'s origin runs: no forbidden headers, cookies sent, no credentials "omit"', async () => {
		const origin = `https://localhost:${session.port}`;
		const { exchange, body } = await captured('POST', '/api/echo?x=1', { ...app, Cookie: 'sid=abc', Referer: `${origin}/page` }, '{"a":1}');
		const snippet = toFetch(exchange, body);
		assert.doesNotMatch(snippet, /user-agent|accept-encoding|connection|sec-fetch|"omit"/i);
		assert.match(snippet, /"credentials": "include"/);
		const plain = toFetch((await captured('GET', '/api/plain', { 'User-Agent': 'my-app/1.0' })).exchange);
		assert.doesNotMatch(plain, /credentials/);
		// A Referer from another origin would be replaced by the page's URL anyway: not written.
		assert.doesNotMatch(toFetch((await captured('GET', '/api/from-elsewhere', { Referer: 'http://localhost:5173/' })).exchange), /referrer/);

		// Real headless Chromium trusting the CA through its NSS database (~/.pki/nssdb under its HOME).
		const home = tempDir('tls-lens-copy-chromium-');
		const db = path.join(home, '.pki/nssdb');
		mkdirSync(db, { recursive: true });
		assert.equal(run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']).status, 0);
		assert.equal(run('certutil', ['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'TLS Lens test CA', '-i', ca.certPath]).status, 0);
		const browser = await launchChromium([], { env: { ...process.env, HOME: home } });
		try {
			const page = await browser.newPage();
			await page.goto(`${origin}/`);
			await page.evaluate('document.cookie = "sid=abc; path=/"');
			seen.length = 0;
			// Exactly what pasting does: the snippet evaluated as is, its completion value the fetch promise.
			const paste = (code: string) => page.evaluate(`(async () => { const response = await eval(${JSON.stringify(code)}); return [response.status, await response.text()]; })()`);
			assert.deepEqual(await paste(snippet), [200, '{"ok":true}']);
			assert.deepEqual(await paste(plain), [200, '{"ok":true}']);
		} finally {
			await browser.close();
		}
		const [echo, plainSeen] = seen;
		assert.deepEqual([echo.method, echo.url, echo.body, echo.headers['x-custom'], echo.headers['content-type'], echo.headers.cookie, echo.headers.referer],
			['POST', '/api/echo?x=1', '{"a":1}', 'a "quoted" \'value\'', 'application/json', 'sid=abc', `${origin}/page`]);
		// fetch's default credentials (same-origin) send the origin's cookies, as the page's own request would.
		assert.deepEqual([plainSeen.method, plainSeen.url, plainSeen.headers.cookie], ['GET', '/api/plain', 'sid=abc']);
	});

	it('fetch: the same snippet runs in Node\'s fetch (NODE_EXTRA_CA_CERTS on the CA)', async () => {
		const { exchange, body } = await captured('PUT', '/api/node', app, 'node body');
		seen.length = 0;
		const result = await runAsync(process.execPath, ['-e', 'eval(process.env.SNIPPET).then(async (r) => console.log(r.status, await r.text()), (e) => { console.error(e); process.exit(1); })'], {
			env: { PATH: process.env.PATH, HOME: tempDir(), NODE_EXTRA_CA_CERTS: ca.certPath, SNIPPET: toFetch(exchange, body) },
		});
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout.trim(), '200 {"ok":true}');
		assert.deepEqual(seen.map((s) => [s.method, s.url, s.body, s.headers['x-custom']]), [['PUT', '/api/node', 'node body', 'a "quoted" \'value\'']]);
	});
});
