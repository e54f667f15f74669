import type { BodyInfo, Exchange, ExchangeId, ExchangeState, TlsDetails, WebSocketMessage } from '../../shared/exchange';
import { BodyRecord } from './bodyRecord';
import type { BodySide } from './captureStore';
import { HEADER_COST, HeadRecord, STRING_COST } from './headRecord';
import { snapshotRequest, snapshotResponse, type HeaderRewrite } from './snapshot';
import type { SlabLog } from './slabLog';
import { Timing, type TimingTable } from './timingTable';
import type { ChunkHolder } from '../memory/chunkHolder';
import type { CapturedRequestInit } from './types';

// Memory estimates for what is not slab bytes (slabs are charged whole by the store), measured on Node
// 20 / V8 11 with the heap test in test/unit/capture/captureStore.test.ts and bench/capture.bench.mjs:
// a header pair kept as strings (pair array + two strings); a string; a WebSocket message object with
// its payload Buffer (object + backing store header). The record itself is RECORD_COST in captureStore.ts.
export const MESSAGE_COST = 400;

const EMPTY = Buffer.alloc(0);
/** What a released entry points at instead of its last exchange's TLS details. */
const NO_TLS: TlsDetails = Object.freeze({});

/** Where an entry is in the store's current (not yet delivered) batch. */
export const enum Queued { No, Added, Updated }

/** The store's side of an entry, kept narrow so that entries do not reach into the store. */
export interface EntryHost {
	readonly bodyLimit: number;
	readonly log: SlabLog;
	readonly timings: TimingTable;
	/** Adds `bytes` (negative: gives back) to what the entry is charged, without enforcing the budget. */
	charge(entry: CaptureEntry, bytes: number): void;
	/** The entry changed in a way readers see. */
	changed(entry: CaptureEntry): void;
	/** Enforces the budget if the store is over it: the last step of every call that may grow it. */
	settle(): void;
	fault(where: string, error: unknown): void;
}

/** The same string object for the common values, so that the record does not keep the parser's copy. */
function internMethod(method: string): string {
	switch (method) {
		case 'GET': return 'GET';
		case 'POST': return 'POST';
		case 'HEAD': return 'HEAD';
		case 'OPTIONS': return 'OPTIONS';
		case 'PUT': return 'PUT';
		case 'PATCH': return 'PATCH';
		case 'DELETE': return 'DELETE';
		default: return method;
	}
}

function internVersion(version: string): string {
	switch (version) {
		case '1.1': return '1.1';
		case '2': return '2';
		case '1.0': return '1.0';
		default: return version;
	}
}

/**
 * Whether flat `[name, value, …]` response headers say `text/event-stream`: a stream whose chunks are
 * events, so when each arrived is worth keeping. A length test per header first: this runs per response.
 */
function isEventStream(raw: readonly string[]): boolean {
	for (let i = 0; i + 1 < raw.length; i += 2) {
		if (raw[i].length === 12 && raw[i].toLowerCase() === 'content-type') return /^\s*text\/event-stream\s*(;|$)/i.test(raw[i + 1]);
	}
	return false;
}

function bodyInfo(record: BodyRecord): BodyInfo {
	return { size: record.size, captured: record.captured, truncated: record.truncated };
}

function optional(value: number): number | undefined {
	return value === value ? value : undefined;
}

/**
 * A WebSocket payload to keep: a copy in a backing store of its own. The caller's buffer may be a view
 * into something bigger (which the budget would not see) or a read buffer it reuses.
 */
function copyOf(payload: Buffer): Buffer {
	if (payload.byteLength === 0) return EMPTY;
	const copy = Buffer.allocUnsafeSlow(payload.byteLength);
	copy.set(payload);
	return copy;
}

/**
 * One kept exchange. The proxy feeds it through an {@link EntryRecorder}; the recorder methods here are
 * the ones the recorder forwards to while the entry still holds that exchange.
 *
 * Everything is plain fields (small integers and shared strings), a {@link HeadRecord} and a
 * {@link BodyRecord} per side, timings in the store's {@link TimingTable}, header blocks and small body
 * chunks in its {@link SlabLog}: a few heap objects per entry, and the store reuses the entry for a later
 * exchange once this one is gone, so that records are not garbage either (a record that lives as long as
 * the store's FIFO is promoted, traced and swept: ~0.3 µs each, measured). The public {@link Exchange}
 * is a snapshot built only when someone reads it ({@link materialise}, snapshot.ts). What the entry is
 * charged is the store's business: the entry reports bytes through {@link EntryHost.charge}.
 */
