/**
 * The inspector's filter language, shared by the webview (which filters its list) and the host (which
 * exports what the list shows). Pure and synchronous.
 *
 * Whitespace-separated terms, all of which must match:
 * - free text: a case-insensitive substring of the method, host, path, status, type or media type;
 * - `method:GET` (`method:get,post` for either);
 * - `status:404`, `status:4xx`, `status:400-499`, `status:>=400`, `status:error` (failed, no status),
 *   `status:pending`, `status:closed` (closed by the client before the response was complete);
 * - `host:api.localhost` (substring; `*.localhost` as a wildcard);
 * - `path:/api` (case-insensitive substring of path and query; with `*`, a wildcard for all of it);
 * - `type:json` (see {@link TYPE_ALIASES}: `js`, `css`, `img`, `doc`, `ws`, `xhr` …; comma lists);
 * - `size:>1kb`, `size:<=500`, `size:1k-10k`, `size:2048` (response body bytes; k and m are 1024 and
 *   1024²), and DevTools' `larger-than:1k` and `smaller-than:1m`;
 * - `connection:12` (`connection:3,4` for either): the exchanges of one client connection;
 * - `-` before any term negates it (`-type:image`, `-favicon`); `"quoted text"` keeps spaces.
 * An unknown `key:` is free text (so `https://…` and `localhost:8443` work as text); one that looks
 * like a misspelt key (`stauts:404`) is reported with the key meant and ignored, and any other word
 * before a colon is searched as text with a hint that it is not a key.
 */
import type { ExchangeSummary, ResourceType } from './summary';

export type FilterTerm =
	| { readonly kind: 'text'; readonly negate: boolean; readonly value: string }
	| { readonly kind: 'method'; readonly negate: boolean; readonly methods: readonly string[] }
	| { readonly kind: 'status'; readonly negate: boolean; readonly test: StatusTest }
	| { readonly kind: 'host'; readonly negate: boolean; readonly pattern: string | RegExp }
	| { readonly kind: 'path'; readonly negate: boolean; readonly pattern: string | RegExp }
	| { readonly kind: 'type'; readonly negate: boolean; readonly types: readonly ResourceType[] }
	/** Response body bytes from `min` to `max`, both included. */
	| { readonly kind: 'size'; readonly negate: boolean; readonly min: number; readonly max: number }
	| { readonly kind: 'connection'; readonly negate: boolean; readonly ids: readonly number[] };

export type StatusTest =
	| { readonly op: 'range'; readonly min: number; readonly max: number }
	| { readonly op: 'error' }
	| { readonly op: 'pending' }
	| { readonly op: 'closed' };

export interface ParsedFilter {
	readonly terms: readonly FilterTerm[];
	/** Terms that could not be understood (ignored), with why; for the filter box's hint. */
	readonly errors: readonly string[];
}

/** What `type:` accepts, besides the type names themselves. */
export const TYPE_ALIASES: Readonly<Record<string, readonly ResourceType[]>> = {
	doc: ['document'], html: ['document'],
	js: ['script'], javascript: ['script'],
	css: ['style'], stylesheet: ['style'],
	img: ['image'], images: ['image'],
	ws: ['websocket'], socket: ['websocket'],
	sse: ['eventsource'], events: ['eventsource'],
	// What a page fetches as data (DevTools' Fetch/XHR, approximately: the proxy cannot see the initiator).
	xhr: ['json', 'xml', 'text', 'form'], fetch: ['json', 'xml', 'text', 'form'], api: ['json', 'xml'],
	bin: ['binary'],
	error: ['tls'], handshake: ['tls'],
};

/** Every key the language knows, in the order the hints list them. */
export const FILTER_KEYS = ['method', 'status', 'host', 'path', 'type', 'size', 'larger-than', 'smaller-than', 'connection'] as const;

const RESOURCE_TYPES: readonly ResourceType[] = [
	'document', 'script', 'style', 'json', 'xml', 'text', 'image', 'font', 'media', 'wasm', 'manifest', 'form', 'binary', 'websocket', 'eventsource', 'tls', 'other',
];

/** Splits on whitespace, keeping `"quoted parts"` (also after a key: `host:"a b"`) together. */
export function tokenize(text: string): string[] {
	const tokens: string[] = [];
	let current = '';
	let quoted = false;
	let started = false;
	for (const c of text) {
		if (c === '"') {
			quoted = !quoted;
			started = true;
			continue;
		}
		if (!quoted && /\s/.test(c)) {
			if (started) tokens.push(current);
			current = '';
			started = false;
			continue;
		}
		current += c;
		started = true;
	}
	if (started) tokens.push(current);
	return tokens;
}

