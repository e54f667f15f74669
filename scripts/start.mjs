// `npm start`: build, run the demo Vite app as a dev server, and open a real VS Code with TLS Lens
// loaded on it: desktop `code` when it is on PATH, otherwise VS Code's server (from the test cache)
// on 127.0.0.1, whose URL is printed. Ctrl+C stops everything.
//
// Nothing it starts may outlive it, so it runs as two processes. This one, which the terminal's Ctrl+C
// reaches, only supervises: it checks the prerequisites and runs the real work in a child that leads a
// process group of its own. Vite, VS Code's server and all they start (extension host, pty host, file
// watcher, a nested npm install on a cold cache) join that group, so any stop (Ctrl+C, SIGTERM, SIGHUP,
// a failure, an error here) ends the whole group: SIGTERM, then SIGKILL after a grace period. The
// desktop `code` is the one exception: it gets a group of its own and stays open by design.
//
// Env: TLS_LENS_START_DIR (default `.vscode-test` in the repo) holds the demo app copy and the demo
// VS Code data; PORT pins VS Code's port; TLS_LENS_TEST_CACHE is the test VS Code shared with the tests.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPrerequisites, hasDesktopCode } from './prereqs.mjs';
import { freePort, startTestVscode, stopInstalls } from '../test/vscode/testVscode.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Set in the worker's environment: the process that does the work rather than supervise it. */
const WORKER = 'TLS_LENS_START_WORKER';
/** How long the group gets to exit on SIGTERM (VS Code's server saves state) before SIGKILL. */
const GRACE_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function say(message) {
	process.stderr.write(`[npm start] ${message}\n`);
}

// A closed terminal (SIGHUP) turns every write into EIO; stopping must not fail on that.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/**
 * Whether any process but `except` is left in group `pgid`. Linux: read from /proc, so that zombies
 * (which `kill(-pgid, 0)` still finds, and which a container's PID 1 may never reap) count as gone.
 */
function groupAlive(pgid, except) {
	let entries;
	try {
		entries = readdirSync('/proc');
	} catch {
		try {
			process.kill(-pgid, 0);
			return true;
		} catch {
			return false;
		}
	}
	for (const entry of entries) {
		if (!/^\d+$/.test(entry) || Number(entry) === except) { continue; }
		let stat;
		try {
			stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
		} catch {
			continue; // exited while we looked
		}
		// `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so split after the last ')'.
		const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') { return true; }
	}
	return false;
}

function signalGroup(pgid, signal) {
	try {
		process.kill(-pgid, signal);
		return true;
	} catch {
		return false; // ESRCH: the group is empty already
	}
}

/** Ends every process in group `pgid` (but `except`, the caller when it is a member): SIGTERM, then SIGKILL. */
async function endGroup(pgid, except) {
	if (!signalGroup(pgid, 'SIGTERM')) { return; }
	for (const deadline = Date.now() + GRACE_MS; Date.now() < deadline;) {
		await sleep(100);
		if (!groupAlive(pgid, except)) { return; }
	}
	signalGroup(pgid, 'SIGKILL');
}

if (process.env[WORKER] === '1') {
	await work();
} else {
	supervise();
}

function supervise() {
	if (checkPrerequisites('start').length > 0) {
		say('install what is missing (above), then run it again.');
		process.exit(1);
	}
	const worker = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
		// Its own process group, which the terminal's Ctrl+C does not reach: only this process decides
		// when it ends, and ends all of it at once.
		detached: true,
		// No stdin: a background process group that reads the terminal is stopped (SIGTTIN). The IPC
		// channel tells the worker when this process is gone, even by SIGKILL.
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		env: { ...process.env, [WORKER]: '1' },
	});
	let stopping;
	const stop = (code, message) => {
		stopping ??= (async () => {
			if (message) { say(message); }
			if (worker.pid !== undefined) { await endGroup(worker.pid); }
			process.exit(code);
		})();
		return stopping;
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
		// A second Ctrl+C (or npm passing the first one on) changes nothing: the grace period is short.
		process.on(signal, () => void stop(0, `${signal}: stopping the demo dev server and VS Code.`));
	}
	worker.once('error', (error) => void stop(1, `could not start: ${error.message}`));
	worker.once('exit', (code, signal) => {
		if (stopping) { return; }
		void stop(code === 0 ? 0 : 1, code === 0 ? undefined : `failed (${signal ?? `exit ${code}`}); stopped everything it had started.`);
	});
	process.on('uncaughtException', (error) => void stop(1, `internal error: ${error.stack ?? error}`));
	process.on('unhandledRejection', (error) => void stop(1, `internal error: ${error?.stack ?? error}`));
}

