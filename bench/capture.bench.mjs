// What capture costs the proxy: the CaptureStore driven exactly as the proxy drives it for a W1-like
// exchange (HTTP/1.1 GET with 12 request headers, 8 response headers, one 1 KiB response body chunk that
// is a view into a 64 KiB read buffer, finish('completed')), 300,000 exchanges into the default 64 MiB
// budget, through the built bundle (dist/core.js). Each scenario runs in fresh Node processes with V8's
// default flags (the extension host cannot change them), so GC and RSS are what the product would see.
//
// The inputs are built per exchange the way the proxy's parser builds them (one latin1 string per head,
// header names and values sliced from it), so keeping or dropping them costs what it costs in the proxy.
// Exchanges arrive at the W1 rate (25,000/s, 250 per event-loop turn) so that the store's batches, V8's
// young generation and its heap-growth heuristics see what they would see behind the proxy; the cost is
// the process's CPU time (all threads: GC helpers count) per exchange. The same loop without the store
// ("driver only") is measured too and subtracted: "store" is the store's own cost, GC included. Prints a
// Markdown section on stdout; progress goes to stderr.
//
//   node bench/capture.bench.mjs                       every scenario, 5 processes each (~3 minutes)
//   CAPTURE_BENCH_RUNS=5 CAPTURE_BENCH_EXCHANGES=300000
//   CAPTURE_BENCH_RATE=25000                           exchanges per second; 0: as fast as possible
//   CAPTURE_BENCH_CORE=FILE                            load CaptureStore from FILE instead of dist/core.js (A/B)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

const require = createRequire(import.meta.url);
const RUNS = Math.max(1, Number(process.env.CAPTURE_BENCH_RUNS ?? 5));
const EXCHANGES = Math.max(1000, Number(process.env.CAPTURE_BENCH_EXCHANGES ?? 300_000));
const RATE = Math.max(0, Number(process.env.CAPTURE_BENCH_RATE ?? 25_000));
/** Exchanges per event-loop turn: 10 ms of traffic at 25k requests/s. */
const PER_TURN = 250;
const MiB = 1024 * 1024;

const SCENARIOS = [
	{ id: 'driver', label: 'driver only (inputs built, no store)' },
	{ id: 'store', label: 'store, no listener' },
	{ id: 'listener', label: 'store + change listener' },
];

// A browser-like request: 12 headers, ~450 bytes of names and values.
const REQUEST_HEADERS = [
	['Host', 'localhost:8443'],
	['Connection', 'keep-alive'],
	['sec-ch-ua', '"Chromium";v="131", "Not_A Brand";v="24"'],
	['sec-ch-ua-mobile', '?0'],
	['sec-ch-ua-platform', '"Linux"'],
	['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'],
	['Accept', '*/*'],
	['Sec-Fetch-Site', 'same-origin'],
	['Sec-Fetch-Mode', 'cors'],
	['Referer', 'https://localhost:8443/app/dashboard'],
	['Accept-Encoding', 'gzip, deflate, br, zstd'],
	['Accept-Language', 'en-US,en;q=0.9'],
];
// nginx serving a static 1 KiB file.
const RESPONSE_HEADERS = [
	['Server', 'nginx/1.22.1'],
	['Date', 'Fri, 28 Nov 2026 14:09:41 GMT'],
	['Content-Type', 'application/octet-stream'],
	['Content-Length', '1024'],
	['Last-Modified', 'Fri, 28 Nov 2026 13:02:10 GMT'],
	['Connection', 'keep-alive'],
	['ETag', '"6748a1e2-400"'],
	['Accept-Ranges', 'bytes'],
];

/**
 * A head as the proxy's parser sees it, with the offsets of its name and value slices. The parser slices
 * one latin1 string per head; we do the same from a Buffer so every exchange gets fresh strings.
 */
function template(firstLine, headers) {
	let text = firstLine + '\r\n';
	const slices = [];
	for (const [name, value] of headers) {
		slices.push(text.length, text.length + name.length);
		text += name + ': ';
		slices.push(text.length, text.length + value.length);
		text += value + '\r\n';
	}
	return { buffer: Buffer.from(text, 'latin1'), slices };
}

