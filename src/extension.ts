import * as vscode from 'vscode';
import { caLocation, readSettings, RESTART_SETTINGS } from './vscode/config';
import { Command, ContextKey } from './vscode/contributions';
import { Inspector, type InspectorApi } from './vscode/inspectorPanel';
import { loadEngine } from './vscode/engine';
import { createLog } from './vscode/log';
import { ProxyController } from './vscode/proxyController';
import { ProxyStatusBar } from './vscode/statusBar';
import { pickTarget } from './vscode/targetPicker';
import { TrustUi } from './vscode/trustUi';
import { showWalkthroughOnce } from './vscode/walkthrough';
import { HostCheckFix } from './vscode/hostCheckFix';
import { WebpackFix } from './vscode/webpackFix';
import { explainLinks, linksFor } from './vscode/workbench';

/** workspaceState key of the target the proxy last ran on. */
const LAST_TARGET_KEY = 'tlsLens.lastTarget';

/** What activate returns: used by the integration tests, harmless for everyone else. */
export interface TlsLensApi {
	readonly controller: ProxyController;
	/** The traffic inspector panel: open it, wait for its webview, drive selection and export. */
	readonly inspector: InspectorApi;
	/** Trust commands, their prompts (replaceable hooks) and options (forceLocal, stores) for tests. */
	readonly trust: TrustUi;
	/** webpack-dev-server's HMR bypass: its warning and the config fix (the edit builder, the quick pick hook). */
	readonly webpackFix: WebpackFix;
	/** Dev-server host checks refusing the browser's name: the warning, the config fix and rewriteHost. */
	readonly hostCheckFix: HostCheckFix;
	/** What activation cost, in ms: evaluating this bundle plus running activate(). */
	readonly activationMs: number;
}

let controller: ProxyController | undefined;
declare const __tlsLensLoadStart: number | undefined;

/**
 * Activation registers commands, the status bar and the settings watcher, and nothing else: the
 * certificate and proxy engine load on the first Start.
 */
