// Builds every bundle TLS Lens ships: the extension host bundle, the CLI, the core library (used by
// benchmarks and by tests that check what ships) and, once it exists, the inspector webview.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// A production build starts from an empty dist/, so no source map or stale file of a dev build ships.
if (production) { rmSync('dist', { recursive: true, force: true }); }

/** @type {esbuild.BuildOptions} */
const node = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	sourcemap: !production,
	minify: production,
	logLevel: 'warning',
	// @peculiar/x509 (through tsyringe) needs Reflect metadata. The extension host is shared by every
	// extension, so instead of patching the global Reflect we replace the `Reflect` identifier inside
	// our own bundle with a local object (see src/core/certs/reflectShim.ts and docs/ARCHITECTURE.md).
	inject: ['src/core/certs/reflectShim.ts'],
	define: { __VERSION__: JSON.stringify(version) },
};

const builds = [
	{
		...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'],
		// First statement of the bundle, so the logged activation time includes module evaluation.
		banner: { js: 'var __tlsLensLoadStart = performance.now();' },
	},
	{ ...node, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
	{ ...node, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' },
];
// The inspector webview: main.js plus the main.css its `import './styles.css'` produces.
builds.push({
	bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: !production, minify: production,
	logLevel: 'warning', entryPoints: ['media/main.ts'], outfile: 'dist/webview/main.js',
});
// Codicons as VS Code ships them (font + stylesheet), served from dist/webview: the only local
// resource root the webview may load from.
mkdirSync('dist/webview', { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) {
	copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/webview/${file}`);
}

if (watch) {
	for (const options of builds) {
		await (await esbuild.context(options)).watch();
	}
} else {
	await Promise.all(builds.map((options) => esbuild.build(options)));
}
