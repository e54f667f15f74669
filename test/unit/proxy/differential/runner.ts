/*
 * The differential fuzzer's engine, shared by test/unit/proxy/differential.test.ts (the bounded
 * run in `npm test`) and scripts/fuzz.mjs (long runs): oracles, lanes, a bounded run over generated cases,
 * and failures grouped by cause.
 */
import { checkRequest, checkResponse, formatFailure, type CaseResult } from './check';
import { makeFuzzCa, RequestLane, ResponseLane, type FuzzCa } from './driver';
import { generateCase, type Case } from './generators';
import { RequestOracle, ResponseOracle } from './oracle';

export interface FuzzerOptions {
	/** Lanes for request cases (default 8) and response cases (default 4), each with its own proxy. */
	readonly requestLanes?: number;
	readonly responseLanes?: number;
}

export class Fuzzer {
	private readonly idle: { request: RequestLane[]; response: ResponseLane[] } = { request: [], response: [] };
	private readonly waiting: { request: Array<(lane: RequestLane) => void>; response: Array<(lane: ResponseLane) => void> } = { request: [], response: [] };
	private readonly lanes: Array<RequestLane | ResponseLane> = [];

	private constructor(private readonly fuzzCa: FuzzCa, private readonly requestOracle: RequestOracle, private readonly responseOracle: ResponseOracle) { }

	static async start(options: FuzzerOptions = {}): Promise<Fuzzer> {
		const fuzzCa = await makeFuzzCa();
		const requestOracle = new RequestOracle();
		const responseOracle = new ResponseOracle();
		await Promise.all([requestOracle.start(), responseOracle.start()]);
		const fuzzer = new Fuzzer(fuzzCa, requestOracle, responseOracle);
		for (let i = 0; i < (options.requestLanes ?? 8); i++) {
			const lane = new RequestLane(fuzzCa);
			await lane.start();
			fuzzer.lanes.push(lane);
			fuzzer.idle.request.push(lane);
		}
		for (let i = 0; i < (options.responseLanes ?? 4); i++) {
			const lane = new ResponseLane(fuzzCa);
			await lane.start();
			fuzzer.lanes.push(lane);
			fuzzer.idle.response.push(lane);
		}
		return fuzzer;
	}

	private acquire<K extends 'request' | 'response'>(kind: K): Promise<K extends 'request' ? RequestLane : ResponseLane> {
		type Lane = K extends 'request' ? RequestLane : ResponseLane;
		const idle = this.idle[kind] as Lane[];
		const lane = idle.pop();
		if (lane !== undefined) { return Promise.resolve(lane); }
		return new Promise((resolve) => (this.waiting[kind] as Array<(lane: Lane) => void>).push(resolve));
	}

	private release(kind: 'request' | 'response', lane: RequestLane | ResponseLane): void {
		const next = this.waiting[kind].shift() as ((lane: RequestLane | ResponseLane) => void) | undefined;
		if (next !== undefined) { next(lane); } else { (this.idle[kind] as Array<RequestLane | ResponseLane>).push(lane); }
	}

	/** Whether a lane for `c` is free now (a run keeps every lane busy by starting cases only then). */
	hasIdleLane(direction: Case['direction']): boolean {
		return this.idle[direction].length > 0;
	}

	/** Runs one case through the oracle and the proxy, and checks the invariant. */
	async runCase(c: Case): Promise<CaseResult> {
		if (c.direction === 'request') {
			const lane = await this.acquire('request');
			try {
				const verdict = this.requestOracle.judge(c.bytes);
				const observation = await lane.run(c, verdict);
				return checkRequest(c, await verdict, observation);
			} finally {
				this.release('request', lane);
			}
		}
		const lane = await this.acquire('response');
		try {
			const [verdict, observation] = await Promise.all([this.responseOracle.judge(c.method, c.bytes), lane.run(c)]);
			return checkResponse(c, verdict, observation);
		} finally {
			this.release('response', lane);
		}
	}

