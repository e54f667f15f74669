import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { run, tempDir } from './helpers';

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'dist/cli.js');

interface Running { child: ChildProcess; ready: string; stderr: () => string; exit: Promise<number | null> }

/** Starts `tls-lens` with `args` and resolves on its ready line. */
function start(args: string[]): Promise<Running> {
	const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	child.stderr!.on('data', (chunk) => { stderr += chunk; });
	const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
	return new Promise((resolve, reject) => {
		child.stdout!.on('data', (chunk) => {
			stdout += chunk;
			if (stdout.includes('\n')) { resolve({ child, ready: stdout.split('\n')[0], stderr: () => stderr, exit }); }
		});
		void exit.then((code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
	});
}

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<string> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca, headers }, (res) => {
			let body = '';
			res.on('data', (chunk) => { body += chunk; });
			res.on('end', () => resolve(`${res.statusCode} ${body}`));
		}).on('error', reject);
	});
}

function location(url: string, ca: string): Promise<string | undefined> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca }, (res) => {
			res.resume();
			resolve(res.headers.location);
		}).on('error', reject);
	});
}

describe('tls-lens proxy command', function () {
	this.timeout(30_000);
	let target: http.Server;
	let targetPort: number;
	let caDir: string;

	before(async () => {
		if (!existsSync(cli)) { assert.equal(run('node', ['esbuild.mjs'], { cwd: root }).status, 0); }
		target = http.createServer((req, res) => {
			// An app whose base URL is its own http://localhost:PORT.
			if (req.url === '/login') { res.writeHead(302, { Location: `http://localhost:${targetPort}/dashboard` }); }
			res.end(`dev server saw ${req.url}`);
		});
		await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
		targetPort = (target.address() as AddressInfo).port;
		caDir = path.join(tempDir(), 'ca');
	});
	after(() => target.close());

	it('prints exactly the ready line, logs requests with --verbose, writes the HAR on SIGINT and exits 0', async () => {
		const har = path.join(tempDir(), 'traffic.har');
		const proxy = await start(['--target', String(targetPort), '--port', '0', '--ca-dir', caDir, '--har', har, '--verbose']);
		const match = /^ready https:\/\/localhost:(\d+) -> http:\/\/localhost:(\d+)$/.exec(proxy.ready);
		assert.ok(match, proxy.ready);
		assert.equal(Number(match[2]), targetPort);
		const ca = readFileSync(path.join(caDir, 'rootCA.pem'), 'utf8');
		assert.equal(await get(`https://localhost:${match[1]}/one`, ca, { Authorization: 'Bearer cli-secret', Cookie: 'sid=cli-cookie' }), '200 dev server saw /one');
		assert.equal(await get(`https://127.0.0.1:${match[1]}/two`, ca), '200 dev server saw /two');
		await new Promise((resolve) => setTimeout(resolve, 300)); // request lines are batched
		proxy.child.kill('SIGINT');
		assert.equal(await proxy.exit, 0, proxy.stderr());
		assert.match(proxy.stderr(), /GET localhost:\d+\/one 200/);
		assert.match(proxy.stderr(), /GET 127\.0\.0\.1:\d+\/two 200/);
		const log = JSON.parse(readFileSync(har, 'utf8')).log;
		assert.equal(log.version, '1.2');
		assert.deepEqual(log.entries.map((e: { request: { url: string } }) => new URL(e.request.url).pathname), ['/one', '/two']);
		// Shared HARs leak no session: redacted unless --har-sensitive.
		const text = readFileSync(har, 'utf8');
		assert.ok(!text.includes('cli-secret') && !text.includes('cli-cookie'), 'credentials redacted');
		assert.match(text, /"Bearer \[redacted\]"/);
		assert.match(proxy.stderr(), /credentials and cookies redacted/);
	});

	it('keeps credentials and cookies in the HAR with --har-sensitive', async () => {
		const har = path.join(tempDir(), 'sensitive.har');
		const proxy = await start(['--target', String(targetPort), '--port', '0', '--ca-dir', caDir, '--har', har, '--har-sensitive']);
		const port = /:(\d+) ->/.exec(proxy.ready)![1];
		await get(`https://localhost:${port}/secret`, readFileSync(path.join(caDir, 'rootCA.pem'), 'utf8'), { Authorization: 'Bearer cli-secret', Cookie: 'sid=cli-cookie' });
		proxy.child.kill('SIGINT');
		assert.equal(await proxy.exit, 0, proxy.stderr());
		const [entry] = JSON.parse(readFileSync(har, 'utf8')).log.entries as Array<{ request: { headers: Array<{ name: string; value: string }>; cookies: Array<{ value: string }> } }>;
		assert.ok(entry.request.headers.some((h) => h.name.toLowerCase() === 'authorization' && h.value === 'Bearer cli-secret'));
		assert.deepEqual(entry.request.cookies.map((c) => c.value), ['cli-cookie']);
	});

	it('runs as `tls-lens proxy` with capture off and stops on SIGTERM', async () => {
		const proxy = await start(['proxy', '--target', `http://127.0.0.1:${targetPort}`, '--port', '0', '--ca-dir', caDir, '--no-capture']);
		assert.match(proxy.ready, new RegExp(`^ready https://localhost:\\d+ -> http://127\\.0\\.0\\.1:${targetPort}$`));
		proxy.child.kill('SIGTERM');
		assert.equal(await proxy.exit, 0, proxy.stderr());
	});

	it('keeps redirects to the target\'s own origin on the proxy, unless --no-rewrite-redirects', async () => {
		const ca = (): string => readFileSync(path.join(caDir, 'rootCA.pem'), 'utf8');
		for (const [flags, expected] of [[[], (port: string) => `https://localhost:${port}/dashboard`], [['--no-rewrite-redirects'], () => `http://localhost:${targetPort}/dashboard`]] as const) {
			const proxy = await start(['--target', String(targetPort), '--port', '0', '--ca-dir', caDir, '--no-capture', ...flags]);
			const port = /:(\d+) ->/.exec(proxy.ready)![1];
			try {
				assert.equal(await location(`https://localhost:${port}/login`, ca()), expected(port), flags.join(' '));
			} finally {
				proxy.child.kill('SIGTERM');
				assert.equal(await proxy.exit, 0, proxy.stderr());
			}
		}
	});

	it('reports a port in use clearly, with exit 1', async () => {
		const proxy = await start(['--target', String(targetPort), '--port', '0', '--ca-dir', caDir]);
		const port = /:(\d+) ->/.exec(proxy.ready)![1];
		const second = run(process.execPath, [cli, '--target', String(targetPort), '--port', port, '--ca-dir', caDir, '--host', '127.0.0.1']);
		proxy.child.kill('SIGTERM');
		await proxy.exit;
		assert.equal(second.status, 1);
		assert.match(second.stderr, new RegExp(`${port}.*in use|in use.*${port}`, 'i'));
	});

	for (const [args, reason] of [
		[['--target', 'ftp://localhost:21'], /uses ftp/],
		[['--target', '5173', '--port', 'http'], /--port must be a number/],
		[['--target', '5173', '--port', '70000'], /--port must be a number/],
		[['proxy'], /--target is required/],
		[['--target', '5173', '--har', 'x.har', '--no-capture'], /--har needs capture/],
		[['--target', '5173', '--har-sensitive'], /--har-sensitive needs --har FILE/],
		[['--target', '5173', 'extra'], /unexpected argument "extra"|unknown command "extra"/],
	] as const) {
		it(`exits 2 with a reason for: ${args.join(' ')}`, () => {
			const result = run(process.execPath, [cli, ...args]);
			assert.equal(result.status, 2, result.stderr);
			assert.match(result.stderr.split('\n')[0], reason);
		});
	}
});
