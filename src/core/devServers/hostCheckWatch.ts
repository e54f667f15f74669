import { decodeBody } from '../inspector/bodyDecoding';
import type { CaptureStore } from '../capture/captureStore';
import type { Disposable } from '../events';
import type { Exchange } from '../../shared/exchange';
import { headerValue } from '../../shared/summary';
import { detectHostCheck, type HostCheckRefusal } from './hostCheck';

/** Options for {@link watchHostChecks}. */
export interface HostCheckWatchOptions {
	/** Called once per refused name and dev server, for the first exchange refused (the store's record). */
	readonly onRefusal: (refusal: HostCheckRefusal, exchange: Exchange) => void;
}

/** A refusal is a short text: more than this is some page of the app's own. */
const MAX_REFUSAL_BODY = 2048;

/**
 * Watches the captured exchanges for a dev server's host-check refusal (see {@link detectHostCheck}):
 * each refused exchange gets the refusal's message as its note (the inspector shows it), and
 * `onRefusal` hears of each refused name once. Looks only at finished 403s and bare upgrade answers
 * with short bodies, and at WebSocket messages of at most 200 bytes, so the cost on other traffic is a
 * status test.
 */
export function watchHostChecks(store: CaptureStore, options: HostCheckWatchOptions): Disposable {
	const reported = new Set<string>();
	let disposed = false;
	const found = (refusal: HostCheckRefusal | undefined, exchange: Exchange) => {
		if (refusal === undefined || disposed) return;
		store.annotate(exchange.id, refusal.message);
		const key = `${refusal.server} ${refusal.host}`;
		if (reported.has(key)) return;
		reported.add(key);
		options.onRefusal(refusal, exchange);
	};
	const subscription = store.onDidChange(({ added, updated }) => {
		for (const exchange of [...added, ...updated]) {
			if (exchange.note !== undefined || exchange.request === undefined) continue;
			if (exchange.kind === 'websocket') {
				// webpack-dev-server's refusal is among its first messages.
				const texts = (exchange.messages ?? []).slice(0, 4).filter((m) => m.direction === 'server' && m.opcode === 1 && !m.compressed && m.size <= 200)
					.map((m) => Buffer.from(m.payload).toString('utf8'));
				if (texts.length > 0) found(detectHostCheck(exchange, '', texts), exchange);
			}
			// A 403, or an upgrade answered with bare bytes (Next.js), with a short body.
			const refused = exchange.response?.statusCode === 403 || (exchange.kind === 'websocket' && exchange.response === undefined && exchange.state === 'upstream-error');
			if (!refused || exchange.state === 'pending' || exchange.responseBody.size === 0 || exchange.responseBody.size > MAX_REFUSAL_BODY) continue;
			const raw = store.body(exchange.id, 'response');
			if (raw === undefined) continue;
			// A snapshot: it can be read after the decoding, whatever the store has done since.
			void decodeBody(raw, headerValue(exchange.response?.headers, 'content-encoding')).then((decoded) => {
				found(detectHostCheck(exchange, decoded.body.toString('utf8')), exchange);
			}, () => { /* an undecodable body is no refusal we know */ });
		}
	});
	return { dispose: () => { disposed = true; subscription.dispose(); } };
}
