import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { decodeBody } from '../../../src/core/inspector/bodyDecoding';
import { detectHostCheck, planHostCheckFix, watchHostChecks, type HostCheckRefusal } from '../../../src/core/devServers';
import { ProxySession } from '../../../src/core/session';
import type { Exchange } from '../../../src/shared/exchange';
import { startNextDevServer, type NextDevServer } from '../../fixtures/nextDevServer';
import { tempDir } from '../helpers';
import { trustingChromium, until } from './browser';

// Strings, not functions: this file is type-checked without the DOM library. React marks the DOM nodes
// it hydrated with a `__reactFiber$…` property; server-rendered markup that never hydrated has none.
const HYDRATED = 'Object.keys(document.getElementById("counter") ?? {}).some((key) => key.startsWith("__reactFiber$"))';
const HMR_PATH = /^\/_next\/hmr\?id=[\w-]+$/;

interface OpenedPage {
	readonly page: Page;
	/** Why each of the page's WebSockets failed, as Chromium put it. */
	readonly socketErrors: string[];
}

async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
	const page = await browser.newPage();
	const socketErrors: string[] = [];
	page.on('websocket', (ws) => ws.on('socketerror', (error) => socketErrors.push(error)));
	const response = await page.goto(url, { timeout: 30_000 });
	assert.equal(response?.status(), 200);
	return { page, socketErrors };
}

function protocolOf(page: Page): Promise<string> {
	return page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol');
}

function counterText(page: Page): Promise<string | null> {
	return page.textContent('#counter');
}

/** Clicks the counter and waits for it to count the click (only a hydrated page does). */
async function clickCounts(page: Page, expected: string): Promise<void> {
	await page.click('#counter');
	await page.waitForFunction(`document.getElementById("counter")?.textContent === ${JSON.stringify(expected)}`, undefined, { timeout: 10_000 });
}

/** Edits the text of `<p id="message">` in the app's page.jsx, as a developer would. */
function editMessage(next: NextDevServer, text: string): void {
	const file = path.join(next.dir, 'app/page.jsx');
	const source = readFileSync(file, 'utf8');
	const edited = source.replace(/(<p id="message">)[^<]*(<\/p>)/, `$1${text}$2`);
	assert.notEqual(edited, source, 'page.jsx has the message paragraph');
	writeFileSync(file, edited);
}

/**
 * Edits the message and waits for the page to show it without loading the document again: a property
 * set on `window` before the edit is still there after it, and the counter keeps its count (Fast Refresh).
 */
async function hotEdit(page: Page, next: NextDevServer, text: string): Promise<void> {
	const count = await counterText(page);
	await page.evaluate('window.tlsLensBeforeEdit = true');
	editMessage(next, text);
	await page.waitForFunction(`document.getElementById("message")?.textContent === ${JSON.stringify(text)}`, undefined, { timeout: 15_000 });
	assert.equal(await page.evaluate('window.tlsLensBeforeEdit === true'), true, 'the page was updated in place, not reloaded');
	assert.equal(await counterText(page), count, 'Fast Refresh kept the state');
}

/** The WebSocket upgrades the proxy captured for `authority`. */
function sockets(session: ProxySession, authority: string): Exchange[] {
	return session.store!.list().filter((exchange) => exchange.kind === 'websocket' && exchange.request?.authority === authority);
}

