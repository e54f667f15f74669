import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { startVite, type ViteServer } from '../fixtures/devServers';
import { proxyPort, runCommand, screenshotFailures, trustWorkspace } from './workbench';

const repo = path.resolve(__dirname, '../..');
const screenshots = path.join(repo, 'test-output/e2e');

/** GET https://app.test:PORT/ through the proxy (SNI and Host app.test; trust is not what this tests). */
function getAppTest(port: number): Promise<number> {
	return new Promise((resolve, reject) => {
		https.get({ host: '127.0.0.1', port, path: '/', servername: 'app.test', headers: { host: `app.test:${port}` }, rejectUnauthorized: false }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode!));
		}).on('error', reject);
	});
}

/** A notification: as a toast, or (if the workbench already tucked it away) in the notification center. */
async function notification(page: Page, text: string): Promise<Locator> {
	if (!await page.locator('.notification-toast').filter({ hasText: text }).waitFor({ timeout: 10_000 }).then(() => true, () => false)) {
		if (!await page.locator('.notifications-center').isVisible()) await runCommand(page, 'Notifications: Show Notifications');
	}
	const found = page.locator('.notification-toast, .notifications-center .notification-list-item').filter({ hasText: text }).first();
	await found.waitFor({ timeout: 10_000 });
	return found;
}

// A user serves a Vite app on app.test: Vite's host check refuses it; TLS Lens's warning offers the
// fix, and the Refactor Preview shows the change before it is made (issue 13, item 4).
describe('a host check refusal in the VS Code UI', function () {
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let vite: ViteServer;
	let work: string;
	let app: string;

	before(async () => {
		const { startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-e2e-hosts-'));
		app = path.join(work, 'demo-app');
		cpSync(path.join(repo, 'test/fixtures/viteApp'), app, { recursive: true });
		vite = await startVite(app);
		writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'demo', private: true, devDependencies: { vite: '*' } }));
		mkdirSync(path.join(app, '.vscode'), { recursive: true });
		writeFileSync(path.join(app, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.port': 0, 'tlsLens.target': String(vite.port) }));
		mkdirSync(screenshots, { recursive: true });
		vscode = await startTestVscode({ dataDir: path.join(work, 'vscode') });
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		await page.goto(vscode.url({ folder: app }));
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

	it('warns once with Fix vite.config…, Send Host: localhost and Show Log; the fix goes through the Refactor Preview and app.test loads', async () => {
		await runCommand(page, 'TLS Lens: Start TLS Proxy');
		const port = await proxyPort(page, vite.port);
		assert.equal(await getAppTest(port), 403);
		const toast = await notification(page, 'Vite refused the name app.test (its host check)');
		for (const action of ['Fix vite.config…', 'Send Host: localhost', 'Show Log']) {
			assert.equal(await toast.getByRole('button', { name: action }).count(), 1, `${action} offered`);
		}
		await toast.screenshot({ path: path.join(screenshots, 'host-check-warning.png') });
		assert.equal(await getAppTest(port), 403);
		await page.waitForTimeout(500);
		assert.equal(await page.locator('.notification-toast, .notifications-center .notification-list-item').filter({ hasText: 'Vite refused the name' }).count(), 1, 'one warning per name');

		await toast.getByRole('button', { name: 'Fix vite.config…' }).click();
		// needsConfirmation: VS Code lists the change unchecked in its Refactor Preview, for the user to tick.
		const preview = page.locator('.part.panel').filter({ hasText: 'Refactor Preview' }).filter({ hasText: "allowedHosts: ['app.test']" });
		await preview.waitFor({ timeout: 20_000 });
		if (await page.locator('.notifications-center').isVisible()) await runCommand(page, 'Notifications: Hide Notifications');
		await page.screenshot({ path: path.join(screenshots, 'host-check-refactor-preview.png') });
		await preview.locator('.monaco-checkbox').first().click();
		await preview.locator('.monaco-button').filter({ hasText: /^Apply$/ }).click();
		const deadline = Date.now() + 20_000;
		while (!/allowedHosts: \['app\.test'\]/.test(readFileSync(path.join(app, 'vite.config.mjs'), 'utf8'))) {
			if (Date.now() > deadline) throw new Error(`vite.config.mjs was not changed:\n${readFileSync(path.join(app, 'vite.config.mjs'), 'utf8')}`);
			await page.waitForTimeout(200);
		}
		// Vite restarts by itself on a config change; then app.test is served.
		while (await getAppTest(port) !== 200) {
			if (Date.now() > deadline + 20_000) throw new Error(`app.test still refused:\n${vite.output()}`);
			await page.waitForTimeout(300);
		}
		await notification(page, 'Updated vite.config.mjs');
	});
});
