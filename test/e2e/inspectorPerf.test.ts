// Measures the inspector with a lot of traffic and REPORTS the figures (no timing assertions: this
// machine is shared, and a timed assertion would flake). The numbers go to the console and to
// test-output/e2e/inspector-perf.json.
import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, CDPSession, Frame, Page } from 'playwright-core';
import { inspectorFrame, proxyPort, runCommand, trustWorkspace } from './workbench';

const repo = path.resolve(__dirname, '../..');
const output = path.join(repo, 'test-output/e2e');
const EXCHANGES = 20_000;

function stats(values: number[]): { n: number; p50: number; p95: number; max: number } {
	const sorted = values.slice().sort((a, b) => a - b);
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
	const round = (x: number) => Math.round(x * 10) / 10;
	return { n: values.length, p50: round(at(0.5)), p95: round(at(0.95)), max: round(sorted[sorted.length - 1] ?? 0) };
}

/** Sends `count` GETs through the proxy on one HTTP/2 connection, `concurrency` at a time. */
async function load(port: number, count: number, concurrency: number, prefix: string): Promise<number> {
	const client = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false });
	client.on('error', () => undefined);
	const started = Date.now();
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			await new Promise<void>((resolve) => {
				const stream = client.request({ ':path': `${prefix}/${i % 7 === 0 ? 'api/items' : i % 5 === 0 ? 'img/pic.png' : 'src/module.js'}?n=${i}` });
				stream.on('response', () => undefined);
				stream.resume();
				stream.on('close', () => resolve());
				stream.on('error', () => resolve());
			});
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	client.close();
	return Date.now() - started;
}

