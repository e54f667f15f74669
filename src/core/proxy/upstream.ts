import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger';
import type { UpstreamEndpoint } from './target';

/**
 * Idle time after which a kept-alive upstream connection is closed. Long, so that steady traffic never
 * reconnects; Node's agent still closes earlier when the dev server announces a shorter
 * `Keep-Alive: timeout=N`, which avoids reusing a socket the server is about to close.
 */
const UPSTREAM_IDLE_MS = 60_000;

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
 * sockets; each new socket must connect (and for https targets finish its handshake) within the
 * connect timeout. Health changes are logged once per change, not once per failed request.
 */
export class Upstream {
	readonly agent: http.Agent;
	private readonly requestFn: typeof http.request;
	private down = false;

	constructor(private readonly options: UpstreamOptions) {
		const { endpoint, connectTimeoutMs } = options;
		const agentOptions: https.AgentOptions = { keepAlive: true, timeout: UPSTREAM_IDLE_MS, maxFreeSockets: 1024, scheduling: 'lifo' };
		if (endpoint.tls) {
			agentOptions.ca = trustedRoots(options.caPem);
			agentOptions.rejectUnauthorized = options.verifyTls;
			this.agent = new TimedHttpsAgent(agentOptions, connectTimeoutMs);
			this.requestFn = https.request;
		} else {
			this.agent = new TimedHttpAgent(agentOptions, connectTimeoutMs);
			this.requestFn = http.request;
		}
	}

	/** The socket event after which a new upstream connection is usable. */
	get readyEvent(): 'connect' | 'secureConnect' {
		return this.options.endpoint.tls ? 'secureConnect' : 'connect';
	}

	/** Starts a request to the dev server; the caller ends it (or pipes a body into it). */
	request(method: string, path: string, headers: string[]): http.ClientRequest {
		const { endpoint } = this.options;
		return this.requestFn({ agent: this.agent, host: endpoint.host, port: endpoint.port, method, path, headers, setHost: false });
	}

	/** A response arrived: log the recovery if the dev server was down. */
	reachable(): void {
		if (this.down) {
			this.down = false;
			this.options.logger.info(`[proxy] ${this.options.endpoint.display} answers again.`);
		}
	}

	/** A request failed before any response: log the first failure of a run. */
	failed(error: NodeJS.ErrnoException): void {
		if (!this.down) {
			this.down = true;
			this.options.logger.warn(`[proxy] Cannot reach ${this.options.endpoint.display}: ${error.message}${error.code ? ` (${error.code})` : ''}. Clients get a 502 page until it answers.`);
		}
	}

	/** Closes every pooled and active upstream connection. */
	destroy(): void {
		this.agent.destroy();
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
function armConnectTimeout(socket: Duplex | null | undefined, ms: number, readyEvent: 'connect' | 'secureConnect'): void {
	if (!socket || ms <= 0) { return; }
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

class TimedHttpAgent extends http.Agent {
	constructor(options: http.AgentOptions, private readonly connectTimeoutMs: number) {
		super(options);
	}

	override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
		const socket = super.createConnection(options, callback);
		armConnectTimeout(socket, this.connectTimeoutMs, 'connect');
		return socket;
	}
}

class TimedHttpsAgent extends https.Agent {
	constructor(options: https.AgentOptions, private readonly connectTimeoutMs: number) {
		super(options);
	}

	override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
		const socket = super.createConnection(options, callback);
		armConnectTimeout(socket, this.connectTimeoutMs, 'secureConnect');
		return socket;
	}
}
