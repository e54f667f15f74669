/**
 * The captured-traffic model shared by the engine, the VS Code host and the inspector webview.
 * Plain data only (no Node types), so it can cross postMessage. Bodies are not part of it: the host
 * keeps them and sends them to the webview only on request.
 */

/** Identifies one exchange (HTTP request/response, WebSocket connection or failed TLS handshake). */
export type ExchangeId = number;

/** Header lines exactly as they crossed the wire: order and case kept, repeated names repeated. */
export type RawHeaders = Array<[name: string, value: string]>;

/**
 * How an exchange ended. `pending` while in flight. `closed-by-client`: the client went away before the
 * response was complete (an `EventSource.close()`, an aborted fetch, a tab closed), a normal end and
 * not a failure. `aborted`: the client broke the exchange off by sending something invalid (`error`
 * says what).
 */
export type ExchangeState = 'pending' | 'completed' | 'closed-by-client' | 'aborted' | 'upstream-error' | 'tls-error';

/** The TLS session the exchange arrived on. */
export interface TlsDetails {
	/** e.g. `TLSv1.3`. */
	readonly protocol?: string;
	/** OpenSSL/IANA cipher name, e.g. `TLS_AES_128_GCM_SHA256`. */
	readonly cipher?: string;
	/** Negotiated ALPN protocol (`h2`, `http/1.1`), undefined when none. */
	readonly alpn?: string;
	/** Server name the client asked for (SNI), undefined when it sent none (connected by IP). */
	readonly sni?: string;
	/** Whether the session was resumed rather than fully negotiated. */
	readonly resumed?: boolean;
	/** Duration of the connection's handshake in ms. */
	readonly handshakeMs?: number;
	/**
	 * The proxy's number for this client connection (1, 2, … since it started), the same on every exchange
	 * the connection carried, so that reuse is visible. Absent on connections made before capture began.
	 */
	readonly connectionId?: number;
	/** The leaf certificate served on this connection. */
	readonly certificate?: ServedCertificateInfo;
}

/** What a person checks about a served certificate. */
export interface ServedCertificateInfo {
	readonly subject: string;
	readonly issuer: string;
	readonly subjectAltNames: readonly string[];
	readonly validFrom: string;
	readonly validTo: string;
	readonly fingerprint256: string;
}

/**
 * When things happened. `startTime` is wall-clock (ms since the Unix epoch) for display and HAR; the
 * other fields are offsets in ms from the moment the request arrived, taken from a monotonic clock
 * so that they never go backwards or jump with the system clock.
 */
export interface ExchangeTimings {
	readonly startTime: number;
	/** Upstream socket connected (undefined when a kept-alive connection was reused). */
	upstreamConnect?: number;
	/** Request headers and body fully written upstream. */
	requestSent?: number;
	/** First byte of the response headers from upstream. */
	responseStart?: number;
	/** Response fully delivered to the client (or the exchange ended otherwise). */
	end?: number;
}

/** The request side as the client sent it. */
export interface CapturedRequest {
	readonly method: string;
	/** Path and query as sent (`:path` in HTTP/2). */
	readonly path: string;
	/** Host as the client named it (`Host` or `:authority`). */
	readonly authority: string;
	/** `1.0`, `1.1` or `2`. */
	readonly httpVersion: string;
	readonly headers: RawHeaders;
}

/**
 * The response side as the dev server answered: its headers before TLS Lens dropped any (hop-by-hop
 * fields, HSTS), except the values TLS Lens rewrote for the browser, which are as the browser received
 * them, with the dev server's originals in `rewritten`.
 */
export interface CapturedResponse {
	readonly statusCode: number;
	readonly statusMessage: string;
	readonly headers: RawHeaders;
	/** The header values TLS Lens rewrote (redirects to the dev server's own origin); absent when none. */
	readonly rewritten?: readonly RewrittenHeader[];
}

/** A response header value TLS Lens changed on the way to the browser. */
export interface RewrittenHeader {
	/** Index of the header in {@link CapturedResponse.headers} (which holds the value the browser got). */
	readonly index: number;
	/** The value as the dev server sent it. */
	readonly original: string;
}

/** Body bookkeeping: how much passed and how much was kept. */
export interface BodyInfo {
	/** Bytes that passed through (encoded, as on the wire). */
	size: number;
	/** Bytes kept for inspection (up to the per-body cap). */
	captured: number;
	/** True when the cap cut the captured copy short. */
	truncated: boolean;
}

/** One WebSocket message (or control frame) seen on a proxied connection. */
export interface WebSocketMessage {
	/** `client` = browser to dev server, `server` = dev server to browser. */
	readonly direction: 'client' | 'server';
	/** WebSocket opcode: 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
	readonly opcode: number;
	/** Payload size in bytes (after reassembling fragments, before any decompression). */
	readonly size: number;
	/** Offset in ms from the exchange's start. */
	readonly time: number;
	/** Captured payload bytes (up to the body cap). */
	readonly payload: Uint8Array;
	readonly truncated: boolean;
	/** True when the payload is permessage-deflate compressed as captured. */
	readonly compressed: boolean;
}

/** A captured exchange as the engine reports it. */
export interface Exchange {
	readonly id: ExchangeId;
	readonly kind: 'http' | 'websocket' | 'tls-error';
	state: ExchangeState;
	/** Client address and port, e.g. `127.0.0.1:53122` or `[::1]:53122`. */
	readonly client: string;
	readonly tls: TlsDetails;
	/**
	 * An earlier request came in on the same client connection: its TLS handshake (and connection set-up)
	 * belongs to that one, not to this exchange.
	 */
	readonly connectionReused?: boolean;
	readonly timings: ExchangeTimings;
	readonly request?: CapturedRequest;
	response?: CapturedResponse;
	requestBody: BodyInfo;
	responseBody: BodyInfo;
	/** Why it failed, for `aborted`, `upstream-error` and `tls-error` (e.g. the TLS alert); never for `closed-by-client`. */
	error?: string;
	/** WebSocket messages, for `kind: 'websocket'`. */
	readonly messages?: readonly WebSocketMessage[];
	/** What TLS Lens found out about it, for the user (e.g. the dev server's host check refused it, and the fix). */
	note?: string;
}
