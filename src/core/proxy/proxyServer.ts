import type { IncomingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { CertificateAuthority, LeafIssuer } from '../certs';
import { SERVER_TLS_OPTIONS } from '../certs/tlsPolicy';
import type { CaptureSink } from '../capture/types';
import { SETTINGS } from '../../shared/settings';
import { silentLogger, type Logger } from '../logger';
import type { ProxyContext } from './context';
import { Http1Connections } from './http1Connection';
import { forwardHttp2, Http2Sessions, type Http2Client } from './http2Forward';
import { closeServer, DEFAULT_HOSTS, explainListenError, httpsUrl, isAddressUnavailable, isLoopbackHost, listen, logServerErrors } from './listeners';
import { RedirectRewriter } from './redirects';
import { PlainHttpRedirects } from './plainHttpRedirect';
import { ProtocolSniffer } from './protocolSniffer';
import { parseTarget, upstreamEndpoint } from './target';
import { ProxyCapture } from './proxyCapture';
import { clientAddress, describeTlsError, TlsDetailsCollector } from './tlsDetails';
import { Upstream } from './upstream';

/** Options of a {@link ProxyServer}. */
export interface ProxyOptions {
	/** The dev server: `5173`, `'5173'`, `'localhost:3000'`, `'http://127.0.0.1:5173'`, or `'https://…'` (TLS forward mode). */
	target: string | number;
	/** Issues the certificate for each SNI name; its default certificate serves clients without SNI. */
	issuer: LeafIssuer;
	/** Our CA: trusted (besides the system roots) when verifying an https target. */
	ca: CertificateAuthority;
	/** HTTPS port; default 8443; 0 picks a free port. */
	port?: number;
	/** Listen address(es); default both loopbacks, `127.0.0.1` and `::1` (::1 skipped when the machine has no IPv6). */
	host?: string | readonly string[];
	/** Pass Strict-Transport-Security through on loopback hosts (default false: dropped). */
	keepHsts?: boolean;
	/** Send the target's host as Host instead of the browser's (default false). */
	rewriteHost?: boolean;
	/**
	 * Rewrite Location, Content-Location and Refresh URLs that point at the target's own origin
	 * (`http://localhost:5173/…`) to the origin the browser used (default true).
	 */
	rewriteRedirects?: boolean;
	/** Verify an https target's certificate (default true); turning it off is logged as a warning. */
	upstreamTlsVerify?: boolean;
	/** Time a new upstream connection may take to connect (and for https, to shake hands); default 10000 ms. */
	connectTimeoutMs?: number;
	/** Where captured traffic goes; undefined turns capture off entirely (no capture work at all). */
	capture?: CaptureSink;
	/** Bytes of each WebSocket message payload handed to capture (default 1 MiB). */
	captureBodyLimit?: number;
	/** Time a client may take to send a request's headers (HTTP/1.1, and plain HTTP on the TLS port; slow-loris guard); default 30000 ms. */
	headersTimeoutMs?: number;
	/** Idle time after which a client connection without requests is closed (HTTP/2 gracefully); default 60000 ms. */
	idleTimeoutMs?: number;
	/** Time a client may take to send its first byte, and then to complete the TLS handshake; default 10000 ms each. */
	handshakeTimeoutMs?: number;
	logger?: Logger;
}

/** Where a started proxy listens. */
export interface ProxyAddress {
	/** The bound port (the chosen one when port 0 was asked for). */
	readonly port: number;
	/** URLs that reach the proxy: `https://localhost:PORT` first when a loopback is bound, then one per bound address. */
	readonly urls: string[];
}

const DEFAULT_PORT = SETTINGS.port.default;
const DEFAULT_CAPTURE_BODY_LIMIT = SETTINGS['capture.bodyLimit'].default;

/** Default {@link ProxyOptions.connectTimeoutMs}: a dev server that has not accepted by then is stuck (504). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default {@link ProxyOptions.headersTimeoutMs}, a slow-loris guard: a browser sends its head at once (Node's http server allows 60 s). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
/** Default {@link ProxyOptions.idleTimeoutMs}, announced to HTTP/1.1 clients as `Keep-Alive: timeout=60`. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Default {@link ProxyOptions.handshakeTimeoutMs}, for the first byte and then for the handshake (Node's TLS default is 120 s). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** How often to retry port 0 when the free port on the first address is taken on another. */
const PORT_ZERO_ATTEMPTS = 5;

/**
 * Streams one HTTP/2 client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Node advertises no
 * limit, and every open stream holds a connection to the dev server (requests are not multiplexed
 * upstream): one client opening 1,000 streams made the proxy open 1,000 upstream sockets (measured).
 * 128 is nginx's default; browsers queue their requests beyond it. A client that opens more once it has
 * acknowledged the setting gets GOAWAY(PROTOCOL_ERROR) from nghttp2 (before that, REFUSED_STREAM).
 */
export const H2_MAX_CONCURRENT_STREAMS = 128;

const kClient = Symbol('tlsLens.http2Client');
type WithClient = { [kClient]?: Http2Client };

/**
 * The TLS-terminating reverse proxy: HTTPS (TLS 1.2/1.3, HTTP/2 with HTTP/1.1 fallback, certificates
 * per SNI from our CA) on loopback, forwarding to the developer's dev server over HTTP/1.1 keep-alive
 * connections, WebSockets included. No error path throws out of the event loop: clients and the dev
 * server can misbehave in any way and the proxy keeps serving.
 */
export class ProxyServer {
	/** The parsed target (throws from the constructor when invalid). */
	readonly target: URL;
	private readonly logger: Logger;
	private http1: Http1Connections | undefined;
	private http2: Http2Sessions | undefined;
	private sniffer: ProtocolSniffer | undefined;
	private plain: PlainHttpRedirects | undefined;
	/** One plain TCP listener per bound address. */
	private readonly listeners: net.Server[] = [];
	/** Hands an accepted connection to the sniffer (set by start()). */
	private accept: ((socket: net.Socket) => void) | undefined;
	/** Every client socket (raw and TLS) and upgraded upstream socket, for stop(). */
	private readonly sockets = new Set<Duplex>();
	private upstream: Upstream | undefined;
	private started = false;
	private stopped = false;

	constructor(private readonly options: ProxyOptions) {
		this.target = parseTarget(options.target);
		this.logger = options.logger ?? silentLogger;
		const port = options.port ?? DEFAULT_PORT;
		if (!Number.isInteger(port) || port < 0 || port > 65535) {
			throw new Error(`The proxy port "${options.port}" is not valid: use a number from 1 to 65535, or 0 for any free port.`);
		}
	}

	/**
	 * Starts listening on every host. Resolves when all are listening, with the bound port and URLs.
	 * A port in use rejects with an Error whose `code` is `EADDRINUSE` and whose message says what to do.
	 */
	async start(): Promise<ProxyAddress> {
		if (this.started) { throw new Error('This ProxyServer was already started; create a new one.'); }
		this.started = true;
		const options = this.options;
		const logger = this.logger;
		const endpoint = upstreamEndpoint(this.target);
		const verifyTls = options.upstreamTlsVerify ?? true;
		const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
		if (endpoint.tls && !verifyTls) {
			logger.warn(`[proxy] Upstream TLS verification is OFF for ${endpoint.display}: any certificate is accepted, so the connection to the dev server is not authenticated.`);
		}
		const defaultCertificate = await options.issuer.certificateFor(undefined);
		const idleTimeout = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
		const upstream = this.upstream = new Upstream({ endpoint, caPem: options.ca.certPem, verifyTls, connectTimeoutMs, logger });
		const capture = options.capture === undefined ? undefined
			: new ProxyCapture(options.capture, new TlsDetailsCollector(options.issuer), options.captureBodyLimit ?? DEFAULT_CAPTURE_BODY_LIMIT, logger);
		const tlsDetails = capture?.tlsDetails;
		const sockets = this.sockets;
		const untrack = function (this: Duplex): void { sockets.delete(this); };
		const track = (socket: Duplex): void => {
			sockets.add(socket);
			socket.once('close', untrack);
		};
		const context: ProxyContext = {
			endpoint,
			upstream,
			rewriteHost: options.rewriteHost ? endpoint.authority : undefined,
			keepHsts: options.keepHsts ?? false,
			redirects: options.rewriteRedirects === false ? undefined : new RedirectRewriter(endpoint),
			connectTimeoutMs,
			capture,
			logger,
			track,
		};

		const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
		const handshakeTimeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
		const http1 = this.http1 = new Http1Connections(context, {
			headersMs: headersTimeout,
			idleMs: idleTimeout,
		});
		// HTTP/2 sessions run on TLS sockets this proxy accepted: the HTTP/2 server itself never listens.
		const h2 = http2.createServer({
			settings: {
				// No extended CONNECT (RFC 8441): browsers then open WebSockets over HTTP/1.1, which we proxy.
				enableConnectProtocol: false,
				maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS,
			},
		});
		// Streams that wait for their client (a request body, a response it does not take) are reset after the idle timeout.
		const http2Sessions = this.http2 = new Http2Sessions(context, idleTimeout);
		/** The TLS socket being handed to the HTTP/2 server ('session' is emitted synchronously). */
		let arriving: TLSSocket | undefined;
		h2.on('sessionError', (error: Error) => logger.debug(`[proxy] HTTP/2 session error: ${error.message}`));
		h2.on('session', (session: http2.ServerHttp2Session) => {
			session.setTimeout(idleTimeout, closeIdleSession);
			// Once per session rather than per stream: session.socket is a Proxy, slow to read through.
			const socket = arriving ?? session.socket as TLSSocket;
			(session as WithClient)[kClient] = http2Sessions.add(session, arriving, socket.remoteAddress ?? '', clientAddress(socket), tlsDetails?.detailsOf(socket) ?? {});
		});
		h2.on('stream', (stream: http2.ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
			const client = (stream.session as WithClient | undefined)?.[kClient];
			if (client === undefined) {
				stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
				return;
			}
			forwardHttp2(http2Sessions, client, stream, headers, rawHeaders ?? flatten(headers));
		});

		// Terminates TLS on the connections the listeners accept; like the HTTP/2 server, it never listens itself.
		const server = tls.createServer({
			cert: defaultCertificate.issued.certPem,
			key: defaultCertificate.issued.keyPem,
			SNICallback: options.issuer.sniCallback,
			ALPNProtocols: ['h2', 'http/1.1'],
			...SERVER_TLS_OPTIONS,
			handshakeTimeout,
		});
		const plain = this.plain = new PlainHttpRedirects({ headersMs: headersTimeout, logger, capture });
		const sniffer = this.sniffer = new ProtocolSniffer((socket) => server.emit('connection', socket), (socket, first) => plain.serve(socket, first), handshakeTimeout);
		this.accept = (socket: net.Socket): void => {
			track(socket);
			// Timed from the connection's arrival, before the sniffer waits for the first byte.
			tlsDetails?.connection(socket);
			sniffer.accept(socket);
		};
		server.on('secureConnection', (socket: TLSSocket) => {
			track(socket);
			tlsDetails?.secureConnection(socket);
			if (socket.alpnProtocol === 'h2') {
				arriving = socket;
				h2.emit('connection', socket);
				arriving = undefined;
			} else {
				http1.serve(socket);
			}
		});
		server.on('tlsClientError', (error: Error, socket: TLSSocket) => this.onTlsClientError(error, socket, capture));

		try {
			return await this.bind();
		} catch (error) {
			await this.stop();
			throw error;
		}
	}

	/**
	 * Closes every listener, destroys every client and upstream connection at once and frees the port.
	 * Safe to call more than once, and before or during start().
	 */
	async stop(): Promise<void> {
		this.stopped = true;
		const closing = this.listeners.map(closeServer);
		this.listeners.length = 0;
		for (const socket of this.sockets) { socket.destroy(); }
		this.sockets.clear();
		this.upstream?.destroy();
		this.http1?.dispose();
		this.http2?.dispose();
		this.sniffer?.dispose();
		this.plain?.dispose();
		await Promise.all(closing);
	}

	private async bind(): Promise<ProxyAddress> {
		const requested = this.options.port ?? DEFAULT_PORT;
		const explicitHosts = this.options.host !== undefined;
		const hosts = typeof this.options.host === 'string' ? [this.options.host] : [...(this.options.host ?? DEFAULT_HOSTS)];
		if (hosts.length === 0) { throw new Error('The proxy needs at least one address to listen on.'); }
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.bindAll(hosts, requested, explicitHosts);
			} catch (error) {
				await this.unbind();
				const retry = requested === 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < PORT_ZERO_ATTEMPTS;
				if (!retry || this.stopped) { throw error; }
			}
		}
	}

	/**
	 * Plain TCP listeners, one per host, whose connections go through the sniffer to the one TLS server
	 * (or the plain-HTTP answerer), so all addresses share one TLS configuration, session cache and
	 * lifecycle. The first host picks the port when port 0 is asked for.
	 */
	private async bindAll(hosts: readonly string[], requested: number, explicitHosts: boolean): Promise<ProxyAddress> {
		const accept = this.accept!;
		let port = requested;
		const bound: string[] = [];
		for (const [index, host] of hosts.entries()) {
			const listener = net.createServer({ noDelay: true }, accept);
			try {
				await listen(listener, port, host);
			} catch (error) {
				if (index > 0 && !explicitHosts && isAddressUnavailable(error as NodeJS.ErrnoException)) {
					this.logger.debug(`[proxy] Not listening on ${host}: ${(error as Error).message}`);
					continue;
				}
				throw explainListenError(error as NodeJS.ErrnoException, host, port);
			}
			if (index === 0) { port = (listener.address() as net.AddressInfo).port; }
			logServerErrors(listener, this.logger, `listener on ${host}`);
			this.listeners.push(listener);
			bound.push(host);
		}
		const urls = bound.map((host) => httpsUrl(host, port));
		if (bound.some(isLoopbackHost)) { urls.unshift(httpsUrl('localhost', port)); }
		this.logger.info(`[proxy] Listening on ${bound.map((host) => httpsUrl(host, port)).join(', ')} -> ${upstreamEndpoint(this.target).display}`);
		return { port, urls };
	}

	private async unbind(): Promise<void> {
		const listeners = this.listeners.splice(0);
		await Promise.all(listeners.map(closeServer));
	}

	private onTlsClientError(error: Error, socket: TLSSocket, capture: ProxyCapture | undefined): void {
		const reason = describeTlsError(error);
		if (error.name === 'CertError') {
			this.logger.warn(`[proxy] Refused a TLS connection: ${reason}`);
		} else {
			this.logger.debug(`[proxy] TLS handshake failed (${socket.remoteAddress ?? 'unknown client'}): ${reason}`);
		}
		capture?.handshakeFailed(error, socket);
	}
}

/** HTTP/2 session idle: stop taking new streams and close once the open ones (e.g. SSE) finish. */
function closeIdleSession(this: http2.ServerHttp2Session): void {
	this.close();
}

/** Raw header pairs from a headers object, for runtimes whose 'stream' event lacks raw headers. */
function flatten(headers: IncomingHttpHeaders): string[] {
	const raw: string[] = [];
	for (const name in headers) {
		const value = headers[name];
		if (Array.isArray(value)) {
			for (const item of value) { raw.push(name, item); }
		} else if (value !== undefined) {
			raw.push(name, value);
		}
	}
	return raw;
}
