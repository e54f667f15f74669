// How long a browser waits for a certificate the first time it asks for a new name: issuing a leaf
// (key pair + signature) and building its TLS secure context, through the shipped bundle.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { openCa, LeafIssuer } = require('../dist/core.js');

const dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-bench-'));
try {
	const t0 = performance.now();
	const { ca } = await openCa(path.join(dir, 'ca'));
	const caMs = performance.now() - t0;
	const issuer = new LeafIssuer(ca);
	for (let i = 0; i < 50; i++) { await issuer.certificateFor(`warmup${i}.localhost`); }
	const samples = [];
	const N = 1000;
	for (let i = 0; i < N; i++) {
		const start = performance.now();
		await issuer.certificateFor(`app${i}.localhost`);
		samples.push(performance.now() - start);
	}
	samples.sort((a, b) => a - b);
	const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))].toFixed(2);
	const mean = (samples.reduce((a, b) => a + b, 0) / N).toFixed(2);
	// The issuer keeps the 500 most recent names: look up the last 400 issued.
	const cachedStart = performance.now();
	for (let i = N - 400; i < N; i++) { await issuer.certificateFor(`app${i}.localhost`); }
	const cachedUs = ((performance.now() - cachedStart) / 400 * 1000).toFixed(1);
	console.log(`## Certificate issuing

New leaf per SNI name (ECDSA P-256 key, signature by the CA, TLS secure context), ${N} names, one at a time:

| metric | value |
| --- | --- |
| CA creation (first use) | ${caMs.toFixed(1)} ms |
| new name, mean | ${mean} ms |
| new name, p50 / p99 | ${q(0.5)} / ${q(0.99)} ms |
| cached name | ${cachedUs} µs |
`);
} finally {
	rmSync(dir, { recursive: true, force: true });
}