function parse(head, pathStart, pathEnd) {
	const text = head.buffer.latin1Slice(0, head.buffer.length);
	const raw = new Array(head.slices.length >> 1);
	for (let i = 0; i < head.slices.length; i += 2) raw[i >> 1] = text.slice(head.slices[i], head.slices[i + 1]);
	return { text, raw, path: pathEnd === undefined ? undefined : text.slice(pathStart, pathEnd) };
}

async function child(scenario) {
	const { CaptureStore } = require(process.env.CAPTURE_BENCH_CORE ? path.resolve(process.env.CAPTURE_BENCH_CORE) : '../dist/core.js');
	const request = template('GET /assets/chunk-0000000.js?v=1 HTTP/1.1', REQUEST_HEADERS);
	const response = template('HTTP/1.1 200 OK', RESPONSE_HEADERS);
	const pathStart = 4;
	const pathEnd = request.buffer.indexOf(' HTTP/1.1');
	const clients = Array.from({ length: 50 }, (_, i) => `127.0.0.1:${50000 + i}`);
	const tlsDetails = clients.map(() => ({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', alpn: 'http/1.1', sni: 'localhost', resumed: false, handshakeMs: 2.1 }));
	let read = Buffer.allocUnsafeSlow(65536);
	let readOffset = 0;

	let gcMs = 0;
	const observer = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) gcMs += entry.duration;
	});

	async function run(store, count, rate) {
		const started = performance.now();
		const cpu = process.cpuUsage();
		for (let i = 0; i < count; i++) {
			// A fresh path per request (as the parser slices it), then the head.
			request.buffer.write(String(i % 10_000_000).padStart(7, '0'), pathStart + 'assets/chunk-'.length + 1, 'latin1');
			const head = parse(request, pathStart, pathEnd);
			const client = i % 50;
			// One socket read per response: the 1 KiB body is a view into it. Node's reads are up to 64 KiB;
			// a new backing store every 64 responses keeps this loop's own allocations out of the numbers.
			if (readOffset === 65536) {
				read = Buffer.allocUnsafeSlow(65536);
				readOffset = 0;
			}
			const body = read.subarray(readOffset, readOffset + 1024);
			readOffset += 1024;
			if (store === undefined) {
				// Driver only: what the proxy would build anyway, no store.
				parse(response);
			} else {
				const recorder = store.beginExchange({
					kind: 'http',
					client: clients[client],
					tls: tlsDetails[client],
					// Keep-alive: the connection's earlier requests opened it.
					connectionReused: true,
					// As the proxy hands HTTP/1.x heads over: the parsed headers and the text they came from.
					request: { method: 'GET', path: head.path, authority: head.raw[1], httpVersion: '1.1', rawHeaders: head.raw, headText: head.text },
					startMonotonic: performance.now(),
				});
				recorder.upstreamConnected(true);
				recorder.requestSent();
				const reply = parse(response);
				recorder.response(200, 'OK', reply.raw, reply.text);
				recorder.responseBody(body);
				recorder.finish('completed');
			}
			if (i % PER_TURN === PER_TURN - 1) {
				const due = rate === 0 ? 0 : started + (i + 1) / rate * 1000 - performance.now();
				await (due >= 1 ? sleep(due) : turn());
			}
		}
		const used = process.cpuUsage(cpu);
		return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
	}

	const makeStore = () => {
		if (scenario === 'driver') return undefined;
		const store = new CaptureStore();
		if (scenario === 'listener') {
			// What a reader does with a batch: look at each record (the inspector summarises them).
			store.onDidChange((change) => {
				let touched = 0;
				for (const exchange of change.added) touched += exchange.state.length + (exchange.response?.statusCode ?? 0);
				for (const exchange of change.updated) touched += exchange.state.length + (exchange.response?.statusCode ?? 0);
				if (touched < 0) console.error('unreachable');
			});
		}
		return store;
	};

	// Warm up the code paths on a small store, then measure on a fresh default one.
	const warm = scenario === 'driver' ? undefined : new CaptureStore({ budgetBytes: 2 * MiB });
	await run(warm, 30_000, 0);
	warm?.dispose();
	const store = makeStore();
	observer.observe({ entryTypes: ['gc'] });
	const { wallMs, cpuMs } = await run(store, EXCHANGES, RATE);
	observer.disconnect();
	const usage = process.memoryUsage();
	const stats = store?.stats();
	v8.setFlagsFromString('--expose-gc');
	const gc = vm.runInNewContext('gc');
	gc();
	gc();
	const live = process.memoryUsage();
	process.stdout.write(JSON.stringify({
		nsPerExchange: cpuMs / EXCHANGES * 1e6,
		wallNsPerExchange: wallMs / EXCHANGES * 1e6,
		gcNsPerExchange: gcMs / EXCHANGES * 1e6,
		rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers,
		maxRss: process.resourceUsage().maxRSS * 1024,
		liveHeapUsed: live.heapUsed, liveExternal: live.external, liveArrayBuffers: live.arrayBuffers,
		count: stats?.count ?? 0, usedBytes: stats?.usedBytes ?? 0, evicted: stats?.evicted ?? 0,
	}));
	store?.dispose();
}

