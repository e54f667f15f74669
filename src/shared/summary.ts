/**
 * What the inspector's list shows of one exchange, and how an exchange's type is classified. Pure
 * functions on the shared model: the host builds summaries, the webview filters and renders them.
 */
import type { Exchange, ExchangeId, ExchangeState, RawHeaders } from './exchange';

/** The resource types the list shows and `type:` filters on. */
export type ResourceType =
	| 'document' | 'script' | 'style' | 'json' | 'xml' | 'text' | 'image' | 'font' | 'media'
	| 'wasm' | 'manifest' | 'form' | 'binary' | 'websocket' | 'eventsource' | 'tls' | 'other';

/** One row of the list: small, flat, and cheap to clone across postMessage. */
export interface ExchangeSummary {
	readonly id: ExchangeId;
	readonly kind: Exchange['kind'];
	readonly state: ExchangeState;
	/** Empty for TLS failures. */
	readonly method: string;
	/** 0 until the response head arrives (and for failures without a response). */
	readonly status: number;
	/** Host as the client named it (`localhost:8443`); the SNI for TLS failures. */
	readonly host: string;
	/** Path and query, cut at {@link MAX_SUMMARY_PATH} characters (the details carry all of it). */
	readonly path: string;
	readonly type: ResourceType;
	/** Response media type without parameters (`application/json`), empty when none. */
	readonly mime: string;
	/** Response body bytes as on the wire (for WebSockets: bytes of all messages). */
	readonly size: number;
	/** Total duration in ms, undefined while in flight. */
	readonly duration?: number;
	/** `h2`, `h1.1`, `h1.0`, `ws` or `tls`. */
	readonly protocol: string;
	/** Wall-clock start (ms since the epoch). */
	readonly start: number;
	/** Why it failed, for aborted, upstream and TLS errors. */
	readonly error?: string;
	/** WebSocket messages seen so far. */
	readonly messages?: number;
	/** TLS Lens's note for the user, when it has one (see {@link Exchange.note}). */
	readonly note?: string;
	/** The client connection's number (TlsDetails.connectionId), when known. */
	readonly connection?: number;
	/** An earlier request came in on the same client connection. */
	readonly connectionReused?: boolean;
}

/** Paths longer than this are cut in summaries (a marker says so); details have the full path. */
export const MAX_SUMMARY_PATH = 1024;

/** The first value of header `name` (case-insensitive), or undefined. */
export function headerValue(headers: RawHeaders | undefined, name: string): string | undefined {
	if (headers === undefined) return undefined;
	const lower = name.toLowerCase();
	for (let i = 0; i < headers.length; i++) {
		if (headers[i][0].toLowerCase() === lower) return headers[i][1];
	}
	return undefined;
}

