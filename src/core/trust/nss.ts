// NSS databases: Chromium/Chrome on Linux and every Firefox profile read their trust from these, not
// from the system bundle. Changed with `certutil` from the NSS tools, without root. Paths follow
// mkcert's truststore_nss.go plus what it misses: Chromium >= M146's ~/.local/share/pki/nssdb
// (mkcert#671), Firefox's XDG profile directory ~/.config/mozilla/firefox (mkcert#668), and flatpak.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { executePlan, PlannedStore } from './execute';
import { pemFingerprints } from './runner';
import { fingerprintTag, type CaIdentity, type StoreDetection, type TrustAction, type TrustChange, type TrustEntry, type TrustEnvironment, type TrustPlan, type TrustStatus } from './types';

/** Every nickname we install under starts with this; the rest is the fingerprint tag. */
export const NSS_NICKNAME_PREFIX = 'TLS Lens CA ';

/** The nickname our CA gets: unique per CA, so uninstall can never pick someone else's certificate. */
export function nssNickname(ca: CaIdentity): string {
	return NSS_NICKNAME_PREFIX + fingerprintTag(ca);
}

/** One NSS database a browser reads. */
export interface NssDatabase {
	readonly dir: string;
	readonly browser: 'chromium' | 'firefox';
	/** For people: "Chromium / Chrome (~/.pki/nssdb)", "Firefox profile abcd.default-release". */
	readonly label: string;
	/** `sql` (cert9.db, every NSS since 3.35) or `dbm` (cert8.db, very old profiles). */
	readonly format: 'sql' | 'dbm';
}

/** Where Chromium-family browsers keep their shared NSS database, relative to HOME. */
export const CHROMIUM_NSS_DIRS: ReadonlyArray<readonly [string, string]> = [
	['.pki/nssdb', 'Chromium / Chrome'],
	// Since M146 the default; an existing ~/.pki/nssdb still wins (Chromium docs/linux/cert_management.md).
	['.local/share/pki/nssdb', 'Chromium / Chrome (M146+ location)'],
	['snap/chromium/current/.pki/nssdb', 'Chromium snap'],
	['snap/chromium/current/.local/share/pki/nssdb', 'Chromium snap (M146+ location)'],
	['.var/app/org.chromium.Chromium/.pki/nssdb', 'Chromium flatpak'],
	['.var/app/com.google.Chrome/.pki/nssdb', 'Chrome flatpak'],
];

/** Directories that hold Firefox profiles (each profile is a subdirectory with cert9.db), relative to HOME. */
export const FIREFOX_PROFILE_ROOTS: ReadonlyArray<readonly [string, string]> = [
	['.mozilla/firefox', 'Firefox'],
	['.config/mozilla/firefox', 'Firefox'],
	['snap/firefox/common/.mozilla/firefox', 'Firefox snap'],
	['snap/firefox/common/.config/mozilla/firefox', 'Firefox snap'],
	['.var/app/org.mozilla.firefox/.mozilla/firefox', 'Firefox flatpak'],
	['.var/app/org.mozilla.firefox/config/mozilla/firefox', 'Firefox flatpak'],
	['Library/Application Support/Firefox/Profiles', 'Firefox'],
];

