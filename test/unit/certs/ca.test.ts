import * as assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, webcrypto, X509Certificate } from 'node:crypto';
import { promises as fs, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CertificateAuthority, openCa, type StoredCa } from '../../../src/core/certs';
import { x509 } from '../../../src/core/certs/x509';
import { run, tempDir } from '../helpers';

/** Signs a leaf for `names` with the CA key, bypassing our own constraint check (a "stolen key"). */
async function rogueLeaf(ca: CertificateAuthority, names: string[]): Promise<string> {
	const caCert = new x509.X509Certificate(ca.certPem);
	const pkcs8 = createPrivateKey(ca.keyPem).export({ type: 'pkcs8', format: 'der' });
	const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
	const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
	const cert = await x509.X509CertificateGenerator.create({
		subject: 'CN=rogue', issuer: caCert.subjectName, publicKey: publicKey.export({ type: 'spki', format: 'der' }),
		signingKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
		extensions: [
			new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
			new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
		],
	});
	return cert.toString('pem') + '\n';
}

function opensslVerify(caFile: string, certPem: string, dir: string, extra: string[] = []): { ok: boolean; output: string } {
	const file = path.join(dir, `leaf-${Math.random().toString(36).slice(2)}.pem`);
	writeFileSync(file, certPem);
	const result = run('openssl', ['verify', '-CAfile', caFile, ...extra, file]);
	return { ok: result.status === 0, output: result.stdout + result.stderr };
}

