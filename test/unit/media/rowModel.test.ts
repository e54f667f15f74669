import * as assert from 'node:assert/strict';
import { RowModel } from '../../../media/rowModel';
import type { Exchange } from '../../../src/shared/exchange';
import { parseFilter } from '../../../src/shared/filter';
import type { RowsEvent } from '../../../src/shared/protocol';
import { summarize, type ExchangeSummary } from '../../../src/shared/summary';

function row(id: number, status = 200, path = `/r${id}`): ExchangeSummary {
	const exchange: Exchange = {
		id, kind: 'http', state: 'completed', client: '127.0.0.1:1', tls: {}, timings: { startTime: 0, end: 1 },
		request: { method: 'GET', path, authority: 'localhost', httpVersion: '1.1', headers: [] },
		response: { statusCode: status, statusMessage: '', headers: [] },
		requestBody: { size: 0, captured: 0, truncated: false }, responseBody: { size: 0, captured: 0, truncated: false },
	};
	return summarize(exchange);
}

function event(fields: Partial<RowsEvent>): RowsEvent {
	return { reset: false, added: [], updated: [], removed: [], complete: true, generation: 1, ...fields };
}

const ids = (model: RowModel, which: 'order' | 'view' = 'view'): number[] => model[which].map((r) => r.s.id);

describe('inspector row model (webview, no DOM)', () => {
	it('a reset replaces everything; its older continuations go in front; later events append', () => {
		const model = new RowModel(parseFilter(''));
		model.apply(event({ reset: true, added: [row(1)], complete: false }), undefined);
		model.apply(event({ reset: true, added: [row(8), row(9)], complete: false }), undefined);
		assert.deepEqual(ids(model), [8, 9]);
		model.apply(event({ older: true, added: [row(6), row(7), row(9)] }), undefined);
		model.apply(event({ added: [row(10)] }), undefined);
		assert.deepEqual(ids(model, 'order'), [6, 7, 8, 9, 10]);
		assert.deepEqual(ids(model), [6, 7, 8, 9, 10]);
	});

	it('ignores events of an earlier session and says when a reset starts a new one', () => {
		const model = new RowModel(parseFilter(''));
		assert.equal(model.apply(event({ reset: true, added: [row(1)], generation: 1 }), undefined).newSession, false, 'the first session is not a new one');
		assert.equal(model.apply(event({ added: [row(2)], generation: 0 }), undefined).accepted, false);
		assert.deepEqual(ids(model), [1]);
		assert.equal(model.apply(event({ reset: true, added: [row(1)], generation: 1 }), undefined).newSession, false, 'the same session again');
		const next = model.apply(event({ reset: true, added: [row(5)], generation: 2 }), undefined);
		assert.ok(next.accepted && next.newSession);
		assert.equal(model.generation, 2);
		assert.deepEqual(ids(model), [5]);
	});

	it('filters: rows enter and leave the view as their summaries change, and removals leave both lists', () => {
		const model = new RowModel(parseFilter('status:404'));
		model.apply(event({ reset: true, added: [row(1, 200), row(2, 404)] }), undefined);
		assert.deepEqual(ids(model), [2]);
		model.apply(event({ added: [row(3, 404), row(4, 500)] }), undefined);
		assert.deepEqual(ids(model), [2, 3]);
		model.apply(event({ updated: [row(1, 404), row(3, 200)] }), undefined);
		assert.deepEqual(ids(model), [1, 2]);
		model.apply(event({ removed: [2, 4] }), undefined);
		assert.deepEqual(ids(model, 'order'), [1, 3]);
		assert.deepEqual(ids(model), [1]);
		assert.ok(!model.has(2) && model.has(3));
		model.setFilter(parseFilter(''));
		assert.deepEqual(ids(model), [1], 'a new filter applies on refilter()');
		model.refilter();
		assert.deepEqual(ids(model), [1, 3]);
	});

	it('counts versions and reports updates of the selected row, also when a row is added again', () => {
		const model = new RowModel(parseFilter(''));
		model.apply(event({ reset: true, added: [row(1), row(2)] }), undefined);
		assert.equal(model.apply(event({ updated: [row(2, 500)] }), 1).touchedSelected, false);
		assert.equal(model.apply(event({ updated: [row(1, 500)] }), 1).touchedSelected, true);
		assert.equal(model.apply(event({ added: [row(1, 204)] }), 1).touchedSelected, true);
		const first = model.order[0];
		assert.equal(first.version, 2);
		assert.equal(first.s.status, 204);
		assert.deepEqual(ids(model, 'order'), [1, 2], 'added again is an update, not a second row');
	});

	it('appends to the view in place while nothing forces a rebuild (the list holds the array)', () => {
		const model = new RowModel(parseFilter(''));
		model.apply(event({ reset: true, added: [row(1)] }), undefined);
		const view = model.view;
		model.apply(event({ added: [row(2)], updated: [row(1, 201)] }), undefined);
		assert.equal(model.view, view);
		model.apply(event({ removed: [1] }), undefined);
		assert.notEqual(model.view, view);
		assert.deepEqual(ids(model), [2]);
	});

	it('keeps 20,000 rows and filters them quickly', () => {
		const model = new RowModel(parseFilter(''));
		const added = Array.from({ length: 20_000 }, (_, i) => row(i + 1, i % 10 === 0 ? 404 : 200));
		model.apply(event({ reset: true, added }), undefined);
		model.setFilter(parseFilter('status:404'));
		const started = performance.now();
		model.refilter();
		const ms = performance.now() - started;
		assert.equal(model.view.length, 2000);
		assert.ok(ms < 200, `${ms.toFixed(1)} ms for one filter pass over 20,000 rows`);
	});
});
