// NSS databases: Chromium/Chrome on Linux and every Firefox profile read their trust from these, not
// from the system bundle. Changed with `certutil` from the NSS tools, without root. Paths follow
// mkcert's truststore_nss.go plus what it misses: Chromium >= M146's $XDG_DATA_HOME/pki/nssdb
// (mkcert#671), Firefox 147+'s $XDG_CONFIG_HOME/mozilla/firefox (mkcert#668), profiles that
// profiles.ini lists anywhere (IsRelative=0), and flatpak.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { executePlan, PlannedStore } from './execute';
import { pemFingerprints } from './runner';
import { displayPath, xdgConfigHome, xdgDataHome, type XdgEnvironment } from './xdg';
import { fingerprintTag, type CaIdentity, type StoreDetection, type TrustAction, type TrustChange, type TrustEntry, type TrustEnvironment, type TrustPlan, type TrustStatus } from './types';

/** Every nickname we install under starts with this; the rest is the fingerprint tag. */
export const NSS_NICKNAME_PREFIX = 'TLS Lens CA ';

/** Adds `certPath` to the NSS database `db` (`sql:DIR`) as `nickname`, trusted for websites (C,,). */
export function nssInstallArgv(db: string, nickname: string, certPath: string): string[] {
	return ['certutil', '-A', '-d', db, '-t', 'C,,', '-n', nickname, '-i', certPath];
}

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

/** A directory that may hold an NSS database, and how to name it for people. */
export interface NssLocation {
	readonly dir: string;
	/** "Chromium / Chrome (~/.pki/nssdb)". */
	readonly label: string;
}

/**
 * Where Chromium-family browsers keep their shared NSS database. The XDG data directory is honoured
 * (`$XDG_DATA_HOME/pki/nssdb`, checked with Chromium 156); snap and flatpak set their own XDG
 * variables inside the sandbox, so their paths are fixed under HOME.
 */
export function chromiumNssDirs(home: string, env: XdgEnvironment = {}): NssLocation[] {
	const under = (relative: string) => path.join(home, relative);
	const candidates: Array<[string, string]> = [
		[under('.pki/nssdb'), 'Chromium / Chrome'],
		// Since M146 the default; an existing ~/.pki/nssdb still wins (Chromium docs/linux/cert_management.md).
		[path.join(xdgDataHome(home, env), 'pki/nssdb'), 'Chromium / Chrome (M146+ location)'],
		[under('.local/share/pki/nssdb'), 'Chromium / Chrome (M146+ location)'],
		[under('snap/chromium/current/.pki/nssdb'), 'Chromium snap'],
		[under('snap/chromium/current/.local/share/pki/nssdb'), 'Chromium snap (M146+ location)'],
		[under('.var/app/org.chromium.Chromium/.pki/nssdb'), 'Chromium flatpak'],
		[under('.var/app/com.google.Chrome/.pki/nssdb'), 'Chrome flatpak'],
	];
	return unique(candidates.map(([dir, name]) => ({ dir, label: `${name} (${displayPath(dir, home)})` })));
}

/**
 * A directory Firefox keeps profiles in: `profiles.ini` lists them (relative to the directory, or
 * absolute with `IsRelative=0`), and profiles it does not list are found as subdirectories of
 * `profilesDir`.
 */
export interface FirefoxRoot {
	/** Where profiles.ini is. */
	readonly dir: string;
	/** Where unlisted profiles are looked for: `dir` itself, or its Profiles folder on macOS. */
	readonly profilesDir: string;
	/** "Firefox", "Firefox snap", "Firefox flatpak". */
	readonly name: string;
}

/**
 * Every directory Firefox may keep profiles in. Firefox 147+ on Linux uses
 * `$XDG_CONFIG_HOME/mozilla/firefox` (default `~/.config/mozilla/firefox`) unless `~/.mozilla`
 * already exists (Mozilla bug 259356); both are read, since an older Firefox or a session without
 * the variable may have used the other. Inside snap and flatpak the sandbox sets the XDG variables
 * itself, so those roots are fixed under HOME (flatpak's XDG_CONFIG_HOME is `~/.var/app/ID/config`).
 */
export function firefoxProfileRoots(home: string, env: XdgEnvironment = {}): FirefoxRoot[] {
	const root = (dir: string, name: string, profilesDir = dir): FirefoxRoot => ({ dir, profilesDir, name });
	const under = (relative: string) => path.join(home, relative);
	const mac = under('Library/Application Support/Firefox');
	const roots = [
		root(path.join(xdgConfigHome(home, env), 'mozilla/firefox'), 'Firefox'),
		root(under('.config/mozilla/firefox'), 'Firefox'),
		root(under('.mozilla/firefox'), 'Firefox'),
		root(under('snap/firefox/common/.mozilla/firefox'), 'Firefox snap'),
		root(under('snap/firefox/common/.config/mozilla/firefox'), 'Firefox snap'),
		root(under('.var/app/org.mozilla.firefox/.mozilla/firefox'), 'Firefox flatpak'),
		root(under('.var/app/org.mozilla.firefox/config/mozilla/firefox'), 'Firefox flatpak'),
		root(mac, 'Firefox', path.join(mac, 'Profiles')),
	];
	return roots.filter((candidate, index) => roots.findIndex((other) => other.dir === candidate.dir) === index);
}

