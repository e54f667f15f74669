/*
 * A strict HTTP/1.1 parser for the proxy's hot path: message heads (RFC 9112 §2-5), body framing
 * (§6) and chunked bodies (§7.1). It sits between a browser and an arbitrary dev server, so wherever
 * two parsers could disagree about where a message ends (request smuggling, response splitting) it
 * rejects rather than guesses, as Node's llhttp does without its lenient flags: CRLF only, no
 * obs-fold, no whitespace before the colon, no Content-Length next to Transfer-Encoding in requests,
 * one Content-Length and no list in it, chunk extensions only as RFC 9112 §7.1.1 spells them, no PRI
 * as a method (the HTTP/2 preface's). Where llhttp is laxer than the RFC (Transfer-Encoding in HTTP/1.0,
 * which the proxy would forward as HTTP/1.1 chunked) the RFC wins.
 *
 * Speed: a head is copied once into a scratch buffer and validated by byte loops over it (typed-array
 * reads cost about half of String#charCodeAt), one pass per line that also finds the line's end; the
 * output strings are slices of the head. A request costs those strings and one array; no regexes,
 * no split(). (Measured: a 12-header Chrome request head parses about as fast as Node's llhttp binding
 * takes it in.)
 */

/** Largest request or response head accepted (request line/status line + headers + blank line), like Node's default maxHeaderSize. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** Bytes of chunk extensions accepted over a whole chunked body (Node's limit since CVE-2024-22019). */
export const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;

/** Bytes of the trailer section accepted (field lines with their CRLFs, without the final CRLF). */
export const MAX_TRAILER_BYTES = MAX_HEAD_BYTES;

/** Hex digits in a chunk-size: enough for any 64-bit size; more can only be zero padding. */
const MAX_CHUNK_SIZE_DIGITS = 16;

/** A malformed message. `status` is what a server answers: 400 bad syntax/framing, 431 head too large, 501 unsupported transfer coding, 505 unsupported version. */
export class HttpParseError extends Error {
	constructor(message: string, readonly status: 400 | 431 | 501 | 505) {
		super(message);
		this.name = 'HttpParseError';
	}
}

/** A parsed request head. */
export interface RequestHead {
	readonly method: string;
	/** request-target exactly as sent (origin-form path?query, absolute-form, authority-form or '*'). */
	readonly target: string;
	readonly httpVersion: '1.0' | '1.1';
	/** Flat [name, value, name, value, …] in wire order, names with their case as sent, values with leading/trailing SP/HTAB removed. */
	readonly rawHeaders: string[];
	/** The latin1 text this head was parsed from (no final empty line): what capture keeps, as one string. */
	readonly text: string;
}

/** A parsed response head. */
export interface ResponseHead {
	readonly statusCode: number;
	/** Reason phrase, '' when absent. */
	readonly statusMessage: string;
	readonly httpVersion: '1.0' | '1.1';
	readonly rawHeaders: string[];
	/** As in {@link RequestHead.text}. */
	readonly text: string;
}

/** How the body of a message is delimited. */
export type Framing =
	| { readonly kind: 'none' }
	| { readonly kind: 'length'; readonly length: number }
	| { readonly kind: 'chunked' }
	| { readonly kind: 'close' };   // response body delimited by connection close

// The body-less framings are shared: they are immutable, and a request should not allocate one.
const NONE: Framing = Object.freeze({ kind: 'none' });
const CHUNKED: Framing = Object.freeze({ kind: 'chunked' });
const CLOSE: Framing = Object.freeze({ kind: 'close' });

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const SLASH = 0x2f;
const ASTERISK = 0x2a;

// Character classes by byte, one bit each.
const TCHAR = 1;
/** HTAB, SP, VCHAR and obs-text: what a field value, a reason phrase or a quoted-pair's second byte may be. */
const TEXT = 2;
/** VCHAR (0x21-0x7E): what a request-target may hold. */
const VCHAR = 4;

const CLASSES = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) { CLASSES[c] |= VCHAR | TEXT; }
for (let c = 0x80; c <= 0xff; c++) { CLASSES[c] |= TEXT; }
CLASSES[HTAB] |= TEXT;
CLASSES[SP] |= TEXT;
for (const ch of '!#$%&\'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') {
	CLASSES[ch.charCodeAt(0)] |= TCHAR;
}

