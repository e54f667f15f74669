/**
 * The `tlsLens.*` settings: one table of keys, types and defaults that everything else derives from.
 * package.json's contributes.configuration must match it (test/unit/settings.test.ts checks both ways);
 * the VS Code layer reads through it, and the engine and CLI take their defaults from it.
 */

/** One setting: its JSON type, its default, its bounds, and whether a change restarts a running proxy. */
export interface SettingSpec<T> {
	readonly type: T extends boolean ? 'boolean' : T extends number ? 'integer' : T extends string ? 'string' : 'array';
	readonly default: T;
	readonly minimum?: number;
	readonly maximum?: number;
	/** Changing it restarts a running proxy (it changes what the proxy does); false for autoStart. */
	readonly restarts: boolean;
}

const MiB = 1024 * 1024;

export const SETTINGS = {
	target: { type: 'string', default: '', restarts: true },
	port: { type: 'integer', default: 8443, minimum: 0, maximum: 65535, restarts: true },
	listenHost: { type: 'array', default: [] as readonly string[], restarts: true },
	autoStart: { type: 'boolean', default: false, restarts: false },
	extraHostnames: { type: 'array', default: [] as readonly string[], restarts: true },
	keepHsts: { type: 'boolean', default: false, restarts: true },
	rewriteHost: { type: 'boolean', default: false, restarts: true },
	rewriteRedirects: { type: 'boolean', default: true, restarts: true },
	upstreamTlsVerify: { type: 'boolean', default: true, restarts: true },
	'capture.enabled': { type: 'boolean', default: true, restarts: true },
	'capture.bodyLimit': { type: 'integer', default: MiB, minimum: 0, restarts: true },
	'capture.budget': { type: 'integer', default: 64 * MiB, minimum: MiB, restarts: true },
	caDirectory: { type: 'string', default: '', restarts: true },
	useMkcertCaRoot: { type: 'boolean', default: false, restarts: true },
} as const satisfies { readonly [key: string]: SettingSpec<boolean> | SettingSpec<number> | SettingSpec<string> | SettingSpec<readonly string[]> };

export type SettingKey = keyof typeof SETTINGS;

/** The value type of setting `K`, widened from its default's literal type. */
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K]['default'] extends boolean ? boolean
	: (typeof SETTINGS)[K]['default'] extends number ? number
		: (typeof SETTINGS)[K]['default'] extends string ? string : readonly string[];
