// What HTTP/2 abuse costs the proxy (issue 14): each attack from raw-frame clients on TLS sockets (ALPN
// h2), against the proxy in a process of its own, so that the CPU time and memory are the proxy's alone
// (the attackers and the counting dev server run in this process). Per attack: what the abusers got
// (GOAWAY code, when their socket closed), how many requests reached the dev server and how many of
// those it saw cancelled, the proxy's CPU time and peak memory per abusive connection, and how long a
// well-behaved HTTP/2 request on another connection took meanwhile. Then the proxy's CPU per ordinary
// request (h2load), to show what the mitigations cost the hot path. Prints a Markdown section on stdout;
// progress goes to stderr. Benchmarks are not tests: nothing here asserts. The dev server runs in a third
// process, so that its work (it writes big responses into kernel buffers as fast as it can) delays
// neither the proxy's figures nor the well-behaved client.
//
//   node bench/http2Abuse.bench.mjs
//   H2ABUSE_BENCH_CORE=FILE      load the proxy from FILE instead of dist/core.js (A/B against another build)
//   H2ABUSE_BENCH_CONNECTIONS=4  abusive connections per attack, at once
//   H2ABUSE_BENCH_IDLE_MS=1000   the proxy's idleTimeoutMs (HTTP/2 stream stalls time out after it too)
//   H2ABUSE_BENCH_ONLY=reset,ping  only the attacks whose id contains one of the words (h2load: the ordinary load)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';
import { setImmediate } from 'node:timers';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import * as tls from 'node:tls';
import { haveCommand, runTool } from './lib/procs.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const CORE = path.resolve(process.env.H2ABUSE_BENCH_CORE ?? path.join(here, '..', 'dist', 'core.js'));
const CONNECTIONS = Math.max(1, Number(process.env.H2ABUSE_BENCH_CONNECTIONS ?? 4));
const IDLE_MS = Number(process.env.H2ABUSE_BENCH_IDLE_MS ?? 1000);
const ONLY = (process.env.H2ABUSE_BENCH_ONLY ?? '').split(',').filter(Boolean);
const MiB = 1024 * 1024;

/** The child: the proxy, reporting its own CPU time and peak memory when asked. */
async function serveProxy(corePath, devPort, idleTimeoutMs) {
	const core = createRequire(import.meta.url)(corePath);
	const dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-h2abuse-'));
	process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
	const stored = await core.openCa(path.join(dir, 'ca'), { owner: 'bench@h2abuse' });
	const issuer = new core.LeafIssuer(stored.ca);
	await issuer.certificateFor('localhost');
	const proxy = new core.ProxyServer({ target: devPort, issuer, ca: stored.ca, port: 0, host: '127.0.0.1', idleTimeoutMs });
	const { port } = await proxy.start();
	let peakRss = 0;
	let peakHeap = 0;
	const sample = () => {
		const m = process.memoryUsage();
		peakRss = Math.max(peakRss, m.rss);
		peakHeap = Math.max(peakHeap, m.heapUsed + m.external);
	};
	setInterval(sample, 10).unref();
	const loopDelay = monitorEventLoopDelay({ resolution: 10 });
	loopDelay.enable();
	process.on('message', (message) => {
		if (message === 'stop') {
			void proxy.stop().then(() => process.exit(0));
			return;
		}
		if (message === 'mark') {
			globalThis.gc?.();
			peakRss = 0;
			peakHeap = 0;
			loopDelay.reset();
		}
		sample();
		const m = process.memoryUsage();
		process.send({ cpu: process.cpuUsage(), rss: m.rss, heap: m.heapUsed + m.external, peakRss, peakHeap, maxLoopDelayMs: loopDelay.max / 1e6 });
	});
	process.send({ port, caPem: stored.ca.certPem });
}

