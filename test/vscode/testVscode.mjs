// The test VS Code: VS Code's own server + web workbench (shipped inside the code-server npm package),
// installed from the npm registry because desktop VS Code cannot be downloaded offline
// (see ../shared/docs/vscode-offline-tests.md). Used by the integration runner, the e2e tests and
// `npm start`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1'; // = VS Code 1.139.1
const NODE_MAJOR = '24'; // what this VS Code server requires

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** Where the test VS Code and its Node live: `.vscode-test/` unless TLS_LENS_TEST_CACHE moves it (CI reuses ~/.cache). */
export const cacheDir = path.resolve(process.env.TLS_LENS_TEST_CACHE || path.join(repo, '.vscode-test'));
const nodeDir = path.join(cacheDir, `node${NODE_MAJOR}`);
/** Written last into a finished install: a directory without it is half-installed. */
const COMPLETE = '.complete';
const serverDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
export const nodeBin = path.join(nodeDir, 'node_modules/node/bin/node');
export const vscodeDir = path.join(serverDir, 'node_modules/code-server/lib/vscode');

function log(message) {
	process.stderr.write(`[test-vscode] ${message}\n`);
}

/**
 * The environment for the nested npm installs: this process's, minus everything an outer `npm run`
 * adds (`npm_config_*`, `npm_package_*`, `npm_lifecycle_*`, `npm_execpath`, `INIT_CWD`, `NODE`, its
 * `node_modules/.bin` PATH entries). Left in, they leak the outer npm's settings and its user agent
 * ("node/v20"), which code-server's postinstall reads as the Node version and refuses. `binDir` goes
 * first on PATH, so that `npm` and everything it runs use that Node.
 */
export function installEnv(binDir) {
	const env = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE') { continue; }
		env[key] = value;
	}
	const entries = (process.env.PATH ?? '').split(path.delimiter)
		.filter((entry) => entry && !/[\\/]node_modules[\\/]\.bin$/.test(entry) && !/[\\/]node-gyp-bin$/.test(entry));
	env.PATH = [...(binDir ? [binDir] : []), ...entries].join(path.delimiter);
	return env;
}

/** The child processes of installs under way, so that a stopping caller can end them (see `stopInstalls`). */
const installs = new Set();

function run(command, args, options) {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { ...options, stdio: ['ignore', 'inherit', 'inherit'] });
		installs.add(child);
		child.once('error', (error) => { installs.delete(child); reject(error); });
		child.once('exit', (code, signal) => {
			installs.delete(child);
			if (code === 0) { resolve(); } else { reject(new Error(`\`${command} ${args.join(' ')}\` ${signal ? `was stopped by ${signal}` : `exited with ${code}`}`)); }
		});
	});
}

/** Ends the npm installs that `ensureTestVscode` is running (for Ctrl+C in `npm start`). */
export function stopInstalls() {
	for (const child of installs) { child.kill('SIGTERM'); }
}

/**
 * Installs a package directory: `install` fills a fresh staging directory next to `dir`, which is then
 * renamed into place, so `dir` exists only once complete; a staging directory left by an interrupted
 * run is removed first. Resolves to whether it installed anything.
 */
