// The VS Code face of src/core/trust: "Trust Local CA…", "Remove CA Trust" and "Trust Doctor", the
// consent modal, NODE_EXTRA_CA_CERTS for terminals and Node debug sessions, and the remote case (a
// browser on another machine; VS Code for the Web served from loopback here is local).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type * as Engine from '../core';
import type { StoredCa } from '../core/certs';
import { DisposableStore } from '../core/events';
import type { Logger } from '../core/logger';
import type { CaIdentity, DoctorCheck, TrustAction, TrustChange, TrustPlan, TrustReport, TrustStore } from '../core/trust';
import { caLocation, readSettings } from './config';
import { ContextKey, SECTION } from './contributions';
import { loadEngine } from './engine';
import type { ProxyController } from './proxyController';
import { TRUST_GROUPS } from '../shared/trust';
import { placeWorkbench } from './workbench';

type TrustEngine = typeof Engine.trust;

export const NODE_EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS';

/** What the remote flow offers. */
export type RemoteChoice = 'save' | 'instructions' | 'node';

/**
 * Everything that asks the user or shows something. The defaults are VS Code's modals, terminals and
 * editors; the integration tests replace them (a modal would block the test host).
 */
export interface TrustUiHooks {
	/** The consent modal: every store, the exact commands, and the terminal variable. True only on "Trust"/"Remove". */
	consent(plans: readonly TrustPlan[], action: TrustAction, extra: readonly string[]): Promise<boolean>;
	/** A visible terminal with `command` typed in, not run: the user presses Enter (sudo asks for a password there). */
	openTerminal(name: string, command: string): void;
	/** Remote window: what to do instead of installing on the remote host. */
	chooseRemote(remoteName: string, ca: CaIdentity): Promise<RemoteChoice | undefined>;
	/** Remote window: save the PEM on the user's local machine. */
	saveCertificateLocally(pem: string): Promise<void>;
	/** Opens a markdown document (instructions, the doctor's report). */
	showMarkdown(markdown: string): Promise<void>;
	/** Shows the doctor's results; resolves to the check whose fix the user picked, if any. */
	showDoctor(checks: readonly DoctorCheck[]): Promise<DoctorCheck | 'report' | undefined>;
	/** One line of feedback (information message). */
	notify(message: string, level?: 'info' | 'warn' | 'error'): void;
}

/** Test and power-user overrides (set through the API that activate returns). */
export interface TrustUiOptions {
	/** Treat the window as local, wherever its browser runs. */
	forceLocal?: boolean;
	/** Treat the window as this remote (tests: the offline test VS Code on 127.0.0.1 is local otherwise). */
	forceRemote?: string;
	/** The stores to use instead of discovering this machine's (tests use a temporary NSS database). */
	stores?: () => Promise<TrustStore[]>;
}

/** What the trust commands return (for tests and for the inspector later). */
export interface TrustOutcome {
	readonly mode: 'local' | 'remote';
	readonly report?: TrustReport;
	readonly remoteChoice?: RemoteChoice;
	/** NODE_EXTRA_CA_CERTS in the environment collection afterwards. */
	readonly nodeExtraCaCerts: string | undefined;
}

export class TrustUi implements vscode.Disposable {
	readonly options: TrustUiOptions = {};
	hooks: TrustUiHooks;
	private readonly disposables = new DisposableStore();
	/** The latest checkup's results: what fixCheck looks a check id up in. */
	private lastChecks: DoctorCheck[] = [];
	/** When "Trust Local CA…" last changed a store: handshakes that failed before are history, not evidence. */
	private trustedAt = 0;

	constructor(
		private readonly context: vscode.ExtensionContext,
		private readonly logger: Logger,
		private readonly proxy: ProxyController,
	) {
		this.hooks = vscodeHooks(logger);
		const collection = context.environmentVariableCollection;
		collection.description = new vscode.MarkdownString('TLS Lens sets `NODE_EXTRA_CA_CERTS` to its local CA so that Node (`fetch`, `https`) in this terminal trusts `https://localhost` through the proxy. **TLS Lens: Remove CA Trust** removes it.');
		// Node's debugger: js-debug resolves 'node' launch configs as 'pwa-node'; both are covered.
		const provider: vscode.DebugConfigurationProvider = { resolveDebugConfiguration: (_folder, config) => this.resolveNodeDebugConfiguration(config) };
		this.disposables.add(
			vscode.debug.registerDebugConfigurationProvider('node', provider),
			vscode.debug.registerDebugConfigurationProvider('pwa-node', provider),
		);
	}

