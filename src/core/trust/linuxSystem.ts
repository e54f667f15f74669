// The Linux system bundle: what curl, openssl, Python, Go and (on Fedora, through p11-kit) even NSS
// read. Three tool chains cover the big families, as in mkcert's truststore_linux.go. Changing it
// needs root: as root we run the commands directly; otherwise through pkexec when a desktop can ask
// for the password; otherwise the user runs the exact sudo command in a visible terminal.
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { executePlan, PlannedStore } from './execute';
import { pemFingerprints, shellQuote } from './runner';
import { fingerprintTag, type CaIdentity, type PlannedCommand, type Privilege, type StoreDetection, type TrustAction, type TrustChange, type TrustEntry, type TrustEnvironment, type TrustPlan, type TrustStatus } from './types';

/** One family's way of adding an anchor and rebuilding the bundle. */
export interface LinuxFlavor {
	readonly name: 'debian' | 'fedora' | 'arch';
	/** The tool whose presence identifies the family. */
	readonly tool: string;
	/** Where local anchors live (scanned for our CA, also under other names). */
	readonly anchorDir: string;
	/** The bundle the family builds from its anchors: what "trusted" is checked against. */
	readonly bundle: string;
	/** The file install writes, for flavors that copy a file (Arch's `trust anchor` picks its own name). */
	anchorFile(ca: CaIdentity): string | undefined;
	/** Shell steps, joined with && into one privileged `sh -c` (one password prompt, not several). */
	installSteps(ca: CaIdentity): string[][];
	uninstallSteps(ca: CaIdentity): string[][];
}

const fileName = (ca: CaIdentity, extension: string) => `tls-lens-${fingerprintTag(ca)}${extension}`;

/** Where Debian's update-ca-certificates links each anchor (and openssl's hash links). */
const DEBIAN_CERTS_DIR = '/etc/ssl/certs';

/** Debian, Ubuntu and derivatives: a `.crt` (PEM) in /usr/local/share/ca-certificates. */
export const DEBIAN: LinuxFlavor = {
	name: 'debian',
	tool: 'update-ca-certificates',
	anchorDir: '/usr/local/share/ca-certificates',
	bundle: '/etc/ssl/certs/ca-certificates.crt',
	anchorFile: (ca) => path.posix.join(DEBIAN.anchorDir, fileName(ca, '.crt')),
	installSteps: (ca) => [['install', '-m', '0644', '--', ca.certPath, DEBIAN.anchorFile(ca)!], ['update-ca-certificates']],
	// update-ca-certificates rebuilds the bundle without the file, but leaves its two symlinks in
	// /etc/ssl/certs (the name link and openssl's hash link) dangling unless something else changed;
	// remove exactly those instead of a --fresh that rewrites every link.
	uninstallSteps: (ca) => {
		const link = path.posix.join(DEBIAN_CERTS_DIR, fileName(ca, '.pem'));
		return [
			['rm', '-f', '--', DEBIAN.anchorFile(ca)!, link],
			['find', DEBIAN_CERTS_DIR, '-maxdepth', '1', '-lname', path.posix.basename(link), '-delete'],
			['update-ca-certificates'],
		];
	},
};

/** Fedora, RHEL, CentOS: a PEM in /etc/pki/ca-trust/source/anchors, then `update-ca-trust extract`. */
export const FEDORA: LinuxFlavor = {
	name: 'fedora',
	tool: 'update-ca-trust',
	anchorDir: '/etc/pki/ca-trust/source/anchors',
	bundle: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
	anchorFile: (ca) => path.posix.join(FEDORA.anchorDir, fileName(ca, '.pem')),
	installSteps: (ca) => [['install', '-m', '0644', '--', ca.certPath, FEDORA.anchorFile(ca)!], ['update-ca-trust', 'extract']],
	uninstallSteps: (ca) => [['rm', '-f', '--', FEDORA.anchorFile(ca)!], ['update-ca-trust', 'extract']],
};

/** Arch: p11-kit's `trust anchor`, which stores the certificate and rebuilds the extracted bundles. */
export const ARCH: LinuxFlavor = {
	name: 'arch',
	tool: 'trust',
	anchorDir: '/etc/ca-certificates/trust-source',
	bundle: '/etc/ca-certificates/extracted/tls-ca-bundle.pem',
	anchorFile: () => undefined,
	installSteps: (ca) => [['trust', 'anchor', '--store', ca.certPath]],
	uninstallSteps: (ca) => [['trust', 'anchor', '--remove', ca.certPath]],
};

export const LINUX_FLAVORS: readonly LinuxFlavor[] = [DEBIAN, FEDORA, ARCH];

/** The first family whose tool and anchor directory both exist here. */
export async function detectLinuxFlavor(env: TrustEnvironment): Promise<LinuxFlavor | undefined> {
	for (const flavor of LINUX_FLAVORS) {
		if (await env.which(flavor.tool) && await exists(flavor.anchorDir)) { return flavor; }
	}
	return undefined;
}

export interface LinuxSystemStoreOptions {
	/** The family; detected when omitted. */
	readonly flavor?: LinuxFlavor;
}

export class LinuxSystemStore extends PlannedStore {
	readonly id = 'linux-system';
	readonly kind = 'system' as const;
	readonly label = 'System trust store (curl, openssl, most CLI tools)';
	private flavor: Promise<LinuxFlavor | undefined>;

	constructor(private readonly env: TrustEnvironment, options: LinuxSystemStoreOptions = {}) {
		super();
		this.flavor = options.flavor ? Promise.resolve(options.flavor) : detectLinuxFlavor(env);
	}

