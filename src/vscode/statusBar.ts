import * as vscode from 'vscode';
import { Command } from './contributions';
import type { ProxyController, ProxyState } from './proxyController';

/** The one status bar item: shows the proxy state; a click toggles it. */
export class ProxyStatusBar implements vscode.Disposable {
	private readonly item = vscode.window.createStatusBarItem('tlsLens.status', vscode.StatusBarAlignment.Right, 100);
	private readonly subscription: vscode.Disposable;

	/** @param restartTarget what a click starts on when stopped (undefined: the target picker asks). */
	constructor(controller: ProxyController, private readonly restartTarget: () => string | undefined) {
		this.item.name = 'TLS Lens';
		this.item.command = Command.toggle;
		this.render(controller.state);
		this.subscription = controller.onDidChangeState((state) => this.render(state));
		this.item.show();
	}

	dispose(): void {
		this.subscription.dispose();
		this.item.dispose();
	}

	/** What a screen reader announces for the item (VS Code would otherwise read the text's icon names). */
	private say(label: string): void {
		this.item.accessibilityInformation = { label, role: 'button' };
	}

	private render(state: ProxyState): void {
		this.item.backgroundColor = undefined;
		switch (state.kind) {
			case 'stopped': {
				this.item.text = '$(unlock) TLS';
				const again = this.restartTarget();
				this.item.tooltip = again ? `Start TLS Proxy for ${again} again` : 'Start TLS Proxy';
				this.say(`TLS Lens: the proxy is stopped. Activate to start it${again ? ` for ${again}` : ''}.`);
				break;
			}
			case 'starting':
				this.item.text = '$(loading~spin) TLS';
				this.item.tooltip = `Starting the TLS proxy for ${state.target}…`;
				this.say(`TLS Lens: starting the proxy for ${state.target}.`);
				break;
			case 'running': {
				const target = state.session.proxy.target;
				this.item.text = `$(lock) :${state.session.port} → :${target.port || (target.protocol === 'https:' ? 443 : 80)}`;
				const tooltip = new vscode.MarkdownString(undefined, true);
				tooltip.isTrusted = { enabledCommands: [Command.openInBrowser, Command.copyUrl, Command.openInspector, Command.stop] };
				tooltip.appendMarkdown(`**TLS Lens** · \`${state.session.url}\` → \`${target.origin}\`\n\n`);
				tooltip.appendMarkdown(`[$(link-external) Open](command:${Command.openInBrowser}) · [$(copy) Copy URL](command:${Command.copyUrl}) · `
					+ `[$(inspect) Inspect](command:${Command.openInspector}) · [$(debug-stop) Stop](command:${Command.stop})`);
				this.item.tooltip = tooltip;
				// The tooltip is Markdown with command links; a screen reader gets the words instead.
				this.say(`TLS Lens: the proxy is running, ${state.session.url} forwards to ${target.origin}. Activate to stop it.`);
				break;
			}
			case 'error':
				this.item.text = '$(error) TLS';
				this.item.tooltip = `TLS Lens could not start the proxy for ${state.target}: ${state.message}\n\nClick to try again.`;
				this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
				this.say(`TLS Lens could not start the proxy for ${state.target}: ${state.message} Activate to try again.`);
				break;
		}
	}
}
