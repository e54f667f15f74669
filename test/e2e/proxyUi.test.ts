import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startVite, type ViteServer } from '../fixtures/devServers';
import { runCommand, screenshotFailures, trustWorkspace } from './workbench';

const repo = path.resolve(__dirname, '../..');
const screenshots = path.join(repo, 'test-output/e2e');

// Playwright drives the real VS Code workbench (VS Code's server + web UI) as a person would.
describe('TLS Lens in the VS Code UI', function () {
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let vite: ViteServer;
	let work: string;

	before(async () => {
		const { startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-e2e-'));
		const app = path.join(work, 'demo-app');
		cpSync(path.join(repo, 'test/fixtures/viteApp'), app, { recursive: true });
		vite = await startVite(app);
		// The dev server's port, named in package.json, is what "Start TLS Proxy" discovers.
		writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'demo', private: true, scripts: { dev: `vite --port ${vite.port}` } }));
		mkdirSync(path.join(app, '.vscode'), { recursive: true });
		writeFileSync(path.join(app, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.port': 0 }));
		mkdirSync(screenshots, { recursive: true });
		vscode = await startTestVscode({ dataDir: path.join(work, 'vscode') });
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		await page.goto(vscode.url({ folder: app }));
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		// A fresh profile opens the folder in Restricted Mode, where TLS Lens ignores workspace settings
		// such as tlsLens.port.
		await trustWorkspace(page);
	});

	screenshotFailures(screenshots, () => page);

	after(async () => {
		await browser?.close();
		await vscode?.stop();
		await vite?.stop();
		if (work) { rmSync(work, { recursive: true, force: true }); }
	});

	const statusItem = () => page.locator('.statusbar-item').filter({ hasText: /TLS|:\d+ → :\d+/ }).first();
	// What a screen reader is told: the item's (or its link's) aria-label.
	const spoken = () => statusItem().evaluate((item) => item.getAttribute('aria-label') ?? item.querySelector('[aria-label]')?.getAttribute('aria-label') ?? null);

	it('shows the stopped state in the status bar', async () => {
		await statusItem().waitFor({ timeout: 60_000 });
		assert.match(await statusItem().innerText(), /TLS/);
		assert.equal(await spoken(), 'TLS Lens: the proxy is stopped. Activate to start it.');
	});

	it('offers Trust Local CA, and not Remove CA Trust while nothing trusts the CA', async () => {
		await page.keyboard.press('F1');
		const input = page.locator('.quick-input-widget input');
		const commands = page.locator('.quick-input-list .monaco-list-row');
		await input.fill('>TLS Lens: Trust Local CA');
		await commands.filter({ hasText: 'Trust Local CA' }).first().waitFor();
		await input.fill('>TLS Lens: Remove CA Trust');
		// The palette answers with similar commands (Trust Doctor, Trust Local CA…), not this one.
		await commands.filter({ hasText: 'Trust Doctor' }).first().waitFor();
		assert.equal(await commands.filter({ hasText: 'Remove CA Trust' }).count(), 0);
		await input.press('Escape');
	});

	it('F1 → Start TLS Proxy → pick the discovered dev server → running in the status bar', async () => {
		await runCommand(page, 'TLS Lens: Start TLS Proxy');
		const candidate = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: `127.0.0.1:${vite.port}` });
		await candidate.waitFor({ timeout: 20_000 });
		await candidate.click();
		await page.locator('.statusbar-item').filter({ hasText: new RegExp(`:\\d+ → :${vite.port}`) }).waitFor({ timeout: 30_000 });
		const text = await statusItem().innerText();
		assert.match(text, new RegExp(`:(\\d+) → :${vite.port}`));
		// Words, not the Markdown tooltip or icon names.
		assert.match(await spoken() ?? '', new RegExp(`^TLS Lens: the proxy is running, https://localhost:\\d+ forwards to http://(localhost|127\\.0\\.0\\.1):${vite.port}\\. Activate to stop it\\.$`));
		// The notification with the URL and its actions: as a toast, or (if the workbench already tucked it
		// away) in the notification center.
		const notice = /TLS Lens: https:\/\/localhost:\d+ → http:\/\/(localhost|127\.0\.0\.1):\d+/;
		const toast = page.locator('.notification-toast').filter({ hasText: notice });
		if (!await toast.isVisible()) {
			await runCommand(page, 'Notifications: Show Notifications');
		}
		const entry = page.locator('.notification-toast, .notifications-center .notification-list-item').filter({ hasText: notice }).first();
		await entry.waitFor({ timeout: 10_000 });
		for (const action of ['Open in Browser', 'Copy URL', 'Open Inspector']) {
			assert.ok(await entry.getByRole('button', { name: action }).count() > 0, `${action} action offered`);
		}
		await page.screenshot({ path: path.join(screenshots, 'running.png') });
	});

	it('Open in Browser opens the proxy itself, not this loopback workbench\'s plain-HTTP /proxy/PORT/', async () => {
		const port = /:(\d+) → :/.exec(await statusItem().innerText())![1];
		const requests: string[] = [];
		const onRequest = (request: { url(): string }) => { requests.push(request.url()); };
		page.context().on('request', onRequest);
		const opened = page.context().waitForEvent('page', { timeout: 20_000 });
		await runCommand(page, 'TLS Lens: Open in Browser');
		// VS Code's link protection may ask before opening a site outside its trusted domains.
		const ask = page.locator('.monaco-dialog-box').filter({ hasText: /open the external website/i });
		const popup = await Promise.race([opened, ask.waitFor({ timeout: 20_000 }).then(() => undefined)]);
		let tab = popup;
		if (!tab) {
			await page.screenshot({ path: path.join(screenshots, 'open-in-browser-ask.png') });
			const next = page.context().waitForEvent('page', { timeout: 20_000 });
			await ask.getByRole('button', { name: 'Open', exact: true }).click();
			tab = await next;
		}
		// The tab lands on Chromium's certificate error page (this browser does not trust the CA): the
		// requests say where it went.
		await tab.waitForLoadState().catch(() => undefined);
		await tab.close();
		page.context().off('request', onRequest);
		const url = requests.find((u) => u.includes(`:${port}`) || u.includes('/proxy/')) ?? requests.join(' ');
		assert.doesNotMatch(url, /\/proxy\//);
		assert.match(url, new RegExp(`^https://(localhost|\\[::1\\]):${port}/`));
	});

	it('clicking the status bar item stops the proxy', async () => {
		await statusItem().click();
		await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 15_000 });
		await page.screenshot({ path: path.join(screenshots, 'stopped.png') });
	});

	it('clicking it again starts on the same dev server without asking, and says so beforehand', async () => {
		assert.match(await spoken() ?? '', new RegExp(`^TLS Lens: the proxy is stopped\\. Activate to start it for \\S+:${vite.port}\\.$`));
		await statusItem().click();
		await page.locator('.statusbar-item').filter({ hasText: new RegExp(`:\\d+ → :${vite.port}`) }).waitFor({ timeout: 30_000 });
		assert.equal(await page.locator('.quick-input-widget').isVisible(), false, 'no target picker');
		await statusItem().click();
		await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 15_000 });
	});
});
