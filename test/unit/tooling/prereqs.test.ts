// The prerequisite check (scripts/prereqs.mjs), run for real as its CLI with a PATH that holds only
// some of this machine's real tools, and a test VS Code cache that is empty (cold) or marked complete.
import * as assert from 'node:assert/strict';
import { accessSync, chmodSync, constants, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkPrerequisites } from '../../../scripts/prereqs.mjs';
import { cacheDir, nodeBin, vscodeDir } from '../../vscode/testVscode.mjs';
import { run, tempDir } from '../helpers';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'scripts/prereqs.mjs');

/** A real tool from this process's PATH (the test needs it to be installed, as `npm test` does). */
function real(name: string): string {
	for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
		const file = path.join(dir, name);
		try {
			accessSync(file, constants.X_OK);
			return file;
		} catch {
			// not in this directory
		}
	}
	throw new Error(`${name} is not installed here`);
}

/** A directory of symlinks to the named real tools, to be the whole PATH. */
function binWith(names: readonly string[]): string {
	const dir = tempDir('tls-lens-prereqs-bin-');
	for (const name of names) { symlinkSync(real(name), path.join(dir, name)); }
	return dir;
}

/** A test VS Code cache: empty (nothing installed) or with both installs marked complete. */
function cache(installed: boolean): string {
	const dir = tempDir('tls-lens-prereqs-cache-');
	if (installed) {
		// The same directories testVscode.mjs marks, read from its own exports.
		for (const inside of [nodeBin, vscodeDir]) {
			const top = path.join(dir, path.relative(cacheDir, inside).split(path.sep)[0]);
			mkdirSync(top, { recursive: true });
			writeFileSync(path.join(top, '.complete'), 'test');
		}
	}
	return dir;
}

function check(purpose: string, env: NodeJS.ProcessEnv): { status: number | null; lines: string[]; stdout: string } {
	// Only what the check reads: no inherited CHROMIUM_PATH, CXX or BROWSER to change the answer.
	const result = run(process.execPath, [cli, purpose], { env: { HOME: process.env.HOME, ...env } });
	return { status: result.status, lines: result.stderr.split('\n').filter(Boolean), stdout: result.stdout };
}

const line = {
	mkcert: 'missing mkcert (mkcert CA interop tests): Debian/Ubuntu: sudo apt-get install mkcert · Fedora: sudo dnf install mkcert (Fedora 42+; older: go install filippo.io/mkcert@latest) · macOS: brew install mkcert',
	certutil: 'missing certutil (NSS trust store tests): Debian/Ubuntu: sudo apt-get install libnss3-tools · Fedora: sudo dnf install nss-tools · macOS: brew install nss',
	testssl: 'missing testssl.sh (TLS scan of the proxy in the unit tests): Debian/Ubuntu: sudo apt-get install testssl.sh · Fedora: sudo dnf install testssl · macOS: brew install testssl',
	chromium: (where: string) => `missing chromium at ${where} (browser tests: NSS trust, HSTS, the VS Code UI; CHROMIUM_PATH picks another build): `
		+ 'Debian/Ubuntu: sudo apt-get install chromium (Ubuntu: sudo snap install chromium, then export CHROMIUM_PATH=/snap/bin/chromium) · '
		+ 'Fedora: sudo dnf install chromium, then export CHROMIUM_PATH=/usr/bin/chromium-browser · '
		+ 'macOS: brew install --cask google-chrome, then export CHROMIUM_PATH="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"',
	make: (dir: string) => `missing make (building the test VS Code's native modules on its first install into ${dir}): Debian/Ubuntu: sudo apt-get install make · Fedora: sudo dnf install make · macOS: xcode-select --install`,
	gxx: (dir: string) => `missing g++ (building the test VS Code's native modules on its first install into ${dir}): Debian/Ubuntu: sudo apt-get install g++ · Fedora: sudo dnf install gcc-c++ · macOS: xcode-select --install`,
	gssapi: (dir: string) => `missing <gssapi/gssapi.h> (Kerberos headers for the kerberos module; building the test VS Code's native modules on its first install into ${dir}): Debian/Ubuntu: sudo apt-get install libkrb5-dev · Fedora: sudo dnf install krb5-devel · macOS: xcode-select --install`,
	browser: 'missing a web browser (to open the VS Code that `npm start` runs when there is no desktop `code` on PATH; or install VS Code): Debian/Ubuntu: sudo apt-get install chromium (Ubuntu: sudo snap install chromium) · Fedora: sudo dnf install chromium · macOS: Safari is built in',
};

