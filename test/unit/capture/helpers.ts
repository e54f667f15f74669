import type { CapturedRequest, RawHeaders, TlsDetails } from '../../../src/shared/exchange';
import type { ExchangeInit } from '../../../src/core/capture/types';

export const tls: TlsDetails = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', alpn: 'h2', sni: 'localhost', resumed: false, handshakeMs: 1.5 };

export function request(overrides: Partial<CapturedRequest> = {}): CapturedRequest {
	const headers: RawHeaders = [['Host', 'localhost:8443'], ['User-Agent', 'test'], ['Accept', '*/*']];
	return { method: 'GET', path: '/', authority: 'localhost:8443', httpVersion: '1.1', headers, ...overrides };
}

export function init(overrides: Partial<ExchangeInit> = {}): ExchangeInit {
	return {
		kind: 'http',
		client: '127.0.0.1:50000',
		tls,
		request: request(),
		startTime: Date.now(),
		startMonotonic: performance.now(),
		...overrides,
	};
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
