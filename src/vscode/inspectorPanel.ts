import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { CaptureStore, CurlCaDecision, Logger, RowFeed } from '../core';
import type { CaIdentity, DoctorCheck } from '../core/trust';
import type { ExchangeId } from '../shared/exchange';
import { toFetch } from '../shared/fetchSnippet';
import { MessageHandler, type HostApi, type SessionInfo, type WebviewApi, type WebviewDescription } from '../shared/protocol';
import { trustCheckView, type TrustFixResult, type TrustReportView } from '../shared/trust';
import { DisposableStore } from '../core/events';
import { Command } from './contributions';
import { loadEngine } from './engine';
import { exportHar, exportHarInteractively, type HarExportOptions } from './harExport';
import type { ProxyController, ProxyState } from './proxyController';

/** The webview panel type; package.json names it in `onWebviewPanel:tlsLens.inspector`. */
export const INSPECTOR_VIEW_TYPE = 'tlsLens.inspector';

/** A request the panel answered: for the log and for the extension's test API. */
export interface HandledRequest {
	readonly type: keyof HostApi['requests'];
	readonly params: unknown;
	readonly result: unknown;
}

/** What the integration tests (through TlsLensApi) may do with the inspector. */
export interface InspectorApi {
	/** Opens (or reveals) the panel; resolves once its webview completed the ready handshake. */
	open(): Promise<void>;
	/** True while a panel exists and its webview has completed the handshake. */
	readonly ready: boolean;
	/** Fires for every request the webview made and the panel answered. */
	readonly onDidHandleRequest: vscode.Event<HandledRequest>;
	/** Asks the webview to select `id`, as a click would; resolves with the details it was sent. */
	select(id: ExchangeId): Promise<unknown>;
	/** What the webview holds and shows (rows, filter, selection), asked of the webview itself. */
	describeWebview(): Promise<WebviewDescription>;
	/** Exports as {@link HarExportOptions} say to `target` (no dialog); resolves to the file's path. */
	exportHar(target: vscode.Uri, options?: HarExportOptions): Promise<string | undefined>;
	/** Switches the webview to its Trust view; resolves with the doctor's report the webview was sent. */
	showTrust(): Promise<TrustReportView>;
	/** Asks the webview to apply check `id`'s fix as its button would; resolves with the host's answer. */
	applyTrustFix(id: string): Promise<TrustFixResult>;
}

/** The Trust Doctor as the panel's Trust view uses it: TrustUi, the same code the command runs. */
export interface TrustDoctor {
	checkup(): Promise<{ checks: readonly DoctorCheck[]; ca: CaIdentity }>;
	fixCheck(checkId: string): Promise<boolean>;
}

/**
 * Owns the one inspector panel of the window: creates it, revives it after a reload (as the
 * registered WebviewPanelSerializer), and follows the ProxyController from session to session.
 */
export class Inspector implements vscode.Disposable, InspectorApi {
	private panel: InspectorPanel | undefined;
	private readonly handledEmitter = new vscode.EventEmitter<HandledRequest>();
	readonly onDidHandleRequest = this.handledEmitter.event;
	private readonly disposables = new DisposableStore();

	constructor(
		private readonly controller: ProxyController,
		private readonly extensionUri: vscode.Uri,
		private readonly logger: Logger,
		private readonly trust: TrustDoctor,
	) {
		this.disposables.add(this.handledEmitter, vscode.window.registerWebviewPanelSerializer(INSPECTOR_VIEW_TYPE, {
			deserializeWebviewPanel: async (panel) => {
				// The webview restores its own filter, selection and scroll from getState().
				this.adopt(panel);
			},
		}));
	}

	get ready(): boolean {
		return this.panel?.isReady ?? false;
	}

