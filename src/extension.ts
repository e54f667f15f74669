import * as vscode from 'vscode';
import { openCa } from './core';

/**
 * Entry point. Activation is lazy (on a TLS Lens command) and does no work beyond registering
 * commands: the CA is opened only when a command needs it.
 */
export function activate(context: vscode.ExtensionContext): void {
	const log = vscode.window.createOutputChannel('TLS Lens', { log: true });
	context.subscriptions.push(
		log,
		vscode.commands.registerCommand('tlsLens.showCaInfo', async () => {
			try {
				const stored = await openCa(vscode.Uri.joinPath(context.globalStorageUri, 'ca').fsPath);
				const info = stored.ca.describe();
				log.info(`${stored.created ? 'Created' : 'Using'} CA ${info.subject} (SHA-256 ${info.fingerprint256}) in ${stored.dir}`);
				void vscode.window.showInformationMessage(`TLS Lens CA: ${info.subject}, SHA-256 ${info.fingerprint256}, permitted: ${info.permitted?.join(', ') ?? 'any name'}.`);
			} catch (error) {
				log.error(String(error));
				void vscode.window.showErrorMessage(`TLS Lens: ${(error as Error).message}`, 'Show Log').then((choice) => choice && log.show());
			}
		}),
	);
}

export function deactivate(): void {
	// Everything is owned by context.subscriptions.
}
