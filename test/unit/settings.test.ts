import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SETTINGS, type SettingKey } from '../../src/shared/settings';

interface Contributed {
	readonly type: string;
	readonly default: unknown;
	readonly minimum?: number;
	readonly maximum?: number;
	readonly items?: { readonly type: string };
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as {
	contributes: { configuration: { properties: Record<string, Contributed> } | Array<{ properties: Record<string, Contributed> }> };
};
const configuration = manifest.contributes.configuration;
const contributed: Record<string, Contributed> = Object.assign({}, ...(Array.isArray(configuration) ? configuration : [configuration]).map((c) => c.properties));

describe('settings: package.json and the settings table agree', () => {
	it('contributes exactly the keys of the table', () => {
		assert.deepEqual(Object.keys(contributed).sort(), Object.keys(SETTINGS).map((key) => `tlsLens.${key}`).sort());
	});

	for (const key of Object.keys(SETTINGS) as SettingKey[]) {
		it(`tlsLens.${key}: type, default and bounds`, () => {
			const spec: { type: string; default: unknown; minimum?: number; maximum?: number } = SETTINGS[key];
			const property = contributed[`tlsLens.${key}`];
			assert.ok(property, 'contributed');
			assert.equal(property.type, spec.type);
			assert.deepEqual(property.default, spec.default);
			assert.equal(property.minimum, spec.minimum);
			assert.equal(property.maximum, spec.maximum);
			if (spec.type === 'array') assert.equal(property.items?.type, 'string');
		});
	}
});
