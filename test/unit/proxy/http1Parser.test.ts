import * as assert from 'node:assert/strict';
import {
	ChunkedDecoder, chunkHeader, findHeadEnd, hasBareLineBreak, HttpParseError, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead,
	requestFraming, responseFraming, type Framing,
} from '../../../src/core/proxy/http1Parser';

/** Asserts that `fn` throws an HttpParseError with `status`. */
function assertStatus(fn: () => unknown, status: number, what: string): void {
	assert.throws(fn, (error: unknown) => {
		assert.ok(error instanceof HttpParseError, `${what}: ${String(error)}`);
		assert.equal(error.status, status, `${what}: ${error.message}`);
		return true;
	}, what);
}

/** A head as parseRequestHead takes it: lines joined by CRLF, without the final empty line. */
function head(...lines: string[]): string {
	return lines.join('\r\n');
}

// What Chrome sends for a module script of a Vite app, in its order and case.
const chromeHeaders = [
	'Host', 'localhost:8443',
	'Connection', 'keep-alive',
	'sec-ch-ua', '"Chromium";v="126", "Google Chrome";v="126", "Not-A.Brand";v="99"',
	'sec-ch-ua-mobile', '?0',
	'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
	'sec-ch-ua-platform', '"Linux"',
	'Accept', '*/*',
	'Sec-Fetch-Site', 'same-origin',
	'Sec-Fetch-Mode', 'cors',
	'Sec-Fetch-Dest', 'script',
	'Referer', 'https://localhost:8443/',
	'Accept-Encoding', 'gzip, deflate, br, zstd',
	'Accept-Language', 'en-US,en;q=0.9',
	'Cookie', 'theme=dark; sid=abc123',
];

function chromeHead(): string {
	const lines = ['GET /src/main.tsx?t=1718000000000 HTTP/1.1'];
	for (let i = 0; i < chromeHeaders.length; i += 2) { lines.push(`${chromeHeaders[i]}: ${chromeHeaders[i + 1]}`); }
	return head(...lines);
}

