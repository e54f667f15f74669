// Windows: the CurrentUser "Trusted Root Certification Authorities" store, changed with certutil
// -user (no administrator rights; Windows itself shows a security warning to confirm the add). Chrome,
// Edge and (with enterprise roots, the default) Firefox read it. mkcert does the same through the
// CryptoAPI (truststore_windows.go). UNTESTED on Windows: only command construction and output parsing
// are covered by unit tests here.
import { executePlan, PlannedStore } from './execute';
import type { CaIdentity, StoreDetection, TrustAction, TrustChange, TrustEnvironment, TrustPlan, TrustStatus } from './types';

/** One certificate in `certutil -store` output. */
export interface WindowsStoreEntry {
	readonly serial: string;
	readonly subject: string;
	/** Upper-case hex without spaces. */
	readonly sha1: string;
}

/** Adds `certPath` to the current user's Root store (Windows asks to confirm). */
export function windowsInstallArgv(certPath: string): string[] {
	return ['certutil', '-user', '-addstore', 'Root', certPath];
}

/**
 * Parses `certutil [-user] -store Root`: blocks that start with "==== Certificate N ====", each with
 * "Serial Number:", "Subject:" and "Cert Hash(sha1):" lines. Older Windows print the hash with spaces
 * between bytes; localized Windows translate the labels, so a bare 40-digit hex line counts too.
 */
export function parseCertutilStore(output: string): WindowsStoreEntry[] {
	const entries: WindowsStoreEntry[] = [];
	for (const block of output.split(/^=+ ?[^=\r\n]* ?=+\s*$/m).slice(1)) {
		const hashLine = /Cert Hash\(sha1\):\s*([0-9a-fA-F ]+)$/m.exec(block)?.[1]
			?? /^[^\r\n:]*\(sha1\)[^\r\n:]*:\s*([0-9a-fA-F ]{40,59})\s*$/m.exec(block)?.[1];
		if (!hashLine) { continue; }
		const sha1 = hashLine.replace(/\s+/g, '').toUpperCase();
		if (!/^[0-9A-F]{40}$/.test(sha1)) { continue; }
		entries.push({
			serial: /Serial Number:\s*(\S+)/.exec(block)?.[1] ?? '',
			subject: /^Subject:\s*(.*)$/m.exec(block)?.[1].trim() ?? '',
			sha1,
		});
	}
	return entries;
}

export class WindowsRootStore extends PlannedStore {
	readonly id = 'windows-user-root';
	readonly kind = 'windows' as const;
	readonly label = 'Windows user root store (Chrome, Edge, Firefox)';

	constructor(private readonly env: TrustEnvironment) {
		super();
	}

	async detect(): Promise<StoreDetection> {
		if (this.env.platform !== 'win32') { return { usable: false, reason: 'Only on Windows.' }; }
		return { usable: true };
	}

	async status(ca: CaIdentity): Promise<TrustStatus> {
		const result = await this.env.runner.run(['certutil', '-user', '-store', 'Root']);
		if (result.code !== 0) { return { state: 'unavailable', detail: `certutil -user -store Root failed: ${(result.stderr || result.stdout).trim()}`, entries: [] }; }
		const present = parseCertutilStore(result.stdout).some((entry) => entry.sha1 === ca.sha1);
		return {
			state: present ? 'trusted' : 'not-trusted',
			detail: present ? 'Trusted (CurrentUser\\Root).' : 'Not in CurrentUser\\Root.',
			entries: present ? [{ where: `certificate ${ca.sha1} in CurrentUser\\Root`, ours: true, trusted: true }] : [],
		};
	}

	async plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan> {
		const base = { storeId: this.id, storeLabel: this.label, action };
		const status = await this.status(ca);
		if (action === 'install') {
			if (status.state === 'trusted') { return { ...base, commands: [], skipReason: 'Already trusted.' }; }
			return { ...base, commands: [{ argv: windowsInstallArgv(ca.certPath), privilege: 'direct', purpose: 'add the CA to CurrentUser\\Root (Windows asks to confirm)' }] };
		}
		if (status.state !== 'trusted') { return { ...base, commands: [], skipReason: 'TLS Lens added nothing here.' }; }
		// By SHA-1 thumbprint: certutil's CertId, which names exactly this certificate.
		return { ...base, commands: [{ argv: ['certutil', '-user', '-delstore', 'Root', ca.sha1], privilege: 'direct', purpose: 'delete the CA from CurrentUser\\Root' }] };
	}

	protected async execute(ca: CaIdentity, plan: TrustPlan): Promise<TrustChange> {
		return executePlan(this.env, this, ca, plan, { changed: [`certificate ${ca.sha1} in CurrentUser\\Root`] });
	}
}
