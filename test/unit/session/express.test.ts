import * as assert from 'node:assert/strict';
import * as https from 'node:https';
import type { Browser, Page, Response } from 'playwright-core';
import { ProxySession } from '../../../src/core/session';
import type { Exchange } from '../../../src/shared/exchange';
import { startExpressApp, type ExpressApp, type ExpressRequest } from '../../fixtures/expressServer';
import { trustingChromium, until } from './browser';

interface Navigation {
	readonly page: Page;
	/** The response goto ended with (after the redirects Chromium followed). */
	readonly response: Response;
	/** Every URL Chromium requested on the way, the first one first. */
	readonly chain: string[];
}

/** Every URL of the redirect chain that ended in `response`, in the order Chromium requested them. */
function redirectChain(response: Response): string[] {
	const chain: string[] = [];
	for (let request: ReturnType<Response['request']> | null = response.request(); request !== null; request = request.redirectedFrom()) {
		chain.unshift(request.url());
	}
	return chain;
}

/** Opens `url` in a fresh page (its own context: no cache, no cookies from another test). */
async function open(browser: Browser, url: string, waitUntil: 'load' | 'commit' = 'load'): Promise<Navigation> {
	const page = await browser.newPage();
	try {
		const response = await page.goto(url, { timeout: 10_000, waitUntil });
		assert.ok(response, `a response for ${url}`);
		return { page, response, chain: redirectChain(response) };
	} catch (error) {
		await page.close();
		throw error;
	}
}

/** Chromium's protocol for the page's document (`h2`, `http/1.1`); strings, since this file has no DOM library. */
function nextHopProtocol(page: Page): Promise<string> {
	return page.evaluate<string>('performance.getEntriesByType("navigation")[0].nextHopProtocol');
}

/** The value of the first header named `name` (any case), with its index in the captured pairs. */
function header(exchange: Exchange, name: string): { index: number; value: string | undefined } {
	const headers = exchange.response?.headers ?? [];
	const index = headers.findIndex(([key]) => key.toLowerCase() === name);
	return { index, value: index < 0 ? undefined : headers[index][1] };
}

/** A plain Node HTTPS GET through the proxy, trusting only our CA, following nothing. */
function get(session: ProxySession, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
	return new Promise((resolve, reject) => {
		const request = https.get({ host: 'localhost', port: session.port, path, ca: session.ca.ca.certPem, agent: false }, (response) => {
			response.resume();
			response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers }));
		});
		request.on('error', reject);
	});
}

