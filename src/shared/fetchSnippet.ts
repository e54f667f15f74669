/**
 * "Copy as fetch": one exchange's request as a `fetch()` call for a browser console or Node 18+, in
 * the shape Chrome DevTools produces. Pure (no Node types), so it runs on either side.
 */
import type { Exchange } from './exchange';
import { requestUrl } from './summary';

// Headers fetch() may not set (https://fetch.spec.whatwg.org/#forbidden-request-header) or that
// describe the connection rather than the request; Referer and Cookie are expressed as options instead.
const FORBIDDEN = new Set([
	'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method', 'connection',
	'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'set-cookie',
	'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'http2-settings',
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
	if (referrer !== undefined) options.push(`  "referrer": ${JSON.stringify(referrer)}`);
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
	options.push(`  "credentials": ${cookies ? '"include"' : '"omit"'}`);
	const call = `fetch(${JSON.stringify(requestUrl(request.authority, request.path))}, {\n${options.join(',\n')}\n});`;
	return notes.length > 0 ? `${notes.join('\n')}\n${call}` : call;
}
