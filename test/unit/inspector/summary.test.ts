import * as assert from 'node:assert/strict';
import type { Exchange } from '../../../src/shared/exchange';
import {
	classifyType, formatBytes, requestedType, formatDuration, MAX_SUMMARY_PATH, mediaType, summarize, timingPhases, visible, visibleLine,
} from '../../../src/shared/summary';

function exchange(overrides: Partial<Exchange> = {}): Exchange {
	return {
		id: 7,
		kind: 'http',
		state: 'completed',
		client: '127.0.0.1:50000',
		tls: { protocol: 'TLSv1.3', alpn: 'h2', sni: 'localhost', handshakeMs: 2, resumed: false },
		timings: { startTime: 1_700_000_000_000, upstreamConnect: 1, requestSent: 2, responseStart: 10, end: 12.5 },
		request: { method: 'GET', path: '/api/data.json?x=1', authority: 'localhost:8443', httpVersion: '2', headers: [[':method', 'GET']] },
		response: { statusCode: 200, statusMessage: 'OK', headers: [['Content-Type', 'application/json; charset=utf-8']] },
		requestBody: { size: 0, captured: 0, truncated: false },
		responseBody: { size: 321, captured: 321, truncated: false },
		...overrides,
	};
}

describe('inspector summaries and type classification', () => {
	it('summarises an HTTP exchange into a flat row', () => {
		assert.deepEqual(summarize(exchange()), {
			id: 7, kind: 'http', state: 'completed', method: 'GET', status: 200, host: 'localhost:8443', path: '/api/data.json?x=1',
			type: 'json', mime: 'application/json', size: 321, protocol: 'h2', start: 1_700_000_000_000, duration: 12.5,
		});
	});

	it('leaves duration out while in flight, and reports HTTP/1.x as h1.x', () => {
		const s = summarize(exchange({ state: 'pending', response: undefined, request: { method: 'POST', path: '/x', authority: 'a', httpVersion: '1.1', headers: [] } }));
		assert.equal(s.duration, undefined);
		assert.equal(s.status, 0);
		assert.equal(s.protocol, 'h1.1');
		assert.equal(s.type, 'other');
	});

	it('summarises WebSockets with their message count and bytes, and TLS failures with SNI and reason', () => {
		const ws = summarize(exchange({
			kind: 'websocket', state: 'pending', response: { statusCode: 101, statusMessage: 'Switching Protocols', headers: [] },
			messages: [
				{ direction: 'server', opcode: 1, size: 20, time: 1, payload: new Uint8Array(20), truncated: false, compressed: false },
				{ direction: 'client', opcode: 1, size: 5, time: 2, payload: new Uint8Array(5), truncated: false, compressed: false },
			],
		}));
		assert.equal(ws.type, 'websocket');
		assert.equal(ws.protocol, 'ws');
		assert.equal(ws.messages, 2);
		assert.equal(ws.size, 25);
		const tls = summarize(exchange({ kind: 'tls-error', state: 'tls-error', request: undefined, response: undefined, error: 'unknown ca' }));
		assert.equal(tls.host, 'localhost');
		assert.equal(tls.type, 'tls');
		assert.equal(tls.protocol, 'tls');
		assert.equal(tls.error, 'unknown ca');
	});

	it('cuts very long paths in summaries only', () => {
		const long = '/' + 'a'.repeat(5000);
		const s = summarize(exchange({ request: { method: 'GET', path: long, authority: 'a', httpVersion: '2', headers: [] } }));
		assert.equal(s.path.length, MAX_SUMMARY_PATH + 1);
		assert.ok(s.path.endsWith('…'));
	});

	it('classifies by media type first, then by extension', () => {
		const cases: Array<[string, string, string]> = [
			['text/html', '/', 'document'],
			['text/event-stream', '/stream', 'eventsource'],
			['application/javascript', '/x', 'script'],
			['text/javascript', '/src/main.js?t=1', 'script'],
			['', '/src/App.vue?import', 'script'],
			['text/css', '/a', 'style'],
			['application/json', '/a', 'json'],
			['application/problem+json', '/a', 'json'],
			['application/manifest+json', '/m', 'manifest'],
			['application/xml', '/feed', 'xml'],
			['image/svg+xml', '/logo.svg', 'image'],
			['image/png', '/a', 'image'],
			['font/woff2', '/a', 'font'],
			['video/mp4', '/a', 'media'],
			['application/wasm', '/a', 'wasm'],
			['text/plain', '/data.json', 'json'],
			['text/plain', '/readme', 'text'],
			['application/octet-stream', '/x.png', 'image'],
			['application/octet-stream', '/blob', 'binary'],
			['', '/favicon.ico', 'image'],
			['', '/', 'other'],
			['application/x-www-form-urlencoded', '/login', 'form'],
		];
		for (const [mime, path, type] of cases) assert.equal(classifyType(mime, path), type, `${mime} ${path}`);
		assert.equal(classifyType('text/html', '/', 'websocket'), 'websocket');
		assert.equal(mediaType(' Text/HTML ; charset=utf-8'), 'text/html');
	});

	it('types a 304 (no Content-Type) by what it revalidates: Sec-Fetch-Dest, a navigation\'s Accept, then the path', () => {
		const revalidated = (path: string, headers: Array<[string, string]>) => summarize(exchange({
			request: { method: 'GET', path, authority: 'localhost:8443', httpVersion: '2', headers },
			response: { statusCode: 304, statusMessage: 'Not Modified', headers: [['ETag', 'W/"1"']] },
			responseBody: { size: 0, captured: 0, truncated: false },
		})).type;
		assert.equal(revalidated('/', [['sec-fetch-dest', 'document'], ['accept', 'text/html']]), 'document');
		assert.equal(revalidated('/@vite/client', [['sec-fetch-dest', 'script']]), 'script');
		assert.equal(revalidated('/src/App.vue?t=1', [['Sec-Fetch-Dest', 'Script']]), 'script', 'any case');
		assert.equal(revalidated('/logo', [['sec-fetch-dest', 'image']]), 'image');
		assert.equal(revalidated('/theme', [['sec-fetch-dest', 'style']]), 'style');
		assert.equal(revalidated('/sw', [['sec-fetch-dest', 'serviceworker']]), 'script');
		assert.equal(revalidated('/page', [['accept', 'text/html,application/xhtml+xml']]), 'document', 'an older browser\'s navigation');
		// A fetch says "empty": the path decides, as for any unlabelled response.
		assert.equal(revalidated('/api/info.json', [['sec-fetch-dest', 'empty'], ['accept', '*/*']]), 'json');
		assert.equal(revalidated('/api/info', [['sec-fetch-dest', 'empty']]), 'other');
		// A labelled response keeps its own type whatever was asked for.
		assert.equal(summarize(exchange({ request: { method: 'GET', path: '/x', authority: 'a', httpVersion: '2', headers: [['sec-fetch-dest', 'image']] } })).type, 'json');
		assert.equal(requestedType([['sec-fetch-dest', 'nonsense']]), undefined);
	});

	it('computes waterfall phases from the monotonic offsets', () => {
		const t = exchange().timings;
		assert.deepEqual(timingPhases({ timings: t, tls: { handshakeMs: 2, resumed: false } }).map((p) => [p.name, p.start, p.duration]), [
			['tls', -2, 2], ['connect', 0, 1], ['send', 1, 1], ['wait', 2, 8], ['download', 10, 2.5],
		]);
		// A later request on the client connection did not wait for its handshake; a reused upstream
		// connection has no connect bar.
		const later = { startTime: 0, requestSent: 1, responseStart: 3, end: 4 };
		assert.deepEqual(timingPhases({ timings: later, tls: { handshakeMs: 1, resumed: false }, connectionReused: true }).map((p) => p.name), ['send', 'wait', 'download']);
		// A resumed session's handshake is shorter, not absent: the exchange that opened the connection waited for it.
		const resumed = timingPhases({ timings: later, tls: { handshakeMs: 1, resumed: true }, connectionReused: false });
		assert.deepEqual(resumed.map((p) => [p.name, p.label]).slice(0, 1), [['tls', 'TLS handshake (resumed session)']]);
		assert.deepEqual(timingPhases({ timings: { startTime: 0 }, tls: {} }), []);
	});

	it('formats sizes and durations like DevTools', () => {
		assert.equal(formatBytes(999), '999 B');
		assert.equal(formatBytes(1500), '1.5 kB');
		assert.equal(formatBytes(2_500_000), '2.5 MB');
		assert.equal(formatDuration(0.5), '0.50 ms');
		assert.equal(formatDuration(12.4), '12 ms');
		assert.equal(formatDuration(1250), '1.25 s');
		assert.equal(formatDuration(undefined), '');
	});

	it('makes control, bidi and invisible characters visible, keeping line endings', () => {
		assert.equal(visible('a\u0000b\u001bc\u007fd'), 'a␀b␛c␡d');
		assert.equal(visible('line\r\nnext\rx'), 'line\r\nnext␍x');
		assert.equal(visible('safe\u202Etxt.exe'), 'safe⟨U+202E⟩txt.exe');
		assert.equal(visible('zero\u200Bwidth\uFEFF'), 'zero⟨U+200B⟩width⟨U+FEFF⟩');
		assert.equal(visible('plain <script>'), 'plain <script>');
		assert.equal(visibleLine('a\tb\r\nc'), 'a␉b␍␊c');
	});
});
