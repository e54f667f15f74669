// The test VS Code: VS Code's own server + web workbench (shipped inside the code-server npm package),
// installed from the npm registry because desktop VS Code cannot be downloaded offline
// (see ../shared/docs/vscode-offline-tests.md). Used by the integration runner, the e2e tests and
// `npm start`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1'; // = VS Code 1.139.1
const NODE_MAJOR = '24'; // what this VS Code server requires

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** Where the test VS Code and its Node live: `.vscode-test/` unless TLS_LENS_TEST_CACHE moves it (CI reuses ~/.cache). */
export const cacheDir = path.resolve(process.env.TLS_LENS_TEST_CACHE || path.join(repo, '.vscode-test'));
const nodeDir = path.join(cacheDir, `node${NODE_MAJOR}`);
const serverDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
export const nodeBin = path.join(nodeDir, 'node_modules/node/bin/node');
export const vscodeDir = path.join(serverDir, 'node_modules/code-server/lib/vscode');

function log(message) {
	process.stderr.write(`[test-vscode] ${message}\n`);
}

/** Installs Node 24 and the VS Code server into the cache when they are missing (a few minutes, once). */
export function ensureTestVscode() {
	if (!existsSync(nodeBin)) {
		log(`installing Node ${NODE_MAJOR} into ${nodeDir}`);
		mkdirSync(nodeDir, { recursive: true });
		writeFileSync(path.join(nodeDir, 'package.json'), JSON.stringify({ name: 'tls-lens-test-node', private: true }));
		execFileSync('npm', ['install', '--no-audit', '--no-fund', `node@${NODE_MAJOR}`], { cwd: nodeDir, stdio: 'inherit' });
	}
	if (!existsSync(path.join(vscodeDir, 'out/server-main.js')) || !existsSync(path.join(serverDir, '.complete'))) {
		log(`installing code-server ${CODE_SERVER_VERSION} (VS Code server + web workbench) into ${serverDir}; this takes a few minutes`);
		mkdirSync(serverDir, { recursive: true });
		writeFileSync(path.join(serverDir, 'package.json'), JSON.stringify({ name: 'tls-lens-test-vscode', private: true }));
		// npm 11 skips dependency install scripts unless approved; code-server's build its native modules.
		const env = { ...process.env, PATH: `${path.dirname(nodeBin)}:${process.env.PATH}` };
		execFileSync('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: serverDir, stdio: 'inherit', env });
		execFileSync('npm', ['install-scripts', 'approve', '--all'], { cwd: serverDir, stdio: 'inherit', env });
		execFileSync('npm', ['rebuild'], { cwd: serverDir, stdio: 'inherit', env });
		writeFileSync(path.join(serverDir, '.complete'), new Date().toISOString());
	}
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
	ensureTestVscode();
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
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`VS Code server did not start in 60 s:\n${output}`)), 60_000);
		child.stdout.on('data', () => {
			if (output.includes('Extension host agent listening on')) { clearTimeout(timer); resolve(); }
		});
		child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`VS Code server exited with ${code}:\n${output}`)); });
	});
	return {
		port,
		origin: `http://127.0.0.1:${port}`,
		output: () => output,
		/** The workbench URL for `folder`, with an extension under development and optionally a test entry. */
		url({ folder, extensionDevelopmentPath = repo, extensionTestsPath }) {
			const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
			const payload = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)], ['skipWelcome', 'true']];
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