describe('proxy: HTTP/1 parser, request heads', () => {
	it('parses a Chrome request head into method, target, version and rawHeaders in wire order', () => {
		const parsed = parseRequestHead(chromeHead());
		assert.deepEqual(parsed, {
			method: 'GET',
			target: '/src/main.tsx?t=1718000000000',
			httpVersion: '1.1',
			rawHeaders: chromeHeaders,
			text: chromeHead(),
		});
	});

	it('keeps name case and duplicate fields in order, trims OWS around values only', () => {
		const parsed = parseRequestHead(head(
			'POST /api HTTP/1.0',
			'X-Dup: 1',
			'content-TYPE:application/json',
			'x-dup:  \t2 two\t ',
			'X-Empty:',
			'X-Blank: \t ',
			'X-Inner: a \t b',
			'X-Latin1: caf\xe9',
			'X-Dup: 3',
		));
		assert.equal(parsed.method, 'POST');
		assert.equal(parsed.httpVersion, '1.0');
		assert.deepEqual(parsed.rawHeaders, [
			'X-Dup', '1', 'content-TYPE', 'application/json', 'x-dup', '2 two', 'X-Empty', '', 'X-Blank', '',
			'X-Inner', 'a \t b', 'X-Latin1', 'caf\xe9', 'X-Dup', '3',
		]);
	});

	it('accepts the four request-target forms as sent (RFC 9112 §3.2), any token as method, and a head without fields', () => {
		assert.deepEqual(parseRequestHead('OPTIONS * HTTP/1.1'), { method: 'OPTIONS', target: '*', httpVersion: '1.1', rawHeaders: [], text: 'OPTIONS * HTTP/1.1' });
		assert.equal(parseRequestHead(head('CONNECT localhost:5173 HTTP/1.1', 'Host: localhost:5173')).target, 'localhost:5173');
		assert.equal(parseRequestHead('GET http://localhost:5173/a?b=%20c#d HTTP/1.1').target, 'http://localhost:5173/a?b=%20c#d');
		assert.equal(parseRequestHead('GET /~!$&\'()*+,;=:@[]{}|^`"<>\\ HTTP/1.1').target, '/~!$&\'()*+,;=:@[]{}|^`"<>\\');
		// Methods are case-sensitive tokens; which ones to serve is the caller's business.
		assert.equal(parseRequestHead('get / HTTP/1.1').method, 'get');
		assert.equal(parseRequestHead('M-SEARCH / HTTP/1.1').method, 'M-SEARCH');
		assert.equal(parseRequestHead('PRIX / HTTP/1.1').method, 'PRIX');
		assert.equal(parseRequestHead('pri / HTTP/1.1').method, 'pri', 'methods are case-sensitive: only PRI is the preface');
		assert.equal(parseRequestHead('GET HTTPS://h/ HTTP/1.1').target, 'HTTPS://h/', 'a scheme in any case');
		assert.equal(parseRequestHead('GET http://u:p@[::1]:8080?q HTTP/1.1').target, 'http://u:p@[::1]:8080?q', 'userinfo, IPv6, port, no path');
	});

	const rejected: Array<[string, string, number]> = [
		// Line endings.
		['bare LF between fields', head('GET / HTTP/1.1', 'A: b\nC: d'), 400],
		['bare LF ending the request line', 'GET / HTTP/1.1\nHost: x', 400],
		['bare CR ending the request line', 'GET / HTTP/1.1\rHost: x', 400],
		['bare CR inside a value', head('GET / HTTP/1.1', 'A: b\rc'), 400],
		// Would hide "C: d" from a parser that took any CR for a line end and skipped a byte.
		['bare CR before what looks like a field', head('GET / HTTP/1.1', 'A: b\rxC: d'), 400],
		['bare CR ending the head', head('GET / HTTP/1.1', 'A: b\r'), 400],
		['bare LF ending the head', head('GET / HTTP/1.1', 'A: b\n'), 400],
		['empty line inside the head', head('GET / HTTP/1.1', '', 'A: b'), 400],
		['trailing CRLF', head('GET / HTTP/1.1', 'A: b', ''), 400],
		// Field lines.
		['NUL in a value', head('GET / HTTP/1.1', 'A: b\0c'), 400],
		['control byte in a value', head('GET / HTTP/1.1', 'A: b\x01'), 400],
		['DEL in a value', head('GET / HTTP/1.1', 'A: b\x7f'), 400],
		['space before the colon', head('GET / HTTP/1.1', 'Host : x'), 400],
		['tab before the colon', head('GET / HTTP/1.1', 'Host\t: x'), 400],
		['obs-fold with SP', head('GET / HTTP/1.1', 'A: b', ' c'), 400],
		['obs-fold with HTAB', head('GET / HTTP/1.1', 'A: b', '\tc'), 400],
		// llhttp refuses a tab (not a space) after these two values: trimmed, they would frame the message.
		['a tab after the Content-Length value', head('POST / HTTP/1.1', 'Content-Length: 3\t'), 400],
		['a tab after the Transfer-Encoding value', head('POST / HTTP/1.1', 'transfer-encoding: chunked \t'), 400],
		['empty name', head('GET / HTTP/1.1', ': x'), 400],
		['no colon', head('GET / HTTP/1.1', 'Host x'), 400],
		['no colon, name only', head('GET / HTTP/1.1', 'Host'), 400],
		['separator in a name', head('GET / HTTP/1.1', 'Ho(st: x'), 400],
		['obs-text in a name', head('GET / HTTP/1.1', 'H\xf6st: x'), 400],
		['code unit above 0xFF in a value', head('GET / HTTP/1.1', 'A: \u4e2d'), 400],
		// U+4E2D's low byte is '-': the check must not look at low bytes only.
		['code unit above 0xFF in a name', head('GET / HTTP/1.1', 'A\u4e2dB: 1'), 400],
		// Request line.
		['empty request line', '', 400],
		['empty method', ' / HTTP/1.1', 400],
		['separator in the method', 'G@T / HTTP/1.1', 400],
		['two spaces after the method', 'GET  / HTTP/1.1', 400],
		['two spaces after the target', 'GET /  HTTP/1.1', 400],
		['tab as separator', 'GET\t/ HTTP/1.1', 400],
		['trailing space', 'GET / HTTP/1.1 ', 400],
		['obs-text in the target', 'GET /caf\xe9 HTTP/1.1', 400],
		['DEL in the target', 'GET /a\x7f HTTP/1.1', 400],
		['NUL in the target', 'GET /a\0 HTTP/1.1', 400],
		['no version', 'GET /', 400],
		['empty version', 'GET / ', 400],
		['lower-case version', 'GET / http/1.1', 400],
		['short version', 'GET / HTTP/1', 400],
		['long version', 'GET / HTTP/1.10', 400],
		['two-digit major', 'GET / HTTP/11.1', 400],
		['other protocol', 'GET / HTTPS/1.1', 400],
		['the PRI method', 'PRI * HTTP/1.1', 400],
		['the HTTP/2 connection preface', 'PRI * HTTP/2.0', 505],
		['the PRI method with another target', 'PRI / HTTP/1.1', 400],
		// Request-targets (RFC 9112 §3.2), which llhttp refuses too.
		['authority-form on GET', 'GET localhost:443 HTTP/1.1', 400],
		['asterisk-form on GET', 'GET * HTTP/1.1', 400],
		['a target starting with neither / nor a scheme', 'GET !/ HTTP/1.1', 400],
		['a scheme without //', 'GET http:/x HTTP/1.1', 400],
		['a scheme starting with a digit', 'GET 1http://x/ HTTP/1.1', 400],
		// RFC 3986 allows these in a scheme, llhttp does not.
		['a dot in the scheme', 'GET http.://x/ HTTP/1.1', 400],
		['a dash in the scheme', 'GET ht-tp://x/ HTTP/1.1', 400],
		['a | in the authority', 'GET http://l|ocalhost/ HTTP/1.1', 400],
		['an empty authority', 'GET http:///x HTTP/1.1', 400],
		['a # in the authority', 'GET http://lo#calhost/abs HTTP/1.1', 400],
		['a scheme and nothing after it', 'GET http:// HTTP/1.1', 400],
		['an asterisk with more after it', 'OPTIONS *x HTTP/1.1', 400],
		['HTTP/2.0', 'GET / HTTP/2.0', 505],
		['HTTP/3.0', 'GET / HTTP/3.0', 505],
		['HTTP/0.9', 'GET / HTTP/0.9', 505],
		['HTTP/1.2', 'GET / HTTP/1.2', 505],
	];
	for (const [what, text, status] of rejected) {
		it(`rejects ${what} with ${status}`, () => assertStatus(() => parseRequestHead(text), status, what));
	}

	it('answers 431 for a head above MAX_HEAD_BYTES (counting the final CRLFCRLF), not at it', () => {
		const line = 'GET / HTTP/1.1\r\nX: ';
		const fits = line + 'a'.repeat(MAX_HEAD_BYTES - 4 - line.length);
		assert.equal(parseRequestHead(fits).rawHeaders[1].length, MAX_HEAD_BYTES - 4 - line.length);
		assertStatus(() => parseRequestHead(fits + 'a'), 431, 'one byte over');
		assertStatus(() => parseResponseHead('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(MAX_HEAD_BYTES)), 431, 'response');
	});

	it('does not read past a short head into what a longer one left behind', () => {
		parseRequestHead(head('GET / HTTP/1.1', 'A: b', 'C: d', 'E: f'));
		assertStatus(() => parseRequestHead(head('GET / HTTP/1.1', 'A: b\r')), 400, 'bare CR at the end');
		assert.deepEqual(parseRequestHead(head('GET / HTTP/1.1', 'A: b')).rawHeaders, ['A', 'b']);
		assertStatus(() => parseRequestHead(head('GET / HTTP/1.1', 'A')), 400, 'name at the end');
	});
});

describe('proxy: HTTP/1 parser, response heads', () => {
	it('parses status, reason phrase, version and fields', () => {
		const okHead = head('HTTP/1.1 200 OK', 'Content-Type: text/html', 'content-length: 5', 'Set-Cookie: a=1', 'Set-Cookie: b=2');
		assert.deepEqual(parseResponseHead(okHead), {
			statusCode: 200,
			statusMessage: 'OK',
			httpVersion: '1.1',
			rawHeaders: ['Content-Type', 'text/html', 'content-length', '5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
			text: okHead,
		});
		const notFound = parseResponseHead('HTTP/1.0 404 Not\tFound, caf\xe9 ');
		assert.equal(notFound.statusCode, 404);
		assert.equal(notFound.statusMessage, 'Not\tFound, caf\xe9 ', 'the reason phrase as sent');
		assert.equal(notFound.httpVersion, '1.0');
	});

	it('accepts a missing or empty reason phrase and status codes 100 to 999', () => {
		assert.deepEqual(parseResponseHead(head('HTTP/1.1 204', 'X: y')), { statusCode: 204, statusMessage: '', httpVersion: '1.1', rawHeaders: ['X', 'y'], text: head('HTTP/1.1 204', 'X: y') });
		assert.equal(parseResponseHead('HTTP/1.1 200 ').statusMessage, '');
		assert.equal(parseResponseHead('HTTP/1.1 100 Continue').statusCode, 100);
		assert.equal(parseResponseHead('HTTP/1.1 999 Whatever').statusCode, 999);
	});

	const rejected: Array<[string, string]> = [
		['two-digit status', 'HTTP/1.1 99 OK'],
		['status below 100', 'HTTP/1.1 099 OK'],
		['four-digit status', 'HTTP/1.1 2000 OK'],
		['non-digit status', 'HTTP/1.1 20x OK'],
		['no status', 'HTTP/1.1'],
		['no status after SP', 'HTTP/1.1 '],
		['two spaces before the status', 'HTTP/1.1  200 OK'],
		['tab before the reason', 'HTTP/1.1 200\tOK'],
		['HTTP/2.0', 'HTTP/2.0 200 OK'],
		['HTTP/1.2', 'HTTP/1.2 200 OK'],
		['other protocol', 'ICY 200 OK'],
		['NUL in the reason', 'HTTP/1.1 200 O\0K'],
		['bare LF after the status line', 'HTTP/1.1 200 OK\nX: y'],
		['bare CR in the reason', 'HTTP/1.1 200 O\rK'],
		['space before the colon', head('HTTP/1.1 200 OK', 'Content-Length : 5')],
		['obs-fold', head('HTTP/1.1 200 OK', 'X: a', ' b')],
		['bare LF between fields', head('HTTP/1.1 200 OK', 'X: a\nY: b')],
		['control byte in a value', head('HTTP/1.1 200 OK', 'X: a\x0b')],
	];
	for (const [what, text] of rejected) {
		it(`rejects ${what} with 400`, () => assertStatus(() => parseResponseHead(text), 400, what));
	}
});

describe('proxy: HTTP/1 parser, body framing', () => {
	const length = (n: number): Framing => ({ kind: 'length', length: n });
	const none: Framing = { kind: 'none' };
	const chunked: Framing = { kind: 'chunked' };
	const close: Framing = { kind: 'close' };

	const requests: Array<[string, string[], Framing | 400 | 501]> = [
		['no framing fields', ['Host', 'x'], none],
		['Content-Length 0', ['Content-Length', '0'], none],
		['Content-Length', ['Content-Length', '42'], length(42)],
		['Content-Length, any name case', ['content-LENGTH', '42'], length(42)],
		['Content-Length with leading zeros', ['Content-Length', '0005'], length(5)],
		['Content-Length 2^53 - 1', ['Content-Length', '9007199254740991'], length(Number.MAX_SAFE_INTEGER)],
		// Lists and repeats are refused even when the values agree, as llhttp refuses them.
		['Content-Length "5, 5"', ['Content-Length', '5, 5'], 400],
		['two equal Content-Length fields', ['Content-Length', '5', 'X', 'y', 'content-length', '5'], 400],
		['a valid then an invalid Content-Length', ['Content-Length', '5', 'Content-Length', 'x'], 400],
		['Content-Length "5, 6"', ['Content-Length', '5, 6'], 400],
		['two differing Content-Length fields', ['Content-Length', '5', 'Content-Length', '6'], 400],
		['an invalid then a valid Content-Length', ['Content-Length', 'x', 'Content-Length', '5'], 400],
		['empty Content-Length', ['Content-Length', ''], 400],
		['negative Content-Length', ['Content-Length', '-1'], 400],
		['signed Content-Length', ['Content-Length', '+5'], 400],
		['hex Content-Length', ['Content-Length', '0x10'], 400],
		['Content-Length "1 2"', ['Content-Length', '1 2'], 400],
		['Content-Length "5,"', ['Content-Length', '5,'], 400],
		['Content-Length 2^53', ['Content-Length', '9007199254740992'], 400],
		['Content-Length of 400 digits', ['Content-Length', '9'.repeat(400)], 400],
		['TE chunked', ['Transfer-Encoding', 'chunked'], chunked],
		['TE chunked, any case', ['transfer-encoding', 'CHUNKED'], chunked],
		['TE with empty list elements', ['Transfer-Encoding', ' , chunked ,'], 400],
		['TE "chunked,"', ['Transfer-Encoding', 'chunked,'], 400],
		['TE chunked and Content-Length', ['Transfer-Encoding', 'chunked', 'Content-Length', '5'], 400],
		['Content-Length and TE chunked', ['Content-Length', '5', 'Transfer-Encoding', 'chunked'], 400],
		['TE chunked and Content-Length 0', ['Transfer-Encoding', 'chunked', 'Content-Length', '0'], 400],
		['TE identity', ['Transfer-Encoding', 'identity'], 400],
		['TE gzip', ['Transfer-Encoding', 'gzip'], 400],
		['TE chunked, gzip', ['Transfer-Encoding', 'chunked, gzip'], 400],
		['TE chunked then a gzip field', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'gzip'], 400],
		['TE chunked, chunked', ['Transfer-Encoding', 'chunked, chunked'], 400],
		['TE chunked in two fields', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], 400],
		['empty TE', ['Transfer-Encoding', ''], 400],
		['TE chunked with a parameter', ['Transfer-Encoding', 'chunked;x=1'], 400],
		['TE "xchunked"', ['Transfer-Encoding', 'xchunked'], 400],
		['TE gzip, chunked', ['Transfer-Encoding', 'gzip, chunked'], 501],
		['TE gzip then a chunked field', ['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], 501],
		['TE identity, chunked', ['Transfer-Encoding', 'identity, chunked'], 501],
	];
	it('refuses any Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1), and takes Content-Length there', () => {
		for (const raw of [['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'gzip, chunked'], ['Content-Length', '5', 'transfer-encoding', 'chunked']]) {
			assertStatus(() => requestFraming(raw, '1.0'), 400, raw.join(': '));
		}
		assert.deepEqual(requestFraming(['Content-Length', '5'], '1.0'), length(5));
		assert.deepEqual(requestFraming(['Transfer-Encoding', 'chunked'], '1.1'), chunked);
	});

	for (const [what, raw, expected] of requests) {
		it(`request with ${what}: ${typeof expected === 'number' ? expected : expected.kind}`, () => {
			if (typeof expected === 'number') {
				assertStatus(() => requestFraming(raw), expected, what);
			} else {
				assert.deepEqual(requestFraming(raw), expected);
			}
		});
	}

	const responses: Array<[string, string[], number, string, Framing | 400]> = [
		['HEAD with Content-Length', ['Content-Length', '10'], 200, 'HEAD', none],
		['HEAD with TE chunked', ['Transfer-Encoding', 'chunked'], 200, 'HEAD', none],
		['204 with Content-Length', ['Content-Length', '10'], 204, 'GET', none],
		['304 with Content-Length', ['Content-Length', '100'], 304, 'GET', none],
		// Passed on, so checked like any response's: llhttp, at the client, refuses them all the same.
		['HEAD with an invalid Content-Length', ['Content-Length', '2-'], 200, 'HEAD', 400],
		['304 with an invalid Content-Length', ['Content-Length', 'x'], 304, 'GET', 400],
		['204 with two Content-Length fields', ['Content-Length', '5', 'Content-Length', '5'], 204, 'GET', 400],
		['HEAD with TE chunked and Content-Length', ['Transfer-Encoding', 'chunked', 'Content-Length', '5'], 200, 'HEAD', 400],
		['100', [], 100, 'POST', none],
		['101 Switching Protocols', ['Connection', 'Upgrade', 'Upgrade', 'websocket'], 101, 'GET', none],
		['103 Early Hints', ['Link', '</a.css>; rel=preload'], 103, 'GET', none],
		['2xx to CONNECT', ['Content-Length', '10'], 200, 'CONNECT', none],
		['407 to CONNECT', ['Content-Length', '10'], 407, 'CONNECT', length(10)],
		['Content-Length', ['Content-Length', '10'], 200, 'GET', length(10)],
		['Content-Length 0', ['content-length', '0'], 200, 'POST', none],
		['Content-Length "5, 5"', ['Content-Length', '5, 5'], 200, 'GET', 400],
		['two equal Content-Length fields', ['Content-Length', '5', 'content-length', '5'], 200, 'GET', 400],
		['Content-Length with inner OWS', ['Content-Length', '5 5'], 200, 'GET', 400],
		['Content-Length "5, 6"', ['Content-Length', '5, 6'], 200, 'GET', 400],
		['two differing Content-Length fields', ['Content-Length', '5', 'Content-Length', '6'], 200, 'GET', 400],
		['invalid Content-Length', ['Content-Length', 'abc'], 200, 'GET', 400],
		['TE chunked', ['Transfer-Encoding', 'chunked'], 200, 'GET', chunked],
		['TE gzip, chunked', ['Transfer-Encoding', 'gzip, chunked'], 200, 'GET', chunked],
		['TE gzip', ['Transfer-Encoding', 'gzip'], 200, 'GET', close],
		['TE identity', ['Transfer-Encoding', 'identity'], 200, 'GET', close],
		['TE chunked, gzip', ['Transfer-Encoding', 'chunked, gzip'], 200, 'GET', close],
		['TE chunked, chunked', ['Transfer-Encoding', 'chunked, chunked'], 200, 'GET', 400],
		['TE chunked next to Content-Length', ['Content-Length', '5', 'Transfer-Encoding', 'chunked'], 200, 'GET', 400],
		['TE chunked next to an invalid Content-Length', ['Content-Length', 'x', 'TRANSFER-ENCODING', 'Chunked'], 200, 'GET', 400],
		['TE gzip next to Content-Length', ['Transfer-Encoding', 'gzip', 'Content-Length', '5'], 200, 'GET', 400],
		['TE "chunked,"', ['Transfer-Encoding', 'chunked,'], 200, 'GET', 400],
		['no framing fields', ['Content-Type', 'text/plain'], 200, 'GET', close],
		['no framing fields, 404', [], 404, 'GET', close],
	];
	for (const [what, raw, status, method, expected] of responses) {
		it(`response with ${what}: ${typeof expected === 'number' ? expected : expected.kind}`, () => {
			if (typeof expected === 'number') {
				assertStatus(() => responseFraming(raw, status, method), expected, what);
			} else {
				assert.deepEqual(responseFraming(raw, status, method), expected);
			}
		});
	}
});

/** Feeds `pieces` to a new decoder; returns the payload, each push's result and whether it is done. */
function decode(pieces: readonly Buffer[]): { payload: string; results: number[]; done: boolean } {
	const parts: Buffer[] = [];
	const decoder = new ChunkedDecoder((data) => parts.push(Buffer.from(data)));
	const results = pieces.map((piece) => decoder.push(piece));
	return { payload: Buffer.concat(parts).toString('latin1'), results, done: decoder.done };
}

describe('proxy: HTTP/1 parser, chunked bodies', () => {
	const body = '4;name=value;flag\r\nWiki\r\n5;x="a;b"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n'
		+ '0;last\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Checksum:\tabc \r\n\r\n';
	const payload = 'Wikipedia in\r\n\r\nchunks.';
	const next = 'GET /next HTTP/1.1\r\nHost: x\r\n\r\n';
	const wire = Buffer.from(body + next, 'latin1');

	it('decodes all at once, with extensions and trailers, and returns where the next message starts', () => {
		assert.deepEqual(decode([wire]), { payload, results: [body.length], done: true });
	});

	it('decodes byte by byte into the same payload, done exactly at the last byte', () => {
		const parts: Buffer[] = [];
		const decoder = new ChunkedDecoder((data) => parts.push(Buffer.from(data)));
		for (let i = 0; i < body.length; i++) {
			assert.equal(decoder.done, false, `done before byte ${i}`);
			assert.equal(decoder.push(wire.subarray(i, i + 1)), 1);
		}
		assert.equal(decoder.done, true);
		assert.equal(Buffer.concat(parts).toString('latin1'), payload);
		// Once done it consumes nothing: the bytes belong to the next message.
		assert.equal(decoder.push(wire, body.length), body.length);
	});

	it('gives the same payload and end for every split of the input in two', () => {
		for (let cut = 0; cut <= wire.length; cut++) {
			const result = decode([wire.subarray(0, cut), wire.subarray(cut)]);
			assert.equal(result.payload, payload, `cut at ${cut}`);
			assert.equal(result.done, true, `cut at ${cut}`);
			if (cut < body.length) {
				assert.deepEqual(result.results, [cut, body.length - cut], `cut at ${cut}`);
			} else {
				assert.deepEqual(result.results, [body.length, 0], `cut at ${cut}`);
			}
		}
	});

	it('starts at offset and hands out views of the pushed buffer, not copies', () => {
		const request = 'POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n';
		const text = request + body + next;
		// Buffer.alloc, not Buffer.from: a buffer of its own, where a copy could not share the memory.
		const buffer = Buffer.alloc(text.length);
		buffer.write(text, 'latin1');
		const views: Buffer[] = [];
		const decoder = new ChunkedDecoder((data) => views.push(data));
		assert.equal(decoder.push(buffer, request.length), request.length + body.length);
		assert.ok(views.length >= 3);
		for (const view of views) { assert.equal(view.buffer, buffer.buffer); }
		assert.equal(Buffer.concat(views).toString('latin1'), payload);
	});

	it('accepts hex sizes in either case with leading zeros, and an empty body', () => {
		const data = 'x'.repeat(0xab);
		assert.deepEqual(decode([Buffer.from(`00aB\r\n${data}\r\n0000\r\n\r\n`)]).payload, data);
		const empty = decode([Buffer.from('0\r\n\r\nnext')]);
		assert.deepEqual(empty, { payload: '', results: [5], done: true });
	});

	it('waits, without error, on a size of 2^53 - 1 and when the input stops anywhere', () => {
		const decoder = new ChunkedDecoder(() => { });
		assert.equal(decoder.push(Buffer.from('1fffffffffffff\r\nabc')), 19);
		assert.equal(decoder.done, false);
		assert.deepEqual(decode([Buffer.from('5\r\nab')]), { payload: 'ab', results: [5], done: false });
	});

	const rejected: Array<[string, string | Buffer]> = [
		['a non-hex size', 'g\r\nabc\r\n0\r\n\r\n'],
		['an empty size', '\r\nabc\r\n0\r\n\r\n'],
		['a negative size', '-1\r\n'],
		['a 0x prefix', '0x5\r\nabcde\r\n'],
		['whitespace before the size', ' 5\r\nabcde\r\n'],
		['whitespace after the size without an extension', '5 \r\nabcde\r\n'],
		['17 hex digits', '00000000000000001\r\na\r\n'],
		['a size of 2^53', '20000000000000\r\n'],
		['a size far beyond 2^53', 'ffffffffffffffff\r\n'],
		['bare LF after the size', '3\nabc\r\n0\r\n\r\n'],
		['CR not followed by LF after the size', '3\rabc\r\n0\r\n\r\n'],
		['missing CRLF after the data', '3\r\nabcX\r\n0\r\n\r\n'],
		['data one byte longer than its size', '3\r\nabcd\n0\r\n\r\n'],
		['bare LF after the data', '3\r\nabc\n0\r\n\r\n'],
		['CR not followed by LF after the data', '3\r\nabc\rX'],
		['a control byte in an extension', '3;a\x01\r\nabc\r\n0\r\n\r\n'],
		['bare LF in an extension', '3;a\nabc\r\n0\r\n\r\n'],
		// RFC 9112 §7.1.1's grammar, as llhttp enforces it.
		['an empty extension', '2;\r\nab\r\n0\r\n\r\n'],
		['an empty extension after BWS', '2; \r\nab\r\n0\r\n\r\n'],
		// The BWS that §7.1.1 allows around ; and =: llhttp refuses it.
		['whitespace between the size and ;', '3 ;x\r\nabc\r\n0\r\n\r\n'],
		['a tab between the last size and ;', '3\r\nabc\r\n0\t;a\r\n\r\n'],
		['whitespace after ;', '3; a=b\r\nabc\r\n0\r\n\r\n'],
		['whitespace around =', '3;a = b\r\nabc\r\n0\r\n\r\n'],
		['whitespace after a quoted value', '2;a="" ;b\r\nab\r\n0\r\n\r\n'],
		['an empty extension between two', '2;a;;b\r\nab\r\n0\r\n\r\n'],
		['an extension without a name', '2;=b\r\nab\r\n0\r\n\r\n'],
		['an empty extension on the last chunk', '0;\r\n\r\n'],
		['a CR inside an unterminated quoted string', '2;a="x\r\nab\r\n0\r\n\r\n'],
		['a bare LF inside a quoted string', '2;a="x\ny"\r\nab\r\n0\r\n\r\n'],
		['a NUL inside a quoted string', '2;a="x\0y"\r\nab\r\n0\r\n\r\n'],
		['a CR escaped inside a quoted string', '2;a="x\\\r\nab\r\n0\r\n\r\n'],
		['a separator in an extension name', '2;a@b=c\r\nab\r\n0\r\n\r\n'],
		['a quoted extension name', '2;"a"=b\r\nab\r\n0\r\n\r\n'],
		['an empty extension value', '2;a=\r\nab\r\n0\r\n\r\n'],
		['a separator in a token value', '2;a=b@c\r\nab\r\n0\r\n\r\n'],
		['bytes after a quoted value', '2;a="b"c\r\nab\r\n0\r\n\r\n'],
		['whitespace before the CR after a name', '2;a \r\nab\r\n0\r\n\r\n'],
		['whitespace before the CR after a value', '2;a=b\t\r\nab\r\n0\r\n\r\n'],
		['two names without a semicolon', '2;a b\r\nab\r\n0\r\n\r\n'],
		['two values', '2;a=b=c\r\nab\r\n0\r\n\r\n'],
		['obs-text in an extension name', '2;\xe9=b\r\nab\r\n0\r\n\r\n'],
		['an oversized size line', `3;${'x'.repeat(16 * 1024)}\r\nabc\r\n0\r\n\r\n`],
		['extensions over 16 KiB in total', `${`1;${'x'.repeat(1000)}\r\na\r\n`.repeat(17)}0\r\n\r\n`],
		['a trailer with bare LF', '0\r\nX: y\n\r\n'],
		['an obs-folded trailer', '0\r\nX: y\r\n z\r\n\r\n'],
		['a trailer without a colon', '0\r\nX\r\n\r\n'],
		['a trailer with space before the colon', '0\r\nX : y\r\n\r\n'],
		['a NUL in a trailer value', '0\r\nX: a\0b\r\n\r\n'],
		// Framing fields in trailers (RFC 9110 §6.5.1), which llhttp refuses.
		['Content-Length in the trailer section', '3\r\nabc\r\n0\r\nContent-Length: 5\r\n\r\n'],
		['Transfer-Encoding in the trailer section, any case', '3\r\nabc\r\n0\r\nX: y\r\ntransfer-ENCODING: chunked\r\n\r\n'],
		['a trailer section over 16 KiB', `0\r\n${'X: y\r\n'.repeat(3000)}\r\n`],
		['a missing LF at the very end', '0\r\n\rX'],
		['LF only at the very end', '0\r\n\n'],
	];
	for (const [what, input] of rejected) {
		it(`rejects ${what} with 400, fed at once and byte by byte`, () => {
			const bytes = Buffer.from(input as string, 'latin1');
			assertStatus(() => decode([bytes]), 400, what);
			assertStatus(() => decode([...bytes].map((byte) => Buffer.from([byte]))), 400, `${what}, byte by byte`);
		});
	}

	it('accepts chunk extensions by RFC 9112 §7.1.1: token names, token or quoted values, quoted-pairs', () => {
		const accepted = [
			'2;a\r\n', '2;a=b\r\n', '2;a=b;c;d="e"\r\n', '2;a="";b\r\n',
			'2;a="x;y=z\\"q\\\\ \t\xe9"\r\n', '2;a="\\\xe9\\\t"\r\n', '2;!#$%&\'*+-.^_`|~09azAZ=!#$%&\'*+-.^_`|~09azAZ\r\n',
		];
		for (const line of accepted) {
			const wire = Buffer.from(`${line}ab\r\n0${line.slice(1)}\r\nnext`, 'latin1');
			assert.deepEqual(decode([wire]), { payload: 'ab', results: [wire.length - 4], done: true }, JSON.stringify(line));
			const byByte = decode([...wire.subarray(0, wire.length - 4)].map((byte) => Buffer.from([byte])));
			assert.deepEqual([byByte.payload, byByte.done], ['ab', true], `${JSON.stringify(line)}, byte by byte`);
		}
	});

	it('stays failed after an error', () => {
		const decoder = new ChunkedDecoder(() => { });
		assertStatus(() => decoder.push(Buffer.from('z')), 400, 'first');
		assertStatus(() => decoder.push(Buffer.from('0\r\n\r\n')), 400, 'after the error');
		assert.equal(decoder.done, false);
	});

	it('chunkHeader writes hex size lines that the decoder reads back', () => {
		assert.equal(chunkHeader(1), '1\r\n');
		assert.equal(chunkHeader(26), '1a\r\n');
		assert.equal(chunkHeader(0x1a2b), '1a2b\r\n');
		assert.equal(chunkHeader(0), '0\r\n', 'the last-chunk');
		for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
			assert.throws(() => chunkHeader(bad), RangeError, String(bad));
		}
		const sizes = [1, 15, 16, 255, 4096, 70000];
		const data = sizes.map((size, i) => Buffer.alloc(size, 0x61 + i));
		const encoded = Buffer.concat([
			...data.flatMap((chunk) => [Buffer.from(chunkHeader(chunk.length)), chunk, Buffer.from('\r\n')]),
			Buffer.from(chunkHeader(0) + '\r\n'),
		]);
		const result = decode([encoded]);
		assert.equal(result.done, true);
		assert.ok(Buffer.from(result.payload, 'latin1').equals(Buffer.concat(data)));
	});
});

describe('proxy: HTTP/1 parser, head end', () => {
	const text = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
	const whole = Buffer.from(text + 'GET /2 HTTP/1.1\r\n\r\n', 'latin1');

	it('finds the end of the first head, or -1', () => {
		assert.equal(findHeadEnd(whole, 0), text.length);
		assert.equal(findHeadEnd(whole, text.length), whole.length, 'the pipelined second head');
		assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'), 0), -1);
		assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\nHost: x\n\n'), 0), -1, 'bare LFs never end a head');
		assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\n\r\r\n'), 0), -1);
		assert.equal(findHeadEnd(whole, -3), text.length, 'a negative start is the buffer start');
		assert.equal(findHeadEnd(whole, whole.length + 10), -1);
		assert.equal(findHeadEnd(Buffer.alloc(0), -3), -1);
	});

	it('finds the end across incremental growth, wherever the pushes split CRLFCRLF', () => {
		for (let step = 1; step <= 5; step++) {
			let buffer = Buffer.alloc(0);
			let end = -1;
			for (let at = 0; end < 0 && at < whole.length; at += step) {
				const from = buffer.length - 3;
				buffer = Buffer.concat([buffer, whole.subarray(at, at + step)]);
				end = findHeadEnd(buffer, from);
			}
			assert.equal(end, text.length, `pushes of ${step} bytes`);
		}
		for (let cut = 1; cut < text.length; cut++) {
			const first = whole.subarray(0, cut);
			const before = findHeadEnd(first, -3);
			const after = findHeadEnd(whole.subarray(0, text.length + 5), first.length - 3);
			assert.equal(before === -1 ? after : before, text.length, `cut at ${cut}`);
		}
	});

	it('finds a bare CR or LF in an incomplete head, from where the last check stopped', () => {
		const bare = (text: string, start = 0, from = 0): boolean => hasBareLineBreak(Buffer.from(text, 'latin1'), start, from);
		assert.equal(bare('GET / HTTP/1.1\r\nHost: x\r\nA: b'), false);
		assert.equal(bare('GET / HTTP/1.1\r\nHost: x\r'), false, 'a CR at the end may be followed by its LF');
		assert.equal(bare('GET / HTTP/1.1\nHost: x'), true, 'bare LF');
		assert.equal(bare('GET / HTTP/1.1\r\nHost: x\r\n\n'), true, 'a bare LF after a CRLF');
		assert.equal(bare('GET / HTTP/1.1\rHost: x'), true, 'bare CR');
		assert.equal(bare('\nGET /'), true, 'an LF at the start has no CR before it');
		assert.equal(bare('x\r\nGET /', 2), true, 'nor at `start`, whatever is before it');
		assert.equal(bare('\r\nGET /', 0, 1), false, 'the CR before `from` is looked at for an LF at `from`');
		assert.equal(bare('GET /\nA', 0, 6), false, 'bytes before `from` were checked already');
		assert.equal(bare('GET /\rA', 0, 5), true, 'a CR at `from`, followed now');
	});

	it('takes pipelined requests apart with the head parser, framing and chunked decoder', () => {
		const first = 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
		const second = 'PUT /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi';
		const buffer = Buffer.from(first + second, 'latin1');
		const end = findHeadEnd(buffer, 0);
		const request = parseRequestHead(buffer.toString('latin1', 0, end - 4));
		assert.equal(request.target, '/a');
		assert.deepEqual(requestFraming(request.rawHeaders), { kind: 'chunked' });
		const parts: Buffer[] = [];
		const next = new ChunkedDecoder((data) => parts.push(data)).push(buffer, end);
		assert.equal(Buffer.concat(parts).toString(), 'abc');
		assert.equal(next, first.length);
		const secondEnd = findHeadEnd(buffer, next);
		const request2 = parseRequestHead(buffer.toString('latin1', next, secondEnd - 4));
		assert.equal(request2.method, 'PUT');
		assert.deepEqual(requestFraming(request2.rawHeaders), { kind: 'length', length: 2 });
		assert.equal(buffer.toString('latin1', secondEnd, secondEnd + 2), 'hi');
	});
});
