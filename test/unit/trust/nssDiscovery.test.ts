import * as assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openCa } from '../../../src/core/certs';
import { caIdentity, chromiumHstsKey, chromiumNssDir, findFirefoxProfiles, findNssDatabases, parseProfilesIni, runTrustDoctor, xdgConfigHome } from '../../../src/core/trust';
import { tempDir } from '../helpers';
import { testEnvironment } from './helpers';

/** A directory that looks like an NSS database to discovery (cert9.db present; certutil is not run). */
function fakeDb(dir: string): string {
	mkdirSync(dir, { recursive: true });
	writeFileSync(path.join(dir, 'cert9.db'), '');
	return dir;
}

function profilesIni(root: string, ...profiles: Array<{ name: string; path: string; relative?: boolean }>): void {
	mkdirSync(root, { recursive: true });
	const sections = profiles.map((p, i) => `[Profile${i}]\r\nName=${p.name}\r\nIsRelative=${p.relative === false ? 0 : 1}\r\nPath=${p.path}\r\n`);
	writeFileSync(path.join(root, 'profiles.ini'), [...sections, '[Install4F96D1932A9F858E]\r\nDefault=ignored.default\r\nLocked=1\r\n', '[General]\r\nStartWithLastProfile=1\r\nVersion=2\r\n'].join('\r\n'));
}

const dirs = async (home: string, env: Record<string, string> = {}) => (await findNssDatabases(home, env)).map((db) => db.dir);