/** Hex digit values by byte, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
	HEX['0123456789abcdef'.charCodeAt(d)] = d;
	HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}

function isOws(c: number): boolean {
	return c === SP || c === HTAB;
}

function badRequest(message: string): HttpParseError {
	return new HttpParseError(message, 400);
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Index just past the first CRLFCRLF at or after `from` in `buf`, or -1 when the head is not complete yet.
 * Must be cheap when called repeatedly on a growing buffer (the caller passes `from` = previous length - 3).
 *
 * It does not enforce {@link MAX_HEAD_BYTES}: the caller, which owns the buffer, answers 431 once it
 * holds that many bytes without a head end (and the parse functions check a complete head's size).
 */
export function findHeadEnd(buf: Buffer, from: number): number {
	// Clamped: Buffer#indexOf counts a negative offset from the end, and the first call passes 0 - 3.
	const at = buf.indexOf(CRLFCRLF, from > 0 ? from : 0);
	return at < 0 ? -1 : at + 4;
}

/**
 * Whether an incomplete head, `buf[start..]`, holds a bare LF (one not after a CR) or a bare CR (one
 * followed by a byte other than LF), checked from `from` on (the caller passes the end of what it
 * checked before, minus one, so that a CR that ended the previous read is looked at again).
 *
 * A head is only parsed once findHeadEnd finds its CRLFCRLF, which a head with bare line ends may
 * never have: without this the caller would wait for the head timeout or the size limit to refuse
 * it. Complete heads never need it (the parse checks every byte); only heads split over reads pay.
 */
export function hasBareLineBreak(buf: Buffer, start: number, from: number): boolean {
	const length = buf.length;
	for (let i = from > start ? from : start; i < length; i++) {
		const c = buf[i];
		if (c === LF) {
			if (i === start || buf[i - 1] !== CR) { return true; }
		} else if (c === CR) {
			if (i + 1 < length && buf[i + 1] !== LF) { return true; }
		}
	}
	return false;
}

/**
 * The head's bytes for the validation loops, which read a typed array at about twice the speed of
 * charCodeAt. Parsing is synchronous, so one buffer serves every call.
 */
const scratch = Buffer.allocUnsafe(MAX_HEAD_BYTES);

/** Matches a code unit above 0xFF. */
const WIDE = /[\u0100-\uffff]/;

/**
 * Copies `head` into {@link scratch} after checking its size.
 *
 * The copy keeps only the low byte of a code unit above 0xFF, which could make it look like a valid
 * byte; a head read as latin1 has none, but a caller that decoded as UTF-8 would. A head whose UTF-8
 * length equals its length is ASCII (the usual case, proved natively and fast); only other heads are
 * scanned for such code units.
 */
function headBytes(head: string): Buffer {
	// `head` lacks the final CRLFCRLF that counts towards the limit.
	if (head.length + 4 > MAX_HEAD_BYTES) { throw new HttpParseError('message head too large', 431); }
	if (Buffer.byteLength(head, 'utf8') !== head.length && WIDE.test(head)) { throw badRequest('character above 0xFF in head'); }
	scratch.write(head, 0, 'latin1');
	return scratch;
}

/**
 * The version at `start..end` of `b`: '1.0' or '1.1'; 0 for another well-formed `HTTP/d.d`;
 * undefined when it is not a version at all.
 */
function parseVersion(b: Buffer, start: number, end: number): '1.0' | '1.1' | 0 | undefined {
	if (end - start !== 8 || b[start] !== 0x48 || b[start + 1] !== 0x54 || b[start + 2] !== 0x54 || b[start + 3] !== 0x50
		|| b[start + 4] !== 0x2f || b[start + 6] !== 0x2e) { return undefined; }
	const major = b[start + 5] - 0x30;
	const minor = b[start + 7] - 0x30;
	if (major < 0 || major > 9 || minor < 0 || minor > 9) { return undefined; }
	if (major === 1 && minor === 1) { return '1.1'; }
	if (major === 1 && minor === 0) { return '1.0'; }
	return 0;
}

/**
 * Index of the CRLF ending the start line, or the head's length when it is the only line. A bare CR or
 * LF before it is left to the start line's own checks, which accept neither.
 */
function startLineEnd(head: string): number {
	// String#indexOf, not the buffer's: it runs in JIT code rather than through a C++ call.
	const end = head.indexOf('\r\n');
	return end < 0 ? head.length : end;
}

/**
 * Parses the field lines after the start line, whose CRLF is at `pos` (or which ends the head).
 * `b` holds the head's bytes. One pass over each line's bytes both validates it and finds its end:
 * the value stops at the first byte that is not field text, which must be the CR of a CRLF.
 */
