import * as assert from 'node:assert/strict';
import { applyFilter, matches, parseFilter, tokenize } from '../../../src/shared/filter';
import type { ExchangeSummary } from '../../../src/shared/summary';

function row(overrides: Partial<ExchangeSummary>): ExchangeSummary {
	return {
		id: 1, kind: 'http', state: 'completed', method: 'GET', status: 200, host: 'localhost:8443', path: '/', type: 'document',
		mime: 'text/html', size: 100, duration: 5, protocol: 'h2', start: 0, ...overrides,
	};
}

const rows: ExchangeSummary[] = [
	row({ id: 1, path: '/', type: 'document' }),
	row({ id: 2, path: '/api/users?page=2', type: 'json', mime: 'application/json' }),
	row({ id: 3, method: 'POST', path: '/api/users', status: 201, type: 'json', mime: 'application/json' }),
	row({ id: 4, path: '/missing.png', status: 404, type: 'image', mime: 'image/png' }),
	row({ id: 5, path: '/boom', status: 500, type: 'text', mime: 'text/plain' }),
	row({ id: 6, host: 'api.localhost:8443', path: '/v1/items', type: 'json', mime: 'application/json' }),
	row({ id: 7, kind: 'websocket', path: '/?token=abc', status: 101, type: 'websocket', mime: '', protocol: 'ws', state: 'pending' }),
	row({ id: 8, kind: 'tls-error', state: 'tls-error', method: '', status: 0, host: 'localhost', path: '', type: 'tls', mime: '', error: 'client rejected the certificate: unknown CA' }),
	row({ id: 9, method: 'DELETE', path: '/api/users/1', status: 0, state: 'upstream-error', type: 'other', mime: '', error: 'ECONNREFUSED' }),
	row({ id: 10, path: '/slow', status: 0, state: 'pending', type: 'other', mime: '' }),
];

const ids = (text: string) => applyFilter(text, rows).map((r) => r.id);

