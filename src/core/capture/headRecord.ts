import type { RawHeaders } from '../../shared/exchange';
import { openHead, writeHead, writeHeadText } from './headBlob';
import type { SlabLog } from './slabLog';

// Estimated heap bytes of headers kept as strings (measured as noted in captureEntry.ts): a header
// pair (pair array + two strings), a string.
export const HEADER_COST = 96;
export const STRING_COST = 32;

/** Estimated bytes of headers kept as strings, from the flat `[name, value, …]` array (one HEADER_COST a pair). */
export function headersCost(raw: readonly string[]): number {
	let bytes = STRING_COST + (raw.length >> 1) * HEADER_COST;
	for (let i = 0; i < raw.length; i++) bytes += raw[i].length;
	return bytes;
}

/** `strings[from…]` (flat `[name, value, …]`) as the model's pairs. */
function headerPairs(strings: readonly string[], from: number): RawHeaders {
	const pairs: RawHeaders = new Array((strings.length - from) >> 1);
	for (let i = from; i + 1 < strings.length; i += 2) pairs[(i - from) >> 1] = [strings[i], strings[i + 1]];
	return pairs;
}

/** A kept head read back: its leading strings, and its headers split out only when asked for. */
export interface KeptHead {
	readonly leading: readonly string[];
	headers(): RawHeaders;
}

/**
 * One side's head (request or response) of one exchange: a record in the slab log, as the head's
 * received text when the proxy has it, else built from its strings; or, where a record would pin a slab
 * for long (WebSockets) or does not fit, the strings themselves. `leading` strings come before the
 * headers: a request's path and authority, a response's reason phrase. Reused with its entry.
 */
export class HeadRecord {
	private location = -1;
	private bytes = 0;
	private strings: readonly string[] | undefined = undefined;

	get kept(): boolean {
		return this.location >= 0 || this.strings !== undefined;
	}

	/**
	 * Keeps a head (replacing any). `text` is the head as received (HTTP/1.x), which holds the first
	 * leading string itself; `second` is a request's authority. With `inLog` false it stays strings.
	 * Returns the bytes to charge for strings kept on the heap (a record's slab is charged as the log's).
	 */
	keep(log: SlabLog, inLog: boolean, first: string, second: string | undefined, raw: readonly string[], text: string | undefined): number {
		this.release(log);
		if (inLog) {
			let location = text === undefined ? -1 : writeHeadText(log, second, text);
			if (location < 0) location = writeHead(log, first, second, raw);
			if (location >= 0) {
				this.location = location;
				this.bytes = log.lastBytes;
				return 0;
			}
		}
		this.strings = second === undefined ? [first, ...raw] : [first, second, ...raw];
		return (second === undefined ? 1 : 2) * STRING_COST + first.length + (second?.length ?? 0) + headersCost(raw);
	}

	/** The head as kept, or undefined when none is; `leading` says how many strings precede the headers. */
	open(log: SlabLog, leading: 1 | 2): KeptHead | undefined {
		if (this.location >= 0) return openHead(log, this.location, this.bytes, leading);
		const strings = this.strings;
		if (strings === undefined) return undefined;
		return { leading: strings.slice(0, leading), headers: () => headerPairs(strings, leading) };
	}

	/** Moves the record if its slab is being emptied (see {@link SlabLog.beginCompaction}). */
	relocate(log: SlabLog): void {
		if (this.location >= 0 && log.isMoving(this.location)) this.location = log.move(this.location, this.bytes);
	}

	release(log: SlabLog): void {
		if (this.location >= 0) log.release(this.location, this.bytes);
		this.location = -1;
		this.strings = undefined;
	}
}
