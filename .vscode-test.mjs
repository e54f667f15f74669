// `npm run test:desktop`: the same integration suites in desktop VS Code, downloaded by
// @vscode/test-electron (needs internet). `npm test` uses the offline runner instead.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
	label: 'integration',
	files: 'out/test/integration/**/*.test.js',
	workspaceFolder: 'test/fixtures/workspace',
	// The lowest version we support (engines.vscode), so the suites guard the floor.
	version: '1.100.0',
	mocha: { ui: 'bdd', timeout: 30_000 },
	launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
});