describe('trust: finding Firefox profiles and Chromium databases (XDG, profiles.ini)', () => {
	it('reads profiles.ini: [ProfileN] sections only, CRLF, relative and absolute paths', () => {
		const text = '[General]\r\nStartWithLastProfile=1\r\n\r\n[Profile1]\r\nName=work\r\nIsRelative=0\r\nPath=/data/ff/work\r\n\r\n[Profile0]\r\nName=default-release\r\nIsRelative=1\r\nPath=abcd.default-release\r\nDefault=1\r\n'
			+ '[Install4F96D1932A9F858E]\r\nDefault=abcd.default-release\r\n[Profile2]\r\nName=no path\r\n[Profile3]\r\nPath=/abs/without/flag\r\n';
		assert.deepEqual(parseProfilesIni(text), [
			{ name: 'work', path: '/data/ff/work', isRelative: false },
			{ name: 'default-release', path: 'abcd.default-release', isRelative: true },
			{ name: undefined, path: '/abs/without/flag', isRelative: false },
		]);
	});

	it('XDG_CONFIG_HOME: Firefox 147+ profiles under $XDG_CONFIG_HOME/mozilla/firefox are found only with the variable', async () => {
		const home = tempDir('tls-lens-xdg-home-');
		const xdg = tempDir('tls-lens-xdg-config-');
		const root = path.join(xdg, 'mozilla/firefox');
		profilesIni(root, { name: 'default-release', path: 'x1y2.default-release' });
		const profile = fakeDb(path.join(root, 'x1y2.default-release'));
		assert.deepEqual(await dirs(home), []);
		const found = await findNssDatabases(home, { XDG_CONFIG_HOME: xdg });
		assert.deepEqual(found.map((db) => [db.browser, db.dir]), [['firefox', profile]]);
		// Outside HOME, so the label names the absolute path.
		assert.equal(found[0].label, `Firefox profile x1y2.default-release (${profile})`);
		// A relative XDG_CONFIG_HOME is invalid (XDG Base Directory spec) and means ~/.config.
		assert.equal(xdgConfigHome(home, { XDG_CONFIG_HOME: 'relative/dir' }), path.join(home, '.config'));
		assert.equal(xdgConfigHome(home, { XDG_CONFIG_HOME: '' }), path.join(home, '.config'));
	});

	it('profiles.ini entries with IsRelative=0 are found wherever they are; unlisted profile folders still are', async () => {
		const home = tempDir('tls-lens-ini-home-');
		const elsewhere = fakeDb(path.join(tempDir('tls-lens-ini-abs-'), 'Work Profile'));
		const root = path.join(home, '.mozilla/firefox');
		profilesIni(root, { name: 'default', path: 'aaaa.default' }, { name: 'work', path: elsewhere, relative: false }, { name: 'gone', path: 'deleted.profile' });
		const listed = fakeDb(path.join(root, 'aaaa.default'));
		const unlisted = fakeDb(path.join(root, 'zzzz.copied-by-hand'));
		mkdirSync(path.join(root, 'Crash Reports'));
		const found = await findNssDatabases(home);
		assert.deepEqual(found.map((db) => db.dir), [listed, elsewhere, unlisted]);
		assert.equal(found[0].label, 'Firefox profile aaaa.default (~/.mozilla/firefox/aaaa.default)');
		assert.deepEqual((await findFirefoxProfiles(home)).map((p) => [path.basename(p.dir), p.listed]), [['aaaa.default', true], ['Work Profile', true], ['zzzz.copied-by-hand', false]]);
	});

	it('each database once: XDG_CONFIG_HOME equal to ~/.config, a symlinked root, a listed profile also seen as a folder', async () => {
		const home = tempDir('tls-lens-dedupe-');
		const config = path.join(home, '.config/mozilla/firefox');
		profilesIni(config, { name: 'a', path: 'a.default' });
		const profile = fakeDb(path.join(config, 'a.default'));
		mkdirSync(path.join(home, '.mozilla'));
		symlinkSync(config, path.join(home, '.mozilla/firefox'));
		assert.deepEqual(await dirs(home, { XDG_CONFIG_HOME: path.join(home, '.config') }), [profile]);
		assert.deepEqual(await dirs(home, { XDG_CONFIG_HOME: path.join(home, '.config') + '/' }), [profile]);
		assert.deepEqual(await dirs(home), [profile]);
	});

	it('snap and flatpak roots (flatpak\'s own XDG config directory included), and macOS with Profiles/', async () => {
		const home = tempDir('tls-lens-sandboxes-');
		const snap = path.join(home, 'snap/firefox/common/.mozilla/firefox');
		profilesIni(snap, { name: 'default', path: 's.default' });
		const flatpakXdg = path.join(home, '.var/app/org.mozilla.firefox/config/mozilla/firefox');
		profilesIni(flatpakXdg, { name: 'default', path: 'f.default' });
		const mac = path.join(home, 'Library/Application Support/Firefox');
		profilesIni(mac, { name: 'default-release', path: 'Profiles/m.default-release' });
		const expected = [fakeDb(path.join(snap, 's.default')), fakeDb(path.join(flatpakXdg, 'f.default')), fakeDb(path.join(mac, 'Profiles/m.default-release'))];
		const found = await findNssDatabases(home);
		assert.deepEqual(found.map((db) => db.dir), expected);
		assert.deepEqual(found.map((db) => db.label.split(' profile ')[0]), ['Firefox snap', 'Firefox flatpak', 'Firefox']);
	});

	it('XDG_DATA_HOME: Chromium M146+\'s $XDG_DATA_HOME/pki/nssdb, and the Trust Doctor creates a missing one there', async () => {
		const home = tempDir('tls-lens-xdg-data-home-');
		const data = tempDir('tls-lens-xdg-data-');
		const db = fakeDb(path.join(data, 'pki/nssdb'));
		assert.deepEqual(await dirs(home), []);
		const [found] = await findNssDatabases(home, { XDG_DATA_HOME: data });
		assert.deepEqual([found.browser, found.dir, found.label], ['chromium', db, `Chromium / Chrome (M146+ location) (${db})`]);
		const env = testEnvironment(home, undefined, { env: { ...process.env, XDG_DATA_HOME: path.join(home, 'data') } });
		const versioned = (major: number) => ({ ...env, runner: { run: async () => ({ code: 0, stdout: `Chromium ${major}.0.7000.1 built on Debian`, stderr: '' }) } });
		assert.equal(await chromiumNssDir(versioned(156), 'chromium'), path.join(home, 'data/pki/nssdb'));
		assert.equal(await chromiumNssDir(versioned(140), 'chromium'), path.join(home, '.pki/nssdb'));
	});

	it('the Trust Doctor reads Chromium HSTS state under XDG_CONFIG_HOME too', async () => {
		const home = tempDir('tls-lens-xdg-hsts-');
		const config = tempDir('tls-lens-xdg-hsts-config-');
		mkdirSync(path.join(config, 'chromium/Default'), { recursive: true });
		writeFileSync(path.join(config, 'chromium/Default/TransportSecurity'), JSON.stringify({ sts: [{ host: chromiumHstsKey('app.test'), expiry: Date.now() / 1000 + 3600 }] }));
		const stored = await openCa(path.join(home, 'ca'), {});
		const base = { ca: stored.ca, identity: caIdentity(stored.ca.certPem, stored.certPath), names: ['app.test'], stores: [], lookup: async () => [{ address: '127.0.0.1', family: 4 }] };
		const without = await runTrustDoctor({ ...base, env: testEnvironment(home) });
		assert.equal(without.some((c) => c.id === 'trap:hsts:app.test'), false);
		const checks = await runTrustDoctor({ ...base, env: testEnvironment(home, undefined, { env: { ...process.env, XDG_CONFIG_HOME: config } }) });
		const pinned = checks.find((c) => c.id === 'trap:hsts:app.test');
		assert.ok(pinned, checks.map((c) => c.id).join(', '));
		assert.ok(pinned.detail.includes(path.join(config, 'chromium/Default')), pinned.detail);
	});
});