/** Every NSS database under `home` that a browser reads, each once (snap's `current` is a symlink). */
export async function findNssDatabases(home: string): Promise<NssDatabase[]> {
	const found: NssDatabase[] = [];
	const seen = new Set<string>();
	const add = async (dir: string, browser: NssDatabase['browser'], label: string) => {
		const format = await dbFormat(dir);
		if (!format) { return; }
		const real = await fs.realpath(dir).catch(() => dir);
		if (seen.has(real)) { return; }
		seen.add(real);
		found.push({ dir, browser, label, format });
	};
	for (const [relative, name] of CHROMIUM_NSS_DIRS) {
		await add(path.join(home, relative), 'chromium', `${name} (~/${relative})`);
	}
	for (const [relative, name] of FIREFOX_PROFILE_ROOTS) {
		const root = path.join(home, relative);
		let profiles: string[];
		try {
			profiles = (await fs.readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
		} catch {
			continue;
		}
		for (const profile of profiles) {
			await add(path.join(root, profile), 'firefox', `${name} profile ${profile} (~/${relative}/${profile})`);
		}
	}
	return found;
}

async function dbFormat(dir: string): Promise<NssDatabase['format'] | undefined> {
	const has = (file: string) => fs.stat(path.join(dir, file)).then((stat) => stat.isFile(), () => false);
	if (await has('cert9.db')) { return 'sql'; }
	if (await has('cert8.db')) { return 'dbm'; }
	return undefined;
}

/** How to get certutil on this kind of system. */
export async function certutilInstallCommand(platform: NodeJS.Platform, exists: (file: string) => Promise<boolean> = fileExists): Promise<string> {
	if (platform === 'darwin') { return 'brew install nss'; }
	if (await exists('/etc/debian_version')) { return 'sudo apt-get install libnss3-tools'; }
	if (await exists('/etc/fedora-release') || await exists('/etc/redhat-release')) { return 'sudo dnf install nss-tools'; }
	if (await exists('/etc/arch-release')) { return 'sudo pacman -S nss'; }
	if (await exists('/etc/SuSE-release') || await exists('/etc/SUSE-brand')) { return 'sudo zypper install mozilla-nss-tools'; }
	return 'install your distribution\'s NSS tools package (libnss3-tools, nss-tools or nss)';
}

function fileExists(file: string): Promise<boolean> {
	return fs.stat(file).then(() => true, () => false);
}

/** One line of `certutil -L`: a nickname and its trust flags (`C,,` = trusted CA for TLS servers). */
export interface NssListing {
	readonly nickname: string;
	readonly trust: string;
}

/** Parses `certutil -L` output (a header, then "nickname<spaces>SSL,S/MIME,JAR/XPI" lines). */
export function parseCertutilList(output: string): NssListing[] {
	const listings: NssListing[] = [];
	for (const line of output.split(/\r?\n/)) {
		if (!line.trim() || /^Certificate Nickname\s/.test(line) || /^\s+SSL,S\/MIME,JAR\/XPI\s*$/.test(line)) { continue; }
		const match = /^(.*?\S)\s+([A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$/.exec(line);
		if (match) { listings.push({ nickname: match[1], trust: match[2] }); }
	}
	return listings;
}

/** True when NSS trust flags make a certificate a trusted CA for TLS servers (`C` in the SSL field). */
export function trustsForTls(trust: string): boolean {
	return trust.split(',')[0].includes('C');
}

/** The NSS database of one browser (profile). */
export class NssStore extends PlannedStore {
	readonly id: string;
	readonly kind = 'nss' as const;
	readonly label: string;

	constructor(private readonly env: TrustEnvironment, readonly database: NssDatabase) {
		super();
		this.id = `nss:${database.dir}`;
		this.label = database.label;
	}

	async detect(): Promise<StoreDetection> {
		if (await this.env.which('certutil')) { return { usable: true }; }
		const fixCommand = await certutilInstallCommand(this.env.platform);
		return { usable: false, reason: `certutil (the NSS tools) is not installed, so ${this.label} cannot be changed. Install it: ${fixCommand}`, fixCommand };
	}

	async status(ca: CaIdentity): Promise<TrustStatus> {
		const detection = await this.detect();
		if (!detection.usable) { return { state: 'unavailable', detail: detection.reason!, entries: [] }; }
		const entries = await this.entries(ca);
		if (entries === undefined) { return { state: 'unavailable', detail: `certutil cannot read ${this.database.dir}.`, entries: [] }; }
		const trusted = entries.some((entry) => entry.trusted);
		return {
			state: trusted ? 'trusted' : 'not-trusted',
			detail: trusted ? `Trusted (${entries.filter((e) => e.trusted).map((e) => e.where).join(', ')}).`
				: entries.length ? 'The CA is there but not trusted for websites.' : 'Not in this database.',
			entries,
		};
	}

	async plan(ca: CaIdentity, action: TrustAction): Promise<TrustPlan> {
		const base = { storeId: this.id, storeLabel: this.label, action };
		const detection = await this.detect();
		if (!detection.usable) { return { ...base, commands: [], skipReason: detection.reason }; }
		const entries = await this.entries(ca);
		if (entries === undefined) { return { ...base, commands: [], skipReason: `certutil cannot read ${this.database.dir}.` }; }
		const db = this.dbArg();
		const nickname = nssNickname(ca);
		if (action === 'install') {
			if (entries.some((entry) => entry.trusted)) { return { ...base, commands: [], skipReason: 'Already trusted.' }; }
			return {
				...base, commands: [{
					argv: ['certutil', '-A', '-d', db, '-t', 'C,,', '-n', nickname, '-i', ca.certPath],
					privilege: 'direct', purpose: `add the CA as "${nickname}", trusted for websites (C,,)`,
				}],
			};
		}
		const ours = entries.filter((entry) => entry.ours);
		if (!ours.length) {
			const others = entries.map((entry) => entry.where);
			return { ...base, commands: [], skipReason: others.length ? `TLS Lens added nothing here; ${others.join(', ')} stays (not added by TLS Lens).` : 'TLS Lens added nothing here.' };
		}
		return {
			...base, commands: ours.map((entry) => ({
				argv: ['certutil', '-D', '-d', db, '-n', entry.where.replace(/^nickname "(.*)"$/, '$1')],
				privilege: 'direct' as const, purpose: `delete ${entry.where}`,
			})),
		};
	}

	protected async execute(ca: CaIdentity, plan: TrustPlan): Promise<TrustChange> {
		const entries = (await this.entries(ca)) ?? [];
		const changed = plan.action === 'install'
			? [`nickname "${nssNickname(ca)}" in ${this.database.dir}`]
			: entries.filter((entry) => entry.ours).map((entry) => `${entry.where} in ${this.database.dir}`);
		const leftInPlace = plan.action === 'uninstall' ? entries.filter((entry) => !entry.ours).map((entry) => `${entry.where} in ${this.database.dir}`) : [];
		return executePlan(this.env, this, ca, plan, { changed, leftInPlace });
	}

	private dbArg(): string {
		return `${this.database.format}:${this.database.dir}`;
	}

	/**
	 * Every certificate in the database with our fingerprint, whatever its nickname (mkcert may have
	 * added the same CA). Undefined when certutil cannot read the database.
	 */
	private async entries(ca: CaIdentity): Promise<TrustEntry[] | undefined> {
		const list = await this.env.runner.run(['certutil', '-L', '-d', this.dbArg()]);
		if (list.code !== 0) { return undefined; }
		const listings = parseCertutilList(list.stdout);
		// Ours first: the common case answers in two certutil calls.
		const ourNickname = nssNickname(ca);
		listings.sort((a, b) => Number(b.nickname === ourNickname) - Number(a.nickname === ourNickname));
		const entries: TrustEntry[] = [];
		const checked = new Set<string>();
		for (const { nickname, trust } of listings) {
			if (checked.has(nickname)) { continue; }
			checked.add(nickname);
			const pem = await this.env.runner.run(['certutil', '-L', '-d', this.dbArg(), '-n', nickname, '-a']);
			const fingerprints = pem.code === 0 ? pemFingerprints(pem.stdout) : [];
			if (!fingerprints.includes(ca.fingerprint256)) { continue; }
			// Two certificates with one subject share a nickname in NSS; deleting by that nickname could
			// take the other one, so such an entry is reported but never counted as ours.
			const alone = fingerprints.length === 1;
			entries.push({ where: `nickname "${nickname}"`, ours: alone && nickname.startsWith(NSS_NICKNAME_PREFIX), trusted: trustsForTls(trust) });
		}
		return entries;
	}
}
