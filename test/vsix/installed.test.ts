// The VSIX as users get it: built by `npm run package`, installed with the VS Code server's CLI
// (`--install-extension FILE.vsix`, not extensionDevelopmentPath), then used through the UI. A file
// that .vscodeignore drops, or a README image that cannot show, fails here.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { startVite, type ViteServer } from '../fixtures/devServers';
import { inspectorFrame, proxyPort, runCommand, screenshotFailures, trustWorkspace } from '../e2e/workbench';
import { zipEntries } from './zip';

const repo = path.resolve(__dirname, '../..');
const { name, version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const vsix = path.join(repo, `${name}-${version}.vsix`);
const screenshots = path.join(repo, 'test-output/vsix');

/** What the VSIX may hold: the bundles, the webview's assets, the icon and walkthrough media, and the docs. */
const SHIPPED = [
	/^\[Content_Types\]\.xml$/, /^extension\.vsixmanifest$/,
	/^extension\/package\.json$/, /^extension\/readme\.md$/, /^extension\/changelog\.md$/, /^extension\/LICENSE\.txt$/,
	/^extension\/dist\/(extension|core)\.js$/, /^extension\/dist\/webview\/(main\.js|main\.css|codicon\.css|codicon\.ttf)$/,
	/^extension\/media\/icon\.png$/, /^extension\/media\/walkthrough\/[\w.-]+\.(svg|png|md)$/,
];
const REQUIRED = ['extension/package.json', 'extension/readme.md', 'extension/changelog.md', 'extension/LICENSE.txt',
	'extension/dist/extension.js', 'extension/dist/core.js', 'extension/dist/webview/main.js', 'extension/dist/webview/main.css',
	'extension/dist/webview/codicon.css', 'extension/dist/webview/codicon.ttf', 'extension/media/icon.png'];

function portIsFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

function fetchTrustingOnly(ca: Buffer, url: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca }, (response) => {
			let body = '';
			response.setEncoding('utf8');
			response.on('data', (chunk: string) => { body += chunk; });
			response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
		}).on('error', reject);
	});
}

/** The TLS Lens output channel's log files under `dir`, oldest extension host first. */
function extensionLogs(dir: string): string[] {
	const found: string[] = [];
	const walk = (at: string): void => {
		for (const entry of readdirSync(at, { withFileTypes: true })) {
			const full = path.join(at, entry.name);
			if (entry.isDirectory()) { walk(full); } else if (entry.name.endsWith('TLS Lens.log')) { found.push(full); }
		}
	};
	walk(dir);
	return found.sort((a, b) => statSync(a).birthtimeMs - statSync(b).birthtimeMs);
}

/** Finds rootCA.pem under `dir` (the extension's global storage in the server's data dir). */
function findCa(dir: string): string | undefined {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const full = path.join(entry.parentPath, entry.name);
		if (entry.isDirectory()) {
			const found = findCa(full);
			if (found) { return found; }
		} else if (entry.name === 'rootCA.pem') {
			return full;
		}
	}
	return undefined;
}

