import type { ExchangeId, ExchangeState, TlsDetails } from '../../shared/exchange';
import type { ChunkHolder } from '../memory/chunkHolder';

/**
 * The contract between the proxy (which sees the traffic) and the capture store (which keeps it).
 * The proxy calls these on its forwarding path, so implementations must be cheap and must never throw.
 * With capture off the proxy holds no sink at all and pays nothing.
 */
export interface CaptureSink {
	/** Starts recording a request (or WebSocket upgrade); undefined when capture is paused. */
	beginExchange(init: ExchangeInit): ExchangeRecorder | undefined;
	/** Records a TLS handshake that failed (e.g. a client that does not trust the CA, with its alert). */
	tlsFailure(init: TlsFailureInit): void;
}

export interface ExchangeInit {
	readonly kind: 'http' | 'websocket';
	/** Client address and port, e.g. `127.0.0.1:53122` or `[::1]:53122`. */
	readonly client: string;
	readonly tls: TlsDetails;
	/** An earlier request came in on the same client connection (see Exchange.connectionReused). */
	readonly connectionReused: boolean;
	readonly request: CapturedRequestInit;
	/**
	 * Monotonic arrival time (performance.now()); later offsets are measured from it. The store derives
	 * the wall-clock start as `performance.timeOrigin + startMonotonic`, so the proxy reads one clock
	 * per request rather than two.
	 */
	readonly startMonotonic: number;
}

/** The request side as the proxy hands it to capture. */
export interface CapturedRequestInit {
	readonly method: string;
	/** Path and query as sent (`:path` in HTTP/2). */
	readonly path: string;
	/** Host as the client named it (`Host` or `:authority`). */
	readonly authority: string;
	/** `1.0`, `1.1` or `2`. */
	readonly httpVersion: string;
	/**
	 * Headers exactly as received, flat `[name, value, name, value, …]` (order and case kept), as Node
	 * hands them over: no per-request pair arrays on the proxy's hot path. The store may keep this array:
	 * callers must not change it afterwards.
	 */
	readonly rawHeaders: readonly string[];
	/**
	 * For HTTP/1.x: the head's text as received (latin1, start line and header lines, no final empty line),
	 * from which `rawHeaders` were parsed. The store may keep this one string instead of the headers.
	 */
	readonly headText?: string;
}

export interface TlsFailureInit {
	readonly client: string;
	readonly tls: TlsDetails;
	/** What went wrong, as specific as known: the alert the client sent, or why we refused. */
	readonly error: string;
	/** When it failed, on the clock of {@link ExchangeInit.startMonotonic} (performance.now()). */
	readonly startMonotonic: number;
}

/** Receives the events of one exchange, in order. Calls after `finish` are ignored. */
export interface ExchangeRecorder {
	readonly id: ExchangeId;
	/**
	 * Request body bytes as they pass. Like every Buffer given to a recorder (response body, WebSocket
	 * payload), the store copies what it keeps before returning, unless a {@link ChunkHolder} lets it
	 * pin the memory instead: the chunk may be a view into a bigger buffer, and the caller may reuse its
	 * memory afterwards (the proxy's pooled read buffers).
	 */
	requestBody(chunk: Buffer): void;
	/** The upstream connection is ready; `reused` when a kept-alive socket was taken from the pool. */
	upstreamConnected(reused: boolean): void;
	requestSent(): void;
	/**
	 * Response head from the dev server, as received (before hop-by-hop or HSTS stripping). `rawHeaders`
	 * is flat `[name, value, …]` as Node hands it over; the store may keep the array, so callers must not
	 * change it afterwards. `headText` as in {@link CapturedRequestInit.headText}.
	 */
	response(statusCode: number, statusMessage: string, rawHeaders: readonly string[], headText?: string): void;
	/**
	 * After {@link response}: header `index` (a pair index into its `rawHeaders`) went to the client as
	 * `value` instead of the dev server's `original` (a redirect to the dev server's own origin).
	 */
	responseHeaderRewritten(index: number, original: string, value: string): void;
	/**
	 * Response body bytes as they pass. With a `holder`, the store may keep a large chunk without copying
	 * it, by holding the buffer behind it until the exchange is evicted.
	 */
	responseBody(chunk: Buffer, holder?: ChunkHolder): void;
	/** A complete WebSocket message, parsed passively from the bytes that passed through. */
	webSocketMessage(message: { direction: 'client' | 'server'; opcode: number; size: number; payload: Buffer; truncated: boolean; compressed: boolean }): void;
	finish(state: Exclude<ExchangeState, 'pending'>, error?: string): void;
}
