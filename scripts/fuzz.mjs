// Differential fuzzing of the proxy's HTTP/1.1 handling against Node's llhttp, for longer than the
// bounded run in test/unit/proxy/differential.test.ts (part of `npm test`): the same generators, oracle,
// proxy driver and checks, loaded from TypeScript through tsx as the unit tests load them.
//
//   node scripts/fuzz.mjs [--seconds 300] [--seed N] [--cases N] [--lanes 8,4] [--show 3]
//
// Prints the rate every 10 s and each failing case (its exact bytes, JSON-escaped, and what llhttp and
// the proxy each did: the first --show of each cause in full, then their names), then the failures
// grouped by cause. Exit status 1 when a case failed. Only loopback addresses are used.
import { createRequire } from 'node:module';
import { register } from 'tsx/cjs/api';

function parseArgs(argv) {
	const options = { seconds: 300, seed: Math.floor(Math.random() * 0x7fffffff), cases: Infinity, lanes: [8, 4], show: 3 };
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split('=');
		const value = () => inline ?? argv[++i];
		if (flag === '--seconds') { options.seconds = Number(value()); } else if (flag === '--seed') { options.seed = Number(value()); } else if (flag === '--cases') {
			options.cases = Number(value());
		} else if (flag === '--lanes') { options.lanes = value().split(',').map(Number); } else if (flag === '--show') { options.show = Number(value()); } else {
			console.error(`unknown option ${argv[i]}\nusage: node scripts/fuzz.mjs [--seconds 300] [--seed N] [--cases N] [--lanes 8,4] [--show 3]`);
			process.exit(2);
		}
	}
	for (const [name, n] of [['--seconds', options.seconds], ['--seed', options.seed]]) {
		if (!Number.isFinite(n) || n < 0) {
			console.error(`${name} needs a non-negative number`);
			process.exit(2);
		}
	}
	return options;
}

const options = parseArgs(process.argv.slice(2));
register();
const require = createRequire(import.meta.url);
// The Reflect metadata shim @peculiar/x509 needs (as in the unit tests), then the fuzzer.
require('../test/unit/setup.ts');
const { Fuzzer, runRandom, groupFailures } = require('../test/unit/proxy/differential/runner.ts');
const { formatFailure } = require('../test/unit/proxy/differential/check.ts');
const { regressionsByCause } = require('../test/unit/proxy/differential/regressions.ts');

console.log(`fuzz: seed ${options.seed}, ${options.seconds} s${Number.isFinite(options.cases) ? ` or ${options.cases} cases` : ''}, `
	+ `${options.lanes[0]} request lanes and ${options.lanes[1]} response lanes`);
const fuzzer = await Fuzzer.start({ requestLanes: options.lanes[0], responseLanes: options.lanes[1] });
const started = performance.now();
const shownByCause = new Map();
let failedSoFar = 0;
let lastDone = 0;
const progress = setInterval(() => {
	const now = performance.now();
	console.log(`  ${((now - started) / 1000).toFixed(0)} s: ${lastDone} cases, ${(lastDone / ((now - started) / 1000)).toFixed(0)} cases/s overall, `
		+ `${failedSoFar} failed`);
}, 10_000);
progress.unref();

const summary = await runRandom(fuzzer, options.seed, options.cases, options.seconds * 1000, (result, done) => {
	lastDone = done;
	if (result.failures.length === 0) { return; }
	failedSoFar++;
	for (const cause of new Set(result.failures.map((f) => f.cause))) {
		const shown = shownByCause.get(cause) ?? 0;
		shownByCause.set(cause, shown + 1);
		if (shown < options.show) {
			console.log(`\n${formatFailure(result)}\n`);
			return;
		}
	}
	console.log(`  FAIL ${result.case.name}: ${result.failures.map((f) => f.cause).join('; ')}`);
});
clearInterval(progress);
await fuzzer.close();

console.log(`\nfuzz: ${summary.cases} cases in ${summary.seconds.toFixed(1)} s, ${summary.casesPerSecond.toFixed(0)} cases/s (seed ${options.seed})`);
const stricter = [...summary.stricter].sort((a, b) => b[1] - a[1]);
if (stricter.length > 0) {
	console.log(`where the proxy refused what llhttp accepts (allowed, not failures):`);
	for (const [what, count] of stricter) { console.log(`  ${String(count).padStart(6)} ${what}`); }
}
if (summary.failed.length === 0) {
	console.log('no failures');
} else {
	console.log(`${summary.failed.length} failed cases, by cause:`);
	const known = regressionsByCause();
	for (const [cause, names] of groupFailures(summary.failed)) {
		const regressions = known.get(cause.replace(/^(request|response): /, '')) ?? [];
		console.log(`  ${String(names.length).padStart(6)} × ${cause}\n         ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`
			+ (regressions.length ? `\n         as the regressions: ${regressions.map((n) => JSON.stringify(n)).join(', ')}` : '\n         (no regression case has this cause yet)'));
	}
}
process.exit(summary.failed.length === 0 ? 0 : 1);
