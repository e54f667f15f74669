import * as vscode from 'vscode';
import type { ConfigFixOutcome } from '../../src/vscode/configFix';
import { report } from './report';

/**
 * Runs a config fix and drives VS Code's Refactor Preview as a user would: its needsConfirmation edit
 * starts unchecked (BulkEditPreview), so check it, then apply. The fix waits in applyEdit until the
 * preview is applied or discarded. Before the pane has listed the change there is nothing to check (the
 * fix then says 'declined'), and the extension cannot read the pane's context keys, so try again,
 * waiting longer. Resolves to the last outcome.
 */
export async function applyInRefactorPreview(fix: () => Promise<ConfigFixOutcome>): Promise<ConfigFixOutcome | undefined> {
	const started = Date.now();
	let outcome: ConfigFixOutcome | undefined;
	for (const delay of [500, 1000, 2000, 4000]) {
		const fixing = fix();
		await new Promise((resolve) => setTimeout(resolve, delay));
		await vscode.commands.executeCommand('refactorPreview.focus');
		await vscode.commands.executeCommand('list.focusFirst');
		await vscode.commands.executeCommand('refactorPreview.toggleCheckedState');
		await vscode.commands.executeCommand('refactorPreview.apply');
		outcome = await fixing;
		if (outcome === 'applied') { break; }
	}
	report(`refactor preview: ${String(outcome)} after ${Date.now() - started} ms`);
	return outcome;
}
