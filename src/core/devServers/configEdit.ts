// Edits a dev server's config file (webpack.config.*, vite.config.*, astro.config.*, next.config.*) as
// text, one property at a time. This is textual on purpose: the only
// JavaScript parsers in node_modules (typescript, acorn/espree via eslint) are development tools, and
// bundling one into the extension for a single quick fix would cost more than it saves. Instead a small
// tokenizer (strings, template literals, comments and regex literals skipped, so braces inside them do
// not count) finds the exported object literal, and the edit is limited to the shapes it can be sure
// of: `module.exports = {…}`, `export default {…}`, an exported variable initialised with `{…}`, and
// any of those wrapped in a helper call (`defineConfig({…})`).
// Anything else (a function, an array of configs, devServer built elsewhere) is refused with a reason.

/** One replacement in the config's text: `length` characters at `offset` become `newText`. */
export interface ConfigTextEdit {
	readonly offset: number;
	readonly length: number;
	readonly newText: string;
}

/** What {@link planConfigChange} decided. */
export type ConfigEditPlan =
	/** `edit` turns the text into `text`; no edit when the config already sets the value. */
	| { readonly ok: true; readonly edit: ConfigTextEdit | undefined; readonly text: string }
	/** The config has a shape this edit cannot change safely; `reason` says which, for the user. */
	| { readonly ok: false; readonly reason: string };

type TokenKind = 'punct' | 'word' | 'string' | 'template' | 'regex' | 'other';
interface Token { readonly kind: TokenKind; readonly start: number; readonly end: number; readonly value: string }

const REGEX_AFTER_PUNCT = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);

/** One property to ensure in the exported config object (nested objects are created as needed). */
export type ConfigChange =
	/** `path` is set to the string `value`. */
	| { readonly path: readonly string[]; readonly set: string }
	/**
	 * `path` is a list of strings that holds `add`. A single string becomes a list holding it and `add`;
	 * a value in `allowAll` (as written, e.g. `true` or `'all'`) already allows everything: no edit.
	 */
	| { readonly path: readonly string[]; readonly add: string; readonly allowAll?: readonly string[] };

/**
 * Plans the edit that makes the config exported by `text` carry `change`: adds the property (and the
 * objects around it, merging into existing ones), or changes the existing value. Applying the result and
 * planning again yields no edit. New strings take the quote the file uses most.
 */
export function planConfigChange(text: string, change: ConfigChange): ConfigEditPlan {
	let tokens: Token[];
	try { tokens = tokenize(text); } catch (error) { return { ok: false, reason: (error as Error).message }; }
	const matches = matchBrackets(tokens);
	if (!matches) { return { ok: false, reason: 'its brackets do not balance' }; }
	const exported = findExportedObject(tokens, matches);
	if (typeof exported === 'string') { return { ok: false, reason: exported }; }
	const quote = preferredQuote(tokens);
	const literal = (value: string) => quote + value.replace(/\\/g, '\\\\').replaceAll(quote, '\\' + quote) + quote;
	const leafValue = 'set' in change ? literal(change.set) : `[${literal(change.add)}]`;
	const { path } = change;
	let object = exported;
	for (let level = 0; level < path.length; level++) {
		const found = findProperty(tokens, matches, object, path[level]);
		const name = path.slice(0, level + 1).join('.');
		if (found === 'shorthand') { return { ok: false, reason: `its ${name} is defined elsewhere (shorthand property)` }; }
		if (!found) {
			const value = path.slice(level + 1).reduceRight((inner, key) => `{ ${key}: ${inner} }`, leafValue);
			return planned(text, insertProperty(text, tokens, matches, object, `${path[level]}: ${value}`));
		}
		const first = tokens[found.valueStart];
		const single = found.valueStart === found.valueEnd;
		const valueText = text.slice(first.start, tokens[found.valueEnd].end);
		if (level === path.length - 1) {
			if ('set' in change) {
				if (single && first.kind === 'string' && stringValue(first.value) === change.set) { return { ok: true, edit: undefined, text }; }
				return planned(text, { offset: first.start, length: valueText.length, newText: leafValue });
			}
			if (single && change.allowAll?.includes(valueText)) { return { ok: true, edit: undefined, text }; }
			if (single && first.kind === 'string') {
				if (stringValue(first.value) === change.add) { return { ok: true, edit: undefined, text }; }
				return planned(text, { offset: first.start, length: valueText.length, newText: `[${valueText}, ${literal(change.add)}]` });
			}
			if (first.value !== '[' || matches.get(found.valueStart) !== found.valueEnd) {
				return { ok: false, reason: `its ${name} is not a list literal (${valueText.slice(0, 40)})` };
			}
			for (let i = found.valueStart + 1; i < found.valueEnd; i++) {
				if (tokens[i].kind === 'string' && stringValue(tokens[i].value) === change.add) { return { ok: true, edit: undefined, text }; }
			}
			return planned(text, appendElement(tokens, found.valueStart, found.valueEnd, literal(change.add)));
		}
		if (first.value !== '{' || matches.get(found.valueStart) !== found.valueEnd) {
			return { ok: false, reason: `its ${name} is not an object literal (${valueText.slice(0, 40)})` };
		}
		object = found.valueStart;
	}
	return { ok: false, reason: 'unreachable' };
}

