import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import WebSocket, { WebSocketServer } from 'ws';
import { startVite, type ViteServer } from '../fixtures/devServers';
import { inspectorFrame, proxyPort, runCommand, screenshotFailures, trustWorkspace } from './workbench';

const repo = path.resolve(__dirname, '../..');
const output = path.join(repo, 'test-output/e2e');

// Things a hostile dev server (or anything behind it) could send. Each would announce itself in the
// console, a dialog or a flag if the inspector ever executed it.
const MARK = 'TLSLENS_PWNED';
const SCRIPT = `<script>console.log('${MARK}-script');window.${MARK}=1</script>`;
const IMG = `<img src=x onerror="console.log('${MARK}-img');alert(1)">`;
const TEXTAREA = '</textarea></pre></div>';
const JS_URL = `javascript:console.log('${MARK}-js');alert(2)`;
const CONTROL = '\u0000\u0007\u0008\u001b[31mRED\u001b[0m\u202etxt.exe\u0085';
const HOSTILE_BODY = `${SCRIPT}${IMG}${TEXTAREA}<a href="${JS_URL}">click</a><svg onload="alert(3)"></svg>${CONTROL}`;
const HOSTILE_PATH = `/evil/</textarea><script>alert(4)</script><img/src=x/onerror=alert(5)>?next=javascript:alert(6)`;
const HOSTILE_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="console.log('${MARK}-svg');alert(7)"><script>console.log('${MARK}-svg-script')</script><rect width="40" height="40" fill="red"/></svg>`;

describe('Traffic inspector in the VS Code UI', function () {
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let appContext: BrowserContext;
	let vite: ViteServer;
	let work: string;
	let app: string;
	let port: number;
	let frame: Frame;
	const consoleLines: string[] = [];
	const dialogs: string[] = [];

	before(async () => {
		const { startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-e2e-inspector-'));
		app = path.join(work, 'demo-app');
		cpSync(path.join(repo, 'test/fixtures/viteApp'), app, { recursive: true });
		vite = await startVite(app);
		writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'demo', private: true, scripts: { dev: `vite --port ${vite.port}` } }));
		mkdirSync(path.join(app, '.vscode'), { recursive: true });
		writeFileSync(path.join(app, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.port': 0 }));
		mkdirSync(output, { recursive: true });
		vscode = await startTestVscode({ dataDir: path.join(work, 'vscode') });
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
		// Every frame's console (webviews included) and every dialog: the evidence of executed content.
		page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
		page.on('dialog', (dialog) => { dialogs.push(dialog.message()); void dialog.dismiss(); });
		await page.goto(vscode.url({ folder: app }));
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		await trustWorkspace(page);
		// The demo app runs in a browser context of its own (trusting the CA is another issue's work).
		appContext = await browser.newContext({ ignoreHTTPSErrors: true });
	});

	screenshotFailures(output, () => page, 'inspector-');

	after(async () => {
		await appContext?.close();
		await browser?.close();
		await vscode?.stop();
		await vite?.stop();
		if (work) { rmSync(work, { recursive: true, force: true }); }
	});

	const rows = () => frame.locator('.row:not([hidden])');
	const row = (text: string | RegExp) => rows().filter({ hasText: text }).first();
	const tab = (name: string) => frame.getByRole('tab', { name: new RegExp(`^${name}`) });
	// The list filters on the next animation frame and renders on the one after: wait for both, so that
	// a locator resolved next does not point at a recycled row element.
	const settle = () => frame.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(resolve))))');
	const setFilter = async (text: string) => {
		const input = frame.getByRole('textbox', { name: 'Filter requests' });
		await input.fill(text);
		await settle();
	};

	/** Points the proxy at the dev server on `target` (the setting restarts it) and waits until it serves. */
	const startOn = async (target: number) => {
		writeSettings(app, { 'tlsLens.target': `http://127.0.0.1:${target}` });
		if (frame === undefined) {
			// Run on its own (--grep): open the inspector and start on the configured target.
			await runCommand(page, 'TLS Lens: Open Traffic Inspector');
			frame = await inspectorFrame(page);
			await frame.getByRole('button', { name: 'Start TLS Proxy' }).click();
		}
		port = await proxyPort(page, target);
		await frame.getByText('Waiting for traffic.').waitFor({ timeout: 10_000 });
	};

	it('starts the proxy on the Vite app and opens the inspector with its empty state first', async () => {
		await runCommand(page, 'TLS Lens: Open Traffic Inspector');
		frame = await inspectorFrame(page);
		await frame.getByText('The proxy is not running.').waitFor();
		await frame.getByRole('button', { name: 'Start TLS Proxy' }).click();
		const candidate = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: `127.0.0.1:${vite.port}` });
		await candidate.waitFor({ timeout: 20_000 });
		await candidate.click();
		port = await proxyPort(page, vite.port);
		await frame.getByText('Waiting for traffic.').waitFor({ timeout: 10_000 });
		await frame.getByRole('button', { name: 'Open in Browser' }).waitFor();
	});

	it('shows the rows of the app loaded through the proxy', async () => {
		const appPage = await appContext.newPage();
		await appPage.goto(`https://localhost:${port}/`);
		await appPage.locator('#info').filter({ hasText: 'TLS Lens demo' }).waitFor({ timeout: 20_000 });
		for (const p of ['/src/main.js', '/src/message.js', '/api/info.json', '/@vite/client']) {
			await row(p).waitFor({ timeout: 10_000 });
		}
		// Vite's HMR socket, still open.
		await rows().filter({ hasText: 'websocket' }).first().waitFor();
		assert.ok(await rows().count() >= 5);
	});

	it('filters the list', async () => {
		await setFilter('type:json');
		await frame.locator('body[data-view="1"]').waitFor();
		await rows().nth(1).waitFor({ state: 'detached' }); // rendered on the next animation frame
		assert.equal(await rows().count(), 1);
		await row('/api/info.json').waitFor();
		// A screen reader hears the row as its columns, in words.
		assert.match(await row('/api/info.json').getAttribute('aria-label') ?? '', /^Status 200, Method GET, Host localhost:\d+, Path \/api\/info\.json, Type json, Proto h2, Size \d+ B, Time \d+ ms$/);
		await setFilter('-type:json method:GET status:2xx');
		await row('/api/info.json').waitFor({ state: 'detached' });
		await row('/src/main.js').waitFor();
		await setFilter('type:jsn');
		await row('/api/info.json').waitFor();
		await frame.getByText(/type:jsn is not a type/).waitFor();
		// A misspelt key is named with the key meant, and the rest of the filter still applies.
		await setFilter('stauts:200 path:/api/*');
		await row('/api/info.json').waitFor();
		await row('/src/main.js').waitFor({ state: 'detached' });
		await frame.getByText('stauts: is not a filter key (did you mean status:?)').waitFor();
		// Cut to fit the toolbar, whole in its tooltip.
		await frame.locator('.filter-hint[title="stauts: is not a filter key (did you mean status:?)"]').waitFor();
		await page.screenshot({ path: path.join(output, 'inspector-filter-hint.png') });
		await setFilter('larger-than:100m');
		await frame.locator('body[data-view="0"]').waitFor();
		await setFilter('');
	});

	it('exports a sanitized HAR by default, from a dialog that opens outside the workspace and warns inside it', async () => {
		const appPage = await appContext.newPage();
		await appPage.goto(`https://localhost:${port}/`);
		await appPage.evaluate(`(async () => {
			document.cookie = 'sid=e2e-cookie-value; path=/';
			await fetch('/har-export-check', { headers: { Authorization: 'Bearer e2e-token-value' } });
		})()`);
		await appPage.close();
		await setFilter('har-export-check');
		await row('/har-export-check').waitFor();
		await frame.getByRole('button', { name: 'Export HAR…' }).click();
		const picks = page.locator('.quick-input-list .monaco-list-row');
		await picks.filter({ hasText: 'with sensitive data' }).waitFor();
		await page.waitForTimeout(300); // the quick pick's fade-in
		await page.screenshot({ path: path.join(output, 'inspector-har-export-kind.png') });
		await picks.filter({ hasText: 'Export HAR (sanitized)' }).click();
		// The save dialog (VS Code's own in the browser) proposes a file outside the workspace.
		const input = page.locator('.quick-input-widget input');
		await page.locator('.quick-input-widget').filter({ hasText: 'Export HAR (sanitized)' }).waitFor();
		await page.waitForFunction(`document.querySelector('.quick-input-widget input')?.value.endsWith('.har')`);
		const proposed = await input.inputValue();
		assert.match(proposed, /tls-lens-[\d-]+\.har$/);
		assert.ok(!proposed.startsWith(app), `${proposed} is not in ${app}`);
		const target = path.join(app, 'traffic.har');
		await input.fill(target);
		// OK, not Enter: Enter would open the folder highlighted in the dialog's list.
		await page.locator('.quick-input-widget').getByRole('button', { name: 'OK' }).click();
		const warning = page.locator('.monaco-dialog-box').filter({ hasText: 'is inside the workspace folder "demo-app"' });
		await warning.waitFor();
		await page.screenshot({ path: path.join(output, 'inspector-har-export-warning.png') });
		await warning.getByRole('button', { name: 'Save in the Workspace' }).click();
		await frame.getByText(`Exported to ${target}`).waitFor();
		const text = readFileSync(target, 'utf8');
		const log = JSON.parse(text).log as { comment?: string; entries: Array<{ request: { url: string; headers: Array<{ name: string; value: string }> } }> };
		assert.deepEqual(log.entries.map((e) => new URL(e.request.url).pathname), ['/har-export-check'], 'what the filter shows');
		assert.ok(!text.includes('e2e-token-value') && !text.includes('e2e-cookie-value'), 'no secret in a sanitized HAR');
		const headers = new Map(log.entries[0].request.headers.map((h) => [h.name, h.value]));
		assert.equal(headers.get('authorization'), 'Bearer [redacted]');
		assert.equal(headers.get('cookie'), 'sid=[redacted]');
		rmSync(target);
		await setFilter('');
	});

	it('opens a request: decoded, pretty-printed JSON and its timing', async () => {
		await row('/api/info.json').click();
		await frame.locator('.details-title').filter({ hasText: '/api/info.json' }).waitFor();
		await tab('Headers').waitFor();
		await frame.locator('table.kv').getByText('application/json').first().waitFor();
		await tab('Response').click();
		const code = frame.locator('pre.code');
		await code.waitFor();
		const text = await code.textContent();
		assert.equal(text, JSON.stringify(JSON.parse(readFileSync(path.join(app, 'public/api/info.json'), 'utf8')), null, 2));
		await frame.getByText('pretty-printed').waitFor();
		await tab('Timing').click();
		await frame.getByText('Waiting (TTFB)').waitFor();
		await frame.getByText('Content download').waitFor();
		assert.equal(await frame.locator('.waterfall .bar').count() >= 3, true);
		// Keyboard: Escape closes the details, arrows move the selection.
		await frame.locator('.list-viewport').focus();
		await page.keyboard.press('ArrowUp');
		await frame.locator('.row.selected').waitFor();
	});

	it('shows the TLS handshake only on the request that opened the connection, and the connection\'s number on each', async () => {
		// Two requests on one kept-alive connection, in order.
		const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
		try {
			for (const query of ['opened', 'reused']) {
				await new Promise<void>((resolve, reject) => https.get({ host: '127.0.0.1', port, servername: 'localhost', path: `/api/info.json?${query}`, agent }, (res) => {
					res.resume();
					res.on('end', resolve);
				}).on('error', reject));
			}
		} finally {
			agent.destroy();
		}
		const connectionCell = frame.locator('table.kv tr').filter({ has: frame.locator('th', { hasText: /^Client connection$/ }) }).locator('td');
		await row('/api/info.json?opened').click();
		await tab('Timing').click();
		await frame.locator('.waterfall .bar.phase-tls').waitFor();
		const opened = /^#(\d+), opened by this request$/.exec(await connectionCell.textContent() ?? '');
		assert.ok(opened, `the opener names its connection: ${await connectionCell.textContent()}`);
		await row('/api/info.json?reused').click();
		await frame.locator('.details-title').filter({ hasText: '?reused' }).waitFor();
		await tab('Timing').click();
		await connectionCell.filter({ hasText: `#${opened[1]}, reused (an earlier request opened it)` }).waitFor();
		assert.equal(await frame.locator('.waterfall .bar.phase-tls').count(), 0, 'no handshake bar on a reused connection');
		await frame.getByText('none: the connection was already open').waitFor();
		await page.screenshot({ path: path.join(output, 'inspector-connection-reused.png') });
		await setFilter(`connection:${opened[1]}`);
		assert.deepEqual((await rows().locator('.cell.col-path').allTextContents()).sort(), ['/api/info.json?opened', '/api/info.json?reused']);
		await setFilter('');
	});

	it('keeps Size and Time in view at 900 px with the details open (Protocol and Type give way)', async () => {
		await row('/api/info.json').click();
		await frame.locator('.details-title').filter({ hasText: '/api/info.json' }).waitFor();
		// The panel itself 900 px wide: the window, with both side bars closed.
		const sideBar = await page.locator('.part.sidebar').isVisible();
		const auxiliaryBar = await page.locator('.part.auxiliarybar').isVisible();
		await page.setViewportSize({ width: 950, height: 820 });
		try {
			if (sideBar) await runCommand(page, 'View: Close Primary Side Bar');
			if (auxiliaryBar) await runCommand(page, 'View: Toggle Secondary Side Bar Visibility');
			const viewport = frame.locator('.list-viewport');
			await frame.locator('.list-header .col-proto').waitFor({ state: 'hidden' });
			const box = (await viewport.boundingBox())!;
			for (const column of ['size', 'time']) {
				const cell = (await row('/api/info.json').locator(`.col-${column}`).boundingBox())!;
				assert.ok(cell.x >= box.x && cell.x + cell.width <= box.x + box.width + 0.5, `${column} in view: ${JSON.stringify(cell)} in ${JSON.stringify(box)}`);
				// Whole, not cut with an ellipsis.
				assert.equal(await row('/api/info.json').locator(`.col-${column}`).evaluate((e) => e.scrollWidth <= e.clientWidth), true, `${column} whole`);
			}
			assert.ok((await row('/api/info.json').boundingBox())!.width <= box.width + 0.5, 'no row wider than the list');
			assert.equal(await frame.locator('.list-header .col-type').isVisible(), false);
			const panel = (await page.locator('.editor-group-container').first().boundingBox())!;
			assert.ok(panel.width >= 880 && panel.width <= 950, `panel ${panel.width} px`);
			assert.equal(await frame.locator('.main.with-details').evaluate((main) => main.getBoundingClientRect().width > 760), true, 'side by side, not stacked');
			await page.waitForTimeout(300); // the palette's fade-out
			await page.screenshot({ path: path.join(output, 'inspector-900-details.png') });
		} finally {
			if (sideBar) await runCommand(page, 'View: Toggle Primary Side Bar Visibility');
			if (auxiliaryBar) await runCommand(page, 'View: Toggle Secondary Side Bar Visibility');
			await page.setViewportSize({ width: 1400, height: 820 });
		}
	});

	it('offers Copy and Replay for an HTTP request, and Clear empties the list and closes the details', async () => {
		await setFilter('har-export-check');
		await row('/har-export-check').click();
		await frame.locator('.details-title').filter({ hasText: '/har-export-check' }).waitFor();
		for (const name of ['Copy as cURL', 'Copy as fetch', 'Replay']) await frame.getByRole('button', { name }).waitFor();
		await setFilter('');
		await frame.getByRole('button', { name: 'Clear', exact: true }).click();
		await frame.locator('body[data-view="0"]').waitFor();
		await frame.locator('.details-pane').waitFor({ state: 'hidden' });
		assert.equal(await frame.locator('.with-details').count(), 0);
		// Traffic after Clear shows up as usual (the page stays open: its HMR socket is the next test's).
		const appPage = await appContext.newPage();
		await appPage.goto(`https://localhost:${port}/`);
		await appPage.locator('#info').filter({ hasText: 'TLS Lens demo' }).waitFor({ timeout: 20_000 });
		await row('/api/info.json').waitFor();
		await rows().filter({ hasText: 'websocket' }).first().waitFor();
	});
	it('shows the HMR WebSocket messages, live, after a source file changes', async () => {
		await setFilter('type:ws');
		// Open, so live: drawn like an answered row, not greyed out like one still waiting.
		const socket = rows().first();
		await socket.and(frame.locator('.row.open:not(.pending)')).waitFor();
		const colour = (locator: typeof socket) => locator.evaluate((element) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(element).color);
		await setFilter('');
		const answered = await colour(row('/api/info.json'));
		await setFilter('type:ws');
		assert.match(answered, /^rgba?\(/);
		assert.equal(await colour(socket), answered);
		await socket.click();
		await tab('Messages').click();
		await frame.locator('.message').filter({ hasText: '"type":"connected"' }).waitFor({ timeout: 10_000 });
		const file = path.join(app, 'src/message.js');
		writeFileSync(file, readFileSync(file, 'utf8').replace('Hello', 'Hot hello'));
		await frame.locator('.message.received').filter({ hasText: '"type":"update"' }).first().waitFor({ timeout: 20_000 });
		await frame.getByLabel('Filter messages').fill('update');
		assert.ok(await frame.locator('.message').count() >= 1);
		await frame.getByLabel('Filter messages').fill('');
		await setFilter('');
	});

	it('keeps filter, selection and tab when hidden and shown again (the webview is rebuilt)', async () => {
		await setFilter('type:json');
		await row('/api/info.json').click();
		await tab('Timing').click();
		await frame.evaluate('new Promise((resolve) => setTimeout(resolve, 400))'); // setState is debounced
		const before = frame;
		// Another editor in the same group hides the panel; without retainContextWhenHidden its webview goes away.
		await page.keyboard.press('Control+P');
		await page.locator('.quick-input-widget input').fill('index.html');
		await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'index.html' }).first().click();
		await page.locator('.tab').filter({ hasText: 'index.html' }).waitFor();
		await page.locator('.tab').filter({ hasText: 'TLS Lens Traffic' }).click();
		frame = await inspectorFrame(page);
		assert.notEqual(frame, before, 'a new webview document');
		assert.equal(await frame.getByRole('textbox', { name: 'Filter requests' }).inputValue(), 'type:json');
		await frame.locator('.row.selected').filter({ hasText: '/api/info.json' }).waitFor();
		await frame.getByText('Waiting (TTFB)').waitFor();
		await setFilter('');
	});

	it('comes back after a window reload: the serializer revives it with its filter and tab; the capture went with the old extension host', async () => {
		// Selection and tab first, the filter last: state saved with this filter holds the rest too.
		await setFilter('type:json');
		await row('/api/info.json').click();
		await tab('Timing').click();
		await setFilter('type:json method:GET');
		await row('/api/info.json').waitFor();
		// VS Code for the Web writes UI state (webview state included) to IndexedDB every few seconds when
		// idle, not on unload: a reload right after a change loses it (microsoft/vscode#127166). Wait until
		// it holds ours, as it would for anyone who did not reload within seconds of typing.
		await persistedState(page, 'type:json method:GET');
		const before = frame;
		await page.reload();
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		// No command: the WebviewPanelSerializer (onWebviewPanel activation) revives the panel.
		frame = await inspectorFrame(page, 60_000);
		assert.notEqual(frame, before);
		assert.equal(await frame.getByRole('textbox', { name: 'Filter requests' }).inputValue(), 'type:json method:GET');
		// The extension host restarted with the window, and the proxy and its capture with it: no rows,
		// and the selection (an exchange that no longer exists) is dropped rather than shown empty.
		await frame.getByText('The proxy is not running.').waitFor({ timeout: 10_000 });
		assert.equal(await frame.locator('body').getAttribute('data-rows'), '0');
		assert.equal(await frame.locator('.row.selected').count(), 0);
		assert.equal(await frame.locator('.details-pane').isVisible(), false);
		// Start again: the filter applies to the new capture, and the next selection opens on the saved tab.
		await frame.getByRole('button', { name: 'Start TLS Proxy' }).click();
		const candidate = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: `127.0.0.1:${vite.port}` });
		await candidate.waitFor({ timeout: 20_000 });
		await candidate.click();
		port = await proxyPort(page, vite.port);
		const appPage = await appContext.newPage();
		await appPage.goto(`https://localhost:${port}/`);
		await appPage.locator('#info').filter({ hasText: 'TLS Lens demo' }).waitFor({ timeout: 20_000 });
		await row('/api/info.json').waitFor({ timeout: 10_000 });
		await frame.locator('body[data-view="1"]').waitFor();
		await settle();
		await row('/api/info.json').click();
		await frame.getByText('Waiting (TTFB)').waitFor();
		assert.equal(await tab('Timing').getAttribute('aria-selected'), 'true');
		await setFilter('');
	});

	it('screenshots in dark, light and high-contrast themes', async () => {
		// Give the panel the window, as someone inspecting traffic would.
		await runCommand(page, 'View: Single Column Editor Layout');
		await runCommand(page, 'View: Close Primary Side Bar');
		if (await page.locator('.part.auxiliarybar').isVisible()) { await runCommand(page, 'View: Toggle Secondary Side Bar Visibility'); }
		await setFilter('');
		await row('/api/info.json').click();
		await tab('Response').click();
		await frame.locator('pre.code').waitFor();
		const shoot = async (name: string) => {
			await page.waitForTimeout(500);
			await page.screenshot({ path: path.join(output, `inspector-${name}.png`) });
		};
		for (const [theme, name] of [['Default Dark Modern', 'dark'], ['Default Light Modern', 'light'], ['Default High Contrast', 'high-contrast']] as const) {
			await setTheme(page, app, theme);
			await shoot(name);
		}
		await setTheme(page, app, 'Default Dark Modern');
	});

	it('shows hostile content from a malicious target as text and executes none of it', async () => {
		const evil = await startEvilServer();
		try {
			writeSettings(app, { 'tlsLens.target': `http://127.0.0.1:${evil.port}` });
			port = await proxyPort(page, evil.port);
			// A new session: the list starts over.
			await frame.getByText('Waiting for traffic.').waitFor({ timeout: 10_000 });
			await evilTraffic(port);
			for (const marker of ['/evil/', '/svg', '/json', '/ws']) { await row(marker).waitFor({ timeout: 10_000 }); }
			// The path shows literally in the list.
			assert.ok((await row('/evil/').textContent())!.includes('</textarea><script>alert(4)</script>'));
			await row('/evil/').click();
			await tab('Headers').click();
			await frame.locator('table.kv').getByText(IMG).first().waitFor();
			await frame.locator('table.kv').getByText(JS_URL).first().waitFor();
			await tab('Response').click();
			const code = frame.locator('pre.code');
			await code.waitFor();
			const shown = await code.textContent();
			assert.ok(shown!.includes(SCRIPT) && shown!.includes(IMG) && shown!.includes(TEXTAREA), shown!);
			assert.ok(shown!.includes('␀␇␈␛[31mRED␛[0m⟨U+202E⟩txt.exe⟨U+0085⟩'), 'control and bidi characters made visible');
			await tab('Request').click();
			await tab('Timing').click();
			await tab('TLS').click();
			await frame.getByText('TLSv1.3').waitFor();
			await page.screenshot({ path: path.join(output, 'inspector-hostile.png') });
			// An SVG with script, previewed on request: as an <img> from a blob, which runs no script.
			await row('/svg').click();
			await tab('Response').click();
			await frame.getByRole('button', { name: 'Show image' }).click();
			const img = frame.locator('img.preview');
			await img.waitFor();
			assert.match((await img.getAttribute('src'))!, /^blob:/);
			await row('/ws').click();
			await tab('Messages').click();
			await frame.locator('.message').filter({ hasText: 'echo:' }).first().waitFor({ timeout: 10_000 });
			await frame.locator('.message').filter({ hasText: '<script>' }).first().waitFor();
			await page.waitForTimeout(1000);

			// Evaluated in the webview (a string: this file is type-checked without the DOM library).
			const dom = await frame.evaluate(`({
				scripts: Array.from(document.scripts).map((s) => s.src ? 'src' : s.textContent),
				flag: window.${MARK},
				handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
				links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.getAttribute('href')),
				images: Array.from(document.images).map((i) => i.getAttribute('src')),
				iframes: document.querySelectorAll('iframe,object,embed').length,
			})`) as { scripts: string[]; flag: unknown; handlers: number; links: string[]; images: Array<string | null>; iframes: number };
			// Ours (with src) and the bridge VS Code injects into every webview; none made of captured text.
			assert.ok(dom.scripts.length <= 2 && dom.scripts.every((text) => text === 'src' || (!text.includes(MARK) && !text.includes('alert('))), JSON.stringify(dom.scripts));
			assert.equal(dom.flag, undefined);
			assert.equal(dom.handlers, 0);
			assert.deepEqual(dom.links, []);
			assert.ok(dom.images.every((src) => src?.startsWith('blob:')), JSON.stringify(dom.images));
			assert.equal(dom.iframes, 0);
			const executed = consoleLines.filter((line) => line.includes(MARK) || /Refused to (execute|load|apply)|Content Security Policy/i.test(line));
			assert.deepEqual(executed, [], 'nothing ran, and nothing even tried to (no CSP violations)');
			assert.deepEqual(dialogs, []);
		} finally {
			await evil.close();
		}
	});

	it('opens the Trust Doctor from a handshake the client refused, shows every check as text, and applies a fix', async () => {
		// curl trusting some other CA refuses the proxy's certificate with an "unknown ca" alert.
		const otherCa = path.join(work, 'other-ca.pem');
		writeFileSync(otherCa, rootCertificates[0]);
		const exit = await new Promise<number>((resolve) => execFile('curl', ['-sS', '--cacert', otherCa, `https://localhost:${port}/`], (error) => resolve(error ? Number((error as { code?: number }).code) : 0)));
		assert.equal(exit, 60, 'curl: certificate problem');
		await setFilter('type:tls');
		await row('localhost').click();
		await frame.getByText(/does not trust the TLS Lens CA/).first().waitFor();
		// No request was made: nothing to copy or send again.
		for (const name of ['Copy as cURL', 'Copy as fetch', 'Replay']) assert.equal(await frame.getByRole('button', { name }).isVisible(), false, name);
		await frame.getByRole('button', { name: 'Open Trust Doctor' }).click();
		const view = frame.getByRole('region', { name: 'Trust Doctor' });
		await view.waitFor();
		assert.equal(await frame.getByRole('button', { name: 'Trust Doctor', exact: true }).getAttribute('aria-pressed'), 'true');
		// The checks, each with its status in words (this test VS Code is served from 127.0.0.1: its browser is
		// on this machine, so the stores checked are this machine's).
		await view.locator('.trust-check[data-check="leaf:validates"]').filter({ hasText: 'OK: A leaf for localhost' }).waitFor({ timeout: 20_000 });
		await view.locator('.trust-check[data-check^="store:"]').first().waitFor();
		assert.equal(await view.locator('.trust-check[data-check="store:remote"]').count(), 0, 'not a remote window');
		await view.locator('.trust-check[data-check="ca:expiry"]').filter({ hasText: /OK: The CA is valid for \d+ more days/ }).waitFor();
		await view.locator('.trust-check[data-check^="trap:localhost"]').waitFor();
		for (const group of ['Trust stores', 'Certificates', 'Traps']) { await view.getByRole('heading', { name: group }).waitFor(); }
		await page.screenshot({ path: path.join(output, 'inspector-trust.png') });
		// One-click fix, through the command's code path: Node in terminals trusts the CA afterwards.
		const node = view.locator('.trust-check[data-check="node:extra-ca-certs"]');
		await node.filter({ hasText: 'Node in integrated terminals does not trust the CA' }).waitFor();
		await node.getByRole('button', { name: /^Set NODE_EXTRA_CA_CERTS in terminals/ }).click();
		await node.filter({ hasText: 'Node in integrated terminals trusts the CA' }).waitFor({ timeout: 20_000 });
		assert.equal(await node.getByRole('button').count(), 0, 'fixed: no button any more');
		await view.getByText(/finished; the checks below ran again/).waitFor();
		// Text only: no links, no markup from the report.
		assert.equal(await view.locator('a, img, iframe').count(), 0);
		// Keyboard: Esc goes back to the traffic, the toolbar button (Enter) opens the view again.
		await page.keyboard.press('Escape');
		await view.waitFor({ state: 'hidden' });
		await frame.locator('.row.selected:not([hidden])').filter({ hasText: 'TLS alert' }).waitFor();
		await frame.getByRole('button', { name: 'Trust Doctor', exact: true }).focus();
		await page.keyboard.press('Enter');
		await view.waitFor();
		await view.locator('.trust-check').first().waitFor();
		await page.keyboard.press('Escape');
		await view.waitFor({ state: 'hidden' });
		await setFilter('');
	});

	it('shows a redirect it kept on HTTPS with the dev server\'s original, and a stream the browser closed as closed, not failed', async () => {
		const site = await startRedirectingServer();
		try {
			await setTheme(page, app, 'Default Dark Modern');
			await startOn(site.port);
			// A real browser: the app redirects to its own http:// origin, and the browser stays on the proxy.
			const appPage = await appContext.newPage();
			await appPage.goto(`https://localhost:${port}/login`);
			assert.equal(appPage.url(), `https://localhost:${port}/`);
			// The page's EventSource closes itself after its first message.
			await appPage.waitForFunction('document.title === "closed"', undefined, { timeout: 10_000 });
			await appPage.close();

			await setFilter('/events');
			const events = frame.locator('.row.closed:not([hidden])').filter({ hasText: '/events' });
			await events.waitFor({ timeout: 10_000 });
			assert.equal(await events.locator('.col-time').textContent(), 'closed');
			assert.equal(await events.locator('.col-status').textContent(), '200');
			assert.ok(!(await events.getAttribute('class'))!.includes('error'), 'not styled as a failure');
			assert.match((await events.locator('.col-time').getAttribute('title'))!, /^Closed by the client after /);
			await events.click();
			await tab('Headers').click();
			await frame.locator('table.kv tr').filter({ hasText: 'Ended' }).filter({ hasText: 'closed by client' }).waitFor();
			assert.equal(await frame.locator('.details-title .status.error').count(), 0);
			assert.equal(await frame.locator('table.kv th', { hasText: /^Error$/ }).count(), 0);
			await page.waitForTimeout(300);
			await page.screenshot({ path: path.join(output, 'inspector-sse-closed-dark.png') });

			// The whole list this time: the closed stream's row next to the others, unselected.
			await setFilter('');
			await row('/login').click();
			await tab('Headers').click();
			const location = frame.locator('table.kv tr').filter({ has: frame.locator('th', { hasText: /^Location$/ }) });
			await location.locator('td.rewritten').waitFor();
			// The value the browser received, then the note with what the dev server sent.
			assert.equal(await location.locator('td').textContent(), `https://localhost:${port}/ rewritten by TLS Lens from http://localhost:${site.port}/`);
			await page.waitForTimeout(300);
			await page.screenshot({ path: path.join(output, 'inspector-redirect-dark.png') });
			await setFilter('');
		} finally {
			await site.close();
		}
	});

	it('shows server-sent events live in an EventStream tab: one row each with id, type, data and time, filterable (HTTP/2 in Chromium)', async () => {
		const site = await startRedirectingServer();
		try {
			await setTheme(page, app, 'Default Dark Modern');
			await startOn(site.port);
			const appPage = await appContext.newPage();
			await appPage.goto(`https://localhost:${port}/ticks`);
			// DevTools' type for a stream of server-sent events, and the filter finds it by it.
			await setFilter('type:sse');
			await row('/stream').waitFor({ timeout: 10_000 });
			assert.equal(await row('/stream').locator('.col-type').textContent(), 'eventsource');
			await row('/stream').click();
			await tab('EventStream').click();
			const eventRows = frame.locator('table.events tbody tr');
			await eventRows.first().waitFor({ timeout: 10_000 });
			const early = await eventRows.count();
			assert.ok(early < 8, `opened before the stream was done (${early} events)`);
			// Live: the rest arrive while the tab is open, and the tab's label counts them.
			await eventRows.nth(7).waitFor({ timeout: 15_000 });
			await tab('EventStream \\(8\\)').waitFor();
			await appPage.waitForFunction('document.title === "8"', undefined, { timeout: 10_000 });
			const cells = async (i: number) => eventRows.nth(i).locator('td').allTextContents();
			const [id, type, data] = await cells(0);
			assert.deepEqual([id, type, data], ['1', 'tick', '{"n":1}']);
			assert.deepEqual((await cells(1)).slice(0, 3), ['2', 'price', '{"n":2}']);
			// Times rise with the events, about 250 ms apart.
			const times = (await frame.locator('table.events td.event-time').allTextContents()).map((t) => Number(/^\+([\d.]+) (ms|s)$/.exec(t)![1]) * (t.endsWith(' s') ? 1000 : 1));
			assert.ok(times.every((t, i) => i === 0 || t - times[i - 1] >= 150), `times ${times}`);
			await frame.getByRole('combobox', { name: 'Event type' }).selectOption('price');
			assert.deepEqual(await frame.locator('table.events td.event-id').allTextContents(), ['2', '4', '6', '8']);
			await frame.getByRole('combobox', { name: 'Event type' }).selectOption('');
			await frame.getByLabel('Filter events').fill('"n":3');
			assert.deepEqual(await frame.locator('table.events td.event-id').allTextContents(), ['3']);
			await frame.getByLabel('Filter events').fill('');
			for (const theme of ['Default Dark Modern', 'Default Light Modern', 'Default High Contrast']) {
				await setTheme(page, app, theme);
				await page.waitForTimeout(300);
				await page.screenshot({ path: path.join(output, `inspector-eventstream-${theme.split(' ')[1].toLowerCase()}.png`) });
			}
			await setTheme(page, app, 'Default Dark Modern');
			// A narrow panel: long data wraps inside its column, Time stays in view.
			await page.setViewportSize({ width: 950, height: 820 });
			await page.waitForTimeout(300);
			await page.screenshot({ path: path.join(output, 'inspector-eventstream-narrow.png') });
			await page.setViewportSize({ width: 1400, height: 820 });
			await appPage.close();
			await setFilter('');
		} finally {
			await site.close();
		}
	});

	it('shows TLS Lens\'s note on a row and in its details: Vite refusing app.test, as its host-check watcher noted it', async () => {
		await setTheme(page, app, 'Default Dark Modern');
		writeSettings(app, { 'tlsLens.target': `http://127.0.0.1:${vite.port}` });
		if (frame === undefined) {
			// Run on its own (--grep): open the inspector and start on the configured target.
			await page.locator('.statusbar-item').filter({ hasText: /^\s*TLS\s*$/ }).waitFor({ timeout: 60_000 });
			await runCommand(page, 'TLS Lens: Open Traffic Inspector');
			frame = await inspectorFrame(page);
			await frame.getByRole('button', { name: 'Start TLS Proxy' }).click();
		}
		port = await proxyPort(page, vite.port);
		await frame.getByText('Waiting for traffic.').waitFor({ timeout: 10_000 });
		await setFilter('');

		// The app as usual on localhost; then the same Vite asked for app.test, a name its host check refuses.
		const appPage = await appContext.newPage();
		await appPage.goto(`https://localhost:${port}/`);
		await appPage.locator('#info').filter({ hasText: 'TLS Lens demo' }).waitFor({ timeout: 20_000 });
		await appPage.close();
		assert.equal(await getWithHost(port, `app.test:${port}`, '/'), 403);
		assert.equal(await getWithHost(port, `app.test:${port}`, '/src/main.js'), 403);
		const refused = (p: RegExp) => rows().filter({ hasText: 'app.test' }).filter({ has: frame.locator('.col-path', { hasText: p }) });
		await refused(/^\/src\/main\.js$/).filter({ has: frame.locator('.col-status', { hasText: /^403$/ }) }).waitFor({ timeout: 10_000 });
		// The refusal, recognised in the response: TLS Lens notes it on the exchange (and warns once).
		const note = 'Vite refused the name app.test (its host check): add app.test to server.allowedHosts in vite.config (or astro.config), or turn on rewriteHost so TLS Lens sends it its own host.';
		await refused(/^\/$/).click();
		await tab('Headers').click();
		await frame.locator('.details-title').filter({ hasText: `app.test:${port}/` }).waitFor();

		// The row: 403 followed by the marker, the note on hover, its classes kept.
		const row = refused(/^\/$/);
		await row.locator('.col-status .note-marker').waitFor({ timeout: 10_000 });
		const status = row.locator('.col-status');
		assert.equal(await status.textContent(), '403');
		assert.equal(await status.getAttribute('title'), note);
		assert.equal(await row.locator('.note-marker').getAttribute('aria-label'), 'TLS Lens note');
		assert.deepEqual((await row.getAttribute('class'))!.split(' ').sort(), ['error', 'noted', 'row', 'selected']);
		await refused(/^\/src\/main\.js$/).locator('.note-marker').waitFor();
		assert.equal(await refused(/^\/src\/main\.js$/).locator('.col-status').getAttribute('title'), note);
		assert.equal(await rows().locator('.note-marker').count(), 2, 'no other row is marked');
		// Its details: the note first on the Headers tab, as a notice, and in General as TLS Lens's row.
		const notice = frame.locator('#tabpanel > .notice.warning[role="note"]');
		await notice.waitFor({ timeout: 10_000 });
		assert.equal(await notice.textContent(), note);
		assert.equal(await frame.evaluate('document.getElementById("tabpanel").firstElementChild.classList.contains("exchange-note")'), true);
		const general = frame.locator('table.kv tr').filter({ has: frame.locator('th', { hasText: /^TLS Lens$/ }) });
		assert.equal(await general.locator('td').textContent(), note);
		assert.equal(await frame.locator('table.kv th', { hasText: /^TLS Lens$/ }).count(), 1);

		// Screenshots: the list with both refused rows (one selected) and the details, in every theme and narrow.
		// (Each command is offered only when it would change something.)
		await runCommand(page, 'View: Single Column Editor Layout');
		if (await page.locator('.part.sidebar').isVisible()) { await runCommand(page, 'View: Close Primary Side Bar'); }
		if (await page.locator('.part.auxiliarybar').isVisible()) { await runCommand(page, 'View: Toggle Secondary Side Bar Visibility'); }
		if (await page.locator('.notification-toast').count() > 0) { await runCommand(page, 'Notifications: Clear All Notifications'); }
		const shoot = async (name: string) => {
			await notice.waitFor();
			await page.waitForTimeout(500);
			await page.screenshot({ path: path.join(output, `inspector-note-${name}.png`) });
		};
		try {
			for (const [theme, name] of [['Default Dark Modern', 'dark'], ['Default Light Modern', 'light'], ['Default High Contrast', 'high-contrast']] as const) {
				await setTheme(page, app, theme);
				await shoot(name);
			}
			await setTheme(page, app, 'Default Dark Modern');
			await page.setViewportSize({ width: 600, height: 820 });
			await shoot('narrow-dark');
			// Narrow, the marker still shows next to the status.
			assert.ok(await row.locator('.note-marker').isVisible());
			await setTheme(page, app, 'Default Light Modern');
			await shoot('narrow-light');
		} finally {
			await page.setViewportSize({ width: 1400, height: 820 });
			await setTheme(page, app, 'Default Dark Modern');
		}
	});

	it('says so when the capture evicts the exchange whose details are open, and offers nothing to copy', async () => {
		// The refused app.test request is still open in the details; 1 MiB bodies (the default capture
		// limit) past the 64 MiB budget push it out, oldest first.
		await frame.locator('.details-title').filter({ hasText: 'app.test' }).waitFor();
		await frame.getByRole('button', { name: 'Replay' }).waitFor();
		writeFileSync(path.join(app, 'public/big.bin'), Buffer.alloc(1024 * 1024, 0x61));
		for (let i = 0; i < 80; i += 4) {
			await Promise.all([0, 1, 2, 3].map((k) => getWithHost(port, `localhost:${port}`, `/big.bin?n=${i + k}`)));
		}
		await frame.getByText(/^This exchange was evicted: the capture keeps to its memory budget/).waitFor({ timeout: 20_000 });
		for (const name of ['Copy as cURL', 'Copy as fetch', 'Replay']) assert.equal(await frame.getByRole('button', { name }).isVisible(), false, name);
		await page.screenshot({ path: path.join(output, 'inspector-evicted.png') });
		await frame.getByRole('button', { name: 'Close details (Esc)' }).click();
		await frame.locator('.details-pane').waitFor({ state: 'hidden' });
	});
});

