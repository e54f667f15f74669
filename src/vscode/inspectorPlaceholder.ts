import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ProxyController } from './proxyController';

/**
 * Stand-in for the traffic inspector (issue 5 replaces it): a locked-down panel that shows how many
 * exchanges were captured, so "Open Traffic Inspector" already does something honest.
 */
export class InspectorPlaceholder implements vscode.Disposable {
	private panel: vscode.WebviewPanel | undefined;

	constructor(private readonly controller: ProxyController) { }

	show(): void {
		if (!this.panel) {
			this.panel = vscode.window.createWebviewPanel('tlsLens.inspector', 'TLS Lens Traffic', vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
			this.panel.onDidDispose(() => { this.panel = undefined; });
		}
		const count = this.controller.session?.store?.list().length;
		const nonce = randomBytes(16).toString('base64');
		const text = this.controller.session
			? `${count ?? 0} exchanges captured through ${this.controller.session.url}.`
			: 'The proxy is not running. Start it with "TLS Lens: Start TLS Proxy".';
		const escaped = text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
		this.panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">`
			+ `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">`
			+ `<style nonce="${nonce}">body{font-family:var(--vscode-font-family);color:var(--vscode-foreground)}</style></head>`
			+ `<body><h2>TLS Lens traffic</h2><p>${escaped}</p><p>The full inspector is on its way.</p></body></html>`;
		this.panel.reveal();
	}

	dispose(): void {
		this.panel?.dispose();
	}
}