	async detect(): Promise<StoreDetection> {
		const flavor = await this.flavor;
		if (!flavor) {
			return { usable: false, reason: 'No supported system trust tool was found (update-ca-certificates, update-ca-trust or p11-kit\'s trust).' };
		}
		return { usable: true };
	}

	/** How privileged commands run here: directly as root, through pkexec on a desktop, else sudo in a terminal. */
	async privilege(): Promise<Privilege> {
		if (this.env.isRoot) { return 'direct'; }
		const desktop = Boolean(this.env.env.DISPLAY || this.env.env.WAYLAND_DISPLAY);
		return desktop && await this.env.which('pkexec') ? 'pkexec' : 'terminal';
	}

	async status(ca: CaIdentity): Promise<TrustStatus> {
		const flavor = await this.flavor;
		if (!flavor) { return { state: 'unavailable', detail: (await this.detect()).reason!, entries: [] }; }
		const entries = await this.anchorEntries(flavor, ca);
		let bundle: string | undefined;
		try {
			bundle = await fs.readFile(flavor.bundle, 'utf8');
		} catch {
			bundle = undefined;
		}
		const inBundle = bundle !== undefined && pemFingerprints(bundle).includes(ca.fingerprint256);
		const marked = entries.map((entry) => ({ ...entry, trusted: inBundle }));
		if (inBundle) {
			return { state: 'trusted', detail: `Trusted: the CA is in ${flavor.bundle}.`, entries: marked };
		}
		if (marked.some((entry) => entry.ours)) {
			return { state: 'not-trusted', detail: `The CA file is in ${flavor.anchorDir}, but ${flavor.bundle} was not rebuilt (run ${flavor.tool}).`, entries: marked };
		}
		return { state: 'not-trusted', detail: bundle === undefined ? `${flavor.bundle} cannot be read.` : `Not in ${flavor.bundle}.`, entries: marked };
	}

	async plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan> {
		const base = { storeId: this.id, storeLabel: this.label, action };
		const flavor = await this.flavor;
		if (!flavor) { return { ...base, commands: [], skipReason: (await this.detect()).reason }; }
		const status = await this.status(ca);
		if (action === 'install' && status.state === 'trusted') {
			return { ...base, commands: [], skipReason: 'Already trusted.' };
		}
		if (action === 'uninstall' && !status.entries.some((entry) => entry.ours)) {
			const others = status.entries.filter((entry) => !entry.ours).map((entry) => entry.where);
			return { ...base, commands: [], skipReason: others.length ? `TLS Lens added nothing here; the CA is also trusted through ${others.join(', ')}, which TLS Lens leaves alone.` : 'TLS Lens added nothing here.' };
		}
		const steps = action === 'install' ? flavor.installSteps(ca) : flavor.uninstallSteps(ca);
		const purpose = action === 'install'
			? `add the CA to ${flavor.anchorFile(ca) ?? flavor.anchorDir} and rebuild ${flavor.bundle}`
			: `remove ${flavor.anchorFile(ca) ?? 'the CA'} and rebuild ${flavor.bundle}`;
		return { ...base, commands: [await this.privileged(steps, purpose)] };
	}

	protected async execute(ca: CaIdentity, plan: TrustPlan): Promise<TrustChange> {
		const flavor = await this.flavor;
		const status = await this.status(ca);
		const ours = flavor?.anchorFile(ca) ?? (flavor ? `the CA in ${flavor.anchorDir} (trust anchor)` : this.label);
		return executePlan(this.env, this, ca, plan, {
			changed: [ours],
			leftInPlace: plan.action === 'uninstall' ? status.entries.filter((entry) => !entry.ours).map((entry) => entry.where) : [],
		});
	}

	/** One command for all steps, so pkexec or sudo asks once. */
	private async privileged(steps: string[][], purpose: string): Promise<PlannedCommand> {
		const privilege = await this.privilege();
		const script = steps.map((step) => shellQuote(step)).join(' && ');
		const argv = privilege === 'direct' ? ['sh', '-c', script] : [privilege === 'pkexec' ? 'pkexec' : 'sudo', 'sh', '-c', script];
		return { argv, privilege, purpose };
	}

	/** Files under the anchor directory that hold our CA; ours is the one named after its fingerprint. */
	private async anchorEntries(flavor: LinuxFlavor, ca: CaIdentity): Promise<TrustEntry[]> {
		const ourFile = flavor.anchorFile(ca);
		const entries: TrustEntry[] = [];
		for (const file of await listFiles(flavor.anchorDir, 3)) {
			let text: string;
			try {
				text = await fs.readFile(file, 'utf8');
			} catch {
				continue;
			}
			if (!pemFingerprints(text).includes(ca.fingerprint256)) { continue; }
			// Arch: `trust anchor --store` writes a .p11-kit file named after the label; it is ours to remove
			// when it holds our exact certificate.
			const isOurs = ourFile ? file === ourFile : file.endsWith('.p11-kit');
			entries.push({ where: file, ours: isOurs, trusted: false });
		}
		return entries;
	}
}

async function exists(file: string): Promise<boolean> {
	try {
		await fs.stat(file);
		return true;
	} catch {
		return false;
	}
}

/** Regular files under `dir`, a few levels deep (Debian allows subdirectories of anchors). */
async function listFiles(dir: string, depth: number): Promise<string[]> {
	let names: Dirent[];
	try {
		names = await fs.readdir(dir, { withFileTypes: true });
	} catch {
		return [];
	}
	const files: string[] = [];
	for (const entry of names) {
		const full = path.join(dir, entry.name);
		if (entry.isFile()) { files.push(full); } else if (entry.isDirectory() && depth > 0) { files.push(...await listFiles(full, depth - 1)); }
	}
	return files;
}