function planned(text: string, edit: ConfigTextEdit): ConfigEditPlan {
	return { ok: true, edit, text: text.slice(0, edit.offset) + edit.newText + text.slice(edit.offset + edit.length) };
}

/** The index of the `{` token of the exported config object, or why there is none we can edit. */
function findExportedObject(tokens: readonly Token[], matches: ReadonlyMap<number, number>): number | string {
	let valueAt: number | undefined;
	for (let i = 0; i < tokens.length; i++) {
		if (isWord(tokens[i], 'module') && tokens[i + 1]?.value === '.' && isWord(tokens[i + 2], 'exports') && tokens[i + 3]?.value === '=') { valueAt = i + 4; }
		if (isWord(tokens[i], 'export') && isWord(tokens[i + 1], 'default')) { valueAt = i + 2; }
	}
	if (valueAt === undefined || !tokens[valueAt]) { return 'it has no module.exports = … or export default …'; }
	return objectOf(tokens, matches, valueAt, 0);
}

/** The `{` of the object literal that the expression at token `at` is (or wraps, or names). */
function objectOf(tokens: readonly Token[], matches: ReadonlyMap<number, number>, at: number, depth: number): number | string {
	const value = tokens[at];
	if (value.value === '{') { return at; }
	if (value.value === '[') { return 'it exports an array of configs'; }
	if (value.value === '(' || isWord(value, 'function') || isWord(value, 'async') || tokens[at + 1]?.value === '=>') { return 'it exports a function'; }
	if (value.kind !== 'word' || depth > 2) { return `it exports ${value.value}…, not an object literal`; }
	const next = tokens[at + 1]?.value;
	// `defineConfig({…})`: a helper called with the object alone (a function argument is refused as such).
	if (next === '(') {
		const close = matches.get(at + 1);
		const argument = tokens[at + 2];
		if (close !== undefined && argument?.value === '{' && matches.get(at + 2) === close - 1) { return at + 2; }
		if (close !== undefined && close > at + 2) {
			const inner = objectOf(tokens, matches, at + 2, depth + 1);
			if (inner === 'it exports a function') { return `it exports ${value.value}(…) of a function`; }
		}
		return `it exports ${value.value}(…), not an object literal`;
	}
	if (next === '.') { return `it exports ${value.value}.…, defined elsewhere`; }
	// `const config = {…}; module.exports = config;` (with an optional TypeScript type annotation).
	for (let i = 0; i < tokens.length - 2; i++) {
		if (!['const', 'let', 'var'].some((k) => isWord(tokens[i], k)) || !isWord(tokens[i + 1], value.value)) { continue; }
		let j = i + 2;
		if (tokens[j]?.value === ':') { while (j < tokens.length && tokens[j].value !== '=' && tokens[j].value !== ';') { j++; } }
		if (tokens[j]?.value === '=' && tokens[j + 1]) {
			const inner = objectOf(tokens, matches, j + 1, depth + 1);
			return typeof inner === 'string' ? `its ${value.value} is not an object literal` : inner;
		}
		return `its ${value.value} is not an object literal`;
	}
	return `it exports ${value.value}, defined elsewhere`;
}

