// The inspector's Trust view in a real extension host: the webview asks for the Trust Doctor's report
// over the protocol, and a fix it asks for runs through TrustUi (the command's code path, consent
// included). Local mode is forced on a temporary NSS database, as in trust.test.ts; prompts are hooks.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

describe('Inspector Trust view: the doctor over the webview protocol', () => {
	let api: TlsLensApi;
	let scratch: string;
	let nssDir: string;
	let originalHooks: TrustUiHooks;
	let consentAnswer = false;
	const consents: Array<{ plans: readonly TrustPlan[]; action: TrustAction; extra: readonly string[] }> = [];
	const handled: string[] = [];
	let sub: vscode.Disposable | undefined;

	before(async () => {
		api = await vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID)!.activate();
		scratch = mkdtempSync(path.join(tmpdir(), 'tls-lens-inspector-trust-'));
		nssDir = path.join(scratch, 'home/.pki/nssdb');
		mkdirSync(nssDir, { recursive: true });
		execFileSync('certutil', ['-N', '-d', `sql:${nssDir}`, '--empty-password']);
		originalHooks = api.trust.hooks;
		api.trust.hooks = {
			...originalHooks,
			consent: async (plans, action, extra) => { consents.push({ plans, action, extra }); return consentAnswer; },
			openTerminal: () => undefined,
			notify: () => undefined,
		};
		api.trust.options.forceLocal = true;
		api.trust.options.stores = async () => {
			// eslint-disable-next-line @typescript-eslint/no-require-imports -- the engine bundle the extension itself loads
			const { trust } = require(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist/core.js')) as typeof import('../../src/core');
			const env = trust.systemEnvironment({ home: path.join(scratch, 'home') });
			return (await trust.findNssDatabases(env.home)).map((db) => new trust.NssStore(env, db));
		};
		sub = api.inspector.onDidHandleRequest((h) => handled.push(h.type));
		await api.inspector.open();
	});

	after(async () => {
		sub?.dispose();
		// Take out what the fix added (database entry and terminal variable), as the user would.
		consentAnswer = true;
		await api.trust.untrust();
		api.trust.hooks = originalHooks;
		api.trust.options.forceLocal = false;
		api.trust.options.stores = undefined;
		await vscode.commands.executeCommand('workbench.action.closeAllEditors');
		rmSync(scratch, { recursive: true, force: true });
	});

	it('the Trust view asks for the report and gets every check, as text, with no fix arguments', async () => {
		const report = await api.inspector.showTrust();
		assert.ok(handled.includes('trustReport'));
		assert.equal(report.error, undefined);
		assert.match(report.ca?.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
		const store = report.checks.find((c) => c.id === `store:nss:${nssDir}`);
		assert.equal(store?.level, 'error', JSON.stringify(report.checks));
		assert.deepEqual(store?.fix, { label: 'Trust the CA here…' });
		assert.equal(report.checks.find((c) => c.id === 'leaf:validates')?.level, 'ok');
		assert.ok(report.checks.some((c) => c.id === 'ca:expiry'));
		assert.ok(report.checks.some((c) => c.id === 'node:extra-ca-certs'));
		for (const check of report.checks) {
			assert.deepEqual(Object.keys(check).filter((k) => !['id', 'group', 'level', 'title', 'detail', 'fix'].includes(k)), []);
			if (check.fix) { assert.deepEqual(Object.keys(check.fix), ['label'], 'the fix argument stays on the host'); }
		}
		assert.equal((await api.inspector.describeWebview()).mainView, 'trust');
	});

	it('a fix from the view runs through TrustUi: declining its consent modal changes nothing', async () => {
		consentAnswer = false;
		consents.length = 0;
		const result = await api.inspector.applyTrustFix(`store:nss:${nssDir}`);
		assert.equal(result.error, undefined);
		assert.equal(consents.length, 1, 'the same consent modal as the command');
		assert.equal(consents[0].action, 'install');
		assert.deepEqual(consents[0].plans.map((p) => p.commands[0].argv.slice(0, 4)), [['certutil', '-A', '-d', `sql:${nssDir}`]]);
		assert.doesNotMatch(certutilList(nssDir), /TLS Lens CA/);
		assert.equal(result.report.checks.find((c) => c.id === `store:nss:${nssDir}`)?.level, 'error');
	});

	it('accepting it installs the CA, and the report that comes back says so', async () => {
		consentAnswer = true;
		consents.length = 0;
		const result = await api.inspector.applyTrustFix(`store:nss:${nssDir}`);
		assert.equal(result.applied, true);
		assert.equal(consents.length, 1);
		assert.match(certutilList(nssDir), /^TLS Lens CA [0-9a-f]{16}\s+C,,/m);
		const store = result.report.checks.find((c) => c.id === `store:nss:${nssDir}`);
		assert.equal(store?.level, 'ok');
		assert.equal(store?.fix, undefined);
	});

	it('a check without a fix, or an unknown one, changes nothing and still answers with the report', async () => {
		consents.length = 0;
		for (const id of ['leaf:validates', 'no-such-check']) {
			const result = await api.inspector.applyTrustFix(id);
			assert.equal(result.applied, false);
			assert.ok(result.report.checks.length > 0);
		}
		assert.equal(consents.length, 0);
	});
});