	/** The CA file NODE_EXTRA_CA_CERTS points at in new terminals, if set. */
	get nodeExtraCaCerts(): string | undefined {
		return this.context.environmentVariableCollection.get(NODE_EXTRA_CA_CERTS)?.value;
	}

	/**
	 * The remote the browser is away from, or undefined when it runs on this machine: a local window, or
	 * VS Code for the Web served from loopback here (code-server, `code serve-web`), where remoteName is
	 * set but the browser, and so its trust store, is on this machine.
	 */
	private async remoteName(): Promise<string | undefined> {
		if (this.options.forceLocal) { return undefined; }
		if (this.options.forceRemote) { return this.options.forceRemote; }
		const remote = vscode.env.remoteName;
		if (remote === undefined) { return undefined; }
		const placement = await placeWorkbench(this.logger, this.proxy.session?.port);
		return placement.place === 'local' ? undefined : remote;
	}

	/** "TLS Lens: Trust Local CA…": consent modal, then every store; remote windows get the local-machine flow. */
	async trust(onlyStoreId?: string): Promise<TrustOutcome> {
		const { stored, ca } = await this.openCa();
		const remote = await this.remoteName();
		if (remote) { return this.trustRemote(remote, stored, ca); }
		const trust = loadEngine().trust;
		const stores = (await this.stores(trust)).filter((store) => !onlyStoreId || store.id === onlyStoreId);
		const nodeValue = await this.nodeEnvValue(ca);
		const wantsNode = this.nodeExtraCaCerts !== nodeValue;
		const nodeLine = `Integrated terminals and Node debug sessions: NODE_EXTRA_CA_CERTS=${nodeValue}${nodeValue !== ca.certPath ? ` (your ${process.env[NODE_EXTRA_CA_CERTS]} plus the TLS Lens CA)` : ''}`;
		let askedForNode = false;
		const report = await trust.changeTrust(stores, ca, 'install', {
			consent: (plans, action) => {
				askedForNode = wantsNode;
				return this.hooks.consent(plans, action, wantsNode ? [nodeLine] : []);
			},
		});
		if (!report.consented) {
			this.logger.info('Trust: declined in the consent dialog; nothing changed.');
			return { mode: 'local', report, nodeExtraCaCerts: this.nodeExtraCaCerts };
		}
		if (wantsNode && (askedForNode || await this.hooks.consent([], 'install', [nodeLine]))) {
			await this.setNodeEnv(ca);
		}
		if (report.changes.some((change) => change.outcome === 'done')) { this.trustedAt = Date.now(); }
		this.reportChanges(report, 'install');
		await this.refreshTrusted();
		return { mode: 'local', report, nodeExtraCaCerts: this.nodeExtraCaCerts };
	}

	/** "TLS Lens: Remove CA Trust": removes exactly what TLS Lens added, from every store, and the terminal variable. */
	async untrust(): Promise<TrustOutcome> {
		const { ca } = await this.openCa();
		const hasNode = this.nodeExtraCaCerts !== undefined;
		const nodeLine = `Integrated terminals and Node debug sessions: remove NODE_EXTRA_CA_CERTS (${this.nodeExtraCaCerts})`;
		const remote = await this.remoteName();
		if (remote) {
			if (hasNode && await this.hooks.consent([], 'uninstall', [nodeLine])) { this.deleteNodeEnv(); }
			await this.refreshTrusted();
			this.hooks.notify(`TLS Lens changed no trust store on ${remote}. Remove the CA from your local machine's stores there (see "Trust Local CA…" → instructions).`);
			return { mode: 'remote', nodeExtraCaCerts: this.nodeExtraCaCerts };
		}
		const trust = loadEngine().trust;
		let askedForNode = false;
		const report = await trust.changeTrust(await this.stores(trust), ca, 'uninstall', {
			consent: (plans, action) => {
				askedForNode = hasNode;
				return this.hooks.consent(plans, action, hasNode ? [nodeLine] : []);
			},
		});
		if (!report.consented) {
			this.logger.info('Remove trust: declined in the consent dialog; nothing changed.');
			return { mode: 'local', report, nodeExtraCaCerts: this.nodeExtraCaCerts };
		}
		if (hasNode && (askedForNode || await this.hooks.consent([], 'uninstall', [nodeLine]))) {
			this.deleteNodeEnv();
		}
		this.reportChanges(report, 'uninstall');
		await this.refreshTrusted();
		return { mode: 'local', report, nodeExtraCaCerts: this.nodeExtraCaCerts };
	}