// Issue: a real Express 5 app whose base URL is its own http origin (res.redirect('http://localhost:PORT/…')),
// behind the proxy in real Chromium. The proxy rewrites redirects to the app's own origin to the
// browser's HTTPS origin, leaves foreign ones alone, and answers plain HTTP on its TLS port with a 307
// to https; Chromium must end on HTTPS in each case (and leave the proxy when the rewrite is off).
describe('a real Express 5 app behind the proxy, in Chromium: redirects stay on HTTPS', function () {
	this.timeout(30_000);
	let browser: Browser;
	let app: ExpressApp;
	/** The default proxy (rewriteRedirects on). */
	let session: ProxySession;
	/** The same app behind a proxy with rewriteRedirects: false. */
	let unrewritten: ProxySession;
	const pages: Page[] = [];

	before(async () => {
		const [chromium, express] = await Promise.all([trustingChromium({ extraNames: ['app.test'], hostRules: ['app.test'] }), startExpressApp()]);
		({ browser } = chromium);
		app = express;
		[session, unrewritten] = await Promise.all([
			ProxySession.start({ target: app.port, port: 0, caDir: chromium.caDir, extraNames: ['app.test'] }),
			ProxySession.start({ target: app.port, port: 0, caDir: chromium.caDir, extraNames: ['app.test'], rewriteRedirects: false }),
		]);
	});
	afterEach(async () => {
		for (const page of pages.splice(0)) { await page.close(); }
	});
	after(async () => {
		await browser?.close();
		await session?.stop();
		await unrewritten?.stop();
		await app?.stop();
	});

	/** Where the capture and the app's request log stand now, to look only at what a test adds. */
	function mark(proxy: ProxySession): { exchanges: number; requests: number } {
		return { exchanges: Math.max(0, ...proxy.store!.list().map((exchange) => exchange.id)), requests: app.requests().length };
	}

	/** The first exchange after `since` for `path`, once it completed. */
	async function captured(proxy: ProxySession, since: { exchanges: number }, path: string): Promise<Exchange> {
		const find = () => proxy.store!.list().find((exchange) => exchange.id > since.exchanges && exchange.request?.path === path && exchange.state === 'completed');
		await until(() => find() !== undefined, `the captured ${path}`, 5000);
		return find()!;
	}

	/** What the app has seen since `since`, once it includes `last`; favicon requests left out. */
	async function seen(since: { requests: number }, last: string): Promise<ExpressRequest[]> {
		const requests = () => app.requests().slice(since.requests).filter((request) => request.url !== '/favicon.ico');
		await until(() => requests().some((request) => request.url === last), `the app's log of ${last}`, 5000);
		return requests();
	}

	async function navigate(url: string, waitUntil: 'load' | 'commit' = 'load'): Promise<Navigation> {
		const navigation = await open(browser, url, waitUntil);
		pages.push(navigation.page);
		return navigation;
	}

	it('https://localhost:PROXYPORT/login ends on https://localhost:PROXYPORT/dashboard over h2, every request through the proxy', async () => {
		const origin = `https://localhost:${session.port}`;
		const since = mark(session);
		const { page, response, chain } = await navigate(`${origin}/login`);
		assert.deepEqual(chain, [`${origin}/login`, `${origin}/dashboard`]);
		assert.equal(page.url(), `${origin}/dashboard`);
		assert.equal(response.status(), 200);
		assert.equal(await nextHopProtocol(page), 'h2');
		assert.equal(await page.textContent('#message'), 'Welcome to the dashboard');

		const login = await captured(session, since, '/login');
		assert.equal(login.response!.statusCode, 302);
		const location = header(login, 'location');
		assert.equal(location.value, `${origin}/dashboard`, 'the browser got the https Location');
		assert.deepEqual(login.response!.rewritten, [{ index: location.index, original: `${app.baseUrl}/dashboard` }], 'the capture keeps what Express sent');
		const dashboard = await captured(session, since, '/dashboard');
		assert.equal(dashboard.response!.statusCode, 200);
		assert.equal(dashboard.request!.authority, `localhost:${session.port}`);

		// The app saw both, each forwarded by the proxy (X-Forwarded-Proto), none straight from Chromium.
		const requests = await seen(since, '/dashboard');
		assert.deepEqual(requests.map((request) => [request.url, request.forwardedProto, request.host]),
			[['/login', 'https', `localhost:${session.port}`], ['/dashboard', 'https', `localhost:${session.port}`]]);
	});

	it('https://app.test:PROXYPORT/login ends on the browser\'s origin, https://app.test:PROXYPORT/dashboard, a secure context', async () => {
		const origin = `https://app.test:${session.port}`;
		const since = mark(session);
		const { page, chain } = await navigate(`${origin}/login`);
		assert.deepEqual(chain, [`${origin}/login`, `${origin}/dashboard`]);
		assert.equal(page.url(), `${origin}/dashboard`);
		assert.equal(await page.evaluate<boolean>('window.isSecureContext'), true);
		assert.equal(await page.evaluate<string>('location.origin'), origin);
		assert.equal(await nextHopProtocol(page), 'h2');
		assert.equal(await page.textContent('#message'), 'Welcome to the dashboard');

		const login = await captured(session, since, '/login');
		const location = header(login, 'location');
		assert.equal(location.value, `${origin}/dashboard`);
		assert.deepEqual(login.response!.rewritten, [{ index: location.index, original: `${app.baseUrl}/dashboard` }]);
		const requests = await seen(since, '/dashboard');
		assert.deepEqual(requests.map((request) => [request.url, request.forwardedProto, request.host]),
			[['/login', 'https', `app.test:${session.port}`], ['/dashboard', 'https', `app.test:${session.port}`]]);
	});

	it('/from-protocol (req.protocol without trust proxy: http to the TLS port) ends on https through the proxy\'s 307', async () => {
		const origin = `https://localhost:${session.port}`;
		const since = mark(session);
		const { page, chain } = await navigate(`${origin}/from-protocol`);
		// Express said http://localhost:PROXYPORT/dashboard (not the app's origin: left alone); the proxy's
		// TLS port answered that plain-HTTP request with a 307 to the same URL over https.
		assert.deepEqual(chain, [`${origin}/from-protocol`, `http://localhost:${session.port}/dashboard`, `${origin}/dashboard`]);
		assert.equal(page.url(), `${origin}/dashboard`);
		assert.equal(await nextHopProtocol(page), 'h2');
		assert.equal(await page.textContent('#message'), 'Welcome to the dashboard');

		const fromProtocol = await captured(session, since, '/from-protocol');
		assert.equal(header(fromProtocol, 'location').value, `http://localhost:${session.port}/dashboard`);
		assert.equal(fromProtocol.response!.rewritten, undefined);
		// The plain-HTTP request never reached the app: the 307 is the proxy's own, which the capture records
		// as a failed TLS handshake (kind 'tls-error') naming the redirect.
		const plain = () => session.store!.list().find((exchange) => exchange.id > since.exchanges && exchange.kind === 'tls-error');
		await until(() => plain() !== undefined, 'the captured plain-HTTP request', 5000);
		assert.match(plain()!.error ?? '', new RegExp(`GET /dashboard → 307 https://localhost:${session.port}/dashboard`));
		const requests = await seen(since, '/dashboard');
		assert.deepEqual(requests.map((request) => [request.url, request.forwardedProto]), [['/from-protocol', 'https'], ['/dashboard', 'https']]);
	});

	it('/refresh: the Refresh header Chromium gets points at https on the proxy, and Chromium follows it there', async () => {
		const origin = `https://localhost:${session.port}`;
		const since = mark(session);
		// Refresh: 0 navigates again at once; waiting for /refresh's own load would race that navigation.
		const { page, response } = await navigate(`${origin}/refresh`, 'commit');
		assert.equal(response.status(), 200);
		assert.equal(response.headers().refresh, `0; url=${origin}/dashboard`);
		await page.waitForURL(`${origin}/dashboard`, { timeout: 10_000 });
		await page.waitForSelector('#message', { timeout: 10_000 });
		assert.equal(await page.textContent('#message'), 'Welcome to the dashboard');
		assert.equal(await nextHopProtocol(page), 'h2');

		const refresh = await captured(session, since, '/refresh');
		const value = header(refresh, 'refresh');
		assert.equal(value.value, `0; url=${origin}/dashboard`);
		assert.deepEqual(refresh.response!.rewritten, [{ index: value.index, original: `0; url=http://127.0.0.1:${app.port}/dashboard` }]);
		const requests = await seen(since, '/dashboard');
		assert.deepEqual(requests.map((request) => [request.url, request.forwardedProto]), [['/refresh', 'https'], ['/dashboard', 'https']]);
	});

	it('/elsewhere: a redirect to a foreign origin is left exactly as Express sent it', async () => {
		const since = mark(session);
		const reply = await get(session, '/elsewhere');
		assert.equal(reply.status, 302);
		assert.equal(reply.headers.location, 'http://other.localhost:9/');
		const elsewhere = await captured(session, since, '/elsewhere');
		assert.equal(header(elsewhere, 'location').value, 'http://other.localhost:9/');
		assert.equal(elsewhere.response!.rewritten, undefined);
	});

	it('with rewriteRedirects: false, Chromium follows Express to http://localhost:PORT/dashboard, off the proxy', async () => {
		const origin = `https://localhost:${unrewritten.port}`;
		const since = mark(unrewritten);
		const { page, chain } = await navigate(`${origin}/login`);
		assert.deepEqual(chain, [`${origin}/login`, `${app.baseUrl}/dashboard`]);
		assert.equal(page.url(), `${app.baseUrl}/dashboard`);
		assert.equal(await page.textContent('#message'), 'Welcome to the dashboard');
		assert.equal(await nextHopProtocol(page), 'http/1.1');

		const login = await captured(unrewritten, since, '/login');
		assert.equal(header(login, 'location').value, `${app.baseUrl}/dashboard`);
		assert.equal(login.response!.rewritten, undefined);
		// /login came through the proxy; /dashboard straight from Chromium (no X-Forwarded-Proto), not captured.
		const requests = await seen(since, '/dashboard');
		assert.deepEqual(requests.map((request) => [request.url, request.forwardedProto, request.host]),
			[['/login', 'https', `localhost:${unrewritten.port}`], ['/dashboard', null, `localhost:${app.port}`]]);
		assert.equal(unrewritten.store!.list().some((exchange) => exchange.id > since.exchanges && exchange.request?.path === '/dashboard'), false);
	});
});