function parseFields(head: string, b: Buffer, pos: number): string[] {
	const rawHeaders: string[] = [];
	const length = head.length;
	while (pos < length) {
		const start = pos + 2;
		let i = start;
		while (i < length && (CLASSES[b[i]] & TCHAR) !== 0) { i++; }
		if (i === length || b[i] !== COLON) {
			// Covers an empty line, obs-fold (a line starting with SP/HTAB), whitespace before the colon
			// (RFC 9112 §5.1: MUST reject) and any other byte that is not a token character.
			throw badRequest(i === start && i < length && isOws(b[i]) ? 'obsolete line folding in header' : 'invalid header name');
		}
		if (i === start) { throw badRequest('empty header name'); }
		let valueStart = i + 1;
		while (valueStart < length && isOws(b[valueStart])) { valueStart++; }
		let end = valueStart;
		while (end < length && (CLASSES[b[end]] & TEXT) !== 0) { end++; }
		// A bare CR or LF, NUL or another control byte.
		if (end < length && (b[end] !== CR || end + 1 === length || b[end + 1] !== LF)) { throw badRequest('invalid character in header value'); }
		let valueEnd = end;
		let trailingTab = false;
		while (valueEnd > valueStart && isOws(b[valueEnd - 1])) {
			if (b[--valueEnd] === HTAB) { trailingTab = true; }
		}
		const name = head.slice(start, i);
		// llhttp refuses a tab after a Content-Length or Transfer-Encoding value (a space it allows): once
		// trimmed, the value would frame the message where the next Node parser refuses it.
		if (trailingTab && isFramingField(name)) { throw badRequest(`tab after the ${name} value`); }
		rawHeaders.push(name, head.slice(valueStart, valueEnd));
		pos = end;
	}
	return rawHeaders;
}

/**
 * Whether `b[start..end)` has the form of a request-target for `method` (RFC 9112 §3.2): origin-form
 * (`/…`), absolute-form (`scheme://…`), `*` for OPTIONS only, and for CONNECT anything (it is refused
 * later). llhttp refuses the rest, `GET localhost:443` and `GET !/` among them, so a dev server would;
 * it also takes only letters in a scheme (RFC 3986 allows digits, `+`, `-` and `.` after the first),
 * and so does this check.
 */
function isRequestTarget(b: Buffer, start: number, end: number, method: string): boolean {
	const first = b[start];
	if (first === SLASH || method === 'CONNECT') { return true; }
	if (first === ASTERISK) { return end - start === 1 && method === 'OPTIONS'; }
	let i = start;
	while (i < end && isAlpha(b[i])) { i++; }
	if (i === start || end - i <= 3 || b[i] !== COLON || b[i + 1] !== SLASH || b[i + 2] !== SLASH) { return false; }
	// The authority, up to the path or query: RFC 3986's characters, which llhttp holds to there (a
	// fragment right after the authority included: `http://h#f` it refuses, `http://h/#f` it takes).
	const authority = i + 3;
	for (i = authority; i < end && b[i] !== SLASH && b[i] !== 0x3f; i++) {
		if (!AUTHORITY[b[i]]) { return false; }
	}
	return i > authority;
}

/** authority = unreserved / pct-encoded / sub-delims / ":" / "@" / "[" / "]" (RFC 3986 §3.2). */
const AUTHORITY = new Uint8Array(256);
for (const c of Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%!$&\'()*+,;=:@[]', 'latin1')) { AUTHORITY[c] = 1; }

function isAlpha(c: number): boolean {
	const lower = c | 0x20;
	return lower >= 0x61 && lower <= 0x7a;
}

/**
 * Parses a request head. `head` is the latin1 text of the head WITHOUT the final empty line: precisely
 * `buf.latin1Slice(0, end - 4)` (or `buf.toString('latin1', 0, end - 4)`) where end = findHeadEnd.
 * Throws HttpParseError: 400 for bad syntax, 505 for a well-formed version other than 1.0/1.1, 431
 * when the head is longer than {@link MAX_HEAD_BYTES}.
 */
