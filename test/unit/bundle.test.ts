import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { run, tempDir } from './helpers';

const root = path.resolve(__dirname, '../..');

// The extension host is shared by all extensions: our bundles must not install a global Reflect
// metadata polyfill even though @peculiar/x509 needs one (see src/core/certs/reflectShim.ts).
describe('shipped bundle', () => {
	before(function () {
		if (!existsSync(path.join(root, 'dist/core.js'))) {
			this.timeout(60_000);
			assert.equal(run('node', ['esbuild.mjs'], { cwd: root }).status, 0);
		}
	});

	it('issues certificates without touching the global Reflect', () => {
		const script = `
			const before = Object.getOwnPropertyNames(Reflect).sort().join();
			const core = require(${JSON.stringify(path.join(root, 'dist/core.js'))});
			core.openCa(${JSON.stringify(path.join(tempDir(), 'ca'))})
				.then((stored) => stored.ca.issue(['app.localhost']))
				.then((leaf) => {
					const after = Object.getOwnPropertyNames(Reflect).sort().join();
					console.log(JSON.stringify({ issued: leaf.names, same: before === after, getMetadata: typeof Reflect.getMetadata }));
				});`;
		const result = run(process.execPath, ['-e', script]);
		assert.equal(result.status, 0, result.stderr);
		assert.deepEqual(JSON.parse(result.stdout), { issued: ['app.localhost'], same: true, getMetadata: 'undefined' });
	});

	it('fails without the shim, proving the test above exercises it', () => {
		const script = `try { require('@peculiar/x509'); console.log('loaded'); } catch (e) { console.log(e.message); }`;
		const result = run(process.execPath, ['-e', script], { cwd: root });
		assert.match(result.stdout, /reflect polyfill/);
	});
});
