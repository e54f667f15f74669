// Dev servers refuse requests for names they do not know, to stop DNS-rebinding attacks on the
// developer's machine. Behind TLS Lens on a name other than localhost (`app.test`), each refuses in
// its own words, which is all there is to recognise them by:
// - Vite (and Astro, which serves through Vite): 403, `Blocked request. This host ("app.test") is not
//   allowed.\nTo allow this host, add "app.test" to \`server.allowedHosts\` in vite.config.js.`
//   (vite/src/node/server/middlewares/hostCheck.ts). It checks `Host` only, so sending the target's
//   own host (rewriteHost) is enough.
// - webpack-dev-server 5: 403 `Invalid Host header` (lib/Server.js, host-header-check), and on its HMR
//   socket an `{"type":"error","data":"Invalid Host/Origin header"}` message. It checks `Origin` too:
//   rewriteHost does not help; `devServer.allowedHosts` does.
// - Next.js 15.2+: 403 `Unauthorized` for a `/_next/…` or `/__nextjs…` request whose `Origin` host is
//   not localhost or in `allowedDevOrigins`, and for its HMR socket's upgrade the bare bytes
//   `Unauthorized` (no status line) written to the socket before it closes
//   (server/lib/router-utils/block-cross-site-dev.js). The page still renders, but never hydrates.
import { planConfigChange, type ConfigEditPlan } from './configEdit';
import type { Exchange } from '../../shared/exchange';
import { headerValue } from '../../shared/summary';

/** The dev servers whose host check TLS Lens recognises. */
export type HostCheckServer = 'vite' | 'webpack' | 'next';

/** A dev server's refusal of the name the browser used. */
export interface HostCheckRefusal {
	readonly server: HostCheckServer;
	/** The refused name, lowercase, without port (`app.test`). */
	readonly host: string;
	/** The config property that lists allowed names (`server.allowedHosts`). */
	readonly setting: string;
	/** The property with the value that allows this name, as it would be written in the config. */
	readonly fix: string;
	/** The config files that hold the setting, by the server's conventions (a glob). */
	readonly configGlob: string;
	/** True when sending the target's own host (`rewriteHost`) is enough on its own. */
	readonly rewriteHostFixes: boolean;
	/** One line for the log and the inspector: who refused what, and the change that fixes it. */
	readonly message: string;
}

const VITE_BLOCKED = /^Blocked request\. This host \(("[^"\r\n]*")\) is not allowed\.\s+To allow this host, add .* to `(server|preview)\.allowedHosts`/;
const WEBPACK_HTTP = /^Invalid Host header$/;
const WEBPACK_SOCKET = /"type"\s*:\s*"error"\s*,\s*"data"\s*:\s*"Invalid Host\/Origin header"/;
const NEXT_INTERNAL = /\/_next\/|\/__nextjs/;

const SERVER_NAMES: Record<HostCheckServer, string> = { vite: 'Vite', webpack: 'webpack-dev-server', next: 'Next.js' };

/**
 * Recognises a dev server's host-check refusal in a finished exchange. `responseText` is the decoded
 * response body (the first KiB is plenty); `messages` the texts of a WebSocket's server messages.
 */
export function detectHostCheck(exchange: Exchange, responseText: string, messages: readonly string[] = []): HostCheckRefusal | undefined {
	const request = exchange.request;
	if (request === undefined) return undefined;
	const status = exchange.response?.statusCode;
	const body = responseText.trim();
	if (status === 403) {
		const vite = VITE_BLOCKED.exec(body);
		if (vite) {
			let host: string;
			try { host = String(JSON.parse(vite[1])); } catch { return undefined; }
			return refusal('vite', host, `${vite[2]}.allowedHosts`);
		}
		if (WEBPACK_HTTP.test(body)) return refusal('webpack', hostnameOf(request.authority), 'devServer.allowedHosts');
	}
	// Next.js says it with a 403 to requests, and with the bare bytes to its HMR socket's upgrade.
	const bareUpgradeAnswer = exchange.kind === 'websocket' && exchange.response === undefined;
	if ((status === 403 || bareUpgradeAnswer) && body === 'Unauthorized' && NEXT_INTERNAL.test(request.path)) {
		const origin = headerValue(request.headers, 'origin') ?? headerValue(request.headers, 'referer');
		const host = origin === undefined ? undefined : originHost(origin);
		if (host !== undefined) return refusal('next', host, 'allowedDevOrigins');
	}
	if (exchange.kind === 'websocket' && messages.some((text) => WEBPACK_SOCKET.test(text))) {
		const origin = headerValue(request.headers, 'origin');
		return refusal('webpack', (origin !== undefined ? originHost(origin) : undefined) ?? hostnameOf(request.authority), 'devServer.allowedHosts');
	}
	return undefined;
}

function refusal(server: HostCheckServer, host: string, setting: string): HostCheckRefusal {
	const fix = `${setting.split('.').pop()!}: [${quoted(host)}]`;
	const rewriteHostFixes = server === 'vite';
	const configGlob = server === 'vite' ? '**/{vite,astro}.config.{js,mjs,cjs,ts,mts,cts}'
		: server === 'webpack' ? '**/webpack.config.{js,cjs,mjs,ts}' : '**/next.config.{js,mjs,cjs,ts,mts}';
	const where = server === 'vite' ? 'vite.config (or astro.config)' : server === 'webpack' ? 'webpack.config' : 'next.config';
	const alternative = rewriteHostFixes ? ', or turn on rewriteHost so TLS Lens sends it its own host' : '';
	const message = `${SERVER_NAMES[server]} refused the name ${host} (its host check): add ${host} to ${setting} in ${where}${alternative}.`;
	return { server, host, setting, fix, configGlob, rewriteHostFixes, message };
}

/** Plans the config edit that lets `refusal.host` through, for the config file's text. */
export function planHostCheckFix(refusal: Pick<HostCheckRefusal, 'setting' | 'host'>, text: string): ConfigEditPlan {
	const path = refusal.setting.split('.');
	// Vite's `true` and webpack-dev-server's 'all' already allow every name.
	return planConfigChange(text, { path, add: refusal.host, allowAll: path[0] === 'devServer' ? ["'all'", '"all"'] : ['true'] });
}

function originHost(origin: string): string | undefined {
	try {
		const host = new URL(origin).hostname.toLowerCase();
		return host.length > 0 ? host.replace(/^\[|\]$/g, '') : undefined;
	} catch {
		return undefined;
	}
}

/** `app.test:8443` → `app.test`; `[::1]:8443` → `::1`. */
function hostnameOf(authority: string): string {
	const bracketed = /^\[([^\]]*)\]/.exec(authority);
	if (bracketed) return bracketed[1].toLowerCase();
	const colon = authority.lastIndexOf(':');
	return (colon >= 0 && authority.indexOf(':') === colon ? authority.slice(0, colon) : authority).toLowerCase();
}

function quoted(value: string): string {
	return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
