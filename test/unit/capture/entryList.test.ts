import * as assert from 'node:assert/strict';
import { EntryList } from '../../../src/core/capture/entryList';

interface Item {
	readonly id: number;
	position: number;
}

function ids(list: EntryList<Item>): number[] {
	const out: number[] = [];
	for (let i = list.start; i < list.end; i++) {
		const item = list.at(i);
		if (item !== undefined) out.push(item.id);
	}
	return out;
}

describe('EntryList', () => {
	it('keeps arrival order, finds by id, and skips removed items', () => {
		const list = new EntryList<Item>();
		const items = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, position: -1 }));
		for (const item of items) list.push(item);
		list.remove(items[0]);
		list.remove(items[4]);
		list.remove(items[9]);
		assert.deepEqual(ids(list), [2, 3, 4, 6, 7, 8, 9]);
		assert.equal(list.size, 7);
		assert.equal(list.get(5), undefined);
		assert.equal(list.get(6), items[5]);
		assert.equal(list.get(1), undefined);
		assert.equal(list.get(42), undefined);
	});

	it('stays correct over many oldest-first removals (the front is cut off now and then)', () => {
		const list = new EntryList<Item>();
		const live: Item[] = [];
		for (let id = 1; id <= 50_000; id++) {
			const item = { id, position: -1 };
			list.push(item);
			live.push(item);
			if (live.length > 1000) list.remove(live.shift()!);
		}
		assert.equal(list.size, 1000);
		assert.deepEqual(ids(list), live.map((item) => item.id));
		assert.equal(list.get(49_001), live[0]);
		assert.equal(list.get(49_000), undefined);
		// Positions were kept right: removing in the middle still works.
		list.remove(live[500]);
		assert.equal(list.get(live[500].id), undefined);
		assert.equal(list.size, 999);
	});

	it('squeezes out holes behind a long-lived item at the front', () => {
		const list = new EntryList<Item>();
		const pinned = { id: 1, position: -1 };
		list.push(pinned);
		const live: Item[] = [];
		for (let id = 2; id <= 30_000; id++) {
			const item = { id, position: -1 };
			list.push(item);
			live.push(item);
			if (live.length > 100) list.remove(live.shift()!);
		}
		// The arrays do not grow with everything that went by.
		assert.ok(list.end - list.start < 10_000, `${list.end - list.start} slots`);
		assert.deepEqual(ids(list), [1, ...live.map((item) => item.id)]);
		assert.equal(list.get(1), pinned);
		list.remove(pinned);
		assert.deepEqual(ids(list), live.map((item) => item.id));
		assert.equal(list.get(live[50].id), live[50]);
	});
});
