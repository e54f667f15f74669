import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { decodeBody, decodeBodySync, decodeWebSocketPayload, parseContentEncoding, zstdSupported } from '../../../src/core/inspector/bodyDecoding';

const text = Buffer.from('export const answer = 42;\n'.repeat(2000));

describe('decodeBody', () => {
	const cases: Array<[string, Buffer]> = [
		['gzip', zlib.gzipSync(text)],
		['x-gzip', zlib.gzipSync(text)],
		['GZip', zlib.gzipSync(text)],
		['deflate', zlib.deflateSync(text)],
		['br', zlib.brotliCompressSync(text)],
		['identity', text],
		['', text],
	];
	for (const [encoding, encoded] of cases) {
		it(`decodes ${encoding || 'no encoding'} (async and sync)`, async () => {
			for (const result of [await decodeBody(encoded, encoding), decodeBodySync(encoded, encoding)]) {
				assert.equal(result.error, undefined);
				assert.equal(result.note, undefined);
				assert.ok(result.body.equals(text));
				assert.deepEqual(result.decodedWith, ['identity', ''].includes(encoding) ? [] : [encoding.toLowerCase()]);
			}
		});
	}

	it('decodes raw deflate sent as "deflate"', async () => {
		const result = await decodeBody(zlib.deflateRawSync(text), 'deflate');
		assert.equal(result.error, undefined);
		assert.ok(result.body.equals(text));
	});

	it('undoes multiple codings in reverse order', async () => {
		// "gzip, br": gzip applied first, then br; so br is undone first.
		const encoded = zlib.brotliCompressSync(zlib.gzipSync(text));
		const result = await decodeBody(encoded, 'gzip, br');
		assert.equal(result.error, undefined);
		assert.deepEqual(result.decodedWith, ['br', 'gzip']);
		assert.ok(result.body.equals(text));
		assert.deepEqual(parseContentEncoding(' gzip ,, BR,identity'), ['gzip', 'br', 'identity']);
	});

	it('decodes the prefix of a truncated gzip or br body, with a note', async () => {
		const random = Buffer.from(randomBytes(200_000).toString('hex'));
		for (const [encoding, encoded] of [['gzip', zlib.gzipSync(random)], ['br', zlib.brotliCompressSync(random)]] as const) {
			const cut = encoded.subarray(0, Math.floor(encoded.length / 2));
			const result = await decodeBody(cut, encoding);
			assert.equal(result.error, undefined, encoding);
			assert.match(result.note ?? '', /ended early/);
			assert.ok(result.body.length > 1000, `${encoding}: ${result.body.length} bytes`);
			assert.ok(random.subarray(0, result.body.length).equals(result.body), `${encoding}: a prefix of the original`);
			assert.deepEqual(decodeBodySync(cut, encoding).body, result.body);
		}
	});

	it('reports corrupt input and keeps the raw body', async () => {
		const garbage = Buffer.from('this is not gzip at all');
		const result = await decodeBody(garbage, 'gzip');
		assert.match(result.error!, /^gzip: /);
		assert.ok(result.body.equals(garbage));
		assert.deepEqual(result.decodedWith, []);
	});

	it('reports an unsupported coding and returns the body decoded so far', async () => {
		const result = await decodeBody(zlib.gzipSync(text), 'compress, gzip');
		assert.deepEqual(result.decodedWith, ['gzip']);
		assert.ok(result.body.equals(text));
		assert.match(result.error!, /unsupported content-encoding "compress"/);
	});

	it('handles zstd where Node has it, and says clearly when it does not', async () => {
		const raw = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x00, 0x00]);
		const result = await decodeBody(raw, 'zstd');
		if (zstdSupported) {
			assert.deepEqual(result.decodedWith, ['zstd']);
		} else {
			assert.match(result.error!, /zstd decoding needs Node\.js 22\.15 or later \(this is v\d+/);
			assert.ok(result.body.equals(raw));
			assert.deepEqual(result.decodedWith, []);
		}
	});

	it('refuses to inflate beyond maxOutputLength (decompression bombs)', async () => {
		const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024));
		const result = await decodeBody(bomb, 'gzip', { maxOutputLength: 1024 * 1024 });
		assert.match(result.error!, /larger than 1048576 bytes/);
		assert.ok(result.body.equals(bomb));
	});

	it('decodes an empty body with any coding', async () => {
		const result = await decodeBody(Buffer.alloc(0), 'gzip');
		assert.equal(result.error, undefined);
		assert.equal(result.body.length, 0);
	});
});

describe('decodeWebSocketPayload', () => {
	it('inflates a permessage-deflate payload (tail stripped as on the wire)', async () => {
		const message = Buffer.from('{"type":"full-reload"}');
		const deflated = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		// RFC 7692 7.2.1: the sender removes the trailing 00 00 ff ff.
		assert.deepEqual([...deflated.subarray(-4)], [0, 0, 0xff, 0xff]);
		const result = await decodeWebSocketPayload(deflated.subarray(0, -4));
		assert.equal(result.error, undefined);
		assert.deepEqual(result.decodedWith, ['permessage-deflate']);
		assert.ok(result.body.equals(message));
	});

	it('explains a payload it cannot inflate alone', async () => {
		const result = await decodeWebSocketPayload(Buffer.from([0xff, 0xff, 0xff]));
		assert.match(result.error!, /permessage-deflate: .*refers back/);
	});
});
