// The proxy benchmark of issue 3: TLS Lens (capture on and off) side by side with nginx and Caddy
// terminating TLS in front of one shared plain-HTTP target (nginx serving static files), with the
// target itself as the ceiling. Prints a Markdown section on stdout; progress goes to stderr.
//
//   node bench/proxy.bench.mjs                      everything (a few minutes)
//   node bench/proxy.bench.mjs --only tlslens,caddy contenders whose id contains one of the words
//   node bench/proxy.bench.mjs --workloads W1,W4    only these workloads
//   BENCH_SECONDS=8 BENCH_WARMUP=2                  measured and warm-up seconds per run
//   BENCH_ROUNDS=3                                  repeat everything, report the median run
//   BENCH_NODE_FLAGS='--cpu-prof'                   extra node flags for the TLS Lens processes; with
//                                                   --cpu-prof the profiles land in bench/profiles/
//   BENCH_TLSLENS_CLI=FILE                          run FILE instead of dist/cli.js (same command line)
//   BENCH_KEEP=1                                    keep the temp dir (configs, logs) for inspection
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { parseArgs } from 'node:util';
import { cliPath, makeCertificate, startCaddy, startNginxTls, startNodeBaseline, startTarget, startTlsLens } from './lib/contenders.mjs';
import { freshHandshakes, h2load, wrk } from './lib/load.mjs';
import { atExit, groupUsage, haveCommand } from './lib/procs.mjs';
import { summarizeProfile } from './lib/profileSummary.mjs';
import { renderReport } from './lib/report.mjs';

const benchDir = path.dirname(new URL(import.meta.url).pathname);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const TLSLENS_CLI = process.env.BENCH_TLSLENS_CLI ? path.resolve(process.env.BENCH_TLSLENS_CLI) : cliPath;

const WORKLOADS = [
	{
		id: 'W1', unit: 'req/s', title: 'HTTP/1.1 keep-alive, 1 KiB responses, 50 connections (wrk)',
		path: '/1k', run: (url, seconds) => wrk(url, { seconds, connections: 50 }),
	},
	{
		id: 'W2', unit: 'conn/s', title: 'new connection per request, 1 KiB, 50 connections (wrk `Connection: close`; wrk resumes TLS sessions)',
		path: '/1k', run: (url, seconds) => wrk(url, { seconds, connections: 50, close: true }),
	},
	{
		id: 'W2f', unit: 'handshakes/s', title: 'full TLS handshakes: fresh h2load processes (2 at a time, 50 connections each, one HTTP/1.1 request per connection)',
		path: '/1k', run: (url, seconds) => freshHandshakes(url, { seconds, parallel: 2, perProcess: 50 }),
	},
	{
		id: 'W3', unit: 'MiB/s', title: 'HTTP/1.1 keep-alive, 1 MiB responses, 10 connections (wrk)',
		path: '/1m', run: (url, seconds) => wrk(url, { seconds, connections: 10 }), value: (r) => r.mibps,
	},
	{
		id: 'W4', unit: 'req/s', title: 'HTTP/2, 50 connections × 10 streams, 1 KiB (h2load -m 10)',
		path: '/1k', tlsOnly: true, run: (url, seconds) => h2load(url, { seconds, connections: 50, streams: 10 }),
	},
];

/** In report order; `start` returns a server handle with `pid` and `port`. */
const CONTENDERS = [
	{ id: 'plain', label: 'plain HTTP target (ceiling)', tls: false, start: (ctx) => ctx.target },
	{ id: 'nginx', label: 'nginx', tls: true, needs: 'nginx', start: (ctx) => startNginxTls(ctx.dir, ctx.target, ctx.cert) },
	{ id: 'caddy', label: 'Caddy', tls: true, needs: 'caddy', start: (ctx) => startCaddy(ctx.dir, ctx.target, ctx.cert) },
	// The issue's floor: TLS Lens should beat a plain Node https setup by 1.3× on W1.
	{ id: 'node', label: 'Node https/h2 + keep-alive agent', tls: true, start: (ctx) => startNodeBaseline(ctx.dir, ctx.target, ctx.cert) },
	{
		id: 'tlslens-on', label: 'TLS Lens, capture on', tls: true, tlsLens: true,
		start: (ctx) => startTlsLens(ctx.dir, ctx.target, ctx.cert, { capture: true, nodeFlags: NODE_FLAGS, name: 'tlslens-on', script: TLSLENS_CLI }),
	},
	{
		id: 'tlslens-off', label: 'TLS Lens, capture off', tls: true, tlsLens: true,
		start: (ctx) => startTlsLens(ctx.dir, ctx.target, ctx.cert, { capture: false, nodeFlags: NODE_FLAGS, name: 'tlslens-off', script: TLSLENS_CLI }),
	},
];

