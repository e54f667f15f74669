// Command construction and output parsing for the stores that cannot run on this Debian machine
// (macOS, Windows, Fedora, Arch, pkexec and sudo hand-off). The sample outputs were written from the
// tools' documented formats; nobody has run these stores on their real systems yet (see README).
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openCa } from '../../../src/core/certs';
import {
	ARCH, caIdentity, discoverTrustStores, FEDORA, formatCommand, LinuxSystemStore, MacKeychainStore, parseCertutilList, parseCertutilStore,
	parseFindCertificateHashes, parseTrustSettingsExport, pemFingerprints, shellQuote, WindowsRootStore, type CaIdentity, type CommandResult, type CommandRunner, type TrustEnvironment,
} from '../../../src/core/trust';
import { tempDir } from '../helpers';

/** Answers commands from a table (by the joined argv), records every call, and fails on anything unexpected. */
class ScriptedRunner implements CommandRunner {
	readonly calls: string[][] = [];
	constructor(private readonly answers: (argv: readonly string[]) => Partial<CommandResult> | undefined) { }
	async run(argv: readonly string[]): Promise<CommandResult> {
		this.calls.push([...argv]);
		const answer = this.answers(argv);
		if (!answer) { throw new Error(`unexpected command: ${argv.join(' ')}`); }
		return { code: 0, stdout: '', stderr: '', ...answer };
	}
}

function environment(platform: NodeJS.Platform, runner: CommandRunner, overrides: Partial<TrustEnvironment> = {}): TrustEnvironment {
	return { platform, home: '/home/alice', env: {}, isRoot: false, runner, which: async (name) => `/usr/bin/${name}`, ...overrides };
}

