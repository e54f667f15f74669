import * as assert from 'node:assert/strict';
import * as ts from 'typescript';
import { detectHostCheck, planHostCheckFix, type HostCheckRefusal } from '../../../src/core/devServers';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import type { Exchange, RawHeaders } from '../../../src/shared/exchange';
import { init } from '../capture/helpers';

// What the tests read from a loaded config.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a config is any shape
type Config = Record<string, any>;

/** Runs a config (ES module or CommonJS, TypeScript allowed) with `defineConfig` as the identity. */
function load(text: string): Config {
	const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
	const module = { exports: {} as Config };
	const fakeRequire = (name: string) => { if (name === 'vite' || name === 'astro/config') return { defineConfig: (c: unknown) => c }; throw new Error(`unexpected import of ${name}`); };
	new Function('module', 'exports', 'require', js)(module, module.exports, fakeRequire);
	return module.exports.default ?? module.exports;
}

const vite: Pick<HostCheckRefusal, 'setting' | 'host'> = { setting: 'server.allowedHosts', host: 'app.test' };
const webpack: Pick<HostCheckRefusal, 'setting' | 'host'> = { setting: 'devServer.allowedHosts', host: 'app.test' };
const next: Pick<HostCheckRefusal, 'setting' | 'host'> = { setting: 'allowedDevOrigins', host: 'app.test' };

/** Plans, checks that a second pass changes nothing, and returns the edited text. */
function fix(refusal: Pick<HostCheckRefusal, 'setting' | 'host'>, text: string): string {
	const plan = planHostCheckFix(refusal, text);
	assert.ok(plan.ok, plan.ok ? '' : plan.reason);
	assert.ok(plan.edit, 'an edit');
	const again = planHostCheckFix(refusal, plan.text);
	assert.ok(again.ok && again.edit === undefined, 'a second pass changes nothing');
	return plan.text;
}

describe('host-check config edits (pure)', () => {
	it("Vite: defineConfig({…}) with or without a server object, in the file's quote style", () => {
		const created = `import { defineConfig } from 'vite'\nimport react from '@vitejs/plugin-react'\n\n// https://vite.dev/config/\nexport default defineConfig({\n  plugins: [react()],\n})\n`;
		const text = fix(vite, created);
		assert.equal(text, `import { defineConfig } from 'vite'\nimport react from '@vitejs/plugin-react'\n\n// https://vite.dev/config/\nexport default defineConfig({\n  plugins: [react()],\n  server: { allowedHosts: ['app.test'] },\n})\n`);
		const merged = fix(vite, `import { defineConfig } from "vite";\nexport default defineConfig({\n\tserver: {\n\t\tport: 3000,\n\t},\n});\n`);
		assert.deepEqual(load(merged).server, { port: 3000, allowedHosts: ['app.test'] });
		assert.match(merged, /allowedHosts: \["app\.test"\]/);
	});

	it('adds to an existing list, and leaves allow-all values (true, "all") and listed names alone', () => {
		assert.deepEqual(load(fix(vite, `export default { server: { allowedHosts: ['.example'] } };`)).server.allowedHosts, ['.example', 'app.test']);
		assert.deepEqual(load(fix(vite, `export default { server: { allowedHosts: [] } };`)).server.allowedHosts, ['app.test']);
		assert.deepEqual(load(fix(webpack, `module.exports = { devServer: { allowedHosts: 'auto' } };`)).devServer.allowedHosts, ['auto', 'app.test']);
		for (const [refusal, text] of [[vite, `export default { server: { allowedHosts: true } };`], [webpack, `module.exports = { devServer: { allowedHosts: 'all' } };`], [next, `module.exports = { allowedDevOrigins: ['x.test', 'app.test'] };`]] as const) {
			const plan = planHostCheckFix(refusal, text);
			assert.ok(plan.ok && plan.edit === undefined, text);
		}
	});

	it("Next.js: create-next-app's next.config.ts keeps its comment and type, and gets allowedDevOrigins", () => {
		const created = `import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  /* config options here */\n};\n\nexport default nextConfig;\n`;
		const text = fix(next, created);
		assert.equal(text, `import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  /* config options here */\n  allowedDevOrigins: ["app.test"],\n};\n\nexport default nextConfig;\n`);
		assert.deepEqual(load(text).allowedDevOrigins, ['app.test']);
		assert.deepEqual(load(fix(next, `/** @type {import('next').NextConfig} */\nmodule.exports = {};\n`)).allowedDevOrigins, ['app.test']);
	});

	it('Astro: astro.config.mjs takes server.allowedHosts too', () => {
		const text = fix(vite, `// @ts-check\nimport { defineConfig } from 'astro/config';\n\n// https://astro.build/config\nexport default defineConfig({});\n`);
		assert.deepEqual(load(text).server, { allowedHosts: ['app.test'] });
	});

	it('refuses what it cannot edit safely, and says why', () => {
		const reason = (text: string) => { const plan = planHostCheckFix(vite, text); assert.ok(!plan.ok, text); return plan.reason; };
		assert.match(reason(`export default defineConfig(({ command }) => ({ server: {} }));`), /defineConfig\(…\) of a function/);
		assert.match(reason(`export default mergeConfig(base, { server: {} });`), /mergeConfig\(…\), not an object literal/);
		assert.match(reason(`export default { server: { allowedHosts: hosts } };`), /server\.allowedHosts is not a list literal/);
	});
});