async function work() {
	let stopping = false;
	// The supervisor ends this group with SIGTERM; end the nested npm install too, should it have
	// moved elsewhere, and leave at once.
	process.on('SIGTERM', () => {
		if (stopping) { return; }
		stopping = true;
		stopInstalls();
		process.exit(0);
	});
	// The supervisor is gone without ending us (SIGKILL, a crash): end this group ourselves.
	process.on('disconnect', () => {
		if (stopping) { return; }
		stopping = true;
		stopInstalls();
		void endGroup(process.pid, process.pid).then(() => process.exit(1));
	});
	const fail = (message) => {
		if (stopping) { return; }
		stopping = true;
		say(`failed: ${message}`);
		// The supervisor sees this exit and ends the group (Vite, VS Code's server, their children).
		process.exit(1);
	};
	process.on('uncaughtException', (error) => fail(error.stack ?? String(error)));
	process.on('unhandledRejection', (error) => fail(error?.stack ?? String(error)));

	try {
		await startAll(fail);
	} catch (error) {
		fail(error.message);
	}
}

async function startAll(fail) {
	const workDir = path.resolve(process.env.TLS_LENS_START_DIR || path.join(repo, '.vscode-test'));
	const port = vscodePort();
	await run('npm', ['run', '-s', 'build'], 'the build (npm run build)');

	// A copy of the demo app, so that edits made while trying HMR do not touch the repository.
	const demo = path.join(workDir, 'demo-app');
	rmSync(demo, { recursive: true, force: true });
	mkdirSync(demo, { recursive: true });
	cpSync(path.join(repo, 'test/fixtures/viteApp'), demo, { recursive: true });
	const vitePort = await freePort();
	// The port in package.json is what "Start TLS Proxy" discovers and offers.
	writeFileSync(path.join(demo, 'package.json'), JSON.stringify({ name: 'tls-lens-demo', private: true, scripts: { dev: `vite --port ${vitePort}` } }, null, 2));
	const vite = spawn(process.execPath, [path.join(repo, 'node_modules/vite/bin/vite.js'), demo, '--port', String(vitePort), '--host', '127.0.0.1', '--strictPort'], { stdio: ['ignore', 'inherit', 'inherit'] });
	vite.once('exit', (code, signal) => fail(`the demo dev server (Vite) stopped (${signal ?? `exit ${code}`})`));
	await waitForPort(vitePort, 30_000, 'the demo dev server (Vite)');

	if (hasDesktopCode()) {
		console.log(`Demo dev server: http://127.0.0.1:${vitePort}. Opening VS Code: run "TLS Lens: Start TLS Proxy" and pick it.`);
		// Desktop VS Code stays open after Ctrl+C, as any window it opens would: a group of its own.
		spawn('code', ['--new-window', `--extensionDevelopmentPath=${repo}`, demo], { stdio: 'inherit', detached: true }).unref();
		console.log('Ctrl+C stops the demo dev server.');
		return;
	}
	if (port !== undefined) { await ensureFree(port); }
	const server = await startTestVscode({ dataDir: path.join(workDir, 'demo-vscode'), port });
	console.log(`\nDemo dev server: http://127.0.0.1:${vitePort}`);
	console.log(`VS Code (no desktop \`code\` on PATH, so VS Code's server): open this URL in a browser on this machine:\n\n  ${server.url({ folder: demo })}\n`);
	console.log('Then run "TLS Lens: Start TLS Proxy" (F1) and pick the demo server. Ctrl+C stops everything.');
}

/** PORT, checked before anything starts; undefined: a free one. */
function vscodePort() {
	const text = process.env.PORT;
	if (!text) { return undefined; }
	const port = Number(text);
	if (!Number.isInteger(port) || port < 1 || port > 65535) { throw new Error(`PORT=${text} is not a TCP port (1-65535)`); }
	return port;
}

/**
 * VS Code's server logs EADDRINUSE on a busy port but keeps running, and startTestVscode would wait
 * its full minute for it: say so at once instead.
 */
function ensureFree(port) {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', (error) => reject(new Error(error.code === 'EADDRINUSE'
			? `PORT=${port}: 127.0.0.1:${port} is already in use, so VS Code's server cannot listen there; pick another PORT, or leave it unset for a free one`
			: `PORT=${port}: ${error.message}`)));
		probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
	});
}

function run(command, args, what) {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { cwd: repo, stdio: ['ignore', 'inherit', 'inherit'] });
		child.once('error', (error) => reject(new Error(`${what}: ${error.message}`)));
		child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${what} ${signal ? `was stopped by ${signal}` : `exited with ${code}`}`))));
	});
}

async function waitForPort(port, timeoutMs, what) {
	for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
		const open = await new Promise((resolve) => {
			const socket = connect(port, '127.0.0.1');
			socket.once('connect', () => { socket.destroy(); resolve(true); });
			socket.once('error', () => resolve(false));
		});
		if (open) { return; }
	}
	throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
}
