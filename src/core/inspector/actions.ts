import { promises as fs } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import type { CaptureStore } from '../capture/captureStore';
import { detectLinuxFlavor, LinuxSystemStore, type LinuxFlavor } from '../trust/linuxSystem';
import type { CaIdentity, TrustEnvironment } from '../trust/types';
import { toHar, type Har, type HarCreator, type HarOptions } from './har';
import type { Exchange, ExchangeId } from '../../shared/exchange';
import { matches, parseFilter } from '../../shared/filter';
import { summarize } from '../../shared/summary';

/**
 * The HAR of the exchanges the inspector list shows for `filter` (all of them when it is empty): the
 * same filter language, applied to the same summaries, as the webview.
 */
export function harForFilter(store: CaptureStore, filter: string, creator: HarCreator, options: HarOptions = {}): Har {
	const parsed = parseFilter(filter);
	const exchanges = parsed.terms.length === 0 ? store.list() : store.list().filter((exchange) => matches(parsed, summarize(exchange)));
	return toHar(exchanges, (id, side) => store.body(id, side), creator, options);
}

// Connection-level headers that belong to the original hop, not to the request (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings', 'content-length']);

/** Where a replay is sent: the running proxy, trusting its CA. */
export interface ReplayTarget {
	readonly port: number;
	readonly caPem: string;
	/** Host to connect to. Default `localhost` (both loopbacks are tried). */
	readonly host?: string;
}

export interface ReplayResult {
	readonly ok: boolean;
	readonly status?: number;
	readonly error?: string;
}

/**
 * Sends an exchange's request again, through the proxy (so the replay is captured as a new exchange):
 * same method, path, headers (minus hop-by-hop ones) and kept body, over HTTP/1.1. Refuses WebSockets
 * and bodies the capture cap cut (resending part of a body would be a different request).
 */
export function replay(exchange: Exchange, body: Buffer | undefined, target: ReplayTarget, timeoutMs = 30_000): Promise<ReplayResult> {
	const request = exchange.request;
	if (request === undefined) return Promise.resolve({ ok: false, error: 'a failed TLS handshake has no request to replay' });
	if (exchange.kind === 'websocket') return Promise.resolve({ ok: false, error: 'WebSocket connections cannot be replayed' });
	if (exchange.requestBody.truncated) return Promise.resolve({ ok: false, error: `the request body was cut by the capture limit (${exchange.requestBody.captured} of ${exchange.requestBody.size} bytes kept)` });
	if (exchange.requestBody.size > 0 && (body === undefined || body.length === 0)) return Promise.resolve({ ok: false, error: 'the request body was not captured' });
	const headers: Array<[string, string]> = [];
	let hasHost = false;
	for (const [name, value] of request.headers) {
		const lower = name.toLowerCase();
		if (name.startsWith(':') || HOP_BY_HOP.has(lower)) continue;
		if (lower === 'host') hasHost = true;
		headers.push([name, value]);
	}
	if (!hasHost) headers.unshift(['Host', request.authority]);
	const hostname = hostOf(request.authority);
	const servername = exchange.tls.sni ?? (net.isIP(hostname) ? undefined : hostname);
	return new Promise((resolve) => {
		let settled = false;
		const done = (result: ReplayResult) => {
			if (settled) return;
			settled = true;
			resolve(result);
		};
		const req = https.request({
			host: target.host ?? 'localhost',
			port: target.port,
			method: request.method,
			path: request.path,
			// Raw [name, value] pairs keep order and case.
			headers: headers.flat(),
			ca: target.caPem,
			...(servername !== undefined ? { servername } : {}),
			// We talk to our own proxy on loopback with its CA pinned; the name it was asked for may be an IP.
			checkServerIdentity: () => undefined,
			agent: false,
			setHost: false,
			timeout: timeoutMs,
		}, (res) => {
			res.resume();
			res.on('end', () => done({ ok: true, status: res.statusCode }));
			res.on('error', (error) => done({ ok: false, status: res.statusCode, error: error.message }));
		});
		req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
		req.on('error', (error) => done({ ok: false, error: error.message }));
		req.end(body !== undefined && body.length > 0 ? body : undefined);
	});
}

function hostOf(authority: string): string {
	if (authority.startsWith('[')) return authority.slice(1, authority.indexOf(']'));
	const colon = authority.lastIndexOf(':');
	return colon < 0 ? authority : authority.slice(0, colon);
}

/** The kept request body of `id` (for cURL, fetch and replay). */
export function requestBodyOf(store: CaptureStore, id: ExchangeId): Buffer | undefined {
	return store.body(id, 'request');
}

/**
 * Whether "Copy as cURL" needs `--cacert`: curl in a terminal reads the system store only, so it trusts
 * the proxy's CA without help only on Linux when the system bundle holds it (the same fingerprint check
 * as the Trust Doctor's LinuxSystemStore). Elsewhere, and whenever that cannot be told, the command
 * names the CA file: `--cacert` is harmless when the CA is trusted anyway.
 */
export class CurlCaDecision {
	private flavor: Promise<LinuxFlavor | undefined> | undefined;
	/** The last answer, for one CA and one version of the bundle file: a copy then costs one stat. */
	private cached: { key: string; caFile: string | undefined } | undefined;

	/** @param flavor the system store's family (tests pass one with their own bundle); detected when omitted. */
	constructor(private readonly env: TrustEnvironment, flavor?: LinuxFlavor) {
		this.flavor = flavor ? Promise.resolve(flavor) : undefined;
	}

	/** The file for `--cacert`, or undefined when the system store already trusts `ca`. Never throws. */
	async caFile(ca: CaIdentity): Promise<string | undefined> {
		if (this.env.platform !== 'linux') { return ca.certPath; }
		try {
			const flavor = await (this.flavor ??= detectLinuxFlavor(this.env));
			if (!flavor) { return ca.certPath; }
			const bundle = await fs.stat(flavor.bundle);
			const key = `${ca.fingerprint256} ${flavor.bundle} ${bundle.size} ${bundle.mtimeMs}`;
			if (this.cached?.key !== key) {
				const status = await new LinuxSystemStore(this.env, { flavor }).status(ca);
				this.cached = { key, caFile: status.state === 'trusted' ? undefined : ca.certPath };
			}
			return this.cached.caFile;
		} catch {
			return ca.certPath;
		}
	}
}