	/**
	 * Finds out whether anything TLS Lens added trusts its CA (a store entry of ours, or the terminal
	 * variable) and sets the context key that offers "Remove CA Trust" only then. Reads stores, changes
	 * nothing, and creates no CA: with none on disk nothing can trust it.
	 */
	async refreshTrusted(): Promise<boolean> {
		let trusted = this.nodeExtraCaCerts !== undefined;
		const location = this.proxy.session?.ca.dir ?? caLocation(readSettings(), this.context.globalStorageUri).dir;
		// The cheap answers first: on a machine without a CA, activation loads no engine and probes nothing.
		if (!trusted && existsSync(path.join(location, 'rootCA.pem')) && await this.remoteName() === undefined) {
			const { ca } = await this.openCa();
			for (const store of await this.stores(loadEngine().trust)) {
				if (!(await store.detect()).usable) { continue; }
				if ((await store.status(ca)).entries.some((entry) => entry.ours)) {
					trusted = true;
					break;
				}
			}
		}
		await vscode.commands.executeCommand('setContext', ContextKey.caTrusted, trusted);
		return trusted;
	}

	/** "TLS Lens: Trust Doctor": runs the checks, shows them, applies the fix the user picks. */
	async doctor(): Promise<DoctorCheck[]> {
		const { checks, ca } = await this.checkup();
		const picked = await this.hooks.showDoctor(checks);
		if (picked === 'report') {
			await this.hooks.showMarkdown(loadEngine().trust.doctorReport(checks, ca));
		} else if (picked?.fix) {
			await this.applyFix(picked);
		}
		return checks;
	}

	/** Runs the Trust Doctor's checks without showing them (the command and the inspector's Trust view). */
	async checkup(): Promise<{ checks: DoctorCheck[]; ca: CaIdentity }> {
		const { stored, ca } = await this.openCa();
		const trust = loadEngine().trust;
		const settings = readSettings();
		const { DEFAULT_LEAF_NAMES } = loadEngine();
		const remote = await this.remoteName();
		// The running proxy's capture is the evidence: a browser that rejected the CA sent an alert there.
		const captured = this.proxy.session?.store;
		const checks = await trust.runTrustDoctor({
			ca: stored.ca,
			identity: ca,
			names: [...DEFAULT_LEAF_NAMES, ...settings.extraHostnames],
			stores: remote ? [] : await this.stores(trust),
			env: trust.systemEnvironment(),
			remoteName: remote,
			listenHosts: settings.listenHost,
			keepHsts: settings.keepHsts,
			handshakeFailures: captured ? trust.handshakeFailures(captured.list(), Date.now(), this.trustedAt) : undefined,
		});
		checks.push(this.nodeCheck(await this.nodeEnvValue(ca)));
		this.lastChecks = checks;
		return { checks, ca };
	}

	/**
	 * Applies the fix of the check `checkId` as the latest checkup reported it (the inspector's Trust
	 * view names checks, never fixes or their arguments). False when that check has no fix.
	 */
	async fixCheck(checkId: string): Promise<boolean> {
		const check = this.lastChecks.find((c) => c.id === checkId) ?? (await this.checkup()).checks.find((c) => c.id === checkId);
		if (!check?.fix) { return false; }
		this.logger.info(`Trust Doctor: applying "${check.fix.label}" for ${check.id}.`);
		await this.applyFix(check);
		return true;
	}

