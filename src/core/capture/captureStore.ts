import { SETTINGS } from '../../shared/settings';
import type { Exchange, ExchangeId } from '../../shared/exchange';
import { silentLogger, type Logger } from '../logger';
import { CaptureEntry, Queued, type EntryHost } from './captureEntry';
import { STRING_COST } from './headRecord';
import { EntryList } from './entryList';
import { EntryRecorder } from './entryRecorder';
import { Emitter, type Event } from '../events';
import { PAGE_SIZE } from '../memory/pagePool';
import { SlabLog } from './slabLog';
import { TimingTable } from './timingTable';
import type { CaptureSink, ExchangeInit, ExchangeRecorder, TlsFailureInit } from './types';

/** Options of a {@link CaptureStore}. */
export interface CaptureStoreOptions {
	/** Bytes kept per body (and per WebSocket message); the rest is counted but not kept. Default 1 MiB. */
	readonly bodyLimit?: number;
	/** Memory the whole store may use; the oldest exchanges are evicted beyond it. Default 64 MiB. */
	readonly budgetBytes?: number;
	/**
	 * Changes are reported at most once per this many ms. Default 100: the inspector's list gets one
	 * `rows` event per change event (RowFeed), so this is also how often its rows move.
	 */
	readonly batchIntervalMs?: number;
	readonly logger?: Logger;
}

/**
 * One batch of changes. The exchanges are snapshots of their state when the batch was delivered,
 * which listeners may keep (what they keep is memory the budget does not see). An exchange that was added and changed within one batch
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
	/**
	 * Estimated bytes held: the log's slabs (header blocks and bodies, spares included), read buffers held
	 * for large body chunks, WebSocket payloads, and a per-record estimate.
	 */
	readonly usedBytes: number;
	readonly budgetBytes: number;
	/** Exchanges evicted to stay within the budget since creation (or the last `clear()`). */
	readonly evicted: number;
	/** WebSocket messages dropped from still-open connections to stay within the budget. */
	readonly droppedMessages: number;
}

const MiB = 1024 * 1024;

// Memory estimates for what is not slab bytes (the slab log is charged whole: every slab held, written
// or not), measured on Node 20 / V8 11 (heap growth after GC minus slab bytes, 50,000 exchanges, and the
// heap test in test/unit/capture/captureStore.test.ts): a record, i.e. the entry object (~310 bytes), its
// head and body records (~140 bytes for the four; bench/capture.bench.mjs's live heap grew by 4 MB over
// 28,560 records when they were split out of the entry), its list slots and timing row, ~520 bytes in
// all; the TLS details and client string of its connection
// (shared by the connection's exchanges under keep-alive, so an over-estimate there). The per-part
// constants are in captureEntry.ts.
const RECORD_COST = 540;
const TLS_COST = 64;

/** At most this much below the budget is freed by one eviction pass (see enforceBudget). */
const EVICTION_SLACK = MiB;

/**
 * Released entries kept for reuse. An eviction pass frees up to EVICTION_SLACK, a few hundred small
 * exchanges, which the next ones reuse; beyond this many the rest are left to the GC (so a store that
 * shrinks does not keep its peak's entries: at most ~1 MiB of them, not charged).
 */
const MAX_SPARE_ENTRIES = 2048;

/**
 * Slabs are 1/64 of the budget (a power of two between these), so that a partly used one is small, and
 * at most a page of the pool shared with the proxy's read buffers (see pagePool.ts).
 */
const MIN_SLAB = 4 * 1024;
const MAX_SLAB = PAGE_SIZE;

function slabSizeFor(budget: number): number {
	let size = MIN_SLAB;
	while (size < MAX_SLAB && size * 2 <= budget / 64) size *= 2;
	return size;
}

/**
 * Keeps captured exchanges in memory for the inspector and for export, within a byte budget.
 *
 * The proxy feeds it through the {@link CaptureSink} contract; the UI reads it with {@link list},
 * {@link get} and {@link body} and follows it through {@link onDidChange}. Memory is accounted as the
 * slabs of the log that holds header blocks and body bytes (see {@link SlabLog}; every slab held counts
 * whole), WebSocket payloads, and an estimate per record; beyond the budget the oldest finished exchanges
 * are evicted first, then old messages of still-open WebSockets are dropped, and only when that is not
 * enough (more than one body cap over) are the oldest in-flight exchanges evicted too.
 *
 * On the proxy's path a record is one reused object with plain fields plus bytes copied into the log:
 * the public {@link Exchange} objects are built only for readers (see {@link CaptureEntry.materialise}),
 * so with nobody reading (the CLI) none are built at all.
 */
