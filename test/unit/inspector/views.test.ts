import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { CaptureStore } from '../../../src/core/capture/captureStore';
import { bodyView, editorContent, exchangeDetails, hexDump, imageData, prettyJson, prettyXml } from '../../../src/core/inspector/views';
import type { RawHeaders } from '../../../src/shared/exchange';
import { flat, init, request } from '../capture/helpers';

function respond(store: CaptureStore, headers: RawHeaders, body: Buffer, path = '/x'): number {
	const recorder = store.beginExchange(init({ request: request({ path }) }))!;
	recorder.response(200, 'OK', flat(headers));
	recorder.responseBody(body);
	recorder.finish('completed');
	return recorder.id;
}

describe('inspector details and body views', () => {
	let store: CaptureStore;
	beforeEach(() => { store = new CaptureStore({ bodyLimit: 4096 }); });
	afterEach(() => store.dispose());

	it('decodes gzip JSON and pretty-prints it without touching its values', async () => {
		const json = '{"big":12345678901234567890,"s":"a,b:{c}","e":[],"o":{},"n":[1,{"x":"\\"q\\""}]}';
		const id = respond(store, [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], zlib.gzipSync(json));
		const view = (await bodyView(store, id, 'response'))!;
		assert.equal(view.kind, 'json');
		assert.equal(view.language, 'json');
		assert.deepEqual(view.decodedWith, ['gzip']);
		assert.equal(view.pretty, true);
		assert.equal(view.text, [
			'{',
			'  "big": 12345678901234567890,',
			'  "s": "a,b:{c}",',
			'  "e": [],',
			'  "o": {},',
			'  "n": [',
			'    1,',
			'    {',
			'      "x": "\\"q\\""',
			'    }',
			'  ]',
			'}',
		].join('\n'));
		assert.equal(JSON.stringify(JSON.parse(view.text!)), JSON.stringify(JSON.parse(json)));
	});

	it('sniffs unlabelled JSON, keeps text as text, and shows binary as hex', async () => {
		const json = respond(store, [], Buffer.from('[1,2]'));
		assert.equal((await bodyView(store, json, 'response'))!.kind, 'json');
		const text = respond(store, [['content-type', 'text/plain; charset=iso-8859-1']], Buffer.from([0x63, 0x61, 0x66, 0xe9]));
		assert.equal((await bodyView(store, text, 'response'))!.text, 'café');
		const binary = respond(store, [], Buffer.from([0, 1, 2, 0xff, 0x41]));
		const view = (await bodyView(store, binary, 'response'))!;
		assert.equal(view.kind, 'binary');
		assert.equal(view.hex, '00000000  00 01 02 ff 41                                    |....A|');
	});

	it('marks a body the capture cap cut, and still decodes what it has', async () => {
		const big = Buffer.from(JSON.stringify({ list: Array.from({ length: 2000 }, (_, i) => i) }));
		const id = respond(store, [['content-type', 'application/json']], big);
		const view = (await bodyView(store, id, 'response'))!;
		assert.equal(view.info.truncated, true);
		assert.equal(view.info.captured, 4096);
		assert.equal(view.info.size, big.length);
		assert.equal(view.pretty, false, 'a cut JSON document is shown as it is');
		assert.equal(view.text, big.subarray(0, 4096).toString());
	});

	it('does not send image bytes with the body view, only on request, and only for image types', async () => {
		const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
		const id = respond(store, [['content-type', 'image/png']], png);
		const view = (await bodyView(store, id, 'response'))!;
		assert.equal(view.kind, 'image');
		assert.equal(view.text, undefined);
		assert.equal(view.hex, undefined);
		const image = (await imageData(store, id, 'response'))!;
		assert.equal(image.mime, 'image/png');
		assert.deepEqual(Buffer.from(image.bytes), png);
		const html = respond(store, [['content-type', 'text/html']], Buffer.from('<img src=x onerror=alert(1)>'));
		assert.equal(await imageData(store, html, 'response'), undefined);
		const fake = respond(store, [['content-type', 'image/x-evil; charset=<script>']], png);
		assert.equal(await imageData(store, fake, 'response'), undefined, 'unknown image types are not previewed');
	});

	it('keeps hostile markup as plain text in body views (it is rendered with textContent)', async () => {
		const hostile = '<script>alert(1)</script></textarea><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>\u0000\u001b[31m';
		const id = respond(store, [['content-type', 'text/html']], Buffer.from(hostile));
		const view = (await bodyView(store, id, 'response'))!;
		assert.equal(view.kind, 'html');
		assert.equal(view.text, hostile);
	});

	it('pretty-prints XML and gives editors the right language', async () => {
		assert.equal(prettyXml('<?xml version="1.0"?><a><b x="1">t</b><c/></a>'), '<?xml version="1.0"?>\n<a>\n  <b x="1">t</b>\n  <c/>\n</a>');
		const id = respond(store, [['content-type', 'application/xml']], Buffer.from('<a><b>t</b></a>'));
		assert.deepEqual(await editorContent(store, id, 'response'), { content: '<a>\n  <b>t</b>\n</a>', language: 'xml' });
		const js = respond(store, [['content-type', 'text/javascript']], Buffer.from('export const a = 1;'));
		assert.deepEqual(await editorContent(store, js, 'response'), { content: 'export const a = 1;', language: 'javascript' });
	});

	it('builds details with headers in raw order and case, timing phases and WebSocket message previews', async () => {
		const recorder = store.beginExchange(init({ kind: 'websocket', request: request({ headers: [['Upgrade', 'websocket'], ['X-B', '2'], ['x-a', '1']] }) }))!;
		recorder.upstreamConnected(false);
		recorder.requestSent();
		recorder.response(101, 'Switching Protocols', flat([['Upgrade', 'websocket']]));
		recorder.webSocketMessage({ direction: 'server', opcode: 1, size: 12, payload: Buffer.from('{"type":"x"}'), truncated: false, compressed: false });
		const deflated = zlib.deflateRawSync(Buffer.from('compressed hello'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
		recorder.webSocketMessage({ direction: 'client', opcode: 1, size: deflated.length - 4, payload: deflated.subarray(0, deflated.length - 4), truncated: false, compressed: true });
		recorder.webSocketMessage({ direction: 'client', opcode: 2, size: 3, payload: Buffer.from([1, 2, 3]), truncated: false, compressed: false });
		recorder.webSocketMessage({ direction: 'server', opcode: 8, size: 5, payload: Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]), truncated: false, compressed: false });
		const details = (await exchangeDetails(store, recorder.id))!;
		assert.deepEqual(details.request!.headers, [['Upgrade', 'websocket'], ['X-B', '2'], ['x-a', '1']]);
		assert.equal(details.url, 'https://localhost:8443/');
		assert.deepEqual(details.phases.map((p) => p.name), ['tls', 'connect', 'send', 'wait']);
		assert.deepEqual(details.messages!.map((m) => [m.direction, m.text ?? m.hex]), [
			['server', '{"type":"x"}'],
			['client', 'compressed hello'],
			['client', '00000000  01 02 03                                          |...|'],
			['server', 'close 1000 bye'],
		]);
		assert.equal(details.messagesOmitted, 0);
		assert.equal(await exchangeDetails(store, 999), undefined);
	});

	it('details carry the note TLS Lens attached to an exchange after it finished (summary.note), verbatim', async () => {
		const id = respond(store, [['content-type', 'text/html']], Buffer.from('Blocked request.'));
		assert.equal((await exchangeDetails(store, id))!.summary.note, undefined);
		store.annotate(id, 'first note');
		const note = 'Vite refused the name app.test (its host check): add app.test to server.allowedHosts in vite.config (or astro.config).';
		store.annotate(id, note); // replaces the first
		const details = (await exchangeDetails(store, id))!;
		assert.equal(details.summary.note, note);
		assert.equal(details.summary.state, 'completed');
		assert.equal(store.get(id)!.note, note);
	});

	it('prettyJson and hexDump edge cases', () => {
		assert.equal(prettyJson(' { "a" : [ ] } '), '{\n  "a": []\n}');
		assert.equal(prettyJson('"x\\\\"'), '"x\\\\"');
		assert.equal(hexDump(Buffer.alloc(0)), '');
		assert.equal(hexDump(Buffer.alloc(40), 16).split('\n').length, 1);
	});
});
