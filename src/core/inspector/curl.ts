import type { Exchange, RawHeaders } from '../../shared/exchange';

/** Options of {@link toCurl}. */
export interface CurlOptions {
	/**
	 * Scheme and authority to send to instead of `https://` + the request's authority, e.g.
	 * `http://127.0.0.1:5173` to replay against the dev server directly.
	 */
	readonly origin?: string;
	/**
	 * The CA certificate file to trust with `--cacert`, for https URLs: set it when the curl the command
	 * is pasted for would not trust the proxy's CA on its own (curl reads only the system store, so
	 * without it curl fails with error 60). Left out, the command relies on the system store.
	 */
	readonly caFile?: string;
}

// Not the request's own: framing and connection management that curl does itself (RFC 9110 7.6.1),
// and Host, which curl derives from the URL.
const SKIPPED_HEADERS = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
	'content-length', 'host', 'proxy-authorization', 'http2-settings',
]);

// Command-line arguments are limited to 128 KiB each on Linux (MAX_ARG_STRLEN); bigger bodies go
// through printf (a shell builtin, so no exec limit) and stdin.
const MAX_INLINE_BODY = 64 * 1024;

const CONTINUATION = ' \\\n  ';

/**
 * One exchange's request as a copy-pasteable POSIX shell command (sh, dash, bash, zsh) that sends the
 * same method, headers and body with cURL. Everything from the request is quoted: in single quotes when
 * it is printable UTF-8, otherwise as `"$(printf '\ooo…')"` (dash, Debian's /bin/sh, has no `$'…'`), and
 * bodies that cannot be an argument (NUL bytes, very large, a trailing newline that `$(…)` would eat) are
 * piped in with `printf … | curl --data-binary @-`.
 *
 * @param requestBody the kept request body (e.g. `CaptureStore.body(id, 'request')`); when it was cut
 *   by the capture cap, a comment line above the command says so.
 */
export function toCurl(exchange: Exchange, requestBody?: Buffer, options: CurlOptions = {}): string {
	const request = exchange.request;
	if (request === undefined) return `# exchange ${exchange.id} has no request (${exchange.error ?? exchange.state})`;
	const notes: string[] = [];
	const args: string[] = [];
	let stdin: string | undefined;

	const body = requestBody !== undefined && requestBody.length > 0 ? requestBody : undefined;
	if (exchange.requestBody.size > 0 && body === undefined) {
		notes.push(`# the request body (${exchange.requestBody.size} bytes) was not captured`);
	} else if (exchange.requestBody.truncated) {
		notes.push(`# the request body was cut by the capture limit: ${body?.length ?? 0} of ${exchange.requestBody.size} bytes are sent`);
	}

	const url = requestUrl(request.authority, request.path, options.origin);
	args.push(quote(bytesOf(url)));
	if (options.caFile !== undefined && /^https:/i.test(url)) args.push('--cacert ' + quote(Buffer.from(options.caFile, 'utf8')));
	if (/[[\]{}]/.test(url)) args.push('--globoff');
	if (/(^|\/)\.\.?(\/|$|\?)/.test(request.path)) args.push('--path-as-is');

	const method = request.method;
	if (method === 'HEAD' && body === undefined) {
		args.push('--head');
	} else if (!(method === 'GET' && body === undefined) && !(method === 'POST' && body !== undefined)) {
		args.push('-X ' + quote(bytesOf(method)));
	}

	for (const [name, value] of headersToSend(request.headers, request.httpVersion)) {
		// `Name:` would make curl drop the header; `Name;` sends it empty.
		args.push('-H ' + quote(bytesOf(value.length === 0 ? `${name};` : `${name}: ${value}`)));
	}

	if (body !== undefined) {
		if (!hasHeader(request.headers, 'content-type')) {
			// curl would add `application/x-www-form-urlencoded`; the original had none.
			args.push(`-H 'Content-Type:'`);
		}
		if (!hasHeader(request.headers, 'expect') && body.length >= 1024 * 1024) {
			// curl adds `Expect: 100-continue` to bodies from 1 MiB; the original did not send it.
			args.push(`-H 'Expect:'`);
		}
		const text = body.length <= MAX_INLINE_BODY ? printableText(body) : undefined;
		if (text !== undefined) {
			// --data-binary treats a leading @ as a file name to read; --data-raw does not.
			args.push((text.startsWith('@') ? '--data-raw ' : '--data-binary ') + singleQuote(text));
		} else {
			stdin = `printf ${singleQuote(printfFormat(body))} | `;
			args.push('--data-binary @-');
		}
	}

	if (request.httpVersion === '2') args.push('--http2');
	else if (request.httpVersion === '1.1') args.push('--http1.1');
	else if (request.httpVersion === '1.0') args.push('--http1.0');
	if (hasHeader(request.headers, 'accept-encoding')) args.push('--compressed');

	const command = (stdin ?? '') + 'curl ' + args.join(CONTINUATION);
	return notes.length > 0 ? notes.join('\n') + '\n' + command : command;
}

