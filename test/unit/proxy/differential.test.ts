import * as assert from 'node:assert/strict';
import { formatFailure } from './differential/check';
import { REGRESSIONS, regressionCase, regressionsByCause } from './differential/regressions';
import { formatFailures, Fuzzer, runRandom } from './differential/runner';

/*
 * Differential fuzzing of the proxy's HTTP/1.1 handling against Node's llhttp (issue 14): generated
 * requests and responses through the real proxy, over real TLS, checked against what a real
 * http.createServer / http.request make of the same bytes (see differential/check.ts for the
 * invariant). Bounded here; `node scripts/fuzz.mjs --seconds 300 --seed N` runs longer.
 *
 * TLS_LENS_FUZZ_SEED picks another seed (default 1): the cases are the same for a seed, only how
 * many run within the time bound depends on the machine.
 */
const SEED = Number(process.env.TLS_LENS_FUZZ_SEED ?? 1);
const MAX_CASES = 2000;
const MAX_MS = 4000;

describe('proxy: differential fuzzing against llhttp', function () {
	this.timeout(60_000);
	let fuzzer: Fuzzer;

	before(async () => { fuzzer = await Fuzzer.start(); });
	after(async () => { await fuzzer?.close(); });

	it(`random requests and responses (seed ${SEED}, ${MAX_CASES} cases or ${MAX_MS / 1000} s)`, async () => {
		const summary = await runRandom(fuzzer, SEED, MAX_CASES, MAX_MS);
		const stricter = [...summary.stricter.values()].reduce((a, b) => a + b, 0);
		console.log(`      ${summary.cases} cases in ${summary.seconds.toFixed(1)} s: ${summary.casesPerSecond.toFixed(0)} cases/s; `
			+ `${summary.failed.length} failed, ${stricter} where the proxy was stricter than llhttp`);
		assert.ok(summary.cases >= 100, `only ${summary.cases} cases ran`);
		if (summary.failed.length > 0) { assert.fail(`${summary.failed.length} of ${summary.cases} cases failed (seed ${SEED}):\n${formatFailures(summary.failed, 20, regressionsByCause())}`); }
	});

	for (const regression of REGRESSIONS) {
		it(`regression: ${regression.name}`, async () => {
			const result = await fuzzer.runCase(regressionCase(regression));
			if (result.failures.length > 0) { assert.fail(`${formatFailure(result)}\n  (when found: ${regression.cause})`); }
		});
	}
});
