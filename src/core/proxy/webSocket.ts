import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ExchangeRecorder } from '../capture/types';
import { WebSocketFrameParser, type ParsedWebSocketMessage } from './wsFrameParser';
import type { ProxyContext } from './context';
import { describeUpstreamError, errorPageHead, renderErrorPage } from './errorPage';
import { headerValue, http1RequestHeaders, http1ResponseHeaders, ownResponseHead, responseHeadText } from './headers';
import type { RequestHead } from './http1Parser';
import { destroyOnError } from './listeners';
import { RecordedExchange } from './recordedExchange';
import { clientAddress } from './tlsDetails';

/** A bare answer longer than this is no refusal but a server speaking something else: the 502 says so. */
export const MAX_BARE_ANSWER = 1024;
const HTTP_PREFIX = Buffer.from('HTTP/');

/**
 * Proxies an HTTP/1.1 upgrade (the server's 'upgrade' event). WebSocket handshakes go to the dev
 * server with their Sec-WebSocket-* headers (subprotocol such as `vite-hmr`, extensions such as
 * permessage-deflate) untouched; the 101 comes back minus hop-by-hop headers other than
 * Connection/Upgrade; then bytes are piped both ways unchanged. With capture on, two passive frame
 * parsers read copies of the bytes. Upgrades are rare next to requests, so closures are fine here.
 */
export function forwardUpgrade(proxy: ProxyContext, request: RequestHead, socket: Socket, head: Buffer, connectionReused: boolean): void {
	// Destroying the socket is what ends the rest: its 'close' cancels the upgrade request, or (once
	// upgraded) ends the dev server's socket.
	socket.on('error', destroyOnError);
	// The request handed over the socket paused or not; from here on it is piped.
	socket.resume();
	const upgrade = headerValue(request.rawHeaders, 'upgrade');
	if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
		const body = Buffer.from(`TLS Lens forwards WebSocket upgrades only, not "${upgrade ?? ''}".\n`);
		writeRaw(socket, ownResponseHead(501, 'Not Implemented', 'text/plain; charset=utf-8', body.length, 'Cache-Control: no-store\r\nConnection: close\r\n'), body);
		return;
	}
	new WebSocketExchange(proxy, request, socket, upgrade, connectionReused).start(head);
}

/**
 * One WebSocket upgrade, through Node's HTTP client (the pooled upstream connections carry requests,
 * never upgrades). Its outcome is settled once, by whichever comes first: the client leaving, the dev
 * server failing, refusing (any answer but 101) or upgrading; capture ends once (RecordedExchange).
 */
class WebSocketExchange extends RecordedExchange {
	private readonly forwarded: ReturnType<typeof http1RequestHeaders>;
	/** The upgrade's outcome is decided: later events of the upgrade request are moot. */
	private settled = false;

	constructor(proxy: ProxyContext, private readonly request: RequestHead, private readonly socket: Socket, upgrade: string, connectionReused: boolean) {
		super(proxy);
		this.forwarded = http1RequestHeaders(request.rawHeaders, {
			clientIp: socket.remoteAddress ?? '',
			rewriteHost: proxy.rewriteHost,
			fallbackHost: proxy.endpoint.authority,
			upgrade,
		});
		const capture = proxy.capture;
		if (capture !== undefined) {
			this.recorder = capture.begin({
				kind: 'websocket',
				client: clientAddress(socket),
				tls: capture.tlsDetails.detailsOf(socket),
				connectionReused,
				request: { method: request.method, path: request.target, authority: this.forwarded.host ?? '', httpVersion: request.httpVersion, rawHeaders: request.rawHeaders },
				startMonotonic: performance.now(),
			});
		}
	}

	/** Sends the upgrade request; `head` holds the client's bytes that came after its request head. */
	start(head: Buffer): void {
		const { proxy, request, socket } = this;
		const upstreamRequest = proxy.upstream.upgradeRequest(request.method, request.target, this.forwarded.headers);
		const onClientGone = (): void => {
			if (this.settle()) {
				upstreamRequest.destroy();
				this.end('closed-by-client');
			}
		};
		socket.once('close', onClientGone);
		upstreamRequest.on('error', (error: NodeJS.ErrnoException & { rawPacket?: unknown }) => {
			if (this.settle()) { this.upstreamFailed(error); }
		});
		upstreamRequest.on('response', (response: IncomingMessage) => {
			response.on('error', destroyOnError);
			proxy.upstream.reachable();
			if (this.settle()) {
				this.refused(response);
			} else {
				response.destroy();
			}
		});
		upstreamRequest.on('upgrade', (response: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
			proxy.upstream.reachable();
			upstreamSocket.on('error', destroyOnError);
			if (socket.destroyed || !this.settle()) {
				upstreamSocket.destroy();
				return;
			}
			socket.removeListener('close', onClientGone);
			this.upgraded(response, upstreamSocket, head, upstreamHead);
		});
		upstreamRequest.end();
	}

	/** True for the first outcome only. */
	private settle(): boolean {
		if (this.settled) { return false; }
		this.settled = true;
		return true;
	}

