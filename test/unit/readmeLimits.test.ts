import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import * as path from 'node:path';
import { MAX_CHUNK_EXTENSION_BYTES, MAX_HEAD_BYTES, MAX_TRAILER_BYTES } from '../../src/core/proxy/http1Parser';
import { RESET_BURST, RESETS_PER_SECOND } from '../../src/core/proxy/http2Forward';
import {
	DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, H2_MAX_CONCURRENT_STREAMS,
} from '../../src/core/proxy/proxyServer';
import { MAX_BARE_ANSWER } from '../../src/core/proxy/webSocket';

/*
 * The README's "Limits" table (in "The proxy") against the constants it quotes, so that a changed limit
 * cannot leave the table behind. Rows whose value is not an exported constant of ours are listed in
 * UNCHECKED with the reason; a row in neither list fails the test, so a new row needs a decision.
 */

const root = path.resolve(__dirname, '../..');

interface Row {
	readonly limit: string;
	readonly value: string;
	readonly outcome: string;
}

/** The rows of the first table under "### Limits" inside "## The proxy". */
function limitsTable(): Row[] {
	const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
	const section = /^## The proxy\n([^]*?)^## /m.exec(readme)?.[1];
	assert.ok(section !== undefined, 'README.md has a "## The proxy" section followed by another');
	const limits = /^### Limits\n([^]*)$/m.exec(section)?.[1];
	assert.ok(limits !== undefined, '"## The proxy" has a "### Limits" subsection');
	const lines = limits.split('\n');
	const start = lines.findIndex((line) => line.startsWith('|'));
	assert.ok(start >= 0, 'the Limits subsection has a table');
	const table: string[] = [];
	for (const line of lines.slice(start)) {
		if (!line.startsWith('|')) { break; }
		table.push(line);
	}
	assert.match(table[0], /^\| *Limit *\| *Value *\| *What the client gets *\|$/);
	assert.match(table[1], /^\|(-+\|){3}$/);
	return table.slice(2).map((line) => {
		const cells = line.slice(1, -1).split('|').map((cell) => cell.trim());
		assert.equal(cells.length, 3, `three cells: ${line}`);
		return { limit: cells[0], value: cells[1], outcome: cells[2] };
	});
}

function kib(bytes: number): string {
	assert.equal(bytes % 1024, 0, `${bytes} is a whole number of KiB`);
	return `${bytes / 1024} KiB`;
}

function mib(bytes: number): string {
	assert.equal(bytes % (1024 * 1024), 0, `${bytes} is a whole number of MiB`);
	return `${bytes / 1024 / 1024} MiB`;
}

function seconds(ms: number): string {
	assert.equal(ms % 1000, 0, `${ms} ms is a whole number of seconds`);
	return `${ms / 1000} s`;
}

/** The default of a setting in package.json's contributes.configuration. */
function settingDefault(name: string): number {
	const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
		contributes: { configuration: { properties: Record<string, { default?: unknown }> } | Array<{ properties: Record<string, { default?: unknown }> }> };
	};
	const configuration = manifest.contributes.configuration;
	const sections = Array.isArray(configuration) ? configuration : [configuration];
	const found = sections.map((section) => section.properties[name]).find((property) => property !== undefined);
	assert.ok(found !== undefined && typeof found.default === 'number', `package.json declares ${name} with a number default`);
	return found.default;
}