describe('the installed VSIX', function () {
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let vite: ViteServer;
	let work: string;
	let dataDir: string;
	let proxy: number;

	before(async () => {
		if (!existsSync(vsix)) { throw new Error(`${path.basename(vsix)} is missing: run \`npm run package\` first.`); }
		const { installExtension, startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-vsix-'));
		dataDir = path.join(work, 'vscode');
		await installExtension({ dataDir, vsix });
		const app = path.join(work, 'demo-app');
		cpSync(path.join(repo, 'test/fixtures/viteApp'), app, { recursive: true });
		vite = await startVite(app);
		mkdirSync(path.join(app, '.vscode'), { recursive: true });
		writeFileSync(path.join(app, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.target': `http://127.0.0.1:${vite.port}`, 'tlsLens.port': 0 }));
		mkdirSync(screenshots, { recursive: true });
		vscode = await startTestVscode({ dataDir });
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		await page.goto(vscode.url({ folder: app, extensionDevelopmentPath: null }));
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		await trustWorkspace(page);
	});

	screenshotFailures(screenshots, () => page);

	after(async () => {
		await browser?.close();
		await vscode?.stop();
		await vite?.stop();
		if (work) { rmSync(work, { recursive: true, force: true }); }
	});

	it('holds only what the extension needs at run time: no sources, tests or source maps', () => {
		const entries = zipEntries(vsix).filter((entry) => !entry.endsWith('/'));
		const unexpected = entries.filter((entry) => !SHIPPED.some((pattern) => pattern.test(entry)));
		assert.deepEqual(unexpected, [], 'files that should not ship');
		assert.deepEqual(REQUIRED.filter((entry) => !entries.includes(entry)), [], 'files the extension needs');
	});

	it('activates from the installed copy: the status bar item appears', async () => {
		const installed = readdirSync(path.join(dataDir, 'extensions')).filter((entry) => entry.startsWith('tls-lens.tls-lens-'));
		assert.deepEqual(installed, [`tls-lens.tls-lens-${version}`]);
		await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 60_000 });
	});

	it('opens the Get started walkthrough on the first start after install, and only then', async () => {
		const walkthrough = page.locator('.gettingStartedDetailsContent h2.category-title').filter({ hasText: 'Get started with TLS Lens' });
		await walkthrough.waitFor({ timeout: 30_000 });
		await page.screenshot({ path: path.join(screenshots, 'walkthrough-on-install.png') });
		await runCommand(page, 'View: Close All Editors');
		await walkthrough.waitFor({ state: 'detached', timeout: 10_000 });
		await page.reload();
		await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 60_000 });
		// Activation has run (the status bar item is its doing); give a second opening time to happen.
		// The extension's log is asked, not the screen: a reload soon after closing an editor can bring
		// it back from VS Code's own editor state, which the browser may not have stored yet.
		await page.waitForTimeout(3_000);
		const logs = extensionLogs(path.join(dataDir, 'server'));
		assert.equal(logs.length, 2, `one TLS Lens log per extension host start: ${logs.join(', ')}`);
		const opened = logs.map((log) => readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('Walkthrough: opened')).length);
		assert.deepEqual(opened, [1, 0], 'opened on the first start only');
	});

	it('Start TLS Proxy serves HTTPS that a client trusting only the CA accepts', async () => {
		await runCommand(page, 'TLS Lens: Start TLS Proxy');
		proxy = await proxyPort(page, vite.port);
		const caFile = findCa(path.join(dataDir, 'server'));
		assert.ok(caFile, 'the CA was created in the extension\'s global storage');
		const response = await fetchTrustingOnly(readFileSync(caFile), `https://localhost:${proxy}/`);
		assert.equal(response.status, 200);
		assert.match(response.body, /<div id="app">|<script type="module"/);
	});

	it('the inspector loads its script, stylesheet and codicon font from the packaged files', async () => {
		await runCommand(page, 'TLS Lens: Open Traffic Inspector');
		const frame: Frame = await inspectorFrame(page);
		// data-ready is set by main.js once its handshake with the host is done: the script loaded.
		// (Strings, not functions: this tier is type-checked without the DOM library.)
		const loaded = await frame.evaluate(`(async () => {
			await document.fonts.ready;
			const sheets = [...document.styleSheets].map((sheet) => {
				let rules = -1;
				try { rules = sheet.cssRules.length; } catch { /* not readable: not loaded */ }
				return { href: sheet.href ?? '', rules };
			});
			const fonts = [...document.fonts].map((font) => ({ family: font.family.replace(/"/g, ''), status: font.status }));
			return { sheets, fonts };
		})()`) as { sheets: { href: string; rules: number }[]; fonts: { family: string; status: string }[] };
		for (const file of ['main.css', 'codicon.css']) {
			const sheet = loaded.sheets.find((s) => s.href.includes(`/dist/webview/${file}`));
			assert.ok(sheet && sheet.rules > 0, `${file} loaded with rules: ${JSON.stringify(loaded.sheets)}`);
		}
		const codicon = loaded.fonts.find((font) => font.family === 'codicon');
		assert.equal(codicon?.status, 'loaded', `codicon font: ${JSON.stringify(loaded.fonts)}`);
		await page.screenshot({ path: path.join(screenshots, 'inspector.png') });
	});

	it('Stop frees the port', async () => {
		await runCommand(page, 'TLS Lens: Stop TLS Proxy');
		await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 15_000 });
		assert.ok(await portIsFree(proxy), `port ${proxy} is free again`);
	});

	it('the Extensions view shows the packaged README, with no broken image', async () => {
		await runCommand(page, 'Extensions: Show Installed Extensions');
		await page.locator('.extensions-viewlet .monaco-list-row').filter({ hasText: 'TLS Lens' }).first().click();
		const deadline = Date.now() + 30_000;
		let readme: { text: string; images: { src: string; width: number }[] } | undefined;
		while (!readme && Date.now() < deadline) {
			for (const frame of page.frames()) {
				readme ??= await frame.evaluate(`document.querySelector('h1')?.textContent?.includes('TLS Lens')
					? { text: document.body.innerText, images: [...document.images].map((img) => ({ src: img.src.slice(0, 40), width: img.naturalWidth })) }
					: undefined`).catch(() => undefined) as typeof readme;
			}
			if (!readme) { await page.waitForTimeout(250); }
		}
		assert.ok(readme, 'the README is shown');
		// Each screenshot of the source README is named instead (VS Code shows README images from https only).
		assert.match(readme.text, /Screenshot \(in the source repository, docs\/images\/[\w-]+\.png\)/);
		assert.deepEqual(readme.images.filter((image) => image.width === 0), [], 'no image that cannot load');
		await page.screenshot({ path: path.join(screenshots, 'extension-page.png') });
	});
});

