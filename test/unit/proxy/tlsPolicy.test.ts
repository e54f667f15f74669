import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { runAsync } from '../helpers';
import { makeCa, startHarness, type Harness, type TestCa } from './helpers';

/** Runs openssl s_client against the proxy, writing `script` lines to it with pauses; its whole output and how long it ran. */
function sClient(port: number, caFile: string, args: readonly string[], script: ReadonlyArray<string | number>): Promise<{ output: string; status: number | null; ms: number }> {
	return new Promise((resolve, reject) => {
		const started = Date.now();
		const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', caFile, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (chunk) => { output += chunk; });
		child.stderr.on('data', (chunk) => { output += chunk; });
		child.stdin.on('error', () => undefined);
		const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
		child.once('error', reject);
		child.once('exit', (status) => { clearTimeout(timer); resolve({ output, status, ms: Date.now() - started }); });
		void (async () => {
			for (const step of script) {
				if (typeof step === 'number') await new Promise((wake) => setTimeout(wake, step));
				else if (child.exitCode === null) child.stdin.write(step);
			}
			// Keep stdin open: a connection that stays up after a refused renegotiation must show as a timeout here.
		})();
	});
}

describe('proxy: TLS policy (openssl s_client)', function () {
	this.timeout(30_000);
	let ca: TestCa;
	let h: Harness;

	before(async () => {
		ca = await makeCa();
		h = await startHarness(ca);
	});
	after(() => h?.close());

	it("offers TLS 1.2 only with ECDHE and AEAD suites (Mozilla's intermediate set): no CBC", async () => {
		for (const suite of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384']) {
			const result = await runAsync('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${h.port} -servername localhost -tls1_2 -cipher ${suite} -CAfile '${ca.caFile}' 2>&1`]);
			assert.match(result.stdout, /alert handshake failure|no cipher/i, `${suite} must be refused:\n${result.stdout}`);
		}
		for (const suite of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
			const result = await runAsync('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${h.port} -servername localhost -tls1_2 -cipher ${suite} -CAfile '${ca.caFile}' 2>&1`]);
			assert.match(result.stdout, new RegExp(`New, TLSv1\\.2, Cipher is ${suite}`), result.stdout);
		}
		const old = await runAsync('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${h.port} -servername localhost -tls1_1 -CAfile '${ca.caFile}' 2>&1`]);
		assert.doesNotMatch(old.stdout, /New, TLSv1\.1/);
	});

	it('refuses client-initiated renegotiation on an HTTP/1.1 connection, and the connection ends', async () => {
		const request = 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n';
		// s_client renegotiates on a line that is just "R".
		const result = await sClient(h.port, ca.caFile, ['-tls1_2', '-alpn', 'http/1.1'], [500, request, 500, 'R\n', 500, 'R\n', 500, 'R\n']);
		assert.match(result.output, /HTTP\/1\.1 200 OK/, 'the connection served a request first');
		assert.match(result.output, /no renegotiation/, result.output);
		assert.equal(result.output.split('RENEGOTIATING').length - 1, 1, 'one attempt, refused; no second one on the same connection');
		assert.ok(result.ms < 10_000, `s_client ended after ${result.ms} ms: the connection did not stay open`);
		// The proxy serves on.
		const again = await runAsync('curl', ['-sS', '--cacert', ca.caFile, `https://localhost:${h.port}/hello`]);
		assert.equal(again.stdout, 'hello');
	});
});
