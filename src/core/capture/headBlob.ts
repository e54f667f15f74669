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

/** The strings of a head written by {@link writeHead}, in order. */
export function readHead(log: SlabLog, location: number, bytes: number): string[] {
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
	const count = Math.floor(header / 2);
	const lengths = new Array<number>(count);
	for (let i = 0; i < count; i++) lengths[i] = read();
	const codec = buffer as unknown as RawCodec;
	const text = header & 1 ? codec.utf8Slice(at, end) : codec.latin1Slice(at, end);
	const strings = new Array<string>(count);
	let from = 0;
	for (let i = 0; i < count; i++) {
		strings[i] = text.slice(from, from + lengths[i]);
		from += lengths[i];
	}
	return strings;
}
