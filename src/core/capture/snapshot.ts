import type { BodyInfo, CapturedResponse, Exchange, ExchangeId, ExchangeState, ExchangeTimings, RawHeaders, RewrittenHeader, TlsDetails, WebSocketMessage } from '../../shared/exchange';
import type { KeptHead } from './headRecord';

/** A response header value the proxy rewrote: which pair, what the dev server sent, what the client got. */
export interface HeaderRewrite {
	readonly index: number;
	readonly original: string;
	readonly value: string;
}

/** What a snapshot is made of: an entry's state as plain values, read when a reader asks for it. */
export interface SnapshotParts {
	readonly id: ExchangeId;
	readonly kind: Exchange['kind'];
	readonly state: ExchangeState;
	readonly client: string;
	readonly tls: TlsDetails;
	readonly method: string;
	readonly httpVersion: string;
	readonly requestHead: KeptHead | undefined;
	readonly statusCode: number;
	readonly responseHead: KeptHead | undefined;
	/** Owned by the snapshot (a copy): later rewrites must not reach it. */
	readonly rewrites: readonly HeaderRewrite[] | undefined;
	readonly timings: ExchangeTimings;
	readonly requestBody: BodyInfo;
	readonly responseBody: BodyInfo;
	readonly error: string | undefined;
	readonly messages: readonly WebSocketMessage[] | undefined;
	readonly note: string | undefined;
}

/**
 * The public record of an exchange: fresh plain data that shares nothing its entry changes later, so
 * that no later event changes it. Not frozen: Object.freeze on the five objects of every snapshot cost
 * 1.3 µs per exchange with a change listener (bench/capture.bench.mjs, interleaved A/B), and nobody
 * else holds them to change them.
 * Headers kept in the log are split out of their head (one string, decoded when the head was opened)
 * only when first read, by an own enumerable getter, which spread, JSON and structured clone see like
 * a plain field: a reader of a batch (the inspector's list, a log line) mostly wants the request line
 * and status, not some twenty header pairs per exchange built and collected for nothing.
 */
export function buildSnapshot(parts: SnapshotParts): Exchange {
	let request: Exchange['request'];
	const requestHead = parts.requestHead;
	if (requestHead !== undefined) {
		let headers: RawHeaders | undefined;
		request = {
			method: parts.method, path: requestHead.leading[0], authority: requestHead.leading[1], httpVersion: parts.httpVersion,
			get headers() { return headers ??= requestHead.headers(); },
		};
	}
	let response: CapturedResponse | undefined;
	const { responseHead, rewrites } = parts;
	if (responseHead !== undefined) {
		const rewritten = rewrites === undefined ? undefined : { rewritten: rewrittenOf(rewrites) };
		let headers: RawHeaders | undefined;
		response = {
			statusCode: parts.statusCode, statusMessage: responseHead.leading[0],
			get headers() { return headers ??= withRewrites(responseHead.headers(), rewrites); },
			...rewritten,
		};
	}
	return {
		id: parts.id,
		kind: parts.kind,
		state: parts.state,
		client: parts.client,
		tls: parts.tls,
		timings: parts.timings,
		request,
		response,
		requestBody: parts.requestBody,
		responseBody: parts.responseBody,
		error: parts.error,
		messages: parts.messages === undefined ? undefined : parts.messages.slice(),
		...(parts.note !== undefined ? { note: parts.note } : {}),
	};
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
