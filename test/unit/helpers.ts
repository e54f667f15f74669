import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A fresh temporary directory, removed after the current mocha suite. */
export function tempDir(prefix = 'tls-lens-test-'): string {
	const dir = mkdtempSync(path.join(tmpdir(), prefix));
	after(() => rmSync(dir, { recursive: true, force: true }));
	return dir;
}

/** Runs a command and returns its exit status and output (never throws on non-zero exit). */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
	const result = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, ...options });
	if (result.error) { throw result.error; }
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Like `run`, but without blocking the event loop: needed when the command talks to a server that
 * lives in this test process.
 */
export function runAsync(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		execFile(command, args, { encoding: 'utf8', timeout: 30_000, ...options }, (error, stdout, stderr) => {
			if (error && typeof error.code !== 'number') { reject(error); return; }
			resolve({ status: error ? error.code as number : 0, stdout, stderr });
		});
	});
}