	/** Opens the panel, or reveals the open one. */
	show(): void {
		if (this.panel) {
			this.panel.reveal();
			return;
		}
		const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'TLS Lens Traffic', vscode.ViewColumn.Active, webviewOptions(this.extensionUri));
		this.adopt(panel);
	}

	async open(): Promise<void> {
		this.show();
		await this.panel!.whenReady();
	}

	select(id: ExchangeId): Promise<unknown> {
		return this.postAndAwait('select', { id }, 'details', (params) => (params as { id?: unknown }).id === id);
	}

	showTrust(): Promise<TrustReportView> {
		return this.postAndAwait('showView', { view: 'trust' }, 'trustReport', () => true) as Promise<TrustReportView>;
	}

	applyTrustFix(id: string): Promise<TrustFixResult> {
		return this.postAndAwait('applyTrustFix', { id }, 'trustFix', (params) => (params as { id?: unknown }).id === id) as Promise<TrustFixResult>;
	}

	/** Posts an event to the webview and resolves with the result of the first matching request it makes in answer. */
	private async postAndAwait<K extends keyof WebviewApi['events'] & string>(type: K, body: WebviewApi['events'][K], answer: HandledRequest['type'], matches: (params: unknown) => boolean): Promise<unknown> {
		const panel = this.panel;
		if (!panel) { throw new Error('the inspector is not open'); }
		await panel.whenReady();
		return new Promise((resolve) => {
			const sub = this.onDidHandleRequest((handled) => {
				if (handled.type === answer && matches(handled.params)) {
					sub.dispose();
					resolve(handled.result);
				}
			});
			panel.post(type, body);
		});
	}

	async describeWebview(): Promise<WebviewDescription> {
		const panel = this.panel;
		if (!panel) { throw new Error('the inspector is not open'); }
		await panel.whenReady();
		return panel.describe();
	}

	async exportHar(target: vscode.Uri, options: HarExportOptions = {}): Promise<string | undefined> {
		const store = this.controller.capture;
		return store && exportHar(store, target, options, this.controller, this.logger);
	}

	dispose(): void {
		this.panel?.dispose();
		this.disposables.dispose();
	}

	private adopt(webviewPanel: vscode.WebviewPanel): void {
		// A revived panel keeps the options it was created with; set what matters again.
		webviewPanel.webview.options = webviewOptions(this.extensionUri);
		const panel = new InspectorPanel(webviewPanel, this.controller, this.extensionUri, this.logger, this.trust, (handled) => this.handledEmitter.fire(handled));
		this.panel = panel;
		webviewPanel.onDidDispose(() => {
			if (this.panel === panel) { this.panel = undefined; }
		});
	}
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
	return {
		enableScripts: true,
		enableForms: false,
		enableCommandUris: false,
		// Only the built webview assets; never the workspace or the extension's other files.
		localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
		// No retainContextWhenHidden: the webview is rebuilt from the host and its saved state when shown.
		enableFindWidget: false,
	};
}

/** One inspector webview panel and its end of the protocol. */
class InspectorPanel implements vscode.Disposable {
	private readonly handler: MessageHandler<HostApi, WebviewApi>;
	private readonly feed: RowFeed;
	private readonly disposables = new DisposableStore();
	private readyFlag = false;
	private readyWaiters: Array<() => void> = [];
	private disposed = false;
	private curlCa: CurlCaDecision | undefined;

	constructor(
		private readonly panel: vscode.WebviewPanel,
		private readonly controller: ProxyController,
		private readonly extensionUri: vscode.Uri,
		private readonly logger: Logger,
		private readonly trust: TrustDoctor,
		private readonly onHandled: (handled: HandledRequest) => void,
	) {
		this.handler = new MessageHandler<HostApi, WebviewApi>(
			(message) => this.panel.webview.postMessage(message),
			(error, type) => this.logger.error(`[inspector] ${type} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`),
		);
		this.feed = new (loadEngine().RowFeed)((event) => { if (this.readyFlag) { this.handler.sendEvent('rows', event); } });
		this.registerHandlers();
		this.disposables.add(
			panel.webview.onDidReceiveMessage((message) => { void this.handler.handleMessage(message); }),
			panel.onDidChangeViewState(() => {
				// Hidden without retainContextWhenHidden means the webview is gone; it sends `ready` again when shown.
				if (!panel.visible) { this.notReady(); }
			}),
			panel.onDidDispose(() => this.dispose()),
			controller.onDidChangeState((state) => this.onState(state)),
		);
		this.followState(controller.state);
		panel.webview.html = this.html();
	}

	get isReady(): boolean {
		return this.readyFlag;
	}

	whenReady(): Promise<void> {
		if (this.readyFlag) { return Promise.resolve(); }
		return new Promise((resolve) => this.readyWaiters.push(resolve));
	}

	reveal(): void {
		this.panel.reveal();
	}

