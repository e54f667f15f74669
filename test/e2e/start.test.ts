// `npm start` (scripts/start.mjs) as a developer runs it, without a desktop `code`: the workbench it
// prints loads with TLS Lens, and however it ends (Ctrl+C, SIGTERM, SIGHUP, a failure, its own death)
// no process it started is left running and its ports are free.
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Browser } from 'playwright-core';

const repo = path.resolve(__dirname, '../..');
const URL_PATTERN = /http:\/\/127\.0\.0\.1:(\d+)\/\?folder=\S+/;
const VITE_PATTERN = /Demo dev server: http:\/\/127\.0\.0\.1:(\d+)/;

interface Proc { pid: number; ppid: number; pgrp: number; state: string; started: string; cmd: string }

/** Every process now, from /proc (`pid (comm) state ppid pgrp … starttime(22nd)`). */
function processes(): Map<number, Proc> {
	const all = new Map<number, Proc>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) { continue; }
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
			all.set(Number(entry), { pid: Number(entry), state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), started: fields[19], cmd });
		} catch {
			// exited while we looked
		}
	}
	return all;
}

/** Every process `tree` ever recorded, for the last-resort cleanup should a test fail. */
const seen = new Map<number, Proc>();

/** `root` and all its descendants (by parent pid), plus every process in their process groups. */
function tree(root: number): Proc[] {
	const all = processes();
	const found = new Map<number, Proc>();
	const queue = [root];
	while (queue.length) {
		const pid = queue.shift()!;
		const proc = all.get(pid);
		if (!proc || found.has(pid)) { continue; }
		found.set(pid, proc);
		for (const child of all.values()) { if (child.ppid === pid) { queue.push(child.pid); } }
	}
	const groups = new Set([...found.values()].map((p) => p.pgrp));
	// Never the test's own group (what it starts is detached, so theirs differ).
	const own = all.get(process.pid)?.pgrp;
	if (own !== undefined) { groups.delete(own); }
	for (const proc of all.values()) { if (groups.has(proc.pgrp)) { found.set(proc.pid, proc); } }
	for (const proc of found.values()) { seen.set(proc.pid, proc); }
	return [...found.values()];
}

/** The recorded processes still running: same pid and start time, not a zombie. */
function stillRunning(recorded: readonly Proc[]): Proc[] {
	const now = processes();
	return recorded.filter((p) => {
		const current = now.get(p.pid);
		return current !== undefined && current.started === p.started && current.state !== 'Z' && current.state !== 'X';
	});
}

