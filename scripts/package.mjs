// `npm run package`: the VSIX that users install. A production build (minified, no source maps), the
// README as the extension page can show it (scripts/packagedReadme.mjs), then vsce with only the files
// that .vscodeignore lets in. Fails on any vsce warning: a warning here is something a user would see.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { packagedReadme } from './packagedReadme.mjs';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { name, version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
/** Where the VSIX is written, relative to the repository. */
export const vsixFile = `${name}-${version}.vsix`;

function main() {
	execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: repo, stdio: 'inherit' });
	const readme = 'dist/package/README.md';
	mkdirSync(path.join(repo, path.dirname(readme)), { recursive: true });
	writeFileSync(path.join(repo, readme), packagedReadme(readFileSync(path.join(repo, 'README.md'), 'utf8'), repo));

	// No `repository` in package.json: TLS Lens is not published from one, and says so instead of
	// inventing a URL; the packaged README has no relative links for vsce to rewrite.
	const vsce = path.join(repo, 'node_modules/@vscode/vsce/vsce');
	const result = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository',
		'--readme-path', readme, '--out', vsixFile], { cwd: repo, encoding: 'utf8' });
	process.stdout.write(result.stdout);
	process.stderr.write(result.stderr);
	if (result.status !== 0) { process.exit(result.status ?? 1); }
	if (/\bWARNING\b/i.test(result.stdout + result.stderr)) {
		console.error('vsce warned (above): fix the cause; the package must build without warnings.');
		process.exit(1);
	}
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
	try {
		main();
	} catch (error) {
		console.error(error.message);
		process.exit(1);
	}
}