	/** Applies a doctor check's one-click fix (asking first wherever something on disk changes). */
	async applyFix(check: DoctorCheck): Promise<void> {
		const fix = check.fix;
		if (!fix) { return; }
		const trust = loadEngine().trust;
		const config = vscode.workspace.getConfiguration(SECTION);
		switch (fix.id) {
			case 'trust.install':
				await this.trust(fix.arg);
				return;
			case 'nss.installCertutil':
				this.hooks.openTerminal('TLS Lens: install certutil', fix.arg);
				return;
			case 'nss.createChromiumDb': {
				const env = trust.systemEnvironment();
				const command = ['certutil', '-N', '-d', `sql:${fix.arg}`, '--empty-password'];
				if (!await this.hooks.consent([{ storeId: `nss:${fix.arg}`, storeLabel: `New Chromium database ${fix.arg}`, action: 'install', commands: [{ argv: command, privilege: 'direct', purpose: 'create the empty database Chromium would create on its first start' }] }], 'install', [])) { return; }
				await trust.createNssDatabase(env, fix.arg);
				await this.trust(`nss:${fix.arg}`);
				return;
			}
			case 'hsts.instructions':
				await vscode.env.clipboard.writeText('chrome://net-internals/#hsts');
				this.hooks.notify(`Copied chrome://net-internals/#hsts. Paste it into Chrome's address bar, type ${fix.arg} under "Delete domain security policies" and press Delete.`);
				return;
			case 'settings.keepHstsOff':
				await updateEverywhere(config, 'keepHsts', undefined);
				return;
			case 'settings.listenBoth':
				await config.update('listenHost', undefined, vscode.ConfigurationTarget.Global);
				return;
			case 'firefox.enterpriseRoots': {
				const line = 'user_pref("security.enterprise_roots.enabled", true);';
				if (!await this.hooks.consent([], 'install', [`Append ${line} to ${fix.arg}/user.js (takes effect when Firefox restarts)`])) { return; }
				await trust.enableFirefoxEnterpriseRoots(fix.arg);
				return;
			}
			case 'node.extraCaCerts': {
				const { ca } = await this.openCa();
				await this.setNodeEnv(ca);
				return;
			}
		}
	}

	dispose(): void {
		this.disposables.dispose();
	}

	private async trustRemote(remote: string, stored: StoredCa, ca: CaIdentity): Promise<TrustOutcome> {
		const choice = await this.hooks.chooseRemote(remote, ca);
		if (choice === 'save') {
			await this.hooks.saveCertificateLocally(stored.ca.certPem);
			await this.hooks.showMarkdown(loadEngine().trust.localInstructions(ca, remote));
		} else if (choice === 'instructions') {
			await this.hooks.showMarkdown(loadEngine().trust.localInstructions(ca, remote));
		} else if (choice === 'node') {
			// The choice is the consent: the variable only affects Node started in this window's terminals.
			await this.setNodeEnv(ca);
			this.hooks.notify(`New terminals on ${remote} get NODE_EXTRA_CA_CERTS=${this.nodeExtraCaCerts}.`);
		}
		this.logger.info(`Trust (remote ${remote}): ${choice ?? 'dismissed'}; no trust store on the remote host was changed.`);
		return { mode: 'remote', remoteChoice: choice, nodeExtraCaCerts: this.nodeExtraCaCerts };
	}

	private async setNodeEnv(ca: CaIdentity): Promise<void> {
		const value = await this.nodeEnvValue(ca);
		this.context.environmentVariableCollection.replace(NODE_EXTRA_CA_CERTS, value);
		await vscode.commands.executeCommand('setContext', ContextKey.caTrusted, true);
		this.logger.info(`New integrated terminals and Node debug sessions get ${NODE_EXTRA_CA_CERTS}=${value}.`);
	}

	/**
	 * What NODE_EXTRA_CA_CERTS should be: our CA file, or, when the environment already names a file
	 * (a corporate CA; Node reads only one), a bundle of that file plus our CA in global storage.
	 */
	private async nodeEnvValue(ca: CaIdentity): Promise<string> {
		const existing = process.env[NODE_EXTRA_CA_CERTS];
		if (!existing || existing === ca.certPath) { return ca.certPath; }
		let theirs: Uint8Array;
		try {
			theirs = await vscode.workspace.fs.readFile(vscode.Uri.file(existing));
		} catch {
			return ca.certPath;
		}
		const bundle = vscode.Uri.joinPath(this.context.globalStorageUri, 'node-extra-ca-certs.pem');
		const text = `${Buffer.from(theirs).toString('utf8').trimEnd()}\n# TLS Lens CA (${ca.fingerprint256})\n${ca.certPem}`;
		await vscode.workspace.fs.createDirectory(this.context.globalStorageUri);
		await vscode.workspace.fs.writeFile(bundle, Buffer.from(text));
		return bundle.fsPath;
	}

	private deleteNodeEnv(): void {
		this.context.environmentVariableCollection.delete(NODE_EXTRA_CA_CERTS);
		this.logger.info(`Removed ${NODE_EXTRA_CA_CERTS} from integrated terminals and Node debug sessions.`);
	}

