import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ProxyServer } from '../../../src/core/proxy';
import { delay, h1Request, makeCa, memoryLogger, waitFor, type TestCa } from './helpers';
import { BAD_RECORD, bridge } from './rawTlsClient';

/*
 * Errors on the sockets the sniffer, the plain-HTTP answerer and the WebSocket relay hold, made for
 * real: a client or dev server that resets the TCP connection (RST), or whose TLS breaks after the
 * handshake (a record no key decrypts, which Node emits as an 'error' without closing the socket).
 * Each time the proxy's side of every socket involved must close, and the proxy must serve on.
 */

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

/** One connection the dev server accepted: the path of its last request, and whether it has closed. */
interface DevConnection {
	path: string;
	closed: boolean;
}

/**
 * A dev server on raw sockets (TLS through `bridge` when given a certificate, so that it can break its
 * own TLS): `/hello` answers 200; upgrades to `/hold` get no answer, `/ws` a 101 and then an echo,
 * `/ws-break` a 101 and then a broken TLS record, `/refuse-reset` half a 401 and then a reset.
 */
class UpgradeDevServer {
	readonly connections: DevConnection[] = [];
	private readonly raws = new Set<net.Socket>();

	private constructor(private readonly server: net.Server) { }

	get port(): number {
		return (this.server.address() as net.AddressInfo).port;
	}

	static async start(context?: tls.SecureContext): Promise<UpgradeDevServer> {
		const server = net.createServer();
		const dev = new UpgradeDevServer(server);
		server.on('connection', (raw: net.Socket) => dev.accept(raw, context));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return dev;
	}

	/** The connection whose last request was for `path` (the latest one). */
	connection(path: string): DevConnection | undefined {
		return this.connections.findLast((connection) => connection.path === path);
	}

	async close(): Promise<void> {
		for (const raw of this.raws) { raw.destroy(); }
		await new Promise((resolve) => this.server.close(resolve));
	}

	private accept(raw: net.Socket, context: tls.SecureContext | undefined): void {
		const connection: DevConnection = { path: '', closed: false };
		this.connections.push(connection);
		this.raws.add(raw);
		raw.on('error', () => { });
		raw.on('close', () => {
			connection.closed = true;
			this.raws.delete(raw);
		});
		let cut = (): void => { };
		let app: net.Socket | tls.TLSSocket = raw;
		if (context !== undefined) {
			const bridged = bridge(raw);
			cut = bridged.cut;
			app = new tls.TLSSocket(bridged.duplex, { isServer: true, secureContext: context });
			app.on('error', () => { });
		}
		let head = '';
		let upgraded = false;
		app.on('data', (chunk: Buffer) => {
			if (upgraded) {
				app.write(chunk);
				return;
			}
			head += chunk.toString('latin1');
			if (!head.includes('\r\n\r\n')) { return; }
			connection.path = /^\S+ (\S+)/.exec(head)?.[1] ?? '';
			head = '';
			switch (connection.path) {
				case '/hold':
					return;
				case '/ws':
					upgraded = true;
					app.write(SWITCHING);
					return;
				case '/ws-break':
					upgraded = true;
					app.write(SWITCHING, () => setTimeout(() => {
						cut();
						raw.write(BAD_RECORD);
					}, 100));
					return;
				case '/refuse-reset':
					app.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\npart', () => setTimeout(() => raw.resetAndDestroy(), 100));
					return;
				default:
					app.write(OK);
			}
		});
	}
}

/** A TLS client over a TCP socket the test keeps (`raw`), so it can reset that socket or break the TLS on it. */
interface BridgedClient {
	readonly raw: net.Socket;
	readonly secure: tls.TLSSocket;
	/** What arrived over TLS so far. */
	readonly received: () => string;
	/** Resolves when the proxy's side (or the test) has closed the TCP connection. */
	readonly closed: Promise<void>;
	/** Stops feeding TLS and writes a record the proxy's OpenSSL cannot decrypt. */
	breakTls(): void;
}

async function bridgedClient(ca: TestCa, port: number): Promise<BridgedClient> {
	const raw = net.connect(port, '127.0.0.1');
	const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
	await new Promise((resolve) => raw.once('connect', resolve));
	const { duplex, cut } = bridge(raw);
	const secure = tls.connect({ socket: duplex, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] });
	secure.on('error', () => { });
	await new Promise((resolve) => secure.once('secureConnect', resolve));
	let text = '';
	secure.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
	return {
		raw, secure, closed,
		received: () => text,
		breakTls: () => {
			cut();
			raw.write(BAD_RECORD);
		},
	};
}

