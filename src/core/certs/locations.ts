// Where CAs live by default. Kept apart from the CA code so that reading a path does not load the
// certificate library (the extension reads it at activation).
import { homedir } from 'node:os';
import * as path from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The CLI's default CA directory: the platform's per-user data directory, like mkcert's CAROOT
 * (`$XDG_DATA_HOME/tls-lens` or `~/.local/share/tls-lens` on Linux). VS Code uses its global storage.
 */
export function defaultCaDir(env: Env = process.env, platform = process.platform, home = homedir()): string {
	return path.join(dataDir(env, platform, home), 'tls-lens');
}

/** Where mkcert keeps its CA: `$CAROOT` when set, else mkcert's own default (`mkcert -CAROOT`). */
export function mkcertCaRoot(env: Env = process.env, platform = process.platform, home = homedir()): string {
	return env.CAROOT || path.join(dataDir(env, platform, home), 'mkcert');
}

function dataDir(env: Env, platform: string, home: string): string {
	if (platform === 'win32') { return env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'); }
	if (platform === 'darwin') { return path.join(home, 'Library', 'Application Support'); }
	return env.XDG_DATA_HOME || path.join(home, '.local', 'share');
}