// Frames by hand: 9-byte header + payload.
const T = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 };
const END_STREAM = 1;
const END_HEADERS = 4;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type, flags, id, payload = Buffer.alloc(0)) {
	const header = Buffer.alloc(9);
	header.writeUIntBE(payload.length, 0, 3);
	header[3] = type;
	header[4] = flags;
	header.writeUInt32BE(id, 5);
	return Buffer.concat([header, payload]);
}
const str = (s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'latin1')]);
const block = (p, authority, post = false) => Buffer.concat([Buffer.from([post ? 0x83 : 0x82, 0x87, 0x04]), str(p), Buffer.from([0x01]), str(authority)]);
const rst = (id) => frame(T.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8]));

/** A raw HTTP/2 client: with `read: false` it never reads, and finds out about the close by writing. */
function rawClient(port, ca, { settings = [], read = true } = {}) {
	const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['h2'] });
	const client = { socket, goaway: undefined, resets: 0, closedAt: undefined, started: 0 };
	socket.on('error', () => { });
	client.closed = new Promise((resolve) => socket.once('close', () => { client.closedAt = performance.now(); resolve(); }));
	client.ready = new Promise((resolve, reject) => {
		socket.once('secureConnect', () => {
			const payload = Buffer.alloc(settings.length * 6);
			settings.forEach(([id, value], i) => { payload.writeUInt16BE(id, i * 6); payload.writeUInt32BE(value, i * 6 + 2); });
			socket.write(Buffer.concat([PREFACE, frame(T.SETTINGS, 0, 0, payload)]));
			if (!read) { socket.pause(); }
			client.started = performance.now();
			resolve();
		});
		socket.once('close', () => reject(new Error('closed before the handshake')));
	});
	if (read) {
		let pending = Buffer.alloc(0);
		socket.on('data', (chunk) => {
			let buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
			while (buffer.length >= 9) {
				const length = buffer.readUIntBE(0, 3);
				if (buffer.length < 9 + length) { break; }
				if (buffer[3] === T.GOAWAY && client.goaway === undefined) { client.goaway = buffer.readUInt32BE(13); }
				if (buffer[3] === T.RST_STREAM) { client.resets++; }
				buffer = buffer.subarray(9 + length);
			}
			pending = Buffer.from(buffer);
		});
	}
	client.isClosed = () => client.closedAt !== undefined;
	client.write = (data, limit = MiB) => {
		if (socket.destroyed || socket.writableLength > limit) { return false; }
		socket.write(data);
		return true;
	};
	/** Until closed (probing by writes when the client does not read), at most `ms`. */
	client.waitClosed = async (ms) => {
		const deadline = performance.now() + ms;
		if (process.env.H2ABUSE_DEBUG) { process.stderr.write(`waitClosed ${ms}\n`); }
		while (!client.isClosed() && performance.now() < deadline) {
			if (!read) { client.write(frame(T.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 0, 1]))); }
			await Promise.race([client.closed, sleep(50)]);
		}
	};
	return client;
}

