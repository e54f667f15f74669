import { CaptureStore } from './capture/captureStore';
import { CertError, LeafIssuer, openCa, parseHostName, type StoredCa } from './certs';
import { silentLogger, type Logger } from './logger';
import { ProxyServer, type ProxyOptions } from './proxy';

/** Everything needed to put HTTPS in front of a dev server; what the CLI flags and VS Code settings map to. */
export interface ProxySessionOptions extends Pick<ProxyOptions, 'target' | 'port' | 'host' | 'keepHsts' | 'rewriteHost' | 'rewriteRedirects' | 'upstreamTlsVerify' | 'connectTimeoutMs'> {
	/** CA directory (mkcert CAROOT layout). */
	readonly caDir: string;
	/** Create the CA when the directory has none (false for an existing mkcert CAROOT). Default true. */
	readonly createCa?: boolean;
	/** Extra names to permit when the CA is created (e.g. `myapp.internal`). */
	readonly extraNames?: readonly string[];
	/** Capture traffic (default true), with per-body cap and total budget in bytes. */
	readonly capture?: boolean;
	readonly bodyLimit?: number;
	readonly budgetBytes?: number;
	readonly logger?: Logger;
}

/**
 * One running proxy with its CA, certificate issuer and (optional) capture store, started and stopped
 * as a unit. The CLI and the VS Code extension both run the engine through this.
 */
export class ProxySession {
	private constructor(
		readonly ca: StoredCa,
		readonly proxy: ProxyServer,
		readonly store: CaptureStore | undefined,
		/** Port the proxy listens on (the real one when 0 was asked for). */
		readonly port: number,
		/** URLs that reach it: `https://localhost:PORT` first when a loopback is bound, then one per bound address. */
		readonly urls: readonly string[] = [],
	) { }

	/** The URL to open: `https://localhost:PORT`. */
	get url(): string {
		return `https://localhost:${this.port}`;
	}

	/** Opens (or creates) the CA, then starts listening; resolves when the proxy accepts connections. */
	static async start(options: ProxySessionOptions): Promise<ProxySession> {
		const logger = options.logger ?? silentLogger;
		const ca = await openCa(options.caDir, { create: options.createCa ?? true, extraPermitted: options.extraNames ?? [] });
		if (ca.created) {
			logger.info(`Created a new CA in ${ca.dir} (SHA-256 ${ca.ca.fingerprint256}); trust it to avoid browser warnings.`);
		}
		for (const name of options.extraNames ?? []) {
			try {
				ca.ca.checkName(parseHostName(name));
			} catch (error) {
				// The CA was created before this name was configured: say so now, not at the first handshake.
				if (error instanceof CertError) { logger.warn(error.message); } else { throw error; }
			}
		}
		const issuer = new LeafIssuer(ca.ca, {
			onIssued: (issued, ms) => logger.info(`Issued certificate for ${issued.names.join(', ')} (valid until ${issued.notAfter.toISOString()}, ${ms.toFixed(1)} ms)`),
		});
		const store = options.capture === false ? undefined : new CaptureStore({ bodyLimit: options.bodyLimit, budgetBytes: options.budgetBytes, logger });
		const proxy = new ProxyServer({
			target: options.target,
			issuer,
			ca: ca.ca,
			port: options.port,
			host: options.host,
			keepHsts: options.keepHsts,
			rewriteHost: options.rewriteHost,
			rewriteRedirects: options.rewriteRedirects,
			upstreamTlsVerify: options.upstreamTlsVerify,
			connectTimeoutMs: options.connectTimeoutMs,
			capture: store,
			captureBodyLimit: options.bodyLimit,
			logger,
		});
		try {
			const { port, urls } = await proxy.start();
			return new ProxySession(ca, proxy, store, port, urls);
		} catch (error) {
			store?.dispose();
			throw error;
		}
	}

	/**
	 * Stops listening, closes every connection and releases the capture store, unless `keepCapture`:
	 * then the store (its exchanges all finished) passes to the caller, who disposes it.
	 */
	async stop(keepCapture = false): Promise<void> {
		try {
			await this.proxy.stop();
		} finally {
			if (!keepCapture) this.store?.dispose();
		}
	}
}
