import * as assert from 'node:assert/strict';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import puppeteer from 'puppeteer-core';
import { changeTrust, findNssDatabases, NssStore, type NssDatabase } from '../../../src/core/trust';
import { run, tempDir } from '../helpers';
import { startProxyFixture, testEnvironment, type ProxyFixture } from './helpers';

/** Debian's Firefox ESR (`apt-get install firefox-esr`, .ci/run installs it); FIREFOX_PATH names another. */
const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

/**
 * Keeps the test Firefox on loopback. MOZ_DISABLE_NONLOCAL_CONNECTIONS is Firefox's own test-harness
 * switch: Necko refuses every non-loopback connection, and Remote Settings accepts the dummy server
 * below instead of asking firefox.settings.services.mozilla.com (without it Firefox 153 still
 * resolved that name behind a dead proxy: seen with strace). The prefs are the second fence: a SOCKS
 * proxy on a closed loopback port that resolves names itself (no DNS from Firefox), and the update,
 * telemetry, Safe Browsing, captive-portal and connectivity checks off. Loopback is never proxied.
 */
const FIREFOX_ENV = { MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' };
const OFFLINE_PREFS: Record<string, string | number | boolean> = {
	'network.proxy.type': 1,
	'network.proxy.socks': '127.0.0.1',
	'network.proxy.socks_port': 9,
	'network.proxy.socks_version': 5,
	'network.proxy.socks_remote_dns': true,
	'network.proxy.failover_direct': false,
	'network.proxy.allow_hijacking_localhost': false,
	'network.trr.mode': 5,
	'network.dns.disablePrefetch': true,
	'network.prefetch-next': false,
	'network.predictor.enabled': false,
	'network.captive-portal-service.enabled': false,
	'network.connectivity-service.enabled': false,
	'app.update.enabled': false,
	'app.update.auto': false,
	'toolkit.telemetry.enabled': false,
	'toolkit.telemetry.unified': false,
	'toolkit.telemetry.server': '',
	'datareporting.policy.dataSubmissionEnabled': false,
	'datareporting.healthreport.uploadEnabled': false,
	'browser.safebrowsing.malware.enabled': false,
	'browser.safebrowsing.phishing.enabled': false,
	'browser.safebrowsing.downloads.enabled': false,
	'browser.safebrowsing.downloads.remote.enabled': false,
	'browser.region.update.enabled': false,
	'browser.region.network.url': '',
	'extensions.update.enabled': false,
	'extensions.systemAddon.update.enabled': false,
	'extensions.getAddons.cache.enabled': false,
	'media.gmp-manager.updateEnabled': false,
	'dom.push.connection.enabled': false,
	'security.OCSP.enabled': 0,
	'security.remote_settings.crlite_filters.enabled': false,
	'security.remote_settings.intermediates.enabled': false,
	'services.settings.server': 'data:,#remote-settings-dummy/v1',
};

function firefoxMajor(): number {
	const version = run(FIREFOX, ['--version'], { env: { ...process.env, ...FIREFOX_ENV } });
	return Number(/(\d+)\.\d+/.exec(version.stdout)?.[1] ?? NaN);
}

/** The environment Firefox runs in: HOME (and XDG_CONFIG_HOME when given) on temporary directories only. */
function firefoxEnv(home: string, xdgConfigHome?: string): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('XDG_')));
	return { ...env, ...FIREFOX_ENV, HOME: home, ...(xdgConfigHome ? { XDG_CONFIG_HOME: xdgConfigHome } : {}) };
}

/** Lets Firefox create a profile itself (`-CreateProfile`), as the profile manager does; returns profiles.ini's text. */
function createProfile(env: NodeJS.ProcessEnv, spec: string, iniDir: string): string {
	const created = run(FIREFOX, ['--headless', '-CreateProfile', spec], { env });
	assert.equal(created.status, 0, created.stderr);
	return readFileSync(path.join(iniDir, 'profiles.ini'), 'utf8');
}

/**
 * Starts headless Firefox on `profile` over WebDriver BiDi, loads `url` and closes it. Resolves to the
 * page text, or rejects with Firefox's error (SEC_ERROR_UNKNOWN_ISSUER for an untrusted CA).
 */
async function loadInFirefox(profile: string, env: NodeJS.ProcessEnv, url: string): Promise<string> {
	const browser = await puppeteer.launch({
		browser: 'firefox', executablePath: FIREFOX, protocol: 'webDriverBiDi', headless: true,
		userDataDir: profile, extraPrefsFirefox: OFFLINE_PREFS, env,
	});
	try {
		const page = await browser.newPage();
		await page.goto(url, { timeout: 20_000 });
		// A string, not a function: this tier is type-checked without the DOM library.
		return String(await page.evaluate('document.body.innerText'));
	} finally {
		await browser.close();
	}
}