export function parseRequestHead(head: string): RequestHead {
	const b = headBytes(head);
	const lineEnd = startLineEnd(head);
	// request-line = method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
	let i = 0;
	while (i < lineEnd && (CLASSES[b[i]] & TCHAR) !== 0) { i++; }
	if (i === 0 || i === lineEnd || b[i] !== SP) { throw badRequest('invalid method'); }
	const method = head.slice(0, i);
	const targetStart = ++i;
	while (i < lineEnd && (CLASSES[b[i]] & VCHAR) !== 0) { i++; }
	if (i === targetStart || i === lineEnd || b[i] !== SP) { throw badRequest('invalid request-target'); }
	const target = head.slice(targetStart, i);
	const httpVersion = parseVersion(b, i + 1, lineEnd);
	if (httpVersion === 0) { throw new HttpParseError('HTTP version not supported', 505); }
	if (httpVersion === undefined) { throw badRequest('invalid HTTP version'); }
	// PRI is the HTTP/2 connection preface's method (RFC 9113 §3.4), never an HTTP/1.x request: an HTTP/2
	// client that took this connection for one, or a probe (the preface itself, HTTP/2.0, is a 505 above).
	// Other unknown methods are tokens like any (RFC 9110 §9.1).
	if (targetStart === 4 && b[0] === 0x50 && b[1] === 0x52 && b[2] === 0x49) { throw badRequest('HTTP/2 connection preface method (PRI) on an HTTP/1.1 connection'); }
	if (!isRequestTarget(b, targetStart, i, method)) { throw badRequest('invalid request-target'); }
	return { method, target, httpVersion, rawHeaders: parseFields(head, b, lineEnd), text: head };
}

/**
 * Parses a response head (same convention). Lenient where real dev servers are sloppy but safe: missing reason phrase ok. Throws HttpParseError(400) otherwise.
 *
 * Not lenient about obs-fold or whitespace before a colon (400, as in requests): the proxy would have
 * to rewrite such fields to forward them, and no current dev server sends them. Any version other
 * than HTTP/1.0 and HTTP/1.1 is 400 too; a head over {@link MAX_HEAD_BYTES} is 431.
 */
export function parseResponseHead(head: string): ResponseHead {
	const b = headBytes(head);
	const lineEnd = startLineEnd(head);
	// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4); the second SP may be missing too.
	const httpVersion = parseVersion(b, 0, lineEnd < 8 ? lineEnd : 8);
	// A dev server speaking another version cannot be forwarded as HTTP/1.x: a bad response, not a 505.
	if (!httpVersion) { throw badRequest('invalid HTTP version in status line'); }
	if (lineEnd < 12 || b[8] !== SP) { throw badRequest('invalid status code'); }
	const d1 = b[9] - 0x30;
	const d2 = b[10] - 0x30;
	const d3 = b[11] - 0x30;
	if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) { throw badRequest('invalid status code'); }
	let statusMessage = '';
	if (lineEnd > 12) {
		if (b[12] !== SP) { throw badRequest('invalid status code'); }
		for (let k = 13; k < lineEnd; k++) {
			if ((CLASSES[b[k]] & TEXT) === 0) { throw badRequest('invalid character in reason phrase'); }
		}
		statusMessage = head.slice(13, lineEnd);
	}
	return { statusCode: d1 * 100 + d2 * 10 + d3, statusMessage, httpVersion, rawHeaders: parseFields(head, b, lineEnd), text: head };
}

/** What a message's Content-Length and Transfer-Encoding fields say, gathered in one pass. */
interface FramingFields {
	/** Content-Length field(s) present. */
	hasLength: boolean;
	/** Its value; -1 when invalid or when there is more than one field. */
	length: number;
	/** Transfer-Encoding field(s) present. */
	hasCoding: boolean;
	/** How many times `chunked` is listed over all Transfer-Encoding fields. */
	chunked: number;
	/** The final transfer coding listed is `chunked`. */
	chunkedLast: boolean;
	/** A transfer coding other than `chunked` is listed. */
	otherCoding: boolean;
	/** A Transfer-Encoding list has an empty element (`chunked,`). */
	emptyCoding: boolean;
}

/**
 * A Content-Length value: 1*DIGIT (OWS is already trimmed off field values). -1 for anything else:
 * empty, non-digits, a list ("5, 5"), above 2^53 - 1.
 *
 * RFC 9110 §8.6 lets a recipient take a list of identical values as one, but llhttp (Node's server and
 * client) refuses lists and repeated fields, and so does this parser: forwarding either as sent would
 * hand the next parser a message that it may frame differently, and normalising gains nothing, since
 * no dev server that Node can talk to sends them.
 */
