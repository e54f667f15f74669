import type { TLSSocket } from 'node:tls';
import type { CaptureSink, ExchangeInit, ExchangeRecorder, TlsFailureInit } from '../capture/types';
import type { Logger } from '../logger';
import type { TlsDetailsCollector } from './tlsDetails';

/**
 * The proxy's side of capture, present exactly when capture is on: the store's sink, the TLS details
 * of connections (collected only for capture) and the size limit of captured WebSocket payloads. Every
 * path that records (HTTP/1.1, HTTP/2, WebSocket upgrades, failed handshakes, plaintext on the TLS
 * port) begins through it, so a sink that breaks its promise never to throw is handled in one way:
 * logged, and the traffic forwarded unrecorded.
 */
export class ProxyCapture {
	constructor(
		private readonly sink: CaptureSink,
		readonly tlsDetails: TlsDetailsCollector,
		/** Largest WebSocket payload kept per message, in bytes. */
		readonly bodyLimit: number,
		private readonly logger: Logger,
	) { }

	/** Starts recording one exchange; undefined when the sink records nothing (paused) or failed. */
	begin(init: ExchangeInit): ExchangeRecorder | undefined {
		try {
			return this.sink.beginExchange(init);
		} catch (error) {
			this.failed(error);
			return undefined;
		}
	}

	/** Records a connection that never became an exchange: a failed handshake, or plaintext on the TLS port. */
	tlsFailure(init: TlsFailureInit): void {
		try {
			this.sink.tlsFailure(init);
		} catch (error) {
			this.failed(error);
		}
	}

	/** Records a handshake that failed on `socket`, unless the client closed before sending a byte (port probes, preconnects). */
	handshakeFailed(error: Error, socket: TLSSocket): void {
		const failure = this.tlsDetails.failure(error, socket);
		if (failure !== undefined) { this.tlsFailure(failure); }
	}

	private failed(error: unknown): void {
		this.logger.debug(`[proxy] capture failed: ${(error as Error).message}`);
	}
}
