import type { CapturedRequest, RawHeaders, TlsDetails } from '../../../src/shared/exchange';
import type { CapturedRequestInit, ExchangeInit } from '../../../src/core/capture/types';

export const tls: TlsDetails = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', alpn: 'h2', sni: 'localhost', resumed: false, handshakeMs: 1.5 };

/** Header pairs flattened to `[name, value, …]`, the form the proxy hands to capture. */
export function flat(headers: RawHeaders): string[] {
	return headers.flat();
}

/** A request as the proxy hands it over; headers may be given as pairs, for readable tests. */
export function request(overrides: Partial<CapturedRequest> = {}): CapturedRequestInit {
	const { headers = [['Host', 'localhost:8443'], ['User-Agent', 'test'], ['Accept', '*/*']], ...rest } = overrides;
	return { method: 'GET', path: '/', authority: 'localhost:8443', httpVersion: '1.1', rawHeaders: flat(headers), ...rest };
}

export function init(overrides: Partial<ExchangeInit> = {}): ExchangeInit {
	return {
		kind: 'http',
		client: '127.0.0.1:50000',
		tls,
		connectionReused: false,
		request: request(),
		startMonotonic: performance.now(),
		...overrides,
	};
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