export function activate(context: vscode.ExtensionContext): TlsLensApi {
	const started = performance.now();
	const { channel, logger } = createLog();
	controller = new ProxyController(logger, context.globalStorageUri);
	const proxy = controller;
	const trust = new TrustUi(context, logger, proxy);
	// In the background: it reads the trust stores, which activation must not wait for.
	void trust.refreshTrusted().catch((error: unknown) => logger.warn(`Trust: could not read the trust stores: ${error instanceof Error ? error.message : String(error)}`));
	const inspector = new Inspector(proxy, context.extensionUri, logger, trust);
	const webpackFix = new WebpackFix(logger, () => channel.show());
	// The settings change restarts the running proxy with it (see onDidChangeConfiguration below). An
	// untrusted workspace ignores its own value of this setting (restrictedConfigurations): use the user's.
	const hostCheckFix = new HostCheckFix(logger, () => channel.show(), () => vscode.workspace.getConfiguration('tlsLens')
		.update('rewriteHost', true, vscode.workspace.workspaceFolders?.length && vscode.workspace.isTrusted ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global));
	const reportTrustError = (error: unknown) => {
		logger.error(`Trust: ${(error as Error).message ?? String(error)}`);
		void vscode.window.showErrorMessage(`TLS Lens: ${(error as Error).message ?? String(error)}`, 'Show Log').then((choice) => choice && channel.show());
		return undefined;
	};

	const setContext = () => {
		void vscode.commands.executeCommand('setContext', ContextKey.running, proxy.state.kind === 'running');
		void vscode.commands.executeCommand('setContext', ContextKey.state, proxy.state.kind);
	};
	setContext();

	const start = async (target?: string) => {
		const settings = readSettings();
		const chosen = target ?? (settings.target || await pickTarget([settings.port]));
		if (!chosen) { return undefined; }
		const session = await proxy.start(chosen, settings);
		if (!session) {
			const state = proxy.state;
			const choice = await vscode.window.showErrorMessage(`TLS Lens could not start: ${state.kind === 'error' ? state.message : 'unknown error'}`, 'Show Log');
			if (choice) { channel.show(); }
			return undefined;
		}
		void context.workspaceState.update(LAST_TARGET_KEY, chosen);
		void vscode.window.showInformationMessage(`TLS Lens: ${session.url} → ${session.proxy.target.origin}`, 'Open in Browser', 'Copy URL', 'Open Inspector')
			.then((choice) => {
				const command = choice === 'Open in Browser' ? Command.openInBrowser : choice === 'Copy URL' ? Command.copyUrl : choice === 'Open Inspector' ? Command.openInspector : undefined;
				if (command) { void vscode.commands.executeCommand(command); }
			});
		return session.url;
	};

	// What a click on the status bar starts on without asking: the target that just failed, else the last
	// one the proxy ran on in this workspace; undefined (ask) when the target setting decides anyway.
	const restartTarget = () => readSettings().target ? undefined : proxy.state.kind === 'error' ? proxy.state.target : context.workspaceState.get<string>(LAST_TARGET_KEY);

	const runningUrl = () => {
		const session = proxy.session;
		if (!session) { void vscode.window.showWarningMessage('TLS Lens is not running. Start it first.', 'Start TLS Proxy').then((c) => c && start()); }
		return session?.url;
	};
	// What the user's browser can open: the proxy's own URL where it runs on this machine, else what VS Code forwards.
	const runningLinks = async () => {
		const url = runningUrl();
		return url ? linksFor(url, proxy.session?.urls ?? [url], logger) : undefined;
	};

	context.subscriptions.push(
		channel,
		proxy,
		inspector,
		new ProxyStatusBar(proxy, restartTarget),
		proxy.onDidChangeState(setContext),
		// The controller fires this at most once per session, so this is one warning per session.
		proxy.onDidDetectWebpackBypass(({ bypass }) => { void webpackFix.notify(bypass); }),
		proxy.onDidDetectHostCheck(({ refusal }) => { void hostCheckFix.notify(refusal); }),
		vscode.commands.registerCommand(Command.start, (target?: string) => start(typeof target === 'string' ? target : undefined)),
		vscode.commands.registerCommand(Command.stop, () => proxy.stop()),
		vscode.commands.registerCommand(Command.toggle, () => (proxy.state.kind === 'running' || proxy.state.kind === 'starting' ? proxy.stop() : start(restartTarget()))),
		vscode.commands.registerCommand(Command.openInBrowser, async () => {
			const links = await runningLinks();
			if (!links) { return undefined; }
			explainLinks(links);
			if (!links.open) { return undefined; }
			await vscode.env.openExternal(vscode.Uri.parse(links.open));
			return links.open;
		}),
		vscode.commands.registerCommand(Command.copyUrl, async () => {
			const links = await runningLinks();
			if (!links) { return undefined; }
			if (!links.copy) {
				explainLinks(links);
				return undefined;
			}
			await vscode.env.clipboard.writeText(links.copy);
			void vscode.window.setStatusBarMessage(`$(copy) Copied ${links.copy}`, 3000);
			return links.copy;
		}),
		vscode.commands.registerCommand(Command.openInspector, () => inspector.show()),
		vscode.commands.registerCommand(Command.showLog, () => channel.show()),
		vscode.commands.registerCommand(Command.showCaInfo, () => showCaInfo(proxy, context, channel)),
		trust,
		vscode.commands.registerCommand(Command.trustCa, () => trust.trust().catch(reportTrustError)),
		vscode.commands.registerCommand(Command.untrustCa, () => trust.untrust().catch(reportTrustError)),
		vscode.commands.registerCommand(Command.trustDoctor, () => trust.doctor().catch(reportTrustError)),
		vscode.workspace.onDidChangeConfiguration((event) => {
			const state = proxy.state;
			if (state.kind !== 'running' || !RESTART_SETTINGS.some((key) => event.affectsConfiguration(key))) { return; }
			const settings = readSettings();
			// A changed target setting wins; otherwise keep the target the proxy was started with.
			const target = event.affectsConfiguration('tlsLens.target') && settings.target ? settings.target : state.target;
			logger.info('Settings changed: restarting the proxy to apply them.');
			void proxy.start(target, settings).then((session) => {
				if (session) { void vscode.window.showInformationMessage(`TLS Lens restarted the proxy to apply the new settings: ${session.url} → ${session.proxy.target.origin}`); }
			});
		}),
	);

	const autoStart = () => {
		const settings = readSettings();
		if (settings.autoStart && settings.target && vscode.workspace.isTrusted && proxy.state.kind === 'stopped') {
			logger.info('Auto-start is on: starting the proxy.');
			void start(settings.target);
		}
	};
	autoStart();
	context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(autoStart));
	showWalkthroughOnce(context, logger);

	// The host may wait between loading the module and calling activate; that wait is not ours.
	const activationMs = moduleEvaluationMs + performance.now() - started;
	logger.info(`TLS Lens activated in ${activationMs.toFixed(1)} ms (module ${moduleEvaluationMs.toFixed(1)} ms)`);
	return { controller: proxy, inspector, trust, webpackFix, hostCheckFix, activationMs };
}

/** Stops the proxy and frees its port; VS Code waits for the returned promise. */
export function deactivate(): Promise<void> | undefined {
	return controller?.stop();
}

async function showCaInfo(proxy: ProxyController, context: vscode.ExtensionContext, channel: vscode.LogOutputChannel): Promise<void> {
	try {
		const { openCa } = loadEngine();
		const settings = readSettings();
		const location = caLocation(settings, context.globalStorageUri);
		const stored = await openCa(proxy.session?.ca.dir ?? location.dir, { create: location.create, extraPermitted: settings.extraHostnames });
		const info = stored.ca.describe();
		channel.info(`${stored.created ? 'Created' : 'Using'} CA ${info.subject} (SHA-256 ${info.fingerprint256}) in ${stored.dir}`);
		void vscode.window.showInformationMessage(`TLS Lens CA: ${info.subject}. SHA-256 ${info.fingerprint256}. Permitted: ${info.permitted?.join(', ') ?? 'any name'}. Certificate: ${stored.certPath}`);
	} catch (error) {
		channel.error(String(error));
		void vscode.window.showErrorMessage(`TLS Lens: ${(error as Error).message}`, 'Show Log').then((choice) => choice && channel.show());
	}
}

// Last statement of the module: everything it imports has been evaluated by now.
const moduleEvaluationMs = typeof __tlsLensLoadStart === 'number' ? performance.now() - __tlsLensLoadStart : 0;