export class CaptureStore implements CaptureSink {
	readonly bodyLimit: number;
	readonly budgetBytes: number;
	readonly batchIntervalMs: number;

	private readonly logger: Logger;
	/** In arrival order, so iteration starts with the oldest. */
	private readonly entries = new EntryList<CaptureEntry>();
	private readonly spareEntries: CaptureEntry[] = [];
	private readonly log: SlabLog;
	private readonly timings = new TimingTable();
	private readonly host: EntryHost;
	private readonly changeEmitter: Emitter<CaptureChange>;
	private nextId = 1;
	/** Bytes charged to entries; the slab log's held bytes come on top. */
	private recordBytes = 0;
	private evictedCount = 0;
	private droppedMessageCount = 0;
	private faults = 0;
	private isPaused = false;
	private disposed = false;

	// Entries of the current batch, each with the generation it was queued in: an entry may be evicted
	// and reused for another exchange before the batch is delivered.
	private batchAdded: CaptureEntry[] = [];
	private batchAddedGenerations: number[] = [];
	private batchUpdated: CaptureEntry[] = [];
	private batchUpdatedGenerations: number[] = [];
	private batchRemoved: ExchangeId[] = [];
	private timer: NodeJS.Timeout | undefined;
	private readonly flushBound = () => this.flush();

	/** Fires batched changes, at most once per `batchIntervalMs`. */
	readonly onDidChange: Event<CaptureChange>;

