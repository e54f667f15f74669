// Changes THIS machine's real system trust store (root, Debian's update-ca-certificates): every test
// CA is name-constrained to loopback names, is removed in after() whatever happened, and leftovers of
// a killed run are swept before starting.
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DEBIAN, LinuxSystemStore, type TrustPlan } from '../../../src/core/trust';
import { changeTrust } from '../../../src/core/trust';
import { run } from '../helpers';
import { RecordingRunner, runDetached, startProxyFixture, TEST_OWNER, testEnvironment, type ProxyFixture } from './helpers';

const curl = (url: string) => runDetached(['curl', '-sS', '--max-time', '10', url]);
const sClient = (port: number) => runDetached(['openssl', 's_client', '-connect', `localhost:${port}`, '-servername', 'localhost', '-verify_return_error', '-verify_hostname', 'localhost', '-brief']);

/** Symlinks in /etc/ssl/certs that lead to a test anchor (its name link and openssl's hash link). */
function linksTo(anchor: string): string[] {
	const name = path.basename(anchor, '.crt') + '.pem';
	return run('find', ['/etc/ssl/certs', '-maxdepth', '1', '(', '-lname', name, '-o', '-lname', anchor, ')']).stdout.split('\n').filter(Boolean).sort();
}

/** Takes a test anchor out of the store, independently of the code under test. */
function removeAnchor(anchor: string): void {
	rmSync(anchor, { force: true });
	for (const link of linksTo(anchor)) { rmSync(link, { force: true }); }
	run('update-ca-certificates', []);
}

/** Removes anchors of earlier test runs (a killed mocha cannot run its after()). */
function sweepTestAnchors(): void {
	for (const name of readdirSync(DEBIAN.anchorDir).filter((n) => /^tls-lens-[0-9a-f]{16}\.crt$/.test(n))) {
		const file = path.join(DEBIAN.anchorDir, name);
		try {
			if (new X509Certificate(readFileSync(file)).subject.includes(TEST_OWNER)) { removeAnchor(file); }
		} catch { /* not ours to judge */ }
	}
}

describe('trust: Linux system store (real, as root)', function () {
	this.timeout(60_000);
	let fixture: ProxyFixture;
	let store: LinuxSystemStore;
	let runner: RecordingRunner;
	let anchor: string;

	before(async function () {
		if (process.platform !== 'linux' || process.getuid?.() !== 0 || !existsSync('/usr/sbin/update-ca-certificates')) {
			// CI and this machine run as root on Debian; elsewhere the test cannot touch the store.
			this.skip();
		}
		sweepTestAnchors();
		fixture = await startProxyFixture();
		runner = new RecordingRunner();
		store = new LinuxSystemStore(testEnvironment('/nonexistent-home', runner));
		anchor = DEBIAN.anchorFile(fixture.ca)!;
	});

	after(async () => {
		// Always: this is the machine's real trust store.
		if (anchor && (existsSync(anchor) || linksTo(anchor).length)) { removeAnchor(anchor); }
		await fixture?.close();
	});

	it('detects Debian, plans one direct command as root, and curl/openssl do not trust the proxy yet', async () => {
		assert.deepEqual(await store.detect(), { usable: true });
		assert.equal((await store.status(fixture.ca)).state, 'not-trusted');
		const plan = await store.plan(fixture.ca, 'install');
		assert.deepEqual(plan.commands.map((c) => [c.privilege, c.argv]), [['direct', ['sh', '-c', `install -m 0644 -- ${fixture.ca.certPath} ${anchor} && update-ca-certificates`]]]);
		const before = await curl(`${fixture.url}/`);
		assert.equal(before.status, 60, before.output); // CURLE_PEER_FAILED_VERIFICATION
		assert.notEqual((await sClient(fixture.session.port)).status, 0);
	});

	it('declining consent leaves the store as it was', async () => {
		const bundle = readFileSync(DEBIAN.bundle);
		runner.calls.length = 0;
		const report = await changeTrust([store], fixture.ca, 'install', { consent: async () => false });
		assert.equal(report.consented, false);
		assert.deepEqual(runner.calls, []);
		assert.equal(existsSync(anchor), false);
		assert.ok(readFileSync(DEBIAN.bundle).equals(bundle));
	});

	it('install: curl and openssl s_client trust https://localhost:PORT without --cacert', async () => {
		let shown: readonly TrustPlan[] = [];
		const report = await changeTrust([store], fixture.ca, 'install', { consent: async (plans) => { shown = plans; return true; } });
		assert.equal(shown.length, 1);
		const [change] = report.changes;
		assert.equal(change.outcome, 'done', change.message);
		assert.deepEqual(change.changed, [anchor]);
		assert.deepEqual(runner.calls, [['sh', '-c', `install -m 0644 -- ${fixture.ca.certPath} ${anchor} && update-ca-certificates`]]);
		assert.match(change.ran[0].output, /[1-9]\d* added/);
		assert.equal(linksTo(anchor).length, 2, 'the name link and the hash link');
		assert.equal((await store.status(fixture.ca)).state, 'trusted');
		const fetched = await curl(`${fixture.url}/`);
		assert.equal(fetched.status, 0, fetched.output);
		assert.match(fetched.output, /hello through TLS Lens/);
		const handshake = await sClient(fixture.session.port);
		assert.equal(handshake.status, 0, handshake.output);
		assert.match(handshake.output, /Verification: OK/);
	});

	it('uninstall removes exactly the file install added; curl and openssl refuse again', async () => {
		runner.calls.length = 0;
		const change = await store.uninstall(fixture.ca);
		assert.equal(change.outcome, 'done', change.message);
		assert.deepEqual(change.changed, [anchor]);
		assert.deepEqual(change.leftInPlace, []);
		const link = anchor.replace('/usr/local/share/ca-certificates/', '/etc/ssl/certs/').replace(/\.crt$/, '.pem');
		assert.deepEqual(runner.calls, [['sh', '-c', `rm -f -- ${anchor} ${link} && find /etc/ssl/certs -maxdepth 1 -lname ${path.basename(link)} -delete && update-ca-certificates`]]);
		assert.equal(existsSync(anchor), false);
		assert.deepEqual(linksTo(anchor), [], 'no dangling links stay behind');
		assert.equal((await store.status(fixture.ca)).state, 'not-trusted');
		assert.equal((await curl(`${fixture.url}/`)).status, 60);
		const handshake = await sClient(fixture.session.port);
		assert.notEqual(handshake.status, 0);
		assert.match(handshake.output, /unable to get local issuer certificate|self.signed|verify error/i);
		const again = await store.plan(fixture.ca, 'uninstall');
		assert.equal(again.skipReason, 'TLS Lens added nothing here.');
	});
});
