/*
 * A small seeded PRNG (sfc32, seeded through splitmix32) for the differential fuzzer: every case is
 * generated from `caseRandom(seed, index)` alone, so a failure is reproduced by its seed and index,
 * whatever ran before it and however many lanes ran the cases.
 */

function splitmix32(state: number): () => number {
	return () => {
		state = (state + 0x9e3779b9) | 0;
		let z = state;
		z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
		z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
		return (z ^ (z >>> 16)) >>> 0;
	};
}

export class Random {
	private a: number;
	private b: number;
	private c: number;
	private d: number;

	constructor(seed: number) {
		const mix = splitmix32(seed >>> 0);
		this.a = mix();
		this.b = mix();
		this.c = mix();
		this.d = mix();
		for (let i = 0; i < 12; i++) { this.next(); }
	}

	/** A uniform 32-bit unsigned integer. */
	next(): number {
		const t = (((this.a + this.b) | 0) + this.d) | 0;
		this.d = (this.d + 1) | 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) | 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) | 0;
		return t >>> 0;
	}

	/** An integer in [0, n). */
	int(n: number): number {
		return Math.floor((this.next() / 0x100000000) * n);
	}

	/** An integer in [min, max]. */
	range(min: number, max: number): number {
		return min + this.int(max - min + 1);
	}

	chance(p: number): boolean {
		return this.next() / 0x100000000 < p;
	}

	pick<T>(items: readonly T[]): T {
		return items[this.int(items.length)];
	}

	/** One of `choices`, each with its weight. */
	weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
		let total = 0;
		for (const [weight] of choices) { total += weight; }
		let r = this.int(total);
		for (const [weight, value] of choices) {
			if (r < weight) { return value; }
			r -= weight;
		}
		return choices[choices.length - 1][1];
	}

	/** `length` bytes from `alphabet` (a latin1 string), as a latin1 string. */
	string(length: number, alphabet: string): string {
		let s = '';
		for (let i = 0; i < length; i++) { s += alphabet[this.int(alphabet.length)]; }
		return s;
	}
}

/** The generator of case `index` of run `seed`. */
export function caseRandom(seed: number, index: number): Random {
	return new Random((Math.imul(seed >>> 0, 0x27d4eb2f) ^ Math.imul(index + 1, 0x165667b1)) >>> 0);
}