const ATTACKS = [
	{
		id: 'reset', title: 'rapid reset: HEADERS + RST_STREAM, 100 pairs per event-loop turn, until closed (3 s at most)',
		async run(c, ctx) {
			const b = block('/hang', ctx.authority);
			let streams = 0;
			while (!c.isClosed() && performance.now() - c.started < 3000) {
				const batch = [];
				for (let i = 0; i < 100; i++) {
					const id = 1 + 2 * (streams + i);
					batch.push(frame(T.HEADERS, END_STREAM | END_HEADERS, id, b), rst(id));
				}
				if (c.write(Buffer.concat(batch))) { streams += 100; }
				await turn();
			}
			return { streams };
		},
	},
	{
		id: 'concurrent', title: '1,000 streams at once (after acknowledging SETTINGS), never answered by the dev server',
		async run(c, ctx) {
			await sleep(50);
			c.write(frame(T.SETTINGS, 1, 0));
			const b = block('/hang', ctx.authority);
			c.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(T.HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i, b))));
			await c.waitClosed(3000);
			return { streams: 1000 };
		},
	},
	{
		id: 'continuation', title: 'CONTINUATION flood: HEADERS without END_HEADERS, then 16 KiB CONTINUATION frames until closed (3 s at most)',
		async run(c, ctx) {
			c.write(frame(T.HEADERS, END_STREAM, 1, block('/flood', ctx.authority)));
			const field = Buffer.concat([Buffer.from([0]), str('x-flood'), str('v'.repeat(100))]);
			const cont = frame(T.CONTINUATION, 0, 1, Buffer.concat(Array.from({ length: Math.floor(16384 / field.length) }, () => field)));
			const batch = Buffer.concat(Array.from({ length: 16 }, () => cont));
			while (!c.isClosed() && performance.now() - c.started < 3000) {
				c.write(batch);
				await turn();
			}
			return {};
		},
	},
	...['SETTINGS', 'PING'].map((kind) => ({
		id: kind.toLowerCase(), read: false, title: `${kind} flood, ACKs never read: 1,000 frames per write while the proxy reads (10 s at most)`,
		async run(c) {
			const one = kind === 'SETTINGS' ? frame(T.SETTINGS, 0, 0) : frame(T.PING, 0, 0, Buffer.alloc(8));
			const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
			let frames = 0;
			while (!c.isClosed() && performance.now() - c.started < 10_000) {
				if (c.write(batch)) { frames += 1000; }
				await sleep(frames % 100_000 === 0 ? 1 : 0);
			}
			return { frames };
		},
	})),
	{
		id: 'window0', settings: [[4, 0]], title: 'receive window 0 (never a WINDOW_UPDATE), 100 streams of 4 MiB downloads',
		async run(c, ctx) {
			const b = block('/big', ctx.authority);
			c.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(T.HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i, b))));
			await c.waitClosed(4 * IDLE_MS + 4000);
			return { streams: 100 };
		},
	},
	{
		id: 'noread', read: false, title: 'socket never read, 100 streams of 4 MiB downloads',
		async run(c, ctx) {
			const b = block('/big', ctx.authority);
			c.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => frame(T.HEADERS, END_STREAM | END_HEADERS, 1 + 2 * i, b))));
			await c.waitClosed(4 * IDLE_MS + 4000);
			return { streams: 100 };
		},
	},
	{
		id: 'body', title: 'request bodies that never end: 100 POSTs, 1 KiB of DATA each without END_STREAM, then silence',
		async run(c, ctx) {
			const b = block('/upload', ctx.authority, true);
			const data = Buffer.alloc(1024, 0x62);
			c.write(Buffer.concat(Array.from({ length: 100 }, (_, i) => [frame(T.HEADERS, END_HEADERS, 1 + 2 * i, b), frame(T.DATA, 0, 1 + 2 * i, data)]).flat()));
			await c.waitClosed(4 * IDLE_MS + 4000);
			return { streams: 100 };
		},
	},
];

/** A plain-HTTP dev server counting requests and the ones whose connection closed before the response was done. */
async function countingServer() {
	const counts = { requests: 0, aborted: 0 };
	const chunk = Buffer.alloc(64 * 1024, 0x61);
	const server = http.createServer((req, res) => {
		const p = req.url.split('?')[0];
		if (p !== '/hello') { counts.requests++; }
		res.on('close', () => { if (!res.writableFinished) { counts.aborted++; } });
		if (p === '/hello') { res.end('x'.repeat(1024)); return; }
		if (p === '/hang') { return; }
		if (p === '/upload') { req.resume(); req.on('end', () => res.end('ok')); return; }
		if (p === '/big') {
			res.writeHead(200, { 'content-length': 4 * MiB });
			let sent = 0;
			// One 64 KiB chunk per event-loop turn, as a file stream sends it (a loop writing until the socket
			// pushes back puts megabytes into loopback's kernel buffers per response, blocking this server).
			const more = () => {
				if (res.destroyed) { return; }
				if (sent >= 4 * MiB) {
					res.end();
					return;
				}
				sent += chunk.length;
				if (res.write(chunk)) {
					setImmediate(more);
				} else {
					res.once('drain', more);
				}
			};
			more();
			return;
		}
		res.writeHead(404);
		res.end();
	});
	server.on('connection', (socket) => socket.on('error', () => { }));
	server.keepAliveTimeout = 60_000;
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { server, counts, port: server.address().port };
}

