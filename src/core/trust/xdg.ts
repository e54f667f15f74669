// The XDG base directories (https://specifications.freedesktop.org/basedir-spec/latest/): where
// Firefox 147+ (Mozilla bug 259356) keeps its profiles and Chromium M146+ its NSS database when the
// user moved them with XDG_CONFIG_HOME / XDG_DATA_HOME.
import * as path from 'node:path';

/** The environment variables the XDG lookups read (a TrustEnvironment's `env`). */
export type XdgEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * `$XDG_CONFIG_HOME`, or `~/.config` when it is unset, empty or relative (the specification says a
 * relative path is invalid and must be ignored).
 */
export function xdgConfigHome(home: string, env: XdgEnvironment): string {
	return xdgDir(env.XDG_CONFIG_HOME, path.join(home, '.config'));
}

/** `$XDG_DATA_HOME`, or `~/.local/share` when it is unset, empty or relative. */
export function xdgDataHome(home: string, env: XdgEnvironment): string {
	return xdgDir(env.XDG_DATA_HOME, path.join(home, '.local/share'));
}

function xdgDir(value: string | undefined, fallback: string): string {
	return value && path.isAbsolute(value) ? path.normalize(value) : fallback;
}

/** `dir` for people: `~/…` under `home`, else the absolute path. */
export function displayPath(dir: string, home: string): string {
	const relative = path.relative(home, dir);
	if (relative === '') { return '~'; }
	return relative.startsWith('..') || path.isAbsolute(relative) ? dir : `~/${relative}`;
}