describe('trust: Firefox ESR profiles, as Firefox itself creates them (real Firefox over WebDriver BiDi)', function () {
	this.timeout(120_000);
	let fixture: ProxyFixture;

	before(async function () {
		try {
			accessSync(FIREFOX, constants.X_OK);
		} catch {
			throw new Error(`${FIREFOX} is missing: apt-get install firefox-esr (.ci/run installs it), or set FIREFOX_PATH.`);
		}
		if (run('sh', ['-c', 'command -v certutil']).status !== 0) {
			throw new Error('certutil is missing: apt-get install libnss3-tools (.ci/run installs it).');
		}
		fixture = await startProxyFixture();
	});

	after(async () => {
		await fixture?.close();
	});

	describe('a profile in the default place (no XDG_CONFIG_HOME)', () => {
		let home: string;
		let env: NodeJS.ProcessEnv;
		let profile: string;
		let database: NssDatabase;

		it('Firefox 147+ puts it under ~/.config/mozilla/firefox (no ~/.mozilla yet); untrusted at first', async () => {
			home = tempDir('tls-lens-firefox-home-');
			env = firefoxEnv(home);
			const major = firefoxMajor();
			// Mozilla bug 259356: Firefox 147+ uses the XDG directory when ~/.mozilla does not exist.
			const root = major >= 147 ? path.join(home, '.config/mozilla/firefox') : path.join(home, '.mozilla/firefox');
			const ini = createProfile(env, 'tlslens', root);
			profile = path.join(root, /^Path=(.+)$/m.exec(ini)![1]);
			assert.match(ini, /^IsRelative=1$/m);
			// -CreateProfile leaves an empty profile; Firefox makes cert9.db on its first start.
			await assert.rejects(loadInFirefox(profile, env, `${fixture.url}/`), /SEC_ERROR_UNKNOWN_ISSUER/);
			assert.ok(existsSync(path.join(profile, 'cert9.db')), 'Firefox created its certificate database');
			const found = await findNssDatabases(home, env);
			assert.deepEqual(found.map((db) => [db.browser, db.dir, db.format]), [['firefox', profile, 'sql']]);
			database = found[0];
			console.log(`      Firefox ${major}: ${database.label}`);
		});

		it('TLS Lens installs the CA with certutil; Firefox then loads https://localhost:PORT with no certificate error', async () => {
			const report = await changeTrust([new NssStore(testEnvironment(home), database)], fixture.ca, 'install', { consent: async () => true });
			assert.deepEqual(report.changes.map((change) => change.outcome), ['done'], JSON.stringify(report.changes, null, 2));
			assert.match(await loadInFirefox(profile, env, `${fixture.url}/`), /hello through TLS Lens/);
		});

		it('after TLS Lens removes it, Firefox fails with SEC_ERROR_UNKNOWN_ISSUER again', async () => {
			const report = await changeTrust([new NssStore(testEnvironment(home), database)], fixture.ca, 'uninstall', { consent: async () => true });
			assert.deepEqual(report.changes.map((change) => change.outcome), ['done']);
			await assert.rejects(loadInFirefox(profile, env, `${fixture.url}/`), /SEC_ERROR_UNKNOWN_ISSUER/);
		});
	});

	it('XDG_CONFIG_HOME set and a profile at an absolute path (IsRelative=0): found through profiles.ini, then trusted', async () => {
		const home = tempDir('tls-lens-firefox-xdg-home-');
		const xdg = tempDir('tls-lens-firefox-xdg-config-');
		const elsewhere = path.join(tempDir('tls-lens-firefox-elsewhere-'), 'Work Profile');
		mkdirSync(path.dirname(elsewhere), { recursive: true });
		const env = firefoxEnv(home, xdg);
		const ini = createProfile(env, `work ${elsewhere}`, path.join(xdg, 'mozilla/firefox'));
		assert.match(ini, /^IsRelative=0$/m);
		assert.ok(ini.includes(`Path=${elsewhere}`), ini);
		await assert.rejects(loadInFirefox(elsewhere, env, `${fixture.url}/`), /SEC_ERROR_UNKNOWN_ISSUER/);
		// Without the variable TLS Lens looks only in the default places, as before.
		assert.deepEqual(await findNssDatabases(home), []);
		const found = await findNssDatabases(home, env);
		assert.deepEqual(found.map((db) => db.dir), [elsewhere]);
		const report = await changeTrust([new NssStore(testEnvironment(home), found[0])], fixture.ca, 'install', { consent: async () => true });
		assert.deepEqual(report.changes.map((change) => change.outcome), ['done']);
		assert.match(await loadInFirefox(elsewhere, env, `${fixture.url}/`), /hello through TLS Lens/);
	});
});
