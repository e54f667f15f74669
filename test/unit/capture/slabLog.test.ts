import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openHead, writeHead, writeHeadText } from '../../../src/core/capture/headBlob';
import { parseRequestHead, parseResponseHead } from '../../../src/core/proxy/http1Parser';
import { givePage, PAGE_SIZE, takePage } from '../../../src/core/memory/pagePool';
import { SlabLog } from '../../../src/core/capture/slabLog';

/** Appends `chunk` as the store does (several records when it straddles slabs); returns them. */
function append(log: SlabLog, chunk: Buffer): Array<[location: number, bytes: number]> {
	const records: Array<[number, number]> = [];
	for (let from = 0; from < chunk.length;) {
		const bytes = log.append(chunk, from);
		records.push([log.lastLocation, bytes]);
		from += bytes;
	}
	return records;
}

function read(log: SlabLog, records: Array<[number, number]>): Buffer {
	const out = Buffer.alloc(records.reduce((n, [, bytes]) => n + bytes, 0));
	let at = 0;
	for (const [location, bytes] of records) {
		log.copyOut(location, bytes, out, at);
		at += bytes;
	}
	return out;
}

describe('SlabLog', () => {
	it('keeps chunks byte-exact, split across slab boundaries', () => {
		const log = new SlabLog(4096);
		const chunks = [100, 4000, 5000, 1, 64, 4096, 12_000, 3].map((n) => randomBytes(n));
		const kept = chunks.map((chunk) => append(log, chunk));
		assert.ok(kept.some((records) => records.length > 1), 'some chunks straddle a boundary');
		chunks.forEach((chunk, i) => assert.deepEqual(read(log, kept[i]), chunk));
		assert.equal(log.liveBytes, chunks.reduce((n, c) => n + c.length, 0));
	});

	it('copies: later changes to the caller\'s buffer do not reach the kept bytes', () => {
		const log = new SlabLog(4096);
		const source = Buffer.from('original');
		const records = append(log, source);
		source.fill(0);
		assert.equal(read(log, records).toString(), 'original');
	});

	it('frees a slab once nothing in it is live, and reuses its memory', () => {
		const log = new SlabLog(4096);
		const first = append(log, Buffer.alloc(3000, 1));
		const second = append(log, Buffer.alloc(3000, 2));
		assert.equal(log.heldBytes, 2 * 4096);
		for (const [location, bytes] of first) log.release(location, bytes);
		// The first slab still holds the start of the second chunk.
		assert.equal(log.heldBytes, 2 * 4096);
		for (const [location, bytes] of second) log.release(location, bytes);
		// The current slab stays (it is being written); the full one is gone.
		assert.equal(log.heldBytes, 4096);
		assert.equal(log.liveBytes, 0);
		// Spare slabs are reused: writing on does not grow what is held beyond what is live.
		for (let i = 0; i < 100; i++) {
			for (const [location, bytes] of append(log, Buffer.alloc(1000, i))) log.release(location, bytes);
		}
		assert.ok(log.heldBytes <= 2 * 4096, `${log.heldBytes}`);
	});

	it('counts its spare slabs in memoryBytes, and keeps at most two', () => {
		const log = new SlabLog(4096);
		const records = Array.from({ length: 6 }, (_, i) => append(log, Buffer.alloc(4096, i)));
		assert.equal(log.memoryBytes, 6 * 4096);
		for (const [location, bytes] of records.slice(0, 5).flat()) log.release(location, bytes);
		// Five full slabs emptied: two kept as spares, three given back; the current one stays held.
		assert.equal(log.heldBytes, 4096);
		assert.equal(log.memoryBytes, 3 * 4096);
		// New records take the spares first: nothing new is allocated until they are used up.
		append(log, Buffer.alloc(4096, 9));
		append(log, Buffer.alloc(4096, 9));
		assert.equal(log.memoryBytes, 3 * 4096);
		log.clear();
		assert.equal(log.memoryBytes, 0);
	});

	it('takes page-sized slabs from the shared page pool and gives them back there', () => {
		const log = new SlabLog(PAGE_SIZE);
		const first = append(log, Buffer.alloc(PAGE_SIZE, 1));
		append(log, Buffer.alloc(10, 2));
		const page = log.bufferOf(first[0][0]);
		for (const [location, bytes] of first) log.release(location, bytes);
		// Not a spare of the log: memory it no longer takes, which the next user of a page gets.
		assert.equal(log.memoryBytes, PAGE_SIZE);
		const taken = takePage();
		assert.equal(taken, page);
		givePage(taken);
	});

	it('compaction moves the few live records out of mostly empty slabs', () => {
		const log = new SlabLog(4096);
		// One small record per slab survives (a slow stream), the rest is released (evicted).
		const pinned: Array<{ records: Array<[number, number]>; bytes: Buffer }> = [];
		for (let i = 0; i < 10; i++) {
			const bytes = randomBytes(50);
			pinned.push({ records: append(log, bytes), bytes });
			for (const [location, n] of append(log, Buffer.alloc(4046, i))) log.release(location, n);
		}
		assert.ok(log.waste >= 9 * 4000, `${log.waste}`);
		assert.equal(log.beginCompaction(log.waste / 2), true);
		for (const p of pinned) p.records = p.records.map(([location, bytes]) => [log.isMoving(location) ? log.move(location, bytes) : location, bytes]);
		log.endCompaction();
		assert.ok(log.heldBytes <= 2 * 4096, `${log.heldBytes}`);
		for (const p of pinned) assert.deepEqual(read(log, p.records), p.bytes);
		assert.equal(log.beginCompaction(4096), false, 'nothing left worth a slab');
	});

	it('clear lets go of everything', () => {
		const log = new SlabLog(4096);
		append(log, Buffer.alloc(10_000));
		log.clear();
		assert.equal(log.heldBytes, 0);
		assert.equal(log.liveBytes, 0);
	});
});

