/**
 * An append-only log of records (body chunks, encoded header blocks) copied into large slabs.
 *
 * Why: a Buffer per captured chunk costs a JS object pair plus a malloc'd backing store each, and with
 * tens of thousands of FIFO-dying records those fill V8's old generation and the malloc heap far beyond
 * the bytes kept. Slabs hold the same bytes with no per-record objects, and since records die roughly in
 * the order they were written (the store evicts oldest first), whole slabs empty out in order and are
 * reused for new records instead of being left to the GC (dead ArrayBuffers wait for a full GC, and V8
 * lets tens of MiB of them pile up first).
 *
 * A record is named by its location, `slabIndex * slabSize + offset`: a small integer the caller can keep
 * in a plain field. The caller must release every record exactly once with the length it was written
 * with; the log frees a slab when nothing in it is live any more.
 */

import { givePage, PAGE_SIZE, takePage } from '../memory/pagePool';

interface Slab {
	readonly buffer: Buffer;
	readonly index: number;
	/** Bytes of this slab's records not released yet. */
	live: number;
	/** Chosen by {@link SlabLog.beginCompaction}: live records are being moved out of it. */
	moving: boolean;
}

/**
 * Empty slabs kept for reuse (counted in {@link SlabLog.memoryBytes}) when slabs are not pages: eviction
 * frees a slab or two at a time, which the next records fill. Page-sized slabs go back to the shared
 * {@link givePage page pool} instead.
 */
const MAX_SPARES = 2;

/** Below this much room left, a chunk goes to a new slab rather than being split into a tiny record. */
const MIN_SPLIT = 64;

export class SlabLog {
	/** Bytes of every slab held: the current one (written or not) and every one with live records. */
	heldBytes = 0;
	/** Bytes of records not released yet. */
	liveBytes = 0;
	/** The location and length of the record written by the last {@link commit} or {@link append}. */
	lastLocation = -1;
	lastBytes = 0;
	/**
	 * Largest contiguous record ({@link reserve}); callers keep bigger ones on their own. {@link append}
	 * takes any size, split at slab ends.
	 */
	readonly maxRecord: number;

	private readonly slabs: Array<Slab | undefined> = [];
	private readonly freeIndices: number[] = [];
	private readonly spares: Buffer[] = [];
	private current: Slab | undefined;
	private offset = 0;

	/** Slabs come from (and go back to) the shared page pool. */
	private readonly paged: boolean;

	/** @param slabSize bytes per slab (the unit memory is taken and given back in). */
	constructor(readonly slabSize: number) {
		this.maxRecord = slabSize >> 2;
		this.paged = slabSize === PAGE_SIZE;
	}

	/** Memory the log takes: the slabs held and the spare ones. */
	get memoryBytes(): number {
		return this.heldBytes + this.spares.length * this.slabSize;
	}

	/**
	 * Bytes held that no live record uses, not counting the unwritten end of the current slab: what
	 * slabs pinned by a few long-lived records waste. Compaction is worth it when this grows.
	 */
	get waste(): number {
		return this.heldBytes - this.liveBytes - (this.current === undefined ? 0 : this.slabSize - this.offset);
	}

	/**
	 * Makes sure the current slab has `bytes` of contiguous room (`bytes` ≤ {@link maxRecord}) and
	 * returns its buffer: write at {@link position}, then {@link commit}.
	 */
	reserve(bytes: number): Buffer {
		if (this.current === undefined || this.slabSize - this.offset < bytes) this.nextSlab();
		return this.current!.buffer;
	}

	/** Where the next record starts in the buffer {@link reserve} returned. */
	get position(): number {
		return this.offset;
	}

	/** Contiguous bytes left in the current slab. */
	get room(): number {
		return this.current === undefined ? 0 : this.slabSize - this.offset;
	}

	/** Records the `bytes` just written at {@link position} as one record; returns its location. */
	commit(bytes: number): number {
		const slab = this.current!;
		const location = slab.index * this.slabSize + this.offset;
		this.offset += bytes;
		slab.live += bytes;
		this.liveBytes += bytes;
		this.lastLocation = location;
		this.lastBytes = bytes;
		return location;
	}

