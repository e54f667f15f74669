import type { BodyInfo, CapturedResponse, Exchange, ExchangeId, ExchangeState, RawHeaders } from '../../shared/exchange';
import { silentLogger, type Logger } from '../logger';
import { Emitter, type Event } from './events';
import type { CaptureSink, ExchangeInit, ExchangeRecorder, TlsFailureInit } from './types';

/** Options of a {@link CaptureStore}. */
export interface CaptureStoreOptions {
	/** Bytes kept per body (and per WebSocket message); the rest is counted but not kept. Default 1 MiB. */
	readonly bodyLimit?: number;
	/** Memory the whole store may use; the oldest exchanges are evicted beyond it. Default 64 MiB. */
	readonly budgetBytes?: number;
	/** Changes are reported at most once per this many ms. Default 100. */
	readonly batchIntervalMs?: number;
	readonly logger?: Logger;
}

/**
 * One batch of changes. The exchanges are the store's live records (not copies): read them when the
 * event fires and copy what must outlive that. An exchange that was added and changed within one batch
 * appears only in `added`; one that was added and evicted within one batch does not appear at all.
 */
export interface CaptureChange {
	readonly added: readonly Exchange[];
	readonly updated: readonly Exchange[];
	readonly removed: readonly ExchangeId[];
}

/** Which body of an exchange. */
export type BodySide = 'request' | 'response';

/** What the store holds, for status displays and tests. */
export interface CaptureStats {
	/** Exchanges currently kept. */
	readonly count: number;
	/** Estimated bytes held: kept body bytes, WebSocket payloads and a per-record estimate. */
	readonly usedBytes: number;
	readonly budgetBytes: number;
	/** Exchanges evicted to stay within the budget since creation (or the last `clear()`). */
	readonly evicted: number;
	/** WebSocket messages dropped from still-open connections to stay within the budget. */
	readonly droppedMessages: number;
}

const MiB = 1024 * 1024;

// Memory estimates for what is not body bytes, measured on Node 20 / V8 11 with the heap test in
// test/unit/capture/captureStore.test.ts: the record, its timings and body infos, the recorder, the map
// slot; a header pair (array + two strings); a string; a kept chunk (Buffer object + backing store
// header); a WebSocket message object. RECORD_COST was raised from the heap test's 700 after measuring
// exchanges captured through the proxy (real parser strings, h2 header sets): live heap + ArrayBuffer
// growth per kept exchange ran 100-270 bytes over the estimate (bench: --expose-gc, W1 and W4 loads).
const RECORD_COST = 950;
const TLS_COST = 64;
const HEADER_COST = 96;
const STRING_COST = 32;
const CHUNK_COST = 160;
const MESSAGE_COST = 240;

const EMPTY = Buffer.alloc(0);

/** At most this much below the budget is freed by one eviction pass (see enforceBudget). */
const EVICTION_SLACK = MiB;

// Where an entry is in the current (not yet delivered) batch.
const enum Queued { No, Added, Updated }

/** The store's side of an entry, kept narrow so that entries do not reach into the store. */
interface Ledger {
	readonly bodyLimit: number;
	now(): number;
	charge(entry: Entry, bytes: number): void;
	changed(entry: Entry): void;
	fault(where: string, error: unknown): void;
}

/**
 * A kept copy of `chunk` that does not pin more memory than it is charged for. Chunks are often views
 * into a bigger buffer (the socket's read buffer, Node's 8 KiB allocation pool): keeping such a view
 * keeps the whole backing store alive, which the budget would not see. Views that cover at least half
 * of their backing store are kept as they are (no copy on the common path of large reads).
 */
function retainable(chunk: Buffer): Buffer {
	if (chunk.byteLength * 2 >= chunk.buffer.byteLength) return chunk;
	const copy = Buffer.allocUnsafeSlow(chunk.byteLength);
	chunk.copy(copy);
	return copy;
}

/** The bytes a kept buffer (from {@link retainable}) pins: its whole backing store. */
function retainedBytes(kept: Uint8Array): number {
	return kept.byteLength === 0 ? 0 : kept.buffer.byteLength;
}

