import type { Duplex } from 'node:stream';
import type { Logger } from '../logger';
import type { ProxyCapture } from './proxyCapture';
import type { RedirectRewriter } from './redirects';
import type { UpstreamEndpoint } from './target';
import type { Upstream } from './upstream';

/** What every forwarded request needs from its proxy; built once per ProxyServer. */
export interface ProxyContext {
	readonly endpoint: UpstreamEndpoint;
	readonly upstream: Upstream;
	/** The target's authority when Host is rewritten, else undefined (Host kept as sent). */
	readonly rewriteHost: string | undefined;
	readonly keepHsts: boolean;
	/** Rewrites redirects to the target's own origin; undefined when turned off. */
	readonly redirects: RedirectRewriter | undefined;
	readonly connectTimeoutMs: number;
	/** Undefined when capture is off: no capture work at all then. */
	readonly capture: ProxyCapture | undefined;
	readonly logger: Logger;
	/** Registers a socket that leaves Node's bookkeeping (WebSocket upgrades), so stop() can end it. */
	readonly track: (socket: Duplex) => void;
}
