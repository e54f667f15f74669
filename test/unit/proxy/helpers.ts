import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as path from 'node:path';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { LeafIssuer, openCa, type StoredCa } from '../../../src/core/certs';
import type { CaptureSink, ExchangeInit, ExchangeRecorder, TlsFailureInit } from '../../../src/core/capture/types';
import type { Logger } from '../../../src/core/logger';
import { ProxyServer, type ProxyOptions } from '../../../src/core/proxy';
import { startDevServer, type DevServer, type DevServerOptions } from '../../fixtures/proxy/devServer';
import { tempDir } from '../helpers';

/** A CA in a temporary directory and a leaf issuer on it. */
export interface TestCa {
	readonly stored: StoredCa;
	readonly issuer: LeafIssuer;
	/** Path of rootCA.pem, for curl --cacert and openssl -CAfile. */
	readonly caFile: string;
	readonly caPem: string;
}

export async function makeCa(): Promise<TestCa> {
	const stored = await openCa(path.join(tempDir('tls-lens-proxy-'), 'ca'), { owner: 'test@proxy' });
	return { stored, issuer: new LeafIssuer(stored.ca), caFile: stored.certPath, caPem: stored.ca.certPem };
}

/** A dev server and a proxy in front of it, on free ports. */
export interface Harness {
	readonly ca: TestCa;
	readonly dev: DevServer;
	readonly proxy: ProxyServer;
	readonly port: number;
	readonly urls: string[];
	readonly logs: string[];
	close(): Promise<void>;
}

/** A logger that keeps lines, so tests can check what was said (and failures can show it). */
export function memoryLogger(lines: string[]): Logger {
	const add = (level: string) => (message: string): void => { lines.push(`${level} ${message}`); };
	return { trace: add('trace'), debug: add('debug'), info: add('info'), warn: add('warn'), error: add('error') };
}

export async function startHarness(ca: TestCa, options: Partial<ProxyOptions> = {}, devOptions: DevServerOptions = {}): Promise<Harness> {
	const dev = await startDevServer(devOptions);
	const logs: string[] = [];
	const proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger(logs), ...options });
	const { port, urls } = await proxy.start();
	return { ca, dev, proxy, port, urls, logs, close: async () => { await proxy.stop(); await dev.close(); } };
}

export interface Reply {
	readonly status: number;
	readonly headers: http.IncomingHttpHeaders;
	readonly rawHeaders: string[];
	readonly body: Buffer;
	readonly alpn: string | false | null;
}

export interface RequestOptions {
	method?: string;
	headers?: http.OutgoingHttpHeaders;
	body?: Buffer | string;
	/** Connect to this address (default 127.0.0.1); SNI and Host stay `servername`. */
	host?: string;
	servername?: string;
}

/** An HTTPS/1.1 request through the proxy, trusting only our CA. */
export function h1Request(ca: TestCa, port: number, requestPath: string, options: RequestOptions = {}): Promise<Reply> {
	return new Promise((resolve, reject) => {
		const servername = options.servername ?? 'localhost';
		const requestOptions: https.RequestOptions & ConnectionOptions = {
			host: options.host ?? '127.0.0.1', port, servername, path: requestPath, method: options.method ?? 'GET', ca: ca.caPem, agent: false,
			ALPNProtocols: ['http/1.1'], headers: { host: `${servername}:${port}`, ...options.headers },
		};
		const req = https.request(requestOptions, (res) => {
			const alpn = (res.socket as TLSSocket).alpnProtocol;
			const chunks: Buffer[] = [];
			res.on('data', (chunk: Buffer) => chunks.push(chunk));
			res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), alpn }));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.end(options.body);
	});
}

/** An HTTP/2 request through the proxy on `session` (or a new one), trusting only our CA. */
export async function h2Request(ca: TestCa, port: number, requestPath: string, options: RequestOptions & { session?: http2.ClientHttp2Session } = {}): Promise<Reply> {
	const session = options.session ?? http2.connect(`https://${options.servername ?? 'localhost'}:${port}`, { ca: ca.caPem, host: options.host ?? '127.0.0.1', servername: options.servername ?? 'localhost' });
	try {
		return await new Promise<Reply>((resolve, reject) => {
			if (!options.session) { session.once('error', reject); }
			const stream = session.request({ ':method': options.method ?? 'GET', ':path': requestPath, ...options.headers });
			stream.on('error', reject);
			let status = 0;
			let headers: http.IncomingHttpHeaders = {};
			stream.on('response', (h) => {
				status = Number(h[':status']);
				headers = h as http.IncomingHttpHeaders;
			});
			const chunks: Buffer[] = [];
			stream.on('data', (chunk: Buffer) => chunks.push(chunk));
			stream.on('end', () => resolve({ status, headers, rawHeaders: [], body: Buffer.concat(chunks), alpn: session.alpnProtocol ?? null }));
			stream.end(options.body);
		});
	} finally {
		if (!options.session) { session.close(); }
	}
}

/** A CaptureSink that records every call, for checking what the proxy reports. */
export class RecordingSink implements CaptureSink {
	readonly exchanges: Array<{ init: ExchangeInit; events: Array<[string, ...unknown[]]>; finished: Promise<void> }> = [];
	readonly tlsFailures: TlsFailureInit[] = [];

	beginExchange(init: ExchangeInit): ExchangeRecorder {
		const events: Array<[string, ...unknown[]]> = [];
		let done: () => void = () => { };
		const finished = new Promise<void>((resolve) => { done = resolve; });
		this.exchanges.push({ init, events, finished });
		const id = this.exchanges.length;
		return {
			id,
			requestBody: (chunk) => events.push(['requestBody', Buffer.from(chunk)]),
			upstreamConnected: (reused) => events.push(['upstreamConnected', reused]),
			requestSent: () => events.push(['requestSent']),
			// Recorded as pairs (a copy), so that tests read headers the way the capture model holds them.
			response: (statusCode, statusMessage, rawHeaders) => events.push(['response', { statusCode, statusMessage, headers: pairs(rawHeaders) }]),
			responseHeaderRewritten: (index, original, value) => events.push(['responseHeaderRewritten', index, original, value]),
			responseBody: (chunk) => events.push(['responseBody', Buffer.from(chunk)]),
			webSocketMessage: (message) => events.push(['webSocketMessage', { ...message, payload: Buffer.from(message.payload) }]),
			finish: (state, error) => {
				events.push(['finish', state, error]);
				done();
			},
		};
	}

	tlsFailure(init: TlsFailureInit): void {
		this.tlsFailures.push(init);
	}
}

/** Flat `[name, value, …]` (as the proxy hands headers to capture) to pairs, for assertions. */
export function pairs(raw: readonly string[]): Array<[string, string]> {
	const result: Array<[string, string]> = [];
	for (let i = 0; i + 1 < raw.length; i += 2) { result.push([raw[i], raw[i + 1]]); }
	return result;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) { throw new Error(`timed out waiting for ${what}`); }
		await delay(10);
	}
}


export { freePort } from '../../fixtures/devServers';
