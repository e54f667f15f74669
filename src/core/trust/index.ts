// Trust: put the local CA into the stores browsers and tools read, with consent, and take it out again.
import { LinuxSystemStore } from './linuxSystem';
import { MacKeychainStore } from './macos';
import { findNssDatabases, NssStore } from './nss';
import { shellQuote, windowsQuote } from './runner';
import type { CaIdentity, TrustAction, TrustChange, TrustEnvironment, TrustPlan, TrustStatus, TrustStore } from './types';
import { WindowsRootStore } from './windows';

export { ARCH, DEBIAN, detectLinuxFlavor, FEDORA, LinuxSystemStore, type LinuxFlavor } from './linuxSystem';
export { loginKeychain, MacKeychainStore, parseFindCertificateHashes, parseTrustSettingsExport } from './macos';
export { certutilInstallCommand, chromiumNssDirs, findFirefoxProfiles, findNssDatabases, firefoxProfileRoots, NSS_NICKNAME_PREFIX, nssNickname, NssStore, parseCertutilList, parseProfilesIni, type FirefoxProfile, type FirefoxRoot, type NssDatabase, type NssLocation, type ProfilesIniEntry } from './nss';
export { displayPath, xdgConfigHome, xdgDataHome, type XdgEnvironment } from './xdg';
export { pemFingerprints, processRunner, shellQuote, systemEnvironment, which, type CommandResult, type CommandRunner } from './runner';
export * from './types';
export { parseCertutilStore, WindowsRootStore } from './windows';

/** Which stores to look at: all of them, or only the system one / only browser databases. */
export interface DiscoverOptions {
	readonly include?: ReadonlyArray<TrustStore['kind']>;
}

/**
 * The stores that matter on this machine: Linux's system bundle plus every NSS database (Chromium,
 * each Firefox profile); the macOS login keychain (plus Firefox profiles when certutil is there);
 * the Windows user root store.
 */
export async function discoverTrustStores(env: TrustEnvironment, options: DiscoverOptions = {}): Promise<TrustStore[]> {
	const stores: TrustStore[] = [];
	if (env.platform === 'linux') {
		stores.push(new LinuxSystemStore(env));
		stores.push(...(await findNssDatabases(env.home, env.env)).map((db) => new NssStore(env, db)));
	} else if (env.platform === 'darwin') {
		stores.push(new MacKeychainStore(env));
		// Firefox 120+ on macOS trusts roots the user added to the OS (security.enterprise_roots.enabled,
		// the Trust Doctor checks it); its own profiles are changed only when certutil is already installed.
		if (await env.which('certutil')) {
			stores.push(...(await findNssDatabases(env.home, env.env)).filter((db) => db.browser === 'firefox').map((db) => new NssStore(env, db)));
		}
	} else if (env.platform === 'win32') {
		stores.push(new WindowsRootStore(env));
	}
	return options.include ? stores.filter((store) => options.include!.includes(store.kind)) : stores;
}

/** How the UI shows a command: POSIX shell quoting, or Windows quoting for certutil.exe. */
export function formatCommand(argv: readonly string[], platform: NodeJS.Platform = process.platform): string {
	return platform === 'win32' ? windowsQuote(argv) : shellQuote(argv);
}

/** The UI hooks a trust change needs. */
export interface TrustPrompts {
	/**
	 * Shows every store and the exact commands that will run, and resolves true only when the user
	 * agrees. Nothing changes before it resolves, and nothing at all when it resolves false.
	 */
	consent(plans: readonly TrustPlan[], action: TrustAction): Promise<boolean>;
}

/** What a trust change did, store by store. */
export interface TrustReport {
	readonly action: TrustAction;
	/** False when the user declined: then nothing ran. */
	readonly consented: boolean;
	readonly plans: readonly TrustPlan[];
	readonly changes: readonly TrustChange[];
}

/**
 * Plans the change for every store, asks for consent once for all of them, then applies each plan as
 * approved. Stores with nothing to do are reported but not asked about.
 */
export async function changeTrust(stores: readonly TrustStore[], ca: CaIdentity, action: TrustAction, prompts: TrustPrompts): Promise<TrustReport> {
	const plans = await Promise.all(stores.map((store) => store.plan(ca, action)));
	const actionable = plans.filter((plan) => plan.commands.length > 0);
	if (actionable.length === 0) {
		return { action, consented: true, plans, changes: [] };
	}
	if (!await prompts.consent(actionable, action)) {
		return { action, consented: false, plans, changes: [] };
	}
	const changes: TrustChange[] = [];
	for (const plan of actionable) {
		const store = stores.find((candidate) => candidate.id === plan.storeId)!;
		try {
			changes.push(action === 'install' ? await store.install(ca, plan) : await store.uninstall(ca, plan));
		} catch (error) {
			changes.push({ storeId: store.id, storeLabel: store.label, action, outcome: 'failed', message: (error as Error).message, ran: [], changed: [], leftInPlace: [] });
		}
	}
	return { action, consented: true, plans, changes };
}

/** Every store's status, side by side (never throws: a failing store reports `unavailable`). */
export async function trustStatuses(stores: readonly TrustStore[], ca: CaIdentity): Promise<Array<{ store: TrustStore; status: TrustStatus }>> {
	return Promise.all(stores.map(async (store) => {
		try {
			return { store, status: await store.status(ca) };
		} catch (error) {
			return { store, status: { state: 'unavailable' as const, detail: (error as Error).message, entries: [] } };
		}
	}));
}
export { chromiumHstsKey, chromiumNssDir, createNssDatabase, enableFirefoxEnterpriseRoots, firefoxPref, handshakeFailureCheck, handshakeFailures, RECENT_HANDSHAKE_MS, runTrustDoctor, type CheckLevel, type DoctorCheck, type DoctorFix, type DoctorInput, type FixId, type HandshakeFailure } from './doctor';
export { localInstructions } from './instructions';
export { doctorReport } from './report';