function parseContentLength(value: string): number {
	const length = value.length;
	if (length === 0) { return -1; }
	let n = 0;
	for (let i = 0; i < length; i++) {
		const digit = value.charCodeAt(i) - 0x30;
		if (digit < 0 || digit > 9) { return -1; }
		n = n * 10 + digit;
		// Checked per digit, so n stays exact up to here and a 400-digit value cannot reach Infinity.
		if (n > Number.MAX_SAFE_INTEGER) { return -1; }
	}
	return n;
}

/** Whether `value[start..end)` is `chunked`, in any case, without allocating a lower-cased copy. */
function isChunked(value: string, start: number, end: number): boolean {
	if (end - start !== 7) { return false; }
	// All letters: c | 0x20 equals a lower-case letter only for that letter in either case.
	for (let k = 0; k < 7; k++) {
		if ((value.charCodeAt(start + k) | 0x20) !== 'chunked'.charCodeAt(k)) { return false; }
	}
	return true;
}

/**
 * Adds the codings listed in one Transfer-Encoding value, in order. Empty list elements, which RFC
 * 9110 §5.6.1 has recipients skip, are noted instead: llhttp takes `chunked,` as a list whose final
 * coding is not chunked, and the proxy must not frame a message otherwise than the next parser.
 */
function addCodings(value: string, fields: FramingFields): void {
	const length = value.length;
	let i = 0;
	while (i <= length) {
		let comma = value.indexOf(',', i);
		if (comma < 0) { comma = length; }
		let start = i;
		let end = comma;
		while (start < end && isOws(value.charCodeAt(start))) { start++; }
		while (end > start && isOws(value.charCodeAt(end - 1))) { end--; }
		if (start < end) {
			// `chunked;x=y` is not chunked: chunked takes no parameters, so it counts as an unknown coding.
			const chunked = isChunked(value, start, end);
			if (chunked) { fields.chunked++; } else { fields.otherCoding = true; }
			fields.chunkedLast = chunked;
		} else {
			fields.emptyCoding = true;
		}
		i = comma + 1;
	}
}

function framingFields(rawHeaders: readonly string[]): FramingFields {
	const fields: FramingFields = { hasLength: false, length: -1, hasCoding: false, chunked: 0, chunkedLast: false, otherCoding: false, emptyCoding: false };
	for (let i = 0; i < rawHeaders.length; i += 2) {
		const name = rawHeaders[i];
		// Length first: most names are neither, and toLowerCase then runs for almost none of them.
		if (name.length === 14 && name.toLowerCase() === 'content-length') {
			// A second Content-Length field is invalid even with the same value (llhttp: "Duplicate Content-Length").
			fields.length = fields.hasLength ? -1 : parseContentLength(rawHeaders[i + 1]);
			fields.hasLength = true;
		} else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
			fields.hasCoding = true;
			addCodings(rawHeaders[i + 1], fields);
		}
	}
	return fields;
}

/**
 * Body framing of a request (RFC 9112 §6): Transfer-Encoding whose final coding is chunked -> chunked; Content-Length -> length (0 -> none); neither -> none. Throws HttpParseError 400 for: both TE and CL (request smuggling guard), invalid CL (non-digits, empty, too big for Number.MAX_SAFE_INTEGER), more than one CL field or value (even identical ones like "5, 5": see parseContentLength), TE present whose final coding is not chunked, chunked applied more than once; 501 for a transfer coding other than chunked in the list (e.g. gzip, chunked). Header names compare case-insensitively.
 *
 * Decisions: `gzip, chunked` (or any coding besides chunked, `identity` included) is 501, as RFC
 * 9112 §6.1 asks of a server that does not implement the coding: the proxy only removes chunked, and
 * the coding would have to be declared to the dev server again. The 400s (no final chunked, chunked
 * twice) are checked before it, since then the body's end cannot be known at all. An HTTP/1.0
 * request (`httpVersion`) with any Transfer-Encoding is 400: §6.1 says its framing is faulty, and the
 * proxy would forward it as HTTP/1.1 chunked. (llhttp accepts it; Node's server then reads it chunked.)
 */
