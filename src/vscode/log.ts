import * as vscode from 'vscode';
import type { Logger } from '../core/logger';

/** The single "TLS Lens" log channel, and the core Logger that writes to it. */
export function createLog(): { channel: vscode.LogOutputChannel; logger: Logger } {
	const channel = vscode.window.createOutputChannel('TLS Lens', { log: true });
	const logger: Logger = {
		trace: (message) => channel.trace(message),
		debug: (message) => channel.debug(message),
		info: (message) => channel.info(message),
		warn: (message) => channel.warn(message),
		error: (message) => channel.error(message),
	};
	return { channel, logger };
}