function exchange(status: number, path: string, headers: RawHeaders, kind: Exchange['kind'] = 'http'): Exchange {
	return {
		id: 1, kind, state: 'completed', client: '127.0.0.1:1', tls: init().tls, timings: { startTime: 0 },
		request: { method: 'GET', path, authority: 'app.test:8443', httpVersion: '2', headers },
		response: { statusCode: status, statusMessage: '', headers: [] },
		requestBody: { size: 0, captured: 0, truncated: false }, responseBody: { size: 0, captured: 0, truncated: false },
	};
}

describe('host-check refusals by their signature (pure)', () => {
	it("Vite's 403, with the name from its own words (and preview's setting)", () => {
		const body = 'Blocked request. This host ("app.test") is not allowed.\nTo allow this host, add "app.test" to `server.allowedHosts` in vite.config.js.';
		const found = detectHostCheck(exchange(403, '/', []), body);
		assert.deepEqual([found?.server, found?.host, found?.setting, found?.rewriteHostFixes], ['vite', 'app.test', 'server.allowedHosts', true]);
		assert.equal(detectHostCheck(exchange(403, '/', []), body.replace('`server.', '`preview.'))?.setting, 'preview.allowedHosts');
		assert.equal(detectHostCheck(exchange(200, '/', []), body), undefined, 'a page that quotes it is no refusal');
	});

	it("webpack-dev-server's 'Invalid Host header' and its HMR socket's error message", () => {
		assert.deepEqual(detectHostCheck(exchange(403, '/', []), 'Invalid Host header') && ['webpack', 'app.test'], ['webpack', 'app.test']);
		const ws = detectHostCheck(exchange(101, '/ws', [['origin', 'https://other.test:8443']], 'websocket'), '', ['{"type":"error","data":"Invalid Host/Origin header"}']);
		assert.deepEqual([ws?.server, ws?.host, ws?.rewriteHostFixes], ['webpack', 'other.test', false]);
	});

	it("Next.js's 403 'Unauthorized' on /_next/ names the Origin's host; elsewhere an Unauthorized is the app's", () => {
		const found = detectHostCheck(exchange(403, '/_next/webpack-hmr?id=x', [['origin', 'https://App.Test:8443']]), 'Unauthorized');
		assert.deepEqual([found?.server, found?.host, found?.setting, found?.fix], ['next', 'app.test', 'allowedDevOrigins', "allowedDevOrigins: ['app.test']"]);
		assert.match(found!.message, /^Next\.js refused the name app\.test \(its host check\): add app\.test to allowedDevOrigins in next\.config\.$/);
		const upgrade = { ...exchange(403, '/_next/hmr?id=x', [['origin', 'https://app.test:8443']], 'websocket'), response: undefined, state: 'upstream-error' as const };
		assert.equal(detectHostCheck(upgrade, 'Unauthorized')?.host, 'app.test', 'its HMR socket gets the bare bytes, no status line');
		assert.equal(detectHostCheck(exchange(403, '/api/me', [['origin', 'https://app.test']]), 'Unauthorized'), undefined);
		assert.equal(detectHostCheck(exchange(403, '/_next/x', []), 'Unauthorized'), undefined, 'no origin, no name to allow');
	});
});

describe('capture store notes', () => {
	it('a note reaches the record, listeners and later reads; it goes with the exchange', async () => {
		const store = new CaptureStore({ batchIntervalMs: 1 });
		const recorder = store.beginExchange(init())!;
		recorder.finish('completed');
		const id = store.list()[0].id;
		const held = store.get(id)!;
		const updates: Array<string | undefined> = [];
		store.onDidChange(({ updated }) => updates.push(...updated.map((e) => e.note)));
		store.annotate(id, 'Vite refused the name app.test');
		assert.equal(held.note, undefined, 'a record handed out is a snapshot: it stays as it was');
		assert.equal(store.get(id)?.note, 'Vite refused the name app.test');
		await new Promise((resolve) => setTimeout(resolve, 20));
		assert.deepEqual(updates, ['Vite refused the name app.test']);
		store.clear();
		store.annotate(id, 'ignored');
		assert.equal(store.get(id), undefined);
		store.dispose();
	});
});
