/**
 * "Copy as fetch": one exchange's request as a `fetch()` call that runs where it is pasted: the
 * console of a page on the proxy's origin (or Node 18+), in the shape Chrome DevTools produces. Pure
 * (no Node types), so it runs on either side.
 */
import type { Exchange } from './exchange';
import { requestUrl } from './summary';

// Headers fetch() may not set (https://fetch.spec.whatwg.org/#forbidden-request-header) or that
// describe the connection rather than the request; Referer and Cookie are expressed as options instead.
// User-Agent left the spec's list in 2015, but Chromium drops it from fetch() (crbug.com/571722, now
// issues.chromium.org/40450316; the fix rolling out makes it a header that needs a CORS preflight).
const FORBIDDEN = new Set([
	'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method', 'connection',
	'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'set-cookie',
	'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'http2-settings', 'user-agent',
]);

/** Binary bodies up to this many bytes are written out as a byte array; bigger ones are left out with a note. */
const MAX_BINARY_BODY = 64 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * @param requestBody the kept request body; a note says so when the capture cap cut it.
 */
export function toFetch(exchange: Exchange, requestBody?: Uint8Array): string {
	const request = exchange.request;
	if (request === undefined) return `// exchange ${exchange.id} has no request (${exchange.error ?? exchange.state})`;
	const notes: string[] = [];
	const headers: Array<[string, string]> = [];
	let referrer: string | undefined;
	let cookies = false;
	for (const [name, value] of request.headers) {
		const lower = name.toLowerCase();
		if (lower === 'referer') referrer = value;
		if (lower === 'cookie') cookies = true;
		if (name.startsWith(':') || FORBIDDEN.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
		headers.push([lower, value]);
	}
	const options: string[] = [];
	if (headers.length > 0) {
		options.push(`  "headers": {\n${headers.map(([n, v]) => `    ${JSON.stringify(n)}: ${JSON.stringify(v)}`).join(',\n')}\n  }`);
	}
	const url = requestUrl(request.authority, request.path);
	// The snippet runs on the request's own origin, where fetch() replaces a referrer from another origin
	// with the page's URL (Fetch: "client"; Chromium 156 does so silently): only a same-origin one is kept.
	if (referrer !== undefined && sameOrigin(referrer, url)) options.push(`  "referrer": ${JSON.stringify(referrer)}`);
	const body = requestBody !== undefined && requestBody.length > 0 ? requestBody : undefined;
	if (body !== undefined && request.method !== 'GET' && request.method !== 'HEAD') {
		let text: string | undefined;
		try {
			text = strictUtf8.decode(body);
		} catch {
			text = undefined;
		}
		if (text !== undefined) {
			options.push(`  "body": ${JSON.stringify(text)}`);
		} else if (body.length <= MAX_BINARY_BODY) {
			options.push(`  "body": new Uint8Array([${Array.from(body).join(',')}])`);
		} else {
			notes.push(`// the request body (${body.length} bytes of binary) is left out`);
		}
		if (exchange.requestBody.truncated) notes.push(`// the request body was cut by the capture limit: ${body.length} of ${exchange.requestBody.size} bytes are sent`);
	} else if (exchange.requestBody.size > 0 && body === undefined) {
		notes.push(`// the request body (${exchange.requestBody.size} bytes) was not captured`);
	}
	options.push(`  "method": ${JSON.stringify(request.method)}`);
	options.push(`  "mode": "cors"`);
	// A request that carried cookies sends the browser's cookies for that origin, wherever the snippet
	// runs; otherwise fetch's default (same-origin) does what the page's own request did.
	if (cookies) options.push(`  "credentials": "include"`);
	const call = `fetch(${JSON.stringify(url)}, {\n${options.join(',\n')}\n});`;
	return notes.length > 0 ? `${notes.join('\n')}\n${call}` : call;
}

function sameOrigin(a: string, b: string): boolean {
	try {
		return new URL(a).origin === new URL(b).origin;
	} catch {
		return false;
	}
}
