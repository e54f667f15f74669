import * as assert from 'node:assert/strict';
import { parseTarget } from '../../../src/core/proxy';
import { upstreamEndpoint } from '../../../src/core/proxy/target';

describe('proxy: parseTarget', () => {
	for (const [input, expected] of [
		[5173, 'http://localhost:5173/'],
		['5173', 'http://localhost:5173/'],
		[':5173', 'http://localhost:5173/'],
		['localhost:3000', 'http://localhost:3000/'],
		['http://127.0.0.1:5173', 'http://127.0.0.1:5173/'],
		['http://127.0.0.1:5173/', 'http://127.0.0.1:5173/'],
		['https://127.0.0.1:8443', 'https://127.0.0.1:8443/'],
		['[::1]:3000', 'http://[::1]:3000/'],
		['HTTP://LocalHost:80', 'http://localhost/'],
	] as const) {
		it(`parses ${JSON.stringify(input)}`, () => {
			assert.equal(parseTarget(input).href, expected);
		});
	}

	for (const [input, message] of [
		['', /empty/],
		[0, /port "0" is not valid/],
		[70000, /not valid/],
		[1.5, /not valid/],
		['99999', /not valid/],
		['ftp://localhost:21', /uses ftp/],
		['ws://localhost:1', /uses ws/],
		['http://localhost:3000/app', /path, query or fragment/],
		['http://localhost:3000?x', /path, query or fragment/],
		['http://user:pw@localhost:3000', /credentials/],
		['local host:3000', /not a port or URL/],
	] as const) {
		it(`rejects ${JSON.stringify(input)} with a reason`, () => {
			assert.throws(() => parseTarget(input), message);
		});
	}

	it('derives the upstream endpoint: IPv6 unbracketed for connecting, default ports applied', () => {
		const v6 = upstreamEndpoint(parseTarget('[::1]:3000'));
		assert.deepEqual({ host: v6.host, port: v6.port, authority: v6.authority, tls: v6.tls }, { host: '::1', port: 3000, authority: '[::1]:3000', tls: false });
		const https = upstreamEndpoint(parseTarget('https://dev.localhost'));
		assert.deepEqual({ host: https.host, port: https.port, authority: https.authority, display: https.display, tls: https.tls },
			{ host: 'dev.localhost', port: 443, authority: 'dev.localhost', display: 'https://dev.localhost', tls: true });
	});
});