	post<K extends keyof WebviewApi['events'] & string>(type: K, body: WebviewApi['events'][K]): void {
		if (this.readyFlag) { this.handler.sendEvent(type, body); }
	}

	describe(): Promise<WebviewDescription> {
		return this.handler.sendRequest('describe', {});
	}

	dispose(): void {
		if (this.disposed) { return; }
		this.disposed = true;
		this.notReady();
		this.feed.dispose();
		this.disposables.dispose();
		this.panel.dispose();
	}

	private get store(): CaptureStore | undefined {
		return this.controller.capture;
	}

	private notReady(): void {
		this.readyFlag = false;
		this.feed.stop();
		this.handler.cancelPending();
	}

	private onState(state: ProxyState): void {
		this.followState(state);
		this.post('session', this.sessionInfo());
	}

	private followState(state: ProxyState): void {
		if (state.kind === 'starting') return;
		// A stopped proxy's capture stays (details, export) until Clear or the next start.
		const capture = this.controller.capture;
		if (capture !== undefined) this.feed.follow(capture);
		// Without one (capture off), keep what the list shows: the user may still be reading it.
		else this.feed.detach();
	}

	private sessionInfo(): SessionInfo {
		const state = this.controller.state;
		const session = this.controller.session;
		return {
			state: state.kind,
			...(session ? { url: session.url, target: session.proxy.target.origin } : {}),
			...(state.kind === 'error' ? { message: state.message } : {}),
			capturing: session ? session.store !== undefined : true,
			paused: this.controller.capture?.paused ?? false,
			generation: this.feed.currentGeneration,
		};
	}

