import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { isIP } from 'node:net';
import * as vscode from 'vscode';
import type { CaptureStore, Logger } from '../core';
import { loadEngine } from './engine';
import type { ProxyController } from './proxyController';

declare const __VERSION__: string | undefined;

/** How a HAR is written: what passes `filter` (all when empty), with or without credentials and cookies. */
export interface HarExportOptions {
	readonly filter?: string;
	readonly includeSensitive?: boolean;
}

/**
 * The Export HAR flow: which kind (sanitized first, as in DevTools), where (a dialog that opens outside
 * the workspace, and a warning when the user picks a place inside it: a committed HAR shares every
 * body, and with sensitive data the session's tokens too), then the file. Resolves to its path, or
 * undefined when the user cancelled.
 */
export async function exportHarInteractively(store: CaptureStore, filter: string, controller: ProxyController, logger: Logger): Promise<string | undefined> {
	const sanitized: vscode.QuickPickItem = {
		label: 'Export HAR (sanitized)',
		detail: 'Authorization and cookie values replaced by [redacted]; bodies kept as sent',
	};
	const sensitive: vscode.QuickPickItem = {
		label: 'Export HAR (with sensitive data)',
		detail: 'Tokens and cookies as sent: anyone with the file can use your session',
	};
	const kind = await vscode.window.showQuickPick([sanitized, sensitive], { title: 'Export captured traffic as HAR', placeHolder: 'What to export' });
	if (kind === undefined) return undefined;
	const includeSensitive = kind === sensitive;
	const target = await vscode.window.showSaveDialog({
		title: includeSensitive ? 'Export HAR with sensitive data' : 'Export HAR (sanitized)',
		saveLabel: 'Export HAR',
		filters: { 'HTTP Archive': ['har'] },
		defaultUri: defaultHarUri(),
	});
	if (target === undefined) return undefined;
	const folder = vscode.workspace.getWorkspaceFolder(target);
	if (folder !== undefined) {
		const keep = 'Save in the Workspace';
		const answer = await vscode.window.showWarningMessage(
			`${path.basename(target.path)} is inside the workspace folder "${folder.name}", where it can be committed and shared.`,
			{
				modal: true,
				detail: includeSensitive
					? 'This HAR holds your session\'s tokens and cookies, and every request and response body.'
					: 'Credentials and cookies are redacted, but every request and response body is in the file.',
			},
			keep,
		);
		if (answer !== keep) return undefined;
	}
	return exportHar(store, target, { filter, includeSensitive }, controller, logger);
}

/** Writes the HAR of what passes the filter to `target` (any file system VS Code can write), no questions asked. */
export async function exportHar(store: CaptureStore, target: vscode.Uri, options: HarExportOptions, controller: ProxyController, logger: Logger): Promise<string> {
	const version = typeof __VERSION__ === 'string' ? __VERSION__ : '';
	const upstream = controller.session?.proxy.target.hostname.replace(/^\[|\]$/g, '');
	const har = loadEngine().harForFilter(store, options.filter ?? '', { name: 'TLS Lens', version }, {
		serverIPAddress: upstream && isIP(upstream) ? upstream : undefined,
		includeSensitive: options.includeSensitive === true,
	});
	await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(JSON.stringify(har, null, 2) + '\n'));
	const where = target.scheme === 'file' ? target.fsPath : target.toString();
	logger.info(`[inspector] Exported ${har.log.entries.length} exchanges as HAR to ${where}${options.includeSensitive ? ' with credentials and cookies' : ' (sanitized)'}`);
	return where;
}

/** Downloads (else the home folder): somewhere a `git add .` does not reach. */
function defaultHarUri(): vscode.Uri {
	const stamp = new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*$/, '');
	const downloads = path.join(homedir(), 'Downloads');
	return vscode.Uri.file(path.join(existsSync(downloads) ? downloads : homedir(), `tls-lens-${stamp}.har`));
}
