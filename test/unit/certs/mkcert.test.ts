import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { mkcertCaRoot, openCa } from '../../../src/core/certs';
import { run, tempDir } from '../helpers';

// Debian's real mkcert binary. `mkcert -install` is never run: it would change this machine's trust store.
describe('mkcert interoperability', () => {
	it('mkcert signs with our CA directory as its CAROOT', async () => {
		const caDir = path.join(tempDir(), 'ca');
		const ours = await openCa(caDir);
		const work = tempDir();
		const result = run('mkcert', ['app.localhost', '127.0.0.1'], { cwd: work, env: { ...process.env, CAROOT: caDir } });
		assert.equal(result.status, 0, result.stderr);
		assert.match(result.stderr + result.stdout, /app\.localhost\+1\.pem/);
		const leafFile = path.join(work, 'app.localhost+1.pem');
		const verified = run('openssl', ['verify', '-CAfile', ours.certPath, '-verify_hostname', 'app.localhost', leafFile]);
		assert.equal(verified.status, 0, verified.stdout + verified.stderr);
		const leaf = new X509Certificate(readFileSync(leafFile));
		assert.ok(leaf.checkIssued(new X509Certificate(ours.ca.certPem)));
		// mkcert reused our files instead of making its own CA.
		assert.equal((await openCa(caDir)).ca.fingerprint256, ours.ca.fingerprint256);
	});

	it('uses an existing mkcert CAROOT (RSA, unconstrained) without creating anything', async () => {
		const caroot = path.join(tempDir(), 'mkcert');
		const made = run('mkcert', ['seed.localhost'], { cwd: tempDir(), env: { ...process.env, CAROOT: caroot } });
		assert.equal(made.status, 0, made.stderr);
		assert.equal(mkcertCaRoot({ CAROOT: caroot }), caroot);
		const stored = await openCa(mkcertCaRoot({ CAROOT: caroot }), { create: false });
		const info = stored.ca.describe();
		assert.equal(info.keyType, 'RSA');
		assert.equal(info.permitted, undefined, 'mkcert roots carry no name constraints');
		assert.match(info.subject, /mkcert/);
		const leaf = await stored.ca.issue(['shop.localhost']);
		const work = tempDir();
		const leafFile = path.join(work, 'leaf.pem');
		writeFileSync(leafFile, leaf.certPem);
		const verified = run('openssl', ['verify', '-CAfile', stored.certPath, '-verify_hostname', 'shop.localhost', leafFile]);
		assert.equal(verified.status, 0, verified.stdout + verified.stderr);
		const fresh = path.join(tempDir(), 'none');
		await assert.rejects(openCa(fresh, { create: false }), { code: 'CA_MISSING_FILE' });
		assert.equal(existsSync(fresh), false);
	});

	it('finds mkcert\'s default CAROOT like `mkcert -CAROOT` does', () => {
		const reported = run('mkcert', ['-CAROOT'], { env: { ...process.env, CAROOT: '' } }).stdout.trim();
		assert.equal(mkcertCaRoot({ ...process.env, CAROOT: '' }), reported);
		assert.equal(mkcertCaRoot({}, 'linux', '/home/u'), '/home/u/.local/share/mkcert');
		assert.equal(mkcertCaRoot({ XDG_DATA_HOME: '/x' }, 'linux', '/home/u'), '/x/mkcert');
		assert.equal(mkcertCaRoot({}, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/mkcert');
	});
});
