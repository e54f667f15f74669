import type { ExchangeRecorder } from '../capture/types';
import type { ExchangeState } from '../../shared/exchange';
import type { ProxyContext } from './context';

/**
 * What every exchange the proxy forwards shares, whatever carries it (HTTP/1.1, HTTP/2, a WebSocket
 * upgrade): its proxy, the recorder that capture began for it (through ProxyCapture.begin) and an
 * end that is reported once. Subclasses settle their outcome; `end` tells capture how it went.
 */
export abstract class RecordedExchange {
	recorder: ExchangeRecorder | undefined = undefined;
	/** The exchange is over for the client (completed, failed or aborted): later events are moot. */
	done = false;

	constructor(readonly proxy: ProxyContext) { }

	/** Marks the exchange over and tells capture how it ended (once). */
	end(state: Exclude<ExchangeState, 'pending'>, error?: string): void {
		if (this.done) { return; }
		this.done = true;
		this.recorder?.finish(state, error);
	}
}
