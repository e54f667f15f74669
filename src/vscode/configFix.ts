import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ConfigEditPlan } from '../core/devServers/configEdit';
import type { Logger } from '../core/logger';

/** One change to a dev server's config file, as the fix offers it. */
export interface ConfigFixSpec {
	/** The config files it applies to: a glob for vscode.workspace.findFiles. */
	readonly glob: string;
	/** A package.json next to the config that matches this belongs to the dev server in question. */
	readonly packageHint: RegExp;
	/** What the dev server is called in messages (`webpack-dev-server`). */
	readonly server: string;
	/** The change as a config property (`devServer: { allowedHosts: ['app.test'] }`). */
	readonly change: string;
	/** The refactor preview's label and description for the change. */
	readonly label: string;
	readonly description: string;
	/** Plans the edit of a config file's text. */
	readonly plan: (text: string) => ConfigEditPlan;
	/** A whole config to paste when the workspace has none (or one we cannot edit). */
	readonly snippet: string;
	/** What the user does once the file changed (`restart webpack serve, since …`), or nothing when the server restarts itself. */
	readonly afterwards?: string;
}

/** The workspace edit for one config file, before it is applied. */
export type ConfigFixEdit =
	| { readonly kind: 'edit'; readonly edit: vscode.WorkspaceEdit; readonly metadata: vscode.WorkspaceEditEntryMetadata; readonly range: vscode.Range; readonly newText: string }
	| { readonly kind: 'unchanged' }
	| { readonly kind: 'refused'; readonly reason: string };

/** What {@link ConfigFix.fix} ended with (for tests and logs). */
export type ConfigFixOutcome = 'applied' | 'declined' | 'unchanged' | 'manual' | 'cancelled';

/**
 * Applies a {@link ConfigFixSpec} to the workspace: finds the config (asking when several are equally
 * likely), and edits it through VS Code's Refactor Preview, so the user sees the change before it is
 * made; where no config can be edited safely, offers the snippet instead.
 */
export class ConfigFix {
	/** Chooses among several configs (a quick pick; tests replace it). */
	pick: (candidates: readonly vscode.Uri[], title: string) => Thenable<vscode.Uri | undefined> = (candidates, title) =>
		vscode.window.showQuickPick(candidates.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })), { title })
			.then((item) => item?.uri);

	constructor(private readonly logger: Logger) { }

	/** Finds the config to edit (unless given) and offers the edit; resolves once the user decided. */
	async fix(spec: ConfigFixSpec, uri?: vscode.Uri): Promise<ConfigFixOutcome> {
		const target = uri ?? await this.findConfig(spec);
		if (target === null) { return 'cancelled'; }
		if (!target) { return this.offerSnippet(spec, `No ${spec.glob.replace('**/', '')} in this workspace.`); }
		const document = await vscode.workspace.openTextDocument(target);
		const planned = this.buildEdit(spec, document);
		const name = vscode.workspace.asRelativePath(target);
		if (planned.kind === 'unchanged') {
			void vscode.window.showInformationMessage(`${name} already has ${spec.change}${spec.afterwards ? `: ${spec.afterwards}` : '.'}`);
			return 'unchanged';
		}
		if (planned.kind === 'refused') {
			this.logger.warn(`Cannot edit ${name} safely (${planned.reason}); add ${spec.change} by hand.`);
			return this.offerSnippet(spec, `TLS Lens cannot edit ${name} safely: ${planned.reason}.`);
		}
		const before = document.getText();
		// VS Code lists a needsConfirmation change unchecked in its Refactor Preview: say what to do there.
		const hint = vscode.window.setStatusBarMessage(`$(info) TLS Lens: check the ${path.basename(target.path)} change in the Refactor Preview, then Apply`, 60_000);
		// Resolves once the user applied or discarded the preview; a discarded one leaves the text as it was.
		const applied = await vscode.workspace.applyEdit(planned.edit).then((result) => { hint.dispose(); return result; }, (error: unknown) => { hint.dispose(); throw error; });
		if (!applied || document.getText() === before) { return 'declined'; }
		if (document.isDirty) { await document.save(); }
		this.logger.info(`Added ${spec.change} to ${name}.`);
		void vscode.window.showInformationMessage(`Updated ${name}${spec.afterwards ? `: ${spec.afterwards}` : '.'}`);
		return 'applied';
	}

	/** The edit for `document`, flagged so VS Code shows its refactor preview before applying it. */
	buildEdit(spec: ConfigFixSpec, document: vscode.TextDocument): ConfigFixEdit {
		const plan = spec.plan(document.getText());
		if (!plan.ok) { return { kind: 'refused', reason: plan.reason }; }
		if (!plan.edit) { return { kind: 'unchanged' }; }
		const range = new vscode.Range(document.positionAt(plan.edit.offset), document.positionAt(plan.edit.offset + plan.edit.length));
		const metadata: vscode.WorkspaceEditEntryMetadata = { needsConfirmation: true, label: spec.label, description: spec.description };
		const edit = new vscode.WorkspaceEdit();
		edit.replace(document.uri, range, plan.edit.newText, metadata);
		return { kind: 'edit', edit, metadata, range, newText: plan.edit.newText };
	}

	/**
	 * The config to edit: the only one, else the ones next to a package.json that names the dev server,
	 * nearest the folder root first, to choose from (null: the user dismissed the choice).
	 */
	async findConfig(spec: ConfigFixSpec): Promise<vscode.Uri | undefined | null> {
		const found = await vscode.workspace.findFiles(spec.glob, '**/node_modules/**', 50);
		if (found.length <= 1) { return found[0]; }
		const ranked = await Promise.all(found.map(async (uri) => ({ uri, rank: (await nextToPackage(uri, spec.packageHint) ? 0 : 1000) + uri.path.split('/').length })));
		ranked.sort((a, b) => a.rank - b.rank || a.uri.path.localeCompare(b.uri.path));
		return (await this.pick(ranked.map((r) => r.uri), `Which config runs ${spec.server}?`)) ?? null;
	}

	private async offerSnippet(spec: ConfigFixSpec, why: string): Promise<ConfigFixOutcome> {
		const choice = await vscode.window.showWarningMessage(`${why} Add ${spec.change} to the config ${spec.server} uses.`, 'Copy Snippet', 'Open as New File');
		if (choice === 'Copy Snippet') {
			await vscode.env.clipboard.writeText(spec.change);
		} else if (choice === 'Open as New File') {
			await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'javascript', content: spec.snippet }));
		}
		return 'manual';
	}
}

async function nextToPackage(config: vscode.Uri, hint: RegExp): Promise<boolean> {
	try {
		const pkg = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(config, '..', 'package.json'));
		return hint.test(Buffer.from(pkg).toString('utf8'));
	} catch {
		return false;
	}
}
