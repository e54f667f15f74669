import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as vscode from 'vscode';
import type { TlsLensApi } from '../../src/extension';

const EXTENSION_ID = 'tls-lens.tls-lens';

function listen(server: net.Server): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
	});
}

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<number> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca, headers: { 'accept-encoding': 'gzip', ...headers } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode!));
		}).on('error', reject);
	});
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined && value !== false) { return value; }
		if (Date.now() > deadline) { throw new Error(`timed out waiting for ${what}`); }
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

describe('Traffic inspector panel', () => {
	let api: TlsLensApi;
	let devServer: http.Server;
	let devPort: number;
	let work: string;

	before(async () => {
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-inspector-'));
		devServer = http.createServer((req, res) => {
			const body = zlib.gzipSync(JSON.stringify({ path: req.url, items: [1, 2, 3] }));
			res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
			res.end(body);
		});
		devPort = await listen(devServer);
		api = await vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID)!.activate();
		await vscode.workspace.getConfiguration('tlsLens').update('port', 0, vscode.ConfigurationTarget.Global);
		const url = await vscode.commands.executeCommand<string>('tlsLens.start', String(devPort));
		assert.match(url, /^https:\/\/localhost:\d+$/);
	});

	after(async () => {
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		await vscode.commands.executeCommand('tlsLens.stop');
		devServer.close();
		rmSync(work, { recursive: true, force: true });
	});

	it('opens from the command, and its webview completes the ready handshake', async () => {
		const handled: string[] = [];
		const sub = api.inspector.onDidHandleRequest((h) => handled.push(h.type));
		try {
			await vscode.commands.executeCommand('tlsLens.openInspector');
			await eventually('the ready handshake', () => api.inspector.ready);
			assert.ok(handled.includes('ready'), `handled: ${handled.join(', ')}`);
			const described = await api.inspector.describeWebview();
			assert.equal(described.rows, 0);
		} finally {
			sub.dispose();
		}
	});

	it('shows a request made through the proxy as a new row', async () => {
		const session = api.controller.session!;
		assert.equal(await get(`${session.url}/inspector/first?x=1`, session.ca.ca.certPem), 200);
		const exchange = await eventually('the exchange in the store', () => session.store!.list().find((e) => e.request?.path === '/inspector/first?x=1' && e.state === 'completed'));
		const described = await eventually('the row in the webview', async () => {
			const d = await api.inspector.describeWebview();
			return d.lastIds.includes(exchange.id) ? d : undefined;
		});
		assert.equal(described.rows, 1);
	});

	it('answers a selection with the exchange details', async () => {
		const session = api.controller.session!;
		const exchange = session.store!.list().find((e) => e.request?.path === '/inspector/first?x=1')!;
		const details = await api.inspector.select(exchange.id) as { url: string; response?: { statusCode: number; headers: Array<[string, string]> }; phases: Array<{ name: string }> };
		assert.equal(details.url, `https://localhost:${session.port}/inspector/first?x=1`);
		assert.equal(details.response?.statusCode, 200);
		assert.ok(details.response?.headers.some(([name, value]) => name.toLowerCase() === 'content-encoding' && value === 'gzip'));
		assert.ok(details.phases.some((p) => p.name === 'wait'), JSON.stringify(details.phases));
		const described = await api.inspector.describeWebview();
		assert.equal(described.selected, exchange.id);
	});

	it('exports a valid HAR, of everything or of what a filter shows', async () => {
		const session = api.controller.session!;
		await get(`${session.url}/inspector/second`, session.ca.ca.certPem, { authorization: 'Bearer integration-token', cookie: 'sid=integration-cookie' });
		await eventually('two completed exchanges', () => session.store!.list().filter((e) => e.state === 'completed').length >= 2 || undefined);
		const all = path.join(work, 'all.har');
		assert.equal(await api.inspector.exportHar(vscode.Uri.file(all)), all);
		const har = JSON.parse(readFileSync(all, 'utf8')) as { log: { version: string; creator: { name: string }; entries: Array<{ request: { url: string }; response: { status: number; content: { text?: string; mimeType: string } } }> } };
		assert.equal(har.log.version, '1.2');
		assert.equal(har.log.creator.name, 'TLS Lens');
		assert.equal(har.log.entries.length, 2);
		const first = har.log.entries.find((e) => e.request.url.endsWith('/inspector/first?x=1'))!;
		assert.equal(first.response.status, 200);
		// Decoded from gzip, as text.
		assert.deepEqual(JSON.parse(first.response.content.text!), { path: '/inspector/first?x=1', items: [1, 2, 3] });
		const filtered = path.join(work, 'filtered.har');
		await api.inspector.exportHar(vscode.Uri.file(filtered), { filter: 'second' });
		const only = JSON.parse(readFileSync(filtered, 'utf8')) as { log: { entries: Array<{ request: { url: string } }> } };
		assert.deepEqual(only.log.entries.map((e) => new URL(e.request.url).pathname), ['/inspector/second']);
		// Sanitized unless asked: the token and cookie are in neither export, and are in a sensitive one.
		for (const file of [all, filtered]) {
			const text = readFileSync(file, 'utf8');
			assert.ok(!text.includes('integration-token') && !text.includes('integration-cookie'), file);
			assert.match(text, /Bearer \[redacted\]/);
		}
		const sensitive = path.join(work, 'sensitive.har');
		await api.inspector.exportHar(vscode.Uri.file(sensitive), { filter: 'second', includeSensitive: true });
		assert.match(readFileSync(sensitive, 'utf8'), /Bearer integration-token/);
	});

	it('keeps the capture after Stop: the rows, their details and the export, until the next start', async () => {
		const session = api.controller.session!;
		await get(`${session.url}/before-stop`, session.ca.ca.certPem);
		const exchange = await eventually('the exchange', () => session.store!.list().find((e) => e.request?.path === '/before-stop' && e.state === 'completed'));
		await eventually('its row', async () => (await api.inspector.describeWebview()).lastIds.includes(exchange.id) || undefined);
		const kept = session.store!;
		await vscode.commands.executeCommand('tlsLens.stop');
		assert.equal(api.controller.session, undefined);
		assert.equal(api.controller.capture, kept, 'the stopped session\'s store');
		const details = await api.inspector.select(exchange.id) as { url: string } | undefined;
		assert.match(details?.url ?? '', /\/before-stop$/);
		assert.ok((await api.inspector.describeWebview()).lastIds.includes(exchange.id), 'the row stays');
		const file = path.join(work, 'after-stop.har');
		assert.equal(await api.inspector.exportHar(vscode.Uri.file(file), { filter: 'before-stop' }), file);
		assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { log: { entries: unknown[] } }).log.entries.length, 1);
		// Starting again begins a new capture and lets the old one go.
		await vscode.commands.executeCommand('tlsLens.start', String(devPort));
		assert.notEqual(api.controller.capture, kept);
		assert.equal(kept.list().length, 0, 'disposed');
	});

	it('follows a restarted proxy: the new session starts with an empty list', async () => {
		await vscode.commands.executeCommand('tlsLens.start', String(devPort));
		const session = api.controller.session!;
		await eventually('the list reset', async () => (await api.inspector.describeWebview()).rows === 0 || undefined);
		await get(`${session.url}/after-restart`, session.ca.ca.certPem);
		const exchange = await eventually('the new exchange', () => session.store!.list().find((e) => e.request?.path === '/after-restart'));
		await eventually('its row', async () => (await api.inspector.describeWebview()).lastIds.includes(exchange.id) || undefined);
	});
});
