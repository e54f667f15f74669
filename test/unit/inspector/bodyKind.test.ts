import * as assert from 'node:assert/strict';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { toHar } from '../../../src/core/inspector/har';
import { bodyView } from '../../../src/core/inspector/views';
import { bodyKind, isTextKind } from '../../../src/shared/bodyKind';
import type { RawHeaders } from '../../../src/shared/exchange';
import { flat, init, request } from '../capture/helpers';

describe('bodyKind: one rule for text and bytes', () => {
	it('goes by the media type first, parameters and case aside', () => {
		const body = Buffer.from('\u0000binary-looking');
		assert.equal(bodyKind('Text/Plain; charset=UTF-8', body), 'text');
		assert.equal(bodyKind('application/problem+json', Buffer.from('{}')), 'json');
		assert.equal(bodyKind('image/svg+xml', Buffer.from('<svg/>')), 'xml');
		assert.equal(bodyKind('image/png', Buffer.from('text')), 'image');
		assert.equal(bodyKind('application/octet-stream', Buffer.from('text')), 'binary');
		assert.equal(bodyKind(undefined, Buffer.alloc(0)), 'empty');
	});

	it('sniffs unlabelled bodies: JSON, then UTF-8 text without C0 controls but tab, line breaks and escape', () => {
		assert.equal(bodyKind(undefined, Buffer.from(' [1, 2]')), 'json');
		assert.equal(bodyKind('', Buffer.from('plain words\r\n\tand \u001b[31mcolour\u001b[0m\f')), 'text');
		assert.equal(bodyKind(undefined, Buffer.from('a\u0000b')), 'binary');
		assert.equal(bodyKind(undefined, Buffer.from([0xc3, 0x28])), 'binary');
		// A UTF-8 sequence cut at the end of the sniffed 64 KiB is still text.
		const long = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 'a'), Buffer.from('é'), Buffer.alloc(10, 'b')]);
		assert.equal(bodyKind(undefined, long), 'text');
		assert.ok(!isTextKind('image') && !isTextKind('binary') && isTextKind('json') && isTextKind('empty'));
	});

	describe('the details view and HAR agree', () => {
		let store: CaptureStore;
		beforeEach(() => { store = new CaptureStore(); });
		afterEach(() => store.dispose());

		const cases: Array<[string, RawHeaders, Buffer]> = [
			['unlabelled text with an escape sequence', [], Buffer.from('log: \u001b[32mok\u001b[0m\n')],
			['unlabelled text with DEL', [], Buffer.from('a\u007fb')],
			['unlabelled bytes with NUL', [], Buffer.from('a\u0000b')],
			['labelled text with control characters', [['Content-Type', 'text/plain']], Buffer.from('x\u0001y')],
			['labelled binary that reads as text', [['Content-Type', 'application/octet-stream']], Buffer.from('hello')],
			['latin1 text', [['Content-Type', 'text/plain; charset=iso-8859-1']], Buffer.from([0x63, 0x61, 0x66, 0xe9])],
		];
		for (const [name, headers, body] of cases) {
			it(name, async () => {
				const recorder = store.beginExchange(init({ request: request({ path: '/x' }) }))!;
				recorder.response(200, 'OK', flat(headers));
				recorder.responseBody(body);
				recorder.finish('completed');
				const view = (await bodyView(store, recorder.id, 'response'))!;
				const har = toHar(store.list(), (id, side) => store.body(id, side));
				const content = har.log.entries[0].response.content;
				const shownAsText = view.text !== undefined;
				assert.equal(content.encoding === undefined, shownAsText, `details ${view.kind}, HAR ${content.encoding ?? 'text'}`);
				if (shownAsText) assert.equal(content.text, view.text);
			});
		}
	});
});
