// Trust Doctor: why does the browser still warn? Checks each store, the certificates, and the traps
// that make a trusted CA look untrusted. Every result that has a one-click fix names it by a FixId;
// the UI decides how to ask and apply (src/vscode/trustUi.ts). No openssl: Node's X509Certificate.
import { createHash, X509Certificate } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CertificateAuthority, IssuedCertificate } from '../certs/ca';
import { CertError } from '../certs/errors';
import { parseHostName } from '../certs/names';
import type { Exchange } from '../../shared/exchange';
import { isUntrustedCaError } from '../../shared/trust';
import { findFirefoxProfiles, NssStore } from './nss';
import type { CaIdentity, TrustEnvironment, TrustStore } from './types';
import { displayPath, xdgConfigHome, xdgDataHome } from './xdg';

const DAY = 24 * 60 * 60 * 1000;
/** Warn this long before the CA expires: re-trusting a new CA takes a moment of the user's time. */
const CA_WARN_DAYS = 60;
/** Leaves renew 10 days before expiry (LeafIssuer); one with less left was not renewed. */
const LEAF_WARN_DAYS = 7;

/**
 * The one-click fixes the UI knows how to apply, each with the argument it needs (typed per fix, so
 * that the code applying one cannot forget or mistake it). `label` is the button's text.
 */
export type DoctorFix =
	/** Install the CA into the store `arg` (a store id), or every store found, through the consent modal. */
	| { readonly id: 'trust.install'; readonly label: string; readonly arg?: string }
	/** Open a terminal with `arg`, the command that installs certutil on this distribution. */
	| { readonly id: 'nss.installCertutil'; readonly label: string; readonly arg: string }
	/** Create an empty NSS database in the directory `arg` (Chromium installed but never started), then install. */
	| { readonly id: 'nss.createChromiumDb'; readonly label: string; readonly arg: string }
	/** Copy chrome://net-internals/#hsts and explain the two clicks that clear the host `arg`. */
	| { readonly id: 'hsts.instructions'; readonly label: string; readonly arg: string }
	/** Write security.enterprise_roots.enabled=true to the user.js of the profile directory `arg`. */
	| { readonly id: 'firefox.enterpriseRoots'; readonly label: string; readonly arg: string }
	/**
	 * Settings and the terminal: turn tlsLens.keepHsts off; reset tlsLens.listenHost to both loopback
	 * addresses; set NODE_EXTRA_CA_CERTS for integrated terminals (VS Code side).
	 */
	| { readonly id: 'settings.keepHstsOff' | 'settings.listenBoth' | 'node.extraCaCerts'; readonly label: string };

export type FixId = DoctorFix['id'];

export type CheckLevel = 'ok' | 'info' | 'warn' | 'error';

export interface DoctorCheck {
	/** Stable id, e.g. `store:linux-system`, `leaf:localhost`, `trap:hsts`, `evidence:handshakes`. */
	readonly id: string;
	readonly group: 'stores' | 'certificates' | 'traps';
	readonly level: CheckLevel;
	readonly title: string;
	/** What was found and what it means, in a sentence or three. */
	readonly detail: string;
	readonly fix?: DoctorFix;
}

