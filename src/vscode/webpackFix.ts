import * as path from 'node:path';
import * as vscode from 'vscode';
import { planWebpackSocketFix, WEBPACK_SOCKET_FIX, type WebpackSocketBypass } from '../core/devServers/webpackSocket';
import type { Logger } from '../core/logger';

const FIX = 'Fix webpack.config…';
const SHOW_LOG = 'Show Log';
const CONFIG_GLOB = '**/webpack.config.{js,cjs,mjs,ts}';

/** A whole config a user can paste when the workspace has none (or one we cannot edit). */
export const WEBPACK_FIX_SNIPPET = `// webpack.config.js: let webpack-dev-server's HMR client dial the page's own origin, so it goes through TLS Lens.
module.exports = {
  devServer: {
    client: { webSocketURL: 'auto://0.0.0.0:0/ws' },
  },
};
`;

/** The workspace edit for one config file, before it is applied. */
export type WebpackFixEdit =
	| { readonly kind: 'edit'; readonly edit: vscode.WorkspaceEdit; readonly metadata: vscode.WorkspaceEditEntryMetadata; readonly range: vscode.Range; readonly newText: string }
	| { readonly kind: 'unchanged' }
	| { readonly kind: 'refused'; readonly reason: string };

/** What {@link WebpackFix.fix} ended with (for tests and logs). */
export type WebpackFixOutcome = 'applied' | 'declined' | 'unchanged' | 'manual' | 'cancelled';

/**
 * The VS Code side of webpack-dev-server's HMR socket bypass: one warning per session, and the
 * **Fix webpack.config…** action that edits the config through VS Code's refactor preview.
 */
export class WebpackFix {
	/** Chooses among several configs (a quick pick; tests replace it). */
	pick: (candidates: readonly vscode.Uri[]) => Thenable<vscode.Uri | undefined> = (candidates) =>
		vscode.window.showQuickPick(candidates.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })), { title: 'Which webpack config runs the dev server?' })
			.then((item) => item?.uri);

	constructor(private readonly logger: Logger, private readonly showLog: () => void) { }

	/** Logs the bypass and shows its warning with the fix and Show Log actions. */
	async notify(bypass: WebpackSocketBypass): Promise<WebpackFixOutcome | undefined> {
		const line = `webpack-dev-server's HMR client connects to ${bypass.dialed}, past TLS Lens: edits will not reach the page.`;
		this.logger.warn(line);
		const choice = await vscode.window.showWarningMessage(line, FIX, SHOW_LOG);
		if (choice === SHOW_LOG) { this.showLog(); }
		if (choice !== FIX) { return undefined; }
		return this.fix().catch((error: unknown) => {
			this.logger.error(`Fix webpack.config: ${(error as Error).message ?? String(error)}`);
			return 'manual' as const;
		});
	}

	/** Finds the config to edit (asking when several are equally near a package.json) and offers the edit. */
	async fix(uri?: vscode.Uri): Promise<WebpackFixOutcome> {
		const target = uri ?? await this.findConfig();
		if (target === null) { return 'cancelled'; }
		if (!target) { return this.offerSnippet('No webpack.config.{js,cjs,mjs,ts} in this workspace.'); }
		const document = await vscode.workspace.openTextDocument(target);
		const planned = this.buildEdit(document);
		const name = vscode.workspace.asRelativePath(target);
		if (planned.kind === 'unchanged') {
			void vscode.window.showInformationMessage(`${name} already sets devServer.client.webSocketURL: restart webpack serve so its client is rebuilt with it.`);
			return 'unchanged';
		}
		if (planned.kind === 'refused') {
			this.logger.warn(`Cannot edit ${name} safely (${planned.reason}); add ${WEBPACK_SOCKET_FIX} by hand.`);
			return this.offerSnippet(`TLS Lens cannot edit ${name} safely: ${planned.reason}.`);
		}
		const before = document.getText();
		// VS Code lists a needsConfirmation change unchecked in its Refactor Preview: say what to do there.
		const hint = vscode.window.setStatusBarMessage(`$(info) TLS Lens: check the ${path.basename(target.path)} change in the Refactor Preview, then Apply`, 60_000);
		// Resolves once the user applied or discarded the preview; a discarded one leaves the text as it was.
		const applied = await vscode.workspace.applyEdit(planned.edit).then((result) => { hint.dispose(); return result; }, (error: unknown) => { hint.dispose(); throw error; });
		if (!applied || document.getText() === before) { return 'declined'; }
		if (document.isDirty) { await document.save(); }
		this.logger.info(`Set devServer.client.webSocketURL in ${name}.`);
		void vscode.window.showInformationMessage(`Updated ${name}: restart webpack serve, since webpack-dev-server bakes its socket address into the bundle when it builds.`);
		return 'applied';
	}

	/** The edit for `document`, flagged so VS Code shows its refactor preview before applying it. */
	buildEdit(document: vscode.TextDocument): WebpackFixEdit {
		const plan = planWebpackSocketFix(document.getText());
		if (!plan.ok) { return { kind: 'refused', reason: plan.reason }; }
		if (!plan.edit) { return { kind: 'unchanged' }; }
		const range = new vscode.Range(document.positionAt(plan.edit.offset), document.positionAt(plan.edit.offset + plan.edit.length));
		const metadata: vscode.WorkspaceEditEntryMetadata = {
			needsConfirmation: true,
			label: "Route webpack-dev-server's HMR socket through TLS Lens",
			description: "devServer.client.webSocketURL: 'auto://0.0.0.0:0/ws'",
		};
		const edit = new vscode.WorkspaceEdit();
		edit.replace(document.uri, range, plan.edit.newText, metadata);
		return { kind: 'edit', edit, metadata, range, newText: plan.edit.newText };
	}

	/**
	 * The config to edit: the only one, else the ones next to a package.json that mentions webpack,
	 * nearest the folder root first, to choose from (null: the user dismissed the choice).
	 */
	async findConfig(): Promise<vscode.Uri | undefined | null> {
		const found = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 50);
		if (found.length <= 1) { return found[0]; }
		const ranked = await Promise.all(found.map(async (uri) => ({ uri, rank: (await nextToWebpackPackage(uri) ? 0 : 1000) + uri.path.split('/').length })));
		ranked.sort((a, b) => a.rank - b.rank || a.uri.path.localeCompare(b.uri.path));
		return (await this.pick(ranked.map((r) => r.uri))) ?? null;
	}

	private async offerSnippet(why: string): Promise<WebpackFixOutcome> {
		const choice = await vscode.window.showWarningMessage(`${why} Add ${WEBPACK_SOCKET_FIX} to the config webpack serve uses.`, 'Copy Snippet', 'Open as New File');
		if (choice === 'Copy Snippet') {
			await vscode.env.clipboard.writeText(WEBPACK_SOCKET_FIX);
		} else if (choice === 'Open as New File') {
			await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'javascript', content: WEBPACK_FIX_SNIPPET }));
		}
		return 'manual';
	}
}

async function nextToWebpackPackage(config: vscode.Uri): Promise<boolean> {
	try {
		const pkg = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(config, '..', 'package.json'));
		return /webpack/.test(Buffer.from(pkg).toString('utf8'));
	} catch {
		return false;
	}
}
