/*
 * Cases for the differential fuzzer: valid HTTP/1.x requests and responses built as a structure
 * (start line, field lines with their separators and line ends, a raw or chunked body with chunk
 * extensions and trailers), mutated where parsers are known to disagree, then serialized to bytes.
 * All strings here are byte strings (latin1: one char per byte).
 */
import { caseRandom, type Random } from './prng';

/** Bytes a client sends to the proxy on one TLS connection: one or more (pipelined) requests. */
export interface RequestCase {
	readonly direction: 'request';
	readonly name: string;
	readonly bytes: Buffer;
	/** What the generator did, for failure messages. */
	readonly notes?: readonly string[];
}

/** Bytes the dev server answers a `method` request with, then closes the connection. */
export interface ResponseCase {
	readonly direction: 'response';
	readonly name: string;
	/** Method of the request the client sends (GET or HEAD): it decides whether a body follows. */
	readonly method: string;
	readonly bytes: Buffer;
	readonly notes?: readonly string[];
}

export type Case = RequestCase | ResponseCase;

/** A latin1 byte string as a Buffer. */
export function bytes(text: string): Buffer {
	return Buffer.from(text, 'latin1');
}

interface Field { name: string; sep: string; value: string; eol: string }
interface Chunk { size: string; ext: string; eol: string; data: string; end: string }
interface Chunked { kind: 'chunked'; chunks: Chunk[]; last: { size: string; ext: string; eol: string }; trailers: Field[]; end: string }
interface Raw { kind: 'raw'; data: string }

interface Message {
	readonly request: boolean;
	/** Bytes before the start line (empty lines, which a server ignores before a request). */
	lead: string;
	/** request: [method, target, version]; response: [version, status, reason]. */
	parts: [string, string, string];
	/** Between the parts of the start line (a single SP each when valid). */
	spaces: [string, string];
	startEol: string;
	fields: Field[];
	headEnd: string;
	body: Raw | Chunked;
	/** The payload, before any mutation: what a correct parser delivers. */
	data: string;
	tail: string;
}

const CRLF = '\r\n';

function field(name: string, value: string): Field {
	return { name, sep: ': ', value, eol: CRLF };
}

function serializeFields(fields: readonly Field[]): string {
	let s = '';
	for (const f of fields) { s += f.name + f.sep + f.value + f.eol; }
	return s;
}

function headText(m: Message): string {
	const [a, b, c] = m.parts;
	// A response without a reason phrase may drop the second space too: that is spaces[1] === ''.
	return m.lead + a + m.spaces[0] + b + m.spaces[1] + c + m.startEol + serializeFields(m.fields) + m.headEnd;
}

function bodyText(m: Message): string {
	const body = m.body;
	if (body.kind === 'raw') { return body.data; }
	let s = '';
	for (const chunk of body.chunks) { s += chunk.size + chunk.ext + chunk.eol + chunk.data + chunk.end; }
	return s + body.last.size + body.last.ext + body.last.eol + serializeFields(body.trailers) + body.end;
}

function serialize(m: Message): string {
	return headText(m) + bodyText(m) + m.tail;
}

// ---------------------------------------------------------------------------------------------
// Byte classes

const CONTROLS = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('');
const SEPARATORS = '()<>@,;:\\"/[]?={} \t';
const TCHAR_SPECIALS = '!#$%&\'*+-.^_`|~';
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const OBS_TEXT = Array.from({ length: 128 }, (_, i) => String.fromCharCode(0x80 + i)).join('');

/** One byte, drawn so that every class of 0x00-0xFF comes up often. */
function anyByte(r: Random): string {
	return r.weighted<() => string>([
		[3, () => r.pick(['\r', '\n', '\t', '\0', '\x0b', '\x0c', '\x1b', '\x7f'])],
		[2, () => CONTROLS[r.int(32)]],
		[2, () => SEPARATORS[r.int(SEPARATORS.length)]],
		[2, () => TCHAR_SPECIALS[r.int(TCHAR_SPECIALS.length)]],
		[2, () => ALNUM[r.int(ALNUM.length)]],
		[2, () => OBS_TEXT[r.int(128)]],
		[1, () => '\xff'],
		[1, () => String.fromCharCode(r.int(256))],
	])();
}

