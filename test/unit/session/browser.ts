// Real Chromium for the dev-server tests: a HOME whose NSS database trusts the test CA (so pages load
// with no certificate flag, as on a machine where Trust Local CA ran), and polling for what a page or a
// dev server does in its own time.
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { ProxySession } from '../../../src/core/session';
import { launchChromium } from '../../vscode/testVscode.mjs';
import { run, tempDir } from '../helpers';

/** A Chromium HOME whose NSS database trusts `caFile`, so the page loads with no certificate flag. */
export function trustingHome(caFile: string): string {
	const home = tempDir('tls-lens-browser-home-');
	const db = path.join(home, '.pki/nssdb');
	mkdirSync(db, { recursive: true, mode: 0o700 });
	for (const args of [['-N', '-d', `sql:${db}`, '--empty-password'], ['-A', '-d', `sql:${db}`, '-t', 'C,,', '-n', 'TLS Lens test CA', '-i', caFile]]) {
		const result = run('certutil', args);
		assert.equal(result.status, 0, result.stderr);
	}
	return home;
}

/**
 * Creates a CA in a fresh directory (permitting `extraNames` besides localhost) and launches Chromium
 * trusting it. `hostRules` maps names to loopback (e.g. `['app.test']`), as /etc/hosts would.
 */
export async function trustingChromium(options: { extraNames?: readonly string[]; hostRules?: readonly string[] } = {}): Promise<{ browser: Browser; caDir: string }> {
	const caDir = path.join(tempDir(), 'ca');
	// Create the CA first, so Chromium's database can trust it before the browser starts.
	const first = await ProxySession.start({ target: 1, port: 0, caDir, extraNames: options.extraNames });
	await first.stop();
	const args = options.hostRules?.length ? [`--host-resolver-rules=${options.hostRules.map((name) => `MAP ${name} 127.0.0.1`).join(', ')}`] : [];
	const browser = await launchChromium(args, { env: { ...process.env, HOME: trustingHome(path.join(caDir, 'rootCA.pem')) } });
	return { browser, caDir };
}

/** Resolves once `check()` holds, polling every 50 ms; rejects naming `what` after `timeoutMs`. */
export async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}
