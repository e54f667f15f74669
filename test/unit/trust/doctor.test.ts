import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DEFAULT_LEAF_NAMES } from '../../../src/core/certs';
import { ProxySession } from '../../../src/core/session';
import {
	chromiumHstsKey, createNssDatabase, enableFirefoxEnterpriseRoots, findNssDatabases, firefoxPref, NssStore, runTrustDoctor,
	type DoctorCheck, type DoctorInput,
} from '../../../src/core/trust';
import { tempDir } from '../helpers';
import { startProxyFixture, testEnvironment, type ProxyFixture } from './helpers';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const loopbackBoth = async () => [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];

function byId(checks: readonly DoctorCheck[], id: string): DoctorCheck {
	const check = checks.find((c) => c.id === id);
	assert.ok(check, `no check ${id} in ${checks.map((c) => c.id).join(', ')}`);
	return check;
}

describe('trust: Trust Doctor', function () {
	this.timeout(60_000);
	let fixture: ProxyFixture;
	let home: string;
	let base: DoctorInput;

	before(async () => {
		fixture = await startProxyFixture();
		home = tempDir('tls-lens-doctor-home-');
		// A machine without Chromium installed, unless a test says otherwise.
		const env = testEnvironment(home, undefined, { which: async (name) => (name === 'certutil' ? '/usr/bin/certutil' : undefined) });
		base = { ca: fixture.stored.ca, identity: fixture.ca, names: [...DEFAULT_LEAF_NAMES], stores: [], env, lookup: loopbackBoth };
	});

	after(async () => {
		await fixture?.close();
	});

	it('a healthy setup: CA valid, a leaf for every name validates (Node X509Certificate, no openssl), no traps', async () => {
		const checks = await runTrustDoctor(base);
		assert.equal(byId(checks, 'ca:expiry').level, 'ok');
		const leaf = byId(checks, 'leaf:validates');
		assert.equal(leaf.level, 'ok', leaf.detail);
		assert.match(leaf.title, /localhost, 127\.0\.0\.1, ::1/);
		assert.equal(byId(checks, 'trap:hsts').level, 'ok');
		assert.equal(byId(checks, 'trap:localhost').level, 'ok');
		assert.deepEqual(checks.filter((c) => c.level === 'error' || c.level === 'warn'), []);
	});

	it('names outside the CA constraints are errors; the rest still get a validating leaf', async () => {
		const checks = await runTrustDoctor({ ...base, names: ['localhost', 'app.test', 'example.com'] });
		const outside = byId(checks, 'name:example.com');
		assert.equal(outside.level, 'error');
		assert.match(outside.detail, /outside the names this CA may sign for/);
		assert.match(byId(checks, 'leaf:validates').title, /for localhost, app\.test validates/);
	});

	it('warns when the CA or a served leaf is near expiry', async () => {
		const notAfter = fixture.stored.ca.describe().notAfter.getTime();
		const late = await runTrustDoctor({ ...base, now: notAfter - 10 * 86_400_000, lookup: loopbackBoth });
		assert.equal(byId(late, 'ca:expiry').level, 'warn');
		assert.match(byId(late, 'ca:expiry').title, /valid for 9|valid for 10/);
		const oldLeaf = await fixture.stored.ca.issue(['localhost'], Date.now() - 27 * 86_400_000);
		const checks = await runTrustDoctor({ ...base, servedLeaves: [oldLeaf] });
		assert.equal(byId(checks, 'leaf-expiry:localhost').level, 'warn');
	});

	it('per store: not trusted is an error with a trust.install fix naming the store; trusted is ok', async () => {
		const dbDir = path.join(home, '.pki/nssdb');
		mkdirSync(dbDir, { recursive: true });
		await createNssDatabase(base.env, dbDir);
		const [db] = await findNssDatabases(home);
		const store = new NssStore(base.env, db);
		const before = byId(await runTrustDoctor({ ...base, stores: [store] }), `store:${store.id}`);
		assert.equal(before.level, 'error');
		assert.deepEqual(before.fix, { id: 'trust.install', label: 'Trust the CA here…', arg: store.id });
		assert.equal((await store.install(fixture.ca)).outcome, 'done');
		assert.equal(byId(await runTrustDoctor({ ...base, stores: [store] }), `store:${store.id}`).level, 'ok');
		assert.equal((await store.uninstall(fixture.ca)).outcome, 'done');
	});

	it('Chromium installed but without a database: offers to create it where this Chromium (M146+) looks', async function () {
		const fresh = tempDir('tls-lens-doctor-fresh-');
		const env = testEnvironment(fresh, undefined, { which: async (name) => (name === 'chromium' ? '/usr/bin/chromium' : name === 'certutil' ? '/usr/bin/certutil' : undefined) });
		const check = byId(await runTrustDoctor({ ...base, env }), 'store:chromium-missing');
		assert.equal(check.fix?.id, 'nss.createChromiumDb');
		// Debian's Chromium here is M150: the new default location (mkcert#671).
		assert.equal(check.fix?.arg, path.join(fresh, '.local/share/pki/nssdb'));
		await createNssDatabase(env, check.fix!.arg!);
		assert.deepEqual((await findNssDatabases(fresh)).map((db) => db.label), ['Chromium / Chrome (M146+ location) (~/.local/share/pki/nssdb)']);
	});

	it('certutil missing: the store check carries the install command as its fix', async () => {
		const env = testEnvironment(home, undefined, { which: async () => undefined });
		const [db] = await findNssDatabases(home);
		const check = byId(await runTrustDoctor({ ...base, env, stores: [new NssStore(env, db)] }), `store:nss:${db.dir}`);
		assert.deepEqual(check.fix, { id: 'nss.installCertutil', label: 'Install certutil…', arg: 'sudo apt-get install libnss3-tools' });
	});

	it('finds HSTS that a real Chromium pinned for a dev name, and explains chrome://net-internals/#hsts', async () => {
		// A dev server that sends HSTS, passed through (keepHsts), visited by Chromium with a profile in HOME.
		const hstsHome = tempDir('tls-lens-doctor-hsts-');
		const dbDir = path.join(hstsHome, '.pki/nssdb');
		mkdirSync(dbDir, { recursive: true });
		const env = testEnvironment(hstsHome);
		await createNssDatabase(env, dbDir);
		const [db] = await findNssDatabases(hstsHome);
		assert.equal((await new NssStore(env, db).install(fixture.ca)).outcome, 'done');
		const dev = http.createServer((_req, res) => { res.setHeader('strict-transport-security', 'max-age=3600'); res.end('pinned'); });
		await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', resolve));
		const session = await ProxySession.start({ target: String((dev.address() as AddressInfo).port), port: 0, caDir: fixture.stored.dir, keepHsts: true, capture: false });
		const { chromium } = await import('playwright-core');
		const context = await chromium.launchPersistentContext(path.join(hstsHome, '.config/chromium'), {
			executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, env: { ...process.env, HOME: hstsHome },
			args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP app.test 127.0.0.1'],
		});
		try {
			const page = await context.newPage();
			await page.goto(`https://app.test:${session.port}/`);
			assert.equal(await page.innerText('body'), 'pinned');
		} finally {
			await context.close(); // Chromium writes Default/TransportSecurity on the way out
			await session.stop();
			dev.close();
		}
		const checks = await runTrustDoctor({ ...base, env: testEnvironment(hstsHome), names: ['localhost', 'app.test'], keepHsts: true });
		const pinned = byId(checks, 'trap:hsts:app.test');
		assert.equal(pinned.level, 'warn');
		assert.match(pinned.detail, /chrome:\/\/net-internals\/#hsts/);
		assert.match(pinned.detail, /~\/\.config\/chromium\/Default/);
		assert.deepEqual(pinned.fix, { id: 'hsts.instructions', label: 'Copy chrome://net-internals/#hsts', arg: 'app.test' });
		assert.equal(byId(checks, 'trap:keep-hsts').fix?.id, 'settings.keepHstsOff');
		assert.equal(chromiumHstsKey('App.Test.'), chromiumHstsKey('app.test'));
	});

	it('localhost resolving to ::1 only, with the proxy on 127.0.0.1 only, is an error with a fix', async () => {
		const onlyV6 = async () => [{ address: '::1', family: 6 }];
		const bad = byId(await runTrustDoctor({ ...base, lookup: onlyV6, listenHosts: ['127.0.0.1'] }), 'trap:localhost');
		assert.equal(bad.level, 'error');
		assert.equal(bad.fix?.id, 'settings.listenBoth');
		assert.equal(byId(await runTrustDoctor({ ...base, lookup: onlyV6 }), 'trap:localhost').level, 'info');
		// This machine's real resolver: whatever it says, the default listeners reach it.
		assert.notEqual(byId(await runTrustDoctor({ ...base, lookup: undefined }), 'trap:localhost').level, 'error');
	});

	it('Firefox ignoring the OS store (macOS/Windows pref) is found and fixed through user.js', async () => {
		const macHome = tempDir('tls-lens-doctor-mac-');
		const profile = path.join(macHome, 'Library/Application Support/Firefox/Profiles/ab12.default-release');
		mkdirSync(profile, { recursive: true });
		writeFileSync(path.join(profile, 'prefs.js'), 'user_pref("browser.startup.page", 3);\nuser_pref("security.enterprise_roots.enabled", false);\n');
		const env = { ...testEnvironment(macHome), platform: 'darwin' as const };
		const check = byId(await runTrustDoctor({ ...base, env }), `trap:firefox-roots:${profile}`);
		assert.deepEqual(check.fix, { id: 'firefox.enterpriseRoots', label: 'Enable enterprise roots', arg: profile });
		await enableFirefoxEnterpriseRoots(profile);
		assert.equal(await firefoxPref(profile, 'security.enterprise_roots.enabled'), 'true');
		assert.equal((await runTrustDoctor({ ...base, env })).some((c) => c.id.startsWith('trap:firefox-roots')), false);
	});

	it('in a remote window, store checks become one note about the local machine', async () => {
		const checks = await runTrustDoctor({ ...base, remoteName: 'ssh-remote' });
		const stores = checks.filter((c) => c.group === 'stores');
		assert.deepEqual(stores.map((c) => [c.id, c.level]), [['store:remote', 'info']]);
	});
});
