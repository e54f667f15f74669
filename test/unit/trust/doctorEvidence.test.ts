import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DEFAULT_LEAF_NAMES, openCa } from '../../../src/core/certs';
import { ProxySession } from '../../../src/core/session';
import { caIdentity, handshakeFailureCheck, handshakeFailures, RECENT_HANDSHAKE_MS, runTrustDoctor, type DoctorInput, type HandshakeFailure } from '../../../src/core/trust';
import type { Exchange } from '../../../src/shared/exchange';
import { launchChromium } from '../../vscode/testVscode.mjs';
import { runAsync, tempDir } from '../helpers';
import { testEnvironment, TEST_OWNER } from './helpers';

const UNKNOWN_CA = 'TLS alert from client: unknown ca (the client does not trust the TLS Lens CA: install it in the client\'s trust store)';
const NOW = Date.parse('2026-03-01T12:00:00Z');

function failure(secondsAgo: number, sni: string | undefined, client: string, error = UNKNOWN_CA): HandshakeFailure {
	return { time: NOW - secondsAgo * 1000, error, client, ...(sni ? { sni } : {}) };
}

describe('trust: Trust Doctor evidence from failed handshakes', function () {
	this.timeout(60_000);

	it('no untrusted-CA failures: one ok line (other handshake failures are not about trust)', () => {
		const check = handshakeFailureCheck([failure(30, 'localhost', '127.0.0.1:1', 'Not a TLS handshake (plain HTTP sent to the HTTPS port?): wrong version number')], { now: NOW, storesTrusted: true });
		assert.deepEqual([check.id, check.group, check.level, check.fix], ['evidence:handshakes', 'stores', 'ok', undefined]);
		assert.match(check.title, /No client rejected the CA in the last 10 minutes/);
	});

	it('failures say how many, when, which names and clients, and the fix (Trust Local CA…, restart the browser)', () => {
		const check = handshakeFailureCheck([
			failure(540, 'localhost', '127.0.0.1:50001'),
			failure(300, 'app.localhost', '[::1]:50002', 'TLS alert from client: certificate unknown (the client does not trust the TLS Lens CA: install it in the client\'s trust store)'),
			failure(200, 'localhost', '127.0.0.1:50003', 'TLS alert from client: protocol version'),
			failure(125, 'localhost', '127.0.0.1:50004', 'TLS alert from client: bad certificate (the client does not trust the TLS Lens CA: install it in the client\'s trust store)'),
		], { now: NOW, storesTrusted: false });
		assert.equal(check.level, 'error');
		assert.equal(check.title, '3 TLS handshakes failed because the client does not trust the TLS Lens CA');
		assert.match(check.detail, /saw them between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d \(the latest 2 min ago\)\./);
		assert.match(check.detail, /Names asked for: localhost \(2\), app\.localhost \(1\)\. From 127\.0\.0\.1 \(2\), ::1 \(1\)\./);
		assert.match(check.detail, /Trust Local CA….*restart the browser/);
		assert.doesNotMatch(check.detail, /another machine/);
		// No store argument: the fix trusts the CA wherever it is missing.
		assert.deepEqual(check.fix, { id: 'trust.install', label: 'Trust Local CA…' });
	});

	it('one failure, by IP from another machine, with every store trusted: the advice changes; remote windows point to the local machine', () => {
		const check = handshakeFailureCheck([failure(2, undefined, '192.168.1.20:50123')], { now: NOW, storesTrusted: true });
		assert.equal(check.title, '1 TLS handshake failed because the client does not trust the TLS Lens CA');
		assert.match(check.detail, /saw it at \d\d:\d\d:\d\d \(just now\)/);
		assert.match(check.detail, /Names asked for: no name \(by IP address\) \(1\)\. From 192\.168\.1\.20 \(1\) \(192\.168\.1\.20 is another machine: trust the CA there\)/);
		assert.match(check.detail, /Every store TLS Lens checks trusts the CA, so that client reads another one: restart a browser/);
		assert.match(handshakeFailureCheck([failure(2, 'localhost', '127.0.0.1:1')], { now: NOW, storesTrusted: false, remote: true }).detail, /runs on your local machine/);
		// A client whose address capture could not read (its socket was already gone).
		const unknown = handshakeFailureCheck([failure(70, 'localhost', 'unknown:undefined')], { now: NOW, storesTrusted: false }).detail;
		assert.match(unknown, /\(1 min ago\)\. Names asked for: localhost \(1\)\. From an unknown address \(1\)\. Run/);
	});

	it('handshakeFailures: tls-error exchanges of the last ten minutes, after the CA was last trusted, oldest first', () => {
		const exchange = (secondsAgo: number, kind: Exchange['kind'], sni?: string) => ({
			id: secondsAgo, kind, state: kind === 'tls-error' ? 'tls-error' : 'completed', client: '127.0.0.1:5', tls: sni ? { sni } : {},
			timings: { startTime: NOW - secondsAgo * 1000 }, requestBody: { size: 0, captured: 0, truncated: false }, responseBody: { size: 0, captured: 0, truncated: false },
			...(kind === 'tls-error' ? { error: UNKNOWN_CA } : {}),
		}) as Exchange;
		const list = [exchange(RECENT_HANDSHAKE_MS / 1000 + 1, 'tls-error', 'old'), exchange(60, 'tls-error', 'b'), exchange(300, 'tls-error'), exchange(30, 'http', 'ok')];
		assert.deepEqual(handshakeFailures(list, NOW), [failure(300, undefined, '127.0.0.1:5'), failure(60, 'b', '127.0.0.1:5')]);
		assert.deepEqual(handshakeFailures(list, NOW, NOW - 120_000).map((f) => f.sni), ['b']);
	});

	describe('with a real proxy, curl and Chromium', () => {
		let dev: http.Server;
		let session: ProxySession;
		let base: DoctorInput;

		before(async () => {
			const stored = await openCa(path.join(tempDir('tls-lens-evidence-'), 'ca'), { owner: TEST_OWNER });
			dev = http.createServer((_req, res) => res.end('hello'));
			await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', resolve));
			session = await ProxySession.start({ target: String((dev.address() as AddressInfo).port), port: 0, caDir: stored.dir, capture: true });
			const env = testEnvironment(tempDir('tls-lens-evidence-home-'), undefined, { which: async (name) => (name === 'certutil' ? '/usr/bin/certutil' : undefined) });
			base = {
				ca: stored.ca, identity: caIdentity(stored.ca.certPem, stored.certPath), names: [...DEFAULT_LEAF_NAMES], stores: [], env,
				lookup: async () => [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }],
			};
		});

		after(async () => {
			await session?.stop();
			dev?.close();
		});

		it('clients that reject the CA become a failing first check; the other checks still say all is well', async () => {
			const before = await runTrustDoctor({ ...base, handshakeFailures: handshakeFailures(session.store!.list(), Date.now()) });
			assert.equal(before[0].level, 'ok');
			// curl with only the system store, and a real browser without the CA in its NSS database.
			const curl = await runAsync('curl', ['--silent', '--show-error', '--output', '/dev/null', `${session.url}/`], { env: { PATH: process.env.PATH, HOME: tempDir() } });
			assert.equal(curl.status, 60, curl.stderr);
			const browser = await launchChromium([], { env: { ...process.env, HOME: tempDir('tls-lens-evidence-chromium-') } });
			try {
				const page = await browser.newPage();
				await assert.rejects(page.goto(`${session.url}/`), /ERR_CERT_AUTHORITY_INVALID/);
			} finally {
				await browser.close();
			}
			const failures = handshakeFailures(session.store!.list(), Date.now());
			console.log(`      captured: ${failures.map((f) => f.error.replace(/ \(the client.*/, '')).join('; ')}`);
			const checks = await runTrustDoctor({ ...base, handshakeFailures: failures });
			const evidence = checks[0];
			assert.equal(evidence.id, 'evidence:handshakes');
			assert.equal(evidence.level, 'error');
			assert.match(evidence.title, /^[2-9]\d* TLS handshakes failed because the client does not trust the TLS Lens CA$/);
			assert.match(evidence.detail, /Names asked for: localhost \(\d+\)/);
			// Capture names the client when the socket still knew its address (curl may be gone by then).
			assert.match(evidence.detail, /From (127\.0\.0\.1|::1|an unknown address) \(\d\)/);
			assert.doesNotMatch(evidence.detail, /another machine/);
			assert.deepEqual(checks.filter((c) => c.id !== evidence.id && (c.level === 'error' || c.level === 'warn')), []);
			// After "Trust Local CA…" changed a store, the earlier failures are history.
			assert.equal((await runTrustDoctor({ ...base, handshakeFailures: handshakeFailures(session.store!.list(), Date.now(), Date.now()) }))[0].level, 'ok');
		});
	});
});
