import * as vscode from 'vscode';
import { findDevServers } from '../core/discovery';
import { parseTarget } from '../core/proxy/target';

interface TargetItem extends vscode.QuickPickItem {
	readonly target?: string;
}

/**
 * Asks which dev server to put HTTPS in front of: the running ones it finds on loopback (common ports
 * and ports named in the workspace), or a port/URL the user types. Resolves to undefined on cancel.
 */
export async function pickTarget(skipPorts: readonly number[]): Promise<string | undefined> {
	const pick = vscode.window.createQuickPick<TargetItem>();
	pick.title = 'Start TLS Proxy';
	pick.placeholder = 'Pick a running dev server, or type a port or URL (e.g. 5173 or http://127.0.0.1:3000)';
	pick.busy = true;
	const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
	let found: TargetItem[] = [];
	const typed = (): TargetItem[] => {
		const value = pick.value.trim();
		if (!value) { return []; }
		try {
			const url = parseTarget(/^\d+$/.test(value) ? Number(value) : value);
			return [{ label: `$(arrow-right) ${url.origin}`, description: 'Use this target', target: value, alwaysShow: true }];
		} catch (error) {
			return [{ label: `$(warning) ${(error as Error).message}`, alwaysShow: true }];
		}
	};
	const refresh = () => { pick.items = [...typed(), ...found]; };
	try {
		return await new Promise<string | undefined>((resolve) => {
			pick.onDidChangeValue(refresh);
			pick.onDidAccept(() => {
				const target = pick.selectedItems[0]?.target;
				if (target) { resolve(target); pick.hide(); }
			});
			pick.onDidHide(() => resolve(undefined));
			pick.show();
			findDevServers(folders, { skipPorts }).then((candidates) => {
				found = candidates.map((c) => ({ label: `$(server) ${c.url}`, description: c.source, detail: c.detail, target: c.url }));
				if (!found.length) {
					found = [{ label: 'No running dev server found on the usual ports', detail: 'Start yours (npm run dev), or type its port above.' }];
				}
				pick.busy = false;
				refresh();
			}, () => { pick.busy = false; });
		});
	} finally {
		pick.dispose();
	}
}
