import { ownResponseHead } from './headers';

/**
 * The answer a client gets when the dev server cannot be reached: a page that names the target, says
 * what went wrong and what to do. Browsers get HTML, API clients JSON, everything else plain text.
 */

/** Why the proxy answers on the dev server's behalf. */
export interface GatewayFailure {
	/** 502 (unreachable, refused, reset, TLS failure) or 504 (connect timeout). */
	readonly status: 502 | 504;
	/** One sentence: what happened. */
	readonly reason: string;
	/** One sentence: what the user can do about it. */
	readonly hint: string;
}

/** A rendered error response: body and the headers that go with it. */
export interface ErrorPage {
	readonly status: number;
	readonly contentType: string;
	readonly body: Buffer;
}

/** Classifies an upstream error for a user: what happened to the connection to `target`. */
export function describeUpstreamError(error: NodeJS.ErrnoException, target: string, timeoutMs: number): GatewayFailure {
	const start = `Start your dev server (for example \`npm run dev\`) so that it listens on ${target}, then reload. TLS Lens keeps running and forwards as soon as it answers.`;
	switch (error.code) {
		case 'ECONNREFUSED':
			return { status: 502, reason: `Nothing is listening on ${target} (connection refused).`, hint: start };
		case 'ETIMEDOUT': case 'UPSTREAM_CONNECT_TIMEOUT':
			return { status: 504, reason: `${target} did not accept the connection within ${Math.round(timeoutMs / 1000)} s.`, hint: `Check that the dev server on ${target} is running and not stuck.` };
		case 'ENOTFOUND': case 'EAI_AGAIN':
			return { status: 502, reason: `The host name of ${target} cannot be resolved.`, hint: 'Check the target host name (e.g. use localhost or 127.0.0.1).' };
		case 'ECONNRESET': case 'EPIPE':
			return { status: 502, reason: `${target} closed the connection before answering.`, hint: 'Look at the dev server\'s console for a crash or restart, then reload.' };
		case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EADDRNOTAVAIL':
			return { status: 502, reason: `${target} is unreachable (${error.code}).`, hint: start };
		default:
			// Node's parser (WebSocket upgrades) and ours name parse errors HPE_*: the dev server is running.
			if (error.code?.startsWith('HPE_')) {
				return {
					status: 502,
					reason: `${target} answered, but not with valid HTTP/1.1: ${error.message.replace(/\.$/, '')}.`,
					hint: 'The dev server is running: look at what it sends for this URL. TLS Lens forwards only well-formed HTTP/1.1 (CRLF line ends, one framing), as Node does.',
				};
			}
			if (error.code?.startsWith('ERR_TLS_') || error.code?.startsWith('ERR_SSL_') || /certificate|self[- ]signed/i.test(error.message)) {
				return {
					status: 502,
					reason: `The TLS connection to ${target} failed: ${error.message}.`,
					hint: 'TLS Lens verifies the dev server\'s certificate against the system roots and its own CA. Serve a certificate from one of them, or turn off upstream verification (it is then logged as insecure).',
				};
			}
			return { status: 502, reason: `The request to ${target} failed: ${error.message}${error.code ? ` (${error.code})` : ''}.`, hint: start };
	}
}

/** Renders `failure` in the format `accept` asks for. */
export function renderErrorPage(failure: GatewayFailure, target: string, accept: string | undefined): ErrorPage {
	const title = failure.status === 504 ? '504 Gateway Timeout' : '502 Bad Gateway';
	if (accept !== undefined && accept.includes('text/html')) {
		const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title} – TLS Lens</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code{background:#eee;padding:0 .2em}h1{font-size:1.4em}</style>
</head><body>
<h1>${title}</h1>
<p>TLS Lens could not get an answer from the dev server at <code>${escapeHtml(target)}</code>.</p>
<p>${htmlOf(failure.reason)}</p>
<p><strong>What to do:</strong> ${htmlOf(failure.hint)}</p>
</body></html>
`;
		return { status: failure.status, contentType: 'text/html; charset=utf-8', body: Buffer.from(html) };
	}
	if (accept !== undefined && accept.includes('json')) {
		const json = JSON.stringify({ error: failure.status === 504 ? 'gateway_timeout' : 'bad_gateway', status: failure.status, target, message: plain(failure.reason), hint: plain(failure.hint) });
		return { status: failure.status, contentType: 'application/json; charset=utf-8', body: Buffer.from(json + '\n') };
	}
	const text = `${title}: TLS Lens could not get an answer from the dev server at ${target}.\n${plain(failure.reason)}\nWhat to do: ${plain(failure.hint)}\n`;
	return { status: failure.status, contentType: 'text/plain; charset=utf-8', body: Buffer.from(text) };
}

function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Reasons and hints mark commands with backticks, as Markdown does: code in the HTML page, quotes elsewhere.
const CODE = /`([^`]+)`/g;

function htmlOf(text: string): string {
	return escapeHtml(text).replace(CODE, '<code>$1</code>');
}

function plain(text: string): string {
	return text.replace(CODE, '"$1"');
}

/**
 * The HTTP/1.x head of `page`: status line, framing, `Cache-Control: no-store` (a page about a dev
 * server that is down must not outlive it) and `connection`, the Connection field line to send.
 */
export function errorPageHead(page: ErrorPage, connection: string): string {
	return ownResponseHead(page.status, page.status === 504 ? 'Gateway Timeout' : 'Bad Gateway', page.contentType, page.body.length, `Cache-Control: no-store\r\n${connection}`);
}
