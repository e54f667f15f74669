// `npm test`: every tier in order, each timed, stopping at the first failure.
import { spawnSync } from 'node:child_process';
import { checkPrerequisites } from './prereqs.mjs';

// The system tools the tiers drive for real: a missing one is one line here, not a failure deep in a tier.
if (checkPrerequisites('test').length) {
	console.error('npm test: install the tools above, then run it again.');
	process.exit(1);
}

const tiers = [
	['lint', 'npm', ['run', '-s', 'lint']],
	['check-types', 'npm', ['run', '-s', 'check-types']],
	['build', 'npm', ['run', '-s', 'build']],
	['unit', 'npm', ['run', '-s', 'test:unit']],
	['integration (VS Code extension host)', 'npm', ['run', '-s', 'test:vscode']],
	['e2e (VS Code UI in Chromium)', 'npm', ['run', '-s', 'test:e2e']],
	// Last: packaging rebuilds dist/ for production (minified, no source maps).
	['package (VSIX)', 'npm', ['run', '-s', 'package']],
	['vsix (installed package in VS Code)', 'npm', ['run', '-s', 'test:vsix']],
];
const only = process.argv.slice(2);
const timings = [];
let failed;
for (const [name, command, args] of tiers) {
	if (only.length && !only.some((o) => name.startsWith(o))) { continue; }
	console.log(`\n=== ${name} ===`);
	const start = Date.now();
	const result = spawnSync(command, args, { stdio: 'inherit' });
	timings.push([name, (Date.now() - start) / 1000, result.status]);
	if (result.status !== 0) { failed = name; break; }
}
console.log('\n=== tiers ===');
for (const [name, seconds, status] of timings) {
	console.log(`${status === 0 ? 'ok  ' : 'FAIL'} ${name.padEnd(40)} ${seconds.toFixed(1).padStart(7)} s`);
}
console.log(`total ${timings.reduce((n, [, s]) => n + s, 0).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
