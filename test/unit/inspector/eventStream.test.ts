import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { CaptureStore } from '../../../src/core/capture';
import { ARRIVAL_COST } from '../../../src/core/capture/bodyRecord';
import { arrivalAt, parseEventStream } from '../../../src/core/inspector/eventStream';
import { exchangeDetails } from '../../../src/core/inspector/views';
import { MAX_MESSAGES_IN_DETAILS } from '../../../src/shared/protocol';
import { init } from '../capture/helpers';

const events = (text: string | Buffer, complete = true) => parseEventStream(typeof text === 'string' ? Buffer.from(text) : text, complete).map(({ id, type, data, retry }) => ({ id, type, data, ...(retry !== undefined ? { retry } : {}) }));

describe('server-sent events read back from a body', () => {
	it('dispatches on a blank line, joins data lines, carries the last event id, resets the type', () => {
		assert.deepEqual(events('id: 7\nevent: add\ndata: a\ndata: b\n\ndata: c\n\n'), [
			{ id: '7', type: 'add', data: 'a\nb' },
			{ id: '7', type: 'message', data: 'c' },
		]);
	});

	it('takes CRLF, LF and CR as line ends, and skips a leading BOM', () => {
		const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('data: x\r\n\r\ndata: y\r\rdata: z\n\n')]);
		assert.deepEqual(events(bom).map((e) => e.data), ['x', 'y', 'z']);
	});

	it('follows the field rules: comments, no colon, one space stripped, unknown fields, bad id and retry', () => {
		assert.deepEqual(events(': comment\ndata\n\n'), [{ id: '', type: 'message', data: '' }], 'a field name alone has an empty value');
		assert.deepEqual(events('data:no-space\n\ndata:  two spaces\n\n').map((e) => e.data), ['no-space', ' two spaces']);
		assert.deepEqual(events('foo: bar\nid: a\0b\nretry: 1x\ndata: d\n\n'), [{ id: '', type: 'message', data: 'd' }]);
		assert.deepEqual(events('retry: 2500\ndata: d\n\n'), [{ id: '', type: 'message', data: 'd', retry: 2500 }]);
	});

	it('does not dispatch an event without data, nor the last one while unterminated', () => {
		assert.deepEqual(events('event: ping\n\nid: 3\n\n'), []);
		assert.deepEqual(events('data: done\n\ndata: half'), [{ id: '', type: 'message', data: 'done' }]);
		// A CR at the end of a stream still arriving may be the first half of a CRLF.
		assert.deepEqual(events('data: a\r\n\r', false), []);
		assert.deepEqual(events('data: a\r\n\r', true).map((e) => e.data), ['a']);
	});

	it('keeps multi-byte characters whole and says where each event ended', () => {
		const parsed = parseEventStream(Buffer.from('data: caf\u00e9 \u2713\n\ndata: b\n\n'), true);
		assert.equal(parsed[0].data, 'caf\u00e9 \u2713');
		assert.equal(parsed[0].end, Buffer.byteLength('data: caf\u00e9 \u2713\n\n'));
	});

	it('finds when a byte arrived from the chunk arrivals', () => {
		const arrivals = [0, 5, 10, 20, 30, 40];
		assert.equal(arrivalAt(arrivals, 0), 5);
		assert.equal(arrivalAt(arrivals, 9), 5);
		assert.equal(arrivalAt(arrivals, 10), 20);
		assert.equal(arrivalAt(arrivals, 1000), 40);
		assert.equal(arrivalAt([], 3), undefined);
		assert.equal(arrivalAt(undefined, 3), undefined);
	});
});

describe('the EventStream part of the details', () => {
	let store: CaptureStore;
	afterEach(() => store?.dispose());

	const stream = (headers: string[], chunks: Buffer[], bodyLimit?: number) => {
		store = new CaptureStore(bodyLimit !== undefined ? { bodyLimit } : {});
		const recorder = store.beginExchange(init())!;
		recorder.response(200, 'OK', headers);
		for (const chunk of chunks) recorder.responseBody(chunk);
		return recorder;
	};

	it('notes arrivals only for text/event-stream responses, and charges them', () => {
		const chunks = [Buffer.from('data: a\n\n'), Buffer.from('data: b\n\n')];
		// Same length of content type, so that only the arrivals differ.
		const plain = stream(['Content-Type', 'text/plain;charset=utf-8xx'], chunks);
		assert.equal(store.bodyArrivals(plain.id, 'response'), undefined);
		const plainUsed = store.stats().usedBytes;
		store.dispose();
		const sse = stream(['Content-Type', 'Text/Event-Stream; charset'], chunks);
		assert.equal(store.stats().usedBytes - plainUsed, 2 * ARRIVAL_COST, 'two arrivals charged');
		const arrivals = store.bodyArrivals(sse.id, 'response')!;
		assert.deepEqual(arrivals.filter((_, i) => i % 2 === 0), [0, 9]);
		assert.ok(arrivals[3] >= arrivals[1]);
		// A copy: the reader cannot change the store's.
		arrivals.length = 0;
		assert.equal(store.bodyArrivals(sse.id, 'response')!.length, 4);
	});

	it('shows events live while the stream is open, the newest 1000 of more, and says when the capture limit cut it', async () => {
		const recorder = stream(['Content-Type', 'text/event-stream'], [Buffer.from('data: 1\n\n')]);
		assert.deepEqual((await exchangeDetails(store, recorder.id))!.events!.map((e) => e.data), ['1']);
		recorder.responseBody(Buffer.from('data: 2\n\n'));
		assert.deepEqual((await exchangeDetails(store, recorder.id))!.events!.map((e) => e.data), ['1', '2']);

		const many = stream(['Content-Type', 'text/event-stream'], [Buffer.from(Array.from({ length: MAX_MESSAGES_IN_DETAILS + 5 }, (_, i) => `data: ${i}\n\n`).join(''))]);
		const details = (await exchangeDetails(store, many.id))!;
		assert.equal(details.events!.length, MAX_MESSAGES_IN_DETAILS);
		assert.equal(details.eventsOmitted, 5);
		assert.equal(details.events![0].index, 5);

		const cut = stream(['Content-Type', 'text/event-stream'], [Buffer.from('data: kept\n\ndata: cut off here\n\n')], 16);
		const cutDetails = (await exchangeDetails(store, cut.id))!;
		assert.deepEqual(cutDetails.events!.map((e) => e.data), ['kept']);
		assert.match(cutDetails.eventsNote!, /kept the first 16 bytes/);
	});

	it('decodes a gzip-encoded stream and says its times are not known', async () => {
		const gz = zlib.gzipSync(Buffer.from('data: zipped\n\n'));
		const recorder = stream(['Content-Type', 'text/event-stream', 'Content-Encoding', 'gzip'], [gz]);
		recorder.finish('completed');
		const details = (await exchangeDetails(store, recorder.id))!;
		assert.deepEqual(details.events!.map((e) => [e.data, e.time]), [['zipped', undefined]]);
		assert.match(details.eventsNote!, /gzip-encoded, so the times of its events are not known/);
	});
});
