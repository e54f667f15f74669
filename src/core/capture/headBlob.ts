import type { RawHeaders } from '../../shared/exchange';
import type { SlabLog } from './slabLog';

/**
 * A request or response head (a couple of leading strings such as path and authority, then the flat
 * `[name, value, …]` headers) encoded as one record of a {@link SlabLog}.
 *
 * Why: the header strings the proxy hands over are ~40 small heap objects per exchange (often slices that
 * keep the whole head string alive). Kept, they are promoted and copied by every scavenge and fill the
 * old generation with records that die in FIFO order; measured, that cost more than three times the bytes
 * kept and ~3 µs per exchange in GC. Encoding them is one string concatenation and one write; they are
 * decoded only when someone looks at the exchange.
 *
 * Layout: varint `count << 1 | utf8`, `count` varint string lengths (UTF-16 code units), then the strings'
 * text back to back: UTF-8 when any character is outside ASCII, else plain ASCII (decoded as latin1).
 * The lengths make this exact for any string, separators included; only lone surrogates (which no HTTP
 * parser produces) would come back as U+FFFD.
 *
 * An HTTP/1.x head can be kept as the text it was parsed from instead ({@link writeHeadText}): one flat
 * string written as is, rather than some twenty slices of it joined first. Its layout: varint `utf8`
 * (count 0, which the other layout never has), varint `length + 1` of a leading string (0: none), that
 * string, then the head's text; the headers are split out of it when it is read.
 */

/**
 * Buffer's own encoders, what `write` and `toString` dispatch to after checking their arguments: on
 * Buffer.prototype and used by Node's own modules, though not in @types/node. On this path the argument
 * checks cost about as much as the copy.
 */
interface RawCodec {
	utf8Write(text: string, offset: number): number;
	latin1Slice(start: number, end: number): string;
	utf8Slice(start: number, end: number): string;
}

/** Varint bytes for one length, at most: lengths are below 2^35. */
const MAX_VARINT = 5;

function writeVarint(buffer: Buffer, at: number, value: number): number {
	while (value > 0x7f) {
		buffer[at++] = (value & 0x7f) | 0x80;
		value = Math.floor(value / 128);
	}
	buffer[at++] = value;
	return at;
}

/**
 * Writes `first`, then `second` unless undefined, then `raw` as one record. Returns its location, with
 * its length in `log.lastBytes`, or -1 when the head is too big for a record or holds a non-string (the
 * caller keeps what it was given).
 */
export function writeHead(log: SlabLog, first: string, second: string | undefined, raw: readonly string[]): number {
	const count = raw.length + (second === undefined ? 1 : 2);
	const lengthsRoom = MAX_VARINT * (count + 1);
	if (!(lengthsRoom <= log.maxRecord)) return -1;
	// The lengths go in while the text is gathered, in one pass; the room for the text is checked after.
	let buffer = log.reserve(lengthsRoom);
	let start = log.position;
	let at = writeVarint(buffer, start, count * 2);
	at = writeVarint(buffer, at, first.length);
	// A rope of the strings: flattened once, by the write below.
	let text = first;
	if (second !== undefined) {
		at = writeVarint(buffer, at, second.length);
		text += second;
	}
	for (let i = 0; i < raw.length; i++) {
		const s = raw[i];
		if (typeof s !== 'string') return -1;
		at = writeVarint(buffer, at, s.length);
		text += s;
	}
	// Worst case: every UTF-16 unit takes 3 UTF-8 bytes.
	const lengths = at - start;
	const worst = lengths + 3 * text.length;
	if (!(worst <= log.maxRecord)) return -1;
	if (log.room < worst) {
		// Not enough room left in this slab: the record starts over in a new one, lengths copied.
		const previous = buffer;
		buffer = log.reserve(worst);
		buffer.set(previous.subarray(start, at), log.position);
		start = log.position;
		at = start + lengths;
	}
	const written = (buffer as unknown as RawCodec).utf8Write(text, at);
	// More bytes than characters: not all ASCII, so decode as UTF-8. The flag is the count's lowest bit,
	// which is the lowest bit of the first byte whatever the varint's length.
	if (written !== text.length) buffer[start] |= 1;
	return log.commit(at + written - start);
}

/**
 * Writes an HTTP/1.x head as the text it was parsed from (start line and header lines, CRLF-separated,
 * no final empty line), after a request's `authority` (undefined for a response). Reads back as
 * {@link writeHead}'s strings would: the request-target and the authority, or the reason phrase, then
 * the flat headers with their values trimmed of SP/HTAB. Returns the location, or -1 when it is too big
 * for a record.
 */
export function writeHeadText(log: SlabLog, authority: string | undefined, text: string): number {
	const leading = authority ?? '';
	const worst = 2 * MAX_VARINT + 3 * (leading.length + text.length);
	if (!(worst <= log.maxRecord)) return -1;
	const buffer = log.reserve(worst);
	const start = log.position;
	let at = writeVarint(buffer, start, 0);
	at = writeVarint(buffer, at, authority === undefined ? 0 : leading.length + 1);
	// Two writes rather than one of `leading + text`, which V8 would first flatten into a third string.
	const codec = buffer as unknown as RawCodec;
	const first = leading.length === 0 ? 0 : codec.utf8Write(leading, at);
	const written = codec.utf8Write(text, at + first);
	// Not all ASCII: decode as UTF-8 (the flag is the lowest bit of the first byte, as in writeHead).
	if (first !== leading.length || written !== text.length) buffer[start] |= 1;
	return log.commit(at + first + written - start);
}