/** Rows checked against the code, by the start of their "Limit" cell. */
const CHECKED: ReadonlyArray<readonly [string, (row: Row) => void]> = [
	['HTTP/1.1 request head', (row) => assert.equal(row.value, kib(MAX_HEAD_BYTES))],
	['Response head from the dev server', (row) => assert.equal(row.value, kib(MAX_HEAD_BYTES))],
	// The dev server's limit, not ours: Node's default maxHeaderSize.
	['HTTP/2 header list', (row) => {
		assert.equal(row.value, kib(MAX_HEAD_BYTES));
		// Ours is set to the dev server's: Node's default maxHeaderSize.
		assert.equal(MAX_HEAD_BYTES, maxHeaderSize);
	}],
	['HTTP/1.1 request body silent', (row) => assert.equal(row.value, `${seconds(DEFAULT_IDLE_TIMEOUT_MS)} (the idle timeout)`)],
	['HTTP/1.1 response the client does not take', (row) => assert.equal(row.value, `${seconds(DEFAULT_IDLE_TIMEOUT_MS)} (the idle timeout)`)],
	['Chunk extensions', (row) => assert.equal(row.value, kib(MAX_CHUNK_EXTENSION_BYTES))],
	['Trailer section', (row) => assert.equal(row.value, kib(MAX_TRAILER_BYTES))],
	['HTTP/2 client resets', (row) => assert.equal(row.value, `a burst of ${RESET_BURST}, then ${RESETS_PER_SECOND} a second`)],
	['HTTP/2 concurrent streams per connection', (row) => assert.equal(row.value, String(H2_MAX_CONCURRENT_STREAMS))],
	['HTTP/2 stream waiting for its client', (row) => assert.equal(row.value, `${seconds(DEFAULT_IDLE_TIMEOUT_MS)} (the idle timeout)`)],
	['TLS: first byte, then the handshake', (row) => assert.equal(row.value, `${seconds(DEFAULT_HANDSHAKE_TIMEOUT_MS)}, then ${seconds(DEFAULT_HANDSHAKE_TIMEOUT_MS)}`)],
	['Request head timeout', (row) => assert.equal(row.value, seconds(DEFAULT_HEADERS_TIMEOUT_MS))],
	['Idle connection', (row) => {
		assert.equal(row.value, seconds(DEFAULT_IDLE_TIMEOUT_MS));
		assert.ok(row.outcome.includes(`\`Keep-Alive: timeout=${DEFAULT_IDLE_TIMEOUT_MS / 1000}\``), row.outcome);
	}],
	['Connecting to the dev server', (row) => assert.equal(row.value, seconds(DEFAULT_CONNECT_TIMEOUT_MS))],
	['Plain HTTP on the TLS port', (row) => {
		assert.equal(row.value, `${kib(MAX_HEAD_BYTES)} head, ${seconds(DEFAULT_HEADERS_TIMEOUT_MS)}`);
		assert.ok(row.outcome.includes(`over ${kib(MAX_HEAD_BYTES)}: \`431\``), row.outcome);
		assert.ok(row.outcome.includes(`within ${seconds(DEFAULT_HEADERS_TIMEOUT_MS)}: \`408\``), row.outcome);
	}],
	['WebSocket refusal with no HTTP status line', (row) => {
		assert.equal(row.value, kib(MAX_BARE_ANSWER));
		assert.ok(row.outcome.startsWith(`up to ${kib(MAX_BARE_ANSWER)}:`), row.outcome);
	}],
	['Capture: bytes kept per body', (row) => {
		assert.ok(row.limit.includes('`tlsLens.capture.bodyLimit`'), row.limit);
		assert.equal(row.value, mib(settingDefault('tlsLens.capture.bodyLimit')));
		assert.ok(row.outcome.includes(`the first ${row.value}`), row.outcome);
	}],
	['Capture: bytes kept in all', (row) => {
		assert.ok(row.limit.includes('`tlsLens.capture.budget`'), row.limit);
		assert.equal(row.value, mib(settingDefault('tlsLens.capture.budget')));
	}],
];

/** Rows whose value has no exported constant of ours to check against. */
const UNCHECKED: readonly string[] = [
	// Node's and nghttp2's own limits (maxHeaderListPairs, NGHTTP2_HD_MAX_NV, max CONTINUATIONs); none is exported by Node.
	'HTTP/2 header fields of one request',
	'HTTP/2 header name or value',
	'HTTP/2 CONTINUATION frames',
];

describe('README: the Limits table matches the code', () => {
	const rows = limitsTable();
	const find = (start: string): Row | undefined => rows.find((row) => row.limit.startsWith(start));

	for (const [start, check] of CHECKED) {
		it(`"${start}"`, () => {
			const row = find(start);
			assert.ok(row !== undefined, `no row starting "${start}" in the README's Limits table`);
			check(row);
		});
	}

	it('has no row that is neither checked nor listed as unchecked', () => {
		const known = [...CHECKED.map(([start]) => start), ...UNCHECKED];
		for (const row of rows) {
			assert.ok(known.some((start) => row.limit.startsWith(start)), `the row "${row.limit}" is neither checked nor listed in UNCHECKED`);
		}
		for (const start of UNCHECKED) { assert.ok(find(start) !== undefined, `no row starting "${start}"`); }
	});
});
