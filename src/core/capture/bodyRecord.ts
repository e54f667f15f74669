import type { SlabLog } from './slabLog';
import type { ChunkHolder } from '../memory/chunkHolder';

/**
 * Body chunks at least this big, filling at least half of the buffer behind them, are kept by holding
 * that buffer rather than copied (see {@link BodyRecord.append}).
 */
const HOLD_MIN = 16 * 1024;

/** Bytes charged per noted arrival: two numbers in a growing array. */
export const ARRIVAL_COST = 16;

/** One kept part of a body that has more than one: a record in the slab log. */
interface SlabPart {
	/** Moves when compaction relocates the record. */
	location: number;
	readonly bytes: number;
}

/** One kept part held in the buffer it arrived in: the view, and what gives that buffer back. */
interface HeldPart {
	readonly chunk: Buffer;
	readonly release: () => void;
}

type BodyPart = SlabPart | HeldPart;

function isHeld(part: BodyPart): part is HeldPart {
	return (part as HeldPart).release !== undefined;
}

/**
 * The kept bytes and the counters of one side's body (request or response) of one exchange: what the
 * client or dev server sent (`size`), what of it is kept (`captured`, up to the store's body limit) and
 * whether the rest was cut off. Most bodies are one slab record, kept in a field; a second part, or one
 * held rather than copied, makes a list of parts in order. Reused with its entry, like the entry.
 */
export class BodyRecord {
	size = 0;
	captured = 0;
	truncated = false;
	/**
	 * When each chunk arrived, for bodies whose timing is content (server-sent events): flat
	 * `[offset in the body, ms from the exchange's start, …]`, one pair per chunk. Undefined otherwise.
	 */
	arrivals: number[] | undefined = undefined;
	/** The only part, while there is one and it is in the log: its length is `captured`. */
	private first = -1;
	private parts: BodyPart[] | undefined = undefined;

	/**
	 * Counts `chunk` and keeps what fits under `limit`. It is copied into `log`: the chunk may be a view
	 * into something bigger, or a read buffer the proxy reuses once this call returns, and a copy pins
	 * nothing. Except when it is large, mostly fills its buffer, and the buffer's `holder` lends it: then
	 * the buffer is held until {@link release}. Capturing 1 MiB bodies at ~1 GiB/s, the copy wrote every
	 * byte a second time into memory untouched since the log last wrapped; held, the bytes are in memory
	 * once (measured on W3: ~3% more throughput, and what is left of capture's cost there is the budget's
	 * size, see docs/ARCHITECTURE.md). Returns the bytes of held buffers, which the caller charges whole.
	 */
	append(log: SlabLog, limit: number, chunk: Buffer, holder: ChunkHolder | undefined): number {
		const length = chunk.byteLength;
		this.size += length;
		if (this.truncated) return 0;
		const room = limit - this.captured;
		let kept = chunk;
		if (length > room) {
			kept = chunk.subarray(0, Math.max(0, room));
			this.truncated = true;
		}
		return kept.byteLength > 0 ? this.keep(log, kept, holder) : 0;
	}

	/** From now on, {@link arrivals} is kept (the caller notes each chunk with {@link noteArrival}). */
	timeArrivals(): void {
		this.arrivals ??= [];
	}

	/**
	 * Notes that a chunk arrives at `time` (before its {@link append}), if arrivals are kept and the body
	 * is not cut off yet. Returns the bytes to charge.
	 */
	noteArrival(time: number): number {
		if (this.arrivals === undefined || this.truncated) return 0;
		this.arrivals.push(this.captured, time);
		return ARRIVAL_COST;
	}

	/** Copies the kept bytes into `out` (at least `captured` long). */
	copyOut(log: SlabLog, out: Buffer): void {
		if (this.first >= 0) {
			log.copyOut(this.first, this.captured, out, 0);
			return;
		}
		const parts = this.parts;
		if (parts === undefined) return;
		let at = 0;
		for (const part of parts) {
			if (isHeld(part)) {
				out.set(part.chunk, at);
				at += part.chunk.byteLength;
			} else {
				log.copyOut(part.location, part.bytes, out, at);
				at += part.bytes;
			}
		}
	}

	/** Moves the parts that are in slabs being emptied (see {@link SlabLog.beginCompaction}). */
	relocate(log: SlabLog): void {
		if (this.first >= 0) {
			if (log.isMoving(this.first)) this.first = log.move(this.first, this.captured);
			return;
		}
		const parts = this.parts;
		if (parts === undefined) return;
		for (const part of parts) {
			if (!isHeld(part) && log.isMoving(part.location)) part.location = log.move(part.location, part.bytes);
		}
	}

	/** Gives back every part (slab records and held buffers) and zeroes the counters, for reuse. */
	release(log: SlabLog): void {
		if (this.first >= 0) log.release(this.first, this.captured);
		const parts = this.parts;
		if (parts !== undefined) {
			for (const part of parts) {
				if (isHeld(part)) part.release();
				else log.release(part.location, part.bytes);
			}
		}
		this.first = -1;
		this.parts = undefined;
		this.arrivals = undefined;
		this.size = 0;
		this.captured = 0;
		this.truncated = false;
	}

	private keep(log: SlabLog, chunk: Buffer, holder: ChunkHolder | undefined): number {
		const length = chunk.byteLength;
		if (holder !== undefined && length >= HOLD_MIN) {
			const backing = chunk.buffer.byteLength;
			const release = length * 2 >= backing ? holder.hold() : undefined;
			if (release !== undefined) {
				this.listed().push({ chunk, release });
				this.captured += length;
				return backing;
			}
		}
		let from = 0;
		while (from < length) {
			const bytes = log.append(chunk, from);
			if (this.first < 0 && this.parts === undefined) {
				this.first = log.lastLocation;
			} else {
				this.listed().push({ location: log.lastLocation, bytes });
			}
			this.captured += bytes;
			from += bytes;
		}
		return 0;
	}

	/** The parts list, made on the second part (the first, if in a field, moves into it). */
	private listed(): BodyPart[] {
		let parts = this.parts;
		if (parts === undefined) {
			parts = this.parts = this.first >= 0 ? [{ location: this.first, bytes: this.captured }] : [];
			this.first = -1;
		}
		return parts;
	}
}
