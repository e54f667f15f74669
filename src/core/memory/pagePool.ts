/**
 * Free 64 KiB buffers shared, process-wide, by the two things that cycle through memory at the rate of
 * the traffic: the proxy's upstream read buffers (`proxy/readPool.ts`) and the capture store's slab log.
 *
 * Why shared: capture keeps large response chunks by holding the read buffers they arrived in, and
 * hands them back when it evicts those exchanges. After a phase of large downloads that is a budget's
 * worth of read buffers coming back while the slab log needs memory for small exchanges. With a pool
 * each, the read pool dropped what it could not keep (to a garbage collector that frees backing stores
 * only at its next full collection, into a malloc heap that keeps them) while the log allocated anew:
 * measured, 45 MiB more peak RSS when HTTP/2 load followed 1 MiB downloads. With one pool, the pages
 * simply change hands.
 */
export const PAGE_SIZE = 64 * 1024;

/** Free pages kept (4 MiB); beyond that they are left to the garbage collector. */
const MAX_FREE = 64;

const free: Buffer[] = [];

/** A page to write into: a free one, or a new one. Its content is whatever its last user left. */
export function takePage(): Buffer {
	return free.pop() ?? Buffer.allocUnsafeSlow(PAGE_SIZE);
}

/** Gives back a page nothing refers to any more (its last user must not touch it again). */
export function givePage(page: Buffer): void {
	if (free.length < MAX_FREE && page.byteLength === PAGE_SIZE) free.push(page);
}