/** Parses filter text into terms (never throws: bad terms are reported in `errors` and skipped). */
export function parseFilter(text: string): ParsedFilter {
	const terms: FilterTerm[] = [];
	const errors: string[] = [];
	for (let token of tokenize(text)) {
		let negate = false;
		if (token.length > 1 && token.startsWith('-')) {
			negate = true;
			token = token.slice(1);
		}
		if (token.length === 0) continue;
		const colon = token.indexOf(':');
		const key = colon > 0 ? token.slice(0, colon).toLowerCase() : '';
		const value = colon > 0 ? token.slice(colon + 1) : token;
		switch (key) {
			case 'method': {
				const methods = value.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m.length > 0);
				if (methods.length === 0) errors.push('method: needs a method, e.g. method:POST');
				else terms.push({ kind: 'method', negate, methods });
				break;
			}
			case 'status': {
				const test = parseStatus(value);
				if (test === undefined) errors.push(`status:${value} is not a status (try 404, 4xx, 400-499, >=400, error)`);
				else terms.push({ kind: 'status', negate, test });
				break;
			}
			case 'host': {
				const host = value.toLowerCase();
				if (host.length === 0) errors.push('host: needs a host name');
				else terms.push({ kind: 'host', negate, pattern: host.includes('*') ? wildcard(host) : host });
				break;
			}
			case 'path': {
				const path = value.toLowerCase();
				if (path.length === 0) errors.push('path: needs a path, e.g. path:/api');
				else terms.push({ kind: 'path', negate, pattern: path.includes('*') ? wildcard(path, false) : path });
				break;
			}
			case 'size':
			case 'larger-than':
			case 'smaller-than': {
				const range = parseSize(key, value);
				if (range === undefined) {
					errors.push(key === 'size'
						? `size:${value} is not a size (try size:>1kb, size:<=500, size:1k-10k)`
						: `${key}:${value} is not a size (try ${key}:1k or ${key}:1.5m)`);
				} else {
					terms.push({ kind: 'size', negate, ...range });
				}
				break;
			}
			case 'connection': {
				const parts = value.split(',').filter((part) => part.length > 0);
				const ids = parts.map((part) => /^#?\d+$/.test(part) ? Number(part.replace('#', '')) : NaN);
				if (ids.length === 0 || ids.some((id) => !Number.isSafeInteger(id))) errors.push(`connection:${value} is not a connection number (try connection:12)`);
				else terms.push({ kind: 'connection', negate, ids });
				break;
			}
			case 'type': {
				const types = new Set<ResourceType>();
				const unknown: string[] = [];
				for (const part of value.toLowerCase().split(',')) {
					if (part.length === 0) continue;
					const alias = TYPE_ALIASES[part];
					if (alias !== undefined) alias.forEach((t) => types.add(t));
					else if ((RESOURCE_TYPES as readonly string[]).includes(part)) types.add(part as ResourceType);
					else unknown.push(part);
				}
				if (unknown.length > 0) errors.push(`type:${unknown.join(',')} is not a type (${RESOURCE_TYPES.join(', ')})`);
				if (types.size > 0) terms.push({ kind: 'type', negate, types: [...types] });
				break;
			}
			default: {
				// A word before the colon was meant as a key; not a URL's scheme (`https://`) or a port.
				if (/^[a-z][a-z-]*$/.test(key) && !value.startsWith('//')) {
					const meant = misspeltKey(key);
					if (meant !== undefined) {
						errors.push(`${key}: is not a filter key (did you mean ${meant}:?)`);
						break;
					}
					if (!/^\d*$/.test(value)) errors.push(`${key}: is not a filter key (${FILTER_KEYS.join(', ')}), so ${token} is searched as text`);
				}
				terms.push({ kind: 'text', negate, value: token.toLowerCase() });
			}
		}
	}
	return { terms, errors };
}

/**
 * The known key that `key` is probably a misspelling of (one or two letters wrong, missing, extra or
 * swapped; one for keys of up to four letters), or undefined.
 */
function misspeltKey(key: string): string | undefined {
	let best: string | undefined;
	let bestDistance = Infinity;
	for (const known of FILTER_KEYS) {
		const distance = editDistance(key, known);
		if (distance <= (known.length <= 4 ? 1 : 2) && distance < bestDistance) {
			best = known;
			bestDistance = distance;
		}
	}
	return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
	const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
	for (let j = 1; j <= b.length; j++) d[0][j] = j;
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
		}
	}
	return d[a.length][b.length];
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2 };

/** `1.5k`, `500`, `2mb` in bytes, or undefined. */
function bytesOf(text: string): number | undefined {
	const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text.toLowerCase());
	const unit = m === null ? undefined : SIZE_UNITS[m[2]];
	return unit === undefined ? undefined : Math.round(Number(m![1]) * unit);
}