describe('head blobs', () => {
	/** A head's strings as written: the leading ones, then the flat headers. */
	function readHead(log: SlabLog, location: number, bytes: number, leading: number): string[] {
		const head = openHead(log, location, bytes, leading);
		return [...head.leading, ...head.headers().flat()];
	}

	function roundTrip(first: string, second: string | undefined, raw: string[], slab = 1 << 16): string[] {
		const log = new SlabLog(slab);
		const location = writeHead(log, first, second, raw);
		assert.ok(location >= 0);
		assert.equal(log.liveBytes, log.lastBytes);
		return readHead(log, location, log.lastBytes, second === undefined ? 1 : 2);
	}

	it('round-trips ASCII, latin1 and any UTF-16, empty strings and separators', () => {
		const raw = ['Host', 'localhost:8443', 'X-Empty', '', 'x-latin1', 'caf\u00e9 \u00ff\u0080', 'X-Emoji', '\u{1F600} \u4e2d\u6587',
			'x-separators', 'a\nb\r\n\0c: d', '', 'nameless'];
		assert.deepEqual(roundTrip('/p?q=1', 'localhost:8443', raw), ['/p?q=1', 'localhost:8443', ...raw]);
		assert.deepEqual(roundTrip('OK', undefined, []), ['OK']);
		assert.deepEqual(roundTrip('', undefined, ['', '']), ['', '', '']);
	});

	it('round-trips long strings (multi-byte lengths)', () => {
		const long = 'v'.repeat(20_000);
		const cookie = Array.from({ length: 300 }, (_, i) => `c${i}=${i}`).join('; ');
		assert.deepEqual(roundTrip('/', 'h', ['Cookie', cookie, 'X-Long', long], 1 << 20), ['/', 'h', 'Cookie', cookie, 'X-Long', long]);
	});

	it('starts a head over in a new slab when the text does not fit in what is left', () => {
		const log = new SlabLog(4096);
		for (let left = 4096; left > 0;) left -= log.append(Buffer.alloc(Math.min(left, 4000)), 0);
		log.append(Buffer.alloc(3900), 0);
		// 196 bytes left: room for the lengths, not for the text.
		const raw = ['X-A', 'a'.repeat(300), 'X-B', '\u00e9'.repeat(10)];
		const location = writeHead(log, '/path', 'host', raw);
		assert.equal(log.offsetOf(location), 0);
		assert.deepEqual(readHead(log, location, log.lastBytes, 2), ['/path', 'host', ...raw]);
	});

	describe('kept as the text they were parsed from', () => {
		/** Writes `text` as the proxy would hand it over, reads it back. */
		function textRoundTrip(authority: string | undefined, text: string, slab = 1 << 16): string[] {
			const log = new SlabLog(slab);
			const location = writeHeadText(log, authority, text);
			assert.ok(location >= 0);
			return readHead(log, location, log.lastBytes, authority === undefined ? 1 : 2);
		}

		it('reads back a request head as its target, the authority and the headers the parser found', () => {
			const text = 'GET /p?q=a:b HTTP/1.1\r\nHost: localhost:8443\r\nX-Empty:\r\nX-Ows: \t spaced \t \r\n'
				+ 'x-LATIN1: caf\u00e9 \u00ff\r\nX-Colons: a: b:c\r\nCookie: a=1; b=2';
			const parsed = parseRequestHead(text);
			assert.deepEqual(textRoundTrip('localhost:8443', text), ['/p?q=a:b', 'localhost:8443', ...parsed.rawHeaders]);
			assert.deepEqual(textRoundTrip('', 'GET * HTTP/1.0'), ['*', '']);
			// Either part alone outside ASCII makes the whole record UTF-8.
			assert.deepEqual(textRoundTrip('b\u00fccher.localhost', 'GET /a HTTP/1.1\r\nA: b'), ['/a', 'b\u00fccher.localhost', 'A', 'b']);
			assert.deepEqual(textRoundTrip('h', 'GET /\u00e9 HTTP/1.1\r\nA: \u00ff'), ['/\u00e9', 'h', 'A', '\u00ff']);
			// Nothing the parser lets through, but nothing to trip over either: a line without a colon is a name.
			assert.deepEqual(textRoundTrip('h', 'GET /x HTTP/1.1\r\nNoColon\r\nA: b'), ['/x', 'h', 'NoColon', '', 'A', 'b']);
		});

		it('reads back a response head as its reason phrase and headers, with or without a reason', () => {
			for (const text of ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Weird: \u00e9t\u00e9 ok', 'HTTP/1.1 204\r\nDate: x', 'HTTP/1.0 404 Not  Found ', 'HTTP/1.1 200 ']) {
				const parsed = parseResponseHead(text);
				assert.deepEqual(textRoundTrip(undefined, text), [parsed.statusMessage, ...parsed.rawHeaders], text);
			}
		});

		it('refuses a head too big for a record (the caller falls back to the headers)', () => {
			const log = new SlabLog(4096);
			assert.equal(writeHeadText(log, undefined, `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(2000)}`), -1);
			assert.equal(log.liveBytes, 0);
		});
	});

	it('refuses heads too big for a record or with a non-string (the caller keeps what it gave)', () => {
		const log = new SlabLog(4096);
		assert.equal(writeHead(log, '/', 'h', ['X-Big', 'x'.repeat(2000)]), -1);
		assert.equal(writeHead(log, '/', 'h', ['X-Number', 42 as unknown as string]), -1);
		assert.equal(log.liveBytes, 0);
	});
});
