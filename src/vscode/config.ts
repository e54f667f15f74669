import * as vscode from 'vscode';
import { mkcertCaRoot } from '../core/certs/locations';
import { SECTION } from './contributions';

/** The `tlsLens.*` settings, typed. Read through `readSettings` only. */
export interface Settings {
	readonly target: string;
	readonly port: number;
	readonly listenHost: readonly string[];
	readonly autoStart: boolean;
	readonly extraHostnames: readonly string[];
	readonly keepHsts: boolean;
	readonly rewriteHost: boolean;
	readonly rewriteRedirects: boolean;
	readonly upstreamTlsVerify: boolean;
	readonly captureEnabled: boolean;
	readonly bodyLimit: number;
	readonly budget: number;
	readonly caDirectory: string;
	readonly useMkcertCaRoot: boolean;
}

export function readSettings(): Settings {
	const config = vscode.workspace.getConfiguration(SECTION);
	return {
		target: config.get<string>('target', '').trim(),
		port: config.get<number>('port', 8443),
		listenHost: config.get<string[]>('listenHost', []),
		autoStart: config.get<boolean>('autoStart', false),
		extraHostnames: config.get<string[]>('extraHostnames', []),
		keepHsts: config.get<boolean>('keepHsts', false),
		rewriteHost: config.get<boolean>('rewriteHost', false),
		rewriteRedirects: config.get<boolean>('rewriteRedirects', true),
		upstreamTlsVerify: config.get<boolean>('upstreamTlsVerify', true),
		captureEnabled: config.get<boolean>('capture.enabled', true),
		bodyLimit: config.get<number>('capture.bodyLimit', 1024 * 1024),
		budget: config.get<number>('capture.budget', 64 * 1024 * 1024),
		caDirectory: config.get<string>('caDirectory', '').trim(),
		useMkcertCaRoot: config.get<boolean>('useMkcertCaRoot', false),
	};
}

/** Settings that change what a running proxy does; changing one restarts it. (autoStart does not.) */
export const RESTART_SETTINGS = [
	'target', 'port', 'listenHost', 'extraHostnames', 'keepHsts', 'rewriteHost', 'rewriteRedirects', 'upstreamTlsVerify',
	'capture.enabled', 'capture.bodyLimit', 'capture.budget', 'caDirectory', 'useMkcertCaRoot',
].map((key) => `${SECTION}.${key}`);

/** Where the CA lives for these settings: mkcert's CAROOT, the configured directory, or global storage. */
export function caLocation(settings: Settings, globalStorage: vscode.Uri): { dir: string; create: boolean } {
	if (settings.useMkcertCaRoot) { return { dir: mkcertCaRoot(), create: false }; }
	return { dir: settings.caDirectory || vscode.Uri.joinPath(globalStorage, 'ca').fsPath, create: true };
}
