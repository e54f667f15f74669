// Entry point the VS Code extension host loads (extensionTestsPath): runs every *.test.js next to it
// with mocha and resolves when they are done. Works under the offline runner (test/vscode/runIntegration.mjs)
// and under @vscode/test-electron.
import { appendFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

export function run(): Promise<void> {
	const logFile = process.env.TLS_LENS_TEST_LOG;
	if (logFile) {
		// The remote extension host's stdout goes nowhere visible: mirror mocha's output to a file the runner prints.
		Mocha.reporters.Base.consoleLog = (...args: unknown[]) => { appendFileSync(logFile, format(...args) + '\n'); };
	}
	const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec' });
	for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
		mocha.addFile(path.join(__dirname, file));
	}
	return new Promise((resolve, reject) => {
		mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
	});
}
