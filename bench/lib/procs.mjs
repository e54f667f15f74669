// Child processes for the benchmarks: servers started in their own process group (so nginx's workers
// go down with their master), always stopped at the end even on failure, plus CPU and memory figures
// read from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Every server started and not yet stopped, by process group id. */
const running = new Map();

/** Synchronous clean-ups (temp dirs) for an interrupted run, after the servers are killed. */
const exitHooks = [];

/** Registers `fn` to run synchronously when the process exits, however it exits. */
export function atExit(fn) {
	exitHooks.push(fn);
}

// A benchmark that throws or is interrupted must not leave servers holding ports.
process.on('exit', () => {
	for (const pgid of running.keys()) { killGroup(pgid, 'SIGKILL'); }
	for (const fn of exitHooks) {
		try { fn(); } catch { /* best effort */ }
	}
});
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		process.stderr.write(`bench: ${signal}, stopping servers\n`);
		process.exit(130);
	});
}

function killGroup(pgid, signal) {
	try { process.kill(-pgid, signal); } catch { /* already gone */ }
}

/**
 * Starts a long-running server in its own process group; stdout and stderr go to `logFile`, except
 * that `onStdout` (when given) sees stdout instead. Returns a handle with `pid` and `stop()`.
 */
export function startServer(name, command, args, { cwd, env, logFile, onStdout } = {}) {
	const log = openSync(logFile, 'a');
	const child = spawn(command, args, {
		cwd, env: { ...process.env, ...env }, detached: true,
		stdio: ['ignore', onStdout ? 'pipe' : log, log],
	});
	if (onStdout) {
		child.stdout.setEncoding('utf8');
		child.stdout.on('data', onStdout);
	}
	running.set(child.pid, name);
	const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
		running.delete(child.pid);
		resolve({ code, signal });
	}));
	return {
		name, pid: child.pid, child, exited, logFile,
		/** Asks politely (so TLS Lens can write its --cpu-prof file), then kills the whole group. */
		async stop(signal = 'SIGTERM', graceMs = 5000) {
			if (!running.has(child.pid)) { return exited; }
			try { process.kill(child.pid, signal); } catch { /* gone */ }
			const result = await Promise.race([exited, sleep(graceMs).then(() => null)]);
			killGroup(child.pid, 'SIGKILL');
			return result ?? exited;
		},
	};
}

/** Resolves once something accepts TCP connections on host:port, or rejects after `timeoutMs`. */
export async function waitForPort(port, host = '127.0.0.1', timeoutMs = 10000, server) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (await canConnect(port, host)) { return; }
		if (server && !running.has(server.pid)) { throw new Error(`${server.name} exited before listening (see ${server.logFile})`); }
		if (Date.now() > deadline) { throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`); }
		await sleep(50);
	}
}

function canConnect(port, host) {
	return new Promise((resolve) => {
		const socket = net.connect({ port, host }, () => { socket.destroy(); resolve(true); });
		socket.on('error', () => resolve(false));
	});
}

/** A loopback port nobody listens on right now (the usual small race is acceptable for a benchmark). */
export function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Every pid in a process group (nginx: master and workers). */
function groupPids(pgid) {
	const pids = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) { continue; }
		const stat = readStat(entry);
		if (stat && stat.pgrp === pgid) { pids.push(Number(entry)); }
	}
	return pids;
}

function readStat(pid) {
	try {
		const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// comm may contain spaces and parentheses: the fields we need come after the last ')'.
		const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
		return { pgrp: Number(fields[2]), utime: Number(fields[11]), stime: Number(fields[12]) };
	} catch {
		return null;
	}
}

function readHwmKiB(pid) {
	try {
		const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) : 0;
	} catch {
		return 0;
	}
}

/**
 * CPU seconds (user + system, all threads) used so far by the process group, and its peak RSS in MiB
 * (VmHWM, summed over the group's processes).
 */
export function groupUsage(pgid) {
	let ticks = 0;
	let hwmKiB = 0;
	for (const pid of groupPids(pgid)) {
		const stat = readStat(pid);
		if (stat) { ticks += stat.utime + stat.stime; }
		hwmKiB += readHwmKiB(pid);
	}
	return { cpuSeconds: ticks / CLOCK_TICKS, peakRssMiB: hwmKiB / 1024 };
}

/** Runs a command to completion, capturing its output; a hung tool is killed by `timeout` around it. */
export function runTool(command, args, { timeoutSeconds, env } = {}) {
	return new Promise((resolve) => {
		const child = spawn('timeout', ['-k', '3', String(timeoutSeconds), command, ...args], {
			env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
		child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
		child.on('close', (code) => resolve({ code, stdout, stderr, timedOut: code === 124 || code === 137 }));
	});
}

/** True when `command` is on PATH. */
export function haveCommand(command) {
	return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
