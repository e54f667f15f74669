// macOS: the login keychain with *user* trust settings, so no administrator password is needed
// (macOS still shows its own confirmation dialog). mkcert uses the System keychain through sudo
// (truststore_darwin.go); the user domain is enough for Safari, Chrome and Edge, and Firefox reads it
// through security.enterprise_roots.enabled. UNTESTED on a Mac: only command construction and output
// parsing are covered by unit tests here.
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { executePlan, PlannedStore } from './execute';
import type { CaIdentity, StoreDetection, TrustAction, TrustChange, TrustEnvironment, TrustPlan, TrustStatus } from './types';

/** Adds `certPath` to `keychain` as a root this user trusts (no -d: admin settings would need sudo). */
export function keychainInstallArgv(keychain: string, certPath: string): string[] {
	return ['security', 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, certPath];
}

/** The user's login keychain (`login.keychain-db` since macOS 10.12). */
export function loginKeychain(home: string): string {
	return path.posix.join(home, 'Library/Keychains/login.keychain-db');
}

/** Hashes in `security find-certificate -a -Z` output ("SHA-256 hash: …" and "SHA-1 hash: …" lines), upper case. */
export function parseFindCertificateHashes(output: string): { sha256: string[]; sha1: string[] } {
	const pick = (label: string) => [...output.matchAll(new RegExp(`^${label} hash:\\s*([0-9A-Fa-f]+)\\s*$`, 'gm'))].map((m) => m[1].toUpperCase());
	return { sha256: pick('SHA-256'), sha1: pick('SHA-1') };
}

/** SHA-1 keys of `security trust-settings-export` (a plist whose trustList is keyed by certificate SHA-1). */
export function parseTrustSettingsExport(plist: string): string[] {
	const list = /<key>trustList<\/key>\s*<dict>([\s\S]*)<\/dict>\s*<key>trustVersion<\/key>/.exec(plist)?.[1] ?? plist;
	return [...list.matchAll(/<key>([0-9A-Fa-f]{40})<\/key>/g)].map((m) => m[1].toUpperCase());
}

export class MacKeychainStore extends PlannedStore {
	readonly id = 'macos-login';
	readonly kind = 'keychain' as const;
	readonly label = 'macOS login keychain (Safari, Chrome, Edge)';
	private readonly keychain: string;
	private readonly tempDir: string;

	/** @param options.tempDir where `trust-settings-export` writes its plist (default: the OS temp dir) */
	constructor(private readonly env: TrustEnvironment, options: { tempDir?: string } = {}) {
		super();
		this.keychain = loginKeychain(env.home);
		this.tempDir = options.tempDir ?? tmpdir();
	}

	async detect(): Promise<StoreDetection> {
		if (this.env.platform !== 'darwin') { return { usable: false, reason: 'Only on macOS.' }; }
		return { usable: true };
	}

	async status(ca: CaIdentity): Promise<TrustStatus> {
		const found = await this.env.runner.run(['security', 'find-certificate', '-a', '-Z', this.keychain]);
		if (found.code !== 0) { return { state: 'unavailable', detail: `security cannot read ${this.keychain}: ${found.stderr.trim()}`, entries: [] }; }
		const hashes = parseFindCertificateHashes(found.stdout);
		const present = hashes.sha256.includes(ca.fingerprint256.replace(/:/g, '')) || hashes.sha1.includes(ca.sha1);
		const trusted = present && (await this.userTrustSettings()).includes(ca.sha1);
		const entries = present ? [{ where: `certificate ${ca.sha1} in ${this.keychain}`, ours: true, trusted }] : [];
		return {
			state: trusted ? 'trusted' : 'not-trusted',
			detail: trusted ? 'Trusted (login keychain, user trust settings).' : present ? 'In the login keychain, but without trust settings.' : 'Not in the login keychain.',
			entries,
		};
	}

	async plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan> {
		const base = { storeId: this.id, storeLabel: this.label, action };
		const status = await this.status(ca);
		if (action === 'install') {
			if (status.state === 'trusted') { return { ...base, commands: [], skipReason: 'Already trusted.' }; }
			return {
				...base, commands: [{
					// macOS asks to confirm.
					argv: keychainInstallArgv(this.keychain, ca.certPath),
					privilege: 'direct', purpose: 'add the CA to the login keychain and trust it for this user',
				}],
			};
		}
		if (!status.entries.length) { return { ...base, commands: [], skipReason: 'TLS Lens added nothing here.' }; }
		const commands = [];
		if (status.entries.some((entry) => entry.trusted)) {
			commands.push({ argv: ['security', 'remove-trusted-cert', ca.certPath], privilege: 'direct' as const, purpose: 'remove the user trust settings for the CA' });
		}
		commands.push({ argv: ['security', 'delete-certificate', '-Z', ca.sha1, this.keychain], privilege: 'direct' as const, purpose: 'delete the CA from the login keychain' });
		return { ...base, commands };
	}

	protected async execute(ca: CaIdentity, plan: TrustPlan): Promise<TrustChange> {
		return executePlan(this.env, this, ca, plan, { changed: [`certificate ${ca.sha1} in ${this.keychain}`] });
	}

	/** SHA-1 hashes with user-domain trust settings (none: the export fails with "No Trust Settings"). */
	private async userTrustSettings(): Promise<string[]> {
		const file = path.join(this.tempDir, `tls-lens-trust-${process.pid}-${Date.now()}.plist`);
		try {
			const result = await this.env.runner.run(['security', 'trust-settings-export', file]);
			if (result.code !== 0) { return []; }
			return parseTrustSettingsExport(await fs.readFile(file, 'utf8'));
		} catch {
			return [];
		} finally {
			await fs.rm(file, { force: true });
		}
	}
}
