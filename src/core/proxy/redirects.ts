import type { UpstreamEndpoint } from './target';

/*
 * Redirects that would leave the proxy. A dev server whose idea of its own base URL is
 * `http://localhost:5173` answers `/login` with `Location: http://localhost:5173/dashboard`, and the
 * browser follows it off the HTTPS origin. As nginx's `proxy_redirect default` does, URLs in Location,
 * Content-Location and Refresh that point at the target's own origin are given the browser's origin
 * instead. Only those: another port, another host, another scheme, userinfo or a relative reference is
 * left exactly as sent.
 */

/** Host spellings that name the dev server's machine from the dev server's side, lower-case, IPv6 bracketed. */
const LOOPBACK_SPELLINGS = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Rewrites URL-valued response headers that point at the target's origin to `https://` plus the
 * authority the browser used. Built once per proxy; its methods are called only for the headers it
 * concerns and allocate only when they rewrite.
 */
export class RedirectRewriter {
	/** `http://` or `https://`, the target's scheme. */
	private readonly scheme: string;
	private readonly port: number;
	/** A URL without a port names the target too (the target is on its scheme's default port). */
	private readonly portOptional: boolean;
	private readonly hosts: ReadonlySet<string>;

	constructor(endpoint: UpstreamEndpoint) {
		this.scheme = endpoint.tls ? 'https://' : 'http://';
		this.port = endpoint.port;
		this.portOptional = endpoint.port === (endpoint.tls ? 443 : 80);
		const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
		this.hosts = new Set([...LOOPBACK_SPELLINGS, host.toLowerCase()]);
	}

	/**
	 * A Location or Content-Location value with the target's origin replaced by `https://authority`
	 * (a protocol-relative `//host:port` by `//authority`), or undefined when it does not point at the target.
	 */
	location(value: string, authority: string): string | undefined {
		let start: number;
		// Lower-cased only when it can match: most values are paths ('/dashboard').
		if (value.length > 2 && value.charCodeAt(0) === 0x2f /* / */ && value.charCodeAt(1) === 0x2f) {
			start = 2;
		} else if (value.length > this.scheme.length && value.slice(0, this.scheme.length).toLowerCase() === this.scheme) {
			start = this.scheme.length;
		} else {
			return undefined;
		}
		let end = start;
		while (end < value.length && !endsAuthority(value.charCodeAt(end))) end++;
		if (!this.isTarget(value.slice(start, end))) return undefined;
		return `${start === 2 ? '//' : 'https://'}${authority}${value.slice(end)}`;
	}

	/**
	 * A Refresh value (`5; url=http://…`) with its URL rewritten as by {@link location}, or undefined
	 * when it has none that points at the target. The syntax is HTML's declarative refresh: a time, `;`
	 * or `,`, then the URL, optionally after `url=` and in quotes.
	 */
	refresh(value: string, authority: string): string | undefined {
		const match = REFRESH.exec(value);
		if (match === null) return undefined;
		const prefix = match[0];
		let end = value.length;
		// A quoted URL ends at its closing quote (HTML: or at the end, when there is none).
		const quote = prefix.charCodeAt(prefix.length - 1);
		if (quote === 0x22 || quote === 0x27) {
			const close = value.indexOf(prefix[prefix.length - 1], prefix.length);
			if (close >= 0) end = close;
		}
		const url = this.location(value.slice(prefix.length, end), authority);
		return url === undefined ? undefined : prefix + url + value.slice(end);
	}

	/** Whether an authority (`host[:port]`, as written in a URL) is the target's. */
	private isTarget(authority: string): boolean {
		if (authority.includes('@')) return false;
		let hostEnd = authority.length;
		if (authority.startsWith('[')) {
			const close = authority.indexOf(']');
			if (close < 0) return false;
			hostEnd = close + 1;
		} else {
			const colon = authority.indexOf(':');
			if (colon >= 0) hostEnd = colon;
		}
		if (!this.hosts.has(authority.slice(0, hostEnd).toLowerCase())) return false;
		if (hostEnd === authority.length) return this.portOptional;
		if (authority.charCodeAt(hostEnd) !== 0x3a /* : */) return false;
		const port = authority.slice(hostEnd + 1);
		// `host:` with nothing after it means the default port (WHATWG URL).
		if (port === '') return this.portOptional;
		return /^\d+$/.test(port) && Number(port) === this.port;
	}
}

/** Where an authority ends: `/`, `?`, `#`, or `\` (which browsers read as `/` in http(s) URLs). */
function endsAuthority(code: number): boolean {
	return code === 0x2f || code === 0x3f || code === 0x23 || code === 0x5c;
}

/** Everything of a Refresh value before its URL: time, separator, optional `url=`, optional quote. */
const REFRESH = /^\s*[\d.]+\s*[;,]\s*(?:url\s*=\s*)?['"]?/i;