describe('inspector filter language', () => {
	it('matches everything when empty or blank', () => {
		assert.deepEqual(ids(''), rows.map((r) => r.id));
		assert.deepEqual(ids('   '), rows.map((r) => r.id));
	});

	it('free text is a case-insensitive substring of path, host, method, status, type and media type', () => {
		assert.deepEqual(ids('USERS'), [2, 3, 9]);
		assert.deepEqual(ids('api.'), [6]);
		assert.deepEqual(ids('post'), [3]);
		assert.deepEqual(ids('404'), [4]);
		assert.deepEqual(ids('image/png'), [4]);
		assert.deepEqual(ids('unknown png'), [], 'two terms, both must match');
		assert.deepEqual(ids('"unknown ca"'), [8], 'quoted text keeps its space and also searches errors');
	});

	it('method: takes one or more methods, any case', () => {
		assert.deepEqual(ids('method:post'), [3]);
		assert.deepEqual(ids('method:POST,delete'), [3, 9]);
	});

	it('status: exact, class, range, comparison, error and pending', () => {
		assert.deepEqual(ids('status:404'), [4]);
		assert.deepEqual(ids('status:4xx'), [4]);
		assert.deepEqual(ids('status:2xx'), [1, 2, 3, 6]);
		assert.deepEqual(ids('status:400-599'), [4, 5]);
		assert.deepEqual(ids('status:>=400'), [4, 5]);
		assert.deepEqual(ids('status:<200'), [7]);
		assert.deepEqual(ids('status:error'), [8, 9]);
		assert.deepEqual(ids('status:pending'), [7, 10]);
	});

	it('host: substring, or a wildcard that must match the whole name', () => {
		assert.deepEqual(ids('host:api'), [6]);
		assert.deepEqual(ids('host:*.localhost'), [6]);
		assert.deepEqual(ids('host:localhost').length, 10);
	});

	it('type: names, aliases and lists', () => {
		assert.deepEqual(ids('type:json'), [2, 3, 6]);
		assert.deepEqual(ids('type:img'), [4]);
		assert.deepEqual(ids('type:ws'), [7]);
		assert.deepEqual(ids('type:doc,img'), [1, 4]);
		assert.deepEqual(ids('type:xhr'), [2, 3, 5, 6]);
		assert.deepEqual(ids('type:tls'), [8]);
		const streams = [row({ id: 1, type: 'eventsource', mime: 'text/event-stream' }), row({ id: 2, type: 'text' })];
		for (const name of ['eventsource', 'sse', 'events']) assert.deepEqual(applyFilter(`type:${name}`, streams).map((r) => r.id), [1], name);
	});

	it('- negates any term, and terms combine with AND', () => {
		assert.deepEqual(ids('-type:json'), [1, 4, 5, 7, 8, 9, 10]);
		assert.deepEqual(ids('api -method:GET'), [3, 9]);
		assert.deepEqual(ids('type:json -host:api status:2xx'), [2, 3]);
		assert.deepEqual(ids('-users -status:error -status:pending -type:tls'), [1, 4, 5, 6]);
		assert.deepEqual(ids('-'), [], 'a lone dash is text (no row has a dash)');
	});

	it('reports terms it cannot understand and ignores them', () => {
		const parsed = parseFilter('status:abc type:jsn method: users');
		assert.equal(parsed.errors.length, 3, parsed.errors.join('\n'));
		assert.match(parsed.errors[0], /status:abc/);
		assert.match(parsed.errors[1], /type:jsn/);
		assert.deepEqual(parsed.terms, [{ kind: 'text', negate: false, value: 'users' }]);
	});

	it('treats unknown keys (and URLs) as text', () => {
		const parsed = parseFilter('https://localhost:8443/api foo:bar');
		assert.deepEqual(parsed.terms.map((t) => t.kind), ['text', 'text']);
		assert.equal(matches(parsed, row({ path: '/api', host: 'localhost:8443' })), false, 'the text is searched in path/host separately');
		assert.deepEqual(ids('/api/users?page=2'), [2]);
	});

	it('names a misspelt key, says which it meant, and ignores the term', () => {
		for (const [text, meant] of [['stauts:404', 'status'], ['mehtod:GET', 'method'], ['tpye:json', 'type'], ['hots:api', 'host'], ['larger-then:1k', 'larger-than'], ['szie:>1kb', 'size']]) {
			const parsed = parseFilter(text);
			assert.deepEqual(parsed.terms, [], text);
			assert.equal(parsed.errors.length, 1, text);
			assert.match(parsed.errors[0], new RegExp(`did you mean ${meant}:`), text);
		}
		// The list keeps showing what the other terms match instead of going empty.
		assert.deepEqual(ids('stauts:404 /api/users'), [2, 3, 9]);
	});

	it('searches any other word before a colon as text, and says it is not a key', () => {
		const parsed = parseFilter('foo:bar');
		assert.deepEqual(parsed.terms, [{ kind: 'text', negate: false, value: 'foo:bar' }]);
		assert.match(parsed.errors[0], /foo: is not a filter key .*searched as text/);
		assert.deepEqual(parseFilter('localhost:8443 https://localhost/ localhost:').errors, [], 'host:port and URLs are text, silently');
		assert.deepEqual(ids('localhost:8443'), [1, 2, 3, 4, 5, 6, 7, 9, 10]);
	});

	it('path: substring of path and query, or a wildcard for all of it', () => {
		assert.deepEqual(ids('path:/API/users'), [2, 3, 9]);
		assert.deepEqual(ids('path:/api/*'), [2, 3, 9]);
		assert.deepEqual(ids('path:*.png'), [4]);
		assert.deepEqual(ids('-path:/api'), [1, 4, 5, 6, 7, 8, 10]);
		assert.match(parseFilter('path:').errors[0], /path: needs a path/);
	});

	it('size:, larger-than: and smaller-than: compare response body bytes, with k and m units', () => {
		const sized = [row({ id: 1, size: 0 }), row({ id: 2, size: 1023 }), row({ id: 3, size: 1024 }), row({ id: 4, size: 1025 }), row({ id: 5, size: 1536 }), row({ id: 6, size: 3 * 1024 * 1024 })];
		const sizes = (text: string) => applyFilter(text, sized).map((r) => r.id);
		assert.deepEqual(sizes('size:>1kb'), [4, 5, 6]);
		assert.deepEqual(sizes('size:>=1k'), [3, 4, 5, 6]);
		assert.deepEqual(sizes('size:<1KiB'), [1, 2]);
		assert.deepEqual(sizes('size:<=1024'), [1, 2, 3]);
		assert.deepEqual(sizes('size:1024'), [3]);
		assert.deepEqual(sizes('size:1k-1.5k'), [3, 4, 5]);
		assert.deepEqual(sizes('larger-than:1k'), [4, 5, 6]);
		assert.deepEqual(sizes('larger-than:1.5k smaller-than:4mb'), [6]);
		assert.deepEqual(sizes('smaller-than:1k'), [1, 2]);
		assert.deepEqual(sizes('-size:0'), [2, 3, 4, 5, 6]);
		for (const bad of ['size:>1kg', 'size:big', 'size:2k-1k', 'larger-than:', 'smaller-than:>1k']) {
			const parsed = parseFilter(bad);
			assert.deepEqual(parsed.terms, [], bad);
			assert.match(parsed.errors[0], /is not a size/, bad);
		}
	});

	it('connection: keeps the exchanges of one client connection (or of several)', () => {
		const carried = [row({ id: 1, connection: 7 }), row({ id: 2, connection: 7, connectionReused: true }), row({ id: 3, connection: 8 }), row({ id: 4 })];
		const on = (text: string) => applyFilter(text, carried).map((r) => r.id);
		assert.deepEqual(on('connection:7'), [1, 2]);
		assert.deepEqual(on('connection:#8'), [3]);
		assert.deepEqual(on('connection:7,8'), [1, 2, 3]);
		assert.deepEqual(on('-connection:7'), [3, 4]);
		for (const bad of ['connection:', 'connection:abc', 'connection:7,x']) {
			const parsed = parseFilter(bad);
			assert.deepEqual(parsed.terms, [], bad);
			assert.match(parsed.errors[0], /is not a connection number/, bad);
		}
		assert.match(parseFilter('conection:7').errors[0], /did you mean connection:/);
	});

	it('tokenizes quoted parts, also after a key', () => {
		assert.deepEqual(tokenize(' a  "b c" host:"x y" -"d"'), ['a', 'b c', 'host:x y', '-d']);
		assert.deepEqual(tokenize('""'), ['']);
	});

	it('is pure: parsing twice gives equal results, and matching does not change rows', () => {
		const copy = JSON.parse(JSON.stringify(rows));
		assert.deepEqual(parseFilter('type:json -x'), parseFilter('type:json -x'));
		applyFilter('type:json status:2xx users', rows);
		assert.deepEqual(rows, copy);
	});
});
