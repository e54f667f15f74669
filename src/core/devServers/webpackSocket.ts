// webpack-dev-server 5 bakes its client's WebSocket address into the bundle when it compiles
// (lib/Server.js, addAdditionalEntries: `client/index.js?protocol=ws%3A&hostname=0.0.0.0&port=8080&pathname=%2Fws…`,
// from its options only, never from a request), and the client (client/index.js, createSocketURL) takes
// the page's host only for hostname 0.0.0.0/::, and the page's port only for port 0 or none. So behind
// the proxy, a bundle compiled with no devServer options dials wss://localhost:DEVPORT/ws: TLS to a
// plain-HTTP port, which fails. No header the proxy sends can change that; the config has to.

import { planConfigChange, type ConfigEditPlan } from './configEdit';

/** The value webpack-dev-server's client needs to dial the page's own host and port. */
export const WEBPACK_SOCKET_URL = 'auto://0.0.0.0:0/ws';

/** The config change that makes webpack-dev-server's client dial the page's own host and port. */
export const WEBPACK_SOCKET_FIX = `devServer: { client: { webSocketURL: '${WEBPACK_SOCKET_URL}' } }`;

/**
 * Plans the edit of a webpack config's text that sets `devServer.client.webSocketURL` to
 * {@link WEBPACK_SOCKET_URL} (see {@link planConfigChange}).
 */
export function planWebpackSocketFix(text: string): ConfigEditPlan {
	return planConfigChange(text, { path: ['devServer', 'client', 'webSocketURL'], set: WEBPACK_SOCKET_URL });
}

/** A webpack-dev-server client that will open its socket somewhere other than the page's origin. */
export interface WebpackSocketBypass {
	/** The URL the client will dial, as it computes it for this page (`wss://localhost:8080/ws`). */
	readonly dialed: string;
	/** Where it should dial to go through the proxy (`wss://localhost:8443/ws`). */
	readonly expected: string;
	/** One line for the log: what happens and the config change that fixes it. */
	readonly message: string;
}

// The client entry's request as webpack writes it into the bundle: in a plain string, or escaped
// inside the eval() of development builds (hence the backslash in the class of path separators).
const CLIENT_QUERY = /webpack-dev-server[\\/]+client[\\/]+index\.js\?(protocol=[^"'`\\\s]*)/;

/** The socket options webpack-dev-server baked into `bundle` (a JavaScript text), or undefined if none. */
export function findWebpackClientQuery(bundle: string): URLSearchParams | undefined {
	const match = CLIENT_QUERY.exec(bundle);
	return match ? new URLSearchParams(match[1]) : undefined;
}

/**
 * The WebSocket URL webpack-dev-server 5's client computes from its baked-in options on a page at
 * `page`: the same steps as `createSocketURL` in webpack-dev-server/client/index.js.
 */
export function webpackSocketUrl(query: URLSearchParams, page: URL): string {
	let hostname = query.get('hostname') ?? '';
	const inAddrAny = hostname === '0.0.0.0' || hostname === '::' || hostname === '[::]';
	if (inAddrAny && page.hostname && page.protocol.startsWith('http')) { hostname = page.hostname; }
	let protocol = query.get('protocol') || page.protocol;
	if (protocol === 'auto:' || (hostname && inAddrAny && page.protocol === 'https:')) { protocol = page.protocol; }
	protocol = protocol.replace(/^(?:http|.+-extension|file)/i, 'ws');
	hostname = (hostname || page.hostname || 'localhost').replace(/^\[(.*)\]$/, '$1');
	let port = query.get('port') ?? '';
	if (!port || port === '0') { port = page.port; }
	const pathname = query.get('pathname') || '/ws';
	const host = hostname.includes(':') ? `[${hostname}]` : hostname;
	return `${protocol}//${host}${port ? `:${port}` : ''}${pathname}`;
}

/**
 * Checks a JavaScript response served through the proxy at `page` (`https://localhost:8443/`): when it
 * carries webpack-dev-server's client and that client will dial another origin than the page's, says
 * where, and how to fix it. Undefined for any other script, and for a client that dials the page.
 */
export function checkWebpackSocket(bundle: string, page: URL): WebpackSocketBypass | undefined {
	const query = findWebpackClientQuery(bundle);
	if (!query) { return undefined; }
	const dialed = webpackSocketUrl(query, page);
	const expected = `${page.protocol === 'https:' ? 'wss:' : 'ws:'}//${page.host}${query.get('pathname') || '/ws'}`;
	if (new URL(dialed).host === new URL(expected).host && new URL(dialed).protocol === new URL(expected).protocol) { return undefined; }
	return {
		dialed,
		expected,
		message: `webpack-dev-server's HMR client on ${page.origin} will connect to ${dialed}, not through TLS Lens (${expected}): `
			+ `its address was fixed when the bundle was built, so edits will not reach the page. `
			+ `Add ${WEBPACK_SOCKET_FIX} to your webpack config and restart the dev server.`,
	};
}