describe('trust: command construction and output parsing', () => {
	let ca: CaIdentity;
	let tag: string;

	before(async () => {
		const stored = await openCa(path.join(tempDir(), 'ca'), { owner: 'alice@devbox' });
		ca = caIdentity(stored.ca.certPem, stored.certPath);
		tag = ca.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase();
	});

	describe('macOS login keychain (untested on a Mac)', () => {
		const keychain = '/Users/alice/Library/Keychains/login.keychain-db';
		const findOutput = (sha256: string, sha1: string) => [
			`SHA-256 hash: ${sha256}`,
			`SHA-1 hash: ${sha1}`,
			`keychain: "${keychain}"`,
			'version: 512',
			'class: 0x80001000 ',
			'attributes:',
			'    "alis"<blob>="TLS Lens Development CA (alice@mac)"',
			'    "cenc"<uint32>=0x00000003 ',
			'',
		].join('\n');
		const trustPlist = (sha1: string) => `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>trustList</key>
	<dict>
		<key>${sha1}</key>
		<dict>
			<key>issuerName</key>
			<data>MEIxKzApBgNVBAMMIlRMUyBMZW5zIERldmVsb3BtZW50IENB</data>
			<key>modDate</key>
			<date>2026-09-01T10:00:00Z</date>
			<key>serialNumber</key>
			<data>AQ==</data>
			<key>trustSettings</key>
			<array>
				<dict>
					<key>kSecTrustSettingsResult</key>
					<integer>1</integer>
				</dict>
			</array>
		</dict>
	</dict>
	<key>trustVersion</key>
	<integer>1</integer>
</dict>
</plist>
`;

		it('parses find-certificate hashes and trust-settings-export keys', () => {
			assert.deepEqual(parseFindCertificateHashes(findOutput('AB'.repeat(32), 'cd'.repeat(20))), { sha256: ['AB'.repeat(32)], sha1: ['CD'.repeat(20)] });
			assert.deepEqual(parseTrustSettingsExport(trustPlist('0123456789abcdef0123456789ABCDEF01234567')), ['0123456789ABCDEF0123456789ABCDEF01234567']);
		});

		function macStore(state: 'absent' | 'present' | 'trusted') {
			const scratch = tempDir();
			const runner = new ScriptedRunner((argv) => {
				if (argv[1] === 'find-certificate') {
					return { stdout: state === 'absent' ? findOutput('00'.repeat(32), '11'.repeat(20)) : findOutput(ca.fingerprint256.replace(/:/g, ''), ca.sha1) };
				}
				if (argv[1] === 'trust-settings-export') {
					if (state !== 'trusted') { return { code: 1, stderr: 'SecTrustSettingsCreateExternalRepresentation: No Trust Settings were found.' }; }
					writeFileSync(argv[2], trustPlist(ca.sha1));
					return { stdout: '' };
				}
				return { stdout: '' };
			});
			return { runner, store: new MacKeychainStore(environment('darwin', runner, { home: '/Users/alice' }), { tempDir: scratch }) };
		}

		it('install: add-trusted-cert into the login keychain with user trust settings (no -d, no sudo)', async () => {
			const { store } = macStore('absent');
			assert.equal((await store.status(ca)).state, 'not-trusted');
			const plan = await store.plan(ca, 'install');
			assert.deepEqual(plan.commands.map((c) => [c.privilege, c.argv]), [['direct', ['security', 'add-trusted-cert', '-r', 'trustRoot', '-k', keychain, ca.certPath]]]);
		});

		it('status is trusted only with the fingerprint in the keychain AND user trust settings for its SHA-1', async () => {
			assert.equal((await macStore('present').store.status(ca)).state, 'not-trusted');
			const trusted = await macStore('trusted').store.status(ca);
			assert.equal(trusted.state, 'trusted');
			assert.deepEqual((await macStore('trusted').store.plan(ca, 'install')).commands, []);
		});

		it('uninstall: remove-trusted-cert, then delete-certificate by SHA-1; runs exactly that and checks again', async () => {
			const { store, runner } = macStore('trusted');
			const plan = await store.plan(ca, 'uninstall');
			assert.deepEqual(plan.commands.map((c) => c.argv), [
				['security', 'remove-trusted-cert', ca.certPath],
				['security', 'delete-certificate', '-Z', ca.sha1, keychain],
			]);
			runner.calls.length = 0;
			const change = await store.uninstall(ca, plan);
			// The fake keychain still holds it afterwards, so the check afterwards must fail the change.
			assert.equal(change.outcome, 'failed');
			assert.deepEqual(runner.calls.slice(0, 2), plan.commands.map((c) => [...c.argv]));
		});
	});

	describe('Windows CurrentUser Root (untested on Windows)', () => {
		const storeOutput = (sha1: string, spaced: boolean) => [
			'Root "Trusted Root Certification Authorities"',
			'================ Certificate 0 ================',
			'Serial Number: 79ad16a14aa0a5ad4c7358f407132e65',
			'Issuer: CN=Microsoft Root Certificate Authority, DC=microsoft, DC=com',
			' NotBefore: 5/9/2001 4:19 PM',
			' NotAfter: 5/9/2021 4:28 PM',
			'Subject: CN=Microsoft Root Certificate Authority, DC=microsoft, DC=com',
			'CA Version: V0.0',
			'Signature matches Public Key',
			'Root Certificate: Subject matches Issuer',
			'Cert Hash(sha1): cdd4eeae6000ac7f40c3802c171e30148030c072',
			'No key provider information',
			'Cannot find the certificate and private key for decryption.',
			'',
			'================ Certificate 1 ================',
			'Serial Number: 4c0e636a',
			'Issuer: CN=TLS Lens Development CA (alice@win), O=TLS Lens local development CA, OU=alice@win',
			' NotBefore: 9/1/2026 10:00 AM',
			' NotAfter: 8/30/2036 10:00 AM',
			'Subject: CN=TLS Lens Development CA (alice@win), O=TLS Lens local development CA, OU=alice@win',
			'Signature matches Public Key',
			'Root Certificate: Subject matches Issuer',
			`Cert Hash(sha1): ${spaced ? sha1.toLowerCase().match(/../g)!.join(' ') : sha1.toLowerCase()}`,
			'No key provider information',
			'CertUtil: -store command completed successfully.',
			'',
		].join('\r\n');

		it('parses certutil -store output, with and without spaces in the hash', () => {
			for (const spaced of [false, true]) {
				const entries = parseCertutilStore(storeOutput('0123456789ABCDEF0123456789ABCDEF01234567', spaced));
				assert.deepEqual(entries.map((e) => e.sha1), ['CDD4EEAE6000AC7F40C3802C171E30148030C072', '0123456789ABCDEF0123456789ABCDEF01234567']);
				assert.match(entries[1].subject, /^CN=TLS Lens Development CA/);
				assert.equal(entries[1].serial, '4c0e636a');
			}
		});

		it('detects by SHA-1 thumbprint; installs with -addstore and removes with -delstore by thumbprint', async () => {
			let present = false;
			const runner = new ScriptedRunner((argv) => {
				if (argv.join(' ') === 'certutil -user -store Root') { return { stdout: storeOutput(present ? ca.sha1 : '0'.repeat(40), true) }; }
				if (argv[2] === '-addstore') { present = true; return { stdout: 'Root "Trusted Root Certification Authorities"\r\nCertificate "TLS Lens Development CA" added to store.\r\nCertUtil: -addstore command completed successfully.' }; }
				if (argv[2] === '-delstore') { present = false; return { stdout: 'CertUtil: -delstore command completed successfully.' }; }
				return undefined;
			});
			const store = new WindowsRootStore(environment('win32', runner));
			assert.equal((await store.status(ca)).state, 'not-trusted');
			const install = await store.install(ca);
			assert.equal(install.outcome, 'done', install.message);
			assert.deepEqual(runner.calls.filter((c) => c[2] !== '-store').map((c) => c.join(' ')), [`certutil -user -addstore Root ${ca.certPath}`]);
			assert.equal((await store.status(ca)).state, 'trusted');
			const uninstall = await store.uninstall(ca);
			assert.equal(uninstall.outcome, 'done', uninstall.message);
			assert.deepEqual(runner.calls.filter((c) => c[2] === '-delstore'), [['certutil', '-user', '-delstore', 'Root', ca.sha1]]);
			assert.equal(formatCommand(['certutil', '-user', '-addstore', 'Root', 'C:\\Users\\Alice Smith\\rootCA.pem'], 'win32'), 'certutil -user -addstore Root "C:\\Users\\Alice Smith\\rootCA.pem"');
		});

		it('discovers exactly the user root store on Windows', async () => {
			const stores = await discoverTrustStores(environment('win32', new ScriptedRunner(() => undefined)));
			assert.deepEqual(stores.map((s) => s.id), ['windows-user-root']);
		});
	});

	describe('Linux system store: other families and privileges', () => {
		it('Fedora: anchor in /etc/pki/ca-trust/source/anchors, then update-ca-trust extract', async () => {
			const store = new LinuxSystemStore(environment('linux', new ScriptedRunner(() => undefined), { isRoot: true }), { flavor: FEDORA });
			const install = await store.plan(ca, 'install');
			assert.deepEqual(install.commands.map((c) => c.argv), [['sh', '-c', `install -m 0644 -- ${ca.certPath} /etc/pki/ca-trust/source/anchors/tls-lens-${tag}.pem && update-ca-trust extract`]]);
		});

		it('Arch: trust anchor --store / --remove', async () => {
			const store = new LinuxSystemStore(environment('linux', new ScriptedRunner(() => undefined), { isRoot: true }), { flavor: ARCH });
			assert.deepEqual((await store.plan(ca, 'install')).commands.map((c) => c.argv), [['sh', '-c', `trust anchor --store ${ca.certPath}`]]);
			assert.deepEqual(ARCH.uninstallSteps(ca), [['trust', 'anchor', '--remove', ca.certPath]]);
		});

		it('not root, on a desktop with pkexec: one pkexec command (one password prompt)', async () => {
			const runner = new ScriptedRunner(() => ({ code: 126, stderr: 'Error executing command as another user: Request dismissed' }));
			const store = new LinuxSystemStore(environment('linux', runner, { env: { DISPLAY: ':0' } }), { flavor: FEDORA });
			const plan = await store.plan(ca, 'install');
			assert.equal(plan.commands.length, 1);
			assert.equal(plan.commands[0].privilege, 'pkexec');
			assert.deepEqual(plan.commands[0].argv.slice(0, 3), ['pkexec', 'sh', '-c']);
			const change = await store.install(ca, plan);
			assert.equal(change.outcome, 'declined');
			assert.deepEqual(runner.calls, [plan.commands[0].argv]);
		});

		it('pkexec without an authentication agent (exit 127) falls back to the sudo command for a terminal', async () => {
			const runner = new ScriptedRunner(() => ({ code: 127, stderr: 'Error executing command as another user: No authentication agent found.' }));
			const store = new LinuxSystemStore(environment('linux', runner, { env: { WAYLAND_DISPLAY: 'wayland-0' } }), { flavor: FEDORA });
			const change = await store.install(ca);
			assert.equal(change.outcome, 'handed-off');
			assert.equal(change.terminalCommand, `sudo sh -c '${`install -m 0644 -- ${ca.certPath} /etc/pki/ca-trust/source/anchors/tls-lens-${tag}.pem && update-ca-trust extract`}'`);
		});

		it('not root and no desktop (SSH): nothing runs; the exact sudo command is handed back for a visible terminal', async () => {
			const runner = new ScriptedRunner(() => undefined);
			const store = new LinuxSystemStore(environment('linux', runner, { which: async (name) => (name === 'pkexec' ? undefined : `/usr/bin/${name}`) }), { flavor: FEDORA });
			const plan = await store.plan(ca, 'install');
			assert.equal(plan.commands[0].privilege, 'terminal');
			assert.equal(plan.commands[0].argv[0], 'sudo');
			const change = await store.install(ca, plan);
			assert.equal(change.outcome, 'handed-off');
			assert.equal(change.terminalCommand, shellQuote(plan.commands[0].argv));
			assert.deepEqual(runner.calls, []);
		});

		it('refuses to run a plan approved for another store or action', async () => {
			const store = new LinuxSystemStore(environment('linux', new ScriptedRunner(() => undefined), { isRoot: true }), { flavor: FEDORA });
			const plan = await store.plan(ca, 'install');
			await assert.rejects(store.uninstall(ca, plan), /approved plan is for linux-system \(install\)/);
		});
	});

	describe('parsers', () => {
		it('certutil -L listing: nicknames with spaces and trust flags', () => {
			const output = [
				'',
				'Certificate Nickname                                         Trust Attributes',
				'                                                             SSL,S/MIME,JAR/XPI',
				'',
				'TLS Lens CA 0123456789abcdef                                 C,,  ',
				'mkcert development CA 1234                                   CT,C,C',
				'some server cert                                             ,,   ',
				'',
			].join('\n');
			assert.deepEqual(parseCertutilList(output), [
				{ nickname: 'TLS Lens CA 0123456789abcdef', trust: 'C,,' },
				{ nickname: 'mkcert development CA 1234', trust: 'CT,C,C' },
				{ nickname: 'some server cert', trust: ',,' },
			]);
		});

		it('finds fingerprints in PEM bundles and p11-kit files', () => {
			const p11kit = `[p11-kit-object-v1]\nlabel: "TLS Lens Development CA"\ntrusted: true\nnss-mozilla-ca-policy: false\n${ca.certPem}`;
			assert.deepEqual(pemFingerprints(p11kit), [ca.fingerprint256]);
			assert.deepEqual(pemFingerprints(`junk\n${ca.certPem}\n${ca.certPem}`), [ca.fingerprint256, ca.fingerprint256]);
		});
	});
});