export class CaptureEntry {
	/** Changes whenever the entry lets go of an exchange: recorders of an earlier one go quiet. */
	generation = 0;
	id: ExchangeId = 0;
	/** Maintained by the store's {@link EntryList}. */
	position = 0;
	kind: Exchange['kind'] = 'http';
	/**
	 * Bytes charged to the budget for this entry (slab bytes are charged to the store as a whole). The
	 * store's to change, through EntryHost.charge: it is 0 again when the entry is released.
	 */
	cost = 0;
	/** False once evicted, cleared or disposed (until reused): later calls are ignored. */
	live = false;
	queued = Queued.No;
	/** WebSocket messages dropped from the front under memory pressure. */
	droppedMessages = 0;
	state: ExchangeState = 'pending';
	error: string | undefined = undefined;
	note: string | undefined = undefined;
	messages: WebSocketMessage[] | undefined = undefined;

	private client = '';
	private tls: TlsDetails = NO_TLS;
	private connectionReused = false;
	/** This entry's row in the host's timing table, for life. */
	private readonly row: number;
	private method = '';
	private httpVersion = '';
	/** Path and authority, then the headers. */
	private readonly requestHead = new HeadRecord();
	private statusCode = 0;
	/** The reason phrase, then the headers. */
	private readonly responseHead = new HeadRecord();
	/** Response header values the proxy rewrote (rare: redirects to the dev server's own origin). */
	private rewrites: HeaderRewrite[] | undefined = undefined;

	/** Each body's bytes and counters, one code path for either side. */
	private readonly requestBodyRecord = new BodyRecord();
	private readonly responseBodyRecord = new BodyRecord();

	/**
	 * The last snapshot built once the exchange was over, for as long as a reader holds it: the same object
	 * for the next reader (the inspector looks an exchange up again and again) at no memory cost.
	 */
	private finalView: WeakRef<Exchange> | undefined = undefined;

	constructor(private readonly host: EntryHost) {
		this.row = host.timings.allocate();
	}

	/**
	 * Starts holding a new exchange (the entry is new, or released). `start` is the monotonic arrival time
	 * (performance.now()), of TLS failures too. The request side follows with {@link recordRequest}.
	 */
	reset(id: ExchangeId, kind: Exchange['kind'], client: string, tls: TlsDetails, connectionReused: boolean, start: number): void {
		this.id = id;
		this.kind = kind;
		this.live = true;
		this.queued = Queued.No;
		this.droppedMessages = 0;
		this.state = kind === 'tls-error' ? 'tls-error' : 'pending';
		this.error = undefined;
		this.note = undefined;
		this.messages = kind === 'websocket' ? [] : undefined;
		this.client = client;
		this.tls = tls;
		this.connectionReused = connectionReused;
		this.host.timings.reset(this.row, start);
		// A TLS failure is over when it is recorded.
		if (kind === 'tls-error') this.host.timings.set(this.row, Timing.End, 0);
		this.method = '';
		this.httpVersion = '';
		this.statusCode = 0;
		// Heads, bodies and the last snapshot were let go of by release().
	}

	get pending(): boolean {
		return this.state === 'pending';
	}

	private get accepting(): boolean {
		return this.live && this.state === 'pending';
	}

	/**
	 * Keeps the request side; returns the bytes to charge besides the record itself. WebSocket heads stay
	 * strings: the connection lives long, and a slab record would pin its whole slab for that long.
	 */
	recordRequest(request: CapturedRequestInit): number {
		this.method = internMethod(request.method);
		this.httpVersion = internVersion(request.httpVersion);
		return this.requestHead.keep(this.host.log, this.kind !== 'websocket', request.path, request.authority, request.rawHeaders, request.headText);
	}

	// What the recorder forwards

	requestBody(chunk: Buffer): void {
		if (!this.accepting) return;
		try {
			this.appendBody(this.requestBodyRecord, chunk, undefined);
		} catch (error) {
			this.host.fault('requestBody', error);
		}
	}

	responseBody(chunk: Buffer, holder?: ChunkHolder): void {
		if (!this.accepting) return;
		try {
			this.appendBody(this.responseBodyRecord, chunk, holder);
		} catch (error) {
			this.host.fault('responseBody', error);
		}
	}