export async function installInto(dir, what, install) {
	if (existsSync(path.join(dir, COMPLETE))) { return false; }
	// An earlier layout (or a hand-made copy) without the marker is not trusted to be whole.
	rmSync(dir, { recursive: true, force: true });
	const parent = path.dirname(dir);
	mkdirSync(parent, { recursive: true });
	for (const name of readdirSync(parent)) {
		if (name.startsWith(`${path.basename(dir)}.partial-`)) { rmSync(path.join(parent, name), { recursive: true, force: true }); }
	}
	const staging = `${dir}.partial-${process.pid}`;
	mkdirSync(staging, { recursive: true });
	log(`installing ${what} into ${dir}`);
	const started = Date.now();
	try {
		await install(staging);
		writeFileSync(path.join(staging, COMPLETE), new Date().toISOString());
		renameSync(staging, dir);
	} catch (error) {
		rmSync(staging, { recursive: true, force: true });
		throw new Error(`Installing ${what} failed: ${error.message}.\n`
			+ 'It needs the npm registry and, for its native modules, python3, make, g++ and the Kerberos headers '
			+ '(`node scripts/prereqs.mjs test` names what is missing). Nothing half-installed was kept: fix the cause above '
			+ 'and run the command again.', { cause: error });
	}
	log(`installed ${what} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
	return true;
}

/** Whether the test VS Code is installed and complete (so `ensureTestVscode` would not install anything). */
export function testVscodeInstalled() {
	return existsSync(path.join(nodeDir, COMPLETE)) && existsSync(path.join(serverDir, COMPLETE));
}

/**
 * Installs Node 24 and the VS Code server into the cache when they are missing (a few minutes, once).
 * Safe to call from any npm script, and again after an interrupted or failed install.
 */
export async function ensureTestVscode() {
	await installInto(nodeDir, `Node ${NODE_MAJOR}`, async (dir) => {
		writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tls-lens-test-node', private: true }));
		await run('npm', ['install', '--no-audit', '--no-fund', `node@${NODE_MAJOR}`], { cwd: dir, env: installEnv() });
	});
	await installInto(serverDir, `code-server ${CODE_SERVER_VERSION} (VS Code server + web workbench, a few minutes)`, async (dir) => {
		writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tls-lens-test-vscode', private: true }));
		const env = installEnv(path.dirname(nodeBin));
		await run('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env });
		// npm 11 skips dependency install scripts unless approved; code-server's build its native modules.
		await run('npm', ['install-scripts', 'approve', '--all'], { cwd: dir, env });
		await run('npm', ['rebuild'], { cwd: dir, env });
		if (!existsSync(path.join(dir, 'node_modules/code-server/lib/vscode/out/server-main.js'))) {
			throw new Error('the package installed without lib/vscode/out/server-main.js');
		}
	});
	return { nodeBin, vscodeDir };
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/**
 * Starts VS Code's server on 127.0.0.1 with fresh data and extension dirs. Webviews are pointed at the
 * server itself on `{{uuid}}.localhost` (the default CDN is unreachable offline; *.localhost resolves to
 * loopback in Chromium, so each webview keeps an origin of its own).
 */
export async function startTestVscode({ dataDir, port }) {
	await ensureTestVscode();
	port ??= await freePort();
	const productFile = path.join(vscodeDir, 'product.json');
	const product = JSON.parse(readFileSync(productFile, 'utf8'));
	product.webviewContentExternalBaseUrlTemplate = `http://{{uuid}}.localhost:${port}/stable-${product.commit}/static/out/vs/workbench/contrib/webview/browser/pre/`;
	writeFileSync(productFile, JSON.stringify(product, null, '\t'));

	const serverData = path.join(dataDir, 'server');
	mkdirSync(path.join(serverData, 'data/Machine'), { recursive: true });
	// Quiet the workbench's calls to online services; they fail offline anyway.
	writeFileSync(path.join(serverData, 'data/Machine/settings.json'), JSON.stringify({
		'telemetry.telemetryLevel': 'off',
		'extensions.autoCheckUpdates': false,
		'extensions.autoUpdate': false,
		'update.mode': 'none',
		'workbench.enableExperiments': false,
		'chat.disableAIFeatures': true,
	}));
	const child = spawn(nodeBin, [
		path.join(vscodeDir, 'out/server-main.js'),
		'--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
		'--enable-smoke-test-driver', '--server-data-dir', serverData, '--extensions-dir', path.join(dataDir, 'extensions'),
	], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout.on('data', (chunk) => { output += chunk; });
	child.stderr.on('data', (chunk) => { output += chunk; });
	try {
		await new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`VS Code server did not start in 60 s:\n${output}`)), 60_000);
			const check = () => {
				if (output.includes('Extension host agent listening on')) { clearTimeout(timer); resolve(); }
				// It logs a taken port and then keeps running without listening.
				if (output.includes('EADDRINUSE')) { clearTimeout(timer); reject(new Error(`VS Code server: 127.0.0.1:${port} is already in use:\n${output}`)); }
			};
			child.stdout.on('data', check);
			child.stderr.on('data', check);
			child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`VS Code server exited with ${code}:\n${output}`)); });
		});
	} catch (error) {
		child.kill('SIGKILL');
		throw error;
	}
	return {
		port,
		origin: `http://127.0.0.1:${port}`,
		output: () => output,
		/**
		 * The workbench URL for `folder`, with an extension under development (`null`: none, only what is
		 * installed) and optionally a test entry.
		 */
		url({ folder, extensionDevelopmentPath = repo, extensionTestsPath }) {
			const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
			const payload = [['skipWelcome', 'true']];
			if (extensionDevelopmentPath !== null) { payload.unshift(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]); }
			if (extensionTestsPath) { payload.push(['extensionTestsPath', remote(extensionTestsPath)]); }
			return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
		},
		stop: () => new Promise((resolve) => {
			if (child.exitCode !== null) { resolve(); return; }
			child.once('exit', () => resolve());
			child.kill('SIGTERM');
			setTimeout(() => child.kill('SIGKILL'), 5000).unref();
		}),
	};
}

/**
 * Installs a VSIX into `dataDir`'s extensions (the ones `startTestVscode({ dataDir })` loads) the way a
 * user does: with the server's CLI, `--install-extension FILE.vsix`.
 */
export async function installExtension({ dataDir, vsix }) {
	await ensureTestVscode();
	await run(nodeBin, [path.join(vscodeDir, 'out/server-main.js'), '--install-extension', vsix, '--force',
		'--extensions-dir', path.join(dataDir, 'extensions'), '--server-data-dir', path.join(dataDir, 'server'), '--accept-server-license-terms'], {});
}

/**
 * Headless Debian Chromium, with the flags this closed network needs. `options` go to playwright's
 * launch as well (e.g. `env` with another HOME, whose NSS database Chromium then reads).
 */
export async function launchChromium(extraArgs = [], options = {}) {
	const { chromium } = await import('playwright-core');
	return chromium.launch({
		...options,
		executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', ...extraArgs],
	});
}
