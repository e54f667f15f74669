import type { TLSSocket } from 'node:tls';
import type { ProxyContext } from './context';
import { errorPageHead, renderErrorPage, type GatewayFailure } from './errorPage';
import { ForwardExchange, type RequestBody } from './forwardExchange';
import { headerValue, http1ResponseHeaders, responseHeadText } from './headers';
import { chunkHeader, MAX_HEAD_BYTES, type Framing, type RequestHead, type ResponseHead } from './http1Parser';

/** What an HTTP/1.x exchange needs from the client connection it answers on. */
export interface Http1Owner {
	readonly proxy: ProxyContext;
	readonly socket: TLSSocket;
	/** Header lines of a response after which the connection stays open. */
	readonly keepAliveHeaders: string;
	/** The response is complete (`keepAlive`: the connection may carry another request). */
	responseDone(keepAlive: boolean): void;
	/** The dev server can take more of the request body. */
	requestDrained(): void;
}

/** An exchange whose client speaks HTTP/1.x on a connection of ours. */
export class Http1Exchange extends ForwardExchange {
	private readonly socket: TLSSocket;
	/** The response body goes to the client in chunked framing (length unknown, HTTP/1.1 client). */
	private chunked = false;
	/** The client connection may carry another request after this one. */
	private keepAlive: boolean;
	private corked = false;
	/** Since when upstream reading is paused until the client drains; 0 while it is not. */
	waitingSince = 0;

	constructor(private readonly owner: Http1Owner, private readonly request: RequestHead, head: string, authority: string | undefined,
		body: RequestBody, keepAlive: boolean) {
		super(owner.proxy, request.method, head, authority, body);
		this.socket = owner.socket;
		this.keepAlive = keepAlive;
	}

	protected respond(head: ResponseHead, framing: Framing): void {
		const unsized = framing.kind === 'chunked' || framing.kind === 'close';
		const headers = http1ResponseHeaders(head.rawHeaders, this.proxy.keepHsts, this.authority, false, unsized, this.proxy.redirects, this);
		let extra = '';
		if (unsized) {
			if (this.request.httpVersion === '1.1') {
				this.chunked = true;
				extra = 'Transfer-Encoding: chunked\r\n';
			} else {
				// An HTTP/1.0 client learns where the body ends from the connection closing.
				this.keepAlive = false;
			}
		}
		extra += this.keepAlive ? this.owner.keepAliveHeaders : 'Connection: close\r\n';
		const text = responseHeadText(head.statusCode, head.statusMessage, headers, extra);
		if (text.length > MAX_HEAD_BYTES) {
			// What the proxy adds (Connection, Keep-Alive, a rewritten Location) took a head near the limit
			// over it: the client's parser (Node's and browsers' allow 16 KiB or little more) would refuse it.
			this.chunked = false;
			this.refuseResponse('its response head is larger than 16 KiB once TLS Lens adds Connection and Keep-Alive');
			return;
		}
		// Corked until the end of this tick: the head goes out in one TLS record with the first body bytes,
		// which usually arrive in the same read as the head.
		this.socket.cork();
		this.corked = true;
		process.nextTick(uncork, this);
		this.socket.write(text, 'latin1');
	}

	protected responseData(data: Buffer): boolean {
		const socket = this.socket;
		let ok: boolean;
		const release = this.connection?.hold();
		if (this.chunked) {
			socket.write(chunkHeader(data.length), 'latin1');
			socket.write(data, release);
			ok = socket.write('\r\n', 'latin1');
		} else {
			ok = socket.write(data, release);
		}
		if (!ok && this.waitingSince === 0) { this.waitingSince = performance.now(); }
		return ok;
	}

	protected responseEnd(): void {
		if (this.chunked) { this.socket.write('0\r\n\r\n', 'latin1'); }
		this.uncork();
		this.end('completed');
		this.owner.responseDone(this.keepAlive);
	}

	protected requestDrained(): void {
		this.owner.requestDrained();
	}

	/** The client's socket drained. */
	drained(): void {
		if (this.waitingSince !== 0) {
			this.waitingSince = 0;
			this.clientDrained();
		}
	}

	protected fail(failure: GatewayFailure): void {
		const page = renderErrorPage(failure, this.proxy.endpoint.display, headerValue(this.request.rawHeaders, 'accept'));
		const connection = this.keepAlive ? this.owner.keepAliveHeaders : 'Connection: close\r\n';
		const socket = this.socket;
		socket.cork();
		socket.write(errorPageHead(page, connection), 'latin1');
		// A HEAD's answer has the Content-Length a GET's would, and no body (RFC 9110 §9.3.2): on a kept-alive
		// connection the client would read one as the next response.
		if (this.method !== 'HEAD') { socket.write(page.body); }
		socket.uncork();
		this.owner.responseDone(this.keepAlive);
	}

	protected reset(): void {
		this.socket.destroy();
	}

	uncork(): void {
		if (this.corked) {
			this.corked = false;
			this.socket.uncork();
		}
	}
}

function uncork(exchange: Http1Exchange): void {
	exchange.uncork();
}
