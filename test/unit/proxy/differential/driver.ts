/*
 * Drives the real proxy (in-process ProxyServer, real TLS with ALPN http/1.1) with fuzz cases.
 *
 * A request lane has its own proxy in front of a dev server that is a real http.Server (llhttp,
 * default options) fed by a raw `net` server that records every byte the proxy forwards. The lane's
 * client writes the case's bytes raw on a TLS connection (kept across cases while it stays clean,
 * resumed TLS sessions otherwise) and parses what comes back with llhttp (Node's HTTPParser binding).
 *
 * A response lane has its own proxy in front of a raw `net` dev server that answers each request
 * with the case's bytes and closes; the client is a real https.request on a keep-alive agent, whose
 * socket is tapped for the raw bytes.
 *
 * Lanes run one case at a time, so everything the dev server and the client see while a case runs
 * belongs to that case; several lanes run side by side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { LeafIssuer, openCa, type CertificateAuthority } from '../../../../src/core/certs';
import { silentLogger } from '../../../../src/core/logger';
import { ProxyServer } from '../../../../src/core/proxy';
import type { RequestCase, ResponseCase } from './generators';
import { collectResponse, HTTPParser, requestParserServer, type ParsedRequest, type RequestVerdict, type ResponseVerdict } from './oracle';
import { Random } from './prng';


/** No new byte anywhere for this long: the proxy has done what it will do with the case's bytes. */
const QUIET_MS = 10;
/** Nothing for this long: the proxy is waiting for more bytes. */
const STALL_MS = 300;
/** Written after a stall where llhttp refused: ends any head the proxy is still reading. */
const PROBE = Buffer.from('\r\n\r\n', 'latin1');
/** The request written after a case that llhttp parsed to its end: its answer shows the proxy holds nothing back. */
export const SENTINEL_URL = '/__fuzz_sentinel';
const SENTINEL = Buffer.from(`GET ${SENTINEL_URL} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 'latin1');
/** A case that has not settled by then is a failure of its own (the proxy hangs). */
const CASE_TIMEOUT_MS = 4000;

/** Our CA and leaf issuer in a temporary directory (as test/unit/proxy/helpers.ts makeCa, without mocha hooks). */
export interface FuzzCa {
	readonly ca: CertificateAuthority;
	readonly issuer: LeafIssuer;
	readonly caPem: string;
	dispose(): void;
}

export async function makeFuzzCa(): Promise<FuzzCa> {
	const dir = mkdtempSync(path.join(tmpdir(), 'tls-lens-fuzz-'));
	const stored = await openCa(path.join(dir, 'ca'), { owner: 'test@fuzz' });
	return { ca: stored.ca, issuer: new LeafIssuer(stored.ca), caPem: stored.ca.certPem, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A response the lane's client parsed off the proxy's connection. */
export interface ClientResponse {
	readonly status: number;
	readonly rawHeaders: string[];
	readonly chunks: Buffer[];
	/** From the dev server (it marks its answers with X-Dev), or the proxy's own. */
	readonly fromDev: boolean;
	/** The dev server's answer to {@link SENTINEL_URL}. */
	readonly sentinel: boolean;
}

/** What the proxy did with a request case. */
export interface RequestObservation {
	/** Final (non-1xx) responses, in order. */
	readonly responses: ClientResponse[];
	interim: number;
	/** llhttp refused what the proxy sent the client. */
	clientParseError?: string;
	/** The connection closed with a response cut off. */
	truncatedResponse: boolean;
	/** The proxy closed the connection. */
	closed: boolean;
	/** The case did not settle in time. */
	timedOut: boolean;
	/** The proxy neither answered nor closed for a while: it waits for more bytes. */
	stalled: boolean;
	/** CRLFCRLF was written after such a stall (see PROBE). */
	probed: boolean;
	/**
	 * After a case llhttp parsed to its end and the proxy answered in full, a request is written (see
	 * SENTINEL_URL): 'answered' when the proxy served it as the next request, 'not answered' when it did
	 * not (it took the case's last bytes for the start of another message, or answered otherwise).
	 */
	sentinel: 'not sent' | 'answered' | 'not answered';
	/** What the dev server's llhttp parsed of the forwarded bytes, over every connection. */
	readonly forwarded: ParsedRequest[];
	/** Errors the dev server's llhttp reported on the forwarded bytes. */
	readonly devErrors: string[];
	readonly devBytes: Buffer[];
	readonly clientBytes: Buffer[];
	lastEvent: number;
}

/** Whether `response` told the client that the connection ends after it. */
export function closesAfter(response: ClientResponse | undefined): boolean {
	const raw = response?.rawHeaders ?? [];
	for (let i = 0; i + 1 < raw.length; i += 2) {
		if (raw[i].toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(raw[i + 1])) { return true; }
	}
	return false;
}

/** A deterministic way to cut `bytes` into writes, from the bytes themselves (regressions have no seed). */
function pieces(bytes: Buffer): Buffer[] {
	let hash = 2166136261;
	for (let i = 0; i < bytes.length; i += Math.max(1, bytes.length >> 6)) { hash = Math.imul(hash ^ bytes[i], 16777619); }
	const r = new Random(hash ^ bytes.length);
	if (bytes.length < 2 || !r.chance(0.2)) { return [bytes]; }
	const result: Buffer[] = [];
	let at = 0;
	while (at < bytes.length) {
		const take = r.chance(0.3) ? 1 : r.range(1, Math.max(1, bytes.length >> 2));
		result.push(bytes.subarray(at, at + take));
		at += take;
	}
	return result;
}

interface ClientConnection {
	readonly socket: tls.TLSSocket;
	closed: boolean;
	observation: RequestObservation | undefined;
	/** Index of the next response among those from the dev server (to know which answer a HEAD). */
	devResponses: number;
	/** The case has a start line with HEAD: a refusal of the proxy's own may answer it without a body. */
	hasHead: boolean;
}

/** HEAD as a method somewhere in the bytes: not preceded by a token character (a message may start right after a body). */
const HEAD_LINE = /(?<![!#$%&'*+\-.^_`|~0-9A-Za-z])HEAD /;