function headersCost(headers: RawHeaders): number {
	let bytes = STRING_COST + headers.length * HEADER_COST;
	for (let i = 0; i < headers.length; i++) {
		const header = headers[i];
		bytes += header[0].length + header[1].length;
	}
	return bytes;
}

function emptyBody(): BodyInfo {
	return { size: 0, captured: 0, truncated: false };
}

/** One kept exchange and the recorder the proxy feeds it through. */
class Entry implements ExchangeRecorder {
	readonly requestChunks: Buffer[] = [];
	readonly responseChunks: Buffer[] = [];
	/** Bytes charged to the budget for this entry. */
	cost = 0;
	/** False once evicted, cleared or disposed: later calls are ignored. */
	live = true;
	queued = Queued.No;
	/** WebSocket messages dropped from the front under memory pressure. */
	droppedMessages = 0;

	constructor(
		readonly exchange: Exchange,
		private readonly ledger: Ledger,
		private readonly startMonotonic: number,
	) { }

	get id(): ExchangeId {
		return this.exchange.id;
	}

	get pending(): boolean {
		return this.exchange.state === 'pending';
	}

	private get accepting(): boolean {
		return this.live && this.exchange.state === 'pending';
	}

	private offset(): number {
		return this.ledger.now() - this.startMonotonic;
	}

	requestBody(chunk: Buffer): void {
		if (!this.accepting) return;
		try {
			this.append(this.exchange.requestBody, this.requestChunks, chunk);
		} catch (error) {
			this.ledger.fault('requestBody', error);
		}
	}

	responseBody(chunk: Buffer): void {
		if (!this.accepting) return;
		try {
			this.append(this.exchange.responseBody, this.responseChunks, chunk);
		} catch (error) {
			this.ledger.fault('responseBody', error);
		}
	}

	upstreamConnected(reused: boolean): void {
		if (!this.accepting || reused) return;
		this.exchange.timings.upstreamConnect = this.offset();
		this.ledger.changed(this);
	}

	requestSent(): void {
		if (!this.accepting) return;
		this.exchange.timings.requestSent = this.offset();
		this.ledger.changed(this);
	}

	response(response: CapturedResponse): void {
		if (!this.accepting) return;
		try {
			this.exchange.timings.responseStart = this.offset();
			this.exchange.response = response;
			this.ledger.changed(this);
			this.ledger.charge(this, STRING_COST + response.statusMessage.length + headersCost(response.headers));
		} catch (error) {
			this.ledger.fault('response', error);
		}
	}

	webSocketMessage(message: { direction: 'client' | 'server'; opcode: number; size: number; payload: Buffer; truncated: boolean; compressed: boolean }): void {
		const messages = this.exchange.messages;
		if (!this.accepting || messages === undefined) return;
		try {
			let payload = message.payload;
			let truncated = message.truncated;
			if (payload.byteLength > this.ledger.bodyLimit) {
				// The parser may have been given a larger cap than ours; ours wins. Copy, so that the
				// cut-off part is not kept alive behind the view.
				payload = Buffer.from(payload.subarray(0, this.ledger.bodyLimit));
				truncated = true;
			}
			payload = payload.byteLength === 0 ? EMPTY : retainable(payload);
			messages.push({
				direction: message.direction,
				opcode: message.opcode,
				size: message.size,
				time: this.offset(),
				payload,
				truncated,
				compressed: message.compressed,
			});
			this.ledger.changed(this);
			this.ledger.charge(this, MESSAGE_COST + retainedBytes(payload));
		} catch (error) {
			this.ledger.fault('webSocketMessage', error);
		}
	}

	finish(state: Exclude<ExchangeState, 'pending'>, error?: string): void {
		if (!this.accepting) return;
		const exchange = this.exchange;
		exchange.state = state;
		exchange.timings.end = this.offset();
		this.ledger.changed(this);
		if (error !== undefined) {
			exchange.error = error;
			this.ledger.charge(this, STRING_COST + error.length);
		}
	}

