/**
 * Parses what a user types as the dev server's address into an origin URL (scheme, host, port):
 * `5173`, `'5173'` and `':5173'` mean `http://localhost:5173`; `localhost:3000` and `[::1]:3000` get
 * `http://`; `https://…` selects TLS forward mode. Throws an Error saying what is wrong otherwise.
 *
 * A bare port maps to `localhost` rather than 127.0.0.1 because dev servers such as Vite bind
 * `localhost`, which is ::1 on some machines; Node tries both addresses (autoSelectFamily).
 */
export function parseTarget(input: string | number): URL {
	if (typeof input === 'number') {
		return new URL(`http://localhost:${checkPort(input, String(input))}`);
	}
	const text = String(input).trim();
	if (text === '') {
		throw new Error('The target is empty. Give the dev server\'s port (e.g. 5173) or URL (e.g. http://localhost:5173).');
	}
	if (/^:?\d+$/.test(text)) {
		return new URL(`http://localhost:${checkPort(Number(text.replace(':', '')), text)}`);
	}
	const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		throw new Error(`The target "${text}" is not a port or URL. Use e.g. 5173, localhost:5173 or http://127.0.0.1:5173.`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new Error(`The target "${text}" uses ${url.protocol.slice(0, -1)}; TLS Lens forwards to http:// dev servers (or https:// in TLS forward mode).`);
	}
	if (url.username || url.password) {
		throw new Error(`The target "${text}" contains credentials; TLS Lens does not send them. Remove the "user:password@" part.`);
	}
	if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
		throw new Error(`The target "${text}" has a path, query or fragment; give only scheme, host and port (requests keep their own paths).`);
	}
	if (!url.hostname) {
		throw new Error(`The target "${text}" has no host name.`);
	}
	if (url.port !== '') { checkPort(Number(url.port), text); }
	return new URL(url.origin);
}

function checkPort(port: number, text: string): number {
	if (!Number.isInteger(port) || port < 1 || port > 65535) {
		throw new Error(`The target port "${text}" is not valid: use a number from 1 to 65535.`);
	}
	return port;
}

/** Where upstream connections go: the parts of the target that http.request needs. */
export interface UpstreamEndpoint {
	readonly url: URL;
	readonly tls: boolean;
	/** Host for connecting, without IPv6 brackets. */
	readonly host: string;
	readonly port: number;
	/** The target's Host header value: `host:port`, IPv6 in brackets, default port omitted. */
	readonly authority: string;
	/** The target as shown in messages, e.g. `http://localhost:5173`. */
	readonly display: string;
}

export function upstreamEndpoint(url: URL): UpstreamEndpoint {
	const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
	const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
	return { url, tls: url.protocol === 'https:', host, port, authority: url.host, display: url.origin };
}
