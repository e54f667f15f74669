import * as vscode from 'vscode';
import { mkcertCaRoot } from '../core/certs/locations';
import { SETTINGS, type SettingKey, type SettingValue } from '../shared/settings';
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
	const get = <K extends SettingKey>(key: K): SettingValue<K> => config.get<SettingValue<K>>(key, SETTINGS[key].default as SettingValue<K>);
	return {
		target: get('target').trim(),
		port: get('port'),
		listenHost: get('listenHost'),
		autoStart: get('autoStart'),
		extraHostnames: get('extraHostnames'),
		keepHsts: get('keepHsts'),
		rewriteHost: get('rewriteHost'),
		rewriteRedirects: get('rewriteRedirects'),
		upstreamTlsVerify: get('upstreamTlsVerify'),
		captureEnabled: get('capture.enabled'),
		bodyLimit: get('capture.bodyLimit'),
		budget: get('capture.budget'),
		caDirectory: get('caDirectory').trim(),
		useMkcertCaRoot: get('useMkcertCaRoot'),
	};
}

/** Settings that change what a running proxy does; changing one restarts it (see SettingSpec.restarts). */
export const RESTART_SETTINGS = (Object.keys(SETTINGS) as SettingKey[]).filter((key) => SETTINGS[key].restarts).map((key) => `${SECTION}.${key}`);

/** Where the CA lives for these settings: mkcert's CAROOT, the configured directory, or global storage. */
export function caLocation(settings: Settings, globalStorage: vscode.Uri): { dir: string; create: boolean } {
	if (settings.useMkcertCaRoot) { return { dir: mkcertCaRoot(), create: false }; }
	return { dir: settings.caDirectory || vscode.Uri.joinPath(globalStorage, 'ca').fsPath, create: true };
}
