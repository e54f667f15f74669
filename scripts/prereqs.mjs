// The tools outside npm that `npm test` and `npm start` need, checked up front: a missing one then
// costs one line that says how to install it, not a failure minutes into a run.
// CLI: `node scripts/prereqs.mjs test|start` exits 1 when something is missing.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, testVscodeInstalled } from '../test/vscode/testVscode.mjs';

/** The browser `launchChromium` (test/vscode/testVscode.mjs) starts: keep the two rules the same. */
export function chromiumPath(env = process.env) {
	return env.CHROMIUM_PATH || '/usr/bin/chromium';
}

/**
 * The testssl.sh that test/unit/proxy/tlsScan.test.ts runs (keep the two rules the same): Debian
 * (package testssl.sh) and Fedora (package testssl) install it as `testssl`, Homebrew and upstream's
 * checkout as `testssl.sh`.
 */
function testsslPath(env) {
	return ['testssl', 'testssl.sh'].map((name) => findOnPath(name, env)).find(Boolean);
}

/** `name`'s path on `env.PATH` (or `name` itself when it is a path), or undefined. */
export function findOnPath(name, env = process.env) {
	const candidates = name.includes('/') ? [name] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
	return candidates.find(isExecutable);
}

function isExecutable(file) {
	try {
		accessSync(file, constants.X_OK);
		return statSync(file).isFile();
	} catch {
		return false;
	}
}

