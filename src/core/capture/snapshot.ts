import type { CapturedRequest, CapturedResponse, RawHeaders, RewrittenHeader } from '../../shared/exchange';
import type { KeptHead } from './headRecord';

/** A response header value the proxy rewrote: which pair, what the dev server sent, what the client got. */
export interface HeaderRewrite {
	readonly index: number;
	readonly original: string;
	readonly value: string;
}

/**
 * The request and response of an exchange's public record (its snapshot, which the entry puts
 * together): fresh plain data that shares nothing the entry changes later, so that no later event
 * changes it.
 * Headers kept in the log are split out of their head (one string, decoded when the head was opened)
 * only when first read, by an own enumerable getter, which spread, JSON and structured clone see like
 * a plain field: a reader of a batch (the inspector's list, a log line) mostly wants the request line
 * and status, not some twenty header pairs per exchange built and collected for nothing.
 * Measured with a change listener (bench/capture.bench.mjs, interleaved A/B, medians of 7): passing the
 * entry's state here in one parts object cost 1.4 µs per exchange, Object.freeze on the snapshot's
 * objects 1.3 µs, spreading optional fields into the literals 0.7 µs; none of them is done.
 */
/** The snapshot's request, or undefined when no head is kept. */
export function snapshotRequest(method: string, httpVersion: string, head: KeptHead | undefined): CapturedRequest | undefined {
	if (head === undefined) return undefined;
	let headers: RawHeaders | undefined;
	return {
		method, path: head.leading[0], authority: head.leading[1], httpVersion,
		get headers() { return headers ??= head.headers(); },
	};
}

/** The snapshot's response; `rewrites` is the snapshot's own (a copy), so later rewrites do not reach it. */
export function snapshotResponse(statusCode: number, head: KeptHead | undefined, rewrites: readonly HeaderRewrite[] | undefined): CapturedResponse | undefined {
	if (head === undefined) return undefined;
	let headers: RawHeaders | undefined;
	const response: { -readonly [K in keyof CapturedResponse]: CapturedResponse[K] } = {
		statusCode, statusMessage: head.leading[0],
		get headers() { return headers ??= withRewrites(head.headers(), rewrites); },
	};
	if (rewrites !== undefined) response.rewritten = rewrittenOf(rewrites);
	return response;
}

/** `pairs` (fresh, the caller's to change) with the values the client got in place of rewritten ones. */
function withRewrites(pairs: RawHeaders, rewrites: readonly HeaderRewrite[] | undefined): RawHeaders {
	if (rewrites !== undefined) {
		for (const { index, value } of rewrites) {
			if (index < pairs.length) pairs[index] = [pairs[index][0], value];
		}
	}
	return pairs;
}

function rewrittenOf(rewrites: readonly HeaderRewrite[]): RewrittenHeader[] {
	return rewrites.map(({ index, original }) => ({ index, original }));
}