function log(message) {
	process.stderr.write(`proxy.bench: ${message}\n`);
}

function parseCommandLine() {
	const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, workloads: { type: 'string' } } });
	const words = (values.only ?? []).flatMap((o) => o.split(',')).filter(Boolean);
	const workloadIds = values.workloads ? values.workloads.split(',').map((w) => w.trim().toUpperCase()) : null;
	return {
		contenders: CONTENDERS.filter((c) => words.length === 0 || words.some((w) => c.id.includes(w))),
		workloads: WORKLOADS.filter((w) => !workloadIds || workloadIds.includes(w.id.toUpperCase())),
	};
}

function toolVersions() {
	const run = (cmd, args) => {
		try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (error) { return `${error.stdout ?? ''}${error.stderr ?? ''}`; }
	};
	const first = (text, re) => re.exec(text)?.[1] ?? '?';
	return {
		nginx: first(run('nginx', ['-v']) + run('sh', ['-c', 'nginx -v 2>&1']), /nginx\/(\S+)/),
		caddy: first(run('caddy', ['version']), /^(v?[\d.]+)/),
		wrk: first(run('sh', ['-c', 'wrk -v 2>&1']), /wrk (\S+)/),
		h2load: first(run('h2load', ['--version']), /nghttp2\/(\S+)/),
		openssl: first(run('openssl', ['version']), /OpenSSL (\S+)/),
		node: process.version,
	};
}

/** Number of connections the target has accepted so far (its stub_status), minus this request's own. */
function targetAccepts(target) {
	return new Promise((resolve) => {
		http.get({ host: '127.0.0.1', port: target.port, path: '/nginx_status', agent: false }, (res) => {
			let body = '';
			res.setEncoding('utf8').on('data', (c) => { body += c; }).on('end', () => {
				const match = /server accepts handled requests\s+(\d+)/.exec(body);
				resolve(match ? Number(match[1]) : NaN);
			});
		}).on('error', () => resolve(NaN));
	});
}

/**
 * Checks a contender answers correctly before loading it: TLS with our CA as the only trust, and a
 * 1 KiB body. Returns what it negotiates (protocol, cipher, ALPN offered h2 + http/1.1).
 */
async function probe(contender, server, cert) {
	if (!contender.tls) {
		await fetchBody(http, { host: '127.0.0.1', port: server.port, path: '/1k' });
		return 'plain HTTP/1.1';
	}
	const ca = readFileSync(cert.caFile);
	const negotiated = await new Promise((resolve, reject) => {
		const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
			const peer = socket.getPeerCertificate();
			resolve(`${socket.getProtocol()} ${socket.getCipher().standardName} ALPN ${socket.alpnProtocol || 'none'}, leaf ${peer.asn1Curve ?? peer.bits + '-bit'}`);
			socket.end();
		});
		socket.on('error', reject);
	});
	await fetchBody(https, { host: '127.0.0.1', port: server.port, path: '/1k', servername: 'localhost', ca, agent: false });
	return negotiated;
}

function fetchBody(module, options) {
	return new Promise((resolve, reject) => {
		const req = module.get(options, (res) => {
			let length = 0;
			res.on('data', (c) => { length += c.length; }).on('end', () => {
				if (res.statusCode !== 200 || length !== 1024) { reject(new Error(`GET /1k gave ${res.statusCode} with ${length} bytes`)); } else { resolve(); }
			});
		});
		req.setTimeout(5000, () => req.destroy(new Error('GET /1k timed out')));
		req.on('error', reject);
	});
}

/** One workload against one contender: warm-up run, then the measured run with CPU and RSS deltas. */
async function measure(workload, contender, server, target) {
	const url = `${contender.tls ? 'https' : 'http'}://127.0.0.1:${server.port}${workload.path}`;
	if (WARMUP > 0) { await workload.run(url, WARMUP); }
	const before = groupUsage(server.pid);
	const acceptsBefore = await targetAccepts(target);
	const result = await workload.run(url, SECONDS);
	const acceptsAfter = await targetAccepts(target);
	const after = groupUsage(server.pid);
	return {
		...result,
		value: workload.value ? workload.value(result) : result.rps,
		cpuUsPerRequest: result.requests ? (after.cpuSeconds - before.cpuSeconds) * 1e6 / result.requests : NaN,
		peakRssMiB: after.peakRssMiB,
		// The probe's own status request is one accepted connection.
		upstreamConnections: acceptsAfter - acceptsBefore - 1,
	};
}

async function measureAndLog(workload, contender, server, target, suffix) {
	const name = `${workload.id} ${contender.id}${suffix}`;
	log(`${name}...`);
	try {
		const r = await measure(workload, contender, server, target);
		log(`${name}: ${r.value.toFixed(1)} ${workload.unit}, ${r.cpuUsPerRequest.toFixed(1)} µs CPU/request, ${r.upstreamConnections} target connections${r.errors ? `, ${r.errors} errors ${r.errorDetail}` : ''}`);
		return r;
	} catch (error) {
		log(`${name} failed: ${error.message}`);
		return { error: firstLine(error.message) };
	}
}