export function requestFraming(rawHeaders: readonly string[], httpVersion: '1.0' | '1.1' = '1.1'): Framing {
	const fields = framingFields(rawHeaders);
	if (fields.hasCoding) {
		if (httpVersion === '1.0') { throw badRequest('Transfer-Encoding in an HTTP/1.0 request'); }
		// RFC 9112 §6.1 lets a server drop Content-Length and go on; rejecting is what closes the smuggling door.
		if (fields.hasLength) { throw badRequest('both Transfer-Encoding and Content-Length'); }
		if (fields.emptyCoding) { throw badRequest('empty element in Transfer-Encoding'); }
		if (!fields.chunkedLast) { throw badRequest('final transfer coding is not chunked'); }
		if (fields.chunked > 1) { throw badRequest('chunked applied more than once'); }
		if (fields.otherCoding) { throw new HttpParseError('transfer coding not implemented', 501); }
		return CHUNKED;
	}
	if (fields.hasLength) {
		if (fields.length === -1) { throw badRequest('invalid Content-Length'); }
		return fields.length === 0 ? NONE : { kind: 'length', length: fields.length };
	}
	return NONE;
}

/**
 * Body framing of a response to a request with `requestMethod` (RFC 9112 §6.3): HEAD, 1xx, 204, 304 -> none; TE with final chunked -> chunked; TE otherwise -> close; valid CL -> length (0 -> none); nothing -> close.
 * A 2xx to CONNECT is none (§6.3 rule 2: the connection becomes a tunnel).
 *
 * Throws HttpParseError(400), for the caller's 502, where llhttp (the client's parser) would refuse
 * the response: Transfer-Encoding next to Content-Length (§6.3 rule 3 lets TE win, but a proxy that
 * passed such a message on would hand the smuggling question to the next parser), an invalid or
 * repeated Content-Length (as in requests), an empty Transfer-Encoding element, `chunked` listed
 * twice (decoding it once would pass chunk framing on as payload). These are checked for body-less
 * responses too, since they are passed on and the client checks them all the same.
 */
export function responseFraming(rawHeaders: readonly string[], statusCode: number, requestMethod: string): Framing {
	const fields = framingFields(rawHeaders);
	if (fields.hasCoding) {
		if (fields.hasLength) { throw badRequest('both Transfer-Encoding and Content-Length'); }
		if (fields.emptyCoding) { throw badRequest('empty element in Transfer-Encoding'); }
		if (fields.chunked > 1) { throw badRequest('chunked applied more than once'); }
	} else if (fields.hasLength && fields.length === -1) {
		throw badRequest('invalid Content-Length');
	}
	if (requestMethod === 'HEAD' || statusCode < 200 || statusCode === 204 || statusCode === 304) { return NONE; }
	if (requestMethod === 'CONNECT' && statusCode < 300) { return NONE; }
	if (fields.hasCoding) { return fields.chunkedLast ? CHUNKED : CLOSE; }
	if (fields.hasLength) { return fields.length === 0 ? NONE : { kind: 'length', length: fields.length }; }
	return CLOSE;
}

/** The length of `transfer-encoding`, the longer framing field name. */
const FRAMING_NAME_MAX = 17;

/**
 * Content-Length or Transfer-Encoding, which a trailer section must not hold (RFC 9110 §6.5.1):
 * llhttp refuses them there, and a parser that took them up would frame the next message anew.
 */
function isFramingField(name: string): boolean {
	if (name.length !== 14 && name.length !== FRAMING_NAME_MAX) { return false; }
	const lower = name.toLowerCase();
	return lower === 'content-length' || lower === 'transfer-encoding';
}

/** Where a {@link ChunkedDecoder} is in the body. */
const enum State {
	/** Reading the chunk-size hex digits. */
	Size,
	// Chunk extensions, RFC 9112 §7.1.1, without the BWS it allows (see ChunkedDecoder):
	//   chunk-ext = *( ";" chunk-ext-name [ "=" chunk-ext-val ] )
	//   chunk-ext-name = token; chunk-ext-val = token / quoted-string
	/** After `;`: the first byte of a name. */
	ExtNameStart,
	/** In a name: more token bytes, `=`, `;` or the CR. */
	ExtName,
	/** After `=`: a token or a quoted string. */
	ExtValueStart,
	/** In a token value: more token bytes, `;` or the CR. */
	ExtToken,
	/** In a quoted string, after the opening DQUOTE. */
	ExtQuoted,
	/** After a backslash in a quoted string: the escaped byte. */
	ExtQuotedPair,
	/** Just after a quoted string's closing DQUOTE: `;` or the CR. */
	ExtQuotedEnd,
	/** The LF ending the size line. */
	SizeLf,
	Data,
	DataCr,
	DataLf,
	/** The start of a trailer field line, or the CR of the final CRLF. */
	TrailerStart,
	TrailerName,
	TrailerValue,
	TrailerLf,
	FinalLf,
	Done,
	Failed,
}

