// The trust-store contract: one interface, one implementation per platform or store (linuxSystem.ts,
// nss.ts, macos.ts, windows.ts). Nothing here imports vscode; prompts come in as hooks (devcert's
// "UI hooks" idea), so the CLI, the extension and the tests drive the same code.
import { createHash, X509Certificate } from 'node:crypto';
import type { CommandRunner } from './runner';

/** The CA as the stores see it: the certificate file and its hashes. Its key is never needed. */
export interface CaIdentity {
	/** The CA certificate, PEM. */
	readonly certPem: string;
	/** Where that PEM lives on disk: the file the store commands read. */
	readonly certPath: string;
	/** SHA-256 of the DER, colon-separated upper-case hex (what browsers and `ca show` print). */
	readonly fingerprint256: string;
	/** SHA-1 of the DER, plain upper-case hex: how the macOS and Windows tools name certificates. */
	readonly sha1: string;
	/** The subject's common name, for labels. */
	readonly commonName: string;
}

/** Builds a CaIdentity from a PEM certificate and its path. */
export function caIdentity(certPem: string, certPath: string): CaIdentity {
	const cert = new X509Certificate(certPem);
	return {
		certPem,
		certPath,
		fingerprint256: cert.fingerprint256,
		sha1: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
		commonName: /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? cert.subject,
	};
}

/** The first 16 hex digits of the SHA-256 fingerprint, lower case: part of every name we install under. */
export function fingerprintTag(ca: CaIdentity): string {
	return ca.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase();
}

export type TrustAction = 'install' | 'uninstall';

/** Which family a store belongs to; the UI groups and explains by it. */
export type TrustStoreKind = 'system' | 'nss' | 'keychain' | 'windows';

/** Whether a store can be used on this machine at all. */
export interface StoreDetection {
	readonly usable: boolean;
	/** Why not, in a sentence, with what to do about it (e.g. how to install certutil). */
	readonly reason?: string;
	/** A command that would make it usable (e.g. `sudo apt-get install libnss3-tools`), if there is one. */
	readonly fixCommand?: string;
}

/** One place in a store that holds our CA. */
export interface TrustEntry {
	/** A file, an NSS nickname, a keychain: where it is, in words a person can find it by. */
	readonly where: string;
	/** True when TLS Lens put it there (so uninstall removes it); false for someone else's copy (e.g. mkcert's). */
	readonly ours: boolean;
	/** True when the entry makes the store trust the CA for TLS servers. */
	readonly trusted: boolean;
}

/**
 * What a store says about our CA right now. Always detected from the store itself (by fingerprint),
 * never remembered from an earlier install.
 */
export interface TrustStatus {
	readonly state: 'trusted' | 'not-trusted' | 'unavailable';
	/** One sentence for people. */
	readonly detail: string;
	readonly entries: readonly TrustEntry[];
}

/** How a command gets the rights it needs. */
export type Privilege =
	/** Run as is: a user store, or the system store when we already are root. */
	| 'direct'
	/** Run through pkexec: the desktop asks for the password. */
	| 'pkexec'
	/** Handed to the user: typed into a visible terminal, where sudo asks for the password. */
	| 'terminal';

/** A command exactly as it will run. */
export interface PlannedCommand {
	readonly argv: readonly string[];
	readonly privilege: Privilege;
	/** What it does, in words. */
	readonly purpose: string;
}

/** What install or uninstall would do to one store; what the consent modal shows. */
export interface TrustPlan {
	readonly storeId: string;
	readonly storeLabel: string;
	readonly action: TrustAction;
	/** The commands, in order. Empty when there is nothing to do (or the store is blocked). */
	readonly commands: readonly PlannedCommand[];
	/** Why nothing will run: already done, or the store cannot be used (with the fix). */
	readonly skipReason?: string;
}

/** A command that ran, and how it ended. */
export interface ExecutedCommand {
	readonly argv: readonly string[];
	readonly code: number;
	readonly output: string;
}

/** What install or uninstall did to one store. */
export interface TrustChange {
	readonly storeId: string;
	readonly storeLabel: string;
	readonly action: TrustAction;
	/**
	 * `done`: the store now is what was asked (checked afterwards); `unchanged`: nothing needed doing;
	 * `handed-off`: the user must run `terminalCommand` (sudo); `failed`: a command failed or the check
	 * afterwards disagrees; `declined`: the password dialog was dismissed.
	 */
	readonly outcome: 'done' | 'unchanged' | 'handed-off' | 'failed' | 'declined';
	readonly message: string;
	readonly ran: readonly ExecutedCommand[];
	/** Entries this call removed (uninstall) or added (install). */
	readonly changed: readonly string[];
	/** Entries of our CA that stay because TLS Lens did not add them (uninstall only). */
	readonly leftInPlace: readonly string[];
	/** For `handed-off`: the exact command line for a terminal. */
	readonly terminalCommand?: string;
}

/**
 * A place that decides whether a browser or tool trusts a CA. Implementations never change anything
 * in `detect`, `status` or `plan`; `install` and `uninstall` run exactly the commands of their plan.
 */
export interface TrustStore {
	/** Stable id (`linux-system`, `nss:/home/me/.pki/nssdb`, `macos-login`, `windows-user-root`). */
	readonly id: string;
	readonly kind: TrustStoreKind;
	/** For people: "Chromium / Chrome (~/.pki/nssdb)". */
	readonly label: string;
	/** Whether the store can be used here, and if not, why and how to fix it. */
	detect(): Promise<StoreDetection>;
	/** Whether the store holds our CA as a trusted root, by fingerprint. */
	status(ca: CaIdentity): Promise<TrustStatus>;
	/** The exact commands install or uninstall would run, without running them. */
	plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan>;
	/** Adds the CA as a trusted root. Runs `approved` when given (what the user consented to), else a fresh plan. */
	install(ca: CaIdentity, approved?: TrustPlan): Promise<TrustChange>;
	/** Removes exactly the entries install added, and reports them and any that stay. */
	uninstall(ca: CaIdentity, approved?: TrustPlan): Promise<TrustChange>;
}

/** What a store implementation needs from the machine; tests pass their own. */
export interface TrustEnvironment {
	readonly platform: NodeJS.Platform;
	readonly home: string;
	readonly env: Readonly<Record<string, string | undefined>>;
	/** True when this process runs as root (uid 0). */
	readonly isRoot: boolean;
	readonly runner: CommandRunner;
	/** The absolute path of an executable (PATH plus the sbin directories), or undefined. */
	which(name: string): Promise<string | undefined>;
}
