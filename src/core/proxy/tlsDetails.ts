import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IssuedCertificate, LeafIssuer } from '../certs';
import type { TlsFailureInit } from '../capture/types';
import type { ServedCertificateInfo, TlsDetails } from '../../shared/exchange';

/** Monotonic arrival time of a raw connection (set only while capturing). */
const kArrived = Symbol('tlsLens.arrived');
/** The TlsDetails of an established TLS connection (set only while capturing). */
const kDetails = Symbol('tlsLens.tlsDetails');
/**
 * The client's address, taken when the connection arrives (set only while capturing): a handshake that
 * fails because the client hung up is reported after the socket closed, when Node no longer knows it.
 */
const kClient = Symbol('tlsLens.client');

type Marked = { [kArrived]?: number; [kDetails]?: Mutable<TlsDetails>; [kClient]?: string };
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** `ip:port`, or `[ip]:port` for IPv6, as the capture model names clients. */
export function clientAddress(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string {
	const ip = socket.remoteAddress ?? 'unknown';
	return ip.includes(':') ? `[${ip}]:${socket.remotePort}` : `${ip}:${socket.remotePort}`;
}

/**
 * Collects what capture shows about each TLS connection: version, cipher, ALPN, SNI, resumption,
 * handshake time and the certificate served. Used only while capturing: with capture off the proxy
 * never calls it. Certificate descriptions are parsed once per issued leaf, not per connection.
 */
export class TlsDetailsCollector {
	private readonly certificates = new WeakMap<IssuedCertificate, ServedCertificateInfo>();
	private nextConnectionId = 1;

	constructor(private readonly issuer: LeafIssuer) { }

	/** A raw TCP connection arrived: start the handshake clock. */
	connection(socket: Socket): void {
		(socket as Marked)[kArrived] = performance.now();
		(socket as Marked)[kClient] = clientAddress(socket);
	}

	/** The handshake finished: record the session's parameters on the socket. */
	secureConnection(socket: TLSSocket): void {
		// See failure(): a destroyed socket's getters read freed OpenSSL state. Not expected here, where the
		// handshake has just completed, but a crash is too high a price for an assumption.
		if (socket.destroyed) return;
		const arrived = arrivalOf(socket);
		const sni = socket.servername || undefined;
		const details: Mutable<TlsDetails> = {
			protocol: socket.getProtocol() ?? undefined,
			cipher: socket.getCipher()?.standardName,
			alpn: socket.alpnProtocol || undefined,
			sni,
			resumed: socket.isSessionReused(),
			handshakeMs: arrived === undefined ? undefined : performance.now() - arrived,
			connectionId: this.nextConnectionId++,
		};
		(socket as Marked)[kDetails] = details;
		// The issuer's cache already holds this leaf (the handshake used it), so this settles at once.
		this.issuer.certificateFor(sni).then((served) => { details.certificate = this.describe(served.issued); }, () => { });
	}

	/**
	 * TLS details of the connection a request came in on. `socket` may be an HTTP/2 session's socket
	 * proxy: it forwards property reads to the TLS socket.
	 */
	detailsOf(socket: object): TlsDetails {
		return (socket as Marked)[kDetails] ?? {};
	}

	/**
	 * The capture record of a failed handshake, or undefined when the client closed before sending a
	 * byte (port probes, browser preconnects): those are not TLS failures worth a record.
	 */
	failure(error: Error, socket: TLSSocket): TlsFailureInit | undefined {
		const raw = rawSocketOf(socket);
		if (raw !== undefined && raw.bytesRead === 0) { return undefined; }
		const arrived = arrivalOf(socket);
		return {
			client: (raw as Marked | undefined)?.[kClient] ?? clientAddress(raw ?? socket),
			tls: {
				sni: socket.servername || undefined,
				// Node frees the connection's OpenSSL state while destroying the socket but keeps its handle,
				// whose getProtocol() then dereferences nothing: a segfault that would take down the whole
				// extension host (seen when stop() cut handshakes short). A destroyed socket has no version to tell.
				protocol: socket.destroyed ? undefined : socket.getProtocol?.() ?? undefined,
				handshakeMs: arrived === undefined ? undefined : performance.now() - arrived,
				connectionId: this.nextConnectionId++,
			},
			error: describeTlsError(error),
			startMonotonic: performance.now(),
		};
	}

	private describe(issued: IssuedCertificate): ServedCertificateInfo {
		let info = this.certificates.get(issued);
		if (info === undefined) {
			const cert = new X509Certificate(issued.certPem);
			info = {
				subject: cert.subject.split('\n').join(', '),
				issuer: cert.issuer.split('\n').join(', '),
				subjectAltNames: cert.subjectAltName ? cert.subjectAltName.split(', ') : [],
				validFrom: new Date(cert.validFrom).toISOString(),
				validTo: new Date(cert.validTo).toISOString(),
				fingerprint256: cert.fingerprint256,
			};
			this.certificates.set(issued, info);
		}
		return info;
	}
}

/**
 * The raw TCP socket under a server-side TLS socket. Node keeps it as `_parent` (not public API), so
 * this degrades to undefined (no handshake time) rather than failing if that ever changes.
 */
function rawSocketOf(socket: TLSSocket): Socket | undefined {
	const parent = (socket as unknown as { _parent?: unknown })._parent;
	return parent !== null && typeof parent === 'object' && 'bytesRead' in parent ? parent as Socket : undefined;
}

function arrivalOf(socket: TLSSocket): number | undefined {
	const raw = rawSocketOf(socket);
	return raw === undefined ? undefined : (raw as Marked)[kArrived];
}

/** A handshake error in words: the client's alert, our refusal (CertError) or what else happened. */
export function describeTlsError(error: Error): string {
	const code = (error as NodeJS.ErrnoException).code;
	if (error.name === 'CertError') { return error.message; }
	// OpenSSL names the alert in the code (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA) and the message ("…:tlsv1
	// alert unknown ca:…:SSL alert number 48").
	const fromCode = code === undefined ? undefined : /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code)?.[1].replace(/_/g, ' ').toLowerCase();
	const alert = fromCode ?? /alert ([a-z ]+?)(?::|$)/i.exec(error.message)?.[1];
	if (alert !== undefined) {
		const distrust = /unknown ca|certificate unknown|bad certificate|unsupported certificate/i.test(alert)
			? ' (the client does not trust the TLS Lens CA: install it in the client\'s trust store)' : '';
		return `TLS alert from client: ${alert}${distrust}`;
	}
	if (code === 'ECONNRESET') { return 'The client closed the connection during the TLS handshake'; }
	if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') { return 'The TLS handshake timed out'; }
	if (/wrong version number|http request|unknown protocol|packet length too long|record layer failure/i.test(error.message)) {
		return `Not a TLS handshake (plain HTTP sent to the HTTPS port?): ${error.message}`;
	}
	return code ? `${error.message} (${code})` : error.message;
}