/** A few bytes that break lines or values: CRLF inside a value, bare CR/LF and the like. */
function lineBreaker(r: Random): string {
	return r.pick(['\r\n', '\r', '\n', '\r\r\n', '\n\r', '\r\n ', '\r\n\t', '\0', '\r\nX-Injected: 1']);
}

function insertAt(s: string, at: number, piece: string, replace: boolean): string {
	return s.slice(0, at) + piece + s.slice(replace ? at + 1 : at);
}

// ---------------------------------------------------------------------------------------------
// Valid messages

const BODY_ALPHABET = `${ALNUM} \r\n\t{}":,[]\0\xff\x80-_`;

function chunksOf(r: Random, data: string): Chunk[] {
	const chunks: Chunk[] = [];
	let rest = data;
	while (rest.length > 0) {
		const take = rest.length <= 3 || r.chance(0.5) ? rest.length : r.range(1, rest.length - 1);
		chunks.push({ size: take.toString(16), ext: '', eol: CRLF, data: rest.slice(0, take), end: CRLF });
		rest = rest.slice(take);
	}
	return chunks;
}

function chunkedBody(r: Random, data: string): Chunked {
	return { kind: 'chunked', chunks: chunksOf(r, data), last: { size: '0', ext: '', eol: CRLF }, trailers: [], end: CRLF };
}

/** Sets the body and its framing fields: Content-Length, chunked, or (responses) neither. */
function frame(r: Random, m: Message, kind: 'length' | 'chunked' | 'close' | 'none'): void {
	m.fields = m.fields.filter((f) => !/^(content-length|transfer-encoding)$/i.test(f.name));
	if (kind === 'length') {
		m.fields.push(field(r.pick(['Content-Length', 'content-length', 'Content-length']), String(m.data.length)));
		m.body = { kind: 'raw', data: m.data };
	} else if (kind === 'chunked') {
		m.fields.push(field(r.pick(['Transfer-Encoding', 'transfer-encoding']), r.pick(['chunked', 'chunked', 'Chunked'])));
		m.body = chunkedBody(r, m.data);
	} else {
		if (kind === 'none') { m.data = ''; }
		m.body = { kind: 'raw', data: m.data };
	}
}

const METHODS_WITH_BODY = ['POST', 'PUT', 'PATCH'];
const ODD_METHODS = ['M-SEARCH', 'PROPFIND', 'MKCOL', 'get', 'Get', 'PURGE', 'LINK', 'QUERY', 'X_CUSTOM', 'A', 'CONNECT', 'PRI', 'TRACE', 'G!T', 'SOURCE', 'REPORT', 'ACL', 'BIND', 'SEARCH', 'UNLINK'];
const TARGETS = ['/', '/', '/index.html', '/api/items?id=1&x=%20y', '/src/main.ts?t=123', '/a/b/../c', '/%2e%2e/x', '/x#frag', '/?q="quoted"', '*', 'http://localhost/abs', 'localhost:443', '/@vite/client', '//double'];
const REQUEST_FIELDS: ReadonlyArray<readonly [string, string]> = [
	['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) fuzz/1.0'], ['Accept', '*/*'], ['Accept', 'text/html,application/xhtml+xml;q=0.9'],
	['Accept-Encoding', 'gzip, deflate, br'], ['Accept-Language', 'en-US,en;q=0.5'], ['Cookie', 'a=b; session="x y"'],
	['Cache-Control', 'no-cache'], ['Referer', 'https://localhost/'], ['Authorization', 'Bearer abc.def'], ['X-Request-Id', '7f1c'],
	['Content-Type', 'application/json'], ['If-None-Match', 'W/"123"'], ['Origin', 'https://localhost'], ['Sec-Fetch-Mode', 'cors'],
	['Connection', 'keep-alive'], ['Pragma', 'no-cache'], ['DNT', '1'], ['X-Empty', ''],
];

