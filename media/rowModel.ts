// The inspector list's rows, without the DOM: what the host's `rows` events add, update and remove, in
// arrival order, and the rows the filter lets through. Pure, so it is unit-tested without a browser
// (test/unit/media/rowModel.test.ts); list.ts draws `view`, main.ts wires the two.
import { matches, type ParsedFilter } from '../src/shared/filter';
import type { RowsEvent } from '../src/shared/protocol';
import type { ExchangeSummary } from '../src/shared/summary';

/** A summary as the webview keeps it: `version` changes whenever the host sends a newer summary. */
export interface Row {
	s: ExchangeSummary;
	version: number;
}

/** What one `rows` event did. */
export interface RowsApplied {
	/** False for an event of an earlier session (generation), which changed nothing. */
	readonly accepted: boolean;
	/** A reset from another proxy session than the last one: ids of the old one mean nothing now. */
	readonly newSession: boolean;
	/** The row of `selected` (as passed to apply) got a newer summary. */
	readonly touchedSelected: boolean;
}

export class RowModel {
	private readonly rows = new Map<number, Row>();
	private all: Row[] = [];
	/** The filtered rows, in order. Appended to in place while no rebuild is needed (the list holds it). */
	private shown: Row[] = [];
	private current: ParsedFilter;
	private session = -1;

	constructor(filter: ParsedFilter) {
		this.current = filter;
	}

	/** Every row, oldest first. */
	get order(): readonly Row[] {
		return this.all;
	}

	/** The rows that pass the filter, oldest first. */
	get view(): readonly Row[] {
		return this.shown;
	}

	/** The session the rows belong to (-1 before the first reset). */
	get generation(): number {
		return this.session;
	}

	has(id: number): boolean {
		return this.rows.has(id);
	}

	get filter(): ParsedFilter {
		return this.current;
	}

	/** Filters by `filter` from now on; {@link refilter} applies it to the rows. */
	setFilter(filter: ParsedFilter): void {
		this.current = filter;
	}

	/** Rebuilds {@link view} from every row. */
	refilter(): void {
		const filter = this.current;
		if (filter.terms.length === 0) {
			this.shown = this.all.slice();
			return;
		}
		const shown: Row[] = [];
		for (const row of this.all) {
			if (matches(filter, row.s)) shown.push(row);
		}
		this.shown = shown;
	}

	/**
	 * Applies a `rows` event: a reset replaces everything (its `older` continuations put older rows in
	 * front), other events add, update and remove. `selected` is the id whose updates the caller wants to
	 * hear of. The view is rebuilt only when a row enters or leaves it other than at its end.
	 */
	apply(event: RowsEvent, selected: number | undefined): RowsApplied {
		let newSession = false;
		if (event.reset) {
			this.rows.clear();
			this.all = [];
			newSession = this.session !== -1 && event.generation !== this.session;
			this.session = event.generation;
		} else if (event.generation !== this.session) {
			return { accepted: false, newSession: false, touchedSelected: false };
		}
		const filter = this.current;
		const filtering = filter.terms.length > 0;
		let rebuild = event.reset;
		let touchedSelected = false;
		if (event.older) {
			const older: Row[] = [];
			for (const s of event.added) {
				if (this.rows.has(s.id)) continue;
				const row: Row = { s, version: 0 };
				this.rows.set(s.id, row);
				older.push(row);
			}
			this.all = older.concat(this.all);
			rebuild = true;
		} else {
			for (const s of event.added) {
				const existing = this.rows.get(s.id);
				if (existing) {
					// Added again (a batch the host sent before a reset it also covered): an update.
					if (matches(filter, existing.s) !== matches(filter, s)) rebuild = true;
					existing.s = s;
					existing.version++;
					if (s.id === selected) touchedSelected = true;
					continue;
				}
				const row: Row = { s, version: 0 };
				this.rows.set(s.id, row);
				this.all.push(row);
				if (!rebuild && (!filtering || matches(filter, s))) this.shown.push(row);
			}
		}
		for (const s of event.updated) {
			const row = this.rows.get(s.id);
			if (!row) continue;
			if (filtering && matches(filter, row.s) !== matches(filter, s)) rebuild = true;
			row.s = s;
			row.version++;
			if (s.id === selected) touchedSelected = true;
		}
		if (event.removed.length > 0) {
			for (const id of event.removed) this.rows.delete(id);
			this.all = this.all.filter((r) => this.rows.has(r.s.id));
			rebuild = true;
		}
		if (rebuild) this.refilter();
		return { accepted: true, newSession, touchedSelected };
	}
}