function requestUrl(authority: string, path: string, origin: string | undefined): string {
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
		if (origin === undefined) return path;
		const url = new URL(path);
		return origin.replace(/\/+$/, '') + url.pathname + url.search;
	}
	const base = origin !== undefined ? origin.replace(/\/+$/, '') : `https://${authority}`;
	return base + (path.startsWith('/') ? path : '/' + path);
}

function headersToSend(headers: RawHeaders, httpVersion: string): RawHeaders {
	const result: RawHeaders = [];
	let cookieIndex = -1;
	for (const [name, value] of headers) {
		const lower = name.toLowerCase();
		if (name.startsWith(':') || SKIPPED_HEADERS.has(lower)) continue;
		// HTTP/2 may split Cookie into crumbs (RFC 9113 8.2.3); over HTTP/1.1 they must be one header.
		if (lower === 'cookie' && httpVersion === '2') {
			if (cookieIndex >= 0) {
				result[cookieIndex] = [result[cookieIndex][0], `${result[cookieIndex][1]}; ${value}`];
				continue;
			}
			cookieIndex = result.length;
		}
		result.push([name, value]);
	}
	return result;
}

function hasHeader(headers: RawHeaders, name: string): boolean {
	return headers.some(([key]) => key.toLowerCase() === name);
}

/**
 * The bytes a header string stood for. Node decodes header bytes as latin1, so that maps them back
 * exactly; a string with wider characters did not come off the wire and is sent as UTF-8.
 */
function bytesOf(text: string): Buffer {
	// eslint-disable-next-line no-control-regex
	return /[^\u0000-\u00ff]/.test(text) ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
}

/** A shell word that expands to exactly `bytes` (which must not contain NUL or end with a newline). */
function quote(bytes: Buffer): string {
	const text = printableText(bytes);
	if (text !== undefined) return singleQuote(text);
	// Command substitution strips trailing newlines and cannot carry NUL; neither occurs in URLs,
	// methods or header lines.
	return `"$(printf ${singleQuote(printfFormat(bytes))})"`;
}

/** Inside single quotes nothing is special except the quote itself, which is closed, escaped, reopened. */
function singleQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as a string when it is UTF-8 that survives a copy and paste into a terminal: no control
 * characters except tab and newline (a pasted CR or escape sequence could be reinterpreted).
 */
function printableText(bytes: Uint8Array): string | undefined {
	let text: string;
	try {
		text = strictUtf8.decode(bytes);
	} catch {
		return undefined;
	}
	// eslint-disable-next-line no-control-regex
	return /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(text) ? undefined : text;
}

/**
 * A printf format (POSIX: https://pubs.opengroup.org/onlinepubs/9799919799/utilities/printf.html) that
 * prints exactly `bytes`: `%` and `\` escaped, anything outside printable ASCII as a three-digit octal
 * escape (always three digits, so a following digit cannot join it).
 */
function printfFormat(bytes: Uint8Array): string {
	let out = '';
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i];
		if (b === 0x25) out += '%%';
		else if (b === 0x5c) out += '\\\\';
		else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
		else out += '\\' + b.toString(8).padStart(3, '0');
	}
	return out;
}
