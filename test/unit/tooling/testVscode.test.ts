// The installer of the test VS Code (test/vscode/testVscode.mjs): what the tiers and `npm start` run
// first on a cold cache.
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { installEnv, installInto } from '../../vscode/testVscode.mjs';
import { tempDir } from '../helpers';

describe('test VS Code installer', () => {
	describe('installEnv', () => {
		const saved = { ...process.env };
		afterEach(() => {
			for (const key of Object.keys(process.env)) { if (!(key in saved)) { delete process.env[key]; } }
			Object.assign(process.env, saved);
		});

		it('drops what an outer `npm run` adds, so a nested npm reports its own Node', () => {
			Object.assign(process.env, {
				npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64', npm_config_cache: '/elsewhere', NPM_CONFIG_PREFIX: '/p',
				npm_package_name: 'tls-lens', npm_lifecycle_event: 'test', npm_execpath: '/npm-cli.js', INIT_CWD: '/work', NODE: '/usr/bin/node',
				PATH: ['/repo/node_modules/.bin', '/node_modules/.bin', '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin', '/usr/bin', '/bin'].join(path.delimiter),
				HOME_FOR_TEST: 'kept',
			});
			const env = installEnv('/cache/node24/bin');
			assert.deepEqual(Object.keys(env).filter((key) => /^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE'), []);
			assert.equal(env.PATH, ['/cache/node24/bin', '/usr/bin', '/bin'].join(path.delimiter));
			assert.equal(env.HOME_FOR_TEST, 'kept');
		});
	});

	describe('installInto', () => {
		it('installs through a staging directory and marks the result complete; a second call does nothing', async () => {
			const dir = path.join(tempDir(), 'pkg');
			let seen = '';
			assert.equal(await installInto(dir, 'pkg', async (staging) => {
				seen = staging;
				assert.notEqual(staging, dir);
				assert.ok(!existsSync(dir), 'the final directory appears only when complete');
				writeFileSync(path.join(staging, 'file'), 'x');
			}), true);
			assert.ok(existsSync(path.join(dir, 'file')) && existsSync(path.join(dir, '.complete')));
			assert.ok(!existsSync(seen));
			assert.equal(await installInto(dir, 'pkg', () => Promise.reject(new Error('must not run'))), false);
		});

		it('a failed install keeps nothing and says what to do', async () => {
			const parent = tempDir();
			const dir = path.join(parent, 'pkg');
			await assert.rejects(installInto(dir, 'pkg 1.0', async (staging) => {
				writeFileSync(path.join(staging, 'half'), 'x');
				throw new Error('`npm install` exited with 1');
			}), (error: Error) => /^Installing pkg 1\.0 failed: `npm install` exited with 1\./.test(error.message)
				&& /prereqs\.mjs/.test(error.message) && /Nothing half-installed was kept/.test(error.message));
			assert.deepEqual(readdirSync(parent), []);
		});

		it('redoes a half-finished install: a directory without the marker, and staging left by a killed run', async () => {
			const parent = tempDir();
			const dir = path.join(parent, 'pkg');
			mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
			writeFileSync(path.join(dir, 'node_modules/half'), 'x');
			mkdirSync(path.join(parent, 'pkg.partial-999999'));
			mkdirSync(path.join(parent, 'other'));
			assert.equal(await installInto(dir, 'pkg', async (staging) => { writeFileSync(path.join(staging, 'whole'), 'x'); }), true);
			assert.deepEqual(readdirSync(parent).sort(), ['other', 'pkg']);
			assert.deepEqual(readdirSync(dir).sort(), ['.complete', 'whole']);
		});
	});
});