/** SP or HTAB. */
function isOws(code: number): boolean {
	return code === 0x20 || code === 0x09;
}

/** A head read back from its record: the leading strings at once, the headers only when asked. */
export interface OpenedHead {
	/** The strings before the headers: request-target and authority, or the reason phrase. */
	readonly leading: string[];
	/** The headers, split out of the record's text anew on each call. */
	headers(): RawHeaders;
}

/**
 * A head kept by {@link writeHeadText}, from its decoded record: `firstLength - 1` characters of leading
 * string (a request's authority), or none for a response, then the head's text.
 */
class TextHead implements OpenedHead {
	readonly leading: string[];
	/** Where the first header line starts. */
	private readonly from: number;

	constructor(private readonly decoded: string, firstLength: number) {
		const base = firstLength > 0 ? firstLength - 1 : 0;
		let lineEnd = decoded.indexOf('\r\n', base);
		if (lineEnd < 0) lineEnd = decoded.length;
		if (firstLength > 0) {
			// `METHOD SP target SP version`: the target, then the authority.
			const targetStart = decoded.indexOf(' ', base) + 1;
			const targetEnd = decoded.indexOf(' ', targetStart);
			this.leading = [decoded.slice(targetStart, targetEnd < 0 || targetEnd > lineEnd ? lineEnd : targetEnd), decoded.slice(0, base)];
		} else {
			// `HTTP/1.1 200 reason`: the reason from the 14th character (none when the line is shorter).
			this.leading = [lineEnd > 13 ? decoded.slice(13, lineEnd) : ''];
		}
		this.from = lineEnd + 2;
	}

	headers(): RawHeaders {
		const decoded = this.decoded;
		const pairs: RawHeaders = [];
		let at = this.from;
		while (at < decoded.length) {
			let end = decoded.indexOf('\r\n', at);
			if (end < 0) end = decoded.length;
			let colon = decoded.indexOf(':', at);
			// The parser lets no line without a colon through; should one come anyway, it is a name alone.
			if (colon < 0 || colon > end) colon = end;
			let valueStart = colon + 1;
			let valueEnd = end;
			while (valueStart < valueEnd && isOws(decoded.charCodeAt(valueStart))) valueStart++;
			while (valueEnd > valueStart && isOws(decoded.charCodeAt(valueEnd - 1))) valueEnd--;
			pairs.push([decoded.slice(at, colon), decoded.slice(valueStart, valueEnd)]);
			at = end + 2;
		}
		return pairs;
	}
}

/** A head kept by {@link writeHead}: its strings back to back in `text`, with their lengths. */
class StringsHead implements OpenedHead {
	readonly leading: string[];
	/** Where the header names and values start in `text`. */
	private readonly from: number;

	constructor(private readonly text: string, private readonly lengths: number[], leading: number) {
		this.leading = [];
		let from = 0;
		for (let i = 0; i < leading && i < lengths.length; i++) {
			this.leading.push(text.slice(from, from + lengths[i]));
			from += lengths[i];
		}
		this.from = from;
	}

	headers(): RawHeaders {
		const { text, lengths } = this;
		const pairs: RawHeaders = [];
		let from = this.from;
		for (let i = this.leading.length; i + 1 < lengths.length; i += 2) {
			const nameEnd = from + lengths[i];
			const valueEnd = nameEnd + lengths[i + 1];
			pairs.push([text.slice(from, nameEnd), text.slice(nameEnd, valueEnd)]);
			from = valueEnd;
		}
		return pairs;
	}
}

/**
 * Reads back a head written by {@link writeHead} or {@link writeHeadText}, with `leading` strings (2
 * for a request, 1 for a response) before its headers. One string is decoded now; the headers are split
 * out of it when asked for, so that a reader who wants only the request line pays for no more.
 */
export function openHead(log: SlabLog, location: number, bytes: number, leading: number): OpenedHead {
	const buffer = log.bufferOf(location);
	const start = log.offsetOf(location);
	const end = start + bytes;
	let at = start;
	const read = (): number => {
		let value = 0;
		let scale = 1;
		for (;;) {
			const byte = buffer[at++];
			value += (byte & 0x7f) * scale;
			if (byte < 0x80) return value;
			scale *= 128;
		}
	};
	const header = read();
	const codec = buffer as unknown as RawCodec;
	if (header < 2) {
		const firstLength = read();
		return new TextHead(header & 1 ? codec.utf8Slice(at, end) : codec.latin1Slice(at, end), firstLength);
	}
	const count = Math.floor(header / 2);
	const lengths = new Array<number>(count);
	for (let i = 0; i < count; i++) lengths[i] = read();
	return new StringsHead(header & 1 ? codec.utf8Slice(at, end) : codec.latin1Slice(at, end), lengths, leading);
}