	async close(): Promise<void> {
		await Promise.all(this.lanes.map((lane) => lane.close()));
		await Promise.all([this.requestOracle.close(), this.responseOracle.close()]);
		this.fuzzCa.dispose();
	}
}

export interface RunSummary {
	readonly cases: number;
	readonly seconds: number;
	readonly casesPerSecond: number;
	readonly failed: CaseResult[];
	/** How often the proxy was stricter than llhttp, by what it did. */
	readonly stricter: Map<string, number>;
}

/**
 * Runs generated cases 0, 1, 2, … of `seed` until `maxCases` ran or `maxMs` passed (whichever
 * first), as many at once as there are lanes. The cases are the same for a seed whatever the timing;
 * only how many of them run depends on the time limit.
 */
export async function runRandom(fuzzer: Fuzzer, seed: number, maxCases: number, maxMs: number, onResult?: (result: CaseResult, done: number) => void): Promise<RunSummary> {
	const started = performance.now();
	const failed: CaseResult[] = [];
	const stricter = new Map<string, number>();
	let next = 0;
	let done = 0;
	const running = new Set<Promise<void>>();
	const settle = (result: CaseResult): void => {
		done++;
		if (result.failures.length > 0) { failed.push(result); }
		if (result.stricter !== undefined) { stricter.set(result.stricter, (stricter.get(result.stricter) ?? 0) + 1); }
		onResult?.(result, done);
	};
	while (next < maxCases && performance.now() - started < maxMs) {
		let c: Case;
		try {
			c = generateCase(seed, next);
		} catch (error) {
			c = { direction: 'request', name: `seed ${seed} case ${next}`, bytes: Buffer.alloc(0) };
			next++;
			settle({ case: c, failures: [{ cause: 'harness error: the generator threw', detail: (error as Error).stack ?? String(error) }], report: '' });
			continue;
		}
		if (!fuzzer.hasIdleLane(c.direction) && running.size > 0) {
			await Promise.race(running);
			continue;
		}
		next++;
		const job: Promise<void> = fuzzer.runCase(c).then(settle, (error: Error) => {
			settle({ case: c, failures: [{ cause: 'harness error', detail: error.stack ?? error.message }], report: '' });
		}).finally(() => running.delete(job));
		running.add(job);
	}
	await Promise.all(running);
	failed.sort((a, b) => index(a.case) - index(b.case));
	const seconds = (performance.now() - started) / 1000;
	return { cases: done, seconds, casesPerSecond: done / seconds, failed, stricter };
}

function index(c: Case): number {
	return Number(/case (\d+)$/.exec(c.name)?.[1] ?? 0);
}

/** Failures grouped by cause, each group with its cases' names: the summary of a run. */
export function groupFailures(results: readonly CaseResult[]): Map<string, string[]> {
	const groups = new Map<string, string[]>();
	for (const result of results) {
		for (const cause of new Set(result.failures.map((f) => f.cause))) {
			const names = groups.get(cause) ?? [];
			names.push(result.case.name);
			groups.set(cause, names);
		}
	}
	return groups;
}

/**
 * A run's failures as text: the groups (each with the regression cases that failed the same way when
 * found, from `known`: cause without its `request: `/`response: ` prefix -> names), then every failed
 * case in full (up to `limit`).
 */
export function formatFailures(results: readonly CaseResult[], limit = 20, known?: ReadonlyMap<string, readonly string[]>): string {
	const lines: string[] = [];
	for (const [cause, names] of groupFailures(results)) {
		const regressions = known?.get(cause.replace(/^(request|response): /, ''));
		lines.push(`${names.length} × ${cause}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`
			+ `${regressions?.length ? `\n    (as the regressions ${regressions.map((n) => JSON.stringify(n)).join(', ')})` : ''}`);
	}
	lines.push('');
	for (const result of results.slice(0, limit)) { lines.push(formatFailure(result), ''); }
	if (results.length > limit) { lines.push(`… and ${results.length - limit} more failed cases`); }
	return lines.join('\n');
}
