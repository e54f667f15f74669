import type { CapturedRequest, CapturedResponse, ExchangeId, ExchangeState, TlsDetails } from '../../shared/exchange';

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
	readonly request: CapturedRequest;
	/** Wall-clock arrival time (Date.now()). */
	readonly startTime: number;
	/** Monotonic arrival time (performance.now()); later offsets are measured from it. */
	readonly startMonotonic: number;
}

export interface TlsFailureInit {
	readonly client: string;
	readonly tls: TlsDetails;
	/** What went wrong, as specific as known: the alert the client sent, or why we refused. */
	readonly error: string;
	readonly startTime: number;
}

/** Receives the events of one exchange, in order. Calls after `finish` are ignored. */
export interface ExchangeRecorder {
	readonly id: ExchangeId;
	requestBody(chunk: Buffer): void;
	/** The upstream connection is ready; `reused` when a kept-alive socket was taken from the pool. */
	upstreamConnected(reused: boolean): void;
	requestSent(): void;
	/** Response head from the dev server, as received (before hop-by-hop or HSTS stripping). */
	response(response: CapturedResponse): void;
	responseBody(chunk: Buffer): void;
	/** A complete WebSocket message, parsed passively from the bytes that passed through. */
	webSocketMessage(message: { direction: 'client' | 'server'; opcode: number; size: number; payload: Buffer; truncated: boolean; compressed: boolean }): void;
	finish(state: Exclude<ExchangeState, 'pending'>, error?: string): void;
}
