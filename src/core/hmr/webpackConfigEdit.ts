// Adds devServer.client.webSocketURL to a webpack config's text. This is textual on purpose: the only
// JavaScript parsers in node_modules (typescript, acorn/espree via eslint) are development tools, and
// bundling one into the extension for a single quick fix would cost more than it saves. Instead a small
// tokenizer (strings, template literals, comments and regex literals skipped, so braces inside them do
// not count) finds the exported object literal, and the edit is limited to the shapes it can be sure
// of: `module.exports = {…}`, `export default {…}` and an exported variable initialised with `{…}`.
// Anything else (a function, an array of configs, devServer built elsewhere) is refused with a reason.

/** The value webpack-dev-server's client needs to dial the page's own host and port (see webpackSocket.ts). */
export const WEBPACK_SOCKET_URL = 'auto://0.0.0.0:0/ws';

/** One replacement in the config's text: `length` characters at `offset` become `newText`. */
export interface ConfigTextEdit {
	readonly offset: number;
	readonly length: number;
	readonly newText: string;
}

/** What {@link planWebpackSocketFix} decided. */
export type WebpackConfigEditPlan =
	/** `edit` turns the text into `text`; no edit when the config already sets the value. */
	| { readonly ok: true; readonly edit: ConfigTextEdit | undefined; readonly text: string }
	/** The config has a shape this edit cannot change safely; `reason` says which, for the user. */
	| { readonly ok: false; readonly reason: string };

type TokenKind = 'punct' | 'word' | 'string' | 'template' | 'regex' | 'other';
interface Token { readonly kind: TokenKind; readonly start: number; readonly end: number; readonly value: string }

const REGEX_AFTER_PUNCT = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);

/**
 * Plans the edit that makes a webpack config set `devServer.client.webSocketURL` to
 * {@link WEBPACK_SOCKET_URL}: adds the property (and the devServer / client objects around it, merging
 * into existing ones), or replaces an existing webSocketURL value. Applying the result and planning
 * again yields no edit.
 */
export function planWebpackSocketFix(text: string): WebpackConfigEditPlan {
	let tokens: Token[];
	try { tokens = tokenize(text); } catch (error) { return { ok: false, reason: (error as Error).message }; }
	const matches = matchBrackets(tokens);
	if (!matches) { return { ok: false, reason: 'its brackets do not balance' }; }
	const exported = findExportedObject(tokens);
	if (typeof exported === 'string') { return { ok: false, reason: exported }; }

	const path = ['devServer', 'client', 'webSocketURL'];
	let object = exported;
	for (let level = 0; level < path.length; level++) {
		const found = findProperty(tokens, matches, object, path[level]);
		if (found === 'shorthand') { return { ok: false, reason: `its ${path.slice(0, level + 1).join('.')} is defined elsewhere (shorthand property)` }; }
		if (!found) {
			const value = path.slice(level + 1).reduceRight((inner, key) => `{ ${key}: ${inner} }`, `'${WEBPACK_SOCKET_URL}'`);
			return planned(text, insertProperty(text, tokens, matches, object, `${path[level]}: ${value}`));
		}
		const first = tokens[found.valueStart];
		if (level === path.length - 1) {
			if (found.valueStart === found.valueEnd && first.kind === 'string' && stringValue(first.value) === WEBPACK_SOCKET_URL) { return { ok: true, edit: undefined, text }; }
			const end = tokens[found.valueEnd].end;
			return planned(text, { offset: first.start, length: end - first.start, newText: `'${WEBPACK_SOCKET_URL}'` });
		}
		if (first.value !== '{' || matches.get(found.valueStart) !== found.valueEnd) {
			return { ok: false, reason: `its ${path.slice(0, level + 1).join('.')} is not an object literal (${text.slice(first.start, tokens[found.valueEnd].end).slice(0, 40)})` };
		}
		object = found.valueStart;
	}
	return { ok: false, reason: 'unreachable' };
}

function planned(text: string, edit: ConfigTextEdit): WebpackConfigEditPlan {
	return { ok: true, edit, text: text.slice(0, edit.offset) + edit.newText + text.slice(edit.offset + edit.length) };
}

/** The index of the `{` token of the exported config object, or why there is none we can edit. */
function findExportedObject(tokens: readonly Token[]): number | string {
	let valueAt: number | undefined;
	for (let i = 0; i < tokens.length; i++) {
		if (isWord(tokens[i], 'module') && tokens[i + 1]?.value === '.' && isWord(tokens[i + 2], 'exports') && tokens[i + 3]?.value === '=') { valueAt = i + 4; }
		if (isWord(tokens[i], 'export') && isWord(tokens[i + 1], 'default')) { valueAt = i + 2; }
	}
	if (valueAt === undefined || !tokens[valueAt]) { return 'it has no module.exports = … or export default …'; }
	const value = tokens[valueAt];
	if (value.value === '{') { return valueAt; }
	if (value.value === '[') { return 'it exports an array of configs'; }
	if (value.value === '(' || isWord(value, 'function') || isWord(value, 'async') || tokens[valueAt + 1]?.value === '=>') { return 'it exports a function'; }
	if (value.kind === 'word' && tokens[valueAt + 1]?.value !== '(' && tokens[valueAt + 1]?.value !== '.') {
		// `const config = {…}; module.exports = config;` (with an optional TypeScript type annotation).
		for (let i = 0; i < tokens.length - 2; i++) {
			if (!['const', 'let', 'var'].some((k) => isWord(tokens[i], k)) || !isWord(tokens[i + 1], value.value)) { continue; }
			let j = i + 2;
			if (tokens[j]?.value === ':') { while (j < tokens.length && tokens[j].value !== '=' && tokens[j].value !== ';') { j++; } }
			if (tokens[j]?.value === '=' && tokens[j + 1]?.value === '{') { return j + 1; }
			return `its ${value.value} is not an object literal`;
		}
		return `it exports ${value.value}, defined elsewhere`;
	}
	return `it exports ${value.value}…, not an object literal`;
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
	if (close === open + 1) {
		return { offset: tokens[open].end, length: closing.start - tokens[open].end, newText: ` ${property} ` };
	}
	const last = tokens[close - 1];
	const trailingComma = last.value === ',';
	const closeLineStart = text.lastIndexOf('\n', closing.start) + 1;
	if (closeLineStart > last.end && !text.slice(closeLineStart, closing.start).trim()) {
		const lastLineStart = text.lastIndexOf('\n', last.start) + 1;
		const indent = /^[ \t]*/.exec(text.slice(lastLineStart))![0];
		const kept = text.slice(last.end, closeLineStart);
		return { offset: last.end, length: kept.length, newText: `${trailingComma ? '' : ','}${kept}${indent}${property}${trailingComma ? ',' : ''}\n` };
	}
	return { offset: last.end, length: 0, newText: trailingComma ? ` ${property},` : `, ${property}` };
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
