import * as assert from 'node:assert/strict';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { flat, init } from './helpers';

const ORIGINAL = 'http://localhost:5173/dashboard';
const RECEIVED = 'https://localhost:8443/dashboard';
const HEADERS: Array<[string, string]> = [['Content-Length', '0'], ['Location', ORIGINAL], ['X-After', 'kept']];
const HEAD_TEXT = `HTTP/1.1 302 Found\r\n${HEADERS.map(([n, v]) => `${n}: ${v}`).join('\r\n')}`;

describe('capture: response headers the proxy rewrote', () => {
	let store: CaptureStore;
	beforeEach(() => { store = new CaptureStore(); });
	afterEach(() => store.dispose());

	// The three ways a response head is kept: the parser's text, encoded strings, strings as they are (WebSocket).
	for (const [how, kind, text] of [['as head text', 'http', HEAD_TEXT], ['as encoded strings', 'http', undefined], ['as strings (WebSocket)', 'websocket', undefined]] as const) {
		it(`keeps what the browser received and the original, ${how}`, () => {
			const recorder = store.beginExchange(init({ kind }))!;
			recorder.response(302, 'Found', flat(HEADERS), text);
			recorder.responseHeaderRewritten(1, ORIGINAL, RECEIVED);
			recorder.finish('completed');
			const response = store.get(recorder.id)!.response!;
			assert.deepEqual(response.headers, [['Content-Length', '0'], ['Location', RECEIVED], ['X-After', 'kept']]);
			assert.deepEqual(response.rewritten, [{ index: 1, original: ORIGINAL }]);
			// Plain data: what crosses postMessage to the inspector.
			assert.deepEqual(structuredClone(response), { statusCode: 302, statusMessage: 'Found', headers: response.headers, rewritten: response.rewritten });
		});
	}

	it('shows a rewrite in snapshots taken after it, not in one a reader took before', () => {
		const recorder = store.beginExchange(init())!;
		recorder.response(302, 'Found', flat(HEADERS), HEAD_TEXT);
		const before = store.get(recorder.id)!;
		assert.equal(before.response!.rewritten, undefined);
		recorder.responseHeaderRewritten(1, ORIGINAL, RECEIVED);
		assert.equal(before.response!.rewritten, undefined);
		assert.deepEqual(before.response!.headers[1], ['Location', ORIGINAL]);
		const after = store.get(recorder.id)!;
		assert.deepEqual(after.response!.headers[1], ['Location', RECEIVED]);
		assert.deepEqual(after.response!.rewritten, [{ index: 1, original: ORIGINAL }]);
		recorder.finish('completed');
		assert.deepEqual(store.get(recorder.id)!.response!.rewritten, [{ index: 1, original: ORIGINAL }]);
	});

	it('has no rewritten list when nothing was rewritten, and ignores a rewrite with no response or after the end', () => {
		const plain = store.beginExchange(init())!;
		plain.responseHeaderRewritten(0, 'x', 'y');
		plain.response(302, 'Found', flat(HEADERS), HEAD_TEXT);
		plain.finish('completed');
		plain.responseHeaderRewritten(1, ORIGINAL, RECEIVED);
		const response = store.get(plain.id)!.response!;
		assert.equal(response.rewritten, undefined);
		assert.ok(!('rewritten' in response));
		assert.deepEqual(response.headers[1], ['Location', ORIGINAL]);
	});
});