/** One profile entry of profiles.ini. */
export interface ProfilesIniEntry {
	readonly name?: string;
	readonly path: string;
	/** False for `IsRelative=0`: `path` is absolute. */
	readonly isRelative: boolean;
}

/**
 * The `[ProfileN]` sections of a profiles.ini (`[Install…]` and `[General]` name no other profiles).
 * A section without Path is skipped, as Firefox does; a missing IsRelative counts as relative unless
 * the path is absolute.
 */
export function parseProfilesIni(text: string): ProfilesIniEntry[] {
	const entries: ProfilesIniEntry[] = [];
	let section: Map<string, string> | undefined;
	const flush = () => {
		const entryPath = section?.get('Path');
		if (section && entryPath) {
			const isRelative = section.get('IsRelative') === '0' ? false : !path.isAbsolute(entryPath);
			entries.push({ name: section.get('Name'), path: entryPath, isRelative });
		}
	};
	for (const raw of text.split(/\r?\n/)) {
		const line = raw.trim();
		if (!line || line.startsWith(';') || line.startsWith('#')) { continue; }
		const header = /^\[(.*)\]$/.exec(line);
		if (header) {
			flush();
			section = /^Profile\d+$/i.test(header[1]) ? new Map() : undefined;
			continue;
		}
		const eq = line.indexOf('=');
		if (section && eq > 0) { section.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim()); }
	}
	flush();
	return entries;
}

/** One Firefox profile directory (it may not hold a certificate database yet). */
export interface FirefoxProfile {
	readonly dir: string;
	/** "Firefox profile abcd.default-release (~/.config/mozilla/firefox/abcd.default-release)". */
	readonly label: string;
	/** True when a profiles.ini lists it. */
	readonly listed: boolean;
}

/**
 * Every Firefox profile directory under `home`, each once (by real path): those profiles.ini lists in
 * each root, including absolute ones outside every root, then unlisted subdirectories of the roots.
 */
export async function findFirefoxProfiles(home: string, env: XdgEnvironment = {}): Promise<FirefoxProfile[]> {
	const listed: FirefoxProfile[] = [];
	const unlisted: FirefoxProfile[] = [];
	const label = (name: string, dir: string) => `${name} profile ${path.basename(dir)} (${displayPath(dir, home)})`;
	for (const root of firefoxProfileRoots(home, env)) {
		let ini: string | undefined;
		try {
			ini = await fs.readFile(path.join(root.dir, 'profiles.ini'), 'utf8');
		} catch {
			ini = undefined;
		}
		for (const entry of ini === undefined ? [] : parseProfilesIni(ini)) {
			const dir = entry.isRelative ? path.join(root.dir, entry.path) : entry.path;
			if (await isDirectory(dir)) { listed.push({ dir, label: label(root.name, dir), listed: true }); }
		}
		let names: string[];
		try {
			names = (await fs.readdir(root.profilesDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
		} catch {
			continue;
		}
		// Firefox's own folders beside the profiles are no profiles.
		for (const name of names.filter((n) => n !== 'Crash Reports' && n !== 'Pending Pings' && n !== 'Profiles')) {
			const dir = path.join(root.profilesDir, name);
			unlisted.push({ dir, label: label(root.name, dir), listed: false });
		}
	}
	return uniqueByRealPath([...listed, ...unlisted]);
}

/**
 * Every NSS database under `home` that a browser reads, each once (snap's `current` is a symlink; the
 * XDG and default locations may be the same directory).
 *
 * @param env the environment to read `XDG_CONFIG_HOME` and `XDG_DATA_HOME` from (a TrustEnvironment's
 *   `env`); without it only the default locations are searched.
 */
export async function findNssDatabases(home: string, env: XdgEnvironment = {}): Promise<NssDatabase[]> {
	const candidates: Array<NssLocation & { browser: NssDatabase['browser'] }> = [
		...chromiumNssDirs(home, env).map((candidate) => ({ ...candidate, browser: 'chromium' as const })),
		...(await findFirefoxProfiles(home, env)).map((profile) => ({ dir: profile.dir, label: profile.label, browser: 'firefox' as const })),
	];
	const found: NssDatabase[] = [];
	for (const candidate of await uniqueByRealPath(candidates)) {
		const format = await dbFormat(candidate.dir);
		if (format) { found.push({ dir: candidate.dir, browser: candidate.browser, label: candidate.label, format }); }
	}
	return found;
}

function unique<T extends { dir: string }>(items: readonly T[]): T[] {
	return items.filter((item, index) => items.findIndex((other) => other.dir === item.dir) === index);
}

async function uniqueByRealPath<T extends { dir: string }>(items: readonly T[]): Promise<T[]> {
	const seen = new Set<string>();
	const kept: T[] = [];
	for (const item of items) {
		const real = await fs.realpath(item.dir).catch(() => path.resolve(item.dir));
		if (seen.has(real)) { continue; }
		seen.add(real);
		kept.push(item);
	}
	return kept;
}

async function isDirectory(dir: string): Promise<boolean> {
	return fs.stat(dir).then((stat) => stat.isDirectory(), () => false);
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
					argv: nssInstallArgv(db, nickname, ca.certPath),
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
