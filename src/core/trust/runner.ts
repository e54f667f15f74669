import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import type { TrustEnvironment } from './types';

/** How a command ended: exit code (-1 when it could not start) and its output. */
export interface CommandResult {
	readonly code: number;
	readonly stdout: string;
	readonly stderr: string;
}

/**
 * Runs programs for the trust stores. Every command a store runs goes through one of these, so tests
 * can record, answer or forbid them.
 */
export interface CommandRunner {
	run(argv: readonly string[]): Promise<CommandResult>;
}

/** Runs commands for real: no shell, 60 s limit (pkexec waits for a password dialog). */
export const processRunner: CommandRunner = {
	run(argv) {
		return new Promise((resolve) => {
			execFile(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
				resolve({ code, stdout, stderr: stderr || (code === -1 && error ? error.message : '') });
			});
		});
	},
};

/** The real machine, optionally with some parts replaced (tests give another home or runner). */
export function systemEnvironment(overrides: Partial<TrustEnvironment> = {}): TrustEnvironment {
	const env = overrides.env ?? process.env;
	return {
		platform: process.platform,
		home: homedir(),
		env,
		isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
		runner: processRunner,
		which: (name) => which(name, env.PATH ?? '', process.platform),
		...overrides,
	};
}

/** Finds an executable on PATH, then in the sbin directories (a normal user's PATH often lacks them). */
export async function which(name: string, pathVariable: string, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
	if (path.isAbsolute(name)) { return (await isExecutable(name)) ? name : undefined; }
	const separator = platform === 'win32' ? ';' : ':';
	const extra = platform === 'win32' ? [] : ['/usr/local/sbin', '/usr/sbin', '/sbin'];
	const suffixes = platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
	for (const dir of [...pathVariable.split(separator).filter(Boolean), ...extra]) {
		for (const suffix of suffixes) {
			const candidate = path.join(dir, name + suffix);
			if (await isExecutable(candidate)) { return candidate; }
		}
	}
	return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
	try {
		const stat = await fs.stat(file);
		if (!stat.isFile()) { return false; }
		await fs.access(file, fs.constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/** Quotes argv for a POSIX shell, for display and for `sh -c` scripts. */
export function shellQuote(argv: readonly string[]): string {
	return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Quotes argv for display in a Windows command prompt or PowerShell. */
export function windowsQuote(argv: readonly string[]): string {
	return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(arg) ? arg : `"${arg.replace(/"/g, '\\"')}"`)).join(' ');
}

/** Every certificate in a PEM bundle (or a p11-kit file, which embeds PEM), by SHA-256 fingerprint. */
export function pemFingerprints(text: string): string[] {
	const result: string[] = [];
	for (const match of text.matchAll(/-----BEGIN (?:TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:TRUSTED )?CERTIFICATE-----/g)) {
		const der = Buffer.from(match[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
		try {
			result.push(new X509Certificate(der).fingerprint256);
		} catch {
			// A TRUSTED CERTIFICATE (OpenSSL's aux format) has trust data after the DER: hash the
			// certificate part only, which is what a fingerprint names.
			const length = derLength(der);
			if (length > 0 && length <= der.length) {
				result.push(createHash('sha256').update(der.subarray(0, length)).digest('hex').toUpperCase().match(/../g)!.join(':'));
			}
		}
	}
	return result;
}

/** Total length of the DER element at the start of `der` (tag, length and contents), or 0. */
function derLength(der: Buffer): number {
	if (der.length < 2) { return 0; }
	const first = der[1];
	if (first < 0x80) { return 2 + first; }
	const octets = first & 0x7f;
	let length = 0;
	for (let i = 0; i < octets; i++) { length = length * 256 + der[2 + i]; }
	return 2 + octets + length;
}

/** The output of a command, for messages: stdout and stderr trimmed and joined. */
export function outputOf(result: CommandResult): string {
	return [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
}