	private registerHandlers(): void {
		const h = this.handler;
		const answer = <K extends keyof HostApi['requests'] & string>(type: K, fn: (params: HostApi['requests'][K]['params']) => Promise<HostApi['requests'][K]['result']> | HostApi['requests'][K]['result']) => {
			const wrapped = async (params: HostApi['requests'][K]['params']) => {
				const result = await fn(params);
				this.onHandled({ type, params, result });
				return result;
			};
			// TypeScript cannot relate the mapped handler type to this generic K; the shapes are the same.
			h.onRequest(type, wrapped as unknown as Parameters<typeof h.onRequest<K>>[1]);
		};
		answer('ready', () => {
			this.readyFlag = true;
			const session = this.sessionInfo();
			// After the answer is posted: rows must not overtake it.
			setTimeout(() => {
				if (!this.readyFlag || this.disposed) { return; }
				this.feed.start();
				for (const waiter of this.readyWaiters.splice(0)) { waiter(); }
			}, 0);
			return { session, platform: process.platform === 'darwin' ? 'mac' : 'other' };
		});
		const engine = loadEngine();
		answer('details', ({ id }) => {
			const store = this.store;
			return store && isId(id) ? engine.exchangeDetails(store, id) : undefined;
		});
		answer('body', ({ id, side }) => {
			const store = this.store;
			return store && isId(id) && isSide(side) ? engine.bodyView(store, id, side) : undefined;
		});
		answer('image', ({ id, side }) => {
			const store = this.store;
			return store && isId(id) && isSide(side) ? engine.imageData(store, id, side) : undefined;
		});
		answer('exportHar', async ({ filter }) => {
			const store = this.store;
			if (!store) {
				void vscode.window.showWarningMessage('TLS Lens: nothing to export: nothing was captured (capture is off, or the proxy has not run yet).');
				return undefined;
			}
			const written = await exportHarInteractively(store, typeof filter === 'string' ? filter : '', this.controller, this.logger);
			if (written) { this.post('notice', { text: `Exported to ${written}` }); }
			return written;
		});
		answer('copyAs', async ({ id, format }) => {
			const session = this.controller.session;
			const store = this.store;
			const exchange = store && isId(id) ? store.get(id) : undefined;
			if (!session || !store || !exchange) { return false; }
			const body = store.body(id, 'request');
			const text = format === 'fetch' ? toFetch(exchange, body) : engine.toCurl(exchange, body, { caFile: await this.curlCaFile(session.ca.ca.certPem, session.ca.certPath) });
			await vscode.env.clipboard.writeText(text);
			this.post('notice', { text: format === 'fetch' ? 'Copied as fetch' : 'Copied as cURL' });
			return true;
		});
		answer('replay', async ({ id }) => {
			const session = this.controller.session;
			const store = session?.store;
			const exchange = store && isId(id) ? store.get(id) : undefined;
			if (!session || !store || !exchange) { return { ok: false, error: 'the exchange is no longer kept' }; }
			const result = await engine.replay(exchange, store.body(id, 'request'), { port: session.port, caPem: session.ca.ca.certPem });
			this.logger.info(`[inspector] Replayed #${id} ${exchange.request?.method} ${exchange.request?.path}: ${result.ok ? result.status : result.error}`);
			this.post('notice', result.ok ? { text: `Replayed: ${result.status}` } : { text: `Replay failed: ${result.error}`, error: true });
			return result;
		});
		answer('openInEditor', async ({ id, side }) => {
			const store = this.store;
			const content = store && isId(id) && isSide(side) ? await engine.editorContent(store, id, side) : undefined;
			if (!content) { return false; }
			const document = await vscode.workspace.openTextDocument({ content: content.content, language: content.language });
			await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: false });
			return true;
		});

		answer('trustReport', () => this.trustReport());
		answer('trustFix', async ({ id }) => {
			let applied = false;
			let error: string | undefined;
			if (typeof id === 'string') {
				try {
					applied = await this.trust.fixCheck(id);
				} catch (e) {
					error = e instanceof Error ? e.message : String(e);
					this.logger.error(`[inspector] Trust Doctor fix for ${id} failed: ${error}`);
				}
			}
			return { applied, ...(error !== undefined ? { error } : {}), report: await this.trustReport() };
		});

		h.onEvent('clear', () => {
			this.store?.clear();
			this.feed.snapshot();
		});
		h.onEvent('setPaused', ({ paused }) => {
			const store = this.store;
			if (!store) { return; }
			if (paused) { store.pause(); } else { store.resume(); }
			this.post('session', this.sessionInfo());
		});
		h.onEvent('copyText', ({ text }) => {
			if (typeof text === 'string') { void vscode.env.clipboard.writeText(text); }
		});
		h.onEvent('command', ({ command }) => {
			const id = { start: Command.start, openInBrowser: Command.openInBrowser, copyUrl: Command.copyUrl, showLog: Command.showLog, openSettings: 'workbench.action.openSettings' }[command];
			if (id === undefined) { return; }
			void vscode.commands.executeCommand(id, ...(command === 'openSettings' ? ['tlsLens.capture'] : []));
		});
		h.onEvent('selected', () => undefined);
	}

	/**
	 * The CA file "Copy as cURL" names with --cacert, decided at copy time: none when the system store
	 * (what curl in a terminal reads) already trusts the CA.
	 */
	private curlCaFile(certPem: string, certPath: string): Promise<string | undefined> {
		const engine = loadEngine();
		this.curlCa ??= new engine.CurlCaDecision(engine.trust.systemEnvironment());
		return this.curlCa.caFile(engine.trust.caIdentity(certPem, certPath));
	}

	private async trustReport(): Promise<TrustReportView> {
		try {
			const { checks, ca } = await this.trust.checkup();
			return { ca: { commonName: ca.commonName, fingerprint256: ca.fingerprint256, certPath: ca.certPath }, checks: checks.map(trustCheckView) };
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			this.logger.error(`[inspector] Trust Doctor could not run: ${message}`);
			return { checks: [], error: message };
		}
	}

	private html(): string {
		const webview = this.panel.webview;
		const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
		// A fresh nonce from the CSPRNG for every load.
		const nonce = randomBytes(18).toString('base64');
		const csp = [
			`default-src 'none'`,
			`img-src ${webview.cspSource} blob:`,
			`style-src ${webview.cspSource}`,
			`font-src ${webview.cspSource}`,
			`script-src 'nonce-${nonce}'`,
		].join('; ');
		return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${asset('codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${asset('main.css')}">
<title>TLS Lens Traffic</title>
</head>
<body>
<div id="app" class="app"></div>
<script nonce="${nonce}" src="${asset('main.js')}"></script>
</body>
</html>`;
	}
}

function isId(id: unknown): id is ExchangeId {
	return typeof id === 'number' && Number.isSafeInteger(id);
}

function isSide(side: unknown): side is 'request' | 'response' {
	return side === 'request' || side === 'response';
}
