import { decodeBody } from '../inspector/bodyDecoding';
import type { CaptureStore } from '../capture/captureStore';
import type { Disposable } from '../events';
import type { Exchange } from '../../shared/exchange';
import { headerValue } from '../../shared/summary';
import { checkWebpackSocket, findWebpackClientQuery, type WebpackSocketBypass } from './webpackSocket';

/** Options for {@link watchWebpackSocket}. */
export interface WebpackSocketWatchOptions {
	/** Called at most once, when the first webpack-dev-server client found dials past the proxy (`exchange`: the store's live record of that script). */
	readonly onBypass: (bypass: WebpackSocketBypass, exchange: Exchange) => void;
	/** Distinct script paths looked at before giving up (a Vite app serves hundreds of modules). Default 200. */
	readonly maxScripts?: number;
}

const JAVASCRIPT = /^\s*(?:text|application)\/(?:x-)?javascript\b/i;

/**
 * Watches the scripts the proxy serves for a webpack-dev-server client that will open its HMR socket
 * past the proxy (see {@link checkWebpackSocket}), using the captured response bodies: the proxy's
 * forwarding path is not touched. Each script path is looked at once; watching stops after the first
 * webpack-dev-server client found, whatever it dials.
 */
export function watchWebpackSocket(store: CaptureStore, options: WebpackSocketWatchOptions): Disposable {
	const maxScripts = options.maxScripts ?? 200;
	const seenPaths = new Set<string>();
	let done = false;
	const subscription = store.onDidChange(({ added, updated }) => {
		for (const exchange of [...added, ...updated]) {
			if (done || seenPaths.size >= maxScripts) { return; }
			const request = exchange.request;
			const response = exchange.response;
			if (exchange.kind !== 'http' || exchange.state !== 'completed' || !request || response?.statusCode !== 200) { continue; }
			if (!JAVASCRIPT.test(headerValue(response.headers, 'content-type') ?? '')) { continue; }
			const scriptPath = request.path.split('?')[0];
			if (seenPaths.has(scriptPath)) { continue; }
			seenPaths.add(scriptPath);
			// Copy what we need now: the store reuses its records once an exchange is evicted.
			const raw = store.body(exchange.id, 'response');
			if (!raw) { continue; }
			const page = new URL(`https://${request.authority}/`);
			void decodeBody(raw, headerValue(response.headers, 'content-encoding')).then((decoded) => {
				if (done) { return; }
				const text = decoded.body.toString('utf8');
				if (!text.includes('webpack-dev-server') || !findWebpackClientQuery(text)) { return; }
				done = true;
				const bypass = checkWebpackSocket(text, page);
				if (bypass) { options.onBypass(bypass, exchange); }
			}, () => { /* an undecodable body is not a bundle we can read */ });
		}
	});
	return { dispose: () => { done = true; subscription.dispose(); } };
}
