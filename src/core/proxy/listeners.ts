import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../logger';

/** The default listen addresses: both loopbacks, so `localhost` works whichever one it resolves to. */
export const DEFAULT_HOSTS: readonly string[] = ['127.0.0.1', '::1'];

/** A listen failure a user can act on; `code` is the system error code (e.g. `EADDRINUSE`). */
export class ListenError extends Error {
	constructor(readonly code: string, message: string) {
		super(message);
		this.name = 'ListenError';
	}
}

/** Binds `server` to `port` on `host`; resolves once it is listening. */
export function listen(server: net.Server, port: number, host: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const onError = (error: Error): void => {
			server.removeListener('listening', onListening);
			reject(error);
		};
		const onListening = (): void => {
			server.removeListener('error', onError);
			resolve();
		};
		server.once('error', onError);
		server.once('listening', onListening);
		server.listen({ port, host });
	});
}

/** Closes a listening server; resolves when it has closed (never rejects). */
export function closeServer(server: net.Server): Promise<void> {
	return new Promise((resolve) => {
		if (!server.listening) {
			resolve();
			return;
		}
		server.close(() => resolve());
	});
}

/** Whether a listen error means "this machine has no such address", e.g. ::1 without IPv6. */
export function isAddressUnavailable(error: NodeJS.ErrnoException): boolean {
	return error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT' || error.code === 'EINVAL';
}

/** Turns a listen error into one that says what to do. */
export function explainListenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
	switch (error.code) {
		case 'EADDRINUSE':
			return new ListenError('EADDRINUSE', `Port ${port} on ${host} is already in use (another TLS Lens or another server). Stop that process, or choose another port (0 picks a free one).`);
		case 'EACCES': case 'EPERM':
			return new ListenError(error.code, `Not allowed to listen on port ${port} on ${host}${port < 1024 ? ' (ports below 1024 need extra privileges)' : ''}. Choose a port of 1024 or above.`);
		case 'EADDRNOTAVAIL': case 'ENOTFOUND': case 'EAI_AGAIN':
			return new ListenError(error.code, `Cannot listen on ${host}: this machine has no such address. Use 127.0.0.1, ::1 or one of its own addresses.`);
		default:
			return new ListenError(error.code ?? 'ELISTEN', `Cannot listen on ${host}:${port}: ${error.message}`);
	}
}

/** `https://host:port` with IPv6 bracketed. */
export function httpsUrl(host: string, port: number): string {
	return `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** Whether `host` is a loopback listen address. */
export function isLoopbackHost(host: string): boolean {
	return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/** Logs listener errors that happen after start (e.g. EMFILE on accept) instead of letting them throw. */
export function logServerErrors(server: net.Server, logger: Logger, what: string): void {
	server.on('error', (error: Error) => logger.error(`[proxy] ${what}: ${error.message}`));
}

/**
 * An 'error' listener that destroys the socket (or stream) it is attached to; the owner's 'close'
 * handlers then clean up. Not every error is followed by 'close': Node emits a TLS error after the
 * handshake (a broken record, the renegotiation limit) without closing the socket, so a listener that
 * swallowed errors expecting a close could leave a connection open for good.
 */
export function destroyOnError(this: Readable | Writable): void {
	this.destroy();
}
