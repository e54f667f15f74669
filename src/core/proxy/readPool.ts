import { givePage, PAGE_SIZE, takePage } from '../memory/pagePool';

/*
 * Reusable read buffers for upstream sockets (net's `onread` option). Letting Node allocate a buffer
 * per read costs an ArrayBuffer per response, and streaming a large body at hundreds of MiB/s turns
 * them into a garbage collection every few milliseconds: measured on 1 MiB responses, pooled reads
 * took throughput from 0.57x to 0.85x Caddy's. A buffer goes back to the pool only when nothing
 * refers to it any more: the read that filled it is processed and every write of a view of it is done.
 */

/**
 * Read sizes. Every socket holds the buffer of its next read while it waits, so an idle connection
 * pins one buffer: small ones keep 500 pooled connections at 4 MiB instead of 32. A socket whose last
 * read filled its buffer is streaming a large body and gets libuv's usual 64 KiB for the next read.
 */
const SMALL = 8 * 1024;
/** Pages of the pool shared with capture, which may keep them (see memory/pagePool.ts). */
const LARGE = PAGE_SIZE;

/** Free buffers kept for reuse per size; more small ones are left to the garbage collector, large ones go to the page pool. */
const MAX_FREE = 64;

const kSlot = Symbol('tlsLens.readSlot');
type Slotted = Buffer & { [kSlot]: ReadSlot };

/** One pooled buffer and the number of holders of views into it. */
export class ReadSlot {
	readonly buffer: Buffer;
	private holders = 0;
	/** Write callback of a holder: lets go of one hold. Bound once, so a write costs no closure. */
	readonly release: () => void;

	constructor(private readonly pool: ReadPool, size: number) {
		this.buffer = size === LARGE ? takePage() : Buffer.allocUnsafeSlow(size);
		(this.buffer as Slotted)[kSlot] = this;
		this.release = () => {
			if (--this.holders === 0) { this.pool.put(this); }
		};
	}

	/** Takes a hold on the buffer; pass the returned function as the write callback that ends it. */
	hold(): () => void {
		this.holders++;
		return this.release;
	}

	/** The slot of a buffer the pool handed out. */
	static of(buffer: Buffer): ReadSlot {
		return (buffer as Slotted)[kSlot];
	}
}

/** The free lists behind the `onread.buffer` generators of upstream sockets. */
export class ReadPool {
	private readonly small: ReadSlot[] = [];
	private readonly large: ReadSlot[] = [];

	/** The buffer for a socket's next read: large after a read that filled its buffer. */
	next(lastReadFilled: boolean): Buffer {
		const slot = lastReadFilled ? this.large.pop() ?? new ReadSlot(this, LARGE) : this.small.pop() ?? new ReadSlot(this, SMALL);
		return slot.buffer;
	}

	put(slot: ReadSlot): void {
		const large = slot.buffer.length === LARGE;
		const free = large ? this.large : this.small;
		if (free.length < MAX_FREE) {
			free.push(slot);
		} else if (large) {
			// Nothing refers to it any more: the slot object goes, its memory serves whoever needs a page.
			givePage(slot.buffer);
		}
	}
}
