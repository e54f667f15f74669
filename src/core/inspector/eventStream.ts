// Server-sent events read back from a captured `text/event-stream` body, as a browser's EventSource
// would dispatch them (WHATWG HTML, "Interpreting an event stream"), with when each arrived.

/** One dispatched event. */
export interface ParsedEvent {
	/** The stream's last event ID when the event was dispatched (as `MessageEvent.lastEventId`). */
	readonly id: string;
	/** `event:` field, or `message`. */
	readonly type: string;
	readonly data: string;
	/** `retry:` set on the way to this event (reconnection time in ms), if any. */
	readonly retry?: number;
	/** Byte offset in the body just past the blank line that dispatched the event. */
	readonly end: number;
}

const LF = 0x0a;
const CR = 0x0d;
// The stream's BOM is skipped by hand; one inside a line is kept, as the spec's decoder would.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The events of an event-stream body, in order. Lines end in CRLF, LF or CR; `:` lines are comments;
 * an event is dispatched by a blank line and only when it has data. The last, unterminated event is not
 * (the stream goes on, or ended mid-event: EventSource drops it too); with `complete` false a final CR
 * is not taken for a line end, since its LF may be in the next chunk.
 */
export function parseEventStream(body: Uint8Array, complete: boolean): ParsedEvent[] {
	const events: ParsedEvent[] = [];
	let lastId = '';
	let type = '';
	let data: string[] = [];
	let retry: number | undefined;
	// A UTF-8 BOM at the very start is not part of the first field name.
	let at = body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
	while (at < body.length) {
		let end = at;
		while (end < body.length && body[end] !== LF && body[end] !== CR) end++;
		if (end === body.length) break;
		let next = end + 1;
		if (body[end] === CR) {
			if (next === body.length && !complete) break;
			if (body[next] === LF) next++;
		}
		if (end === at) {
			if (data.length > 0) {
				events.push({ id: lastId, type: type || 'message', data: data.join('\n'), ...(retry !== undefined ? { retry } : {}), end: next });
			}
			type = '';
			data = [];
			retry = undefined;
		} else if (body[at] !== 0x3a) {
			const line = decoder.decode(body.subarray(at, end));
			const colon = line.indexOf(':');
			const field = colon < 0 ? line : line.slice(0, colon);
			let value = colon < 0 ? '' : line.slice(colon + 1);
			if (value.startsWith(' ')) value = value.slice(1);
			switch (field) {
				case 'event': type = value; break;
				case 'data': data.push(value); break;
				case 'id': if (!value.includes('\0')) lastId = value; break;
				case 'retry': if (/^\d+$/.test(value)) retry = Number(value); break;
			}
		}
		at = next;
	}
	return events;
}

/**
 * When the byte at `offset` arrived, from a body's flat `[offset, time, …]` arrivals (offsets rising):
 * the time of the chunk that held it, or undefined when none is known.
 */
export function arrivalAt(arrivals: readonly number[] | undefined, offset: number): number | undefined {
	if (arrivals === undefined || arrivals.length === 0) return undefined;
	// The last chunk that starts at or before `offset`.
	let lo = 0;
	let hi = (arrivals.length >> 1) - 1;
	if (arrivals[0] > offset) return undefined;
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if (arrivals[mid * 2] <= offset) lo = mid;
		else hi = mid - 1;
	}
	return arrivals[lo * 2 + 1];
}