	upstreamConnected(reused: boolean): void {
		if (!this.accepting || reused) return;
		const offset = this.offset();
		this.host.timings.set(this.row, Timing.UpstreamConnect, offset);
		this.host.changed(this);
	}

	requestSent(): void {
		if (!this.accepting) return;
		const offset = this.offset();
		this.host.timings.set(this.row, Timing.RequestSent, offset);
		this.host.changed(this);
	}

	response(statusCode: number, statusMessage: string, rawHeaders: readonly string[], headText?: string): void {
		if (!this.accepting) return;
		try {
			const offset = this.offset();
			this.host.timings.set(this.row, Timing.ResponseStart, offset);
			// A second head (the proxy should not send one) replaces the first, and its rewrites.
			this.rewrites = undefined;
			this.statusCode = statusCode;
			const heapBytes = this.responseHead.keep(this.host.log, this.kind !== 'websocket', statusMessage, undefined, rawHeaders, headText);
			if (heapBytes > 0) this.host.charge(this, heapBytes);
			if (isEventStream(rawHeaders)) this.responseBodyRecord.timeArrivals();
			this.host.changed(this);
			this.host.settle();
		} catch (error) {
			this.host.fault('response', error);
		}
	}

	responseHeaderRewritten(index: number, original: string, value: string): void {
		if (!this.accepting || !this.responseHead.kept) return;
		try {
			(this.rewrites ??= []).push({ index, original, value });
			this.host.charge(this, HEADER_COST + 2 * STRING_COST + original.length + value.length);
			this.host.changed(this);
			this.host.settle();
		} catch (error) {
			this.host.fault('responseHeaderRewritten', error);
		}
	}

	webSocketMessage(message: { direction: 'client' | 'server'; opcode: number; size: number; payload: Buffer; truncated: boolean; compressed: boolean }): void {
		const messages = this.messages;
		if (!this.accepting || messages === undefined) return;
		try {
			let payload = message.payload;
			let truncated = message.truncated;
			const limit = this.host.bodyLimit;
			if (payload.byteLength > limit) {
				// The parser may have been given a larger cap than ours; ours wins.
				payload = payload.subarray(0, limit);
				truncated = true;
			}
			payload = copyOf(payload);
			messages.push({
				direction: message.direction,
				opcode: message.opcode,
				size: message.size,
				time: this.offset(),
				payload,
				truncated,
				compressed: message.compressed,
			});
			this.host.charge(this, MESSAGE_COST + payload.byteLength);
			this.host.changed(this);
			this.host.settle();
		} catch (error) {
			this.host.fault('webSocketMessage', error);
		}
	}

	finish(state: Exclude<ExchangeState, 'pending'>, error?: string): void {
		if (!this.accepting) return;
		const offset = this.offset();
		this.state = state;
		this.host.timings.set(this.row, Timing.End, offset);
		if (error !== undefined) {
			this.error = error;
			this.host.charge(this, STRING_COST + error.length);
		}
		this.host.changed(this);
		this.host.settle();
	}

	/** Sets the note for the user (replacing any); snapshots taken from now on carry it. */
	annotate(note: string): void {
		if (!this.live) return;
		this.host.charge(this, STRING_COST * (this.note === undefined ? 1 : 0) + note.length - (this.note?.length ?? 0));
		this.note = note;
		this.finalView = undefined;
		this.host.changed(this);
	}

	// For the store

	/**
	 * A snapshot of the exchange as it is now: fresh plain data that no later event changes (a reader
	 * wanting the latest state asks again). Built on demand, never on the recording path. A finished
	 * exchange's snapshot is kept weakly, and only when `share` is set, so that readers who look one
	 * exchange up again and again (the inspector's details) share it. Batches and whole lists do
	 * without: a WeakRef keeps its target through every scavenge until the next full GC, so thousands of
	 * them a second promote every record built for a listener (measured: 4.9 µs of GC per exchange with
	 * a change listener, most of the cost of following the store).
	 */
	materialise(share: boolean): Exchange {
		const held = this.finalView?.deref();
		if (held !== undefined) return held;
		const view = this.build();
		if (share && !this.pending) this.finalView = new WeakRef(view);
		return view;
	}