/** GET `p` through the proxy from this process, naming `host` in the Host header; resolves to the status. */
function getWithHost(port: number, host: string, p: string): Promise<number> {
	return new Promise((resolve, reject) => {
		https.get({ host: 'localhost', servername: 'localhost', port, path: p, rejectUnauthorized: false, headers: { host } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode ?? 0));
		}).on('error', reject);
	});
}

/**
 * An app whose base URL is its own http://localhost:PORT: `/login` redirects there, and its page opens
 * an EventSource that it closes after the first message (the stream itself never ends).
 */
async function startRedirectingServer(): Promise<{ port: number; close(): Promise<void> }> {
	let port = 0;
	const streams = new Set<http.ServerResponse>();
	const server = http.createServer((req, res) => {
		if (req.url === '/login') {
			res.writeHead(302, { Location: `http://localhost:${port}/` });
			res.end();
		} else if (req.url === '/stream') {
			// Eight events 250 ms apart, two types, then the stream stays open.
			res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
			streams.add(res);
			res.on('close', () => streams.delete(res));
			let n = 0;
			const timer = setInterval(() => {
				n++;
				res.write(`id: ${n}\nevent: ${n % 2 === 0 ? 'price' : 'tick'}\ndata: {"n":${n}}\n\n`);
				if (n === 8) clearInterval(timer);
			}, 250);
			res.on('close', () => clearInterval(timer));
		} else if (req.url === '/ticks') {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
			res.end('<!doctype html><title>0</title><script>let n = 0; const es = new EventSource("/stream"); for (const type of ["tick", "price"]) es.addEventListener(type, () => { document.title = String(++n); });</script>');
		} else if (req.url === '/events') {
			res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
			res.write('data: hello\n\n');
			streams.add(res);
			res.on('close', () => streams.delete(res));
		} else {
			res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
			res.end('<!doctype html><title>open</title><script>const es = new EventSource("/events"); es.onmessage = () => { es.close(); document.title = "closed"; };</script>');
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	port = (server.address() as AddressInfo).port;
	return {
		port,
		close: () => new Promise((resolve) => { for (const res of streams) res.destroy(); server.closeAllConnections(); server.close(() => resolve()); }),
	};
}

/**
 * Waits until VS Code for the Web has written `needle` (a value in the inspector's saved state) to its
 * IndexedDB UI state (databases `vscode-web-state-db-*`), which it does every few seconds when idle.
 */
async function persistedState(page: Page, needle: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		// Evaluated in the workbench page (a string: this file is type-checked without the DOM library).
		const found = await page.evaluate(`(async () => {
			const request = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
			for (const { name } of await indexedDB.databases()) {
				if (!name || !name.startsWith('vscode-web-state-db-')) continue;
				const db = await request(indexedDB.open(name));
				try {
					for (const store of Array.from(db.objectStoreNames)) {
						const values = await request(db.transaction(store, 'readonly').objectStore(store).getAll());
						if (values.some((v) => typeof v === 'string' && v.includes(${JSON.stringify(needle)}))) return true;
					}
				} finally {
					db.close();
				}
			}
			return false;
		})()`);
		if (found) { return; }
		if (Date.now() > deadline) { throw new Error(`VS Code did not persist the webview state (${needle}) within ${timeoutMs / 1000} s`); }
		await page.waitForTimeout(500);
	}
}

function writeSettings(app: string, extra: Record<string, unknown>): void {
	const file = path.join(app, '.vscode/settings.json');
	const current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
	writeFileSync(file, JSON.stringify({ ...current, ...extra }, null, '\t'));
}

async function setTheme(page: Page, app: string, theme: string): Promise<void> {
	writeSettings(app, { 'workbench.colorTheme': theme });
	const dark = theme.includes('Dark');
	const hc = theme.includes('High Contrast');
	const cls = hc ? 'hc-black' : dark ? 'vs-dark' : 'vs';
	await page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 15_000 });
}