/**
 * Incremental decoder of a chunked body (RFC 9112 §7.1): chunk-size (hex, reject overflow beyond 2^53 and more than 16 hex digits), chunk extensions (validated, dropped, bounded length), CRLF, data, CRLF, ..., last-chunk "0", optional trailer fields (skipped, bounded total size), final CRLF.
 *
 * Extensions must follow §7.1.1's grammar: `;` and a token name, optionally `=` and a token or a
 * quoted string (quoted-pairs allowed). Anything else is 400, as llhttp refuses it too: `2;` (no
 * name), a CR inside a quoted string, `a=` (no value). So is the BWS that §7.1.1 allows around `;`
 * and `=` (`3 ;a`, `3; a`, `3;a = b`): llhttp refuses it, so a Node dev server would, and no
 * client sends it.
 *
 * Extensions may take 16 KiB over the whole body (like Node), so that tiny chunks with long
 * extensions cannot make the proxy read without end; trailers may take {@link MAX_HEAD_BYTES}.
 * Trailer fields are validated like header fields (bare CR/LF and obs-fold are 400) and dropped;
 * Content-Length and Transfer-Encoding there are 400.
 * After an error the decoder stays failed: every later push throws.
 */
export class ChunkedDecoder {
	private state = State.Size;
	/** The chunk-size being read; then the bytes of the chunk's data still to come. */
	private size = 0;
	private digits = 0;
	private extensionBytes = 0;
	private trailerBytes = 0;
	/** The trailer field name being read, kept only as long as it could still be a framing field's. */
	private trailerName = '';

	constructor(private readonly onData: (data: Buffer) => void) { }

	/** True once the last chunk and the trailer section are complete. */
	get done(): boolean {
		return this.state === State.Done;
	}