function upgradeRequest(path: string): string {
	return `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
}

/**
 * Sockets the proxy has open: it tracks every client socket (raw and TLS) and upgraded upstream
 * socket until its 'close', to destroy them in stop(). No public API shows them, and they are the
 * proxy's side of the connection, which the client cannot see once it has reset its own.
 */
function openSockets(proxy: ProxyServer): number {
	return proxy['sockets'].size;
}

/** Whether `closed` resolves within `ms`. */
function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
	return Promise.race([closed.then(() => true), delay(ms).then(() => false)]);
}

describe('proxy: socket errors end the socket (sniffer, plain HTTP, WebSockets)', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let dev: UpgradeDevServer;
	let tlsDev: UpgradeDevServer;
	let proxy: ProxyServer;
	let tlsProxy: ProxyServer;
	let port: number;
	let tlsPort: number;

	before(async () => {
		ca = await makeCa();
		dev = await UpgradeDevServer.start();
		const leaf = await ca.stored.ca.issue(['localhost', '127.0.0.1']);
		tlsDev = await UpgradeDevServer.start(tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem }));
		// Default timeouts (10 s handshake, 30 s headers, 60 s idle): a socket closed within 2 s was not closed by one.
		proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger([]) });
		({ port } = await proxy.start());
		tlsProxy = new ProxyServer({ target: `https://localhost:${tlsDev.port}`, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger([]) });
		({ port: tlsPort } = await tlsProxy.start());
	});
	after(async () => {
		await proxy?.stop();
		await tlsProxy?.stop();
		await dev?.close();
		await tlsDev?.close();
	});
	afterEach(async () => {
		// Nothing stays open on the proxy's side, and both proxies serve on.
		await waitFor(() => openSockets(proxy) === 0 && openSockets(tlsProxy) === 0, 2000, 'the proxy to close every socket of the test');
		assert.equal((await h1Request(ca, port, '/hello')).body.toString(), 'hello');
		assert.equal((await h1Request(ca, tlsPort, '/hello')).body.toString(), 'hello');
	});

	it('a client that resets the connection while the sniffer waits for its first byte, or mid-ClientHello', async () => {
		for (const first of [undefined, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])]) {
			const raw = net.connect(port, '127.0.0.1');
			raw.on('error', () => { });
			await new Promise((resolve) => raw.once('connect', resolve));
			if (first !== undefined) { raw.write(first); }
			await waitFor(() => openSockets(proxy) > 0, 2000, 'the proxy to accept the connection');
			await delay(50);
			raw.resetAndDestroy();
			await waitFor(() => openSockets(proxy) === 0, 2000, 'the proxy to close its side of the reset connection');
		}
	});

	it('a plaintext client that resets the connection in the middle of its request head', async () => {
		const raw = net.connect(port, '127.0.0.1');
		raw.on('error', () => { });
		await new Promise((resolve) => raw.once('connect', resolve));
		raw.write('GET /x HTTP/1.1\r\nHost: localhost\r\n');
		await waitFor(() => openSockets(proxy) > 0, 2000, 'the proxy to accept the connection');
		await delay(50);
		raw.resetAndDestroy();
		await waitFor(() => openSockets(proxy) === 0, 2000, 'the proxy to close its side of the reset connection');
		// Plain HTTP on the TLS port is still answered.
		const answer = await new Promise<string>((resolve) => {
			const again = net.connect(port, '127.0.0.1', () => again.write('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n'));
			let text = '';
			again.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
			again.on('close', () => resolve(text));
		});
		assert.match(answer, /^HTTP\/1\.1 307 /);
	});

	it('a WebSocket client that resets the connection mid-stream: the dev server connection closes too', async () => {
		const client = await bridgedClient(ca, port);
		client.secure.write(upgradeRequest('/ws'));
		await waitFor(() => client.received().includes('\r\n\r\n'), 2000, 'the 101');
		client.secure.write('ping');
		await waitFor(() => client.received().endsWith('ping'), 2000, 'the echo');
		const upstream = dev.connection('/ws')!;
		client.raw.resetAndDestroy();
		await waitFor(() => upstream.closed, 2000, 'the proxy to close the dev server connection');
	});

	it('a client whose TLS breaks while its upgrade waits for the dev server: closed, and the upgrade request cancelled', async () => {
		const client = await bridgedClient(ca, port);
		client.secure.write(upgradeRequest('/hold'));
		await waitFor(() => dev.connection('/hold') !== undefined, 2000, 'the dev server to get the upgrade');
		const upstream = dev.connection('/hold')!;
		client.breakTls();
		assert.ok(await closesWithin(client.closed, 2000), 'the proxy closed the client connection');
		await waitFor(() => upstream.closed, 2000, 'the proxy to cancel the upgrade request');
	});

	it('a WebSocket client whose TLS breaks mid-stream: both connections close', async () => {
		const client = await bridgedClient(ca, port);
		client.secure.write(upgradeRequest('/ws'));
		await waitFor(() => client.received().includes('\r\n\r\n'), 2000, 'the 101');
		const upstream = dev.connection('/ws')!;
		client.breakTls();
		assert.ok(await closesWithin(client.closed, 2000), 'the proxy closed the client connection');
		await waitFor(() => upstream.closed, 2000, 'the proxy to close the dev server connection');
	});

	it('a TLS dev server whose TLS breaks mid-WebSocket: both connections close', async () => {
		const client = await bridgedClient(ca, tlsPort);
		client.secure.write(upgradeRequest('/ws-break'));
		await waitFor(() => client.received().includes('\r\n\r\n'), 2000, 'the 101');
		const upstream = tlsDev.connection('/ws-break')!;
		await waitFor(() => upstream.closed, 2000, 'the proxy to close the broken dev server connection');
		assert.ok(await closesWithin(client.closed, 2000), 'the proxy closed the client connection');
	});

	it('a dev server that resets the connection in the middle of refusing an upgrade: the client connection closes', async () => {
		const client = await bridgedClient(ca, port);
		client.secure.write(upgradeRequest('/refuse-reset'));
		await waitFor(() => client.received().endsWith('part'), 2000, 'the start of the refusal');
		assert.ok(await closesWithin(client.closed, 2000), 'the proxy closed the client connection');
		assert.match(client.received(), /^HTTP\/1\.1 401 Unauthorized\r\n/);
	});
});
