// Unit tests run the TypeScript sources through tsx, not through the esbuild bundle whose `inject`
// gives @peculiar/x509 a private Reflect. This process is ours alone, so install the same shim
// globally here. (test/unit/bundle.test.ts checks that the shipped bundle leaves the global alone.)
import { Reflect as shim } from '../../src/core/certs/reflectShim';

const target = globalThis.Reflect as unknown as Record<string, unknown>;
for (const key of ['defineMetadata', 'getMetadata', 'getOwnMetadata', 'hasMetadata', 'hasOwnMetadata', 'metadata']) {
	target[key] ??= (shim as unknown as Record<string, unknown>)[key];
}