function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)];
}

function main() {
	// Round-robin (driver, store, listener, driver, …), so that a busy spell of a shared machine hits
	// every scenario alike; the store's own cost is the median of the per-round differences.
	const results = new Map(SCENARIOS.map((scenario) => [scenario.id, []]));
	for (let i = 0; i < RUNS; i++) {
		for (const scenario of SCENARIOS) {
			process.stderr.write(`capture.bench: round ${i + 1}/${RUNS}, ${scenario.id}\n`);
			const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--child', scenario.id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
			results.get(scenario.id).push(JSON.parse(out));
		}
	}
	const drivers = results.get('driver');
	const mib = (bytes) => (bytes / MiB).toFixed(1);
	const rows = SCENARIOS.map((scenario) => {
		const runs = results.get(scenario.id);
		const ns = median(runs.map((r) => r.nsPerExchange));
		// Memory of the run with the median RSS, so the columns belong together.
		const m = [...runs].sort((a, b) => a.rss - b.rss)[Math.floor(runs.length / 2)];
		const own = scenario.id === 'driver' ? '' : `${Math.round(median(runs.map((r, i) => r.nsPerExchange - drivers[i].nsPerExchange)))}`;
		return `| ${scenario.label} | ${Math.round(ns)} | ${own} | ${Math.round(median(runs.map((r) => r.gcNsPerExchange)))} | ${mib(m.rss)} | ${mib(m.maxRss)}`
			+ ` | ${mib(m.heapUsed)} | ${mib(m.external)} / ${mib(m.arrayBuffers)} | ${mib(m.liveHeapUsed)} | ${m.count.toLocaleString('en-US')} | ${mib(m.usedBytes)} |`;
	});
	const pace = RATE === 0 ? 'as fast as the loop goes' : `at ${RATE.toLocaleString('en-US')}/s`;
	console.log(`## Capture store

${EXCHANGES.toLocaleString('en-US')} W1-like exchanges (12 request headers, 8 response headers, one 1 KiB response chunk
that is a view into a 64 KiB read, \`finish('completed')\`) into a default store (64 MiB budget), ${pace},
${PER_TURN} per event-loop turn; median of ${RUNS} fresh processes each, with default V8 flags. *CPU* is the process's
CPU time per exchange (all threads), *store* the store's own share (median of CPU minus driver only, round
by round), *GC* the main-thread GC pauses per exchange; memory is \`process.memoryUsage()\` at the end of
the run, *live heap* after two forced full GCs, *kept* and *accounted* the store's \`stats()\`.

| scenario | CPU ns/exchange | store ns | GC ns | RSS MiB | max RSS MiB | heapUsed MiB | external / arrayBuffers MiB | live heap MiB | kept | accounted MiB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await child(process.argv[childAt + 1]);
else main();