export interface DoctorInput {
	readonly ca: CertificateAuthority;
	readonly identity: CaIdentity;
	/** The names the proxy serves: localhost, 127.0.0.1, ::1 and the configured extra names. */
	readonly names: readonly string[];
	/** The stores to check; empty in a remote window (the browser's stores are elsewhere). */
	readonly stores: readonly TrustStore[];
	readonly env: TrustEnvironment;
	/** Set in a remote window: store checks are replaced by one note. */
	readonly remoteName?: string;
	/** tlsLens.listenHost (empty: both loopbacks). */
	readonly listenHosts?: readonly string[];
	/** tlsLens.keepHsts. */
	readonly keepHsts?: boolean;
	/** Leaves the running proxy serves now, for the expiry check. */
	readonly servedLeaves?: readonly IssuedCertificate[];
	/**
	 * The running proxy's recent failed handshakes ({@link handshakeFailures} of its capture). Absent
	 * when no proxy runs or capture is off: then there is no evidence to check.
	 */
	readonly handshakeFailures?: readonly HandshakeFailure[];
	readonly now?: number;
	/** DNS lookup (tests). */
	readonly lookup?: (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;
}

/**
 * Runs every check; never throws (a check that fails to run reports itself as a warning). What the
 * proxy saw comes first: a client that rejected the CA outweighs stores that look fine.
 */
export async function runTrustDoctor(input: DoctorInput): Promise<DoctorCheck[]> {
	const [stores, ...others] = await Promise.all([
		guard('stores', () => storeChecks(input)),
		guard('certificates', () => certificateChecks(input)),
		guard('hsts', () => hstsChecks(input)),
		guard('firefox', () => firefoxChecks(input)),
		guard('localhost', () => localhostCheck(input)),
	]);
	const evidence = input.handshakeFailures === undefined ? [] : [handshakeFailureCheck(input.handshakeFailures, {
		now: input.now ?? Date.now(),
		storesTrusted: stores.length > 0 && stores.every((check) => check.level === 'ok'),
		remote: input.remoteName !== undefined,
	})];
	return [...evidence, ...stores, ...others.flat()];
}

/** How far back the Doctor looks at failed handshakes: long enough to cover "I just tried it". */
export const RECENT_HANDSHAKE_MS = 10 * 60 * 1000;

/** A TLS handshake the running proxy saw fail, as capture recorded it (a `tls-error` exchange). */
export interface HandshakeFailure {
	/** When (ms since the epoch). */
	readonly time: number;
	/** Why, as capture words it: the client's alert, e.g. `TLS alert from client: unknown ca (…)`. */
	readonly error: string;
	/** The name the client asked for (SNI); absent when it connected by IP address. */
	readonly sni?: string;
	/** The client's `address:port` (`[::1]:53122` for IPv6). */
	readonly client: string;
}

/**
 * The failed handshakes among captured `exchanges` from the last {@link RECENT_HANDSHAKE_MS}, oldest
 * first. `since` drops older ones too: failures from before the CA was last trusted are history, not
 * evidence. Pure.
 */
export function handshakeFailures(exchanges: Iterable<Exchange>, now: number, since = 0): HandshakeFailure[] {
	const from = Math.max(since, now - RECENT_HANDSHAKE_MS);
	const failures: HandshakeFailure[] = [];
	for (const exchange of exchanges) {
		if (exchange.kind !== 'tls-error' || exchange.timings.startTime < from) { continue; }
		failures.push({ time: exchange.timings.startTime, error: exchange.error ?? '', client: exchange.client, ...(exchange.tls.sni ? { sni: exchange.tls.sni } : {}) });
	}
	return failures.sort((a, b) => a.time - b.time);
}

/**
 * The evidence check: handshakes that failed because the client does not trust the CA (its alert was
 * unknown_ca, bad_certificate, certificate_unknown or unsupported_certificate; isUntrustedCaError).
 * An error naming how many, when, for which names and from which addresses, with the fix; ok when
 * there were none. `storesTrusted` (every store check passed) changes the advice: then the client
 * reads a store TLS Lens does not check, or was started before the CA was trusted; `remote` (a remote
 * window) points at the local machine instead. Pure.
 */
export function handshakeFailureCheck(failures: readonly HandshakeFailure[], options: { now: number; storesTrusted: boolean; remote?: boolean }): DoctorCheck {
	const base = { id: 'evidence:handshakes', group: 'stores' as const };
	const untrusted = failures.filter((failure) => isUntrustedCaError(failure.error));
	const minutes = Math.round(RECENT_HANDSHAKE_MS / 60_000);
	if (!untrusted.length) {
		return {
			...base, level: 'ok', title: `No client rejected the CA in the last ${minutes} minutes`,
			detail: 'The running proxy recorded no TLS handshake that failed because a client does not trust the TLS Lens CA.',
		};
	}
	const first = untrusted[0];
	const last = untrusted[untrusted.length - 1];
	const count = untrusted.length;
	const when = count === 1 || clock(first.time) === clock(last.time) ? `at ${clock(last.time)} (${ago(last.time, options.now)})`
		: `between ${clock(first.time)} and ${clock(last.time)} (the latest ${ago(last.time, options.now)})`;
	const names = tally(untrusted.map((failure) => failure.sni ?? 'no name (by IP address)'));
	const addresses = untrusted.map((failure) => clientAddress(failure.client));
	const clients = tally(addresses.map((address) => address ?? 'an unknown address'));
	const remote = [...new Set(addresses)].filter((address): address is string => address !== undefined && !isLoopback(address));
	const advice = options.remote
		? 'The browser runs on your local machine: "Trust Local CA…" saves the certificate there and shows how to trust it; then restart the browser.'
		: options.storesTrusted
		? 'Every store TLS Lens checks trusts the CA, so that client reads another one: restart a browser that was already open when the CA was trusted, or trust the CA where that client looks (a Firefox profile elsewhere, a container, another device).'
		: 'Run "Trust Local CA…" to add the CA to the stores that lack it, then restart the browser: browsers read their certificate stores when they start.';
	return {
		...base, level: 'error',
		title: `${count} TLS handshake${count === 1 ? '' : 's'} failed because the client does not trust the TLS Lens CA`,
		detail: `The running proxy saw ${count === 1 ? 'it' : 'them'} ${when}. Names asked for: ${names}. From ${clients}`
			+ `${remote.length ? ` (${remote.join(', ')} ${remote.length === 1 ? 'is' : 'are'} another machine: trust the CA there)` : ''}. ${advice}`
			+ ` Failures older than ${minutes} minutes, or from before TLS Lens last trusted the CA, are not counted.`,
		fix: { id: 'trust.install', label: 'Trust Local CA…' },
	};
}

/** "just now", "40 s ago", "3 min ago", "2 h ago". */
function ago(time: number, now: number): string {
	const seconds = Math.max(0, Math.round((now - time) / 1000));
	if (seconds < 5) { return 'just now'; }
	if (seconds < 60) { return `${seconds} s ago`; }
	const minutes = Math.round(seconds / 60);
	return minutes < 60 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

/** Local wall-clock time, HH:MM:SS. */
function clock(time: number): string {
	const date = new Date(time);
	return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** "localhost (2), app.localhost (1)": most frequent first. */
function tally(values: readonly string[]): string {
	const counts = new Map<string, number>();
	for (const value of values) { counts.set(value, (counts.get(value) ?? 0) + 1); }
	return [...counts].sort((a, b) => b[1] - a[1]).map(([value, n]) => `${value} (${n})`).join(', ');
}

/** `127.0.0.1:53122` → `127.0.0.1`, `[::1]:53122` → `::1`; undefined when capture did not learn it. */
function clientAddress(client: string): string | undefined {
	const address = /^\[(.*)\](?::\d+)?$/.exec(client)?.[1] ?? client.replace(/:[^:]*$/, '');
	return isIP(address) ? address : undefined;
}

function isLoopback(address: string): boolean {
	return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

async function guard(name: string, run: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> {
	try {
		return await run();
	} catch (error) {
		return [{ id: `doctor:${name}`, group: 'traps', level: 'warn', title: `The ${name} check could not run`, detail: (error as Error).message }];
	}
}

async function storeChecks(input: DoctorInput): Promise<DoctorCheck[]> {
	if (input.remoteName) {
		return [{
			id: 'store:remote', group: 'stores', level: 'info', title: `Remote window (${input.remoteName}): this host's stores are not checked`,
			detail: 'Your browser runs on your local machine, so the CA must be trusted there. Use "TLS Lens: Trust Local CA…" to save the certificate locally and see how to trust it.',
		}];
	}
	const checks: DoctorCheck[] = [];
	for (const store of input.stores) {
		const detection = await store.detect();
		if (!detection.usable) {
			checks.push({
				id: `store:${store.id}`, group: 'stores', level: 'warn', title: `${store.label}: cannot be checked`, detail: detection.reason ?? 'Not usable here.',
				fix: detection.fixCommand ? { id: 'nss.installCertutil', label: 'Install certutil…', arg: detection.fixCommand } : undefined,
			});
			continue;
		}
		const status = await store.status(input.identity);
		const firefoxOnLinux = store instanceof NssStore && store.database.browser === 'firefox' && input.env.platform === 'linux';
		checks.push({
			id: `store:${store.id}`, group: 'stores', level: status.state === 'trusted' ? 'ok' : status.state === 'unavailable' ? 'warn' : 'error',
			title: `${store.label}: ${status.state === 'trusted' ? 'trusts the CA' : status.state === 'unavailable' ? 'cannot be read' : 'does not trust the CA'}`,
			detail: status.detail + (firefoxOnLinux && status.state !== 'trusted' ? ' Firefox on Linux reads only its own profile database, not the system store.' : ''),
			fix: status.state === 'not-trusted' ? { id: 'trust.install', label: 'Trust the CA here…', arg: store.id } : undefined,
		});
	}
	if (input.env.platform === 'linux' && !input.stores.some((store) => store instanceof NssStore && store.database.browser === 'chromium')) {
		const browser = await findChromium(input.env);
		if (browser) {
			const dir = await chromiumNssDir(input.env, browser);
			checks.push({
				id: 'store:chromium-missing', group: 'stores', level: 'warn', title: 'Chromium / Chrome has no certificate database yet',
				detail: `${browser} is installed but ${dir} does not exist (it was never started, or started only headless). Chrome would reject the proxy's certificate. Creating the database lets TLS Lens trust the CA there (mkcert misses this since Chromium M146, mkcert#671).`,
				fix: { id: 'nss.createChromiumDb', label: 'Create it and trust the CA…', arg: dir },
			});
		}
	}
	return checks;
}

const CHROMIUM_BINARIES = ['google-chrome', 'google-chrome-stable', 'chromium', 'chromium-browser', 'microsoft-edge', 'brave-browser'];

async function findChromium(env: TrustEnvironment): Promise<string | undefined> {
	for (const name of CHROMIUM_BINARIES) {
		const found = await env.which(name);
		if (found) { return found; }
	}
	return undefined;
}

/**
 * Where a new Chromium database should go: $XDG_DATA_HOME/pki/nssdb (default ~/.local/share/pki/nssdb)
 * for Chromium M146 and later, ~/.pki/nssdb for older ones (Chromium docs/linux/cert_management.md).
 */
export async function chromiumNssDir(env: TrustEnvironment, browser: string): Promise<string> {
	const version = await env.runner.run([browser, '--version']).catch(() => undefined);
	const major = Number(/(\d+)\.\d+\.\d+/.exec(version?.stdout ?? '')?.[1] ?? NaN);
	return Number.isFinite(major) && major < 146 ? path.join(env.home, '.pki/nssdb') : path.join(xdgDataHome(env.home, env.env), 'pki/nssdb');
}

/** Creates an empty NSS database (what Chromium makes on its first start), for the nss.createChromiumDb fix. */
export async function createNssDatabase(env: TrustEnvironment, dir: string): Promise<void> {
	await fs.mkdir(dir, { recursive: true, mode: 0o700 });
	const result = await env.runner.run(['certutil', '-N', '-d', `sql:${dir}`, '--empty-password']);
	if (result.code !== 0) { throw new Error(`certutil -N failed: ${(result.stderr || result.stdout).trim()}`); }
}

async function certificateChecks(input: DoctorInput): Promise<DoctorCheck[]> {
	const now = input.now ?? Date.now();
	const checks: DoctorCheck[] = [];
	const description = input.ca.describe();
	const caDaysLeft = Math.floor((description.notAfter.getTime() - now) / DAY);
	checks.push({
		id: 'ca:expiry', group: 'certificates', level: caDaysLeft < 0 ? 'error' : caDaysLeft < CA_WARN_DAYS ? 'warn' : 'ok',
		title: caDaysLeft < 0 ? 'The CA has expired' : `The CA is valid for ${caDaysLeft} more days`,
		detail: `${description.subject}, SHA-256 ${description.fingerprint256}, valid until ${description.notAfter.toISOString().slice(0, 10)}.`
			+ (caDaysLeft < CA_WARN_DAYS ? ' Move the CA directory away to create a new CA, then trust the new one.' : ''),
	});
	if (!description.permitted) {
		checks.push({
			id: 'ca:unconstrained', group: 'certificates', level: 'info', title: 'The CA has no name constraints',
			detail: 'It can sign for any name (mkcert\'s CA is like that). Its key file is as valuable as your bank\'s certificate: keep it private.',
		});
	}
	const permitted: string[] = [];
	for (const name of input.names) {
		try {
			input.ca.checkName(parseHostName(name));
			permitted.push(name);
		} catch (error) {
			if (!(error instanceof CertError)) { throw error; }
			checks.push({ id: `name:${name}`, group: 'certificates', level: 'error', title: `"${name}" is outside the CA's name constraints`, detail: `${error.message} Browsers reject any certificate for it from this CA.` });
		}
	}
	if (permitted.length) {
		checks.push(await leafCheck(input.ca, permitted, now));
	}
	for (const leaf of input.servedLeaves ?? []) {
		const daysLeft = (leaf.notAfter.getTime() - now) / DAY;
		if (daysLeft < LEAF_WARN_DAYS) {
			checks.push({
				id: `leaf-expiry:${leaf.names.join(',')}`, group: 'certificates', level: daysLeft < 0 ? 'error' : 'warn',
				title: `The certificate served for ${leaf.names.join(', ')} ${daysLeft < 0 ? 'has expired' : `expires in ${Math.max(0, Math.floor(daysLeft))} days`}`,
				detail: 'Leaves renew on their own ten days before expiry; restart the proxy to get a fresh one now.',
			});
		}
	}
	return checks;
}

/** Issues a leaf the way the proxy does and validates it against the CA as a TLS client would. */
async function leafCheck(ca: CertificateAuthority, names: readonly string[], now: number): Promise<DoctorCheck> {
	const issued = await ca.issue(names, now);
	const leaf = new X509Certificate(issued.certPem);
	const root = new X509Certificate(ca.certPem);
	const problems: string[] = [];
	if (!leaf.checkIssued(root)) { problems.push('its issuer does not match the CA'); }
	if (!leaf.verify(root.publicKey)) { problems.push('its signature does not verify with the CA key'); }
	if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) { problems.push('it is outside its validity period'); }
	for (const name of names) {
		const ok = isIP(name.replace(/^\[|\]$/g, '')) ? leaf.checkIP(name.replace(/^\[|\]$/g, '')) !== undefined : leaf.checkHost(name) !== undefined;
		if (!ok) { problems.push(`it does not match ${name}`); }
	}
	return {
		id: 'leaf:validates', group: 'certificates', level: problems.length ? 'error' : 'ok',
		title: problems.length ? 'A leaf certificate from this CA does not validate' : `A leaf for ${names.join(', ')} validates against the CA`,
		detail: problems.length ? `Problems: ${problems.join('; ')}.` : `Signature, issuer, validity (until ${issued.notAfter.toISOString().slice(0, 10)}) and every name check out.`,
	};
}

/** Chromium-family user data directories under the XDG config directory (Chromium docs/user_data_dir.md). */
const CHROMIUM_CONFIG_DIRS = ['chromium', 'google-chrome', 'google-chrome-beta', 'microsoft-edge', 'BraveSoftware/Brave-Browser'];

/** Where Chromium-family browsers keep profiles (each profile's TransportSecurity file holds its HSTS state). */
function chromiumProfileRoots(env: TrustEnvironment): string[] {
	const configHomes = [...new Set([xdgConfigHome(env.home, env.env), path.join(env.home, '.config')])];
	return [
		...configHomes.flatMap((config) => CHROMIUM_CONFIG_DIRS.map((dir) => path.join(config, dir))),
		...['snap/chromium/common/chromium', 'Library/Application Support/Google/Chrome', 'Library/Application Support/Chromium',
			'AppData/Local/Google/Chrome/User Data', 'AppData/Local/Microsoft/Edge/User Data'].map((dir) => path.join(env.home, dir)),
	];
}

/**
 * The key Chromium stores an HSTS host under: base64 of SHA-256 of the host in DNS wire format
 * (length-prefixed labels, ending with a zero byte); see TransportSecurityState::HashHost and
 * TransportSecurityPersister.
 */
export function chromiumHstsKey(host: string): string {
	const labels = host.toLowerCase().replace(/\.$/, '').split('.');
	const wire = Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
	return createHash('sha256').update(wire).digest('base64');
}

async function hstsChecks(input: DoctorInput): Promise<DoctorCheck[]> {
	const checks: DoctorCheck[] = [];
	if (input.keepHsts) {
		checks.push({
			id: 'trap:keep-hsts', group: 'traps', level: 'warn', title: 'The proxy passes Strict-Transport-Security through',
			detail: 'With tlsLens.keepHsts on, a dev server\'s HSTS header reaches the browser, and Chrome then forces HTTPS for that host on every port (http://localhost:3000 included) and refuses to let you click past certificate errors.',
			fix: { id: 'settings.keepHstsOff', label: 'Turn keepHsts off' },
		});
	}
	const hosts = input.names.filter((name) => !isIP(name.replace(/^\[|\]$/g, '')));
	const keys = new Map(hosts.map((host) => [chromiumHstsKey(host), host]));
	const pinned = new Map<string, string[]>();
	for (const base of chromiumProfileRoots(input.env)) {
		let profiles: string[];
		try {
			profiles = (await fs.readdir(base, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
		} catch {
			continue;
		}
		for (const profile of profiles) {
			const file = path.join(base, profile, 'TransportSecurity');
			let state: { sts?: Array<{ host?: string; expiry?: number }> };
			try {
				state = JSON.parse(await fs.readFile(file, 'utf8'));
			} catch {
				continue;
			}
			const nowSeconds = (input.now ?? Date.now()) / 1000;
			for (const entry of state.sts ?? []) {
				const host = entry.host && keys.get(entry.host);
				if (host && (entry.expiry === undefined || entry.expiry > nowSeconds)) {
					pinned.set(host, [...pinned.get(host) ?? [], displayPath(path.join(base, profile), input.env.home)]);
				}
			}
		}
	}
	for (const [host, where] of pinned) {
		checks.push({
			id: `trap:hsts:${host}`, group: 'traps', level: 'warn', title: `Chrome has HSTS pinned for ${host}`,
			detail: `An earlier HTTPS server on ${host} sent Strict-Transport-Security (profile ${where.join(', ')}). Chrome now upgrades http://${host} on every port to HTTPS and will not let you click past a certificate error there, even one from an old certificate. `
				+ `Remove it: open chrome://net-internals/#hsts, type ${host} under "Delete domain security policies" and press Delete.`,
			fix: { id: 'hsts.instructions', label: 'Copy chrome://net-internals/#hsts', arg: host },
		});
	}
	if (!pinned.size) {
		checks.push({ id: 'trap:hsts', group: 'traps', level: 'ok', title: 'No HSTS pinned for the proxy\'s names in Chrome profiles', detail: `Checked ${hosts.join(', ')} in the Chromium-family profiles under your home directory.` });
	}
	return checks;
}

/** The value of `pref` in a profile's prefs.js and user.js (user.js wins, as in Firefox), if set. */
export async function firefoxPref(profile: string, pref: string): Promise<string | undefined> {
	let value: string | undefined;
	for (const file of ['prefs.js', 'user.js']) {
		let text: string;
		try {
			text = await fs.readFile(path.join(profile, file), 'utf8');
		} catch {
			continue;
		}
		const escaped = pref.replace(/\./g, '\\.');
		for (const match of text.matchAll(new RegExp(`^\\s*user_pref\\("${escaped}",\\s*([^)]*?)\\s*\\);`, 'gm'))) { value = match[1]; }
	}
	return value;
}

/**
 * The firefox.enterpriseRoots fix: makes Firefox trust roots added to the OS (macOS keychain, Windows
 * root store). Appends to user.js, which Firefox applies at its next start.
 */
export async function enableFirefoxEnterpriseRoots(profile: string): Promise<void> {
	await fs.appendFile(path.join(profile, 'user.js'), '\n// Added by TLS Lens: trust certificate authorities added to the operating system.\nuser_pref("security.enterprise_roots.enabled", true);\n');
}

async function firefoxChecks(input: DoctorInput): Promise<DoctorCheck[]> {
	if (input.remoteName || input.env.platform === 'linux') {
		// On Linux Firefox never reads the system store (except distributions that route NSS through
		// p11-kit, like Fedora); each profile is a store of its own and is checked above.
		return [];
	}
	const checks: DoctorCheck[] = [];
	for (const { dir: profile } of await findFirefoxProfiles(input.env.home, input.env.env)) {
		const value = await firefoxPref(profile, 'security.enterprise_roots.enabled');
		if (value === 'false') {
			checks.push({
				id: `trap:firefox-roots:${profile}`, group: 'traps', level: 'warn', title: `Firefox profile ${path.basename(profile)} ignores the system's certificates`,
				detail: 'security.enterprise_roots.enabled is false, so Firefox does not trust CAs added to the operating system (the default since Firefox 120 is to trust them). Restart Firefox after the fix.',
				fix: { id: 'firefox.enterpriseRoots', label: 'Enable enterprise roots', arg: profile },
			});
		}
	}
	return checks;
}

async function localhostCheck(input: DoctorInput): Promise<DoctorCheck[]> {
	const lookup = input.lookup ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));
	const addresses = (await lookup('localhost')).map((entry) => entry.address);
	const listen = input.listenHosts?.length ? input.listenHosts : ['127.0.0.1', '::1'];
	const listensOn = (address: string) => listen.includes(address) || listen.includes(isIP(address) === 6 ? '::' : '0.0.0.0') || listen.includes('::');
	const loopback = addresses.filter((address) => address === '::1' || address.startsWith('127.'));
	const base = { id: 'trap:localhost', group: 'traps' as const };
	if (!loopback.length) {
		return [{ ...base, level: 'error', title: `localhost resolves to ${addresses.join(', ') || 'nothing'}`, detail: 'Not a loopback address: check /etc/hosts (or C:\\Windows\\System32\\drivers\\etc\\hosts).' }];
	}
	const reachable = loopback.filter(listensOn);
	if (!reachable.length) {
		return [{
			...base, level: 'error', title: `localhost resolves only to ${loopback.join(', ')}, where the proxy does not listen`,
			detail: `The proxy listens on ${listen.join(', ')} (tlsLens.listenHost). A browser opening https://localhost cannot reach it.`,
			fix: { id: 'settings.listenBoth', label: 'Listen on both loopback addresses' },
		}];
	}
	if (loopback.length === 1 && loopback[0] === '::1') {
		return [{ ...base, level: 'info', title: 'localhost resolves to ::1 only', detail: 'Fine for the proxy (it listens on ::1), but tools that dial 127.0.0.1 for "localhost", and dev servers bound to 127.0.0.1 only, will not meet it there.' }];
	}
	return [{ ...base, level: 'ok', title: `localhost resolves to ${addresses.join(', ')}`, detail: `The proxy listens on ${listen.join(', ')}.` }];
}