function baseRequest(r: Random): Message {
	const method = r.weighted<string>([[30, 'GET'], [25, 'POST'], [5, 'PUT'], [3, 'DELETE'], [3, 'OPTIONS'], [3, 'PATCH'], [4, 'HEAD'], [5, r.pick(ODD_METHODS)]]);
	const version = r.weighted<string>([[85, 'HTTP/1.1'], [15, 'HTTP/1.0']]);
	const fields: Field[] = [];
	if (r.chance(0.96)) { fields.push(field('Host', r.weighted([[8, 'localhost'], [1, 'localhost:8443'], [1, '127.0.0.1']]))); }
	for (let n = r.int(6); n > 0; n--) { fields.push(field(...r.pick(REQUEST_FIELDS))); }
	if (version === 'HTTP/1.0' && r.chance(0.5)) { fields.push(field('Connection', 'keep-alive')); }
	const m: Message = {
		request: true, lead: '', parts: [method, r.pick(TARGETS), version], spaces: [' ', ' '], startEol: CRLF, fields, headEnd: CRLF,
		body: { kind: 'raw', data: '' }, data: '', tail: '',
	};
	if (METHODS_WITH_BODY.includes(method) || r.chance(0.15)) {
		m.data = r.string(r.weighted([[6, r.range(0, 40)], [1, r.range(100, 3000)]]), BODY_ALPHABET);
		frame(r, m, r.chance(0.6) || version === 'HTTP/1.0' ? 'length' : 'chunked');
	}
	return m;
}

const STATUSES: ReadonlyArray<readonly [string, string]> = [
	['200', 'OK'], ['200', 'OK'], ['200', 'OK'], ['201', 'Created'], ['204', 'No Content'], ['206', 'Partial Content'], ['301', 'Moved Permanently'],
	['302', 'Found'], ['304', 'Not Modified'], ['400', 'Bad Request'], ['404', 'Not Found'], ['500', 'Internal Server Error'], ['503', 'Service Unavailable'],
];
const RESPONSE_FIELDS: ReadonlyArray<readonly [string, string]> = [
	['Content-Type', 'text/html; charset=utf-8'], ['Content-Type', 'application/javascript'], ['Date', 'Thu, 03 Dec 2026 12:00:00 GMT'],
	['Server', 'fuzz-dev/1.0'], ['Cache-Control', 'no-cache'], ['ETag', 'W/"5-abc"'], ['Set-Cookie', 'sid=1; Path=/; HttpOnly'],
	['Set-Cookie', 'theme=dark'], ['Vary', 'Origin'], ['X-Powered-By', 'Express'], ['Access-Control-Allow-Origin', '*'], ['Connection', 'keep-alive'],
	['Keep-Alive', 'timeout=5'], ['X-Empty', ''],
];

function baseResponse(r: Random, head: boolean): Message {
	const [status, reason] = r.pick(STATUSES);
	const fields: Field[] = [];
	for (let n = r.int(5); n > 0; n--) { fields.push(field(...r.pick(RESPONSE_FIELDS))); }
	const m: Message = {
		request: false, lead: '', parts: [r.weighted<string>([[88, 'HTTP/1.1'], [12, 'HTTP/1.0']]), status, reason], spaces: [' ', ' '], startEol: CRLF,
		fields, headEnd: CRLF, body: { kind: 'raw', data: '' }, data: '', tail: '',
	};
	m.data = r.string(r.weighted([[6, r.range(0, 60)], [1, r.range(100, 4000)]]), BODY_ALPHABET);
	frame(r, m, r.weighted<'length' | 'chunked' | 'close'>([[50, 'length'], [35, 'chunked'], [15, 'close']]));
	if (head) { headless(m); }
	return m;
}