/** The run with the median value (so its CPU and latency figures belong to it); RSS is the peak of all. */
function medianRun(list) {
	const ok = list.filter((r) => !r.error).sort((a, b) => a.value - b.value);
	if (ok.length === 0) { return list[0]; }
	return { ...ok[Math.floor((ok.length - 1) / 2)], peakRssMiB: Math.max(...ok.map((r) => r.peakRssMiB)) };
}

function firstLine(message) {
	const line = message.split('\n')[0];
	return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Stops TLS Lens politely and keeps its --cpu-prof output, summarized on stderr. */
async function collectProfiles(servers) {
	if (!NODE_FLAGS.some((f) => f.startsWith('--cpu-prof'))) { return; }
	const outDir = path.join(benchDir, 'profiles');
	mkdirSync(outDir, { recursive: true });
	for (const [id, server] of servers) {
		if (!server.dir || !existsSync(server.dir)) { continue; }
		for (const file of readdirSync(server.dir).filter((f) => f.endsWith('.cpuprofile'))) {
			const dest = path.join(outDir, `${id}-${file}`);
			copyFileSync(path.join(server.dir, file), dest);
			log(`CPU profile of ${id}: ${path.relative(process.cwd(), dest)}`);
			process.stderr.write(summarizeProfile(dest, 25) + '\n');
		}
	}
}

async function main() {
	const { contenders, workloads } = parseCommandLine();
	for (const tool of ['nginx', 'wrk', 'h2load', 'timeout']) {
		if (!haveCommand(tool)) { throw new Error(`${tool} not found: apt-get install -y nginx-light caddy wrk nghttp2-client`); }
	}
	if (!existsSync(cliPath)) { throw new Error('dist/cli.js missing: run `npm run build` first'); }
	if (TLSLENS_CLI !== cliPath) { log(`TLS Lens from ${TLSLENS_CLI}`); }
	const dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-proxy-bench-'));
	if (!process.env.BENCH_KEEP) { atExit(() => rmSync(dir, { recursive: true, force: true })); }
	const servers = new Map();
	let target;
	const results = new Map();
	const notes = new Map();
	const negotiated = new Map();
	try {
		const cert = makeCertificate(dir);
		target = await startTarget(dir);
		const ctx = { dir, cert, target };
		for (const contender of contenders) {
			if (contender.needs && !haveCommand(contender.needs)) { notes.set(contender.id, `${contender.needs} not installed`); continue; }
			try {
				const server = await contender.start(ctx);
				negotiated.set(contender.id, await probe(contender, server, cert));
				servers.set(contender.id, server);
				log(`${contender.id} on port ${server.port} (pid ${server.pid}): ${negotiated.get(contender.id)}`);
			} catch (error) {
				notes.set(contender.id, `did not start: ${firstLine(error.message)}`);
				log(`${contender.id} did not start: ${error.message}`);
			}
		}
		const runs = new Map();
		for (let round = 1; round <= ROUNDS; round++) {
			// Workload by workload, every contender in turn: drift in the machine's load hits all alike.
			for (const workload of workloads) {
				for (const contender of contenders) {
					const server = servers.get(contender.id);
					if (!server || (workload.tlsOnly && !contender.tls)) { continue; }
					const key = `${workload.id}/${contender.id}`;
					if (!runs.has(key)) { runs.set(key, []); }
					runs.get(key).push(await measureAndLog(workload, contender, server, target, ROUNDS > 1 ? ` (round ${round})` : ''));
				}
			}
		}
		for (const [key, list] of runs) { results.set(key, medianRun(list)); }
		const exits = new Map();
		for (const [id, server] of servers) {
			if (id !== 'plain') { exits.set(id, await server.stop()); }
		}
		for (const [id, exit] of exits) {
			if (id.startsWith('tlslens') && (exit.code !== 0 || exit.signal)) { notes.set(id, `exited with ${exit.signal ?? exit.code} on SIGTERM (expected 0)`); }
		}
		await collectProfiles(servers);
		process.stdout.write(renderReport({
			contenders, workloads, results, notes, negotiated,
			versions: toolVersions(), seconds: SECONDS, warmup: WARMUP, rounds: ROUNDS, nodeFlags: NODE_FLAGS, keyDescription: cert.keyDescription,
		}));
	} finally {
		await Promise.all([...servers.values(), ...(target ? [target] : [])].map((s) => s.stop()));
		if (process.env.BENCH_KEEP) { log(`kept ${dir}`); } else { rmSync(dir, { recursive: true, force: true }); }
	}
}

await main();
