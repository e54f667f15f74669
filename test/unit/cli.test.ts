import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from './helpers';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');

/** Runs the built CLI, as users run it. */
function tlsLens(args: string[], cwd = root, env: NodeJS.ProcessEnv = process.env) {
	return run(process.execPath, [cli, ...args], { cwd, env });
}

describe('tls-lens CLI (built bundle)', () => {
	let caDir: string;
	before(function () {
		if (!existsSync(cli)) {
			this.timeout(60_000);
			assert.equal(run('node', ['esbuild.mjs'], { cwd: root }).status, 0);
		}
		caDir = path.join(tempDir(), 'ca');
	});

	it('ca path creates the CA on first use and prints the certificate path', () => {
		const result = tlsLens(['ca', 'path', '--ca-dir', caDir]);
		assert.equal(result.status, 0, result.stderr);
		assert.equal(result.stdout, path.join(caDir, 'rootCA.pem') + '\n');
		assert.ok(new X509Certificate(readFileSync(result.stdout.trim())).ca);
	});

	it('ca show prints subject, fingerprint, validity and constraints', () => {
		const result = tlsLens(['ca', 'show', '--ca-dir', caDir]);
		assert.equal(result.status, 0, result.stderr);
		const fingerprint = new X509Certificate(readFileSync(path.join(caDir, 'rootCA.pem'))).fingerprint256;
		assert.match(result.stdout, new RegExp(`SHA-256:\\s+${fingerprint}`));
		assert.match(result.stdout, /Subject:\s+CN=TLS Lens Development CA/);
		assert.match(result.stdout, /Valid until:\s+20\d\d-/);
		assert.match(result.stdout, /Permitted:\s+localhost, test, 127\.0\.0\.0\/8, ::1\/128/);
	});

	it('cert writes files named as mkcert names them, verified by openssl', () => {
		const work = tempDir();
		const result = tlsLens(['cert', 'app.localhost', '127.0.0.1', '::1', '--ca-dir', caDir], work);
		assert.equal(result.status, 0, result.stderr);
		const certFile = path.join(work, 'app.localhost+2.pem');
		const keyFile = path.join(work, 'app.localhost+2-key.pem');
		assert.equal(statSync(keyFile).mode & 0o777, 0o600);
		const verified = run('openssl', ['verify', '-CAfile', path.join(caDir, 'rootCA.pem'), '-verify_ip', '::1', certFile]);
		assert.equal(verified.status, 0, verified.stderr);
		const single = tlsLens(['cert', '*.shop.localhost', '--ca-dir', caDir], work);
		assert.equal(single.status, 0, single.stderr);
		assert.ok(existsSync(path.join(work, '_wildcard.shop.localhost.pem')));
	});

	it('cert refuses a name outside the CA constraints with exit 1 and the reason', () => {
		const work = tempDir();
		const result = tlsLens(['cert', 'example.com', '--ca-dir', caDir], work);
		assert.equal(result.status, 1);
		assert.match(result.stderr, /example\.com.*outside the names this CA may sign for/);
		assert.equal(result.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
	});

	for (const [args, reason] of [
		[[], /missing command/],
		[['frobnicate'], /unknown command "frobnicate"/],
		[['ca'], /missing ca command/],
		[['ca', 'path', '--no-such-flag'], /Unknown option '--no-such-flag'/],
		[['cert'], /cert needs at least one NAME/],
		[['ca', 'show', '--ca-dir'], /argument missing/],
	] as const) {
		it(`exits 2 with a reason and usage for: tls-lens ${args.join(' ')}`, () => {
			const result = tlsLens([...args]);
			assert.equal(result.status, 2);
			const [first, ...rest] = result.stderr.split('\n');
			assert.match(first, reason);
			assert.match(rest.join('\n'), /Usage:/);
		});
	}

	it('reports a damaged CA directory exactly', () => {
		const dir = tempDir();
		writeFileSync(path.join(dir, 'rootCA.pem'), readFileSync(path.join(caDir, 'rootCA.pem')));
		const result = tlsLens(['ca', 'show', '--ca-dir', dir]);
		assert.equal(result.status, 1);
		assert.match(result.stderr, /rootCA\.pem exists but rootCA-key\.pem does not/);
	});

	it('--mkcert uses mkcert\'s CAROOT', () => {
		const caroot = path.join(tempDir(), 'mk');
		assert.equal(run('mkcert', ['seed.localhost'], { cwd: tempDir(), env: { ...process.env, CAROOT: caroot } }).status, 0);
		const result = tlsLens(['ca', 'show', '--mkcert'], root, { ...process.env, CAROOT: caroot });
		assert.equal(result.status, 0, result.stderr);
		assert.match(result.stdout, /Subject:.*mkcert/);
		assert.match(result.stdout, /Permitted:\s+any name/);
	});
});
