import * as assert from 'node:assert/strict';
import { http1ResponseHeaders, http2ResponseHeaders } from '../../../src/core/proxy/headers';
import { RedirectRewriter } from '../../../src/core/proxy/redirects';
import { parseTarget, upstreamEndpoint } from '../../../src/core/proxy/target';

function rewriter(target: string | number): RedirectRewriter {
	return new RedirectRewriter(upstreamEndpoint(parseTarget(target)));
}

const BROWSER = 'localhost:8443';

describe('proxy: redirect rewriting (RedirectRewriter)', () => {
	it('rewrites every spelling of the target origin to https and the authority the browser used', () => {
		const r = rewriter(5173);
		for (const origin of ['http://localhost:5173', 'http://127.0.0.1:5173', 'http://[::1]:5173', 'HTTP://LocalHost:5173', 'http://[::1]:05173']) {
			assert.equal(r.location(`${origin}/dashboard?next=%2F#top`, BROWSER), 'https://localhost:8443/dashboard?next=%2F#top', origin);
			assert.equal(r.location(origin, BROWSER), 'https://localhost:8443', `${origin} with no path`);
			assert.equal(r.location(`${origin}?q`, '127.0.0.1:8443'), 'https://127.0.0.1:8443?q', `${origin} with a query`);
		}
		assert.equal(r.location('http://localhost:5173/x', '[::1]:8443'), 'https://[::1]:8443/x');
		// Browsers read `\` as `/` in http URLs: it ends the authority there too.
		assert.equal(r.location('http://localhost:5173\\x', BROWSER), 'https://localhost:8443\\x');
		// Protocol-relative: resolved against the dev server's page it is the target; only the authority changes.
		assert.equal(r.location('//localhost:5173/x', BROWSER), '//localhost:8443/x');
	});

	it('knows the configured target host as a spelling too, IPv6 included', () => {
		const named = rewriter('http://devbox.test:3000');
		assert.equal(named.location('http://devbox.test:3000/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(named.location('http://DEVBOX.test:3000/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(named.location('http://localhost:3000/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(named.location('http://other.test:3000/a', BROWSER), undefined);
		const v6 = rewriter('http://[::1]:3000');
		assert.equal(v6.location('http://[::1]:3000/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(v6.location('http://127.0.0.1:3000/a', BROWSER), 'https://localhost:8443/a');
	});

	it('matches a URL without a port only when the target is on its scheme\'s default port', () => {
		const on80 = rewriter('http://localhost:80');
		assert.equal(on80.location('http://localhost/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(on80.location('http://localhost:80/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(on80.location('http://localhost:/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(on80.location('http://localhost:8080/a', BROWSER), undefined);
		assert.equal(rewriter(5173).location('http://localhost/a', BROWSER), undefined);
		assert.equal(rewriter(5173).location('http://localhost:/a', BROWSER), undefined);
	});

	it('matches the scheme of the target: https for an https target', () => {
		const tls = rewriter('https://localhost:3443');
		assert.equal(tls.location('https://localhost:3443/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(tls.location('http://localhost:3443/a', BROWSER), undefined);
		assert.equal(rewriter('https://localhost').location('https://127.0.0.1/a', BROWSER), 'https://localhost:8443/a');
		assert.equal(rewriter(3443).location('https://localhost:3443/a', BROWSER), undefined);
	});

	it('leaves every other URL alone', () => {
		const r = rewriter(5173);
		for (const value of [
			'/dashboard', 'dashboard', '?page=2', '#top', '', '/', '//', '//example.com/x', '//localhost:5174/x',
			'http://localhost:5174/x', 'http://localhost:51730/x', 'http://localhost:5173x/', 'http://localhost:+5173/',
			'http://example.com:5173/x', 'http://localhost.example:5173/x', 'http://127.0.0.2:5173/x', 'http://[::2]:5173/x',
			'http://user@localhost:5173/x', 'http://user:pw@localhost:5173/x', 'ftp://localhost:5173/x', 'javascript:alert(1)',
			'http:/localhost:5173/x', 'http://[::1/x', ' http://localhost:5173/x',
		]) {
			assert.equal(r.location(value, BROWSER), undefined, value);
		}
	});

	it('rewrites the URL of a Refresh value, in HTML\'s syntax', () => {
		const r = rewriter(5173);
		assert.equal(r.refresh('0; url=http://localhost:5173/next', BROWSER), '0; url=https://localhost:8443/next');
		assert.equal(r.refresh('5;URL=\'http://127.0.0.1:5173/next\'', BROWSER), '5;URL=\'https://localhost:8443/next\'');
		assert.equal(r.refresh('1.5 , http://[::1]:5173/', BROWSER), '1.5 , https://localhost:8443/');
		assert.equal(r.refresh('0;url = "http://localhost:5173"', BROWSER), '0;url = "https://localhost:8443"');
		for (const value of ['5', '0; url=/next', '0; url=http://localhost:3000/', 'url=http://localhost:5173/', 'soon; url=http://localhost:5173/']) {
			assert.equal(r.refresh(value, BROWSER), undefined, value);
		}
	});

	it('rewrites Location, Content-Location and Refresh in both response header builders, and says which', () => {
		const r = rewriter(5173);
		const raw = ['Location', 'http://localhost:5173/a', 'Link', '<http://localhost:5173/b>', 'content-location', 'http://127.0.0.1:5173/c',
			'Refresh', '0; url=http://localhost:5173/d', 'X-Location', 'http://localhost:5173/e', 'LOCATION', '/relative'];
		const heard: unknown[] = [];
		const listener = { headerRewritten: (index: number, original: string, value: string) => heard.push([index, original, value]) };
		assert.deepEqual(http1ResponseHeaders(raw, false, BROWSER, false, false, r, listener), [
			'Location', 'https://localhost:8443/a', 'Link', '<http://localhost:5173/b>', 'content-location', 'https://localhost:8443/c',
			'Refresh', '0; url=https://localhost:8443/d', 'X-Location', 'http://localhost:5173/e', 'LOCATION', '/relative',
		]);
		assert.deepEqual(heard, [[0, 'http://localhost:5173/a', 'https://localhost:8443/a'], [2, 'http://127.0.0.1:5173/c', 'https://localhost:8443/c'],
			[3, '0; url=http://localhost:5173/d', '0; url=https://localhost:8443/d']]);
		heard.length = 0;
		assert.deepEqual(http2ResponseHeaders(302, raw, false, BROWSER, false, r, listener), {
			':status': 302, location: ['https://localhost:8443/a', '/relative'], link: '<http://localhost:5173/b>', 'content-location': 'https://localhost:8443/c',
			refresh: '0; url=https://localhost:8443/d', 'x-location': 'http://localhost:5173/e',
		});
		assert.equal(heard.length, 3);
		// Off (no rewriter), or no authority to point at (an HTTP/1.0 request without Host): as sent.
		assert.deepEqual(http1ResponseHeaders(raw, false, BROWSER), raw);
		assert.deepEqual(http1ResponseHeaders(raw, false, undefined, false, false, r, listener), raw);
	});
});