describe('Traffic inspector performance (reported, not asserted)', function () {
	this.timeout(600_000);
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let target: http.Server;
	let targetPort: number;
	let port: number;
	let frame: Frame;
	let work: string;
	const report: Record<string, unknown> = {};

	before(async () => {
		const { startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-e2e-perf-'));
		target = http.createServer((req, res) => {
			const type = req.url!.includes('/api/') ? 'application/json' : req.url!.includes('.png') ? 'image/png' : 'text/javascript';
			res.writeHead(req.url!.includes('n=13') ? 404 : 200, { 'content-type': type });
			res.end(type === 'application/json' ? JSON.stringify({ ok: true, url: req.url }) : 'export const x = 1;\n');
		});
		await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
		targetPort = (target.address() as AddressInfo).port;
		const folder = path.join(work, 'workspace');
		cpSync(path.join(repo, 'test/fixtures/workspace'), folder, { recursive: true });
		mkdirSync(path.join(folder, '.vscode'), { recursive: true });
		writeFileSync(path.join(folder, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.port': 0, 'tlsLens.target': `http://127.0.0.1:${targetPort}` }));
		mkdirSync(output, { recursive: true });
		vscode = await startTestVscode({ dataDir: path.join(work, 'vscode') });
		browser = await launchChromium();
		page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
		await page.goto(vscode.url({ folder }));
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		await trustWorkspace(page);
		await runCommand(page, 'TLS Lens: Start TLS Proxy');
		port = await proxyPort(page, targetPort);
	});

	after(async () => {
		writeFileSync(path.join(output, 'inspector-perf.json'), JSON.stringify(report, null, 2) + '\n');
		console.log(`\n      inspector performance:\n${JSON.stringify(report, null, 2).replace(/^/gm, '      ')}`);
		await browser?.close();
		await vscode?.stop();
		target?.close();
		if (work) { rmSync(work, { recursive: true, force: true }); }
	});

	it(`opens with ${EXCHANGES.toLocaleString('en')} exchanges captured`, async () => {
		const loadMs = await load(port, EXCHANGES, 64, '/bulk');
		report.load = { exchanges: EXCHANGES, ms: loadMs, perSecond: Math.round(EXCHANGES / (loadMs / 1000)) };
		await page.waitForTimeout(500);
		await page.keyboard.press('F1');
		await page.locator('.quick-input-widget input').fill('>TLS Lens: Open Traffic Inspector');
		const item = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Open Traffic Inspector' }).first();
		await item.waitFor();
		const started = Date.now();
		await item.click();
		frame = await inspectorFrame(page, 60_000, 10);
		await frame.locator(`body[data-rows="${EXCHANGES}"][data-all-rows-ms]`).waitFor({ timeout: 60_000 });
		// The webview stamps the wall clock in the animation frame that showed the rows (same machine clock).
		const firstOnScreen = Number(await frame.locator('body').getAttribute('data-first-rows-at'));
		const openMs = Number(await frame.locator('body').getAttribute('data-all-rows-at')) - started;
		const firstRows = Number(await frame.locator('body').getAttribute('data-first-rows-ms'));
		const allRows = Number(await frame.locator('body').getAttribute('data-all-rows-ms'));
		report.open = {
			exchanges: EXCHANGES,
			// From the click on the command to the newest rows on screen, as the user sees it.
			commandToFirstRowsMs: firstOnScreen - started,
			commandToAllRowsLoadedMs: openMs,
			// The same two moments measured inside the webview, from its document's start.
			webviewStartToFirstRowsMs: firstRows,
			webviewStartToAllRowsMs: allRows,
		};
		assert.ok(await frame.locator('.row:not([hidden])').count() > 10);
	});

	it('scrolls: frame times', async () => {
		const result = await frame.evaluate(`(async () => {
			const v = document.querySelector('.list-viewport');
			const frames = [];
			const renders = [];
			const raf = () => new Promise((resolve) => requestAnimationFrame(resolve));
			v.scrollTop = 0;
			await raf(); await raf();
			let last = performance.now();
			for (let i = 0; i < 200; i++) {
				// Mostly wheel-sized steps, with a big jump (dragging the scrollbar) every 20th frame.
				v.scrollTop += i % 20 === 19 ? 37000 : 330;
				await raf();
				const now = performance.now();
				frames.push(now - last);
				renders.push(globalThis.tlsLensPerf.render);
				last = now;
			}
			return { frames, renders, end: v.scrollTop };
		})()`) as { frames: number[]; renders: number[] };
		report.scroll = { frameIntervalMs: stats(result.frames), renderMs: stats(result.renders) };
	});

	it('filters: frame times while typing, and the cost of one filter pass', async () => {
		const input = frame.getByRole('textbox', { name: 'Filter requests' });
		await input.click();
		await frame.evaluate(`(() => {
			globalThis.__frames = [];
			let last = performance.now();
			const tick = () => {
				const now = performance.now();
				globalThis.__frames.push(now - last);
				last = now;
				if (!globalThis.__stop) requestAnimationFrame(tick);
			};
			requestAnimationFrame(tick);
		})()`);
		const filters: number[] = [];
		for (const text of ['api', 'status:4xx', 'type:json -status:404', 'host:localhost method:GET type:script', 'n=1999', '-type:image']) {
			await input.fill('');
			await page.keyboard.type(text, { delay: 25 });
			await page.waitForTimeout(60);
			filters.push(Number(await frame.evaluate('globalThis.tlsLensPerf.filter')));
		}
		const frames = await frame.evaluate('(globalThis.__stop = true, globalThis.__frames)') as number[];
		const view = await frame.locator('body').getAttribute('data-view');
		report.filter = { frameIntervalMsWhileTyping: stats(frames.slice(1)), filterPassMs: stats(filters), lastViewRows: Number(view) };
		await input.fill('');
	});

	it('memory of the webview while traffic flows at ~1,000 requests/s', async () => {
		let cdp: CDPSession | undefined;
		// Attach to the innermost frame that is a CDP target: the webview's own renderer when it runs out of
		// process, otherwise the page's renderer (then the heap is the workbench's and the webview's together:
		// the trend still shows whether the webview grows).
		let attachedTo = '';
		for (let f: Frame | null = frame; f && !cdp; f = f.parentFrame()) {
			try {
				cdp = await page.context().newCDPSession(f);
				attachedTo = f === page.mainFrame() ? 'the page renderer (workbench + webview, same process)' : `the webview renderer (${new URL(f.url()).host})`;
			} catch {
				cdp = undefined;
			}
		}
		const domNodes = async () => Number(await frame.evaluate('document.getElementsByTagName("*").length'));
		const heap = async () => {
			if (cdp) {
				await cdp.send('HeapProfiler.collectGarbage').catch(() => undefined);
				const usage = await cdp.send('Runtime.getHeapUsage') as { usedSize: number };
				return usage.usedSize;
			}
			return Number(await frame.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0'));
		};
		const samples: Array<{ s: number; heapMB: number; rows: number; domNodes: number; requests: number }> = [];
		const started = Date.now();
		let sent = 0;
		let running = true;
		const client = http2.connect(`https://localhost:${port}`, { rejectUnauthorized: false });
		client.on('error', () => undefined);
		// 100 requests every 100 ms.
		const pump = (async () => {
			while (running) {
				const tick = Date.now();
				await Promise.all(Array.from({ length: 100 }, (_, i) => new Promise<void>((resolve) => {
					const stream = client.request({ ':path': `/flow/${sent + i}` });
					stream.resume();
					stream.on('close', () => resolve());
					stream.on('error', () => resolve());
				})));
				sent += 100;
				await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))));
			}
		})();
		samples.push({ s: 0, heapMB: Math.round((await heap()) / 1e5) / 10, rows: Number(await frame.locator('body').getAttribute('data-rows')), domNodes: await domNodes(), requests: 0 });
		for (let i = 1; i <= 8; i++) {
			await page.waitForTimeout(5000);
			samples.push({
				s: Math.round((Date.now() - started) / 1000),
				heapMB: Math.round((await heap()) / 1e5) / 10,
				rows: Number(await frame.locator('body').getAttribute('data-rows')),
				domNodes: await domNodes(),
				requests: sent,
			});
		}
		running = false;
		await pump;
		client.close();
		const seconds = (Date.now() - started) / 1000;
		report.memory = { via: cdp ? `CDP Runtime.getHeapUsage after a forced GC, of ${attachedTo}` : 'performance.memory of the webview frame', requestsPerSecond: Math.round(sent / seconds), samples };
		await cdp?.detach().catch(() => undefined);
	});
});
