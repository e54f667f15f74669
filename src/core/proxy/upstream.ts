import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { Logger } from '../logger';
import type { UpstreamEndpoint } from './target';
import { ReadPool } from './readPool';
import { UpstreamConnection, type ConnectionOwner, type UpstreamSink } from './upstreamConnection';

/**
 * Idle time after which a kept-alive upstream connection is closed. Long, so that steady traffic never
 * reconnects; closed earlier when the dev server announces a shorter `Keep-Alive: timeout=N`, which
 * avoids reusing a socket the server is about to close.
 */
const UPSTREAM_IDLE_MS = 60_000;

/** How often idle sockets are checked against their idle limit (while any are pooled). */
const SWEEP_INTERVAL_MS = 1_000;

/** Error code of a connect attempt that took longer than connectTimeoutMs. */
export const CONNECT_TIMEOUT_CODE = 'UPSTREAM_CONNECT_TIMEOUT';

export interface UpstreamOptions {
	readonly endpoint: UpstreamEndpoint;
	/** PEM of our CA, trusted for https targets besides the system roots. */
	readonly caPem: string;
	readonly verifyTls: boolean;
	readonly connectTimeoutMs: number;
	readonly logger: Logger;
}

/**
 * The connection pool to the dev server and its health. Requests go out as HTTP/1.1 over keep-alive
 * sockets that {@link UpstreamConnection} drives directly (the most recently used idle socket first,
 * so that a steady load keeps few sockets warm); each new socket must connect (and for https targets
 * finish its handshake) within the connect timeout. Idle sockets are closed after a minute, or sooner
 * when the server announced a shorter keep-alive timeout. Health changes are logged once per change.
 */
export class Upstream implements ConnectionOwner {
	private readonly idle: UpstreamConnection[] = [];
	private readonly active = new Set<UpstreamConnection>();
	private readonly roots: string[] | undefined;
	private readonly secureContext: tls.SecureContext | undefined;
	/** Read buffers of plain-HTTP upstream sockets (TLS sockets cannot read into our buffers). */
	private readonly reads = new ReadPool();
	private sweepTimer: NodeJS.Timeout | undefined;
	private down = false;
	private destroyed = false;

	constructor(private readonly options: UpstreamOptions) {
		if (options.endpoint.tls) {
			// One context for all connections: parsing ~150 root certificates per connect would cost more than the handshake.
			this.roots = trustedRoots(options.caPem);
			this.secureContext = tls.createSecureContext({ ca: this.roots });
		}
	}

	/**
	 * Gives `sink` a connection for one exchange: a pooled one (`upstreamConnected(true)` at once) or a
	 * new one (`upstreamConnected(false)` when it is ready). Write the request to it right away: a new
	 * socket buffers writes until it is connected.
	 */
	acquire(sink: UpstreamSink, method: string): UpstreamConnection {
		let connection: UpstreamConnection | undefined;
		while ((connection = this.idle.pop()) !== undefined) {
			if (connection.usable) { break; }
			connection.close();
		}
		if (connection !== undefined) {
			connection.begin(sink, method, true);
			this.active.add(connection);
			sink.upstreamConnected(true);
			return connection;
		}
		connection = this.connect();
		connection.begin(sink, method, false);
		return connection;
	}

	/** The exchange on `connection` is over and the socket can carry another. */
	release(connection: UpstreamConnection): void {
		this.active.delete(connection);
		if (this.destroyed) {
			connection.close();
			return;
		}
		connection.idleSince = performance.now();
		this.idle.push(connection);
		if (this.sweepTimer === undefined) {
			this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
			this.sweepTimer.unref();
		}
	}

	/** The socket closed: drop it wherever it is. */
	forget(connection: UpstreamConnection): void {
		this.active.delete(connection);
		const index = this.idle.indexOf(connection);
		if (index >= 0) { this.idle.splice(index, 1); }
	}

	/**
	 * A pooled socket failed before any response: the dev server probably restarted, so every other
	 * idle socket is stale too. Closing them makes the retry (and the requests after it) connect anew.
	 */
	dropIdle(): void {
		for (const connection of this.idle.splice(0)) { connection.close(); }
	}

	/** Starts an upgrade request (WebSocket handshake) on a connection of its own, through Node's client. */
	upgradeRequest(method: string, path: string, headers: string[]): http.ClientRequest {
		const { endpoint, connectTimeoutMs } = this.options;
		const options: https.RequestOptions = { agent: false, host: endpoint.host, port: endpoint.port, method, path, headers, setHost: false };
		let request: http.ClientRequest;
		if (endpoint.tls) {
			options.ca = this.roots;
			options.rejectUnauthorized = this.options.verifyTls;
			options.servername = isIP(endpoint.host) === 0 ? endpoint.host : undefined;
			request = https.request(options);
			request.once('socket', (socket: Socket) => armConnectTimeout(socket, connectTimeoutMs, 'secureConnect'));
		} else {
			request = http.request(options);
			request.once('socket', (socket: Socket) => armConnectTimeout(socket, connectTimeoutMs, 'connect'));
		}
		return request;
	}

