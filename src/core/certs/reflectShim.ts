/**
 * A private `Reflect` with just the metadata API that tsyringe (used by @peculiar/x509) needs.
 *
 * The VS Code extension host runs every extension in one Node process, so installing a Reflect
 * metadata polyfill globally (what @peculiar/x509's README asks for) would change `Reflect` for all of
 * them. esbuild's `inject` option rewrites every free `Reflect` identifier inside our bundles to this
 * export instead; the global object is never touched. It inherits the standard Reflect methods.
 */

type MetadataKey = unknown;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<MetadataKey, unknown>>>();

function table(target: object, property: string | symbol | undefined, create: boolean): Map<MetadataKey, unknown> | undefined {
	let byProperty = store.get(target);
	if (!byProperty) {
		if (!create) { return undefined; }
		byProperty = new Map();
		store.set(target, byProperty);
	}
	let entries = byProperty.get(property);
	if (!entries && create) {
		entries = new Map();
		byProperty.set(property, entries);
	}
	return entries;
}

function getOwnMetadata(key: MetadataKey, target: object, property?: string | symbol): unknown {
	return table(target, property, false)?.get(key);
}

function getMetadata(key: MetadataKey, target: object, property?: string | symbol): unknown {
	for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
		const entries = table(t, property, false);
		if (entries?.has(key)) { return entries.get(key); }
	}
	return undefined;
}

const localReflect = Object.assign(Object.create(globalThis.Reflect) as typeof globalThis.Reflect, {
	defineMetadata(key: MetadataKey, value: unknown, target: object, property?: string | symbol): void {
		table(target, property, true)!.set(key, value);
	},
	getOwnMetadata,
	getMetadata,
	hasMetadata: (key: MetadataKey, target: object, property?: string | symbol) => getMetadata(key, target, property) !== undefined,
	hasOwnMetadata: (key: MetadataKey, target: object, property?: string | symbol) => getOwnMetadata(key, target, property) !== undefined,
	metadata: (key: MetadataKey, value: unknown) => (target: object, property?: string | symbol) => {
		table(target, property, true)!.set(key, value);
	},
});

export { localReflect as Reflect };
