import * as assert from 'node:assert/strict';
import { describeUpstreamError, renderErrorPage } from '../../../src/core/proxy/errorPage';
import { http1RequestHeaders, http1ResponseHeaders, http2RequestHeaders, http2ResponseHeaders, isLoopbackAuthority } from '../../../src/core/proxy/headers';
import { describeTlsError } from '../../../src/core/proxy/tlsDetails';

const facts = { clientIp: '::1', rewriteHost: undefined, fallbackHost: 'localhost:5173', upgrade: undefined };

describe('proxy: header rewriting', () => {
	it('HTTP/1.1 request: drops hop-by-hop and Connection-named headers, keeps order and case, appends forwarding', () => {
		const out = http1RequestHeaders([
			'Host', 'localhost:8443', 'Connection', 'keep-alive, X-Secret', 'X-Secret', 's', 'Accept', '*/*', 'Transfer-Encoding', 'chunked',
			'Proxy-Connection', 'keep-alive', 'Upgrade', 'h2c', 'TE', 'trailers', 'Expect', '100-continue', 'X-Forwarded-Proto', 'http', 'Forwarded', 'for=10.0.0.1',
		], facts);
		assert.deepEqual(out.headers, [
			'Host', 'localhost:8443', 'Accept', '*/*',
			'X-Forwarded-For', '::1', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'localhost:8443',
			'Forwarded', 'for=10.0.0.1, for="[::1]";host="localhost:8443";proto=https', 'Transfer-Encoding', 'chunked', 'Connection', 'keep-alive',
		]);
		assert.equal(out.host, 'localhost:8443');
		assert.equal(out.hasBody, true);
	});

	it('HTTP/1.1 request: Content-Length 0 is no body; a missing Host gets the target; rewriteHost replaces it', () => {
		const none = http1RequestHeaders(['Content-Length', '0'], facts);
		assert.equal(none.hasBody, false);
		assert.deepEqual(none.headers.slice(0, 4), ['Content-Length', '0', 'Host', 'localhost:5173']);
		const rewritten = http1RequestHeaders(['host', 'app.localhost:8443'], { ...facts, rewriteHost: '127.0.0.1:3000' });
		assert.deepEqual(rewritten.headers.slice(0, 2), ['host', '127.0.0.1:3000']);
		assert.ok(rewritten.headers.includes('app.localhost:8443'), 'X-Forwarded-Host keeps the original');
	});

	it('WebSocket upgrade: Connection/Upgrade rebuilt, Sec-WebSocket-* untouched', () => {
		const out = http1RequestHeaders(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Protocol', 'vite-hmr', 'Sec-WebSocket-Extensions', 'permessage-deflate'], { ...facts, upgrade: 'websocket' });
		assert.deepEqual(out.headers.slice(0, 6), ['Host', 'h', 'Sec-WebSocket-Protocol', 'vite-hmr', 'Sec-WebSocket-Extensions', 'permessage-deflate']);
		assert.deepEqual(out.headers.slice(-4), ['Connection', 'Upgrade', 'Upgrade', 'websocket']);
	});

	it('HTTP/2 request: :authority becomes the first header, cookies are joined, pseudo-headers dropped', () => {
		const out = http2RequestHeaders([':method', 'GET', ':authority', 'localhost:8443', ':scheme', 'https', ':path', '/', 'cookie', 'a=1', 'accept', '*/*', 'cookie', 'b=2', 'te', 'trailers'], { ...facts, chunked: false });
		assert.equal(out.authority, 'localhost:8443');
		assert.deepEqual(out.headers.slice(0, 6), ['Host', 'localhost:8443', 'accept', '*/*', 'cookie', 'a=1; b=2']);
		assert.ok(!out.headers.includes('te'));
	});

	it('HTTP/1.1 response: hop-by-hop out; HSTS out only for loopback names; 101 keeps Connection/Upgrade', () => {
		const raw = ['Connection', 'Upgrade, X-Hop', 'Upgrade', 'websocket', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Strict-Transport-Security', 'max-age=1', 'Sec-WebSocket-Accept', 'abc'];
		assert.deepEqual(http1ResponseHeaders(raw, false, 'localhost:8443'), ['Sec-WebSocket-Accept', 'abc']);
		assert.deepEqual(http1ResponseHeaders(raw, false, 'example.com'), ['Strict-Transport-Security', 'max-age=1', 'Sec-WebSocket-Accept', 'abc']);
		assert.deepEqual(http1ResponseHeaders(raw, true, 'localhost'), ['Strict-Transport-Security', 'max-age=1', 'Sec-WebSocket-Accept', 'abc']);
		assert.deepEqual(http1ResponseHeaders(raw, false, 'localhost', true), ['Connection', 'Upgrade, X-Hop', 'Upgrade', 'websocket', 'Sec-WebSocket-Accept', 'abc']);
	});

	it('HTTP/2 response: connection-specific fields removed, set-cookie arrays kept', () => {
		const raw = ['Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Proxy-Connection', 'x', 'Upgrade', 'h2c',
			'Set-Cookie', 'a=1', 'Content-Type', 'text/html', 'set-cookie', 'b=2', 'Strict-Transport-Security', 'max-age=1'];
		assert.deepEqual(http2ResponseHeaders(200, raw, false, 'localhost'), { ':status': 200, 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/html' });
		assert.deepEqual(http2ResponseHeaders(204, raw, false, 'example.com'), { ':status': 204, 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/html', 'strict-transport-security': 'max-age=1' });
	});

	it('knows loopback names', () => {
		for (const name of [undefined, 'localhost', 'LOCALHOST:8443', 'app.localhost', 'app.localhost.:1', '127.0.0.1:8443', '127.9.9.9', '[::1]:8443', '::1', '[::ffff:127.0.0.1]']) {
			assert.equal(isLoopbackAuthority(name), true, String(name));
		}
		for (const name of ['example.com', 'localhost.example', '10.0.0.1:8443', '[2001:db8::1]:443', 'mylocalhost']) {
			assert.equal(isLoopbackAuthority(name), false, name);
		}
	});
});

describe('proxy: error pages and messages', () => {
	const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5173'), { code: 'ECONNREFUSED' });

	it('renders HTML, JSON and text by Accept, escaping what it prints', () => {
		const failure = describeUpstreamError(refused, 'http://localhost:5173', 10_000);
		const html = renderErrorPage(failure, 'http://<x>', 'text/html');
		assert.equal(html.status, 502);
		assert.match(html.body.toString(), /&#60;x&#62;/);
		assert.doesNotMatch(html.body.toString(), /<x>/);
		assert.match(renderErrorPage(failure, 't', 'application/problem+json').contentType, /json/);
		assert.match(renderErrorPage(failure, 't', undefined).contentType, /text\/plain/);
	});

	it('explains timeouts as 504 and unknown hosts as 502', () => {
		assert.equal(describeUpstreamError(Object.assign(new Error('x'), { code: 'UPSTREAM_CONNECT_TIMEOUT' }), 't', 10_000).status, 504);
		assert.match(describeUpstreamError(Object.assign(new Error('x'), { code: 'ENOTFOUND' }), 't', 1).reason, /cannot be resolved/);
	});

	it('describes TLS handshake failures in words', () => {
		assert.match(describeTlsError(Object.assign(new Error('…:sslv3 alert certificate unknown:…'), { code: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN' })), /^TLS alert from client: certificate unknown \(the client does not trust/);
		assert.match(describeTlsError(Object.assign(new Error('…:wrong version number:…'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })), /^Not a TLS handshake/);
		assert.match(describeTlsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), /closed the connection/);
		assert.match(describeTlsError(Object.assign(new Error('timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })), /timed out/);
	});
});
