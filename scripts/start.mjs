// `npm start`: build, run the demo Vite app as a dev server, and open a real VS Code with TLS Lens
// loaded on it: desktop `code` when it is on PATH, otherwise VS Code's server (from the test cache)
// on 127.0.0.1, whose URL is printed. Ctrl+C stops everything.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, startTestVscode } from '../test/vscode/testVscode.mjs';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
execFileSync('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' });

// A copy of the demo app, so that edits made while trying HMR do not touch the repository.
const demo = path.join(repo, '.vscode-test/demo-app');
rmSync(demo, { recursive: true, force: true });
mkdirSync(demo, { recursive: true });
cpSync(path.join(repo, 'test/fixtures/viteApp'), demo, { recursive: true });
const vitePort = await freePort();
// The port in package.json is what "Start TLS Proxy" discovers and offers.
writeFileSync(path.join(demo, 'package.json'), JSON.stringify({ name: 'tls-lens-demo', private: true, scripts: { dev: `vite --port ${vitePort}` } }, null, 2));
const vite = spawn(process.execPath, [path.join(repo, 'node_modules/vite/bin/vite.js'), demo, '--port', String(vitePort), '--host', '127.0.0.1', '--strictPort'], { stdio: 'inherit' });

const stops = [() => vite.kill('SIGTERM')];
const stopAll = () => { for (const stop of stops) { stop(); } process.exit(0); };
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode) {
	console.log(`Demo dev server: http://127.0.0.1:${vitePort}. Opening VS Code: run "TLS Lens: Start TLS Proxy" and pick it.`);
	spawn('code', ['--new-window', `--extensionDevelopmentPath=${repo}`, demo], { stdio: 'inherit' });
} else {
	const server = await startTestVscode({ dataDir: path.join(repo, '.vscode-test/demo-vscode'), port: Number(process.env.PORT) || undefined });
	stops.push(() => void server.stop());
	console.log(`\nDemo dev server: http://127.0.0.1:${vitePort}`);
	console.log(`VS Code (no desktop \`code\` on PATH, so VS Code's server): open this URL in a browser on this machine:\n\n  ${server.url({ folder: demo })}\n`);
	console.log('Then run "TLS Lens: Start TLS Proxy" (F1) and pick the demo server. Ctrl+C stops everything.');
}