	/** The debug provider: adds the variable to Node launch configs that do not set it themselves. */
	resolveNodeDebugConfiguration(config: vscode.DebugConfiguration): vscode.DebugConfiguration {
		const value = this.nodeExtraCaCerts;
		const env = (config.env ?? {}) as Record<string, string | null>;
		if (value && !(NODE_EXTRA_CA_CERTS in env)) {
			config.env = { ...env, [NODE_EXTRA_CA_CERTS]: value };
		}
		return config;
	}

	private nodeCheck(expected: string): DoctorCheck {
		const value = this.nodeExtraCaCerts;
		const ok = value === expected;
		return {
			id: 'node:extra-ca-certs', group: 'traps', level: ok ? 'ok' : 'info',
			title: ok ? 'Node in integrated terminals trusts the CA' : 'Node in integrated terminals does not trust the CA',
			detail: ok ? `New terminals and Node debug sessions get NODE_EXTRA_CA_CERTS=${value}.`
				: `Node uses its own CA list, not the system store: fetch('https://localhost:…') from a terminal fails without NODE_EXTRA_CA_CERTS${value ? ` (it points at ${value} now)` : ''}.`,
			fix: ok ? undefined : { id: 'node.extraCaCerts', label: 'Set NODE_EXTRA_CA_CERTS in terminals' },
		};
	}

	private reportChanges(report: TrustReport, action: TrustAction): void {
		for (const change of report.changes) {
			this.logger.info(`${action} ${change.storeLabel}: ${change.outcome}. ${change.message}${change.leftInPlace.length ? ` Left in place (not added by TLS Lens): ${change.leftInPlace.join('; ')}.` : ''}`);
			for (const ran of change.ran) { this.logger.debug(`  $ ${ran.argv.join(' ')} → exit ${ran.code}${ran.output ? `\n${ran.output}` : ''}`); }
			if (change.outcome === 'handed-off' && change.terminalCommand) {
				this.hooks.openTerminal(`TLS Lens: ${action === 'install' ? 'trust' : 'remove'} CA`, change.terminalCommand);
			}
		}
		const skipped = report.plans.filter((plan) => plan.commands.length === 0).map((plan) => `${plan.storeLabel}: ${plan.skipReason}`);
		skipped.forEach((line) => this.logger.info(`${action} ${line}`));
		this.hooks.notify(summary(report.changes, action, skipped.length), report.changes.some((c) => c.outcome === 'failed') ? 'warn' : 'info');
	}

	private async stores(trust: TrustEngine): Promise<TrustStore[]> {
		return this.options.stores ? this.options.stores() : trust.discoverTrustStores(trust.systemEnvironment());
	}

	/** The CA the proxy uses (running session first, else the configured location); created on first use. */
	private async openCa(): Promise<{ stored: StoredCa; ca: CaIdentity }> {
		const engine = loadEngine();
		const settings = readSettings();
		const location = caLocation(settings, this.context.globalStorageUri);
		const stored = await engine.openCa(this.proxy.session?.ca.dir ?? location.dir, { create: location.create, extraPermitted: settings.extraHostnames });
		return { stored, ca: engine.trust.caIdentity(stored.ca.certPem, stored.certPath) };
	}
}

function summary(changes: readonly TrustChange[], action: TrustAction, skipped: number): string {
	if (!changes.length) { return action === 'install' ? 'TLS Lens: the CA is already trusted in every store found.' : 'TLS Lens: no store holds anything TLS Lens added.'; }
	const parts = changes.map((c) => `${c.storeLabel}: ${c.outcome}`);
	return `TLS Lens ${action === 'install' ? 'trust' : 'remove trust'}: ${parts.join('; ')}${skipped ? ` (${skipped} store(s) needed nothing)` : ''}. Details in the log.`;
}

async function updateEverywhere(config: vscode.WorkspaceConfiguration, key: string, value: unknown): Promise<void> {
	const inspected = config.inspect(key);
	if (inspected?.workspaceFolderValue !== undefined) { await config.update(key, value, vscode.ConfigurationTarget.WorkspaceFolder); }
	if (inspected?.workspaceValue !== undefined) { await config.update(key, value, vscode.ConfigurationTarget.Workspace); }
	await config.update(key, value, vscode.ConfigurationTarget.Global);
}