	/**
	 * Drops the oldest WebSocket messages until at least `bytes` are freed (or none are left).
	 * Returns the bytes freed; the caller un-charges them.
	 */
	trimMessages(bytes: number): number {
		const messages = this.exchange.messages;
		if (messages === undefined || messages.length === 0) return 0;
		let freed = 0;
		let count = 0;
		while (count < messages.length && freed < bytes) {
			freed += MESSAGE_COST + retainedBytes(messages[count].payload);
			count++;
		}
		messages.splice(0, count);
		this.droppedMessages += count;
		return freed;
	}

	/** Lets go of everything this entry holds; the proxy may still hold the recorder for a while. */
	release(): void {
		this.live = false;
		this.requestChunks.length = 0;
		this.responseChunks.length = 0;
		if (this.exchange.messages) this.exchange.messages.length = 0;
	}

	private append(info: BodyInfo, chunks: Buffer[], chunk: Buffer): void {
		const length = chunk.byteLength;
		if (length === 0) return;
		info.size += length;
		if (!info.truncated) {
			const room = this.ledger.bodyLimit - info.captured;
			let kept: Buffer | undefined;
			if (length <= room) {
				kept = retainable(chunk);
				info.captured += length;
			} else {
				// Copy the part we keep: a view would keep the whole chunk alive.
				if (room > 0) {
					kept = Buffer.from(chunk.subarray(0, room));
					info.captured += room;
				}
				info.truncated = true;
			}
			if (kept !== undefined) {
				chunks.push(kept);
				this.ledger.changed(this);
				this.ledger.charge(this, CHUNK_COST + retainedBytes(kept));
				return;
			}
		}
		this.ledger.changed(this);
	}
}

/**
 * Keeps captured exchanges in memory for the inspector and for export, within a byte budget.
 *
 * The proxy feeds it through the {@link CaptureSink} contract; the UI reads it with {@link list},
 * {@link get} and {@link body} and follows it through {@link onDidChange}. Memory is accounted as kept
 * body bytes, WebSocket payloads and an estimate per record; beyond the budget the oldest finished
 * exchanges are evicted first, then old messages of still-open WebSockets are dropped, and only when
 * that is not enough (more than one body cap over) are the oldest in-flight exchanges evicted too.
 */
export class CaptureStore implements CaptureSink {
	readonly bodyLimit: number;
	readonly budgetBytes: number;
	readonly batchIntervalMs: number;

	private readonly logger: Logger;
	/** In arrival order, so iteration starts with the oldest. */
	private readonly entries = new Map<ExchangeId, Entry>();
	private readonly ledger: Ledger;
	private readonly changeEmitter: Emitter<CaptureChange>;
	private nextId = 1;
	private usedBytes = 0;
	private evictedCount = 0;
	private droppedMessageCount = 0;
	private faults = 0;
	private isPaused = false;
	private disposed = false;