export class RequestLane {
	private current: RequestObservation | undefined;
	private readonly dev: http.Server;
	private readonly raw: net.Server;
	private proxy: ProxyServer | undefined;
	private proxyPort = 0;
	private connection: ClientConnection | undefined;
	private session: Buffer | undefined;

	constructor(private readonly fuzzCa: FuzzCa) {
		this.dev = requestParserServer({
			message: (_socket, message) => (this.current?.forwarded.push(message) ?? 0) - 1,
			error: (_socket, code) => { this.current?.devErrors.push(code ?? 'unknown'); },
			connect: () => { this.current?.devErrors.push('CONNECT forwarded'); },
			missingHost: () => { this.current?.devErrors.push('MISSING_HOST forwarded'); },
		}, (req, res, index) => {
			res.setHeader('X-Dev', String(index));
			if (req.url === SENTINEL_URL) { res.setHeader('X-Sentinel', '1'); }
			res.end('dev');
		});
		this.raw = net.createServer((socket) => {
			socket.on('error', () => { });
			this.dev.emit('connection', socket);
			// Added after the http.Server's own listener, which makes Node stop consuming the socket natively.
			socket.on('data', (chunk: Buffer) => {
				const observation = this.current;
				if (observation === undefined) { return; }
				observation.devBytes.push(Buffer.from(chunk));
				observation.lastEvent = performance.now();
			});
		});
	}

	async start(): Promise<void> {
		await new Promise<void>((resolve) => this.raw.listen(0, '127.0.0.1', resolve));
		const devPort = (this.raw.address() as net.AddressInfo).port;
		this.proxy = new ProxyServer({ target: devPort, issuer: this.fuzzCa.issuer, ca: this.fuzzCa.ca, port: 0, host: '127.0.0.1', logger: silentLogger });
		this.proxyPort = (await this.proxy.start()).port;
	}

