// `npm run test:vscode`: runs test/integration inside a real VS Code extension host, offline: VS Code's
// server + web workbench in headless Chromium (the same suites run on desktop VS Code with
// `npm run test:desktop`). Exits with the suites' result; times out with the server log, never hangs.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildIntegrationTests } from './buildTests.mjs';
import { launchChromium, startTestVscode } from './testVscode.mjs';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const TIMEOUT_MS = Number(process.env.TLS_LENS_TEST_TIMEOUT_MS || 5 * 60_000);

if (!existsSync(path.join(repo, 'dist/extension.js'))) {
	console.error('dist/extension.js is missing: run `npm run build` first.');
	process.exit(1);
}
const started = Date.now();
const outdir = await buildIntegrationTests();
const work = mkdtempSync(path.join(tmpdir(), 'tls-lens-vscode-'));
const folder = path.join(work, 'workspace');
cpSync(path.join(repo, 'test/fixtures/workspace'), folder, { recursive: true });
const logFile = path.join(work, 'mocha.log');
writeFileSync(logFile, '');
process.env.TLS_LENS_TEST_LOG = logFile; // inherited by the server and its extension host

let server;
let browser;
let printed = 0;
const flushLog = () => {
	const text = readFileSync(logFile, 'utf8');
	process.stdout.write(text.slice(printed));
	printed = text.length;
};
let code = 1;
const workbenchLog = [];
try {
	server = await startTestVscode({ dataDir: path.join(work, 'vscode') });
	browser = await launchChromium();
	const page = await browser.newPage();
	const exit = new Promise((resolve) => {
		page.exposeFunction('codeAutomationExit', (c) => resolve(c));
		// The workbench's own log is noise offline (marketplace lookups fail); kept for a failure report.
		page.exposeFunction('codeAutomationLog', (...args) => { workbenchLog.push(args.join(' ')); });
	});
	const poll = setInterval(flushLog, 500);
	await page.goto(server.url({ folder, extensionTestsPath: path.join(outdir, 'index.js') }));
	const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref());
	const result = await Promise.race([exit, timeout]);
	clearInterval(poll);
	flushLog();
	if (result === 'timeout') {
		console.error(`\nIntegration tests did not report within ${TIMEOUT_MS / 1000} s. VS Code server log:\n${server.output()}\nWorkbench log:\n${workbenchLog.join('\n')}`);
	} else {
		code = Number(result);
		if (code !== 0 && printed === 0) { console.error(`Extension host reported ${code} without test output. Server log:\n${server.output()}\nWorkbench log:\n${workbenchLog.join('\n')}`); }
	}
} catch (error) {
	console.error(error);
	if (server) { console.error(`VS Code server log:\n${server.output()}`); }
} finally {
	await browser?.close();
	await server?.stop();
	rmSync(work, { recursive: true, force: true });
}
console.error(`integration tier: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(code);
