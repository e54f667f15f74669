import * as assert from 'node:assert/strict';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { RowFeed } from '../../../src/core/inspector/rowFeed';
import { ROWS_CHUNK, ROWS_FIRST_CHUNK, type RowsEvent } from '../../../src/shared/protocol';
import { flat, init, request, sleep } from '../capture/helpers';

/** Waits (up to 5 s, for a loaded machine) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
	for (let waited = 0; !done() && waited < 5000; waited += 10) { await sleep(10); }
}

function record(store: CaptureStore, path: string, status = 200): number {
	const recorder = store.beginExchange(init({ request: request({ path }) }))!;
	recorder.response(status, 'OK', flat([['content-type', 'application/json']]));
	recorder.responseBody(Buffer.from('{}'));
	recorder.finish('completed');
	return recorder.id;
}

describe('inspector row feed (host side batching)', () => {
	let store: CaptureStore;
	let events: RowsEvent[];
	let feed: RowFeed;

	beforeEach(() => {
		store = new CaptureStore({ batchIntervalMs: 100 });
		events = [];
		feed = new RowFeed((e) => events.push(structuredClone(e)));
	});
	afterEach(() => {
		feed.dispose();
		store.dispose();
	});

	it('sends nothing until the webview is ready, then the whole list as a reset in chunks, newest first', async () => {
		const total = ROWS_FIRST_CHUNK + ROWS_CHUNK + 10;
		for (let i = 0; i < total; i++) record(store, `/r${i}`);
		feed.follow(store);
		assert.equal(events.length, 0);
		feed.start();
		assert.equal(events.length, 1, 'the newest rows go at once; the rest follows turn by turn');
		await until(() => events.at(-1)!.complete === true);
		assert.deepEqual(events.map((e) => [e.reset, Boolean(e.older), e.added.length, e.complete]), [
			[true, false, ROWS_FIRST_CHUNK, false], [false, true, ROWS_CHUNK, false], [false, true, 10, true],
		]);
		// Each chunk in list order; chunks from the newest back.
		assert.equal(events[0].added[0].path, `/r${ROWS_CHUNK + 10}`);
		assert.equal(events[0].added[ROWS_FIRST_CHUNK - 1].path, `/r${total - 1}`);
		assert.equal(events[2].added[0].path, '/r0');
		assert.deepEqual(events.reverse().flatMap((e) => e.added.map((s) => s.path)), Array.from({ length: total }, (_, i) => `/r${i}`));
		assert.equal(new Set(events.map((e) => e.generation)).size, 1);
	});

	it('stops sending the rest of a snapshot when the webview goes away', async () => {
		for (let i = 0; i < ROWS_FIRST_CHUNK + 10; i++) record(store, `/r${i}`);
		feed.follow(store);
		feed.start();
		feed.stop();
		await sleep(20);
		assert.deepEqual(events.map((e) => [e.reset, e.complete]), [[true, false]]);
	});

	it('sends an empty reset for an empty store, so the webview can show its empty state', () => {
		feed.follow(store);
		feed.start();
		assert.deepEqual(events.map((e) => [e.reset, e.added.length, e.complete]), [[true, 0, true]]);
	});

	it('batches changes: at most one event per interval, each exchange once, with its latest state', async () => {
		feed.follow(store);
		feed.start();
		events.length = 0;
		const started = Date.now();
		// 1,000 exchanges spread over ~300 ms.
		for (let i = 0; i < 10; i++) {
			for (let j = 0; j < 100; j++) record(store, `/b${i}-${j}`, 201);
			await sleep(30);
		}
		await until(() => events.flatMap((e) => e.added).length >= 1000);
		await sleep(150);
		const elapsed = Date.now() - started;
		const added = events.flatMap((e) => e.added);
		assert.equal(added.length, 1000);
		assert.equal(new Set(added.map((s) => s.id)).size, 1000, 'each exchange is added once');
		assert.ok(added.every((s) => s.status === 201 && s.state === 'completed'), 'summaries carry the latest state');
		assert.ok(events.length <= Math.ceil(elapsed / 100) + 1, `${events.length} events in ${elapsed} ms`);
		assert.ok(events.every((e) => !e.reset && e.updated.length === 0));
	});

	it('reports updates and removals, and never sends a removed exchange', async () => {
		feed.follow(store);
		const recorder = store.beginExchange(init())!;
		await sleep(130); // the store reports the addition first
		feed.start();
		events.length = 0;
		recorder.response(404, 'Not Found', []);
		await until(() => events.some((e) => e.updated.length > 0));
		assert.deepEqual(events.flatMap((e) => e.updated).map((s) => [s.id, s.status]), [[recorder.id, 404]]);
		events.length = 0;
		const gone = record(store, '/short-lived');
		store.clear();
		await until(() => events.some((e) => e.removed.length > 0));
		await sleep(150); // and nothing else arrives
		const sent = events.flatMap((e) => e.added).map((s) => s.id);
		assert.ok(!sent.includes(gone), 'added and removed within one batch: never sent');
		assert.deepEqual(events.flatMap((e) => e.removed), [recorder.id]);
	});

	it('sends a note attached to a finished exchange (store.annotate) as an update of its row, and in later snapshots', async () => {
		feed.follow(store);
		feed.start();
		const id = record(store, '/refused', 403);
		await until(() => events.some((e) => e.added.some((s) => s.id === id)));
		assert.equal(events.flatMap((e) => e.added).find((s) => s.id === id)!.note, undefined);
		events.length = 0;
		const note = 'Vite refused the name app.test (its host check): add app.test to server.allowedHosts in vite.config (or astro.config), or turn on rewriteHost so TLS Lens sends it its own host.';
		store.annotate(id, note);
		await until(() => events.some((e) => e.updated.length > 0));
		await sleep(150); // and once only
		assert.deepEqual(events.map((e) => [e.reset, e.added.length, e.updated.map((s) => [s.id, s.status, s.state, s.note])]), [[false, 0, [[id, 403, 'completed', note]]]]);
		// A webview that comes back (or reloads) gets it with the rest.
		feed.stop();
		events.length = 0;
		feed.start();
		assert.equal(events[0].added.find((s) => s.id === id)!.note, note);
		// Gone exchanges are not annotated, and nothing is sent for them.
		events.length = 0;
		store.annotate(9999, note);
		await sleep(150);
		assert.equal(events.length, 0);
	});

	it('stops while the webview is away and resends everything when it comes back', async () => {
		feed.follow(store);
		feed.start();
		feed.stop();
		events.length = 0;
		record(store, '/while-hidden');
		await sleep(150);
		assert.equal(events.length, 0);
		feed.start();
		assert.equal(events.length, 1);
		assert.equal(events[0].reset, true);
		assert.deepEqual(events[0].added.map((s) => s.path), ['/while-hidden']);
	});

	it('a new store is a new generation with a reset; detach keeps the webview rows but sends nothing more', async () => {
		feed.follow(store);
		feed.start();
		const first = events[0].generation;
		const next = new CaptureStore({ batchIntervalMs: 10 });
		try {
			events.length = 0;
			feed.follow(next);
			assert.equal(events.length, 1);
			assert.ok(events[0].reset && events[0].generation !== first);
			feed.detach();
			events.length = 0;
			record(next, '/after-detach');
			await sleep(150);
			assert.equal(events.length, 0);
		} finally {
			next.dispose();
		}
	});
});