	/**
	 * Consumes bytes from `chunk` starting at `offset` (default 0). Calls onData with subarray views (no copies) of the payload bytes found. Returns the index in `chunk` just past the body's end when the body ended inside this chunk (so the caller can hand the rest to the next message), or chunk.length when all was consumed and more is needed. Throws HttpParseError(400) on malformed framing.
	 *
	 * A body ending exactly at the chunk's end also returns chunk.length: check {@link done}. Once done,
	 * a push consumes nothing and returns `offset`.
	 */
	push(chunk: Buffer, offset = 0): number {
		if (this.state === State.Done) { return offset; }
		if (this.state === State.Failed) { throw badRequest('chunked body already failed'); }
		const length = chunk.length;
		let i = offset;
		while (i < length) {
			if (this.state === State.Data) {
				const take = Math.min(this.size, length - i);
				this.size -= take;
				if (this.size === 0) { this.state = State.DataCr; }
				// State first: onData may throw, and the decoder must still be consistent then.
				this.onData(chunk.subarray(i, i + take));
				i += take;
				continue;
			}
			const c = chunk[i++];
			switch (this.state) {
				case State.Size: {
					const digit = HEX[c];
					if (digit >= 0) {
						if (++this.digits > MAX_CHUNK_SIZE_DIGITS) { throw this.fail('chunk size has too many digits'); }
						// Checked per digit: size * 16 stays exact up to here, so the comparison is reliable.
						this.size = this.size * 16 + digit;
						if (this.size > Number.MAX_SAFE_INTEGER) { throw this.fail('chunk size too large'); }
					} else if (this.digits === 0) {
						throw this.fail('invalid chunk size');
					} else if (c === CR) {
						this.state = State.SizeLf;
					} else if (c === SEMICOLON) {
						this.extension();
						this.state = State.ExtNameStart;
					} else {
						throw this.fail('invalid chunk size');
					}
					break;
				}
				case State.ExtNameStart:
					this.extension();
					// `2;\r\n`, `2;;a`, `2;=b`: an extension without a name.
					if (!(CLASSES[c] & TCHAR)) { throw this.fail('empty chunk extension name'); }
					this.state = State.ExtName;
					break;
				case State.ExtName:
					if (c === CR) {
						this.state = State.SizeLf;
						break;
					}
					this.extension();
					if (c === EQUALS) {
						this.state = State.ExtValueStart;
					} else if (c === SEMICOLON) {
						this.state = State.ExtNameStart;
					} else if (!(CLASSES[c] & TCHAR)) {
						throw this.fail('invalid character in chunk extension name');
					}
					break;
				case State.ExtValueStart:
					this.extension();
					if (c === DQUOTE) {
						this.state = State.ExtQuoted;
					} else if (CLASSES[c] & TCHAR) {
						this.state = State.ExtToken;
					} else {
						throw this.fail('invalid chunk extension value');
					}
					break;
				case State.ExtToken:
					if (c === CR) {
						this.state = State.SizeLf;
						break;
					}
					this.extension();
					if (c === SEMICOLON) {
						this.state = State.ExtNameStart;
					} else if (!(CLASSES[c] & TCHAR)) {
						throw this.fail('invalid character in chunk extension value');
					}
					break;
				case State.ExtQuoted:
					this.extension();
					if (c === DQUOTE) {
						this.state = State.ExtQuotedEnd;
					} else if (c === BACKSLASH) {
						this.state = State.ExtQuotedPair;
					} else if (!(CLASSES[c] & TEXT)) {
						// CR, LF and other controls: a quoted string never ends a line (`2;a="x\r\n` is not a size line).
						throw this.fail('invalid character in chunk extension quoted string');
					}
					break;
				case State.ExtQuotedPair:
					this.extension();
					if (!(CLASSES[c] & TEXT)) { throw this.fail('invalid character in chunk extension quoted string'); }
					this.state = State.ExtQuoted;
					break;
				case State.ExtQuotedEnd:
					if (c === CR) {
						this.state = State.SizeLf;
						break;
					}
					this.extension();
					if (c !== SEMICOLON) { throw this.fail('invalid character after chunk extension quoted string'); }
					this.state = State.ExtNameStart;
					break;
				case State.SizeLf:
					if (c !== LF) { throw this.fail('missing LF after chunk size'); }
					this.digits = 0;
					this.state = this.size === 0 ? State.TrailerStart : State.Data;
					break;
				case State.DataCr:
					if (c !== CR) { throw this.fail('missing CRLF after chunk data'); }
					this.state = State.DataLf;
					break;
				case State.DataLf:
					if (c !== LF) { throw this.fail('missing CRLF after chunk data'); }
					this.state = State.Size;
					break;
				case State.TrailerStart:
					if (c === CR) {
						this.state = State.FinalLf;
						break;
					}
					this.trailer();
					if (!(CLASSES[c] & TCHAR)) { throw this.fail('invalid trailer field'); }
					this.trailerName = String.fromCharCode(c);
					this.state = State.TrailerName;
					break;
				case State.TrailerName:
					this.trailer();
					if (c === COLON) {
						if (isFramingField(this.trailerName)) { throw this.fail(`${this.trailerName} in the trailer section`); }
						this.state = State.TrailerValue;
					} else if (!(CLASSES[c] & TCHAR)) {
						throw this.fail('invalid trailer field');
					} else if (this.trailerName.length <= FRAMING_NAME_MAX) {
						this.trailerName += String.fromCharCode(c);
					}
					break;
				case State.TrailerValue:
					this.trailer();
					if (c === CR) {
						this.state = State.TrailerLf;
					} else if (!(CLASSES[c] & TEXT)) {
						throw this.fail('invalid character in trailer field');
					}
					break;
				case State.TrailerLf:
					this.trailer();
					if (c !== LF) { throw this.fail('missing LF in trailer section'); }
					this.state = State.TrailerStart;
					break;
				case State.FinalLf:
					if (c !== LF) { throw this.fail('missing LF at end of chunked body'); }
					this.state = State.Done;
					return i;
			}
		}
		return length;
	}

	/** Counts one byte of chunk extension (or BWS) against the body's budget. */
	private extension(): void {
		if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) { throw this.fail('chunk extensions too long'); }
	}

	/** Counts one byte of the trailer section against its budget. */
	private trailer(): void {
		if (++this.trailerBytes > MAX_TRAILER_BYTES) { throw this.fail('trailer section too large'); }
	}

	private fail(message: string): HttpParseError {
		this.state = State.Failed;
		return badRequest(message);
	}
}

/**
 * Writes one chunk of chunked framing: returns the size line ("1a2b\r\n"); the caller writes the data and then "\r\n".
 *
 * Size 0 is the last-chunk: `chunkHeader(0)` then "\r\n" ends the body (with no trailers), so a caller
 * must not call it for an empty data chunk. Throws RangeError for a negative or non-integer size.
 */
export function chunkHeader(size: number): string {
	if (!Number.isSafeInteger(size) || size < 0) { throw new RangeError(`invalid chunk size ${size}`); }
	return size.toString(16) + '\r\n';
}
