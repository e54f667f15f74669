import * as path from 'node:path';
import type * as Engine from '../core';

let engine: typeof Engine | undefined;

/**
 * The engine (certificates, proxy, capture), loaded on first use from `dist/core.js`, the bundle the
 * CLI and benchmarks use too. Keeping it out of `dist/extension.js` keeps activation light: the
 * certificate library alone is most of the code.
 */
export function loadEngine(): typeof Engine {
	// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time, next to this bundle
	engine ??= require(path.join(__dirname, 'core.js')) as typeof Engine;
	return engine;
}
