import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateAuthority, IssuedCertificate } from './ca';
import { parseHostName } from './names';
import { SERVER_TLS_OPTIONS } from './tlsPolicy';

/** A leaf ready for TLS: the issued certificate and a secure context built from it. */
export interface ServedCertificate {
	readonly issued: IssuedCertificate;
	readonly context: SecureContext;
}

export interface LeafIssuerOptions {
	/** Names on the default certificate, served to clients without SNI (connecting by IP). */
	readonly defaultNames?: readonly string[];
	/** Renew a leaf when less than this much of its life is left (default: a third of 30 days). */
	readonly renewBeforeMs?: number;
	/** Most leaves kept in memory; the oldest is dropped beyond it (default 500). */
	readonly maxCached?: number;
	/** Called after each new leaf, e.g. to log it. */
	readonly onIssued?: (issued: IssuedCertificate, elapsedMs: number) => void;
	/** Clock, for tests. */
	readonly now?: () => number;
}

/** The default certificate's names: every way a browser or tool spells "this machine". */
export const DEFAULT_LEAF_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

/**
 * Issues and caches one leaf per server name, on demand, for a TLS server's SNICallback. Concurrent
 * handshakes for the same name share one issuing; leaves renew before they expire. Names outside the
 * CA's constraints fail the handshake with the CA's explanation instead of getting a certificate that
 * browsers would reject.
 */
export class LeafIssuer {
	private readonly cache = new Map<string, { promise: Promise<ServedCertificate>; renewAt: number }>();
	private readonly defaultNames: readonly string[];
	private readonly renewBeforeMs: number;
	private readonly maxCached: number;
	private readonly now: () => number;

	constructor(private readonly ca: CertificateAuthority, private readonly options: LeafIssuerOptions = {}) {
		this.defaultNames = options.defaultNames ?? DEFAULT_LEAF_NAMES;
		this.renewBeforeMs = options.renewBeforeMs ?? 10 * 24 * 60 * 60 * 1000;
		this.maxCached = options.maxCached ?? 500;
		this.now = options.now ?? Date.now;
	}

	/** The certificate for `servername`, or the default one when the client sent no (usable) SNI. */
	certificateFor(servername: string | undefined): Promise<ServedCertificate> {
		let names: readonly string[];
		let key: string;
		if (!servername || this.defaultNames.includes(servername)) {
			names = this.defaultNames;
			key = '';
		} else {
			try {
				key = parseHostName(servername).value;
			} catch (error) {
				return Promise.reject(error);
			}
			names = [key];
		}
		const cached = this.cache.get(key);
		if (cached && this.now() < cached.renewAt) { return cached.promise; }
		const promise = this.issue(names);
		const entry = { promise, renewAt: Infinity };
		this.cache.delete(key);
		this.cache.set(key, entry);
		if (this.cache.size > this.maxCached) { this.cache.delete(this.cache.keys().next().value!); }
		promise.then(
			(served) => { entry.renewAt = served.issued.notAfter.getTime() - this.renewBeforeMs; },
			() => { if (this.cache.get(key) === entry) { this.cache.delete(key); } },
		);
		return promise;
	}

	/** A `tls.createServer({ SNICallback })` callback backed by `certificateFor`. */
	readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
		this.certificateFor(servername).then((served) => callback(null, served.context), (error: Error) => callback(error));
	};

	private async issue(names: readonly string[]): Promise<ServedCertificate> {
		const started = performance.now();
		const issued = await this.ca.issue(names, this.now());
		const context = createSecureContext({ ...SERVER_TLS_OPTIONS, cert: issued.certPem, key: issued.keyPem });
		this.options.onIssued?.(issued, performance.now() - started);
		return { issued, context };
	}
}
