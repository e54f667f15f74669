import * as vscode from 'vscode';
import type { HostCheckRefusal } from '../core/devServers/hostCheck';
import { watchHostChecks } from '../core/devServers/hostCheckWatch';
import type { WebpackSocketBypass } from '../core/devServers/webpackSocket';
import { DisposableStore } from '../core/events';
import { watchWebpackSocket } from '../core/devServers/webpackSocketWatch';
import type { Logger } from '../core/logger';
import type { CaptureStore } from '../core/capture/captureStore';
import type { ProxySession } from '../core/session';
import { caLocation, type Settings } from './config';
import { loadEngine } from './engine';

/** What the proxy is doing; the status bar, context keys and commands all follow this. */
export type ProxyState =
	| { readonly kind: 'stopped' }
	| { readonly kind: 'starting'; readonly target: string }
	| { readonly kind: 'running'; readonly session: ProxySession; readonly target: string }
	| { readonly kind: 'error'; readonly target: string; readonly message: string };

/**
 * Owns the one ProxySession of this window: starts, stops and restarts it, and reports every state
 * change. Operations are serialised so a Stop during a Start (or two quick toggles) cannot leave a
 * proxy running that nobody owns.
 */
export class ProxyController implements vscode.Disposable {
	private readonly emitter = new vscode.EventEmitter<ProxyState>();
	/** Fires after every state change. */
	readonly onDidChangeState = this.emitter.event;
	private current: ProxyState = { kind: 'stopped' };
	private queue: Promise<unknown> = Promise.resolve();
	private readonly bypassEmitter = new vscode.EventEmitter<{ readonly session: ProxySession; readonly bypass: WebpackSocketBypass }>();
	/** Fires at most once per session: the first webpack-dev-server client it served will open its HMR socket past the proxy. */
	readonly onDidDetectWebpackBypass = this.bypassEmitter.event;
	private readonly hostCheckEmitter = new vscode.EventEmitter<{ readonly session: ProxySession; readonly refusal: HostCheckRefusal }>();
	/** Fires once per session and refused name: the dev server's host check refused the name the browser used. */
	readonly onDidDetectHostCheck = this.hostCheckEmitter.event;
	/** What watches the running session's traffic for dev-server trouble. */
	private readonly watches = new DisposableStore();
	/**
	 * The stopped session's capture, kept so that its details and export still work: this controller
	 * owns it until the next start or its own disposal (Clear empties it).
	 */
	private kept: CaptureStore | undefined;

	constructor(
		private readonly logger: Logger,
		private readonly globalStorage: vscode.Uri,
	) { }

	get state(): ProxyState {
		return this.current;
	}

	/** The running session, if any. */
	get session(): ProxySession | undefined {
		return this.current.kind === 'running' ? this.current.session : undefined;
	}

	/** The capture the inspector shows: the running session's, else the one the last Stop kept. */
	get capture(): CaptureStore | undefined {
		return this.session?.store ?? this.kept;
	}

	/** Starts the proxy for `target` (stopping a running one first); resolves to the session or undefined on failure. */
	start(target: string, settings: Settings): Promise<ProxySession | undefined> {
		return this.serialise(async () => {
			await this.stopNow();
			this.dropKept();
			this.set({ kind: 'starting', target });
			try {
				const { ProxySession } = loadEngine();
				const ca = caLocation(settings, this.globalStorage);
				const session = await ProxySession.start({
					target,
					port: settings.port,
					host: settings.listenHost.length ? settings.listenHost : undefined,
					caDir: ca.dir,
					createCa: ca.create,
					extraNames: settings.extraHostnames,
					keepHsts: settings.keepHsts,
					rewriteHost: settings.rewriteHost,
					rewriteRedirects: settings.rewriteRedirects,
					upstreamTlsVerify: settings.upstreamTlsVerify,
					capture: settings.captureEnabled,
					bodyLimit: settings.bodyLimit,
					budgetBytes: settings.budget,
					logger: this.logger,
				});
				this.logger.info(`Proxy running: ${session.url} -> ${session.proxy.target.origin}`);
				if (session.store) {
					this.watches.add(
						watchWebpackSocket(session.store, { onBypass: (bypass) => this.bypassEmitter.fire({ session, bypass }) }),
						watchHostChecks(session.store, { onRefusal: (refusal) => this.hostCheckEmitter.fire({ session, refusal }) }),
					);
				}
				this.set({ kind: 'running', session, target });
				return session;
			} catch (error) {
				const message = (error as Error).message ?? String(error);
				this.logger.error(`Could not start the proxy for ${target}: ${message}`);
				this.set({ kind: 'error', target, message });
				return undefined;
			}
		});
	}

	/** Stops the proxy and frees its port; resolves once every socket is closed. */
	stop(): Promise<void> {
		return this.serialise(async () => {
			await this.stopNow();
			this.set({ kind: 'stopped' });
		});
	}

	/**
	 * Releases the events. The session is not stopped here (dispose cannot wait): deactivate() awaits
	 * {@link stop}, so the port is free when VS Code lets the extension host go.
	 */
	dispose(): void {
		this.dropKept();
		this.watches.dispose();
		this.emitter.dispose();
		this.bypassEmitter.dispose();
		this.hostCheckEmitter.dispose();
	}

	private async stopNow(): Promise<void> {
		this.watches.clear();
		const session = this.session;
		if (!session) { return; }
		try {
			this.kept = session.store;
			await session.stop(true);
			this.logger.info(`Proxy stopped; port ${session.port} is free.`);
		} catch (error) {
			this.logger.error(`Error while stopping the proxy: ${(error as Error).message}`);
		}
	}

	private dropKept(): void {
		this.kept?.dispose();
		this.kept = undefined;
	}

	private set(state: ProxyState): void {
		this.current = state;
		this.emitter.fire(state);
	}

	private serialise<T>(operation: () => Promise<T>): Promise<T> {
		const result = this.queue.then(operation, operation);
		this.queue = result.catch(() => undefined);
		return result;
	}
}
