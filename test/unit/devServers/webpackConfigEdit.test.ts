import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ts from 'typescript';
import { planWebpackSocketFix, WEBPACK_SOCKET_URL } from '../../../src/core/devServers';

// What the tests read from a loaded config.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a webpack config is any shape
type Config = Record<string, any>;

/** Runs a CommonJS config and returns what it exports (proves the edited text is valid JavaScript). */
function runCjs(text: string): Config {
	const module = { exports: {} as Config };
	new Function('module', 'exports', 'require', '__dirname', text)(module, module.exports, require, __dirname);
	return module.exports;
}

/** Plans, checks the edit is idempotent, and returns the edited text. */
function fix(text: string): string {
	const plan = planWebpackSocketFix(text);
	assert.ok(plan.ok, plan.ok ? '' : plan.reason);
	assert.ok(plan.edit, 'an edit');
	const again = planWebpackSocketFix(plan.text);
	assert.ok(again.ok && again.edit === undefined && again.text === plan.text, 'a second pass changes nothing');
	return plan.text;
}

const fixture = `const path = require('path');
const HtmlWebpackPlugin = require('html-webpack-plugin');

// Not the export: module.exports = [] in a comment, and "}" in strings and /[{}]/ in a regex.
module.exports = {
  mode: 'development',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist'), filename: \`bundle.\${'js'}\` },
  module: { rules: [{ test: /\\.css$|[{}'"]/, use: ['style-loader'] }] },
  plugins: [], // trailing comment
};
`;

describe('webpack config edit for the HMR socket (pure)', () => {
	it('adds devServer to module.exports = {…}, keeping the rest and the comments', () => {
		const text = fix(fixture);
		const config = runCjs(text.replace("require('html-webpack-plugin')", '{}'));
		assert.equal(config.devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
		assert.equal(config.mode, 'development');
		assert.match(text, /plugins: \[\], \/\/ trailing comment\n {2}devServer: \{ client: \{ webSocketURL: 'auto:\/\/0\.0\.0\.0:0\/ws' \} \},\n\};/);
	});

	it('merges into an existing devServer and client, and keeps a file without trailing commas so', () => {
		const text = fix(`module.exports = {\n\tdevServer: {\n\t\tport: 8080,\n\t\tclient: { overlay: false }\n\t}\n};\n`);
		assert.equal(text, `module.exports = {\n\tdevServer: {\n\t\tport: 8080,\n\t\tclient: { overlay: false, webSocketURL: '${WEBPACK_SOCKET_URL}' }\n\t}\n};\n`);
		const noClient = fix(`module.exports = {\n  devServer: {\n    port: 8080\n  }\n}`);
		assert.equal(runCjs(noClient).devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
		assert.equal(runCjs(noClient).devServer.port, 8080);
		assert.equal(runCjs(fix('module.exports = { devServer: {} }')).devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
		assert.equal(runCjs(fix('module.exports = {}')).devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
	});

	it('replaces an existing webSocketURL, quoted keys included, and leaves the right one alone', () => {
		const text = fix(`module.exports = { "devServer": { client: { webSocketURL: 'ws://localhost:8080/ws', logging: 'info' } } };`);
		assert.deepEqual(runCjs(text).devServer.client, { webSocketURL: WEBPACK_SOCKET_URL, logging: 'info' });
		const objectValue = fix(`module.exports = { devServer: { client: { webSocketURL: { hostname: 'localhost', port: 8080 } } } };`);
		assert.equal(runCjs(objectValue).devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
		const done = `module.exports = { devServer: { client: { webSocketURL: "${WEBPACK_SOCKET_URL}" } } };`;
		assert.deepEqual(planWebpackSocketFix(done), { ok: true, edit: undefined, text: done });
	});

	it('edits export default {…} (ESM) and a typed variable that is exported (TypeScript)', async () => {
		const esm = fix(`import path from 'node:path';\n\nexport default {\n  mode: 'development',\n  devServer: { hot: true },\n};\n`);
		const dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-webpack-'));
		try {
			writeFileSync(path.join(dir, 'webpack.config.mjs'), esm);
			const loaded = await import(pathToFileURL(path.join(dir, 'webpack.config.mjs')).href) as { default: Config };
			assert.deepEqual(loaded.default.devServer, { hot: true, client: { webSocketURL: WEBPACK_SOCKET_URL } });
		} finally { rmSync(dir, { recursive: true, force: true }); }

		const typed = fix(`import type { Configuration } from 'webpack';\n\nconst config: Configuration = {\n  mode: 'development',\n};\n\nexport default config;\n`);
		const output = ts.transpileModule(typed, { compilerOptions: { module: ts.ModuleKind.CommonJS }, reportDiagnostics: true });
		assert.deepEqual(output.diagnostics, []);
		const module = { exports: {} as Config };
		new Function('module', 'exports', 'require', output.outputText)(module, module.exports, require);
		assert.equal(module.exports.default.devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
	});

	it('puts the property after a spread, so the spread cannot override it', () => {
		const text = fix(`const base = { client: { webSocketURL: 'ws://x:1/ws' } };\nmodule.exports = { devServer: { ...base } };`);
		assert.equal(runCjs(text).devServer.webSocketURL, undefined);
		assert.equal(runCjs(text).devServer.client.webSocketURL, WEBPACK_SOCKET_URL);
	});

	it('refuses what it cannot edit safely, and says why', () => {
		const reason = (text: string) => { const plan = planWebpackSocketFix(text); assert.ok(!plan.ok, text); return plan.reason; };
		assert.match(reason('module.exports = (env) => ({ mode: env.mode });'), /function/);
		assert.match(reason('module.exports = function (env) { return {}; };'), /function/);
		assert.match(reason('export default async () => ({});'), /function/);
		assert.match(reason('module.exports = [{ entry: "./a" }, { entry: "./b" }];'), /array/);
		assert.match(reason('module.exports = merge(common, { mode: "development" });'), /not an object literal/);
		assert.match(reason('const devServer = {};\nmodule.exports = { devServer };'), /shorthand/);
		assert.match(reason('module.exports = { devServer: options };'), /devServer is not an object literal/);
		assert.match(reason('module.exports = { devServer: { client: false } };'), /devServer\.client is not an object literal/);
		assert.match(reason('module.exports = require("./base");'), /not an object literal|defined elsewhere/);
		assert.match(reason('console.log("no export")'), /no module\.exports/);
		assert.match(reason('module.exports = { a: "unterminated };'), /unterminated string/);
		assert.match(reason('module.exports = { a: [1, 2 };'), /brackets/);
	});
});