	private connect(): Promise<ClientConnection> {
		return new Promise((resolve, reject) => {
			const socket = tls.connect({
				host: '127.0.0.1', port: this.proxyPort, servername: 'localhost', ca: this.fuzzCa.caPem, ALPNProtocols: ['http/1.1'], session: this.session,
			});
			const connection: ClientConnection = { socket, closed: false, observation: undefined, devResponses: 0, hasHead: false };
			socket.on('session', (session: Buffer) => { this.session = session; });
			const parser = new HTTPParser();
			parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
			let response: ClientResponse | undefined;
			let pendingHeaders: string[] = [];
			parser[HTTPParser.kOnHeaders] = (headers: string[]) => { pendingHeaders.push(...headers); };
			parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[] | undefined, _method: unknown, _url: unknown, status: number) => {
				const rawHeaders = [...pendingHeaders, ...(headers ?? [])];
				pendingHeaders = [];
				const fromDev = rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-dev');
				const sentinel = rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-sentinel');
				response = { status, rawHeaders, chunks: [], fromDev, sentinel };
				if (status >= 200 && fromDev) {
					const observation = connection.observation;
					const request = observation?.forwarded[connection.devResponses];
					connection.devResponses++;
					// A response to HEAD has no body, whatever its Content-Length says: llhttp's "skip body".
					if (request?.method === 'HEAD') { return 1; }
				}
				return 0;
			};
			parser[HTTPParser.kOnBody] = (chunk: Buffer) => { response?.chunks.push(Buffer.from(chunk)); };
			parser[HTTPParser.kOnMessageComplete] = () => {
				const observation = connection.observation;
				if (response === undefined || observation === undefined) { return; }
				if (response.status < 200) { observation.interim++; } else { observation.responses.push(response); }
				response = undefined;
			};
			socket.on('data', (chunk: Buffer) => {
				const observation = connection.observation;
				if (observation === undefined) { return; }
				observation.clientBytes.push(Buffer.from(chunk));
				observation.lastEvent = performance.now();
				if (observation.clientParseError !== undefined) { return; }
				const result = parser.execute(chunk);
				if (result instanceof Error) { observation.clientParseError = (result as NodeJS.ErrnoException).code ?? result.message; }
			});
			socket.on('error', () => { });
			socket.on('close', () => {
				connection.closed = true;
				const observation = connection.observation;
				if (observation === undefined) { return; }
				observation.closed = true;
				observation.lastEvent = performance.now();
				if (observation.clientParseError !== undefined || !(parser.finish() instanceof Error)) { return; }
				// The proxy's refusal of a HEAD request (it closes the connection) has no body: which request it
				// answers is not known here, so any HEAD in the case will do, if no body byte came at all.
				if (response !== undefined && !response.fromDev && response.status >= 400 && response.chunks.length === 0 && connection.hasHead) {
					observation.responses.push(response);
					response = undefined;
				} else {
					observation.truncatedResponse = true;
				}
			});
			socket.once('secureConnect', () => resolve(connection));
			socket.once('error', reject);
		});
	}

	/** Runs one case; `expected` is llhttp's verdict on its bytes (which the oracle computes meanwhile). */
	async run(c: RequestCase, expected: Promise<RequestVerdict>): Promise<RequestObservation> {
		let connection = this.connection;
		if (connection === undefined || connection.closed) {
			connection = this.connection = await this.connect();
		}
		const observation: RequestObservation = {
			responses: [], interim: 0, truncatedResponse: false, closed: false, timedOut: false, stalled: false, probed: false, sentinel: 'not sent', forwarded: [], devErrors: [], devBytes: [], clientBytes: [],
			lastEvent: performance.now(),
		};
		this.current = observation;
		connection.observation = observation;
		connection.devResponses = 0;
		connection.hasHead = HEAD_LINE.test(c.bytes.toString('latin1'));
		const parts = pieces(c.bytes);
		for (let i = 0; i < parts.length && !connection.closed; i++) {
			connection.socket.write(parts[i]);
			if (parts.length > 1) { await new Promise((resolve) => setImmediate(resolve)); }
		}
		observation.lastEvent = performance.now();
		const verdict = await expected;
		const count = verdict.messages.length;
		let probed = false;
		const deadline = performance.now() + CASE_TIMEOUT_MS;
		for (; ;) {
			const now = performance.now();
			const quiet = now - observation.lastEvent;
			const answered = observation.closed || observation.responses.length > count;
			// A case llhttp parsed to its end needs no quiet time: the sentinel after it shows what is left.
			const served = observation.responses.length >= count && observation.responses.every((r) => r.fromDev);
			if (verdict.end === 'clean' && served && !answered) { break; }
			if (quiet >= QUIET_MS && (answered || (verdict.end !== 'refused' && observation.responses.length >= count))) { break; }
			if (quiet >= STALL_MS) {
				// llhttp refused bytes of a head the proxy is still waiting to see the end of: complete any such
				// head, so that the proxy shows whether it refuses it (or forwards it, which it must not).
				if (verdict.end === 'refused' && !probed && !observation.closed) {
					probed = observation.probed = true;
					observation.lastEvent = now;
					connection.socket.write(PROBE);
					continue;
				}
				observation.stalled = true;
				break;
			}
			if (now > deadline) {
				observation.timedOut = true;
				break;
			}
			await delay(2);
		}
		// Reused only from a clean state: llhttp found the end of the last message, the proxy answered every
		// one, and a request written next is served as one.
		let clean = verdict.end === 'clean' && !observation.closed && !observation.timedOut && !observation.stalled && observation.clientParseError === undefined
			&& observation.responses.length === count && observation.responses.every((r) => r.fromDev) && observation.devErrors.length === 0
			// A connection that ends after the last answer (HTTP/1.0, Connection: close) has nothing left to show.
			&& verdict.messages.at(-1)?.keepAlive !== false && !closesAfter(observation.responses.at(-1));
		if (clean) {
			connection.socket.write(SENTINEL);
			observation.lastEvent = performance.now();
			while (!observation.closed && observation.responses.length <= count && performance.now() - observation.lastEvent < STALL_MS) { await delay(1); }
			clean = observation.responses.length === count + 1 && observation.responses[count].sentinel && !observation.closed;
			observation.sentinel = clean ? 'answered' : 'not answered';
			if (clean) {
				// Give a proxy that went on after the sentinel the same quiet time as any other case.
				await delay(1);
				clean = observation.responses.length === count + 1 && observation.devErrors.length === 0;
			}
		}
		this.current = undefined;
		connection.observation = undefined;
		if (!clean) {
			connection.socket.destroy();
			this.connection = undefined;
		}
		return observation;
	}

	async close(): Promise<void> {
		this.connection?.socket.destroy();
		await this.proxy?.stop();
		this.dev.closeAllConnections();
		await new Promise<void>((resolve) => this.raw.close(() => resolve()));
	}
}