interface Property { readonly valueStart: number; readonly valueEnd: number }

/** The value of `name` among the direct properties of the object whose `{` is token `open`. */
function findProperty(tokens: readonly Token[], matches: ReadonlyMap<number, number>, open: number, name: string): Property | 'shorthand' | undefined {
	const close = matches.get(open)!;
	let found: Property | 'shorthand' | undefined;
	let segmentStart = open + 1;
	for (let i = open + 1; i <= close; i++) {
		const opened = matches.get(i);
		if (opened !== undefined && i !== close) { i = opened; continue; }
		if (tokens[i].value !== ',' && i !== close) { continue; }
		const key = tokens[segmentStart];
		// The last one wins, as in JavaScript.
		if (key && segmentStart < i && propertyName(key) === name) {
			if (tokens[segmentStart + 1]?.value === ':' && segmentStart + 2 < i) { found = { valueStart: segmentStart + 2, valueEnd: i - 1 }; } else if (segmentStart + 1 === i) { found = 'shorthand'; }
		}
		segmentStart = i + 1;
	}
	return found;
}

/**
 * Adds `property` as the last one of the object whose `{` is token `open` (last, so that a spread
 * before it cannot override it), on its own line when the object's `}` is on its own line, keeping the
 * object's trailing-comma style and any comment after the last property.
 */
function insertProperty(text: string, tokens: readonly Token[], matches: ReadonlyMap<number, number>, open: number, property: string): ConfigTextEdit {
	const close = matches.get(open)!;
	const closing = tokens[close];
	const closeLineStart = text.lastIndexOf('\n', closing.start) + 1;
	const closeOnOwnLine = closeLineStart > tokens[open].end && !text.slice(closeLineStart, closing.start).trim();
	if (close === open + 1) {
		const inner = text.slice(tokens[open].end, closing.start);
		if (!inner.trim()) { return { offset: tokens[open].end, length: inner.length, newText: closeOnOwnLine ? `\n${innerIndent(text, tokens[open].start)}${property},\n${lineIndent(text, closing.start)}` : ` ${property} ` }; }
		// Only a comment inside (`{ /* config options here */ }`): keep it, add the property after it.
		if (closeOnOwnLine) { return { offset: closeLineStart, length: 0, newText: `${innerIndent(text, tokens[open].start)}${property},\n` }; }
		return { offset: closing.start, length: 0, newText: `${property} ` };
	}
	const last = tokens[close - 1];
	const trailingComma = last.value === ',';
	if (closeOnOwnLine && closeLineStart > last.end) {
		const kept = text.slice(last.end, closeLineStart);
		return { offset: last.end, length: kept.length, newText: `${trailingComma ? '' : ','}${kept}${lineIndent(text, last.start)}${property}${trailingComma ? ',' : ''}\n` };
	}
	return { offset: last.end, length: 0, newText: trailingComma ? ` ${property},` : `, ${property}` };
}

/** Adds `element` as the last one of the list literal between tokens `open` and `close`. */
function appendElement(tokens: readonly Token[], open: number, close: number, element: string): ConfigTextEdit {
	if (close === open + 1) { return { offset: tokens[open].end, length: tokens[close].start - tokens[open].end, newText: element }; }
	const last = tokens[close - 1];
	if (last.value === ',') { return { offset: last.end, length: 0, newText: ` ${element},` }; }
	return { offset: last.end, length: 0, newText: `, ${element}` };
}

/** The indentation of the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
	return /^[ \t]*/.exec(text.slice(text.lastIndexOf('\n', offset - 1) + 1))![0];
}

/** The indentation for a property of an object whose `{` is at `offset`: one level more than its line. */
function innerIndent(text: string, offset: number): string {
	const outer = lineIndent(text, offset);
	return outer + (/^\t/m.test(text) && !/^ {2}\S/m.test(text) ? '\t' : '  ');
}

/** The quote the file's strings use most (single when tied). */
function preferredQuote(tokens: readonly Token[]): string {
	let single = 0;
	let double = 0;
	for (const token of tokens) {
		if (token.kind !== 'string') { continue; }
		if (token.value.startsWith('"')) { double++; } else { single++; }
	}
	return double > single ? '"' : "'";
}