	private upstreamFailed(error: NodeJS.ErrnoException & { rawPacket?: unknown }): void {
		const { proxy, request, socket } = this;
		// A few bytes that are no HTTP at all, then a close (Next.js refuses a cross-origin HMR socket with
		// a bare `Unauthorized`): the dev server's own answer, which the client gets as it came, as it
		// would without the proxy, instead of a 502 that says the server cannot be reached.
		// A malformed HTTP response is not passed on (two parsers could disagree about it): the 502 below.
		const raw = error.code?.startsWith('HPE_') && Buffer.isBuffer(error.rawPacket) && error.rawPacket.length <= MAX_BARE_ANSWER
			&& !error.rawPacket.subarray(0, 5).equals(HTTP_PREFIX) ? error.rawPacket : undefined;
		if (raw !== undefined && raw.length > 0) {
			proxy.upstream.reachable();
			const text = JSON.stringify(raw.toString('latin1').slice(0, 80));
			proxy.logger.info(`[proxy] ${proxy.endpoint.display} refused the WebSocket upgrade of ${request.target.slice(0, 200)}: it answered ${text}, with no HTTP status line, and closed; the client gets that as it is.`);
			this.recorder?.responseBody(raw);
			this.end('upstream-error', `${proxy.endpoint.display} answered the WebSocket upgrade with ${text} (no HTTP status line) and closed the connection.`);
			socket.end(raw);
			return;
		}
		proxy.upstream.failed(error);
		const failure = describeUpstreamError(error, proxy.endpoint.display, proxy.connectTimeoutMs);
		const page = renderErrorPage(failure, proxy.endpoint.display, headerValue(request.rawHeaders, 'accept'));
		writeRaw(socket, errorPageHead(page, 'Connection: close\r\n'), page.body);
		this.end('upstream-error', failure.reason);
	}

	/**
	 * The dev server declined the upgrade (401, 403, 404…): its answer goes to the client as it came
	 * (minus hop-by-hop headers, body and all), then the connection closes.
	 */
	private refused(response: IncomingMessage): void {
		const { proxy, socket, recorder } = this;
		const status = response.statusCode!;
		const message = response.statusMessage ?? '';
		proxy.logger.info(`[proxy] ${proxy.endpoint.display} refused the WebSocket upgrade of ${this.request.target.slice(0, 200)}: it answered ${status}${message ? ` ${message}` : ''} (not 101 Switching Protocols), which the client gets as it is.`);
		recorder?.response(status, message, response.rawHeaders);
		const headers = http1ResponseHeaders(response.rawHeaders, proxy.keepHsts, this.forwarded.host);
		socket.write(responseHeadText(status, message, headers, 'Connection: close\r\n'));
		if (recorder !== undefined) { response.on('data', (chunk: Buffer) => recorder.responseBody(chunk)); }
		response.pipe(socket);
		let clientGone = false;
		socket.once('close', () => {
			clientGone = !response.complete;
			response.destroy();
		});
		response.once('close', () => {
			if (response.complete) {
				this.end('completed');
			} else if (clientGone) {
				this.end('closed-by-client');
			} else {
				// Cut short: the pipe never ends the client's socket then, and a body shorter than its
				// length can only be told by closing.
				socket.destroy();
				this.end('upstream-error', `${proxy.endpoint.display} closed the connection in the middle of its answer to the WebSocket upgrade.`);
			}
		});
	}

	/** 101: the client gets the dev server's head, then bytes flow both ways until either side closes. */
	private upgraded(response: IncomingMessage, upstreamSocket: Socket, head: Buffer, upstreamHead: Buffer): void {
		const { proxy, socket, recorder } = this;
		proxy.track(upstreamSocket);
		recorder?.response(response.statusCode!, response.statusMessage ?? '', response.rawHeaders);
		const headers = http1ResponseHeaders(response.rawHeaders, proxy.keepHsts, this.forwarded.host, true);
		socket.write(responseHeadText(response.statusCode!, response.statusMessage ?? '', headers, ''));
		const capture = proxy.capture;
		if (recorder !== undefined && capture !== undefined) { tap(socket, upstreamSocket, head, upstreamHead, capture.bodyLimit, recorder); }
		if (upstreamHead.length > 0) { socket.write(upstreamHead); }
		if (head.length > 0) { upstreamSocket.write(head); }
		upstreamSocket.setNoDelay(true);
		socket.pipe(upstreamSocket);
		upstreamSocket.pipe(socket);
		// Either side going away ends the other once its pending bytes are written.
		socket.once('close', () => upstreamSocket.destroySoon());
		upstreamSocket.once('close', () => endSoon(socket));
		socket.once('error', () => upstreamSocket.destroy());
		upstreamSocket.once('error', () => socket.destroy());
		if (recorder !== undefined) {
			let open = 2;
			const closed = (): void => {
				if (--open === 0) { this.end('completed'); }
			};
			socket.once('close', closed);
			upstreamSocket.once('close', closed);
		}
	}
}

/** Feeds copies of both directions' bytes to frame parsers; what passes is not touched. */
function tap(client: Duplex, upstream: Duplex, clientHead: Buffer, upstreamHead: Buffer, limit: number, recorder: ExchangeRecorder): void {
	const fromClient = new WebSocketFrameParser(limit, (message: ParsedWebSocketMessage) => recorder.webSocketMessage({ direction: 'client', ...message }));
	const fromServer = new WebSocketFrameParser(limit, (message: ParsedWebSocketMessage) => recorder.webSocketMessage({ direction: 'server', ...message }));
	if (clientHead.length > 0) { fromClient.push(clientHead); }
	if (upstreamHead.length > 0) { fromServer.push(upstreamHead); }
	client.on('data', (chunk: Buffer) => fromClient.push(chunk));
	upstream.on('data', (chunk: Buffer) => fromServer.push(chunk));
}

/** Answers on a raw (upgrade) socket, where no ServerResponse exists, and closes it. */
function writeRaw(socket: Duplex, head: string, body: Buffer): void {
	if (socket.destroyed || !socket.writable) { return; }
	socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

function endSoon(socket: Duplex): void {
	const destroySoon = (socket as Partial<Socket>).destroySoon;
	if (typeof destroySoon === 'function') {
		destroySoon.call(socket);
	} else {
		socket.end();
	}
}