	private batchAdded: Entry[] = [];
	private batchUpdated: Entry[] = [];
	private batchRemoved: ExchangeId[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly flushBound = () => this.flush();

	/** Fires batched changes, at most once per `batchIntervalMs`. */
	readonly onDidChange: Event<CaptureChange>;

	constructor(options: CaptureStoreOptions = {}) {
		this.bodyLimit = Math.max(0, Math.floor(options.bodyLimit ?? MiB));
		this.budgetBytes = Math.max(0, Math.floor(options.budgetBytes ?? 64 * MiB));
		this.batchIntervalMs = Math.max(0, options.batchIntervalMs ?? 100);
		this.logger = options.logger ?? silentLogger;
		this.changeEmitter = new Emitter<CaptureChange>((error) => this.logger.error(`[capture] change listener failed: ${String(error)}`));
		this.onDidChange = this.changeEmitter.event;
		this.ledger = {
			bodyLimit: this.bodyLimit,
			now: () => performance.now(),
			charge: (entry, bytes) => this.charge(entry, bytes),
			changed: (entry) => this.changed(entry),
			fault: (where, error) => this.fault(where, error),
		};
	}

	/** True while paused: new exchanges are not recorded (in-flight ones still finish). */
	get paused(): boolean {
		return this.isPaused;
	}

	/** Stops recording new exchanges and TLS failures until {@link resume}. */
	pause(): void {
		this.isPaused = true;
	}

	/** Records again after {@link pause}. */
	resume(): void {
		this.isPaused = false;
	}

	beginExchange(init: ExchangeInit): ExchangeRecorder | undefined {
		if (this.isPaused || this.disposed) return undefined;
		try {
			const request = init.request;
			const exchange: Exchange = {
				id: this.nextId++,
				kind: init.kind,
				state: 'pending',
				client: init.client,
				tls: init.tls,
				timings: { startTime: init.startTime, upstreamConnect: undefined, requestSent: undefined, responseStart: undefined, end: undefined },
				request,
				response: undefined,
				requestBody: emptyBody(),
				responseBody: emptyBody(),
				error: undefined,
				messages: init.kind === 'websocket' ? [] : undefined,
			};
			const entry = new Entry(exchange, this.ledger, init.startMonotonic);
			this.add(entry, RECORD_COST + TLS_COST + 4 * STRING_COST + init.client.length + request.method.length
				+ request.path.length + request.authority.length + request.httpVersion.length + headersCost(request.headers));
			return entry;
		} catch (error) {
			this.fault('beginExchange', error);
			return undefined;
		}
	}

	tlsFailure(init: TlsFailureInit): void {
		if (this.isPaused || this.disposed) return;
		try {
			const exchange: Exchange = {
				id: this.nextId++,
				kind: 'tls-error',
				state: 'tls-error',
				client: init.client,
				tls: init.tls,
				timings: { startTime: init.startTime, upstreamConnect: undefined, requestSent: undefined, responseStart: undefined, end: 0 },
				request: undefined,
				response: undefined,
				requestBody: emptyBody(),
				responseBody: emptyBody(),
				error: init.error,
				messages: undefined,
			};
			this.add(new Entry(exchange, this.ledger, 0), RECORD_COST + TLS_COST + 2 * STRING_COST + init.client.length + init.error.length);
		} catch (error) {
			this.fault('tlsFailure', error);
		}
	}

	/** The exchange with this id, if still kept. */
	get(id: ExchangeId): Exchange | undefined {
		return this.entries.get(id)?.exchange;
	}

	/** All kept exchanges, oldest first. */
	list(): Exchange[] {
		return Array.from(this.entries.values(), (entry) => entry.exchange);
	}

	/**
	 * The kept (raw, still content-encoded) bytes of one body, or undefined when the exchange is gone.
	 * Only the first `bodyLimit` bytes when the body's `truncated` flag is set.
	 */
	body(id: ExchangeId, side: BodySide): Buffer | undefined {
		const entry = this.entries.get(id);
		if (entry === undefined) return undefined;
		const chunks = side === 'request' ? entry.requestChunks : entry.responseChunks;
		if (chunks.length === 1) return chunks[0];
		return Buffer.concat(chunks);
	}

	/** Memory accounting and counters. */
	stats(): CaptureStats {
		return {
			count: this.entries.size,
			usedBytes: this.usedBytes,
			budgetBytes: this.budgetBytes,
			evicted: this.evictedCount,
			droppedMessages: this.droppedMessageCount,
		};
	}

	/** Forgets every exchange (in-flight ones stop being recorded) and reports them as removed. */
	clear(): void {
		for (const entry of this.entries.values()) this.remove(entry);
		this.usedBytes = 0;
		this.evictedCount = 0;
		this.droppedMessageCount = 0;
	}

	/** Stops timers, forgets everything and drops listeners. Later calls record nothing. */
	dispose(): void {
		if (this.disposed) return;
		this.disposed = true;
		if (this.timer !== undefined) clearTimeout(this.timer);
		this.timer = undefined;
		for (const entry of this.entries.values()) entry.release();
		this.entries.clear();
		this.usedBytes = 0;
		this.batchAdded = [];
		this.batchUpdated = [];
		this.batchRemoved = [];
		this.changeEmitter.dispose();
	}

	private add(entry: Entry, cost: number): void {
		this.entries.set(entry.id, entry);
		if (this.changeEmitter.hasListeners) {
			entry.queued = Queued.Added;
			this.batchAdded.push(entry);
			this.schedule();
		}
		this.charge(entry, cost);
	}

	private charge(entry: Entry, bytes: number): void {
		entry.cost += bytes;
		this.usedBytes += bytes;
		if (this.usedBytes > this.budgetBytes) this.enforceBudget();
	}

	private changed(entry: Entry): void {
		// One flag test per call on the hot path; the batch lists hold each entry at most once.
		if (entry.queued !== Queued.No || !this.changeEmitter.hasListeners) return;
		entry.queued = Queued.Updated;
		this.batchUpdated.push(entry);
		this.schedule();
	}

	private enforceBudget(): void {
		const budget = this.budgetBytes;
		// Finished exchanges are evicted down to a little under the budget, so that a steady stream of
		// small exchanges triggers one eviction pass per few hundred exchanges rather than one each
		// (every pass walks the map from its oldest entries, in-flight ones included).
		const target = budget - Math.min(budget >> 5, EVICTION_SLACK);
		// Map iteration tolerates deleting the current entry.
		for (const entry of this.entries.values()) {
			if (this.usedBytes <= target) return;
			if (!entry.pending) {
				this.remove(entry);
				this.evictedCount++;
			}
		}
		// Only in-flight exchanges are left. A long-lived WebSocket keeps growing: drop its oldest
		// messages before dropping the connection from view.
		for (const entry of this.entries.values()) {
			if (this.usedBytes <= budget) return;
			const droppedBefore = entry.droppedMessages;
			const freed = entry.trimMessages(this.usedBytes - budget);
			if (freed > 0) {
				this.droppedMessageCount += entry.droppedMessages - droppedBefore;
				entry.cost -= freed;
				this.usedBytes -= freed;
				this.changed(entry);
			}
		}
		// Still over: in-flight bodies. Tolerate up to one body cap over (the body being received) rather
		// than evicting an exchange the user is probably waiting for.
		for (const entry of this.entries.values()) {
			if (this.usedBytes <= budget + this.bodyLimit) return;
			this.remove(entry);
			this.evictedCount++;
		}
	}

	private remove(entry: Entry): void {
		this.entries.delete(entry.id);
		this.usedBytes -= entry.cost;
		entry.cost = 0;
		entry.release();
		// An entry whose addition has not been delivered yet simply never appears (flush skips it).
		if (entry.queued !== Queued.Added && this.changeEmitter.hasListeners) {
			this.batchRemoved.push(entry.id);
			this.schedule();
		}
	}

	private schedule(): void {
		if (this.timer !== undefined || this.disposed) return;
		this.timer = setTimeout(this.flushBound, this.batchIntervalMs);
		// Pending UI updates must not keep a CLI process alive.
		this.timer.unref();
	}

	private flush(): void {
		this.timer = undefined;
		const added: Exchange[] = [];
		const updated: Exchange[] = [];
		for (const entry of this.batchAdded) {
			entry.queued = Queued.No;
			if (entry.live) added.push(entry.exchange);
		}
		for (const entry of this.batchUpdated) {
			entry.queued = Queued.No;
			if (entry.live) updated.push(entry.exchange);
		}
		const removed = this.batchRemoved;
		this.batchAdded = [];
		this.batchUpdated = [];
		this.batchRemoved = [];
		if (added.length > 0 || updated.length > 0 || removed.length > 0) {
			this.changeEmitter.fire({ added, updated, removed });
		}
	}

	private fault(where: string, error: unknown): void {
		// A bug here must not break forwarding; say so a few times, then stay quiet.
		if (++this.faults <= 5) this.logger.error(`[capture] ${where} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
	}
}
