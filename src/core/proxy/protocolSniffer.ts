import type { Socket } from 'node:net';
import { destroyOnError } from './listeners';

/**
 * The first byte of every ClientHello: a TLS record of content type handshake (22, RFC 8446 §5.1).
 * No HTTP/1.x request can start with it (a method is a token; only empty lines may come before it).
 */
const TLS_HANDSHAKE = 0x16;

/**
 * Tells TLS from plaintext on a new connection to the HTTPS port by its first byte, so that a plain
 * `http://localhost:PORT/…` request can be answered instead of failing as a broken handshake with an
 * empty response. A TLS client's first chunk is put back (`unshift`) before the socket goes to the TLS
 * server: Node's TLSSocket feeds what a wrapped socket has buffered to OpenSSL before reading on
 * (`initRead` in `_tls_wrap.js`), and from there TLSWrap reads the socket in C++ as it always did. So
 * a TLS connection pays one JavaScript read of its first chunk and a handful of property writes; no
 * per-connection closures or timers.
 */
export class ProtocolSniffer {
	/** Connections that have not sent a byte yet, with their arrival time. */
	private readonly waiting = new Map<Socket, number>();
	private readonly timer: NodeJS.Timeout;
	/** The first-'data' handler, made once: it finds everything it needs through `this` and this closure. */
	private readonly onFirstData: (this: Socket, chunk: Buffer) => void;

	/**
	 * @param tls receives sockets whose first byte starts a TLS record, with that byte and the rest of
	 *   the chunk buffered (unread) on the socket
	 * @param plain receives every other socket with its first chunk (already read)
	 * @param firstByteMs how long a connection may stay silent; the TLS handshake timeout, which used to
	 *   run from the connection's arrival and now runs from its first byte
	 */
	constructor(tls: (socket: Socket) => void, plain: (socket: Socket, first: Buffer) => void, private readonly firstByteMs: number) {
		const waiting = this.waiting;
		const onFirstData = this.onFirstData = function (this: Socket, chunk: Buffer): void {
			this.removeListener('data', onFirstData);
			waiting.delete(this);
			if (chunk[0] === TLS_HANDSHAKE) {
				// Paused first: a flowing stream would emit the unshifted chunk again, to no listener.
				this.pause();
				this.unshift(chunk);
				tls(this);
			} else {
				plain(this, chunk);
			}
		};
		// A few checks per timeout, so a silent connection is closed at most about a quarter late.
		this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, firstByteMs / 4)));
		this.timer.unref();
	}

	/** Takes a freshly accepted connection and waits for its first bytes. */
	accept(socket: Socket): void {
		// Until TLSSocket (or the plaintext handler) owns the socket, an early reset must not throw.
		socket.on('error', destroyOnError);
		socket.on('data', this.onFirstData);
		this.waiting.set(socket, performance.now());
	}

	/** Stops the timeout checks (the sockets themselves are closed by their owner). */
	dispose(): void {
		clearInterval(this.timer);
		this.waiting.clear();
	}

	/** Forgets closed connections and closes those silent for longer than the timeout. */
	private sweep(): void {
		const now = performance.now();
		for (const [socket, since] of this.waiting) {
			if (socket.destroyed) {
				this.waiting.delete(socket);
			} else if (now - since > this.firstByteMs) {
				this.waiting.delete(socket);
				socket.destroy();
			}
		}
	}
}
