import * as assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Browser } from 'playwright-core';
import type { CertificateAuthority } from '../../../src/core/certs';
import { x509 } from '../../../src/core/certs/x509';
import { changeTrust, findNssDatabases, nssNickname, NssStore, type TrustPlan } from '../../../src/core/trust';
import { launchChromium } from '../../vscode/testVscode.mjs';
import { run, tempDir } from '../helpers';
import { RecordingRunner, startProxyFixture, testEnvironment, type ProxyFixture } from './helpers';

/** Signs a leaf for `names` with the CA key, bypassing our own constraint check (a "stolen key"). */
async function rogueLeaf(ca: CertificateAuthority, names: string[]): Promise<{ cert: string; key: string }> {
	const caCert = new x509.X509Certificate(ca.certPem);
	const pkcs8 = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
	const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
	const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const cert = await x509.X509CertificateGenerator.create({
		serialNumber: '7e57', subject: 'CN=rogue', issuer: caCert.subjectName, publicKey: publicKey.export({ type: 'spki', format: 'der' }),
		signingKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
		extensions: [
			new x509.BasicConstraintsExtension(false, undefined, true),
			new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
			new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
		],
	});
	return { cert: cert.toString('pem') + '\n', key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function newNssDb(dir: string): void {
	mkdirSync(dir, { recursive: true, mode: 0o700 });
	const created = run('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
	assert.equal(created.status, 0, created.stderr);
}

function listing(dir: string): string {
	return run('certutil', ['-L', '-d', `sql:${dir}`]).stdout;
}

/** Loads `url` in a fresh page; resolves to the page text, or throws the navigation error (net::ERR_…). */
async function load(browser: Browser, url: string): Promise<string> {
	const page = await browser.newPage();
	try {
		await page.goto(url, { timeout: 15_000 });
		return await page.innerText('body');
	} finally {
		await page.close();
	}
}

describe('trust: NSS databases (Chromium, Firefox profiles)', function () {
	this.timeout(60_000);
	let fixture: ProxyFixture;
	let home: string;
	let chromiumDb: string;
	let firefoxProfile: string;
	let runner: RecordingRunner;
	let stores: NssStore[];
	let browser: Browser | undefined;
	let rogue: https.Server | undefined;

	before(async function () {
		if (run('sh', ['-c', 'command -v certutil']).status !== 0) {
			throw new Error('certutil is missing: apt-get install libnss3-tools (.ci/run installs it).');
		}
		fixture = await startProxyFixture();
		home = tempDir('tls-lens-nss-home-');
		chromiumDb = path.join(home, '.pki/nssdb');
		newNssDb(chromiumDb);
		firefoxProfile = path.join(home, '.mozilla/firefox/k3x9.default-release');
		newNssDb(firefoxProfile);
		runner = new RecordingRunner();
		const env = testEnvironment(home, runner);
		stores = (await findNssDatabases(home)).map((db) => new NssStore(env, db));
	});

	after(async () => {
		await browser?.close();
		rogue?.close();
		await fixture?.close();
	});

	it('finds the Chromium database and each Firefox profile, and neither trusts the CA yet', async () => {
		assert.deepEqual(stores.map((store) => [store.database.browser, store.database.dir]), [['chromium', chromiumDb], ['firefox', firefoxProfile]]);
		assert.match(stores[1].label, /Firefox profile k3x9\.default-release/);
		for (const store of stores) {
			assert.equal((await store.status(fixture.ca)).state, 'not-trusted');
		}
	});

	it('declining consent changes nothing on disk and runs no changing command', async () => {
		const files = () => Object.fromEntries([chromiumDb, firefoxProfile].flatMap((dir) => readdirSync(dir).map((name) => [path.join(dir, name), createHash('sha256').update(readFileSync(path.join(dir, name))).digest('hex')])));
		const before = files();
		const listed = [listing(chromiumDb), listing(firefoxProfile)];
		let shown: readonly TrustPlan[] = [];
		runner.calls.length = 0;
		const report = await changeTrust(stores, fixture.ca, 'install', { consent: async (plans) => { shown = plans; return false; } });
		assert.equal(report.consented, false);
		assert.deepEqual(report.changes, []);
		// The modal was shown the exact certutil command for each store…
		assert.equal(shown.length, 2);
		assert.deepEqual(shown[0].commands[0].argv, ['certutil', '-A', '-d', `sql:${chromiumDb}`, '-t', 'C,,', '-n', nssNickname(fixture.ca), '-i', fixture.ca.certPath]);
		// …and nothing but listing ran.
		assert.deepEqual(runner.mutating(), []);
		assert.deepEqual(files(), before);
		assert.deepEqual([listing(chromiumDb), listing(firefoxProfile)], listed);
	});

	it('installs into every database under a nickname with the fingerprint, verified with certutil -L', async () => {
		const report = await changeTrust(stores, fixture.ca, 'install', { consent: async () => true });
		assert.deepEqual(report.changes.map((change) => change.outcome), ['done', 'done'], JSON.stringify(report.changes, null, 2));
		const nickname = nssNickname(fixture.ca);
		assert.match(nickname, /^TLS Lens CA [0-9a-f]{16}$/);
		assert.ok(fixture.ca.fingerprint256.replace(/:/g, '').toLowerCase().startsWith(nickname.slice(-16)));
		for (const dir of [chromiumDb, firefoxProfile]) {
			assert.match(listing(dir), new RegExp(`^${nickname}\\s+C,,\\s*$`, 'm'));
			const pem = run('certutil', ['-L', '-d', `sql:${dir}`, '-n', nickname, '-a']).stdout;
			assert.equal(pem.replace(/\r/g, '').trim(), fixture.stored.ca.certPem.trim());
		}
		for (const store of stores) {
			const status = await store.status(fixture.ca);
			assert.equal(status.state, 'trusted');
			assert.deepEqual(status.entries, [{ where: `nickname "${nickname}"`, ours: true, trusted: true }]);
		}
		const again = await changeTrust(stores, fixture.ca, 'install', { consent: async () => assert.fail('nothing to consent to') });
		assert.deepEqual(again.plans.map((plan) => plan.skipReason), ['Already trusted.', 'Already trusted.']);
	});

	// Mocha runs a suite's own tests before its child suites, so the browser checks stay in this
	// sequence (install → Chromium → uninstall → Chromium) instead of a nested describe.
	it('headless Chromium (real, no --ignore-certificate-errors, HOME on that database) loads https://localhost:PORT through the proxy with no certificate error', async () => {
		browser = await launchChromium(['--host-resolver-rules=MAP example.com 127.0.0.1, MAP inside.localhost 127.0.0.1'], { env: { ...process.env, HOME: home } });
		assert.match(await load(browser, `${fixture.url}/`), /hello through TLS Lens/);
	});

	it('Chromium rejects a certificate from the trusted CA for a name outside its constraints', async () => {
		// The same hand-made leaf for a name inside the constraints loads: the name is the only difference.
		const leaves = { 'inside.localhost': await rogueLeaf(fixture.stored.ca, ['inside.localhost']), 'example.com': await rogueLeaf(fixture.stored.ca, ['example.com']) };
		rogue = https.createServer({
			SNICallback: (name, callback) => {
				const leaf = leaves[name as keyof typeof leaves] ?? leaves['example.com'];
				callback(null, tls.createSecureContext({ cert: leaf.cert, key: leaf.key }));
			},
		}, (_req, res) => res.end('served by a leaf made outside TLS Lens'));
		await new Promise<void>((resolve) => rogue!.listen(0, '127.0.0.1', resolve));
		const port = (rogue.address() as AddressInfo).port;
		assert.match(await load(browser!, `https://inside.localhost:${port}/`), /served by a leaf made outside TLS Lens/);
		await assert.rejects(load(browser!, `https://example.com:${port}/`), (error: Error) => {
			assert.match(error.message, /net::ERR_CERT_(NAME_CONSTRAINT_VIOLATION|INVALID)\b/);
			console.log(`      Chromium says ${/net::ERR_\w+/.exec(error.message)?.[0]}`);
			return true;
		});
		await browser!.close();
		browser = undefined;
	});

	it('uninstall removes exactly our nickname, leaves other certificates, and reports it', async () => {
		// Someone else's certificate in the same database must survive.
		const other = path.join(tempDir(), 'other.pem');
		run('sh', ['-c', `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=other -days 2 -out ${other}`]);
		assert.equal(run('certutil', ['-A', '-d', `sql:${chromiumDb}`, '-t', 'C,,', '-n', 'someone else', '-i', other]).status, 0);
		const report = await changeTrust(stores, fixture.ca, 'uninstall', { consent: async () => true });
		assert.deepEqual(report.changes.map((change) => change.outcome), ['done', 'done'], JSON.stringify(report.changes, null, 2));
		assert.deepEqual(report.changes[0].changed, [`nickname "${nssNickname(fixture.ca)}" in ${chromiumDb}`]);
		for (const dir of [chromiumDb, firefoxProfile]) {
			assert.doesNotMatch(listing(dir), /TLS Lens CA/);
		}
		assert.match(listing(chromiumDb), /^someone else\s+C,,/m);
		for (const store of stores) {
			assert.equal((await store.status(fixture.ca)).state, 'not-trusted');
		}
	});

	it('after uninstall, a fresh Chromium fails with an authority error', async () => {
		const browser = await launchChromium([], { env: { ...process.env, HOME: home } });
		try {
			await assert.rejects(load(browser, `${fixture.url}/`), /net::ERR_CERT_AUTHORITY_INVALID/);
		} finally {
			await browser.close();
		}
	});

	it('a CA installed by someone else (another nickname) is reported but never removed', async () => {
		assert.equal(run('certutil', ['-A', '-d', `sql:${firefoxProfile}`, '-t', 'C,,', '-n', 'mkcert development CA 1', '-i', fixture.ca.certPath]).status, 0);
		const store = stores[1];
		const status = await store.status(fixture.ca);
		assert.equal(status.state, 'trusted');
		assert.deepEqual(status.entries, [{ where: 'nickname "mkcert development CA 1"', ours: false, trusted: true }]);
		const plan = await store.plan(fixture.ca, 'uninstall');
		assert.deepEqual(plan.commands, []);
		assert.match(plan.skipReason!, /mkcert development CA 1.*not added by TLS Lens/);
		assert.match(listing(firefoxProfile), /mkcert development CA 1/);
	});

	it('without certutil the store says how to install it and plans nothing', async () => {
		const store = new NssStore(testEnvironment(home, runner, { which: async () => undefined }), stores[0].database);
		const detection = await store.detect();
		assert.equal(detection.usable, false);
		assert.equal(detection.fixCommand, 'sudo apt-get install libnss3-tools');
		const plan = await store.plan(fixture.ca, 'install');
		assert.deepEqual(plan.commands, []);
		assert.match(plan.skipReason!, /certutil.*libnss3-tools/);
	});
});