/** `text/html; charset=utf-8` → `text/html` (lowercase, trimmed). */
export function mediaType(contentType: string | undefined): string {
	if (contentType === undefined) return '';
	const semi = contentType.indexOf(';');
	return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

const EXTENSION_TYPES: Record<string, ResourceType> = {
	html: 'document', htm: 'document',
	js: 'script', mjs: 'script', cjs: 'script', jsx: 'script', ts: 'script', tsx: 'script', vue: 'script', svelte: 'script',
	css: 'style', scss: 'style', less: 'style',
	json: 'json', map: 'json',
	xml: 'xml',
	txt: 'text', md: 'text',
	png: 'image', jpg: 'image', jpeg: 'image', gif: 'image', webp: 'image', avif: 'image', svg: 'image', ico: 'image', bmp: 'image',
	woff: 'font', woff2: 'font', ttf: 'font', otf: 'font', eot: 'font',
	mp4: 'media', webm: 'media', mp3: 'media', ogg: 'media', wav: 'media',
	wasm: 'wasm',
	webmanifest: 'manifest',
};

const DESTINATION_TYPES: Record<string, ResourceType> = {
	document: 'document', iframe: 'document', frame: 'document',
	script: 'script', worker: 'script', sharedworker: 'script', serviceworker: 'script', audioworklet: 'script', paintworklet: 'script',
	style: 'style', image: 'image', font: 'font', audio: 'media', video: 'media', track: 'media',
	manifest: 'manifest', json: 'json', xslt: 'xml',
};

/**
 * What the client asked for, from its request headers: the browser's `Sec-Fetch-Dest` (what it will
 * use the response as), else a navigation's `Accept: text/html`; undefined for fetches and
 * non-browser clients. It types responses that carry no media type of their own, above all a 304,
 * which revalidates a cached script, page or image and has no Content-Type.
 */
export function requestedType(headers: RawHeaders): ResourceType | undefined {
	const destination = headerValue(headers, 'sec-fetch-dest')?.trim().toLowerCase();
	const byDestination = destination === undefined ? undefined : DESTINATION_TYPES[destination];
	if (byDestination !== undefined) return byDestination;
	return headerValue(headers, 'accept')?.toLowerCase().startsWith('text/html') ? 'document' : undefined;
}

/**
 * The resource type of a response: by its media type first, then, for a response without one, by
 * what the client asked for (`requested`, see {@link requestedType}); then (for unlabelled or generic
 * responses) by the path's extension, as Chrome DevTools does for its Type column.
 */
export function classifyType(mime: string, path: string, kind: Exchange['kind'] = 'http', requested?: ResourceType): ResourceType {
	if (kind === 'websocket') return 'websocket';
	if (kind === 'tls-error') return 'tls';
	const m = mime.toLowerCase();
	if (m === '' && requested !== undefined) return requested;
	if (m !== '' && m !== 'application/octet-stream' && m !== 'text/plain') {
		if (m === 'text/html' || m === 'application/xhtml+xml') return 'document';
		if (m === 'text/css') return 'style';
		if (/^(text|application)\/(javascript|ecmascript|x-javascript|jsx|typescript)$/.test(m)) return 'script';
		if (m === 'application/manifest+json') return 'manifest';
		if (m === 'application/json' || m.endsWith('+json') || m === 'application/x-ndjson') return 'json';
		if (m === 'application/xml' || m === 'text/xml' || (m.endsWith('+xml') && m !== 'image/svg+xml')) return 'xml';
		if (m === 'application/x-www-form-urlencoded' || m === 'multipart/form-data') return 'form';
		if (m.startsWith('image/')) return 'image';
		if (m.startsWith('font/') || m === 'application/font-woff' || m === 'application/x-font-ttf') return 'font';
		if (m.startsWith('audio/') || m.startsWith('video/')) return 'media';
		if (m === 'application/wasm') return 'wasm';
		if (m === 'text/event-stream') return 'eventsource';
		if (m.startsWith('text/')) return 'text';
	}
	const ext = extensionOf(path);
	const byExt = ext === undefined ? undefined : EXTENSION_TYPES[ext];
	if (byExt !== undefined) return byExt;
	if (m === 'text/plain') return 'text';
	if (m === 'application/octet-stream') return 'binary';
	return 'other';
}

function extensionOf(path: string): string | undefined {
	let end = path.length;
	const q = path.indexOf('?');
	if (q >= 0) end = q;
	const h = path.indexOf('#');
	if (h >= 0 && h < end) end = h;
	const slash = path.lastIndexOf('/', end - 1);
	const dot = path.lastIndexOf('.', end - 1);
	if (dot <= slash || dot === end - 1) return undefined;
	return path.slice(dot + 1, end).toLowerCase();
}

/** `h2`, `h1.1`, `h1.0`, `ws` or `tls`, for the list's protocol column. */
export function protocolLabel(exchange: Pick<Exchange, 'kind' | 'request'>): string {
	if (exchange.kind === 'tls-error') return 'tls';
	if (exchange.kind === 'websocket') return 'ws';
	const version = exchange.request?.httpVersion;
	return version === '2' ? 'h2' : version === undefined ? '' : `h${version}`;
}

/** The list row of an exchange. Reads the live record once; the result does not change with it. */
export function summarize(exchange: Exchange): ExchangeSummary {
	const request = exchange.request;
	const response = exchange.response;
	const mime = mediaType(headerValue(response?.headers, 'content-type'));
	// Only a response without a media type needs the request's headers split out.
	const requested = mime === '' && request !== undefined && exchange.kind === 'http' ? requestedType(request.headers) : undefined;
	let path = request?.path ?? '';
	if (path.length > MAX_SUMMARY_PATH) path = path.slice(0, MAX_SUMMARY_PATH) + '…';
	let size = exchange.responseBody.size;
	const messages = exchange.messages;
	if (messages !== undefined) {
		size = 0;
		for (let i = 0; i < messages.length; i++) size += messages[i].size;
	}
	const end = exchange.timings.end;
	const summary: ExchangeSummary = {
		id: exchange.id,
		kind: exchange.kind,
		state: exchange.state,
		method: request?.method ?? '',
		status: response?.statusCode ?? 0,
		host: request?.authority ?? exchange.tls.sni ?? '',
		path,
		type: classifyType(mime, request?.path ?? '', exchange.kind, requested),
		mime,
		size,
		protocol: protocolLabel(exchange),
		start: exchange.timings.startTime,
	};
	const extra = summary as { -readonly [K in keyof ExchangeSummary]: ExchangeSummary[K] };
	if (end !== undefined && exchange.state !== 'pending') extra.duration = end;
	if (exchange.error !== undefined) extra.error = exchange.error;
	if (messages !== undefined) extra.messages = messages.length;
	if (exchange.note !== undefined) extra.note = exchange.note;
	if (exchange.tls.connectionId !== undefined) extra.connection = exchange.tls.connectionId;
	if (exchange.connectionReused === true) extra.connectionReused = true;
	return summary;
}

/** The URL a request was made for (`https://authority/path`, or the path when it is absolute-form). */
export function requestUrl(authority: string, path: string): string {
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
	return `https://${authority}${path.startsWith('/') || path === '*' ? path : '/' + path}`;
}

/** One bar of the timing waterfall: offsets in ms from the request's arrival. */
export interface TimingPhase {
	readonly name: 'tls' | 'connect' | 'send' | 'wait' | 'download';
	readonly label: string;
	readonly start: number;
	readonly duration: number;
}

/**
 * The phases of an exchange for the Timing tab. The TLS handshake belongs to the connection, so it is
 * placed just before the request arrived (negative start), and only on the exchange that opened the
 * connection: later requests on a kept-alive or HTTP/2 connection did not wait for it.
 */
export function timingPhases(exchange: Pick<Exchange, 'timings' | 'tls' | 'connectionReused'>): TimingPhase[] {
	const { timings, tls } = exchange;
	const phases: TimingPhase[] = [];
	if (!exchange.connectionReused && tls.handshakeMs !== undefined && tls.handshakeMs > 0) {
		// A resumed session's handshake is shorter, not free: the first request still waited for it.
		phases.push({ name: 'tls', label: tls.resumed ? 'TLS handshake (resumed session)' : 'TLS handshake (client connection)', start: -tls.handshakeMs, duration: tls.handshakeMs });
	}
	let at = 0;
	if (timings.upstreamConnect !== undefined) {
		phases.push({ name: 'connect', label: 'Upstream connect', start: 0, duration: timings.upstreamConnect });
		at = timings.upstreamConnect;
	}
	if (timings.requestSent !== undefined) {
		phases.push({ name: 'send', label: 'Request sent', start: at, duration: Math.max(0, timings.requestSent - at) });
		at = timings.requestSent;
	}
	if (timings.responseStart !== undefined) {
		phases.push({ name: 'wait', label: 'Waiting (TTFB)', start: at, duration: Math.max(0, timings.responseStart - at) });
		at = timings.responseStart;
	}
	if (timings.end !== undefined && timings.responseStart !== undefined) {
		phases.push({ name: 'download', label: 'Content download', start: at, duration: Math.max(0, timings.end - at) });
	}
	return phases;
}

/** `1.2 kB`-style sizes, as DevTools shows them. */
export function formatBytes(bytes: number): string {
	if (bytes < 1000) return `${bytes} B`;
	if (bytes < 1000 * 1000) return `${(bytes / 1000).toFixed(1)} kB`;
	if (bytes < 1000 * 1000 * 1000) return `${(bytes / 1000 / 1000).toFixed(1)} MB`;
	return `${(bytes / 1000 / 1000 / 1000).toFixed(2)} GB`;
}

/** `12 ms`, `1.25 s`. */
export function formatDuration(ms: number | undefined): string {
	if (ms === undefined) return '';
	if (ms < 1) return `${ms.toFixed(2)} ms`;
	if (ms < 1000) return `${Math.round(ms)} ms`;
	return `${(ms / 1000).toFixed(2)} s`;
}

// C0 controls except tab and newline, DEL, C1 controls, and the Unicode format characters that can make
// text read differently from what it is (bidirectional overrides and isolates: "Trojan Source",
// CVE-2021-42574; zero-width and BOM characters).
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/g;

/**
 * Makes control and invisible characters visible: C0 controls as their Control Pictures (`␀`, `␛`),
 * everything else as `⟨U+202E⟩`. A CR directly before a LF is kept (line endings). Meant for display
 * only: captured text is untrusted and must read as exactly what it is.
 */
export function visible(text: string): string {
	if (!INVISIBLE.test(text)) return text;
	INVISIBLE.lastIndex = 0;
	return text.replace(INVISIBLE, (c, offset: number) => {
		const code = c.charCodeAt(0);
		if (code === 0x0d && text.charCodeAt(offset + 1) === 0x0a) return c;
		if (code < 0x20) return String.fromCharCode(0x2400 + code);
		if (code === 0x7f) return '\u2421';
		return `⟨U+${code.toString(16).toUpperCase().padStart(4, '0')}⟩`;
	});
}

/** Like {@link visible}, but newlines and tabs too: for one-line places (list cells, header values). */
export function visibleLine(text: string): string {
	return visible(text).replace(/[\n\r\t]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0)));
}
