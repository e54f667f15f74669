// Trust in a real extension host. The offline test VS Code is VS Code for the Web served from 127.0.0.1
// (vscode.env.remoteName is '127.0.0.1:PORT'): its browser runs on this machine, so Trust Local CA…
// takes the local flow there, on a temporary NSS database (`stores`) instead of this machine's stores.
// The remote flow (a browser elsewhere) runs with `forceRemote`. Prompts are replaced through the
// API's hooks: a modal would block the host.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrustAction, TrustPlan } from '../../src/core/trust';
import type { TlsLensApi } from '../../src/extension';
import type { TrustUiHooks } from '../../src/vscode/trustUi';

const EXTENSION_ID = 'tls-lens.tls-lens';

function certutilList(dir: string): string {
	return execFileSync('certutil', ['-L', '-d', `sql:${dir}`], { encoding: 'utf8' });
}

function hashDir(dir: string): string {
	const hash = createHash('sha256');
	for (const name of readdirSync(dir).sort()) { hash.update(name).update(readFileSync(path.join(dir, name))); }
	return hash.digest('hex');
}

/** Runs `script` in a new integrated terminal (sh) and returns what it wrote to a file. */
async function inNewTerminal(script: (out: string) => string, scratch: string): Promise<string> {
	const out = path.join(scratch, `terminal-${Date.now()}.txt`);
	const terminal = vscode.window.createTerminal({ name: 'tls-lens trust test', shellPath: '/bin/sh', shellArgs: ['-c', `${script(out)}; sleep 0.2`] });
	let closed = '';
	const sub = vscode.window.onDidCloseTerminal((t) => { if (t === terminal) { closed = JSON.stringify(t.exitStatus); } });
	const pid = await Promise.race([terminal.processId, new Promise((resolve) => setTimeout(() => resolve('no pid after 5 s'), 5000))]);
	try {
		const deadline = Date.now() + 15_000;
		while (Date.now() < deadline) {
			if (existsSync(out)) {
				await new Promise((resolve) => setTimeout(resolve, 100));
				return readFileSync(out, 'utf8');
			}
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		throw new Error(`the terminal did not write its output (pid ${pid}, closed ${closed || 'no'}, trusted ${vscode.workspace.isTrusted}, terminals ${vscode.window.terminals.length}, state ${JSON.stringify(terminal.state)})`);
	} finally {
		sub.dispose();
		terminal.dispose();
	}
}

describe('Trust: consent, stores, NODE_EXTRA_CA_CERTS, remote', () => {
	let api: TlsLensApi;
	let scratch: string;
	let nssDir: string;
	let devServer: http.Server;
	let devPort: number;
	let consentAnswer = false;
	const consents: Array<{ plans: readonly TrustPlan[]; action: TrustAction; extra: readonly string[] }> = [];
	const saved: string[] = [];
	const markdown: string[] = [];
	const notes: string[] = [];
	let storesAsked = 0;
	/** NODE_EXTRA_CA_CERTS in a terminal before TLS Lens sets it (this machine sets one for its egress CA). */
	let baseline: string;

	before(async () => {
		api = await vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID)!.activate();
		scratch = mkdtempSync(path.join(tmpdir(), 'tls-lens-trust-it-'));
		nssDir = path.join(scratch, 'home/.pki/nssdb');
		mkdirSync(nssDir, { recursive: true });
		execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
		const hooks: TrustUiHooks = {
			...api.trust.hooks,
			consent: async (plans, action, extra) => { consents.push({ plans, action, extra }); return consentAnswer; },
			openTerminal: (name, command) => { notes.push(`terminal ${name}: ${command}`); },
			chooseRemote: async () => 'save',
			saveCertificateLocally: async (pem) => { saved.push(pem); },
			showMarkdown: async (text) => { markdown.push(text); },
			showDoctor: async () => undefined,
			notify: (message) => { notes.push(message); },
		};
		api.trust.hooks = hooks;
		// The test folder is untrusted (Restricted Mode): VS Code would hold every terminal back for a
		// trust prompt this headless host never shows. This user setting lets terminals start anyway.
		await vscode.workspace.getConfiguration('terminal.integrated').update('allowInUntrustedWorkspace', true, vscode.ConfigurationTarget.Global);
		devServer = http.createServer((_req, res) => res.end('hello from the dev server'));
		await new Promise<void>((resolve) => devServer.listen(0, '127.0.0.1', resolve));
		devPort = (devServer.address() as AddressInfo).port;
	});

	after(async () => {
		api.trust.options.forceLocal = false;
		api.trust.options.forceRemote = undefined;
		api.trust.options.stores = undefined;
		await vscode.commands.executeCommand('tlsLens.stop');
		await vscode.workspace.getConfiguration('terminal.integrated').update('allowInUntrustedWorkspace', undefined, vscode.ConfigurationTarget.Global);
		devServer?.close();
		rmSync(scratch, { recursive: true, force: true });
	});

	it('a remote window (forced: a browser on another machine): offers the certificate for the local machine and changes no store', async () => {
		api.trust.options.forceRemote = 'ssh-remote';
		api.trust.options.stores = async () => { storesAsked++; return []; };
		const outcome = await vscode.commands.executeCommand<{ mode: string; remoteChoice: string; nodeExtraCaCerts?: string }>('tlsLens.trustCa');
		api.trust.options.forceRemote = undefined;
		assert.equal(outcome.mode, 'remote');
		assert.equal(outcome.remoteChoice, 'save');
		assert.equal(storesAsked, 0, 'no store was even looked at');
		assert.equal(consents.length, 0);
		assert.equal(saved.length, 1);
		const fingerprint = new X509Certificate(saved[0]).fingerprint256;
		assert.match(markdown.at(-1)!, new RegExp(`Trust the TLS Lens CA on your local machine[\\s\\S]*${fingerprint}[\\s\\S]*certutil -user -addstore Root`));
		assert.equal(outcome.nodeExtraCaCerts, undefined);
	});

	describe('this test VS Code (served from 127.0.0.1) is local: trust here, on a temporary NSS database', () => {
		before(() => {
			api.trust.options.stores = async () => {
				// eslint-disable-next-line @typescript-eslint/no-require-imports -- the engine bundle the extension itself loads
				const { trust } = require(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist/core.js')) as typeof import('../../src/core');
				const env = trust.systemEnvironment({ home: path.join(scratch, 'home') });
				return (await trust.findNssDatabases(env.home)).map((db) => new trust.NssStore(env, db));
			};
		});

		it('declining the consent modal changes nothing: database bytes, listing, terminal variable', async () => {
			const before = hashDir(nssDir);
			consentAnswer = false;
			consents.length = 0;
			assert.ok(vscode.env.remoteName, 'VS Code for the Web has a remote authority: 127.0.0.1:PORT');
			assert.equal(vscode.env.uiKind, vscode.UIKind.Web);
			const outcome = await vscode.commands.executeCommand<{ mode: string; report: { consented: boolean } }>('tlsLens.trustCa');
			assert.equal(outcome.mode, 'local', 'the browser is on this machine: no "remote host" flow');
			assert.equal(outcome.report.consented, false);
			assert.equal(consents.length, 1);
			const [asked] = consents;
			assert.equal(asked.plans.length, 1);
			assert.deepEqual(asked.plans[0].commands[0].argv.slice(0, 4), ['certutil', '-A', '-d', `sql:${nssDir}`]);
			assert.match(asked.extra[0], /^Integrated terminals and Node debug sessions: NODE_EXTRA_CA_CERTS=/);
			assert.equal(hashDir(nssDir), before);
			assert.doesNotMatch(certutilList(nssDir), /TLS Lens CA/);
			assert.equal(api.trust.nodeExtraCaCerts, undefined);
			assert.equal(await api.trust.refreshTrusted(), false, 'nothing trusted: Remove CA Trust is not offered');
			baseline = await inNewTerminal((out) => `printf '%s' "\${NODE_EXTRA_CA_CERTS-unset}" > ${out}`, scratch);
		});

		it('accepting installs into the database and sets NODE_EXTRA_CA_CERTS: a new terminal sees it, and Node there fetches through the proxy', async () => {
			const url = await vscode.commands.executeCommand<string>('tlsLens.start', String(devPort));
			const certPath = api.controller.session!.ca.certPath;
			consentAnswer = true;
			const outcome = await vscode.commands.executeCommand<{ report: { changes: Array<{ outcome: string }> }; nodeExtraCaCerts: string }>('tlsLens.trustCa');
			assert.deepEqual(outcome.report.changes.map((c) => c.outcome), ['done']);
			assert.match(certutilList(nssDir), /^TLS Lens CA [0-9a-f]{16}\s+C,,/m);
			// Our CA file, or (when the environment already names a CA file, as on this machine) a bundle of both.
			const value = outcome.nodeExtraCaCerts;
			assert.ok(value === certPath || readFileSync(value, 'utf8').includes(api.controller.session!.ca.ca.certPem.trim()), value);
			if (baseline !== 'unset') { assert.ok(readFileSync(value, 'utf8').startsWith(readFileSync(baseline, 'utf8').trimEnd()), 'keeps the CA file that was there'); }
			assert.equal(api.trust.nodeExtraCaCerts, value);
			assert.equal(await api.trust.refreshTrusted(), true, 'Remove CA Trust is offered');
			await new Promise((resolve) => setTimeout(resolve, 500)); // the collection reaches the terminal service asynchronously
			assert.equal(await inNewTerminal((out) => `printf '%s' "$NODE_EXTRA_CA_CERTS" > ${out}`, scratch), value);
			const fetched = await inNewTerminal((out) => `node -e "fetch('${url}/').then((r) => r.text(), (e) => 'ERR ' + (e.cause && e.cause.code)).then((t) => require('fs').writeFileSync('${out}', t))"`, scratch);
			assert.equal(fetched, 'hello from the dev server');
			// Node debug sessions get the same variable unless their launch config sets it.
			assert.deepEqual(api.trust.resolveNodeDebugConfiguration({ type: 'pwa-node', request: 'launch', name: 'x' }).env, { NODE_EXTRA_CA_CERTS: value });
			assert.deepEqual(api.trust.resolveNodeDebugConfiguration({ type: 'node', request: 'launch', name: 'x', env: { NODE_EXTRA_CA_CERTS: '/mine.pem' } }).env, { NODE_EXTRA_CA_CERTS: '/mine.pem' });
		});

		it('Trust Doctor reports the store as trusted and Node as set up', async () => {
			const checks = await vscode.commands.executeCommand<Array<{ id: string; level: string }>>('tlsLens.trustDoctor');
			assert.equal(checks.find((c) => c.id === `store:nss:${nssDir}`)?.level, 'ok');
			assert.equal(checks.find((c) => c.id === 'node:extra-ca-certs')?.level, 'ok');
			assert.equal(checks.find((c) => c.id === 'leaf:validates')?.level, 'ok');
		});

		it('Remove CA Trust removes our nickname and the variable; a new terminal is back to what it had before', async () => {
			consents.length = 0;
			const outcome = await vscode.commands.executeCommand<{ report: { changes: Array<{ outcome: string }> }; nodeExtraCaCerts?: string }>('tlsLens.untrustCa');
			assert.equal(consents.length, 1);
			assert.match(consents[0].extra[0], /remove NODE_EXTRA_CA_CERTS/);
			assert.deepEqual(outcome.report.changes.map((c) => c.outcome), ['done']);
			assert.doesNotMatch(certutilList(nssDir), /TLS Lens CA/);
			assert.equal(outcome.nodeExtraCaCerts, undefined);
			assert.equal(await api.trust.refreshTrusted(), false, 'nothing left to remove: not offered again');
			await new Promise((resolve) => setTimeout(resolve, 500));
			assert.equal(await inNewTerminal((out) => `printf '%s' "\${NODE_EXTRA_CA_CERTS-unset}" > ${out}`, scratch), baseline, 'back to what it was before');
		});
	});
});
