// The Get Started walkthrough (package.json `contributes.walkthroughs`), opened once after install.
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

/** The walkthrough's id in package.json; VS Code addresses it as `<extension id>#<this>`. */
export const WALKTHROUGH_ID = 'tlsLens.getStarted';

/** The globalState key that records, per profile, that the walkthrough was opened on first activation. */
export const WALKTHROUGH_SHOWN_KEY = 'tlsLens.walkthroughShown';

/** VS Code's own switch for opening a newly installed extension's walkthrough; we obey it too. */
export const OPEN_ON_INSTALL_SETTING = 'workbench.welcomePage.walkthroughs.openOnInstall';

/** The fully qualified id that `workbench.action.openWalkthrough` takes. */
export function walkthroughCategory(extensionId: string): string {
	return `${extensionId}#${WALKTHROUGH_ID}`;
}

/**
 * Opens the walkthrough on the first activation of an installed (Production mode) TLS Lens in this
 * profile, unless `workbench.welcomePage.walkthroughs.openOnInstall` is off.
 *
 * VS Code opens it by itself only for installs it sees happen in a focused window (the Extensions
 * view); an install with `code --install-extension` before the window starts goes unnoticed. Returns
 * at once and never throws: a walkthrough that fails to open must not cost the user the extension.
 */
export function showWalkthroughOnce(context: vscode.ExtensionContext, logger: Logger): void {
	try {
		// Development and Test hosts (F5, the test runners) start with fresh state every time.
		if (context.extensionMode !== vscode.ExtensionMode.Production || context.globalState.get<boolean>(WALKTHROUGH_SHOWN_KEY)) { return; }
		void openOnce(context, logger).catch((error: unknown) => logger.warn(`Walkthrough: could not open it: ${errorMessage(error)}`));
	} catch (error) {
		logger.warn(`Walkthrough: could not open it: ${errorMessage(error)}`);
	}
}

async function openOnce(context: vscode.ExtensionContext, logger: Logger): Promise<void> {
	// Recorded first: the promise is at most once, so a walkthrough that fails to open is not retried
	// (and logged) on every start.
	await context.globalState.update(WALKTHROUGH_SHOWN_KEY, true);
	// Switched off, the walkthrough is never opened on its own, not even later if it is switched on:
	// the install has passed by then.
	if (vscode.workspace.getConfiguration().get<boolean>(OPEN_ON_INSTALL_SETTING, true) === false) {
		logger.info(`Walkthrough: not opened (${OPEN_ON_INSTALL_SETTING} is off).`);
		return;
	}
	const category = walkthroughCategory(context.extension.id);
	// `false`: in the active editor group, not to the side.
	await vscode.commands.executeCommand('workbench.action.openWalkthrough', category, false);
	logger.info(`Walkthrough: opened ${category} (first activation in this profile).`);
}

function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
