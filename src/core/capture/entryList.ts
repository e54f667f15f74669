/** What {@link EntryList} needs of an item: a unique id that grows with arrival, and a slot for its position. */
export interface Listed {
	readonly id: number;
	/** Where the item is in the list; maintained by the list. */
	position: number;
}

/** Holes at the front (or in total) worth moving the arrays, at the least. */
const MIN_COMPACTION = 4096;

/**
 * Items in arrival order with lookup by id: an array used as a deque, where removed items leave holes
 * that are skipped and squeezed out now and then.
 *
 * Why not a Map: on the capture path every exchange is one insertion and (later, oldest first) one
 * removal, and a Map's hash table work plus its rehashing showed up at ~150 ns an exchange. Here both are
 * a few array stores; lookup by id (rare: readers) is a binary search over the ids, which only grow.
 *
 * Positions are absolute (the index plus how many slots were ever cut off the front), so dropping the
 * gone front is one native splice that does not touch the items.
 */
export class EntryList<T extends Listed> {
	private items: Array<T | undefined> = [];
	/** `ids[i]` is the id of what is or was at `items[i]`, so that holes do not break the search. */
	private ids: number[] = [];
	/** Slots cut off the front so far: `items[position - base]`. */
	private base = 0;
	/** Index of the oldest item (everything before it is gone). */
	private first = 0;
	/** Holes at or after `first`. */
	private holes = 0;

	/** Items kept. */
	get size(): number {
		return this.items.length - this.first - this.holes;
	}

	/** Where iteration starts: `at(i)` for `start ≤ i < end`, oldest first, skipping undefined. */
	get start(): number {
		return this.first;
	}

	get end(): number {
		return this.items.length;
	}

	/** The item at an index from {@link start} to {@link end}, or undefined for a hole. */
	at(index: number): T | undefined {
		return this.items[index];
	}

	/** Appends an item whose id is greater than every id so far. Not while iterating: it may compact. */
	push(item: T): void {
		if (this.first >= MIN_COMPACTION) this.dropFront();
		else if (this.holes >= MIN_COMPACTION && this.holes * 2 >= this.items.length - this.first) this.squeeze();
		item.position = this.base + this.items.length;
		this.items.push(item);
		this.ids.push(item.id);
	}

	/** Removes an item that is in the list (iteration may go on: this leaves a hole). */
	remove(item: T): void {
		const items = this.items;
		items[item.position - this.base] = undefined;
		this.holes++;
		while (this.first < items.length && items[this.first] === undefined) {
			this.first++;
			this.holes--;
		}
	}

	/** The item with this id, if kept. */
	get(id: number): T | undefined {
		const ids = this.ids;
		let low = this.first;
		let high = ids.length - 1;
		while (low <= high) {
			const middle = (low + high) >>> 1;
			const found = ids[middle];
			if (found === id) return this.items[middle];
			if (found < id) low = middle + 1;
			else high = middle - 1;
		}
		return undefined;
	}

	/** Forgets everything. */
	clear(): void {
		this.items = [];
		this.ids = [];
		this.base = 0;
		this.first = 0;
		this.holes = 0;
	}

	/** Cuts off the gone front: the usual case, since the oldest go first. */
	private dropFront(): void {
		this.items.splice(0, this.first);
		this.ids.splice(0, this.first);
		this.base += this.first;
		this.first = 0;
	}

	/**
	 * Squeezes out holes once they are at least as many as the items kept (so the copy is paid for by as
	 * many removals): holes pile up behind a long-lived item at the front, such as a WebSocket open for
	 * hours, which keeps the front from moving.
	 */
	private squeeze(): void {
		const items = this.items;
		const ids = this.ids;
		let kept = 0;
		for (let i = this.first; i < items.length; i++) {
			const item = items[i];
			if (item === undefined) continue;
			item.position = this.base + kept;
			items[kept] = item;
			ids[kept] = ids[i];
			kept++;
		}
		items.length = kept;
		ids.length = kept;
		this.first = 0;
		this.holes = 0;
	}
}