function parseSize(key: string, value: string): { min: number; max: number } | undefined {
	if (key === 'larger-than' || key === 'smaller-than') {
		const n = bytesOf(value);
		if (n === undefined) return undefined;
		return key === 'larger-than' ? { min: n + 1, max: Infinity } : { min: 0, max: n - 1 };
	}
	const range = /^(.+?)-(.+)$/.exec(value);
	if (range !== null) {
		const min = bytesOf(range[1]);
		const max = bytesOf(range[2]);
		return min === undefined || max === undefined || min > max ? undefined : { min, max };
	}
	const m = /^(>=|<=|>|<|=)?(.+)$/.exec(value);
	const n = m === null ? undefined : bytesOf(m[2]);
	if (n === undefined) return undefined;
	switch (m![1]) {
		case '>=': return { min: n, max: Infinity };
		case '>': return { min: n + 1, max: Infinity };
		case '<=': return { min: 0, max: n };
		case '<': return { min: 0, max: n - 1 };
		default: return { min: n, max: n };
	}
}

function parseStatus(value: string): StatusTest | undefined {
	const v = value.toLowerCase();
	if (v === 'error' || v === 'failed') return { op: 'error' };
	if (v === 'pending') return { op: 'pending' };
	if (v === 'closed') return { op: 'closed' };
	let m = /^([1-5])xx$/.exec(v);
	if (m) return { op: 'range', min: Number(m[1]) * 100, max: Number(m[1]) * 100 + 99 };
	m = /^(\d{3})$/.exec(v);
	if (m) return { op: 'range', min: Number(m[1]), max: Number(m[1]) };
	m = /^(\d{3})-(\d{3})$/.exec(v);
	if (m) return { op: 'range', min: Number(m[1]), max: Number(m[2]) };
	m = /^(>=|<=|>|<)(\d{3})$/.exec(v);
	if (m) {
		const n = Number(m[2]);
		switch (m[1]) {
			case '>=': return { op: 'range', min: n, max: 999 };
			case '>': return { op: 'range', min: n + 1, max: 999 };
			case '<=': return { op: 'range', min: 100, max: n };
			default: return { op: 'range', min: 100, max: n - 1 };
		}
	}
	return undefined;
}

/** `*` as any run of characters, the rest literal, matching all of the value (a host also with a port). */
function wildcard(pattern: string, host = true): RegExp {
	const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
	return new RegExp(host ? `^${escaped}(:\\d+)?$` : `^${escaped}$`);
}

/** A host or path term's pattern (lower case: a substring, or a {@link wildcard}) against `value`. */
function matchesPattern(pattern: string | RegExp, value: string): boolean {
	const lower = value.toLowerCase();
	return typeof pattern === 'string' ? lower.includes(pattern) : pattern.test(lower);
}

function testTerm(term: FilterTerm, s: ExchangeSummary): boolean {
	switch (term.kind) {
		case 'text': {
			const v = term.value;
			return s.path.toLowerCase().includes(v) || s.host.toLowerCase().includes(v) || s.method.toLowerCase().includes(v)
				|| s.type.includes(v) || s.mime.includes(v) || (s.status !== 0 && String(s.status).includes(v))
				|| (s.error !== undefined && s.error.toLowerCase().includes(v));
		}
		case 'method':
			return term.methods.includes(s.method.toUpperCase());
		case 'status': {
			const t = term.test;
			if (t.op === 'error') return s.state === 'aborted' || s.state === 'upstream-error' || s.state === 'tls-error';
			if (t.op === 'pending') return s.state === 'pending';
			if (t.op === 'closed') return s.state === 'closed-by-client';
			return s.status >= t.min && s.status <= t.max;
		}
		case 'host':
			return matchesPattern(term.pattern, s.host);
		case 'path':
			return matchesPattern(term.pattern, s.path);
		case 'type':
			return term.types.includes(s.type);
		case 'size':
			return s.size >= term.min && s.size <= term.max;
		case 'connection':
			return s.connection !== undefined && term.ids.includes(s.connection);
	}
}

/** True when `summary` passes every term of `filter` (an empty filter passes everything). */
export function matches(filter: ParsedFilter, summary: ExchangeSummary): boolean {
	const terms = filter.terms;
	for (let i = 0; i < terms.length; i++) {
		const term = terms[i];
		if (testTerm(term, summary) === term.negate) return false;
	}
	return true;
}

/** Convenience: the summaries that pass `text`, in their order. */
export function applyFilter<T extends ExchangeSummary>(text: string, summaries: readonly T[]): T[] {
	const filter = parseFilter(text);
	if (filter.terms.length === 0) return summaries.slice();
	return summaries.filter((s) => matches(filter, s));
}
