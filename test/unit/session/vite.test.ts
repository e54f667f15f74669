import * as assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import WebSocket from 'ws';
import { ProxySession } from '../../../src/core/session';
import { tempDir } from '../helpers';
import { startVite, type ViteServer } from '../../fixtures/devServers';

const fixture = path.resolve(__dirname, '../../fixtures/viteApp');

/** GETs `paths` over one HTTP/2 connection trusting only our CA, as a browser loading a page would. */
async function h2Get(session: ProxySession, paths: string[]): Promise<Map<string, { status: number; body: string }>> {
	const client = http2.connect(session.url, { ca: session.ca.ca.certPem });
	client.on('error', () => { /* reported through the requests */ });
	try {
		const results = await Promise.all(paths.map((p) => new Promise<[string, { status: number; body: string }]>((resolve, reject) => {
			const stream = client.request({ ':path': p, accept: '*/*' });
			let status = 0;
			let body = '';
			stream.setEncoding('utf8');
			stream.on('response', (headers) => { status = headers[':status'] as number; });
			stream.on('data', (chunk: string) => { body += chunk; });
			stream.on('end', () => resolve([p, { status, body }]));
			stream.on('error', reject);
		})));
		return new Map(results);
	} finally {
		client.close();
	}
}

describe('a real Vite dev server behind the proxy', function () {
	this.timeout(60_000);
	let vite: ViteServer;
	let session: ProxySession;
	let appDir: string;

	before(async () => {
		appDir = path.join(tempDir(), 'app');
		cpSync(fixture, appDir, { recursive: true });
		vite = await startVite(appDir);
		session = await ProxySession.start({ target: vite.port, port: 0, caDir: path.join(tempDir(), 'ca') });
	});
	after(async () => {
		await session?.stop();
		await vite?.stop();
	});

	it('serves the page and its modules over HTTP/2 with a certificate trusted through our CA', async () => {
		const pages = await h2Get(session, ['/', '/src/main.js', '/src/message.js', '/@vite/client']);
		for (const [p, { status }] of pages) { assert.equal(status, 200, p); }
		assert.match(pages.get('/')!.body, /<script type="module" src="\/@vite\/client">/);
		assert.match(pages.get('/src/main.js')!.body, /import\.meta\.hot/);
	});

	it('carries the vite-hmr WebSocket and delivers an HMR update when a source file changes', async () => {
		const client = (await h2Get(session, ['/@vite/client'])).get('/@vite/client')!.body;
		const token = /const wsToken = "([^"]+)"/.exec(client)?.[1];
		assert.ok(token, 'Vite client carries its WebSocket token');
		const ws = new WebSocket(`wss://localhost:${session.port}/?token=${token}`, 'vite-hmr', { ca: session.ca.ca.certPem, perMessageDeflate: false });
		const messages: Array<{ type: string; updates?: Array<{ path: string }> }> = [];
		ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
		await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
		try {
			assert.equal(ws.protocol, 'vite-hmr', 'subprotocol survives the proxy');
			await waitFor(() => messages.some((m) => m.type === 'connected'), 'Vite\'s "connected" message');
			// Vite only sends updates for modules a client has loaded: load them through the proxy first.
			await h2Get(session, ['/src/main.js', '/src/message.js']);
			const file = path.join(appDir, 'src/message.js');
			writeFileSync(file, readFileSync(file, 'utf8').replace('Hello', 'Hot hello'));
			await waitFor(() => messages.some((m) => m.type === 'update'), 'an HMR update');
			const update = messages.find((m) => m.type === 'update')!;
			assert.ok(update.updates!.some((u) => u.path === '/src/message.js' || u.path === '/src/main.js'), JSON.stringify(update));
		} finally {
			ws.close();
		}
		const refreshed = (await h2Get(session, ['/src/message.js'])).get('/src/message.js')!.body;
		assert.match(refreshed, /Hot hello/);
	});

	it('captured the Vite traffic, WebSocket messages included', async () => {
		const store = session.store!;
		await waitFor(() => store.list().some((e) => e.kind === 'websocket' && (e.messages?.length ?? 0) >= 2), 'captured HMR messages');
		const socket = store.list().find((e) => e.kind === 'websocket')!;
		assert.equal(socket.response?.statusCode, 101);
		assert.ok(socket.request!.headers.some(([name, value]) => name.toLowerCase() === 'sec-websocket-protocol' && value === 'vite-hmr'));
		const fromServer = socket.messages!.filter((m) => m.direction === 'server').map((m) => Buffer.from(m.payload).toString());
		assert.ok(fromServer.some((text) => text.includes('"type":"update"')), fromServer.join('\n'));
		const page = store.list().find((e) => e.request?.path === '/src/main.js' && e.state === 'completed');
		assert.equal(page?.tls.alpn, 'h2');
		assert.equal(page?.request?.httpVersion, '2');
	});
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) { throw new Error(`timed out waiting for ${what}`); }
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
