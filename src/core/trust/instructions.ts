import { windowsQuote } from './runner';
import { DEBIAN, FEDORA } from './linuxSystem';
import { keychainInstallArgv } from './macos';
import { nssInstallArgv, nssNickname } from './nss';
import type { CaIdentity } from './types';
import { windowsInstallArgv } from './windows';

/** The file name the instructions tell the user to save the CA as, and use in every command. */
const SAVED = 'tls-lens-rootCA.pem';

/**
 * How to trust the CA on the user's own machine when TLS Lens runs on a remote host (the browser is
 * local, so the remote host's stores would not help it). The commands are the ones the stores
 * themselves run (macos.ts, windows.ts, linuxSystem.ts, nss.ts), on the saved file.
 */
export function localInstructions(ca: CaIdentity, remote: string): string {
	const saved: CaIdentity = { ...ca, certPath: SAVED };
	const sudo = (steps: readonly (readonly string[])[]) => steps.map((step) => `sudo ${sh(step)}`).join(' && ');
	const nickname = nssNickname(ca);
	return [
		'# Trust the TLS Lens CA on your local machine',
		'',
		`TLS Lens runs on **${remote}**, but your browser runs on your local machine: the CA has to be trusted there.`,
		'Installing it into the remote host\'s stores would not help your browser, so TLS Lens does not do that.',
		'',
		`Check the fingerprint after saving: SHA-256 \`${ca.fingerprint256}\` (${ca.commonName}).`,
		'It may only sign for the names in its constraints (localhost, *.localhost, *.test, loopback addresses and your extra names).',
		'',
		`Replace \`${SAVED}\` below with where you saved it.`,
		'',
		'## macOS',
		'```sh',
		sh(keychainInstallArgv('~/Library/Keychains/login.keychain-db', SAVED)),
		'```',
		'',
		'## Windows (PowerShell or cmd)',
		'```bat',
		windowsQuote(windowsInstallArgv(SAVED)),
		'```',
		'',
		'## Linux',
		'System store (curl, openssl), Debian/Ubuntu:',
		'```sh',
		sudo(DEBIAN.installSteps(saved)),
		'```',
		`Fedora: \`${sudo(FEDORA.installSteps(saved))}\`; Arch: \`sudo trust anchor --store ${SAVED}\`.`,
		'',
		'Chromium/Chrome and each Firefox profile (needs `certutil`: `libnss3-tools` / `nss-tools` / `nss`):',
		'```sh',
		`${sh(nssInstallArgv('sql:$HOME/.pki/nssdb', nickname, SAVED))}   # or \${XDG_DATA_HOME:-~/.local/share}/pki/nssdb (Chromium 146+)`,
		`for p in ~/.mozilla/firefox/*/ "\${XDG_CONFIG_HOME:-$HOME/.config}"/mozilla/firefox/*/; do [ -f "$p/cert9.db" ] && ${sh(nssInstallArgv('sql:$p', nickname, SAVED))}; done`,
		'# Profiles that profiles.ini lists elsewhere (IsRelative=0): run the same certutil -A with -d "sql:<their Path>".',
		'```',
		'',
		'## WSL',
		'The browser is on Windows: use the Windows command above from a Windows prompt (the file is reachable as `\\\\wsl$\\…`).',
		'',
		`Then open the forwarded URL (**TLS Lens: Open in Browser**). To undo, remove the certificate the same way (\`certutil -user -delstore Root ${ca.sha1}\`, \`security delete-certificate -Z ${ca.sha1}\`, …).`,
		'',
	].join('\n');
}

/**
 * A command line for the user's own shell: words of safe characters stay bare (so `~` expands), words
 * with a `$` (ours: `$HOME`, the loop's `$p`) are double-quoted so that they expand as one word, and
 * anything else is single-quoted.
 */
function sh(argv: readonly string[]): string {
	return argv.map((arg) => {
		if (/^[A-Za-z0-9_@%+=:,./~-]+$/.test(arg)) return arg;
		if (/^[A-Za-z0-9_@%+=:,./~${}-]+$/.test(arg)) return `"${arg}"`;
		return `'${arg.replace(/'/g, `'\\''`)}'`;
	}).join(' ');
}