describe('prerequisite check (scripts/prereqs.mjs)', function () {
	// Each case starts Node and, on a cold cache, the C++ preprocessor.
	this.timeout(30_000);

	it('test: one line per missing tool, exit 1; the build tools are not asked for once the test VS Code is installed', () => {
		const result = check('test', { PATH: binWith(['openssl', 'curl']), CHROMIUM_PATH: '/nonexistent/chromium', TLS_LENS_TEST_CACHE: cache(true) });
		assert.deepEqual(result.lines, [line.mkcert, line.certutil, line.testssl, line.chromium('CHROMIUM_PATH=/nonexistent/chromium')]);
		assert.equal(result.status, 1);
		assert.equal(result.stdout, '');
	});

	it('test: Firefox where the Firefox test looks for it (FIREFOX_PATH or /usr/bin/firefox-esr)', () => {
		const result = check('test', { PATH: process.env.PATH, CHROMIUM_PATH: real('chromium'), FIREFOX_PATH: '/nonexistent/firefox', TLS_LENS_TEST_CACHE: cache(true) });
		assert.equal(result.lines.length, 1, result.lines.join('\n'));
		assert.match(result.lines[0]!, /^missing firefox at FIREFOX_PATH=\/nonexistent\/firefox \(Firefox trust store tests; FIREFOX_PATH picks another build[^)]*\): Debian\/Ubuntu: sudo apt-get install firefox-esr · Fedora: sudo dnf install firefox, then export FIREFOX_PATH=\/usr\/bin\/firefox · macOS: brew install --cask firefox/);
		assert.equal(result.status, 1);
	});

	it('test: testssl.sh counts as `testssl` (Debian, Fedora) or as `testssl.sh` (Homebrew, upstream)', () => {
		const env = { CHROMIUM_PATH: real('chromium'), TLS_LENS_TEST_CACHE: cache(true) };
		const tools = ['openssl', 'curl', 'mkcert', 'certutil'];
		assert.deepEqual(check('test', { ...env, PATH: binWith(tools) }).lines, [line.testssl]);
		assert.deepEqual(check('test', { ...env, PATH: binWith([...tools, 'testssl']) }).lines, []);
		const homebrew = binWith(tools);
		symlinkSync(real('testssl'), path.join(homebrew, 'testssl.sh'));
		const result = check('test', { ...env, PATH: homebrew });
		assert.deepEqual(result.lines, []);
		assert.equal(result.status, 0);
	});

	it('test on a cold cache: also what building the test VS Code needs', () => {
		const dir = cache(false);
		const result = check('test', { PATH: binWith(['openssl', 'curl', 'mkcert', 'certutil', 'testssl', 'python3']), CHROMIUM_PATH: real('chromium'), TLS_LENS_TEST_CACHE: dir });
		assert.deepEqual(result.lines, [line.make(dir), line.gxx(dir)]);
		assert.equal(result.status, 1);
	});

	it('asks the compiler for the GSSAPI headers: one it cannot find them with is reported', () => {
		const dir = cache(false);
		// A real g++ whose system root is empty: the headers this machine has are out of its sight.
		const noHeaders = `${real('g++')} --sysroot=${tempDir('tls-lens-prereqs-sysroot-')}`;
		const result = check('test', { PATH: process.env.PATH, CHROMIUM_PATH: real('chromium'), CXX: noHeaders, TLS_LENS_TEST_CACHE: dir });
		assert.deepEqual(result.lines, [line.gssapi(dir)]);
		assert.equal(result.status, 1);
	});

	it('passes, quietly but for one line on stdout, when everything is there', () => {
		for (const purpose of ['test', 'start']) {
			const result = check(purpose, { PATH: process.env.PATH, CHROMIUM_PATH: real('chromium'), TLS_LENS_TEST_CACHE: cache(false) });
			assert.deepEqual(result.lines, [], purpose);
			assert.equal(result.stdout, `prerequisites for ${purpose}: all present\n`);
			assert.equal(result.status, 0);
		}
	});

	it('start without a desktop `code`: needs a browser to open the printed URL', () => {
		const installed = cache(true);
		const none = check('start', { PATH: binWith([]), TLS_LENS_TEST_CACHE: installed });
		assert.deepEqual(none.lines, [line.browser]);
		assert.equal(none.status, 1);
		assert.equal(check('start', { PATH: binWith(['chromium']), TLS_LENS_TEST_CACHE: installed }).status, 0);
	});

	it('start with a desktop `code` that runs needs nothing else, even on a cold cache', () => {
		const bin = binWith([]);
		const code = path.join(bin, 'code');
		writeFileSync(code, '#!/bin/sh\necho 1.100.0\n');
		chmodSync(code, 0o755);
		const result = check('start', { PATH: bin, TLS_LENS_TEST_CACHE: cache(false) });
		assert.deepEqual(result.lines, []);
		assert.equal(result.status, 0);
		// A `code` that does not run (a broken install) does not count.
		writeFileSync(code, '#!/bin/sh\nexit 1\n');
		assert.deepEqual(check('start', { PATH: bin, TLS_LENS_TEST_CACHE: cache(true) }).lines, [line.browser]);
	});

	it('as a function: returns what is missing and logs the same lines; an unknown purpose throws', () => {
		const logged: string[] = [];
		const absent = checkPrerequisites('test', { env: { PATH: binWith(['openssl', 'curl', 'mkcert']), CHROMIUM_PATH: '/nonexistent/chromium' }, log: (l) => logged.push(l) });
		// This process's cache may be cold or not: compare what does not depend on it.
		assert.deepEqual(absent.slice(0, 3).map((m) => m.tool), ['certutil', 'testssl.sh', 'chromium at CHROMIUM_PATH=/nonexistent/chromium']);
		assert.deepEqual(absent[0].install, { debian: 'sudo apt-get install libnss3-tools', fedora: 'sudo dnf install nss-tools', macos: 'brew install nss' });
		assert.deepEqual(logged, absent.map((m) => m.line));
		assert.throws(() => checkPrerequisites('deploy' as 'test'), /unknown purpose "deploy"/);
	});
});
