// Runs every bench/*.bench.mjs in its own process (against the built dist/ bundles) and writes their
// Markdown sections to bench/RESULTS.md. Benchmarks are not tests: nothing here asserts a time.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.mjs') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
const sections = [];
for (const file of files) {
	console.error(`bench: ${file}`);
	sections.push(execFileSync(process.execPath, [path.join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}
const header = `# Benchmark results

Run by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
The machine is shared and noisy: compare ratios within one run, not absolute numbers across runs.
`;
writeFileSync(path.join(here, 'RESULTS.md'), [header, ...sections].join('\n'));
console.log([header, ...sections].join('\n'));