/** A response to HEAD: the framing fields stay, the body goes. */
function headless(m: Message): void {
	m.data = '';
	m.body = { kind: 'raw', data: '' };
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Mutation = (r: Random, m: Message) => string;

function someField(r: Random, m: Message): Field {
	if (m.fields.length === 0 || r.chance(0.2)) {
		const f = field(r.pick(['X-Fuzz', 'Accept', 'X-A', 'Cookie']), r.pick(['value', 'a b', '', '1']));
		m.fields.splice(r.int(m.fields.length + 1), 0, f);
		return f;
	}
	return r.pick(m.fields);
}

/** Every line end of the message, as [object, key] slots. */
function lineEnds(m: Message): Array<[Record<string, string>, string]> {
	const slots: Array<[Record<string, string>, string]> = [[m as unknown as Record<string, string>, 'startEol'], [m as unknown as Record<string, string>, 'headEnd']];
	for (const f of m.fields) { slots.push([f as unknown as Record<string, string>, 'eol']); }
	if (m.body.kind === 'chunked') {
		for (const c of m.body.chunks) { slots.push([c as unknown as Record<string, string>, 'eol'], [c as unknown as Record<string, string>, 'end']); }
		slots.push([m.body.last as unknown as Record<string, string>, 'eol'], [m.body as unknown as Record<string, string>, 'end']);
		for (const f of m.body.trailers) { slots.push([f as unknown as Record<string, string>, 'eol']); }
	}
	return slots;
}

function ensureChunked(r: Random, m: Message): Chunked {
	if (m.body.kind !== 'chunked') {
		if (m.data === '') { m.data = r.string(r.range(1, 20), ALNUM); }
		frame(r, m, 'chunked');
	}
	return m.body as Chunked;
}

const EXTENSIONS = [
	'', ';', ';a', ';a=b', ';a=b;c=d', ';name="quoted"', ';a="q\\"x"', ';a="x\\\\"', ';a="unterminated', ';a="x\ry"', ';a="x\ny"', ' ;a=b', ';a = b',
	'; a=b', ';a=', ';=b', ';a=b c', ';a=\x80', ';a="\x80"', ';a="\\\x7f"', ';a="\t"', ';a=b,c', ';\0', ';a\r', '\t;a', ';a;', ';;', ';a=b=c',
	';a="b"c', ';a=""', `;${'x'.repeat(300)}`, ';a="\\', ';a@b',
];

const SIZE_VARIANTS: ReadonlyArray<(hex: string) => string> = [
	(h) => h.toUpperCase(), (h) => h.toLowerCase(), (h) => `000${h}`, (h) => `${'0'.repeat(16)}${h}`, (h) => `0x${h}`, (h) => `0X${h}`,
	(h) => `${h} `, (h) => ` ${h}`, (h) => `${h}\t`, (h) => `+${h}`, (h) => `-${h}`, () => '', () => 'f'.repeat(17), () => '1' + '0'.repeat(16),
	() => 'ffffffffffffffff', (h) => `${h}g`, (h) => `${h} ;x`, (h) => (parseInt(h, 16) + 1).toString(16), (h) => Math.max(0, parseInt(h, 16) - 1).toString(16),
	(h) => `${h}\r`, (h) => `${h}\n`, () => '0',
];

const CL_VARIANTS: ReadonlyArray<(n: number) => string> = [
	(n) => `${n}, ${n}`, (n) => `${n},${n}`, (n) => `${n}, ${n + 1}`, (n) => `+${n}`, () => '-1', (n) => ` ${n}`, (n) => `${n} `, (n) => `0${n}`,
	(n) => n.toString(16) + 'h', () => '', (n) => `${n}\0`, () => '99999999999999999999', (n) => `00${n}`, (n) => `${n}.0`, (n) => `${n} ${n}`,
	(n) => `0x${n.toString(16)}`, (n) => `${n + 1}`, (n) => `${Math.max(0, n - 1)}`, (n) => `${n + r3(n)}`,
];

function r3(n: number): number {
	return (n % 3) + 1;
}

const TE_VALUES = [
	'chunked', 'Chunked', 'CHUNKED', ' chunked', 'chunked ', 'gzip, chunked', 'chunked, gzip', 'identity', 'identity, chunked', 'chunked;q=1', 'chunked,',
	',chunked', '\tchunked', 'chunked, chunked', 'x-chunked', 'chunk', 'deflate', '', 'chunked\0', 'gzip', 'chunked , identity', 'compress, chunked',
	'chunked\x0b',
];

const framingMutations: Mutation[] = [
	(r, m) => {
		const n = m.body.kind === 'raw' ? m.body.data.length : m.data.length;
		if (m.body.kind !== 'raw') { frame(r, m, 'length'); }
		const f = field('Content-Length', String(n));
		m.fields.splice(r.int(m.fields.length + 1), 0, f);
		return 'duplicate Content-Length field';
	},
	(r, m) => {
		if (m.body.kind !== 'raw' || !m.fields.some((f) => /^content-length$/i.test(f.name))) {
			if (m.data === '') { m.data = r.string(r.range(1, 20), ALNUM); }
			frame(r, m, 'length');
		}
		const f = m.fields.find((x) => /^content-length$/i.test(x.name)) ?? field('Content-Length', '0');
		if (!m.fields.includes(f)) { m.fields.push(f); }
		const variant = r.pick(CL_VARIANTS);
		f.value = variant(m.data.length);
		return `Content-Length: ${JSON.stringify(f.value)}`;
	},
	(r, m) => {
		ensureChunked(r, m);
		let f = m.fields.find((x) => /^transfer-encoding$/i.test(x.name));
		if (f === undefined) {
			// Its name was mutated away: a chunked body needs one.
			f = field('Transfer-Encoding', 'chunked');
			m.fields.push(f);
		}
		f.value = r.pick(TE_VALUES);
		return `Transfer-Encoding: ${JSON.stringify(f.value)}`;
	},
	(r, m) => {
		ensureChunked(r, m);
		m.fields.splice(r.int(m.fields.length + 1), 0, field('Transfer-Encoding', r.pick(['gzip', 'chunked', 'identity', ''])));
		return 'second Transfer-Encoding field';
	},
	(r, m) => {
		ensureChunked(r, m);
		m.fields.splice(r.int(m.fields.length + 1), 0, field('Content-Length', String(r.pick([0, m.data.length, bodyText(m).length, 3]))));
		return 'Content-Length next to Transfer-Encoding';
	},
	(r, m) => {
		m.fields = m.fields.filter((f) => !/^(content-length|transfer-encoding)$/i.test(f.name));
		if (m.body.kind === 'raw' && m.body.data === '') { m.body.data = r.string(r.range(1, 10), ALNUM); }
		return 'framing fields removed, body bytes kept';
	},
];

const mutations: ReadonlyArray<readonly [number, string, Mutation]> = [
	[6, 'eol', (r, m) => {
		const [slot, key] = r.pick(lineEnds(m));
		slot[key] = r.pick(['\n', '\r', '\r\r\n', '\n\r', '', ' \r\n', '\r\n ', '\n\n', '\r\n\r\n', '\r\0\n']);
		return `line end ${key} -> ${JSON.stringify(slot[key])}`;
	}],
	[6, 'name-byte', (r, m) => {
		const f = someField(r, m);
		const at = r.int(f.name.length + 1);
		const piece = anyByte(r);
		const replace = at < f.name.length && r.chance(0.5);
		f.name = insertAt(f.name, at, piece, replace);
		return `header name byte ${JSON.stringify(piece)}`;
	}],
	[6, 'value-byte', (r, m) => {
		const f = someField(r, m);
		const piece = r.chance(0.3) ? lineBreaker(r) : anyByte(r);
		const at = r.int(f.value.length + 1);
		f.value = insertAt(f.value, at, piece, at < f.value.length && r.chance(0.3));
		return `header value byte ${JSON.stringify(piece)}`;
	}],
	[4, 'separator', (r, m) => {
		const f = someField(r, m);
		f.sep = r.pick([':', ': ', ' :', ' : ', '\t:', ':\t', ':  ', '::', ': \t', '\x0b:', ':\x0c', ':\r\n ', ': \xa0']);
		return `separator ${JSON.stringify(f.sep)}`;
	}],
	[3, 'obs-fold', (r, m) => {
		if (r.chance(0.5)) {
			const f = someField(r, m);
			f.value += r.pick(['\r\n ', '\r\n\t', '\r\n  ']) + 'folded';
		} else {
			m.fields.splice(r.int(m.fields.length + 1), 0, { name: r.pick([' X-Lead', '\tX-Lead', ' ']), sep: ': ', value: 'v', eol: CRLF });
		}
		return 'obs-fold';
	}],
	[6, 'chunk-size', (r, m) => {
		const body = ensureChunked(r, m);
		const variant = r.pick(SIZE_VARIANTS);
		if (body.chunks.length > 0 && r.chance(0.8)) {
			const chunk = r.pick(body.chunks);
			chunk.size = variant(chunk.size);
			return `chunk size ${JSON.stringify(chunk.size)}`;
		}
		body.last.size = variant(body.last.size);
		return `last chunk size ${JSON.stringify(body.last.size)}`;
	}],
	[6, 'chunk-ext', (r, m) => {
		const body = ensureChunked(r, m);
		const ext = r.pick(EXTENSIONS);
		if (body.chunks.length > 0 && r.chance(0.7)) { r.pick(body.chunks).ext = ext; } else { body.last.ext = ext; }
		return `chunk extension ${JSON.stringify(ext)}`;
	}],
	[8, 'framing', (r, m) => r.pick(framingMutations)(r, m)],
	[3, 'trailers', (r, m) => {
		const body = ensureChunked(r, m);
		const f = r.weighted<Field>([
			[4, field('X-Trailer', 'ok')], [1, field('Content-Length', '5')], [1, field('Transfer-Encoding', 'chunked')], [1, field('Host', 'evil')],
			[2, field('X-T' + anyByte(r), 'v')], [2, field('X-T', 'v' + lineBreaker(r) + 'w')], [1, { name: ' X-Fold', sep: ': ', value: 'v', eol: CRLF }],
			[1, { name: 'X-T', sep: ' : ', value: 'v', eol: CRLF }], [1, { name: 'NoColon', sep: '', value: '', eol: CRLF }],
		]);
		body.trailers.push(f);
		if (r.chance(0.2)) { m.fields.push(field('Trailer', f.name)); }
		return `trailer ${JSON.stringify(f.name + f.sep + f.value)}`;
	}],
	[3, 'version', (r, m) => {
		const index = m.request ? 2 : 0;
		m.parts[index] = r.pick(['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'http/1.1', 'HTTP/11', 'HTTP/1.01', 'HTTP/9.9', 'HTTP/1.1 ', 'HTTP/3', 'HTTP /1.1', 'HTTP/1.']);
		return `version ${JSON.stringify(m.parts[index])}`;
	}],
	[4, 'start-line', (r, m) => {
		if (m.request) {
			const which = r.int(4);
			if (which === 0) { m.parts[0] = r.chance(0.5) ? r.pick(ODD_METHODS) : insertAt(m.parts[0], r.int(m.parts[0].length + 1), anyByte(r), false); }
			if (which === 1) { m.parts[1] = insertAt(m.parts[1], r.int(m.parts[1].length + 1), anyByte(r), r.chance(0.3)); }
			if (which === 2) { m.spaces[r.int(2)] = r.pick(['  ', '\t', '', ' \t', '\x0b', '\xa0']); }
			if (which === 3) { m.parts[1] = r.pick(['', '*', 'localhost:443', 'http://a/b', '/' + 'a'.repeat(r.range(100, 9000)), '/\x7f', '/\x80\xff', '/a b', '/a\0']); }
		} else {
			const which = r.int(3);
			if (which === 0) { m.parts[1] = r.pick(['100', '101', '102', '103', '199', '099', '1000', '20', '2O0', '600', '999', '000', ' 200', '2000', '-200', '200 ']); }
			if (which === 1) { m.parts[2] = insertAt(m.parts[2], r.int(m.parts[2].length + 1), anyByte(r), r.chance(0.3)); }
			if (which === 2) { m.spaces[r.int(2)] = r.pick(['  ', '\t', '', ' \t']); }
		}
		return `start line ${JSON.stringify(m.parts.join(' '))} spaces ${JSON.stringify(m.spaces)}`;
	}],
	[3, 'host', (r, m) => {
		const which = r.int(4);
		if (which === 0) { m.fields.splice(r.int(m.fields.length + 1), 0, field(r.pick(['Host', 'host', 'HOST']), r.pick(['localhost', 'other.test', '']))); }
		if (which === 1) { m.fields = m.fields.filter((f) => f.name.toLowerCase() !== 'host'); }
		if (which === 2) { someField(r, m).name = r.pick(['host', 'Host ', 'Ho st', 'X-Host']); }
		if (which === 3) { m.fields.unshift(field('Host', r.pick(['', 'a b', 'a@b', '[::1]:443', 'localhost:99999', 'localhost/x', 'l\xf6calhost']))); }
		return `host mutation ${which}`;
	}],
	[3, 'connection', (r, m) => {
		const choice = r.int(5);
		if (choice === 0) { m.fields.push(field('Connection', r.pick(['close', 'Close', 'keep-alive', 'close, keep-alive', 'x-foo', 'keep-alive, x-foo']))); }
		if (choice === 1) { m.fields.push(field('Connection', 'x-foo'), field('X-Foo', 'bar')); }
		if (choice === 2) { m.fields.push(field('Keep-Alive', r.pick(['timeout=1', 'timeout=0', 'max=1']))); }
		if (choice === 3) { m.fields.push(field('Proxy-Connection', 'keep-alive')); }
		if (choice === 4 && m.request) { m.fields.push(field('Expect', '100-continue')); }
		return `connection fields ${choice}`;
	}],
	[2, 'lead', (r, m) => {
		m.lead = r.pick(['\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', '\0']);
		return `bytes before start line ${JSON.stringify(m.lead)}`;
	}],
	[2, 'empty-name', (r, m) => {
		m.fields.splice(r.int(m.fields.length + 1), 0, r.pick([
			{ name: '', sep: ': ', value: 'x', eol: CRLF }, { name: 'NoColon', sep: '', value: '', eol: CRLF }, { name: 'X Y', sep: ': ', value: 'z', eol: CRLF },
			{ name: 'X-A', sep: ':', value: ':::', eol: CRLF },
		]));
		return 'odd field line';
	}],
	[2, 'many-fields', (r, m) => {
		for (let n = r.range(30, 400); n > 0; n--) { m.fields.push(field(`X-F${n}`, r.string(r.range(0, 30), ALNUM))); }
		return 'many header fields';
	}],
	[2, 'tail', (r, m) => {
		m.tail = r.pick(['garbage', '\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', '0\r\n\r\n', 'GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n', '\0']);
		return `bytes after the message ${JSON.stringify(m.tail)}`;
	}],
];

/** Pads the head with one field so that it ends `delta` bytes from the 16 KiB head limit. */
function nearLimit(r: Random, m: Message): string {
	const delta = r.weighted<number>([[6, -r.range(0, 300)], [2, r.range(1, 60)], [1, -r.range(300, 1000)]]);
	const pad = field(r.pick(['X-Big', 'Cookie', 'X-Pad']), '');
	m.fields.splice(r.int(m.fields.length + 1), 0, pad);
	const current = headText(m).length - m.lead.length;
	pad.value = 'v'.repeat(Math.max(0, 16 * 1024 + delta - current));
	return `head padded to 16 KiB ${delta >= 0 ? '+' : ''}${delta}`;
}

function mutate(r: Random, m: Message, notes: string[]): void {
	const count = r.weighted<number>([[12, 0], [40, 1], [28, 2], [14, 3], [6, r.range(4, 7)]]);
	const table = mutations.map(([weight, , fn]) => [weight, fn] as const);
	for (let i = 0; i < count; i++) { notes.push(r.weighted(table)(r, m)); }
	// Last, so that it measures what the other mutations left.
	if (r.chance(0.05)) { notes.push(nearLimit(r, m)); }
}

/** Random byte edits of a whole serialized case, rarely: whatever the structure cannot express. */
function byteEdit(r: Random, text: string, notes: string[]): string {
	if (!r.chance(0.04) || text.length === 0) { return text; }
	const at = r.int(text.length);
	const op = r.int(3);
	notes.push(`byte edit ${['insert', 'replace', 'delete'][op]} at ${at}`);
	if (op === 2) { return text.slice(0, at) + text.slice(at + 1); }
	return insertAt(text, at, anyByte(r), op === 1);
}

export function generateRequestCase(seed: number, index: number): RequestCase {
	const r = caseRandom(seed, index);
	const notes: string[] = [];
	const count = r.weighted<number>([[65, 1], [25, 2], [10, 3]]);
	let text = '';
	for (let i = 0; i < count; i++) {
		const m = baseRequest(r);
		if (i > 0) { notes.push(`-- message ${i + 1}`); }
		mutate(r, m, notes);
		text += serialize(m);
	}
	text = byteEdit(r, text, notes);
	return { direction: 'request', name: `seed ${seed} case ${index}`, bytes: bytes(text), notes };
}

export function generateResponseCase(seed: number, index: number): ResponseCase {
	const r = caseRandom(seed, index);
	const notes: string[] = [];
	const method = r.chance(0.15) ? 'HEAD' : 'GET';
	let text = '';
	if (r.chance(0.12)) {
		text += r.pick(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 'HTTP/1.1 102 Processing\r\n\r\n']);
		notes.push('interim response first');
	}
	const m = baseResponse(r, method === 'HEAD');
	mutate(r, m, notes);
	text += serialize(m);
	text = byteEdit(r, text, notes);
	return { direction: 'response', name: `seed ${seed} case ${index}`, method, bytes: bytes(text), notes };
}

/** Case `index` of run `seed`: two request cases for every response case. */
export function generateCase(seed: number, index: number): Case {
	return index % 3 === 2 ? generateResponseCase(seed, index) : generateRequestCase(seed, index);
}
