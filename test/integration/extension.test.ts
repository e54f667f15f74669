import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TlsLensApi } from '../../src/extension';
import { report } from './report';

const EXTENSION_ID = 'tls-lens.tls-lens';

/** Errors that escaped to the extension host while a test ran: there must be none. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);

function listen(server: net.Server, port = 0): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
	});
}

/** GET through the proxy, trusting only our CA (as a browser that trusts it would). */
function get(url: string, ca: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca, headers: { accept: 'application/json' } }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => { body += chunk; });
			res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
		}).on('error', reject);
	});
}

function portIsFree(port: number): Promise<boolean> {
	const probe = net.createServer();
	return listen(probe, port).then(() => new Promise((resolve) => probe.close(() => resolve(true))), () => false);
}

async function waitForState(api: TlsLensApi, kind: string): Promise<void> {
	if (api.controller.state.kind === kind) { return; }
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => { sub.dispose(); reject(new Error(`state stayed ${api.controller.state.kind}, wanted ${kind}`)); }, 15_000);
		const sub = api.controller.onDidChangeState((state) => {
			if (state.kind === kind) { clearTimeout(timer); sub.dispose(); resolve(); }
		});
	});
}

describe('TLS Lens in a real VS Code extension host', () => {
	let api: TlsLensApi;
	let devServer: http.Server;
	let devPort: number;

	before(async () => {
		process.on('uncaughtException', onEscape);
		process.on('unhandledRejection', onEscape);
		devServer = http.createServer((req, res) => {
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify({ path: req.url, host: req.headers.host, proto: req.headers['x-forwarded-proto'] }));
		});
		devPort = await listen(devServer);
		const config = vscode.workspace.getConfiguration('tlsLens');
		await config.update('port', 0, vscode.ConfigurationTarget.Global);
		await config.update('target', '', vscode.ConfigurationTarget.Global);
	});

	after(async () => {
		await vscode.commands.executeCommand('tlsLens.stop');
		devServer.close();
		process.off('uncaughtException', onEscape);
		process.off('unhandledRejection', onEscape);
	});

	it('activates, quickly, and registers every command it contributes', async () => {
		const extension = vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID);
		assert.ok(extension, `${EXTENSION_ID} is installed`);
		api = await extension.activate();
		assert.ok(api.controller, 'activate returns the API');
		report(`activation took ${api.activationMs.toFixed(1)} ms (module evaluation included)`);
		const contributed = (extension.packageJSON.contributes.commands as Array<{ command: string }>).map((c) => c.command);
		const registered = await vscode.commands.getCommands(true);
		for (const command of contributed) { assert.ok(registered.includes(command), `${command} is registered`); }
		assert.equal(api.controller.state.kind, 'stopped');
	});

	it('Start with a target serves HTTPS that a client trusting only our CA can fetch through', async () => {
		const url = await vscode.commands.executeCommand<string>('tlsLens.start', String(devPort));
		assert.match(url, /^https:\/\/localhost:\d+$/);
		const session = api.controller.session!;
		const response = await get(`${url}/hello?x=1`, session.ca.ca.certPem);
		assert.equal(response.status, 200);
		assert.deepEqual(JSON.parse(response.body), { path: '/hello?x=1', host: `localhost:${session.port}`, proto: 'https' });
		// This test VS Code is served from 127.0.0.1: the browser is on this machine, so the proxy's own URL
		// is the link, not the plain-HTTP /proxy/PORT/ that asExternalUri maps it to.
		const external = (await vscode.env.asExternalUri(vscode.Uri.parse(url))).toString(true);
		assert.match(external, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/proxy/${session.port}/`), 'what VS Code would hand out');
		const copied = await vscode.commands.executeCommand<string>('tlsLens.copyUrl');
		assert.equal(copied, url);
		assert.equal(await vscode.env.clipboard.readText(), url);
		// Its opener maps localhost and 127.0.0.1 through /proxy/ too, so Open uses the other loopback.
		const opened = await vscode.commands.executeCommand<string>('tlsLens.openInBrowser');
		assert.ok(opened === `https://[::1]:${session.port}` || (opened === undefined && !session.urls.includes(`https://[::1]:${session.port}`)), String(opened));
	});

	it('Stop frees the port at once', async () => {
		const port = api.controller.session!.port;
		await vscode.commands.executeCommand('tlsLens.stop');
		assert.equal(api.controller.state.kind, 'stopped');
		assert.equal(await portIsFree(port), true);
	});

	it('restarts a running proxy when a setting that needs it changes', async () => {
		await vscode.commands.executeCommand('tlsLens.start', String(devPort));
		const before = api.controller.session!;
		const fixedPort = await new Promise<number>((resolve) => { const s = net.createServer(); listen(s).then((p) => s.close(() => resolve(p))); });
		const restarted = new Promise<void>((resolve) => {
			const sub = api.controller.onDidChangeState((state) => {
				if (state.kind === 'running' && state.session !== before) { sub.dispose(); resolve(); }
			});
		});
		await vscode.workspace.getConfiguration('tlsLens').update('port', fixedPort, vscode.ConfigurationTarget.Global);
		await restarted;
		assert.equal(api.controller.session!.port, fixedPort);
		assert.equal(await portIsFree(before.port), true, 'the old port was released');
		const response = await get(`${api.controller.session!.url}/after`, api.controller.session!.ca.ca.certPem);
		assert.equal(response.status, 200);
		await vscode.workspace.getConfiguration('tlsLens').update('port', 0, vscode.ConfigurationTarget.Global);
		await waitForState(api, 'running');
	});

	it('answers 502 for a dead target, and nothing escapes to the extension host', async () => {
		const dead = net.createServer();
		const deadPort = await listen(dead);
		await new Promise((resolve) => dead.close(resolve));
		await vscode.commands.executeCommand('tlsLens.start', String(deadPort));
		const session = api.controller.session!;
		const response = await get(`${session.url}/`, session.ca.ca.certPem);
		assert.equal(response.status, 502);
		assert.match(response.body, new RegExp(String(deadPort)));
		// A client that vanishes mid-request must not hurt either.
		await new Promise<void>((resolve) => {
			const req = https.get(`${session.url}/slow`, { ca: session.ca.ca.certPem });
			req.on('error', () => resolve());
			req.on('socket', (socket) => socket.on('secureConnect', () => { req.destroy(); }));
		});
		await new Promise((resolve) => setTimeout(resolve, 200));
		assert.deepEqual(escaped, []);
		assert.equal(api.controller.state.kind, 'running');
	});

	it('shows an error state with the reason when the port is taken', async () => {
		const blocker = net.createServer();
		const taken = await listen(blocker);
		try {
			await vscode.workspace.getConfiguration('tlsLens').update('port', taken, vscode.ConfigurationTarget.Global);
			await waitForState(api, 'error');
			const state = api.controller.state;
			assert.ok(state.kind === 'error' && /in use/i.test(state.message), JSON.stringify(state));
		} finally {
			blocker.close();
			await vscode.workspace.getConfiguration('tlsLens').update('port', 0, vscode.ConfigurationTarget.Global);
		}
	});

	it('deactivate stops the proxy and frees the port', async () => {
		await vscode.commands.executeCommand('tlsLens.start', String(devPort));
		const port = api.controller.session!.port;
		const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
		// The host loaded this very module; calling its deactivate is what VS Code does on shutdown.
		// eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's own module instance, not a copy
		const main = require(path.join(extension.extensionPath, 'dist/extension.js')) as { deactivate(): Promise<void> };
		await main.deactivate();
		assert.equal(await portIsFree(port), true);
		assert.equal(api.controller.state.kind, 'stopped');
	});
});
