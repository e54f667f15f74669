import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TlsLensApi } from '../../src/extension';
import { applyInRefactorPreview } from './refactorPreview';

const EXTENSION_ID = 'tls-lens.tls-lens';

function listen(server: net.Server): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
	});
}

function get(url: string, ca: string): Promise<number> {
	return new Promise((resolve, reject) => {
		https.get(url, { ca }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject);
	});
}

const CONFIG = `const path = require('path');

module.exports = {
  mode: 'development',
  entry: './src/index.js',
  devServer: {
    static: path.join(__dirname, 'public'),
  },
};
`;

/** Runs a CommonJS config and returns its devServer options. */
function devServerOf(text: string): { client?: { webSocketURL?: string }; static?: string } {
	const module = { exports: {} as { devServer: { client?: { webSocketURL?: string } } } };
	new Function('module', 'require', '__dirname', text)(module, require, '/app');
	return module.exports.devServer;
}

describe("webpack-dev-server's HMR socket past the proxy, in a real VS Code extension host", () => {
	let api: TlsLensApi;
	let devServer: http.Server;
	let devPort: number;
	let dir: string;

	before(async () => {
		api = await vscode.extensions.getExtension<TlsLensApi>(EXTENSION_ID)!.activate();
		// A bundle as webpack-dev-server 5 serves it with no devServer.client options: the client's address baked in.
		devServer = http.createServer((_req, res) => {
			res.setHeader('content-type', 'application/javascript; charset=utf-8');
			res.end(`__webpack_require__("./node_modules/webpack-dev-server/client/index.js?protocol=ws%3A&hostname=0.0.0.0&port=${devPort}&pathname=%2Fws&logging=info&reconnect=10");\nconsole.log("webpack-dev-server");`);
		});
		devPort = await listen(devServer);
		dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-webpack-fix-'));
	});

	after(async () => {
		await vscode.commands.executeCommand('tlsLens.stop');
		devServer.close();
		rmSync(dir, { recursive: true, force: true });
	});

	it('the running proxy reports, once, that the client dials the dev server directly', async () => {
		await vscode.commands.executeCommand('tlsLens.start', String(devPort));
		const session = api.controller.session!;
		const seen: string[] = [];
		const sub = api.controller.onDidDetectWebpackBypass(({ bypass }) => seen.push(bypass.dialed));
		try {
			assert.equal(await get(`${session.url}/main.js`, session.ca.ca.certPem), 200);
			assert.equal(await get(`${session.url}/other.js`, session.ca.ca.certPem), 200);
			const deadline = Date.now() + 10_000;
			while (!seen.length && Date.now() < deadline) { await new Promise((resolve) => setTimeout(resolve, 50)); }
			await new Promise((resolve) => setTimeout(resolve, 300));
			assert.deepEqual(seen, [`wss://localhost:${devPort}/ws`]);
		} finally { sub.dispose(); }
	});

	it('Fix webpack.config… builds a needsConfirmation edit merging into devServer; checked and applied in the refactor preview, it is saved', async () => {
		const file = path.join(dir, 'webpack.config.js');
		writeFileSync(file, CONFIG);
		const uri = vscode.Uri.file(file);
		const planned = api.webpackFix.buildEdit(await vscode.workspace.openTextDocument(uri));
		assert.equal(planned.kind, 'edit');
		if (planned.kind !== 'edit') { return; }
		assert.equal(planned.metadata.needsConfirmation, true);
		assert.match(planned.metadata.label, /webpack-dev-server/);
		const [[entryUri, [textEdit]]] = planned.edit.entries();
		assert.equal(entryUri.toString(), uri.toString());
		assert.equal(textEdit.newText, planned.newText);

		const outcome = await applyInRefactorPreview(() => api.webpackFix.fix(uri));
		assert.equal(outcome, 'applied');
		const saved = readFileSync(file, 'utf8');
		assert.deepEqual(devServerOf(saved), { static: '/app/public', client: { webSocketURL: 'auto://0.0.0.0:0/ws' } });
		assert.equal(api.webpackFix.buildEdit(await vscode.workspace.openTextDocument(uri)).kind, 'unchanged', 'a second fix changes nothing');
	});

	it('refuses a function export with a reason instead of editing it', async () => {
		const file = path.join(dir, 'webpack.config.cjs');
		writeFileSync(file, 'module.exports = (env) => ({ mode: env.production ? "production" : "development" });\n');
		const planned = api.webpackFix.buildEdit(await vscode.workspace.openTextDocument(vscode.Uri.file(file)));
		assert.deepEqual(planned, { kind: 'refused', reason: 'it exports a function' });
	});
});
