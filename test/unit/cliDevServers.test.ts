import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { run, tempDir } from './helpers';

const root = path.resolve(__dirname, '../..');

describe('tls-lens proxy command: dev servers that bypass or refuse the proxy', function () {
	this.timeout(30_000);

	it('logs one warning when a webpack-dev-server bundle would bypass the proxy: the address it would dial and the config change', async () => {
		// Build now: the check is new, and an older dist/cli.js would not have it.
		assert.equal(run('node', ['esbuild.mjs'], { cwd: root }).status, 0);
		const bundle = 'eval("var __resourceQuery = \\"?protocol=ws%3A&hostname=0.0.0.0&port=18931&pathname=%2Fws&hot=true\\";");'
			+ '//# sourceURL=webpack://app/./node_modules/webpack-dev-server/client/index.js?protocol=ws%3A&hostname=0.0.0.0&port=18931&pathname=%2Fws&hot=true\n';
		const target = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/javascript; charset=utf-8' }); res.end(bundle); });
		await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
		const caDir = path.join(tempDir(), 'ca');
		const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), '--target', String((target.address() as AddressInfo).port), '--port', '0', '--ca-dir', caDir], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr!.on('data', (chunk) => { stderr += chunk; });
		try {
			const ready = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk) => resolve(String(chunk))));
			const url = /ready (https:\/\/localhost:\d+)/.exec(ready)![1];
			const ca = readFileSync(path.join(caDir, 'rootCA.pem'), 'utf8');
			for (let i = 0; i < 2; i++) {
				await new Promise<void>((resolve, reject) => https.get(`${url}/main.js`, { ca }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
			}
			const deadline = Date.now() + 5000;
			while (!stderr.includes('webSocketURL') && Date.now() < deadline) { await new Promise((resolve) => setTimeout(resolve, 50)); }
			const warnings = stderr.split('\n').filter((line) => line.includes('webSocketURL'));
			assert.equal(warnings.length, 1, stderr);
			assert.match(warnings[0], new RegExp(`^\\[warn\\] webpack-dev-server's HMR client on ${url.replace(/\./g, '\\.')} will connect to wss://localhost:18931/ws, not through TLS Lens`));
			assert.match(warnings[0], /Add devServer: \{ client: \{ webSocketURL: 'auto:\/\/0\.0\.0\.0:0\/ws' \} \} to your webpack config/);
		} finally {
			child.kill('SIGTERM');
			target.close();
		}
	});

	it("logs one warning naming a dev server's host-check refusal, the change and --rewrite-host", async () => {
		assert.equal(run('node', ['esbuild.mjs'], { cwd: root }).status, 0);
		// Vite's answer for a name it does not know, word for word.
		const refusal = 'Blocked request. This host ("app.test") is not allowed.\nTo allow this host, add "app.test" to `server.allowedHosts` in vite.config.js.';
		const target = http.createServer((_req, res) => { res.writeHead(403, { 'content-type': 'text/plain' }); res.end(refusal); });
		await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
		const caDir = path.join(tempDir(), 'ca');
		const child = spawn(process.execPath, [path.join(root, 'dist/cli.js'), '--target', String((target.address() as AddressInfo).port), '--port', '0', '--ca-dir', caDir, '--permit', 'app.test'], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr!.on('data', (chunk) => { stderr += chunk; });
		try {
			const ready = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk) => resolve(String(chunk))));
			const port = /ready https:\/\/localhost:(\d+)/.exec(ready)![1];
			const ca = readFileSync(path.join(caDir, 'rootCA.pem'), 'utf8');
			for (let i = 0; i < 2; i++) {
				await new Promise<void>((resolve, reject) => https.get({ host: '127.0.0.1', port, path: '/', servername: 'app.test', headers: { host: `app.test:${port}` }, ca }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
			}
			const deadline = Date.now() + 5000;
			while (!stderr.includes('host check') && Date.now() < deadline) { await new Promise((resolve) => setTimeout(resolve, 50)); }
			const warnings = stderr.split('\n').filter((line) => line.includes('host check'));
			assert.deepEqual(warnings, ["[warn] Vite refused the name app.test (its host check): add app.test to server.allowedHosts in vite.config (or astro.config), or turn on rewriteHost so TLS Lens sends it its own host. The change: allowedHosts: ['app.test']; or restart with --rewrite-host."], stderr);
		} finally {
			child.kill('SIGTERM');
			target.close();
		}
	});
});