	/** A response arrived: log the recovery if the dev server was down. */
	reachable(): void {
		if (this.down) {
			this.down = false;
			this.options.logger.info(`[proxy] ${this.options.endpoint.display} answers again.`);
		}
	}

	/**
	 * A request failed before any response: log the first failure of a run. A response that could not
	 * be parsed is no failure to reach the dev server (it answered): that is logged as what it is, each time.
	 */
	failed(error: NodeJS.ErrnoException): void {
		if (error.code?.startsWith('HPE_')) {
			this.reachable();
			this.options.logger.warn(`[proxy] ${this.options.endpoint.display} answered with a response that is not valid HTTP/1.1: ${error.message} (${error.code}). The client gets a 502 page instead.`);
			return;
		}
		if (!this.down) {
			this.down = true;
			this.options.logger.warn(`[proxy] Cannot reach ${this.options.endpoint.display}: ${error.message}${error.code ? ` (${error.code})` : ''}. Clients get a 502 page until it answers.`);
		}
	}

	/** Closes every pooled and active upstream connection. */
	destroy(): void {
		this.destroyed = true;
		if (this.sweepTimer !== undefined) { clearInterval(this.sweepTimer); }
		this.sweepTimer = undefined;
		this.dropIdle();
		for (const connection of [...this.active]) { connection.abort(); }
		this.active.clear();
	}

	private connect(): UpstreamConnection {
		const { endpoint, connectTimeoutMs } = this.options;
		let socket: Socket;
		let readyEvent: 'connect' | 'secureConnect';
		// net.connect() asks for the first read buffer itself, before the connection object exists.
		let created: UpstreamConnection | undefined;
		if (endpoint.tls) {
			socket = tls.connect({
				host: endpoint.host,
				port: endpoint.port,
				servername: isIP(endpoint.host) === 0 ? endpoint.host : undefined,
				secureContext: this.secureContext,
				rejectUnauthorized: this.options.verifyTls,
				ALPNProtocols: ['http/1.1'],
			});
			readyEvent = 'secureConnect';
		} else {
			socket = net.connect({
				host: endpoint.host,
				port: endpoint.port,
				// Backpressure pauses the socket itself (pause() stops reading), so the callback always says go on.
				onread: { buffer: () => this.reads.next(created?.lastReadFilled === true), callback: (nread, buffer) => created!.onRead(nread, buffer as Buffer) },
			});
			readyEvent = 'connect';
		}
		socket.setNoDelay(true);
		const connection = created = new UpstreamConnection(socket, this, UPSTREAM_IDLE_MS, !endpoint.tls);
		this.active.add(connection);
		armConnectTimeout(socket, connectTimeoutMs, readyEvent);
		socket.once(readyEvent, () => connection.sink?.upstreamConnected(false));
		return connection;
	}

	/** Closes sockets that sat in the pool longer than their idle limit. */
	private sweep(): void {
		const now = performance.now();
		for (let i = this.idle.length - 1; i >= 0; i--) {
			const connection = this.idle[i];
			if (now - connection.idleSince >= connection.idleLimitMs) {
				this.idle.splice(i, 1);
				connection.close();
			}
		}
		if (this.idle.length === 0 && this.sweepTimer !== undefined) {
			clearInterval(this.sweepTimer);
			this.sweepTimer = undefined;
		}
	}
}

/** System roots (where the runtime exposes them), Node's bundled roots, and our CA. */
function trustedRoots(caPem: string): string[] {
	const roots = new Set<string>(tls.rootCertificates);
	// tls.getCACertificates('system') exists from Node 22.15 (VS Code's Electron has it); Node 20 has
	// only the bundled Mozilla roots (plus NODE_EXTRA_CA_CERTS, which we cannot read back).
	const getCaCertificates = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
	if (typeof getCaCertificates === 'function') {
		for (const type of ['system', 'extra']) {
			try {
				for (const pem of getCaCertificates(type)) { roots.add(pem); }
			} catch {
				// an older runtime that knows only some types
			}
		}
	}
	roots.add(caPem);
	return [...roots];
}

/**
 * Bounds the time a new upstream socket may take to become usable. Node's own `timeout` option would
 * bound idle time during the whole request instead, and cut off quiet server-sent event streams.
 */
function armConnectTimeout(socket: Duplex, ms: number, readyEvent: 'connect' | 'secureConnect'): void {
	if (ms <= 0) { return; }
	const timer = setTimeout(() => {
		const error: NodeJS.ErrnoException = new Error(`connect timed out after ${ms} ms`);
		error.code = CONNECT_TIMEOUT_CODE;
		socket.destroy(error);
	}, ms);
	timer.unref();
	const clear = (): void => clearTimeout(timer);
	socket.once(readyEvent, clear);
	socket.once('close', clear);
}

