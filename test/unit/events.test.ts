import * as assert from 'node:assert/strict';
import { DisposableStore } from '../../src/core/events';

describe('DisposableStore', () => {
	const tracked = (log: string[], name: string, fail = false) => ({
		dispose() {
			log.push(name);
			if (fail) throw new Error(`${name} failed`);
		},
	});

	it('disposes what it owns once, newest first; clear() leaves it usable', () => {
		const log: string[] = [];
		const store = new DisposableStore();
		const first = tracked(log, 'a');
		assert.equal(store.add(first, tracked(log, 'b')), first);
		store.clear();
		assert.deepEqual(log, ['b', 'a']);
		store.add(tracked(log, 'c'));
		store.dispose();
		store.dispose();
		assert.deepEqual(log, ['b', 'a', 'c']);
	});

	it('disposes at once what is added after dispose(), so nothing outlives its owner', () => {
		const log: string[] = [];
		const store = new DisposableStore();
		store.dispose();
		store.add(tracked(log, 'late'));
		assert.deepEqual(log, ['late']);
	});

	it('disposes the rest when one throws, then throws its error (all of them when several)', () => {
		const log: string[] = [];
		const store = new DisposableStore();
		store.add(tracked(log, 'a'), tracked(log, 'b', true), tracked(log, 'c'));
		assert.throws(() => store.dispose(), /b failed/);
		assert.deepEqual(log, ['c', 'b', 'a']);
		const two = new DisposableStore();
		two.add(tracked(log, 'x', true), tracked(log, 'y', true));
		assert.throws(() => two.dispose(), (error: unknown) => error instanceof AggregateError && error.errors.length === 2);
	});
});
