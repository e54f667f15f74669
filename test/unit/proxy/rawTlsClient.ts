import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { delay, type TestCa } from './helpers';

/**
 * A TLS connection to the proxy (SNI localhost, our CA) that writes raw bytes and keeps what arrives
 * for a subclass to read responses from, its own way.
 */
export class RawTlsClient {
	/** Bytes received and not consumed by a read. */
	protected buffer: Buffer = Buffer.alloc(0);
	private ended = false;
	private wake: () => void = () => { };
	readonly closed: Promise<void>;

	protected constructor(readonly socket: tls.TLSSocket) {
		socket.on('data', (chunk: Buffer) => {
			this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
			this.wake();
		});
		// 'close' follows any error; reads fail then with what had arrived.
		socket.on('error', () => { });
		this.closed = new Promise((resolve) => socket.once('close', () => {
			this.ended = true;
			this.wake();
			resolve();
		}));
	}

	/** A connected socket to `host:port` with ALPN `alpn`, for a subclass's constructor. */
	protected static open(ca: TestCa, port: number, alpn: string, host: string): Promise<tls.TLSSocket> {
		return new Promise((resolve, reject) => {
			const socket = tls.connect({ host, port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: [alpn] }, () => {
				socket.removeListener('error', reject);
				resolve(socket);
			});
			socket.once('error', reject);
		});
	}

	get isClosed(): boolean {
		return this.ended;
	}

	/** What arrived and was not read as a response. */
	get unread(): string {
		return this.buffer.toString('latin1');
	}

	/** Whether the proxy closes the connection within `ms`. */
	closesWithin(ms: number): Promise<boolean> {
		return Promise.race([this.closed.then(() => true), delay(ms).then(() => false)]);
	}

	destroy(): void {
		this.socket.destroy();
	}

	/** Waits until `check` finds what it looks for in the buffer; throws naming `what` if the connection closes first. */
	protected async until<T>(check: () => T | undefined, what: string): Promise<T> {
		for (;;) {
			const result = check();
			if (result !== undefined) { return result; }
			if (this.ended) { throw new Error(`the connection closed before ${what}; unread: ${JSON.stringify(this.unread.slice(0, 300))}`); }
			await new Promise<void>((resolve) => { this.wake = resolve; });
		}
	}
}

/** A TLS application-data record that no key decrypts: the peer's OpenSSL fails on it ("bad record mac"). */
export const BAD_RECORD = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x28]), Buffer.alloc(0x28, 0x41)]);

/**
 * A TLS socket over `raw` through a stream of our own, so that the test can stop feeding the TLS side
 * (`cut`) and write bytes on the TCP connection underneath: what the peer's TLS layer then does with
 * a broken record is seen, not what ours does with its alert.
 */
export function bridge(raw: net.Socket): { duplex: Duplex; cut(): void } {
	let feeding = true;
	const duplex = new Duplex({
		read() { },
		write(chunk: Buffer, _encoding, callback) { raw.write(chunk, callback); },
	});
	raw.on('data', (chunk: Buffer) => { if (feeding) { duplex.push(chunk); } });
	raw.on('error', () => { });
	return { duplex, cut: () => { feeding = false; } };
}
