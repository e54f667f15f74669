import type { CaptureChange, CaptureStore } from '../capture/captureStore';
import type { Disposable } from '../events';
import { ROWS_CHUNK, ROWS_FIRST_CHUNK, type RowsEvent } from '../../shared/protocol';
import { summarize, type ExchangeSummary } from '../../shared/summary';

/**
 * Turns a capture store's changes into the inspector's `rows` events: summaries only, one event per
 * change event of the store (which batches, at most one per its `batchIntervalMs`, each exchange once:
 * the one place that decides how often rows move), and the whole list only when asked (on the
 * webview's `ready`), in chunks of {@link ROWS_CHUNK}. Summaries are made while the change event runs:
 * records are not kept past it. Knows nothing about VS Code: `send` is the transport.
 */
export class RowFeed implements Disposable {
	private store: CaptureStore | undefined;
	private subscription: Disposable | undefined;
	private generation = 0;
	/** Changes when a snapshot starts or is cancelled, so that its remaining chunks stop. */
	private snapshotToken = 0;
	/** While false (webview hidden or not ready) changes are dropped; a snapshot follows when it comes back. */
	private live = false;

	constructor(private readonly send: (event: RowsEvent) => void) { }

	/** The generation of the current store: changes with every {@link follow} of a different store. */
	get currentGeneration(): number {
		return this.generation;
	}

	/** Follows `store` (undefined: none) from now on. Sends a reset when live and the store changed. */
	follow(store: CaptureStore | undefined): void {
		if (store === this.store) return;
		this.subscription?.dispose();
		this.subscription = undefined;
		this.store = store;
		this.generation++;
		this.dropPending();
		if (store !== undefined) this.subscription = store.onDidChange((change) => this.onChange(change));
		if (this.live && store !== undefined) this.snapshot();
	}

	/**
	 * Stops the store's changes from reaching the webview, but keeps the rows it has: used when the
	 * proxy stops (the store is going away, and the user may still want to read the list).
	 */
	detach(): void {
		this.subscription?.dispose();
		this.subscription = undefined;
		this.store = undefined;
		this.dropPending();
	}

	/** The webview is ready: send it everything now, then changes. */
	start(): void {
		this.live = true;
		this.snapshot();
	}

	/** The webview went away (hidden or reloading): stop sending until {@link start}. */
	stop(): void {
		this.live = false;
		this.dropPending();
	}

	/**
	 * Sends the whole list as a reset, replacing whatever the webview has: newest rows first (a list that
	 * follows the tail shows them at once), then older ones in chunks, one per turn of the event loop so
	 * that the first is on its way before the rest is summarised and serialised.
	 */
	snapshot(): void {
		this.dropPending();
		const store = this.store;
		const exchanges = store?.list() ?? [];
		const generation = this.generation;
		const token = ++this.snapshotToken;
		if (store === undefined || exchanges.length === 0) {
			this.send({ reset: true, added: [], updated: [], removed: [], complete: true, generation });
			return;
		}
		const chunk = (end: number, first: boolean): void => {
			if (token !== this.snapshotToken) return; // superseded, stopped or disposed
			const start = Math.max(0, end - (first ? ROWS_FIRST_CHUNK : ROWS_CHUNK));
			const added: ExchangeSummary[] = [];
			for (let j = start; j < end; j++) {
				// Skip what was evicted since the snapshot began: its removal was already sent.
				if (first || store.get(exchanges[j].id) !== undefined) added.push(summarize(exchanges[j]));
			}
			this.send({ reset: first, ...(first ? {} : { older: true }), added, updated: [], removed: [], complete: start === 0, generation });
			if (start > 0) setImmediate(() => chunk(start, false));
		};
		chunk(exchanges.length, true);
	}

	dispose(): void {
		this.subscription?.dispose();
		this.subscription = undefined;
		this.store = undefined;
		this.live = false;
		this.dropPending();
	}

	private onChange(change: CaptureChange): void {
		if (!this.live) return;
		const added = change.added.map(summarize);
		const updated = change.updated.map(summarize);
		this.send({ reset: false, added, updated, removed: [...change.removed], complete: true, generation: this.generation });
	}

	/** Stops the chunks of a snapshot in progress. */
	private dropPending(): void {
		this.snapshotToken++;
	}
}