/** The dev server's process: answers 'counts' with its counts. */
async function serveDev() {
	const dev = await countingServer();
	process.on('message', (message) => {
		if (message === 'stop') {
			dev.server.closeAllConnections();
			dev.server.close(() => process.exit(0));
			return;
		}
		process.send({ ...dev.counts });
	});
	process.send({ port: dev.port });
}

/** A child process of this script in `mode`, with a request/answer channel over IPC. */
function child(args, execArgv = []) {
	const proc = fork(path.join(here, 'http2Abuse.bench.mjs'), args, { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
	process.on('exit', () => proc.kill());
	const replies = [];
	let wake;
	proc.on('message', (m) => { replies.push(m); wake?.(); });
	const next = async () => {
		while (replies.length === 0) { await new Promise((resolve) => { wake = resolve; }); }
		return replies.shift();
	};
	return {
		next,
		ask: async (message) => { proc.send(message); return next(); },
		stop: async () => {
			proc.send('stop');
			await new Promise((resolve) => proc.once('exit', resolve));
		},
	};
}

async function main() {
	const devProcess = child(['--dev']);
	const devPort = (await devProcess.next()).port;
	const proxyProcess = child(['--proxy', CORE, String(devPort), String(IDLE_MS)], ['--expose-gc']);
	const ask = proxyProcess.ask;
	const { port, caPem } = await proxyProcess.next();
	const ctx = { authority: `localhost:${port}` };
	const rows = [];
	try {
		for (const attack of ATTACKS) {
			if (ONLY.length > 0 && !ONLY.some((word) => attack.id.includes(word))) { continue; }
			process.stderr.write(`h2abuse: ${attack.id}\n`);
			await sleep(300);
			const before = await ask('mark');
			const devBefore = await devProcess.ask('counts');
			// Like a browser, the well-behaved client opens a new connection when the proxy closed its last
			// one (the short idle timeout closes a connection whose request took longer than it).
			let good;
			let sessions = 0;
			const get = () => new Promise((resolve, reject) => {
				if (good === undefined || good.closed || good.destroyed) {
					good = http2.connect(`https://localhost:${port}`, { ca: caPem, host: '127.0.0.1' });
					good.on('error', () => { });
					sessions++;
				}
				const start = performance.now();
				const s = good.request({ ':path': '/hello' });
				const timer = setTimeout(() => { s.close(); reject(new Error('a well-behaved request took over 10 s')); }, 10_000);
				s.on('error', (error) => { clearTimeout(timer); reject(error); });
				s.resume();
				s.on('end', () => { clearTimeout(timer); resolve(performance.now() - start); });
			});
			await get();
			const clients = Array.from({ length: CONNECTIONS }, () => rawClient(port, caPem, { settings: attack.settings, read: attack.read !== false }));
			await Promise.all(clients.map((c) => c.ready));
			let over = false;
			const latencies = [];
			const probing = (async () => {
				while (!over) {
					latencies.push(await get());
					await sleep(50);
				}
			})();
			const results = await Promise.all(clients.map((c) => attack.run(c, ctx)));
			process.stderr.write(`h2abuse: ${attack.id}: attack over, ${clients.filter((c) => c.isClosed()).length} of ${clients.length} closed\n`);
			await Promise.all(clients.map((c) => c.waitClosed(3000)));
			over = true;
			await probing;
			good.close();
			await sleep(200);
			if (process.env.H2ABUSE_DEBUG) { process.stderr.write(`well-behaved: ${latencies.length} requests on ${sessions} connections\n`); }
			const after = await ask('read');
			const devAfter = await devProcess.ask('counts');
			for (const c of clients) { c.socket.destroy(); }
			const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
			const closed = clients.filter((c) => c.isClosed()).map((c) => c.closedAt - c.started);
			latencies.sort((a, b) => a - b);
			rows.push({
				attack,
				sent: results[0].streams !== undefined ? `${Math.round(results.reduce((a, r) => a + r.streams, 0) / CONNECTIONS)} streams` : results[0].frames !== undefined ? `${Math.round(results.reduce((a, r) => a + r.frames, 0) / CONNECTIONS)} frames` : '',
				goaway: [...new Set(clients.map((c) => (attack.read === false ? 'not read' : c.goaway ?? 'none')))].join('/'),
				closed: closed.length === clients.length ? `${(Math.max(...closed) / 1000).toFixed(2)} s` : `${clients.length - closed.length} of ${clients.length} still open`,
				reached: devAfter.requests - devBefore.requests,
				aborted: devAfter.aborted - devBefore.aborted,
				cpuMs: cpuMs / CONNECTIONS,
				peakRss: (after.peakRss - before.rss) / CONNECTIONS / MiB,
				peakHeap: (after.peakHeap - before.heap) / CONNECTIONS / MiB,
				latency: `${latencies[Math.floor(latencies.length / 2)].toFixed(1)} / ${latencies.at(-1).toFixed(1)}${sessions > 1 ? ` (${sessions} connections)` : ''}`,
				loopDelay: after.maxLoopDelayMs,
			});
		}
		const load = haveCommand('h2load') && (ONLY.length === 0 || ONLY.includes('h2load')) ? await hotPath(port, caPem, ask) : undefined;
		console.log(report(rows, load));
	} finally {
		await proxyProcess.stop();
		await devProcess.stop();
	}
}

/** The proxy's CPU per ordinary request: h2load, 10 connections × 10 streams, 1 KiB responses, 5 s. */
async function hotPath(port, caPem, ask) {
	process.stderr.write('h2abuse: h2load\n');
	// h2load does not verify certificates; the CA is not needed.
	void caPem;
	const before = await ask('mark');
	const result = await runTool('h2load', ['-c', '10', '-m', '10', '-t', '1', '-D', '5', `https://127.0.0.1:${port}/hello`], { timeoutSeconds: 30 });
	const after = await ask('read');
	const succeeded = Number(/(\d+) succeeded/.exec(result.stdout)?.[1] ?? 0);
	const cpuUs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system);
	return { succeeded, rps: succeeded / 5, cpuUsPerRequest: succeeded > 0 ? cpuUs / succeeded : NaN };
}

function report(rows, load) {
	const lines = [
		'## HTTP/2 abuse (issue 14)',
		'',
		`\`node bench/http2Abuse.bench.mjs\` (${path.relative(path.join(here, '..'), CORE) || CORE}): ${CONNECTIONS} abusive connections at once per attack, idleTimeoutMs ${IDLE_MS}`,
		'(stream stalls time out after it too); the proxy in its own process. CPU and peak memory are the proxy\'s,',
		'per abusive connection (peak RSS and heap+external above their level before the attack, after a GC).',
		'"Well-behaved" is a GET on another HTTP/2 connection every 50 ms during the attack, median / max (a new',
		'connection when the idle timeout closed the last one). It waits for the dev server like everyone else:',
		'while hundreds of 4 MiB downloads start at once, the dev server accepts its connection late.',
		'',
		'| Attack | Sent per connection | GOAWAY code | Abusers closed after | Requests at the dev server / of those cancelled | Proxy CPU ms | Peak RSS MiB | Peak heap+ext MiB | Proxy event-loop delay max ms | Well-behaved ms |',
		'|---|---|---|---|---|---|---|---|---|---|',
	];
	for (const r of rows) {
		lines.push(`| ${r.attack.title} | ${r.sent} | ${r.goaway} | ${r.closed} | ${r.reached} / ${r.aborted} | ${r.cpuMs.toFixed(0)} | ${r.peakRss.toFixed(1)} | ${r.peakHeap.toFixed(1)} | ${r.loopDelay.toFixed(0)} | ${r.latency} |`);
	}
	if (load !== undefined) {
		lines.push('', `Ordinary HTTP/2 load (h2load -c 10 -m 10, 1 KiB, 5 s): ${load.rps.toFixed(0)} req/s, proxy CPU ${load.cpuUsPerRequest.toFixed(1)} µs per request.`);
	}
	return lines.join('\n') + '\n';
}

if (process.argv[2] === '--proxy') {
	await serveProxy(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
} else if (process.argv[2] === '--dev') {
	await serveDev();
} else {
	await main();
}
