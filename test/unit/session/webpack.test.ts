import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page, WebSocket as PageWebSocket } from 'playwright-core';
import { watchWebpackSocket, type WebpackSocketBypass } from '../../../src/core/devServers';
import { ProxySession } from '../../../src/core/session';
import { startWebpackDevServer, type WebpackDevServer } from '../../fixtures/webpackDevServer';
import { tempDir } from '../helpers';
import { trustingChromium, until } from './browser';

interface OpenedPage {
	readonly page: Page;
	/** The first WebSocket the page opens (wds's HMR client), with what it received and whether it closed. */
	readonly socket: PageWebSocket;
	readonly frames: string[];
	closed(): Promise<void>;
	/** The navigation's protocol as Chromium saw it (`h2`). */
	readonly protocol: string;
}

/** Opens the proxied page; events are recorded from the start, since the socket may fail at once. */
async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
	const page = await browser.newPage();
	const frames: string[] = [];
	let closed = false;
	const closeWaiters: Array<() => void> = [];
	const socket = new Promise<PageWebSocket>((resolve) => {
		page.once('websocket', (ws) => {
			ws.on('framereceived', (frame) => frames.push(String(frame.payload)));
			ws.on('close', () => { closed = true; closeWaiters.splice(0).forEach((wake) => wake()); });
			resolve(ws);
		});
	});
	const response = await page.goto(url, { timeout: 15_000 });
	assert.equal(response?.status(), 200);
	// Strings, not functions: this file is type-checked without the DOM library.
	await page.waitForFunction('document.getElementById("message")?.textContent !== "loading"', undefined, { timeout: 15_000 });
	const protocol = await page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol');
	return {
		page, socket: await socket, frames, protocol,
		closed: () => closed ? Promise.resolve() : new Promise((resolve) => closeWaiters.push(resolve)),
	};
}

function webSocketPaths(session: ProxySession): string[] {
	return session.store!.list().filter((exchange) => exchange.kind === 'websocket').map((exchange) => exchange.request?.path ?? '');
}

// webpack 5 + webpack-dev-server 5 behind the proxy in real Chromium (issue 13, item 3). wds bakes its
// client's socket address into the bundle when it compiles; with no devServer options that is
// hostname 0.0.0.0 (the page's host) and wds's own port. The tests listen on 127.0.0.1 only, so they add
// `--host 127.0.0.1` and restore the baked hostname of the no-options case with
// `--client-web-socket-url-hostname 0.0.0.0`: the bundle then carries exactly what it carries with no
// devServer options at all.
describe('a real webpack-dev-server behind the proxy, in Chromium', function () {
	this.timeout(60_000);
	let browser: Browser;
	let caDir: string;
	const servers: WebpackDevServer[] = [];
	const sessions: ProxySession[] = [];

	async function start(args: string[]): Promise<{ wds: WebpackDevServer; session: ProxySession; bypasses: WebpackSocketBypass[] }> {
		const wds = await startWebpackDevServer(path.join(tempDir('tls-lens-webpack-'), 'app'), args);
		servers.push(wds);
		const session = await ProxySession.start({ target: wds.port, port: 0, caDir });
		sessions.push(session);
		const bypasses: WebpackSocketBypass[] = [];
		watchWebpackSocket(session.store!, { onBypass: (bypass) => bypasses.push(bypass) });
		return { wds, session, bypasses };
	}

	before(async () => {
		({ browser, caDir } = await trustingChromium());
	});
	after(async () => {
		await browser?.close();
		for (const session of sessions) { await session.stop(); }
		for (const wds of servers) { await wds.stop(); }
	});

	it('with no devServer options, the HMR client bypasses the proxy: it dials wss://localhost:DEVPORT/ws, which fails', async () => {
		const { wds, session, bypasses } = await start(['--client-web-socket-url-hostname', '0.0.0.0']);
		const { page, socket, protocol, closed } = await openPage(browser, session.url);
		try {
			assert.equal(protocol, 'h2');
			assert.equal(await page.textContent('#message'), 'Hello from webpack');
			assert.equal(socket.url(), `wss://localhost:${wds.port}/ws`);
			// TLS to a plain-HTTP server: Chromium gives up on the socket (ERR_SSL_PROTOCOL_ERROR).
			await closed();
			assert.deepEqual(webSocketPaths(session), [], 'no WebSocket went through the proxy');
			// TLS Lens saw it coming in the captured bundle and says what to change.
			await until(() => bypasses.length > 0, 'the bypass report');
			assert.deepEqual(bypasses.map((bypass) => [bypass.dialed, bypass.expected]), [[`wss://localhost:${wds.port}/ws`, `wss://localhost:${session.port}/ws`]]);
			assert.match(bypasses[0].message, /webSocketURL: 'auto:\/\/0\.0\.0\.0:0\/ws'/);
		} finally {
			await page.close();
		}
	});

	it("with client.webSocketURL 'auto://0.0.0.0:0/ws', HMR runs through the proxy and an edit reaches the page", async () => {
		const { wds, session, bypasses } = await start(['--client-web-socket-url', 'auto://0.0.0.0:0/ws']);
		const { page, socket, frames } = await openPage(browser, session.url);
		try {
			assert.equal(socket.url(), `wss://localhost:${session.port}/ws`);
			// Edit only once wds has greeted the client, or the rebuild may finish before it listens.
			await until(() => frames.some((frame) => frame.includes('"type":"ok"')), "wds's first ok");
			const file = path.join(wds.dir, 'src/message.js');
			writeFileSync(file, readFileSync(file, 'utf8').replace('Hello from webpack', 'Hot hello from webpack'));
			await page.waitForFunction('document.getElementById("message")?.textContent === "Hot hello from webpack"', undefined, { timeout: 15_000 });
			assert.deepEqual(webSocketPaths(session), ['/ws'], 'the HMR WebSocket went through the proxy');
			assert.deepEqual(bypasses, [], 'nothing to report');
			const hmr = session.store!.list().find((exchange) => exchange.kind === 'websocket')!;
			assert.ok(hmr.messages!.some((message) => message.direction === 'server' && /"type":"hash"/.test(Buffer.from(message.payload).toString('utf8'))), 'wds\'s messages were captured');
		} finally {
			await page.close();
		}
	});
});