function propertyName(token: Token): string | undefined {
	if (token.kind === 'word') { return token.value; }
	if (token.kind === 'string') { return stringValue(token.value); }
	return undefined;
}

function stringValue(literal: string): string {
	return literal.slice(1, -1);
}

function isWord(token: Token | undefined, word: string): boolean {
	return token?.kind === 'word' && token.value === word;
}

/** For each opening bracket token, the index of its closing one (and the reverse); undefined if they do not balance. */
function matchBrackets(tokens: readonly Token[]): Map<number, number> | undefined {
	const pairs: Record<string, string> = { '}': '{', ']': '[', ')': '(' };
	const stack: number[] = [];
	const matches = new Map<number, number>();
	for (let i = 0; i < tokens.length; i++) {
		const value = tokens[i].kind === 'punct' ? tokens[i].value : '';
		if (value === '{' || value === '[' || value === '(') { stack.push(i); } else if (pairs[value]) {
			const opened = stack.pop();
			if (opened === undefined || tokens[opened].value !== pairs[value]) { return undefined; }
			matches.set(opened, i);
		}
	}
	return stack.length ? undefined : matches;
}

/** Significant tokens of JavaScript / TypeScript text: enough to match brackets and read property keys. */
function tokenize(text: string): Token[] {
	const tokens: Token[] = [];
	// Open `{` (false) and template `${` (true) brackets, so a `}` knows whether it resumes a template.
	const braces: boolean[] = [];
	let i = 0;
	const push = (kind: TokenKind, start: number) => { tokens.push({ kind, start, end: i, value: text.slice(start, i) }); };
	const readTemplate = (start: number) => {
		while (i < text.length) {
			const c = text[i];
			if (c === '\\') { i += 2; continue; }
			if (c === '`') { i++; push('template', start); return; }
			if (c === '$' && text[i + 1] === '{') { i += 2; braces.push(true); return; }
			i++;
		}
		throw new Error('it has an unterminated template literal');
	};
	while (i < text.length) {
		const c = text[i];
		const start = i;
		if (/\s/.test(c)) { i++; continue; }
		if (c === '/' && text[i + 1] === '/') { while (i < text.length && text[i] !== '\n') { i++; } continue; }
		if (c === '/' && text[i + 1] === '*') {
			const end = text.indexOf('*/', i + 2);
			if (end < 0) { throw new Error('it has an unterminated comment'); }
			i = end + 2;
			continue;
		}
		if (c === '"' || c === "'") {
			i++;
			while (i < text.length && text[i] !== c && text[i] !== '\n') { i += text[i] === '\\' ? 2 : 1; }
			if (text[i] !== c) { throw new Error('it has an unterminated string'); }
			i++;
			push('string', start);
			continue;
		}
		if (c === '`') { i++; readTemplate(start); continue; }
		if (c === '/' && regexAllowed(tokens[tokens.length - 1])) {
			i++;
			let inClass = false;
			while (i < text.length && text[i] !== '\n' && (inClass || text[i] !== '/')) {
				if (text[i] === '\\') { i++; } else if (text[i] === '[') { inClass = true; } else if (text[i] === ']') { inClass = false; }
				i++;
			}
			if (text[i] !== '/') { throw new Error('it has an unterminated regular expression'); }
			i++;
			while (/[a-z]/i.test(text[i] ?? '')) { i++; }
			push('regex', start);
			continue;
		}
		if (/[A-Za-z_$]/.test(c)) {
			while (/[\w$]/.test(text[i] ?? '')) { i++; }
			push('word', start);
			continue;
		}
		if (c === '{') { braces.push(false); } else if (c === '}') {
			if (braces.pop()) { i++; readTemplate(start); continue; }
		}
		i++;
		push('{}[](),:;=.'.includes(c) ? 'punct' : REGEX_AFTER_PUNCT.has(c) ? 'punct' : 'other', start);
	}
	return tokens;
}

function regexAllowed(previous: Token | undefined): boolean {
	if (!previous) { return true; }
	// After `)` or `]` a slash divides; after `}` it is taken as a regex (a block's end is likelier in a config than a division).
	if (previous.kind === 'punct') { return previous.value !== ')' && previous.value !== ']'; }
	return previous.kind === 'word' && REGEX_AFTER_WORD.has(previous.value);
}
