/**
 * The clock readings of every kept exchange, in one Float64Array: a row per record (records are reused,
 * and so are their rows).
 *
 * Why: a fractional number in an object field is a separate heap object in V8 (a HeapNumber box, 16
 * bytes, promoted and traced like any other). Five timings per exchange in fields would be five more
 * objects per record; in a table they are 40 bytes of one array.
 */

/** Columns of a row. `Start` is the monotonic arrival time (or, for TLS failures, wall-clock). */
export const enum Timing {
	Start,
	UpstreamConnect,
	RequestSent,
	ResponseStart,
	End,
}

const COLUMNS = 5;
const INITIAL_ROWS = 1024;

export class TimingTable {
	private values = new Float64Array(INITIAL_ROWS * COLUMNS);
	private rows = 0;
	private readonly freeRows: number[] = [];

	/** Takes a row (all unset); returns it. */
	allocate(): number {
		let row = this.freeRows.pop();
		if (row === undefined) {
			row = this.rows++;
			if (row * COLUMNS >= this.values.length) {
				const grown = new Float64Array(this.values.length * 2);
				grown.set(this.values);
				this.values = grown;
			}
		}
		this.reset(row, NaN);
		return row;
	}

	/** Sets a row to `start` in {@link Timing.Start} and the others unset (NaN). */
	reset(row: number, start: number): void {
		const at = row * COLUMNS;
		const values = this.values;
		values[at] = start;
		values[at + 1] = NaN;
		values[at + 2] = NaN;
		values[at + 3] = NaN;
		values[at + 4] = NaN;
	}

	/** Gives a row back for reuse. */
	free(row: number): void {
		this.freeRows.push(row);
	}

	set(row: number, column: Timing, value: number): void {
		this.values[row * COLUMNS + column] = value;
	}

	get(row: number, column: Timing): number {
		return this.values[row * COLUMNS + column];
	}

	/** Forgets every row (and shrinks back). */
	clear(): void {
		this.values = new Float64Array(INITIAL_ROWS * COLUMNS);
		this.rows = 0;
		this.freeRows.length = 0;
	}
}
