// Compiles the integration suites to out/test/integration/*.js for the extension host (both the
// offline runner and @vscode/test-cli load them from there).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const source = path.join(repo, 'test/integration');
const outdir = path.join(repo, 'out/test/integration');

export async function buildIntegrationTests() {
	rmSync(outdir, { recursive: true, force: true });
	await esbuild.build({
		entryPoints: readdirSync(source).filter((f) => f.endsWith('.ts')).map((f) => path.join(source, f)),
		outdir,
		bundle: true,
		platform: 'node',
		target: 'node20',
		format: 'cjs',
		sourcemap: 'inline',
		external: ['vscode', 'mocha'],
		logLevel: 'warning',
	});
	return outdir;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
	await buildIntegrationTests();
}