/** Running processes that name `work` in their command line (Vite and VS Code's server do): caught even if never recorded. */
function namingWorkDir(work: string): Proc[] {
	return [...processes().values()].filter((p) => p.cmd.includes(work) && p.state !== 'Z' && p.pid !== process.pid);
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false): Promise<T> {
	for (const deadline = Date.now() + timeoutMs; ; await new Promise((resolve) => setTimeout(resolve, 100))) {
		const value = probe();
		if (value) { return value; }
		if (Date.now() > deadline) { throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`); }
	}
}

function portFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = createServer();
		probe.once('error', () => resolve(false));
		probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
	});
}

/** PATH without any directory that holds a `code`, so start.mjs takes the VS Code server path. */
function pathWithoutCode(): string {
	return (process.env.PATH ?? '').split(path.delimiter).filter((dir) => {
		try {
			accessSync(path.join(dir, 'code'), constants.X_OK);
			return false;
		} catch {
			return true;
		}
	}).join(path.delimiter);
}

interface Exit { code: number | null; signal: NodeJS.Signals | null }
interface Started { child: ChildProcess; output: () => string; exit: Promise<Exit> }

/** Its exit within `timeoutMs`: a run that never ends fails with its output, not at mocha's timeout. */
function exited(run: Started, timeoutMs = 20_000): Promise<Exit> {
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`it did not exit within ${timeoutMs / 1000} s:\n${run.output()}`)), timeoutMs);
	});
	return Promise.race([run.exit, late]).finally(() => clearTimeout(timer));
}

describe('npm start (scripts/start.mjs)', function () {
	this.timeout(150_000);
	const started: Started[] = [];
	let work: string;
	let browser: Browser | undefined;

	before(() => {
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-start-'));
	});

	after(async () => {
		await browser?.close();
		// Should a test fail half-way, leave nothing behind either.
		for (const { child } of started) {
			if (child.exitCode === null && child.signalCode === null) { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }
			// An orphan holding the other end would keep mocha waiting for these pipes.
			child.stdout?.destroy();
			child.stderr?.destroy();
		}
		for (const proc of [...stillRunning([...seen.values()]), ...namingWorkDir(work)]) { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }
		rmSync(work, { recursive: true, force: true });
	});

	/** Starts it the way a terminal runs a foreground job: in a process group of its own. */
	function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Started {
		const childEnv: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithoutCode(), TLS_LENS_START_DIR: work, ...env };
		if (!('PORT' in env)) { delete childEnv.PORT; }
		const child = spawn(command, args, { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
		let output = '';
		child.stdout!.on('data', (chunk) => { output += chunk; });
		child.stderr!.on('data', (chunk) => { output += chunk; });
		const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
		// Without colour codes: Vite colours its output when CI is set, port numbers included.
		const result = { child, output: () => stripVTControlCharacters(output), exit };
		started.push(result);
		return result;
	}

	async function running(run: Started): Promise<{ url: string; vscodePort: number; vitePort: number }> {
		const match = await until('the workbench URL', 120_000, () => {
			if (run.child.exitCode !== null) { throw new Error(`it exited with ${run.child.exitCode}:\n${run.output()}`); }
			return URL_PATTERN.exec(run.output());
		});
		const vite = VITE_PATTERN.exec(run.output());
		assert.ok(vite, run.output());
		return { url: match[0], vscodePort: Number(match[1]), vitePort: Number(vite[1]) };
	}

	async function assertAllStopped(run: Started, recorded: readonly Proc[], ports: number[]): Promise<void> {
		await until('every process it started to exit', 10_000, () => stillRunning(recorded).length === 0 && namingWorkDir(work).length === 0)
			.catch(() => assert.fail(`still running:\n${[...stillRunning(recorded), ...namingWorkDir(work)].map((p) => `${p.pid} ${p.cmd}`).join('\n')}\n--- output:\n${run.output()}`));
		for (const port of ports) { assert.ok(await portFree(port), `port ${port} is free`); }
	}

	it('`npm start`: the printed workbench loads TLS Lens; Ctrl+C stops every process it started', async () => {
		const run = start('npm', ['start']);
		const { url, vscodePort, vitePort } = await running(run);
		const { launchChromium } = await import('../vscode/testVscode.mjs');
		browser = await launchChromium();
		const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
		await page.goto(url);
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		await page.locator('.statusbar-item').filter({ hasText: /TLS/ }).first().waitFor({ timeout: 60_000 });
		// The demo dev server answers, as "Start TLS Proxy" would find it.
		assert.equal((await fetch(`http://127.0.0.1:${vitePort}/`)).status, 200);

		const recorded = tree(run.child.pid!);
		const commands = recorded.map((p) => p.cmd).join('\n');
		for (const expected of ['vite.js', 'server-main.js', '--type=extensionHost']) {
			assert.ok(commands.includes(expected), `${expected} among what it started:\n${commands}`);
		}
		// Ctrl+C in a terminal: SIGINT to the whole foreground group (npm, sh, node). npm itself does not
		// wait for its script: it ends by the SIGINT at once (as a shell reports Ctrl+C); start.mjs's own
		// exit status is checked in the next test.
		process.kill(-run.child.pid!, 'SIGINT');
		const exit = await exited(run);
		assert.ok(exit.code === 0 || exit.signal === 'SIGINT', `${JSON.stringify(exit)}\n${run.output()}`);
		await assertAllStopped(run, recorded, [vscodePort, vitePort]);
		await browser.close();
		browser = undefined;
	});

	it('a failure after Vite started (PORT busy): exits 1, says why, and leaves nothing running', async () => {
		const busy: Server = createServer();
		await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
		const port = (busy.address() as { port: number }).port;
		try {
			const run = start(process.execPath, ['scripts/start.mjs'], { PORT: String(port) });
			// Record what is there, every 50 ms while it runs.
			const recorded = new Map<number, Proc>();
			const sampler = setInterval(() => { for (const p of tree(run.child.pid!)) { recorded.set(p.pid, p); } }, 50);
			// Long enough for the build and Vite on a slow machine, well short of the server's own 60 s wait.
			const exit = await exited(run, 50_000).finally(() => clearInterval(sampler));
			assert.deepEqual(exit, { code: 1, signal: null }, run.output());
			const vite = /Local: +http:\/\/127\.0\.0\.1:(\d+)/.exec(run.output());
			assert.ok(vite, `Vite had started:\n${run.output()}`);
			assert.match(run.output(), new RegExp(`failed: PORT=${port}: 127\\.0\\.0\\.1:${port} is already in use`));
			assert.match(run.output(), /stopped everything it had started/);
			assert.ok([...recorded.values()].some((p) => p.cmd.includes('vite.js')), 'Vite was seen running');
			await assertAllStopped(run, [...recorded.values()], [Number(vite[1])]);
		} finally {
			busy.close();
		}
	});

	// SIGINT as Ctrl+C sends it (to the terminal's whole foreground group); the others as `kill` does.
	for (const [signal, target] of [['SIGINT', 'its process group'], ['SIGTERM', 'it alone'], ['SIGHUP', 'it alone']] as const) {
		it(`${signal} to ${target}: exits 0 and stops every process it started`, async () => {
			const run = start(process.execPath, ['scripts/start.mjs']);
			const { vscodePort, vitePort } = await running(run);
			const recorded = tree(run.child.pid!);
			assert.ok(recorded.some((p) => p.cmd.includes('server-main.js')), 'VS Code\'s server is among what it started');
			process.kill(target === 'it alone' ? run.child.pid! : -run.child.pid!, signal);
			assert.deepEqual(await exited(run), { code: 0, signal: null }, run.output());
			await assertAllStopped(run, recorded, [vscodePort, vitePort]);
		});
	}

	it('killed outright (SIGKILL, no chance to clean up): its worker notices and stops the rest', async () => {
		const run = start(process.execPath, ['scripts/start.mjs']);
		const { vscodePort, vitePort } = await running(run);
		const recorded = tree(run.child.pid!);
		process.kill(run.child.pid!, 'SIGKILL');
		assert.deepEqual(await exited(run), { code: null, signal: 'SIGKILL' });
		await assertAllStopped(run, recorded, [vscodePort, vitePort]);
	});
});