	/**
	 * Copies as much of `source[from…]` as fits in the current slab (starting a new one when it is full)
	 * as one record, and returns how many bytes that was: a chunk bigger than the room left takes more
	 * calls, hence more records. The record is in {@link lastLocation}/{@link lastBytes}.
	 */
	append(source: Uint8Array, from: number): number {
		const wanted = source.byteLength - from;
		let room = this.current === undefined ? 0 : this.slabSize - this.offset;
		if (room < wanted && room < MIN_SPLIT) {
			this.nextSlab();
			room = this.slabSize;
		}
		const bytes = wanted < room ? wanted : room;
		this.current!.buffer.set(from === 0 && bytes === wanted ? source : source.subarray(from, from + bytes), this.offset);
		this.commit(bytes);
		return bytes;
	}

	/** The slab buffer a record lives in (valid until the record is released). */
	bufferOf(location: number): Buffer {
		return this.slabs[Math.floor(location / this.slabSize)]!.buffer;
	}

	/** Where a record starts in {@link bufferOf}. */
	offsetOf(location: number): number {
		return location % this.slabSize;
	}

	/** Copies a record's bytes into `target` at `at`. */
	copyOut(location: number, bytes: number, target: Uint8Array, at: number): void {
		const start = location % this.slabSize;
		target.set(this.bufferOf(location).subarray(start, start + bytes), at);
	}

	/** Gives a record back; its slab is freed (kept as a spare) once nothing in it is live. */
	release(location: number, bytes: number): void {
		const slab = this.slabs[Math.floor(location / this.slabSize)]!;
		slab.live -= bytes;
		this.liveBytes -= bytes;
		if (slab.live === 0 && slab !== this.current) this.free(slab);
	}

	/**
	 * Picks the slabs worth emptying: full ones (not the current) at most half live. Returns false when
	 * moving their records would give back less than `minGain` bytes, so a scan of the records is not
	 * worth it. Between this and {@link endCompaction}, the caller moves every live record for which
	 * {@link isMoving} is true with {@link move}.
	 */
	beginCompaction(minGain: number): boolean {
		let gain = 0;
		for (const slab of this.slabs) {
			if (slab !== undefined && slab !== this.current && slab.live * 2 <= this.slabSize) gain += this.slabSize - slab.live;
		}
		if (gain < minGain) return false;
		for (const slab of this.slabs) {
			if (slab !== undefined && slab !== this.current && slab.live * 2 <= this.slabSize) slab.moving = true;
		}
		return true;
	}

	/** True when the record at `location` is in a slab being emptied. */
	isMoving(location: number): boolean {
		return this.slabs[Math.floor(location / this.slabSize)]!.moving;
	}

	/** Copies a record to the head of the log and releases the old copy; returns the new location. */
	move(location: number, bytes: number): number {
		const buffer = this.reserve(bytes);
		const at = this.offset;
		const start = location % this.slabSize;
		buffer.set(this.bufferOf(location).subarray(start, start + bytes), at);
		const moved = this.commit(bytes);
		this.release(location, bytes);
		return moved;
	}

	/** Ends a compaction; slabs that still hold records (there should be none) stay as they are. */
	endCompaction(): void {
		for (const slab of this.slabs) {
			if (slab !== undefined) slab.moving = false;
		}
	}

	/** Forgets every record and lets go of every slab, spares included. */
	clear(): void {
		this.slabs.length = 0;
		this.freeIndices.length = 0;
		this.spares.length = 0;
		this.current = undefined;
		this.offset = 0;
		this.heldBytes = 0;
		this.liveBytes = 0;
	}

	private nextSlab(): void {
		const previous = this.current;
		let index = this.freeIndices.pop();
		if (index === undefined) {
			index = this.slabs.length;
			this.slabs.push(undefined);
		}
		const buffer = this.paged ? takePage() : this.spares.pop() ?? Buffer.allocUnsafeSlow(this.slabSize);
		const slab: Slab = { buffer, index, live: 0, moving: false };
		this.slabs[index] = slab;
		this.current = slab;
		this.offset = 0;
		this.heldBytes += this.slabSize;
		// The previous slab is full (or its end was too small): free it now if all it held is gone.
		if (previous !== undefined && previous.live === 0) this.free(previous);
	}

	private free(slab: Slab): void {
		this.slabs[slab.index] = undefined;
		this.freeIndices.push(slab.index);
		this.heldBytes -= this.slabSize;
		if (this.paged) givePage(slab.buffer);
		else if (this.spares.length < MAX_SPARES) this.spares.push(slab.buffer);
	}
}