	/**
	 * The kept bytes of one body, in a fresh Buffer of its own: slabs are reused, and a slice of Node's
	 * allocation pool would pin the pool for as long as the caller keeps it.
	 */
	body(side: BodySide): Buffer {
		const record = this.bodyRecord(side);
		const out = Buffer.allocUnsafeSlow(record.captured);
		record.copyOut(this.host.log, out);
		return out;
	}

	/**
	 * When each chunk of a body arrived, for a server-sent events stream: a fresh flat array of
	 * `[offset in the body, ms from the exchange's start, …]`; undefined for other bodies.
	 */
	arrivals(side: BodySide): number[] | undefined {
		return this.bodyRecord(side).arrivals?.slice();
	}

	/**
	 * Drops the oldest WebSocket messages until at least `bytes` are freed (or none are left).
	 * Returns the bytes freed; the caller un-charges them.
	 */
	trimMessages(bytes: number): number {
		const messages = this.messages;
		if (messages === undefined || messages.length === 0) return 0;
		let freed = 0;
		let count = 0;
		while (count < messages.length && freed < bytes) {
			freed += MESSAGE_COST + messages[count].payload.byteLength;
			count++;
		}
		messages.splice(0, count);
		this.droppedMessages += count;
		return freed;
	}

	/** Moves this entry's slab records that are in slabs being emptied (see {@link SlabLog.beginCompaction}). */
	relocate(): void {
		const log = this.host.log;
		this.requestHead.relocate(log);
		this.responseHead.relocate(log);
		this.requestBodyRecord.relocate(log);
		this.responseBodyRecord.relocate(log);
	}

	/**
	 * Lets go of the exchange and everything it holds (the entry may then be reused); the proxy may still
	 * hold its recorder for a while, which goes quiet.
	 */
	release(): void {
		if (!this.live) return;
		this.live = false;
		this.generation++;
		const log = this.host.log;
		this.requestHead.release(log);
		this.responseHead.release(log);
		this.rewrites = undefined;
		this.requestBodyRecord.release(log);
		this.responseBodyRecord.release(log);
		this.messages = undefined;
		this.error = undefined;
		this.note = undefined;
		this.client = '';
		this.tls = NO_TLS;
		this.finalView = undefined;
	}

	/** The entry will not be reused: gives its timing row back. */
	dispose(): void {
		this.release();
		this.host.timings.free(this.row);
	}

	private offset(): number {
		return performance.now() - this.host.timings.get(this.row, Timing.Start);
	}

	/** A new snapshot of the entry's state now (request and response from snapshot.ts). */
	private build(): Exchange {
		const timings = this.host.timings;
		const row = this.row;
		const log = this.host.log;
		const exchange: { -readonly [K in keyof Exchange]: Exchange[K] } = {
			id: this.id,
			kind: this.kind,
			state: this.state,
			client: this.client,
			tls: this.tls,
			connectionReused: this.connectionReused,
			timings: {
				startTime: performance.timeOrigin + timings.get(row, Timing.Start),
				upstreamConnect: optional(timings.get(row, Timing.UpstreamConnect)),
				requestSent: optional(timings.get(row, Timing.RequestSent)),
				responseStart: optional(timings.get(row, Timing.ResponseStart)),
				end: optional(timings.get(row, Timing.End)),
			},
			request: this.kind === 'tls-error' ? undefined : snapshotRequest(this.method, this.httpVersion, this.requestHead.open(log, 2)),
			response: snapshotResponse(this.statusCode, this.responseHead.open(log, 1), this.rewrites?.slice()),
			requestBody: bodyInfo(this.requestBodyRecord),
			responseBody: bodyInfo(this.responseBodyRecord),
			error: this.error,
			messages: this.messages?.slice(),
		};
		if (this.note !== undefined) exchange.note = this.note;
		return exchange;
	}

	private bodyRecord(side: BodySide): BodyRecord {
		return side === 'request' ? this.requestBodyRecord : this.responseBodyRecord;
	}

	private appendBody(record: BodyRecord, chunk: Buffer, holder: ChunkHolder | undefined): void {
		if (chunk.byteLength === 0) return;
		let charged = record.arrivals === undefined ? 0 : record.noteArrival(this.offset());
		charged += record.append(this.host.log, this.host.bodyLimit, chunk, holder);
		if (charged > 0) this.host.charge(this, charged);
		this.host.changed(this);
		this.host.settle();
	}
}