/** Whether a desktop VS Code `code` runs from `env.PATH` (then `npm start` opens it instead of VS Code's server). */
export function hasDesktopCode(env = process.env) {
	const code = findOnPath('code', env);
	return code !== undefined && spawnSync(code, ['--version'], { env, stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** One way to install a tool per platform; each is the whole command a person types. */
function install(debian, fedora, macos) {
	return { debian, fedora, macos };
}

const SNAP_HINT = 'then export CHROMIUM_PATH=/snap/bin/chromium';
const CHROME_MAC = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';

// [tool, what needs it, how to install it, how to find it (default: `tool` on PATH)]
const testTools = [
	['openssl', 'certificate checks in the unit tests', install('sudo apt-get install openssl', 'sudo dnf install openssl', 'brew install openssl@3')],
	['curl', 'HTTPS requests in the unit tests', install('sudo apt-get install curl', 'sudo dnf install curl', 'brew install curl')],
	// Fedora packages mkcert since Fedora 42 (packages.fedoraproject.org/pkgs/mkcert); before that only
	// upstream's own build exists.
	['mkcert', 'mkcert CA interop tests', install('sudo apt-get install mkcert', 'sudo dnf install mkcert (Fedora 42+; older: go install filippo.io/mkcert@latest)', 'brew install mkcert')],
	['certutil', 'NSS trust store tests', install('sudo apt-get install libnss3-tools', 'sudo dnf install nss-tools', 'brew install nss')],
	['testssl.sh', 'TLS scan of the proxy in the unit tests', install('sudo apt-get install testssl.sh', 'sudo dnf install testssl', 'brew install testssl'), testsslPath],
];

/**
 * What VS Code's server needs to build its native modules on its first install. Of those in
 * code-server 4.139.1 only `kerberos` uses system headers (<gssapi/gssapi.h>); none runs pkg-config
 * or needs X11, xkbfile or libsecret (those were native-keymap and keytar, which the server lacks).
 */
const buildTools = [
	['python3', install('sudo apt-get install python3', 'sudo dnf install python3', 'xcode-select --install')],
	['make', install('sudo apt-get install make', 'sudo dnf install make', 'xcode-select --install')],
	// node-gyp's Makefiles compile with $CXX, which make defaults to g++.
	['g++', install('sudo apt-get install g++', 'sudo dnf install gcc-c++', 'xcode-select --install')],
];
const GSSAPI_HEADER = 'gssapi/gssapi.h';
const gssapiInstall = install('sudo apt-get install libkrb5-dev', 'sudo dnf install krb5-devel', 'xcode-select --install');

/** Browsers a person may have on Linux; macOS always has Safari. */
const browsers = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'firefox', 'firefox-esr',
	'microsoft-edge', 'microsoft-edge-stable', 'brave-browser', 'vivaldi', 'opera', 'epiphany-browser', 'falkon', 'konqueror'];

function missing(tool, neededFor, how) {
	const line = `missing ${tool} (${neededFor}): Debian/Ubuntu: ${how.debian} · Fedora: ${how.fedora} · macOS: ${how.macos}`;
	return { tool, neededFor, install: how, line };
}

function checkChromium(env) {
	const expected = chromiumPath(env);
	if (isExecutable(expected)) { return []; }
	// Found elsewhere: say exactly which variable makes the tests use it.
	const elsewhere = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].map((name) => findOnPath(name, env)).find(Boolean);
	const where = env.CHROMIUM_PATH ? `at CHROMIUM_PATH=${expected}` : `at ${expected}`;
	const neededFor = `browser tests: NSS trust, HSTS, the VS Code UI; CHROMIUM_PATH picks another build${elsewhere ? `, e.g. export CHROMIUM_PATH=${elsewhere}` : ''}`;
	return [missing(`chromium ${where}`, neededFor, install(
		`sudo apt-get install chromium (Ubuntu: sudo snap install chromium, ${SNAP_HINT})`,
		'sudo dnf install chromium, then export CHROMIUM_PATH=/usr/bin/chromium-browser',
		`brew install --cask google-chrome, then export CHROMIUM_PATH="${CHROME_MAC}"`))];
}

/** The Firefox that test/unit/trust/firefox.test.ts drives: keep the two rules the same. */
export function firefoxPath(env = process.env) {
	return env.FIREFOX_PATH || '/usr/bin/firefox-esr';
}

function checkFirefox(env) {
	const expected = firefoxPath(env);
	if (isExecutable(expected)) { return []; }
	const elsewhere = ['firefox-esr', 'firefox'].map((name) => findOnPath(name, env)).find(Boolean);
	const where = env.FIREFOX_PATH ? `at FIREFOX_PATH=${expected}` : `at ${expected}`;
	const neededFor = `Firefox trust store tests; FIREFOX_PATH picks another build${elsewhere ? `, e.g. export FIREFOX_PATH=${elsewhere}` : ''}`;
	return [missing(`firefox ${where}`, neededFor, install('sudo apt-get install firefox-esr',
		'sudo dnf install firefox, then export FIREFOX_PATH=/usr/bin/firefox',
		'brew install --cask firefox, then export FIREFOX_PATH=/Applications/Firefox.app/Contents/MacOS/firefox'))];
}

/** On macOS /usr/bin/make, g++ and python3 exist as stubs that only offer to install the Command Line Tools. */
function developerToolsStub(file, env) {
	if (process.platform !== 'darwin' || !file.startsWith('/usr/bin/')) { return false; }
	return spawnSync('xcode-select', ['-p'], { env, stdio: 'ignore' }).status !== 0;
}

function checkBuildTools(env) {
	const neededFor = `building the test VS Code's native modules on its first install into ${cacheDir}`;
	const found = [];
	const result = [];
	for (const [name, how] of buildTools) {
		// A CXX the user set (possibly with flags: `ccache g++`) is what node-gyp compiles with instead.
		const command = name === 'g++' && env.CXX ? env.CXX.trim().split(/\s+/) : [name];
		const file = findOnPath(command[0], env);
		if (file && !developerToolsStub(file, env)) {
			found.push([name, [file, ...command.slice(1)]]);
		} else {
			result.push(missing(command.join(' '), neededFor, how));
		}
	}
	const compiler = found.find(([name]) => name === 'g++')?.[1];
	if (!hasGssapiHeader(compiler, env)) {
		result.push(missing(`<${GSSAPI_HEADER}>`, `Kerberos headers for the kerberos module; ${neededFor}`, gssapiInstall));
	}
	return result;
}

/** Asks the compiler itself when there is one (it knows its include path), else looks where Linux keeps headers. */
function hasGssapiHeader(compiler, env) {
	if (compiler) {
		const [file, ...flags] = compiler;
		const result = spawnSync(file, [...flags, '-E', '-x', 'c++', '-', '-o', process.platform === 'win32' ? 'NUL' : '/dev/null'],
			{ input: `#include <${GSSAPI_HEADER}>\n`, env, stdio: ['pipe', 'ignore', 'ignore'], timeout: 30_000 });
		return result.status === 0;
	}
	return ['/usr/include', '/usr/local/include'].some((dir) => existsSync(path.join(dir, GSSAPI_HEADER)));
}

function checkBrowser(env) {
	if (process.platform === 'darwin') { return []; }
	// $BROWSER is a colon-separated list of commands (xdg-utils); its first word is the program.
	const fromEnv = [env.BROWSER?.split(':')[0].trim().split(/\s+/)[0], env.CHROMIUM_PATH].filter(Boolean);
	if ([...fromEnv, ...browsers].some((name) => findOnPath(name, env))) { return []; }
	return [missing('a web browser', 'to open the VS Code that `npm start` runs when there is no desktop `code` on PATH; or install VS Code',
		install('sudo apt-get install chromium (Ubuntu: sudo snap install chromium)', 'sudo dnf install chromium', 'Safari is built in'))];
}

/**
 * Checks what `purpose` needs and prints one line to stderr (through `log`) per missing tool: the tool,
 * what needs it, and how to install it on Debian/Ubuntu, Fedora and macOS. Returns the missing ones
 * (empty: all present).
 * - `test`: openssl, curl, mkcert, certutil, testssl.sh (as `testssl` or `testssl.sh`), Chromium where
 *   `launchChromium` looks for it, Firefox ESR where the Firefox test looks for it; and, while the
 *   test VS Code is not installed yet, python3, make, g++ and the GSSAPI headers to build it.
 * - `start`: a desktop `code` on PATH, or else a browser and (cache not installed yet) the same build tools.
 * Tools are looked up on `env.PATH`; whether the test VS Code is installed is decided by
 * TLS_LENS_TEST_CACHE as it was when this module was loaded.
 */
export function checkPrerequisites(purpose, { env = process.env, log = (line) => console.error(line) } = {}) {
	if (purpose !== 'test' && purpose !== 'start') { throw new Error(`unknown purpose ${JSON.stringify(purpose)}: 'test' or 'start'`); }
	const result = [];
	if (purpose === 'test') {
		for (const [name, neededFor, how, find = (e) => findOnPath(name, e)] of testTools) {
			if (!find(env)) { result.push(missing(name, neededFor, how)); }
		}
		result.push(...checkChromium(env), ...checkFirefox(env));
		if (!testVscodeInstalled()) { result.push(...checkBuildTools(env)); }
	} else if (!hasDesktopCode(env)) {
		result.push(...checkBrowser(env));
		if (!testVscodeInstalled()) { result.push(...checkBuildTools(env)); }
	}
	for (const { line } of result) { log(line); }
	return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const purpose = process.argv[2];
	if (purpose !== 'test' && purpose !== 'start') {
		console.error('usage: node scripts/prereqs.mjs test|start');
		process.exit(2);
	}
	const absent = checkPrerequisites(purpose);
	if (absent.length === 0) { console.log(`prerequisites for ${purpose}: all present`); }
	process.exit(absent.length ? 1 : 0);
}
