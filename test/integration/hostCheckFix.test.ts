import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostCheckRefusal } from '../../src/core/devServers/hostCheck';
import type { TlsLensApi } from '../../src/extension';
import { applyInRefactorPreview } from './refactorPreview';

const EXTENSION_ID = 'tls-lens.tls-lens';

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** GET https://app.test:PORT/ through the proxy (SNI and Host app.test): the status and body. */
function getAppTest(port: number, ca: string): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		https.get({ host: '127.0.0.1', port, path: '/', servername: 'app.test', headers: { host: `app.test:${port}` }, ca }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => { body += chunk; });
			res.on('end', () => resolve({ status: res.statusCode!, body }));
		}).on('error', reject);
	});
}

/** Removes tlsLens.rewriteHost wherever the fix may have put it (the workspace's, or the user's when the workspace is untrusted). */
async function clearRewriteHost(): Promise<void> {
	const config = vscode.workspace.getConfiguration('tlsLens');
	if (config.inspect('rewriteHost')?.workspaceValue !== undefined) await config.update('rewriteHost', undefined, vscode.ConfigurationTarget.Workspace);
	if (config.inspect('rewriteHost')?.globalValue !== undefined) await config.update('rewriteHost', undefined, vscode.ConfigurationTarget.Global);
}

async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

// A real Vite behind the proxy on app.test, in a real VS Code extension host (issue 13, item 4): its
// host check refuses the name, the extension says so once, and either fix makes the page load.
describe("a dev server's host check on app.test, in a real VS Code extension host", function () {
	this.timeout(90_000);
	let api: TlsLensApi;
	let dir: string;
	let vite: ChildProcess;
	let vitePort: number;
	let viteOutput = '';

	before(async () => {
		const extension = vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID)!;
		api = await extension.activate();
		dir = path.join(mkdtempSync(path.join(tmpdir(), 'tls-lens-host-check-')), 'app');
		cpSync(path.join(extension.extensionPath, 'test/fixtures/viteApp'), dir, { recursive: true });
		symlinkSync(path.join(extension.extensionPath, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
		vitePort = await freePort();
		vite = spawn(process.execPath, [path.join(extension.extensionPath, 'node_modules/vite/bin/vite.js'), dir, '--port', String(vitePort), '--host', '127.0.0.1', '--strictPort'],
			{ cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
		vite.stdout!.on('data', (chunk) => { viteOutput += chunk; });
		vite.stderr!.on('data', (chunk) => { viteOutput += chunk; });
		await until(() => viteOutput.includes(`127.0.0.1:${vitePort}`) || undefined, `Vite's ready line:\n${viteOutput}`);
	});

	after(async () => {
		await vscode.commands.executeCommand('tlsLens.stop');
		await clearRewriteHost();
		vite?.kill('SIGTERM');
		rmSync(path.dirname(dir), { recursive: true, force: true });
	});

	let refusal: HostCheckRefusal;

	it('Vite refuses app.test with 403; the controller reports it once, and the row carries the note', async () => {
		await vscode.commands.executeCommand('tlsLens.start', String(vitePort));
		const session = api.controller.session!;
		const seen: HostCheckRefusal[] = [];
		const sub = api.controller.onDidDetectHostCheck((event) => seen.push(event.refusal));
		try {
			for (let i = 0; i < 2; i++) {
				const { status, body } = await getAppTest(session.port, session.ca.ca.certPem);
				assert.equal(status, 403);
				assert.match(body, /This host \("app\.test"\) is not allowed/);
			}
			await until(() => seen.length > 0 || undefined, 'the refusal');
			await new Promise((resolve) => setTimeout(resolve, 300));
			assert.deepEqual(seen.map((r) => [r.server, r.host, r.setting, r.rewriteHostFixes]), [['vite', 'app.test', 'server.allowedHosts', true]]);
			refusal = seen[0];
			await until(() => session.store!.list().filter((exchange) => exchange.note === refusal.message).length === 2 || undefined, 'the note on both rows');
		} finally { sub.dispose(); }
	});

	it('Send Host: localhost turns on tlsLens.rewriteHost; the proxy restarts and the page loads on app.test', async () => {
		const before = api.controller.session;
		await api.hostCheckFix.sendOwnHost(refusal);
		assert.equal(vscode.workspace.getConfiguration('tlsLens').get('rewriteHost'), true);
		const session = await until(() => api.controller.session !== before ? api.controller.session : undefined, 'the restarted proxy');
		assert.equal((await getAppTest(session.port, session.ca.ca.certPem)).status, 200);
		await clearRewriteHost();
		await until(() => api.controller.session !== session ? api.controller.session : undefined, 'the proxy restarted without rewriteHost');
	});

	it('Fix vite.config… edits server.allowedHosts through the Refactor Preview; Vite restarts itself and the page loads on app.test', async () => {
		const uri = vscode.Uri.file(path.join(dir, 'vite.config.mjs'));
		const planned = api.hostCheckFix.buildEdit(refusal, await vscode.workspace.openTextDocument(uri));
		assert.equal(planned.kind, 'edit');
		if (planned.kind !== 'edit') return;
		assert.equal(planned.metadata.needsConfirmation, true);
		assert.equal(planned.metadata.label, 'Let Vite serve app.test through TLS Lens');
		assert.equal(planned.metadata.description, "server: { allowedHosts: ['app.test'] }");
		const outcome = await applyInRefactorPreview(() => api.hostCheckFix.fix(refusal, uri));
		assert.equal(outcome, 'applied');
		assert.match(readFileSync(uri.fsPath, 'utf8'), /server: \{ strictPort: true, allowedHosts: \['app\.test'\] \}/);
		await until(() => /server restarted/i.test(viteOutput) || undefined, "Vite's restart");
		const session = api.controller.session!;
		const { status, body } = await until(async () => {
			const answer = await getAppTest(session.port, session.ca.ca.certPem);
			return answer.status === 200 ? answer : undefined;
		}, 'the page on app.test');
		assert.equal(status, 200);
		assert.match(body, /<title>TLS Lens demo<\/title>/);
		assert.equal(api.hostCheckFix.buildEdit(refusal, await vscode.workspace.openTextDocument(uri)).kind, 'unchanged', 'a second fix changes nothing');
	});
});