	constructor(options: CaptureStoreOptions = {}) {
		this.bodyLimit = Math.max(0, Math.floor(options.bodyLimit ?? SETTINGS['capture.bodyLimit'].default));
		this.budgetBytes = Math.max(0, Math.floor(options.budgetBytes ?? SETTINGS['capture.budget'].default));
		this.batchIntervalMs = Math.max(0, options.batchIntervalMs ?? 100);
		this.logger = options.logger ?? silentLogger;
		this.log = new SlabLog(slabSizeFor(this.budgetBytes));
		this.changeEmitter = new Emitter<CaptureChange>((error) => this.logger.error(`[capture] change listener failed: ${String(error)}`));
		this.onDidChange = this.changeEmitter.event;
		this.host = {
			bodyLimit: this.bodyLimit,
			log: this.log,
			timings: this.timings,
			charge: (entry, bytes) => this.charge(entry, bytes),
			changed: (entry) => this.changed(entry),
			settle: () => {
				if (this.recordBytes + this.log.memoryBytes > this.budgetBytes) this.enforceBudget();
			},
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
		let entry: CaptureEntry | undefined;
		try {
			entry = this.spareEntries.pop() ?? new CaptureEntry(this.host);
			entry.reset(this.nextId, init.kind, init.client, init.tls, init.connectionReused, init.startMonotonic);
			const cost = entry.recordRequest(init.request);
			this.nextId++;
			const recorder = new EntryRecorder(entry.id, entry, entry.generation);
			this.add(entry, RECORD_COST + TLS_COST + STRING_COST + init.client.length + cost);
			return recorder;
		} catch (error) {
			// Not added (bad input): give back what it took.
			if (entry !== undefined && this.entries.get(entry.id) !== entry) this.recycle(entry);
			this.fault('beginExchange', error);
			return undefined;
		}
	}

	tlsFailure(init: TlsFailureInit): void {
		if (this.isPaused || this.disposed) return;
		try {
			const cost = RECORD_COST + TLS_COST + 2 * STRING_COST + init.client.length + init.error.length;
			const entry = this.spareEntries.pop() ?? new CaptureEntry(this.host);
			entry.reset(this.nextId++, 'tls-error', init.client, init.tls, false, init.startMonotonic);
			entry.error = init.error;
			this.add(entry, cost);
		} catch (error) {
			this.fault('tlsFailure', error);
		}
	}

	/**
	 * Attaches a note for the user to a kept exchange (the inspector shows it in the row and details);
	 * listeners get the exchange as updated. Ignored once the exchange is gone.
	 */
	annotate(id: ExchangeId, note: string): void {
		this.entries.get(id)?.annotate(note);
	}

	/** The exchange with this id, if still kept. */
	get(id: ExchangeId): Exchange | undefined {
		return this.entries.get(id)?.materialise(true);
	}

	/** All kept exchanges, oldest first. */
	list(): Exchange[] {
		const exchanges: Exchange[] = [];
		const entries = this.entries;
		for (let i = entries.start; i < entries.end; i++) {
			const entry = entries.at(i);
			if (entry !== undefined) exchanges.push(entry.materialise(false));
		}
		return exchanges;
	}

	/**
	 * The kept (raw, still content-encoded) bytes of one body, or undefined when the exchange is gone.
	 * Only the first `bodyLimit` bytes when the body's `truncated` flag is set.
	 */
	body(id: ExchangeId, side: BodySide): Buffer | undefined {
		return this.entries.get(id)?.body(side);
	}

	/**
	 * When each chunk of a server-sent events body arrived: flat `[offset in the body, ms from the
	 * exchange's start, …]`, one pair per chunk kept; undefined for other bodies and gone exchanges.
	 */
	bodyArrivals(id: ExchangeId, side: BodySide): number[] | undefined {
		return this.entries.get(id)?.arrivals(side);
	}

	/** Memory accounting and counters. */
	stats(): CaptureStats {
		return {
			count: this.entries.size,
			usedBytes: this.recordBytes + this.log.memoryBytes,
			budgetBytes: this.budgetBytes,
			evicted: this.evictedCount,
			droppedMessages: this.droppedMessageCount,
		};
	}

	/** Forgets every exchange (in-flight ones stop being recorded) and reports them as removed. */
	clear(): void {
		const entries = this.entries;
		for (let i = entries.start; i < entries.end; i++) {
			const entry = entries.at(i);
			if (entry !== undefined) this.remove(entry);
		}
		entries.clear();
		// Back to nothing held: no spare entries or slabs either.
		for (const entry of this.spareEntries) entry.dispose();
		this.spareEntries.length = 0;
		this.recordBytes = 0;
		this.log.clear();
		this.evictedCount = 0;
		this.droppedMessageCount = 0;
	}

	/** Stops timers, forgets everything and drops listeners. Later calls record nothing. */
	dispose(): void {
		if (this.disposed) return;
		this.disposed = true;
		if (this.timer !== undefined) clearTimeout(this.timer);
		this.timer = undefined;
		const entries = this.entries;
		for (let i = entries.start; i < entries.end; i++) entries.at(i)?.release();
		entries.clear();
		this.spareEntries.length = 0;
		this.recordBytes = 0;
		this.log.clear();
		this.timings.clear();
		this.batchAdded = [];
		this.batchAddedGenerations = [];
		this.batchUpdated = [];
		this.batchUpdatedGenerations = [];
		this.batchRemoved = [];
		this.changeEmitter.dispose();
	}

	private add(entry: CaptureEntry, cost: number): void {
		if (cost !== cost) cost = RECORD_COST;
		this.entries.push(entry);
		if (this.changeEmitter.hasListeners) {
			entry.queued = Queued.Added;
			this.batchAdded.push(entry);
			this.batchAddedGenerations.push(entry.generation);
			this.schedule();
		}
		this.charge(entry, cost);
		if (this.recordBytes + this.log.memoryBytes > this.budgetBytes) this.enforceBudget();
	}

	/**
	 * The one place that changes what an entry (and so the store) is charged: `bytes` more, or with a
	 * negative `bytes` given back. Enforcing the budget is the caller's next step (see EntryHost.settle).
	 */
	private charge(entry: CaptureEntry, bytes: number): void {
		// NaN (sizes of a non-string a buggy caller passed) must not poison the accounting.
		if (bytes !== bytes) return;
		entry.cost += bytes;
		this.recordBytes += bytes;
	}

	private changed(entry: CaptureEntry): void {
		// One flag test per call on the hot path; the batch lists hold each entry at most once.
		if (entry.queued !== Queued.No || !this.changeEmitter.hasListeners) return;
		entry.queued = Queued.Updated;
		this.batchUpdated.push(entry);
		this.batchUpdatedGenerations.push(entry.generation);
		this.schedule();
	}

	private used(): number {
		return this.recordBytes + this.log.memoryBytes;
	}

	private enforceBudget(): void {
		const budget = this.budgetBytes;
		// Slabs pinned by a few long-lived records (a slow stream's chunks, say) hold memory that evicting
		// finished exchanges cannot free: move those records forward first.
		if (this.log.waste > Math.max(4 * this.log.slabSize, budget >> 3)) this.compact();
		// Finished exchanges are evicted down to a little under the budget, so that a steady stream of
		// small exchanges triggers one eviction pass per few hundred exchanges rather than one each
		// (every pass walks the list from its oldest entries, in-flight ones included).
		const target = budget - Math.min(budget >> 5, EVICTION_SLACK);
		const entries = this.entries;
		// Removing leaves a hole: iteration goes on.
		const end = entries.end;
		for (let i = entries.start; i < end; i++) {
			if (this.used() <= target) return;
			const entry = entries.at(i);
			if (entry !== undefined && !entry.pending) {
				this.remove(entry);
				this.evictedCount++;
			}
		}
		// Only in-flight exchanges are left. A long-lived WebSocket keeps growing: drop its oldest
		// messages before dropping the connection from view.
		for (let i = entries.start; i < end; i++) {
			if (this.used() <= budget) return;
			const entry = entries.at(i);
			if (entry === undefined) continue;
			const droppedBefore = entry.droppedMessages;
			const freed = entry.trimMessages(this.used() - budget);
			if (freed > 0) {
				this.droppedMessageCount += entry.droppedMessages - droppedBefore;
				this.charge(entry, -freed);
				this.changed(entry);
			}
		}
		// Still over: in-flight bodies. Tolerate up to one body cap over (the body being received) rather
		// than evicting an exchange the user is probably waiting for.
		for (let i = entries.start; i < end; i++) {
			if (this.used() <= budget + this.bodyLimit) return;
			const entry = entries.at(i);
			if (entry === undefined) continue;
			this.remove(entry);
			this.evictedCount++;
		}
	}

	/** Moves the live records out of mostly empty slabs, when that frees at least half of the waste. */
	private compact(): void {
		const log = this.log;
		if (!log.beginCompaction(log.waste / 2)) return;
		try {
			const entries = this.entries;
			for (let i = entries.start; i < entries.end; i++) entries.at(i)?.relocate();
		} finally {
			log.endCompaction();
		}
	}

	private remove(entry: CaptureEntry): void {
		this.entries.remove(entry);
		this.charge(entry, -entry.cost);
		// An entry whose addition has not been delivered yet simply never appears (flush skips it).
		if (entry.queued !== Queued.Added && this.changeEmitter.hasListeners) {
			this.batchRemoved.push(entry.id);
			this.schedule();
		}
		this.recycle(entry);
	}

	/** Releases an entry that is no longer listed and keeps it for reuse (or lets it go). */
	private recycle(entry: CaptureEntry): void {
		entry.release();
		if (this.spareEntries.length < MAX_SPARE_ENTRIES && !this.disposed) this.spareEntries.push(entry);
		else entry.dispose();
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
		// The records are built here, for the listeners: not on the proxy's path. An entry evicted since it
		// was queued (and maybe reused) is skipped; its reuse queued itself anew.
		const batchAdded = this.batchAdded;
		const addedGenerations = this.batchAddedGenerations;
		for (let i = 0; i < batchAdded.length; i++) {
			const entry = batchAdded[i];
			if (entry.generation !== addedGenerations[i]) continue;
			entry.queued = Queued.No;
			added.push(entry.materialise(false));
		}
		const batchUpdated = this.batchUpdated;
		const updatedGenerations = this.batchUpdatedGenerations;
		for (let i = 0; i < batchUpdated.length; i++) {
			const entry = batchUpdated[i];
			if (entry.generation !== updatedGenerations[i]) continue;
			entry.queued = Queued.No;
			updated.push(entry.materialise(false));
		}
		const removed = this.batchRemoved;
		this.batchAdded = [];
		this.batchAddedGenerations = [];
		this.batchUpdated = [];
		this.batchUpdatedGenerations = [];
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