function header(exchange: Exchange, name: string): string | undefined {
	return exchange.request?.headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

/**
 * The `type`s of the JSON messages the dev server sent on a captured socket. Next negotiates no
 * permessage-deflate (its 101 has no Sec-WebSocket-Extensions), so the payloads are as sent.
 */
function serverMessageTypes(exchange: Exchange): string[] {
	assert.equal(exchange.response?.headers.some(([name]) => name.toLowerCase() === 'sec-websocket-extensions'), false);
	return exchange.messages!.filter((message) => message.direction === 'server' && message.opcode === 1)
		.map((message) => String((JSON.parse(Buffer.from(message.payload).toString('utf8')) as { type?: unknown }).type));
}

/**
 * The request ids of the React debug chunks (binary messages whose first byte is 0, then the id's
 * length and the id) the dev server sent on a captured socket.
 */
function reactDebugChunkIds(exchange: Exchange): string[] {
	return exchange.messages!.filter((message) => message.direction === 'server' && message.opcode === 2 && message.payload[0] === 0)
		.map((message) => Buffer.from(message.payload.subarray(2, 2 + message.payload[1])).toString('utf8'));
}

/** Sends `exchange`'s upgrade request, headers as captured, straight to the dev server; resolves with all it answered. */
function replay(port: number, exchange: Exchange): Promise<string> {
	const request = exchange.request!;
	const head = `${request.method} ${request.path} HTTP/1.1\r\n${request.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1', () => socket.write(head));
		let answer = '';
		socket.setEncoding('latin1');
		socket.on('data', (chunk: string) => { answer += chunk; });
		socket.on('error', reject);
		socket.on('close', () => resolve(answer));
		socket.setTimeout(10_000, () => socket.destroy(new Error(`no end to the answer after 10 s: ${JSON.stringify(answer)}`)));
	});
}

// Next.js 16 (Turbopack, its default) with an App Router page and one client component, behind the
// proxy in real Chromium. The page hydrates only once its dev WebSocket (/_next/hmr) is open: in dev,
// React's debug channel for the server components' payload comes over that socket, and Next refuses
// the socket when the page's Origin is not localhost (or a name in allowedDevOrigins).
describe('a real Next.js 16 dev server behind the proxy, in Chromium', function () {
	this.timeout(60_000);
	let browser: Browser;
	let next: NextDevServer;
	let session: ProxySession;
	const refusals: HostCheckRefusal[] = [];

	before(async function () {
		this.timeout(90_000);
		let caDir: string;
		({ browser, caDir } = await trustingChromium({ extraNames: ['app.test'], hostRules: ['app.test'] }));
		next = await startNextDevServer(path.join(tempDir('tls-lens-next-'), 'app'));
		session = await ProxySession.start({ target: next.port, port: 0, caDir, extraNames: ['app.test'] });
		watchHostChecks(session.store!, { onRefusal: (refusal) => refusals.push(refusal) });
	});
	after(async () => {
		await browser?.close();
		await session?.stop();
		await next?.stop();
	});

	it('on https://localhost: the page comes over HTTP/2, hydrates, and an edit reaches it through the proxied HMR socket', async () => {
		const authority = `localhost:${session.port}`;
		const { page } = await openPage(browser, `https://${authority}/`);
		try {
			assert.equal(await protocolOf(page), 'h2');
			assert.equal(await page.textContent('#message'), 'Hello from Next');
			await page.waitForFunction(HYDRATED, undefined, { timeout: 20_000 });
			const requestId = await page.evaluate<string>('self.__next_r');
			await clickCounts(page, 'Clicked 1 times');
			await hotEdit(page, next, 'Hot hello from Next');

			const hmr = sockets(session, authority);
			assert.equal(hmr.length, 1, 'one HMR socket, through the proxy');
			assert.equal(hmr[0].request!.path, `/_next/hmr?id=${requestId}`);
			assert.equal(hmr[0].response?.statusCode, 101);
			assert.equal(header(hmr[0], 'origin'), `https://${authority}`);
			assert.ok(reactDebugChunkIds(hmr[0]).includes(requestId), "React's debug chunks for the page's payload came over it");
			const types = serverMessageTypes(hmr[0]);
			assert.ok(types.includes('turbopack-connected'), types.join());
			assert.ok(types.includes('serverComponentChanges'), `the edit came over the proxied socket: ${types.join()}`);
		} finally {
			await page.close();
		}
	});

	it("on https://app.test: Next refuses the HMR socket, so the page never hydrates, until allowedDevOrigins: ['app.test']", async () => {
		const authority = `app.test:${session.port}`;
		const text = /<p id="message">([^<]*)<\/p>/.exec(readFileSync(path.join(next.dir, 'app/page.jsx'), 'utf8'))![1];
		const { page, socketErrors } = await openPage(browser, `https://${authority}/`);
		try {
			assert.equal(await protocolOf(page), 'h2');
			assert.equal(await page.textContent('#message'), text, 'the server-rendered page shows');
			// Next's client retries the socket every second; by the second refusal it has had its chance.
			await until(() => sockets(session, authority).filter((exchange) => exchange.state !== 'pending').length >= 2 && socketErrors.length >= 2, 'two refused HMR upgrades');
			await page.click('#counter');
			await new Promise((resolve) => setTimeout(resolve, 500));
			assert.equal(await counterText(page), 'Clicked 0 times', 'the click did nothing');
			assert.equal(await page.evaluate(HYDRATED), false, 'not hydrated');

			// What the proxy captured, every attempt the same. Next refuses the upgrade by writing the bare
			// bytes `Unauthorized` to the socket and closing it: no status line, no headers, so no HTTP
			// response. The proxy records the upgrade as an upstream error with no response head and those
			// bytes as the body, and passes them on as they came: Chromium rejects them as it would from
			// Next directly.
			const refused = sockets(session, authority).filter((exchange) => exchange.state !== 'pending');
			for (const exchange of refused) {
				assert.equal(exchange.state, 'upstream-error');
				assert.equal(exchange.error, `http://localhost:${next.port} answered the WebSocket upgrade with "Unauthorized" (no HTTP status line) and closed the connection.`);
				assert.equal(exchange.response, undefined, 'no response head');
				const body = await decodeBody(session.store!.body(exchange.id, 'response')!, undefined);
				assert.equal(body.body.toString('utf8'), 'Unauthorized');
				assert.equal(exchange.request!.method, 'GET');
				assert.match(exchange.request!.path, HMR_PATH);
				assert.equal(header(exchange, 'origin'), `https://${authority}`);
				assert.equal(header(exchange, 'host'), authority);
				assert.equal(header(exchange, 'upgrade'), 'websocket');
				// TLS Lens's host check knows it for what it is.
				const refusal = detectHostCheck(exchange, body.body.toString('utf8'));
				assert.deepEqual([refusal?.server, refusal?.host, refusal?.fix], ['next', 'app.test', "allowedDevOrigins: ['app.test']"]);
			}
			// The watcher the CLI and VS Code run: one report for the name, a note on every refused row.
			await until(() => refused.every((exchange) => session.store!.get(exchange.id)?.note !== undefined), 'the notes on the refused rows');
			assert.deepEqual(refusals.map((r) => [r.server, r.host, r.setting]), [['next', 'app.test', 'allowedDevOrigins']]);
			assert.equal(new Set(refused.map((exchange) => exchange.request!.path)).size, 1, 'the client retried the same URL');
			assert.ok(socketErrors.length >= 2, socketErrors.join('\n'));
			assert.deepEqual(new Set(socketErrors), new Set(['Error during WebSocket handshake: net::ERR_INVALID_HTTP_RESPONSE']));
			// The same request, headers as captured, straight to Next: this is its whole answer.
			assert.equal(await replay(next.port, refused[0]), 'Unauthorized');
			// Everything else the page asked for was served (its scripts carry no Origin): only the socket is refused.
			const requests = session.store!.list().filter((exchange) => exchange.kind === 'http' && exchange.request?.authority === authority);
			const served = requests.filter((exchange) => exchange.request!.path === '/' || exchange.request!.path.startsWith('/_next/'));
			assert.ok(served.length > 1, 'the page and its chunks');
			assert.deepEqual(served.filter((exchange) => exchange.response?.statusCode !== 200).map((exchange) => `${exchange.response?.statusCode} ${exchange.request!.path}`), []);
			// What Next printed (once: it warns once per message).
			const printed = stripVTControlCharacters(next.output());
			assert.ok(printed.includes([
				'⚠ Blocked cross-origin request to Next.js dev resource /_next/hmr from "app.test".',
				'Cross-origin access to Next.js dev resources is blocked by default for safety.',
				'',
				'To allow this host in development, add it to "allowedDevOrigins" in next.config.js and restart the dev server:',
				'',
				'// next.config.js',
				'module.exports = {',
				"  allowedDevOrigins: ['app.test'],",
				'}',
			].join('\n')), printed);
			assert.equal(printed.split('Blocked cross-origin request').length - 1, 1, 'printed once');

			// The fix Next names, made in the project's next.config.mjs by the edit TLS Lens's Quick Fix
			// applies (planHostCheckFix): Next notices and restarts by itself.
			const mark = next.output().length;
			const since = (): string => stripVTControlCharacters(next.output().slice(mark));
			const config = path.join(next.dir, 'next.config.mjs');
			const source = readFileSync(config, 'utf8');
			assert.ok(source.includes('const nextConfig = {\n  /* config options here */\n};'), source);
			const plan = planHostCheckFix({ setting: 'allowedDevOrigins', host: 'app.test' }, source);
			assert.ok(plan.ok && plan.edit, 'an edit');
			assert.ok(plan.text.includes("const nextConfig = {\n  /* config options here */\n  allowedDevOrigins: ['app.test'],\n};"), plan.text);
			writeFileSync(config, plan.text);
			await until(() => /Ready in/.test(since()), 'Next to restart after the next.config.mjs edit', 30_000);
			assert.match(since(), /^⚠ Found a change in next\.config\.mjs\. Restarting the server to apply the changes\.\.\.$/m);
			const known = new Set(sockets(session, authority).map((exchange) => exchange.id));
			await page.reload({ timeout: 30_000 });
			await page.waitForFunction(HYDRATED, undefined, { timeout: 20_000 });
			await clickCounts(page, 'Clicked 1 times');
			await hotEdit(page, next, 'Allowed hello from Next');

			const allowed = sockets(session, authority).filter((exchange) => !known.has(exchange.id) && exchange.state === 'pending');
			assert.equal(allowed.length, 1, 'the reloaded page\'s HMR socket is open');
			assert.equal(allowed[0].response?.statusCode, 101);
			assert.match(allowed[0].request!.path, HMR_PATH);
			assert.equal(header(allowed[0], 'origin'), `https://${authority}`);
			assert.ok(serverMessageTypes(allowed[0]).includes('serverComponentChanges'), 'the edit came over it');
			assert.doesNotMatch(since(), /Blocked cross-origin/);
		} finally {
			await page.close();
		}
	});
});