/** What the proxy did with a response case. */
export interface ResponseObservation {
	readonly client: ResponseVerdict;
	readonly clientBytes: Buffer[];
	/** What the dev server received: the proxy's request. */
	readonly devBytes: Buffer[];
}

export class ResponseLane {
	private current: { bytes: Buffer; clientBytes: Buffer[]; devBytes: Buffer[] } | undefined;
	private readonly raw: net.Server;
	private proxy: ProxyServer | undefined;
	private proxyPort = 0;
	private readonly agent: https.Agent;
	private readonly tapped = new WeakSet<net.Socket>();

	constructor(private readonly fuzzCa: FuzzCa) {
		this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: fuzzCa.caPem, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
		this.raw = net.createServer((socket) => {
			let head = '';
			let answered = false;
			socket.on('error', () => { });
			socket.on('data', (chunk: Buffer) => {
				const current = this.current;
				if (answered || current === undefined) { return; }
				current.devBytes.push(Buffer.from(chunk));
				head += chunk.toString('latin1');
				if (!head.includes('\r\n\r\n')) { return; }
				answered = true;
				const parts = pieces(current.bytes);
				if (parts.length === 1) {
					socket.end(current.bytes);
					return;
				}
				// In several writes (and so reads on the proxy's side), as a dev server streaming its answer would.
				const writeNext = (i: number): void => {
					if (socket.destroyed) { return; }
					if (i === parts.length - 1) {
						socket.end(parts[i]);
						return;
					}
					socket.write(parts[i]);
					setImmediate(writeNext, i + 1);
				};
				writeNext(0);
			});
		});
	}

	async start(): Promise<void> {
		await new Promise<void>((resolve) => this.raw.listen(0, '127.0.0.1', resolve));
		const devPort = (this.raw.address() as net.AddressInfo).port;
		this.proxy = new ProxyServer({ target: devPort, issuer: this.fuzzCa.issuer, ca: this.fuzzCa.ca, port: 0, host: '127.0.0.1', logger: silentLogger });
		this.proxyPort = (await this.proxy.start()).port;
	}

	async run(c: ResponseCase): Promise<ResponseObservation> {
		const current = this.current = { bytes: c.bytes, clientBytes: [] as Buffer[], devBytes: [] as Buffer[] };
		const req = https.request({ agent: this.agent, host: '127.0.0.1', port: this.proxyPort, method: c.method, path: '/fuzz', headers: { host: 'localhost' } });
		req.on('socket', (socket: net.Socket) => {
			if (this.tapped.has(socket)) { return; }
			this.tapped.add(socket);
			socket.on('data', (chunk: Buffer) => this.current?.clientBytes.push(Buffer.from(chunk)));
		});
		req.end();
		const client = await collectResponse(req, CASE_TIMEOUT_MS);
		this.current = undefined;
		// Whatever the proxy left on a connection that did not end cleanly must not reach the next case.
		if (!client.complete || client.code !== undefined) { this.agent.destroy(); }
		return { client, clientBytes: current.clientBytes, devBytes: current.devBytes };
	}

	async close(): Promise<void> {
		this.agent.destroy();
		await this.proxy?.stop();
		await new Promise<void>((resolve) => this.raw.close(() => resolve()));
	}
}