describe('local certificate authority', () => {
	let dir: string;
	let stored: StoredCa;

	before(async () => {
		dir = path.join(tempDir(), 'ca');
		stored = await openCa(dir, { owner: 'alice@devbox' });
	});

	it('creates an ECDSA P-256 root that Node and OpenSSL accept as a CA', () => {
		assert.equal(stored.created, true);
		const cert = new X509Certificate(stored.ca.certPem);
		assert.equal(cert.ca, true);
		assert.ok(cert.verify(cert.publicKey), 'self-signature verifies');
		assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
		assert.match(cert.subject, /TLS Lens/);
		assert.match(cert.subject, /alice@devbox/);
		const verified = run('openssl', ['verify', '-CAfile', stored.certPath, stored.certPath]);
		assert.equal(verified.status, 0, verified.stderr);
	});

	it('has the extensions a constrained dev root needs', () => {
		const text = run('openssl', ['x509', '-in', stored.certPath, '-noout', '-text']).stdout;
		assert.match(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
		assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
		assert.match(text, /Subject Key Identifier/);
		assert.match(text, /Authority Key Identifier/);
		assert.match(text, /Name Constraints: critical\s+Permitted:\s+DNS:localhost\s+DNS:test\s+IP:127\.0\.0\.0\/255\.0\.0\.0\s+IP:0:0:0:0:0:0:0:1\/FFFF(:FFFF){7}/);
		const serial = new X509Certificate(stored.ca.certPem).serialNumber;
		assert.ok(serial.length >= 30 && serial.length <= 34, `serial ${serial} carries ~128 bits`);
	});

	it('writes the key 0600 and the directory 0700, mkcert layout', () => {
		assert.equal(statSync(dir).mode & 0o777, 0o700);
		assert.equal(statSync(stored.keyPath).mode & 0o777, 0o600);
		assert.equal(path.basename(stored.certPath), 'rootCA.pem');
		assert.equal(path.basename(stored.keyPath), 'rootCA-key.pem');
	});

	it('loads the same CA again instead of creating a new one', async () => {
		const again = await openCa(dir);
		assert.equal(again.created, false);
		assert.equal(again.ca.fingerprint256, stored.ca.fingerprint256);
	});

	it('issues leaves for loopback names that openssl verifies, by name and by IP', async () => {
		const leaf = await stored.ca.issue(['localhost', 'app.localhost', '127.0.0.1', '::1']);
		const scratch = tempDir();
		for (const check of [['-verify_hostname', 'localhost'], ['-verify_hostname', 'app.localhost'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1']]) {
			const result = opensslVerify(stored.certPath, leaf.certPem, scratch, ['-purpose', 'sslserver', ...check]);
			assert.ok(result.ok, `${check.join(' ')}: ${result.output}`);
		}
		const cert = new X509Certificate(leaf.certPem);
		assert.equal(cert.subjectAltName, 'DNS:localhost, DNS:app.localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
		assert.ok(cert.verify(new X509Certificate(stored.ca.certPem).publicKey));
		const lifetimeDays = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
		assert.ok(lifetimeDays <= 30, `leaf lives ${lifetimeDays} days`);
		assert.match(run('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: leaf.certPem }).stdout, /TLS Web Server Authentication/);
	});

	it('refuses to issue outside its constraints, and openssl rejects a rogue leaf signed with the key', async () => {
		await assert.rejects(stored.ca.issue(['example.com']), { code: 'NAME_NOT_PERMITTED', message: /example\.com.*outside/ });
		await assert.rejects(stored.ca.issue(['10.0.0.1']), { code: 'NAME_NOT_PERMITTED' });
		const rogue = await rogueLeaf(stored.ca, ['example.com']);
		const result = opensslVerify(stored.certPath, rogue, tempDir());
		assert.equal(result.ok, false);
		assert.match(result.output, /permitted subtree violation/);
		// Control: the same signer with an allowed name verifies, so the failure above is the constraint.
		assert.ok(opensslVerify(stored.certPath, await rogueLeaf(stored.ca, ['ok.localhost']), tempDir()).ok);
	});

	it('creates extra permitted names on request', async () => {
		const ca = await CertificateAuthority.create({ extraPermitted: ['myapp.internal', '192.168.50.0/24'] });
		assert.deepEqual(ca.describe().permitted, ['localhost', 'test', '127.0.0.0/8', '::1/128', 'myapp.internal', '192.168.50.0/24']);
		const leaf = await ca.issue(['api.myapp.internal', '192.168.50.7']);
		const scratch = tempDir();
		const caFile = path.join(scratch, 'ca.pem');
		writeFileSync(caFile, ca.certPem);
		assert.ok(opensslVerify(caFile, leaf.certPem, scratch, ['-verify_hostname', 'api.myapp.internal']).ok);
	});

	it('creates one CA when two processes race on an empty directory', async () => {
		const raceDir = path.join(tempDir(), 'race');
		const [a, b] = await Promise.all([openCa(raceDir), openCa(raceDir)]);
		assert.equal(a.ca.fingerprint256, b.ca.fingerprint256);
		assert.equal([a.created, b.created].filter(Boolean).length, 1);
		assert.deepEqual((await fs.readdir(raceDir)).sort(), ['rootCA-key.pem', 'rootCA.pem']);
	});
});

describe('loading a damaged or unusable CA', () => {
	let good: StoredCa;
	before(async () => { good = await openCa(path.join(tempDir(), 'good')); });

	async function caDirWith(cert: string | undefined, key: string | undefined): Promise<string> {
		const dir = tempDir();
		if (cert !== undefined) { writeFileSync(path.join(dir, 'rootCA.pem'), cert); }
		if (key !== undefined) { writeFileSync(path.join(dir, 'rootCA-key.pem'), key, { mode: 0o600 }); }
		return dir;
	}

	async function assertUntouched(dir: string, run: () => Promise<unknown>, expected: object) {
		const before = await fs.readdir(dir);
		const contents = await Promise.all(before.map((f) => fs.readFile(path.join(dir, f), 'utf8')));
		await assert.rejects(run(), expected);
		assert.deepEqual(await fs.readdir(dir), before, 'no file added or removed');
		assert.deepEqual(await Promise.all(before.map((f) => fs.readFile(path.join(dir, f), 'utf8'))), contents, 'no file changed');
	}

	it('reports a corrupt certificate by file name', async () => {
		const dir = await caDirWith('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n', good.ca.keyPem);
		await assertUntouched(dir, () => openCa(dir), { code: 'CA_CORRUPT', message: /rootCA\.pem.*cannot be parsed/ });
	});

	it('reports a corrupt or truncated key', async () => {
		const dir = await caDirWith(good.ca.certPem, good.ca.keyPem.slice(0, 60));
		await assertUntouched(dir, () => openCa(dir), { code: 'CA_CORRUPT', message: /rootCA-key\.pem.*cannot be parsed/ });
	});

	it('reports a key that belongs to another CA', async () => {
		const other = await CertificateAuthority.create();
		const dir = await caDirWith(good.ca.certPem, other.keyPem);
		await assertUntouched(dir, () => openCa(dir), { code: 'CA_KEY_MISMATCH' });
	});

	it('never replaces a half-written CA', async () => {
		const onlyKey = await caDirWith(undefined, good.ca.keyPem);
		await assertUntouched(onlyKey, () => openCa(onlyKey), { code: 'CA_MISSING_FILE', message: /rootCA\.pem does not/ });
		const onlyCert = await caDirWith(good.ca.certPem, undefined);
		await assertUntouched(onlyCert, () => openCa(onlyCert), { code: 'CA_MISSING_FILE', message: /keyless/ });
	});

	it('reports an expired CA and a certificate that is not a CA', async () => {
		const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
		const keyPem = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
		const make = (ca: boolean, notAfter: Date) => x509.X509CertificateGenerator.createSelfSigned({
			name: 'CN=test', keys, notBefore: new Date('2020-01-01'), notAfter, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
			extensions: [new x509.BasicConstraintsExtension(ca, undefined, true)],
		});
		const expired = await caDirWith((await make(true, new Date('2021-01-01'))).toString('pem'), keyPem);
		await assertUntouched(expired, () => openCa(expired), { code: 'CA_EXPIRED', message: /expired on 2021-01-01/ });
		const leafOnly = await caDirWith((await make(false, new Date('2100-01-01'))).toString('pem'), keyPem);
		await assertUntouched(leafOnly, () => openCa(leafOnly), { code: 'CA_NOT_A_CA' });
	});

	it('does not create a CA where it was told not to', async () => {
		const dir = tempDir();
		await assert.rejects(openCa(dir, { create: false }), { code: 'CA_MISSING_FILE' });
		assert.deepEqual(await fs.readdir(dir), []);
	});
});