/** A dev server that answers with everything an inspector must not execute. */
async function startEvilServer(): Promise<{ port: number; close(): Promise<void> }> {
	const server = http.createServer((req, res) => {
		if (req.url === '/svg') {
			res.writeHead(200, { 'content-type': 'image/svg+xml' });
			res.end(HOSTILE_SVG);
		} else if (req.url === '/json') {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ html: SCRIPT + IMG, url: JS_URL, ctrl: CONTROL }));
		} else {
			res.setHeader('Content-Type', 'text/html; charset=utf-8');
			res.setHeader('X-Evil', IMG);
			// Header values may carry tab and Latin-1 bytes (C1 controls among them), not C0 controls.
			res.setHeader('X-Control', '\t\u0085\u009b31m<script>alert(8)</script>');
			res.setHeader('Location', JS_URL);
			res.setHeader('Set-Cookie', `x=${encodeURIComponent(SCRIPT)}; Path=/`);
			res.end(HOSTILE_BODY);
		}
	});
	const wss = new WebSocketServer({ server });
	wss.on('connection', (socket) => {
		socket.send(`${SCRIPT}${IMG}${CONTROL}`);
		socket.send(Buffer.from([0x00, 0x1b, 0x3c, 0x73, 0xff]));
		socket.on('message', (data) => socket.send(`echo: ${data.toString()}`));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
	return {
		port: (server.address() as AddressInfo).port,
		close: () => new Promise((resolve) => { wss.close(); server.closeAllConnections(); server.close(() => resolve()); }),
	};
}

/** Requests through the proxy from this process (not a browser: the target's pages must not run anywhere). */
async function evilTraffic(port: number): Promise<void> {
	const get = (p: string, headers: Record<string, string> = {}) => new Promise<void>((resolve, reject) => {
		https.get({ host: 'localhost', port, path: p, rejectUnauthorized: false, headers }, (res) => { res.resume(); res.on('end', () => resolve()); }).on('error', reject);
	});
	await get(HOSTILE_PATH, { 'X-Request-Evil': IMG, Referer: JS_URL });
	await get('/svg');
	await get('/json');
	const ws = new WebSocket(`wss://localhost:${port}/ws?<script>alert(9)</script>`, { rejectUnauthorized: false, perMessageDeflate: false });
	await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
	ws.send(`${IMG}${CONTROL}`);
	await new Promise((resolve) => setTimeout(resolve, 500));
	ws.close();
}