const LEVEL_ICON = { ok: '$(pass)', info: '$(info)', warn: '$(warning)', error: '$(error)' } as const;
/** The real prompts. */
function vscodeHooks(logger: Logger): TrustUiHooks {
	return {
		async consent(plans, action, extra) {
			const platform = process.platform;
			const { formatCommand } = loadEngine().trust;
			const lines: string[] = [];
			for (const plan of plans) {
				lines.push(`• ${plan.storeLabel}`);
				for (const command of plan.commands) {
					const how = command.privilege === 'pkexec' ? ' (asks for your password)' : command.privilege === 'terminal' ? ' (typed into a terminal for you to run with sudo)' : '';
					lines.push(`    $ ${formatCommand(command.argv, platform)}${how}`);
				}
			}
			extra.forEach((line) => lines.push(`• ${line}`));
			const verb = action === 'install' ? 'Trust' : 'Remove';
			const title = action === 'install'
				? 'TLS Lens will trust its local CA in these places. Nothing changes unless you choose Trust.'
				: 'TLS Lens will remove what it added from these places. Nothing changes unless you choose Remove.';
			const choice = await vscode.window.showWarningMessage(title, { modal: true, detail: lines.join('\n') }, verb);
			logger.info(`Consent for ${action}: ${choice === verb ? 'given' : 'declined'}\n${lines.join('\n')}`);
			return choice === verb;
		},
		openTerminal(name, command) {
			const terminal = vscode.window.createTerminal({ name });
			terminal.show();
			terminal.sendText(command, false);
			void vscode.window.showInformationMessage(`TLS Lens typed the command into the "${name}" terminal. Check it and press Enter; sudo asks for your password there. Run "TLS Lens: Trust Doctor" afterwards to check.`);
		},
		async chooseRemote(remoteName, ca) {
			const save = 'Save Certificate Locally…';
			const instructions = 'Show How to Trust It';
			const node = 'Node Trust in Terminals Here';
			const choice = await vscode.window.showInformationMessage(
				`TLS Lens runs on the remote host "${remoteName}", but your browser runs on your local machine. Trusting the CA on "${remoteName}" would not help the browser, so TLS Lens does not install it there.`,
				{ modal: true, detail: `Save the CA certificate (SHA-256 ${ca.fingerprint256}) to your local machine and trust it there, or let Node in this window's terminals trust it.` },
				save, instructions, node,
			);
			return choice === save ? 'save' : choice === instructions ? 'instructions' : choice === node ? 'node' : undefined;
		},
		async saveCertificateLocally(pem) {
			// An untitled document saved with "Save Local" goes to the local machine (desktop remote) or
			// is downloaded (web); plain "Save As" is the fallback.
			const document = await vscode.workspace.openTextDocument({ content: pem, language: 'plaintext' });
			await vscode.window.showTextDocument(document);
			const commands = await vscode.commands.getCommands(true);
			await vscode.commands.executeCommand(commands.includes('workbench.action.files.saveLocalFile') ? 'workbench.action.files.saveLocalFile' : 'workbench.action.files.saveAs');
		},
		async showMarkdown(markdown) {
			const document = await vscode.workspace.openTextDocument({ content: markdown, language: 'markdown' });
			await vscode.window.showTextDocument(document, { preview: true });
			void vscode.commands.executeCommand('markdown.showPreviewToSide');
		},
		async showDoctor(checks) {
			type Item = vscode.QuickPickItem & { check?: DoctorCheck; report?: boolean };
			const items: Item[] = [{ label: '$(markdown) Open the full report', report: true, alwaysShow: true }];
			for (const group of TRUST_GROUPS) {
				const inGroup = checks.filter((c) => c.group === group.id);
				if (!inGroup.length) { continue; }
				items.push({ label: group.title, kind: vscode.QuickPickItemKind.Separator });
				for (const check of inGroup) {
					items.push({ label: `${LEVEL_ICON[check.level]} ${check.title}`, description: check.fix ? `$(wrench) ${check.fix.label}` : undefined, detail: check.detail, check });
				}
			}
			const problems = checks.filter((c) => c.level === 'error' || c.level === 'warn').length;
			const picked = await vscode.window.showQuickPick(items, {
				title: `TLS Lens Trust Doctor: ${problems ? `${problems} problem(s)` : 'all good'}`,
				placeHolder: 'Pick a line with a 🔧 fix to apply it, or open the full report',
				matchOnDetail: true,
			});
			return picked?.report ? 'report' : picked?.check;
		},
		notify(message, level = 'info') {
			const show = level === 'error' ? vscode.window.showErrorMessage : level === 'warn' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
			void show(message);
		},
	};
}
