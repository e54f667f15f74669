// Load generators: wrk (HTTP/1.1) and h2load (HTTP/2, and fresh processes for full TLS handshakes),
// each wrapped in `timeout` (h2load's timed mode hangs on servers without h2) and parsed into numbers.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runTool } from './procs.mjs';

const wrkScript = path.join(path.dirname(new URL(import.meta.url).pathname), 'wrk-report.lua');
const MiB = 1024 * 1024;

/**
 * wrk for `seconds` against `url`; `close` sends `Connection: close` so every request opens a new
 * connection (wrk then resumes the TLS session it got first: these are abbreviated handshakes).
 */
export async function wrk(url, { seconds, connections, threads = 2, close = false }) {
	const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', wrkScript];
	if (close) { args.push('-H', 'Connection: close'); }
	args.push(url);
	const result = await runTool('wrk', args, { timeoutSeconds: seconds + 20 });
	const line = result.stdout.split('\n').find((l) => l.startsWith('{"requests"'));
	if (!line) { throw new Error(`wrk ${url} gave no report (exit ${result.code}): ${result.stderr || result.stdout}`); }
	const report = JSON.parse(line);
	const elapsed = report.durationUs / 1e6;
	const errors = Object.values(report.errors).reduce((a, b) => a + b, 0);
	return {
		requests: report.requests,
		rps: report.requests / elapsed,
		mibps: report.bytes / MiB / elapsed,
		p50Ms: report.latencyUs.p50 / 1000,
		p99Ms: report.latencyUs.p99 / 1000,
		errors,
		errorDetail: errors ? JSON.stringify(report.errors) : '',
	};
}

/** h2load in timed mode: `connections` × `streams` concurrent HTTP/2 requests for `seconds`. */
export async function h2load(url, { seconds, connections, streams, threads = 2 }) {
	const args = ['-c', String(connections), '-m', String(streams), '-t', String(threads), '-D', String(seconds), url];
	const result = await runTool('h2load', args, { timeoutSeconds: seconds + 15 });
	const parsed = parseH2load(result.stdout);
	if (result.timedOut || !parsed) {
		throw new Error(`h2load ${url} ${result.timedOut ? 'hung (killed by timeout)' : 'gave no report'}: ${(result.stderr || result.stdout).slice(-500)}`);
	}
	return {
		requests: parsed.succeeded,
		rps: parsed.succeeded / seconds,
		errors: parsed.failed + parsed.errored + parsed.timeout,
		errorDetail: parsed.failed ? `${parsed.failed} failed` : '',
		protocol: parsed.protocol,
	};
}

/**
 * Full TLS handshakes: `parallel` loops, each starting fresh h2load processes back to back until
 * `seconds` have passed. A new process has no session to resume, and each of its `perProcess`
 * connections makes exactly one HTTP/1.1 request (HTTP/1.1 because the plain-HTTP target has no h2
 * and this measures connection setup, not the protocol). Returns completed requests per second.
 */
export async function freshHandshakes(url, { seconds, parallel = 2, perProcess = 20 }) {
	const args = ['--h1', '-n', String(perProcess), '-c', String(perProcess), '-t', '1', url];
	const deadline = performance.now() + seconds * 1000;
	const start = performance.now();
	let requests = 0;
	let errors = 0;
	let processes = 0;
	let protocol = '';
	const loop = async () => {
		while (performance.now() < deadline) {
			const result = await runTool('h2load', args, { timeoutSeconds: 20 });
			const parsed = parseH2load(result.stdout);
			processes++;
			if (!parsed) { errors += perProcess; continue; }
			requests += parsed.succeeded;
			errors += parsed.failed + parsed.errored + parsed.timeout;
			protocol ||= parsed.protocol;
		}
	};
	await Promise.all(Array.from({ length: parallel }, loop));
	const elapsed = (performance.now() - start) / 1000;
	return { requests, rps: requests / elapsed, errors, errorDetail: errors ? `${errors} failed of ${processes} processes` : '', protocol };
}

function parseH2load(stdout) {
	const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
	if (!requests) { return null; }
	const tls = /TLS Protocol: (\S+)\s+Cipher: (\S+)/.exec(stdout);
	const alpn = /Application protocol: (\S+)/.exec(stdout);
	return {
		succeeded: Number(requests[4]), failed: Number(requests[5]), errored: Number(requests[6]), timeout: Number(requests[7]),
		protocol: [tls?.[1], tls?.[2], alpn?.[1]].filter(Boolean).join(' '),
	};
}
