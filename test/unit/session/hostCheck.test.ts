import * as assert from 'node:assert/strict';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { planHostCheckFix, watchHostChecks, type HostCheckRefusal } from '../../../src/core/devServers';
import { ProxySession, type ProxySessionOptions } from '../../../src/core/session';
import { startVite, type DevServerProcess } from '../../fixtures/devServers';
import { startWebpackDevServer } from '../../fixtures/webpackDevServer';
import { tempDir } from '../helpers';
import { trustingChromium, until } from './browser';

const root = path.resolve(__dirname, '../../..');

/** Applies the host-check fix to the config file, as the Quick Fix does; returns the new text. */
function applyFix(file: string, refusal: HostCheckRefusal): string {
	const plan = planHostCheckFix(refusal, readFileSync(file, 'utf8'));
	assert.ok(plan.ok && plan.edit, `an edit for ${file}`);
	writeFileSync(file, plan.text);
	return plan.text;
}

/** Loads `url`; resolves to the status of the page's response. */
async function openApp(page: Page, url: string): Promise<number | undefined> {
	const response = await page.goto(url, { timeout: 20_000 });
	return response?.status();
}

// Dev servers' host checks on a name the CA permits other than localhost (issue 13, item 4), with real
// Vite and webpack-dev-server in real Chromium, which resolves app.test to 127.0.0.1.
describe('dev-server host checks on app.test, in Chromium', function () {
	this.timeout(90_000);
	let browser: Browser;
	let caDir: string;
	const stops: Array<() => Promise<void>> = [];

	async function proxy(target: number, options: Partial<ProxySessionOptions> = {}): Promise<{ session: ProxySession; refusals: HostCheckRefusal[]; url: string }> {
		const session = await ProxySession.start({ target, port: 0, caDir, extraNames: ['app.test'], ...options });
		stops.push(() => session.stop());
		const refusals: HostCheckRefusal[] = [];
		watchHostChecks(session.store!, { onRefusal: (refusal) => refusals.push(refusal) });
		return { session, refusals, url: `https://app.test:${session.port}/` };
	}

	before(async () => {
		({ browser, caDir } = await trustingChromium({ extraNames: ['app.test'], hostRules: ['app.test'] }));
	});
	after(async () => {
		await browser?.close();
		for (const stop of stops.reverse()) await stop();
	});

	describe('Vite', () => {
		let dir: string;
		let vite: DevServerProcess;
		before(async () => {
			dir = path.join(tempDir('tls-lens-vite-hosts-'), 'app');
			cpSync(path.join(root, 'test/fixtures/viteApp'), dir, { recursive: true });
			symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
			vite = await startVite(dir);
			stops.push(() => vite.stop());
		});

		it('refuses app.test with 403; TLS Lens names the refusal, the setting and rewriteHost, in the log and on the row', async () => {
			const { session, refusals, url } = await proxy(vite.port);
			const page = await browser.newPage();
			try {
				assert.equal(await openApp(page, url), 403);
				assert.match(await page.textContent('body') ?? '', /This host \("app\.test"\) is not allowed/);
				await until(() => refusals.length > 0, 'the refusal');
				assert.deepEqual(refusals.map((r) => [r.server, r.host, r.setting, r.fix, r.rewriteHostFixes]), [['vite', 'app.test', 'server.allowedHosts', "allowedHosts: ['app.test']", true]]);
				assert.match(refusals[0].message, /^Vite refused the name app\.test \(its host check\): add app\.test to server\.allowedHosts .*rewriteHost/);
				await until(() => session.store!.list().some((exchange) => exchange.note === refusals[0].message), 'the note on the row');
			} finally {
				await page.close();
			}
		});

		it('with rewriteHost, the page and its HMR socket work on app.test with no config edit', async () => {
			const { session, refusals, url } = await proxy(vite.port, { rewriteHost: true });
			const page = await browser.newPage();
			try {
				const socket = page.waitForEvent('websocket', { timeout: 20_000 });
				assert.equal(await openApp(page, url), 200);
				await page.waitForFunction('document.getElementById("message")?.textContent?.includes("Hello from Vite")', undefined, { timeout: 20_000 });
				assert.equal(await page.evaluate('window.isSecureContext'), true);
				assert.match((await socket).url(), new RegExp(`^wss://app\\.test:${session.port}/`));
				await until(() => session.store!.list().some((exchange) => exchange.kind === 'websocket' && exchange.response?.statusCode === 101), 'the HMR socket through the proxy');
				assert.deepEqual(refusals, []);
			} finally {
				await page.close();
			}
		});

		it("the fix adds app.test to vite.config's server.allowedHosts; Vite restarts by itself, the page loads and an edit reaches it", async () => {
			const { session, refusals, url } = await proxy(vite.port);
			const page = await browser.newPage();
			try {
				assert.equal(await openApp(page, url), 403);
				await until(() => refusals.length > 0, 'the refusal');
				const text = applyFix(path.join(dir, 'vite.config.mjs'), refusals[0]);
				assert.match(text, /server: \{ strictPort: true, allowedHosts: \['app\.test'\] \}/);
				// Vite restarts its server when its config changes.
				await until(() => /server restarted/i.test(vite.output()), "Vite's restart", 20_000);
				assert.equal(await openApp(page, url), 200);
				await page.waitForFunction('document.getElementById("message")?.textContent?.includes("Hello from Vite")', undefined, { timeout: 20_000 });
				const file = path.join(dir, 'src/message.js');
				writeFileSync(file, readFileSync(file, 'utf8').replace('Hello from Vite', 'Hot hello from Vite'));
				await page.waitForFunction('document.getElementById("message")?.textContent?.startsWith("Hot hello from Vite")', undefined, { timeout: 20_000 });
				assert.ok(session.store!.list().some((exchange) => exchange.kind === 'websocket' && exchange.response?.statusCode === 101), 'HMR went through the proxy');
			} finally {
				await page.close();
			}
		});
	});

	it("webpack-dev-server answers 'Invalid Host header'; the fix adds app.test to devServer.allowedHosts and, after a restart, the page and HMR work", async () => {
		const args = ['--client-web-socket-url', 'auto://0.0.0.0:0/ws'];
		let wds = await startWebpackDevServer(path.join(tempDir('tls-lens-webpack-hosts-'), 'app'), args);
		stops.push(() => wds.stop());
		const { session, refusals, url } = await proxy(wds.port);
		const page = await browser.newPage();
		try {
			assert.equal(await openApp(page, url), 403);
			assert.equal((await page.textContent('body'))?.trim(), 'Invalid Host header');
			await until(() => refusals.length > 0, 'the refusal');
			assert.deepEqual(refusals.map((r) => [r.server, r.host, r.setting, r.rewriteHostFixes]), [['webpack', 'app.test', 'devServer.allowedHosts', false]]);
			const text = applyFix(path.join(wds.dir, 'webpack.config.js'), refusals[0]);
			assert.match(text, /devServer: \{ allowedHosts: \['app\.test'\] \}/);
			// webpack-dev-server reads its config once: restart it, on the same port, as the user would.
			const { dir, port } = wds;
			await wds.stop();
			wds = await startWebpackDevServer(dir, args, { reuseDir: true, port });
			const frames: string[] = [];
			page.on('websocket', (ws) => ws.on('framereceived', (frame) => frames.push(String(frame.payload))));
			assert.equal(await openApp(page, url), 200);
			await page.waitForFunction('document.getElementById("message")?.textContent === "Hello from webpack"', undefined, { timeout: 20_000 });
			await until(() => frames.some((frame) => frame.includes('"type":"ok"')), "wds's first ok");
			const file = path.join(dir, 'src/message.js');
			writeFileSync(file, readFileSync(file, 'utf8').replace('Hello from webpack', 'Hot hello from webpack'));
			await page.waitForFunction('document.getElementById("message")?.textContent === "Hot hello from webpack"', undefined, { timeout: 20_000 });
			assert.ok(!frames.some((frame) => frame.includes('Invalid Host')), 'the HMR socket was not refused');
			assert.ok(session.store!.list().some((exchange) => exchange.kind === 'websocket' && exchange.request?.path === '/ws' && exchange.response?.statusCode === 101), 'HMR went through the proxy');
		} finally {
			await page.close();
		}
	});
});
