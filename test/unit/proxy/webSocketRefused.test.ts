import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { ProxyServer } from '../../../src/core/proxy';
import { h1Request, makeCa, memoryLogger, RecordingSink, waitFor, type TestCa } from './helpers';

const UNAUTHORIZED_BODY = 'Unauthorized: this socket needs ?token=secret\n';

/**
 * A dev server whose WebSocket endpoint refuses upgrades in the ways real ones do: `ws` answering
 * 401 with a body (verifyClient), a 403 in chunked framing, a refusal cut short, one with bare LF line
 * ends. `/ws?token=secret` is accepted and echoes.
 */
async function refusingDevServer(): Promise<{ port: number; server: http.Server; readonly hangClosed: number; close(): Promise<void> }> {
	let hangClosed = 0;
	const server = http.createServer((_req, res) => {
		res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
		res.end('hello');
	});
	const wss = new WebSocketServer({
		noServer: true,
		verifyClient: (info, callback) => {
			if (new URL(info.req.url!, 'http://dev').searchParams.get('token') === 'secret') { return callback(true); }
			callback(false, 401, UNAUTHORIZED_BODY, { 'WWW-Authenticate': 'Bearer realm="dev"', 'Content-Type': 'text/plain' });
		},
	});
	wss.on('connection', (ws) => ws.on('message', (message, isBinary) => ws.send(message, { binary: isBinary })));
	const sockets = new Set<Socket>();
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
		const { pathname } = new URL(req.url!, 'http://dev');
		switch (pathname) {
			case '/forbidden':
				socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\n\r\n9\r\nforbidden\r\n0\r\n\r\n');
				return;
			case '/cut':
				socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\nonly part of it');
				setTimeout(() => socket.destroy(), 50);
				return;
			case '/hang':
				// Never finishes its answer: the proxy must let go of this socket when the client leaves.
				socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\nwait');
				// (http.Server sockets allow half-open connections: the proxy's close arrives as 'end'.)
				socket.on('end', () => { hangClosed++; socket.destroy(); });
				return;
			case '/bare':
				// Next.js's refusal of a cross-origin HMR socket: bytes with no status line, then a close.
				socket.end('Unauthorized');
				return;
			case '/malformed':
				socket.end('HTTP/1.1 401 Unauthorized\nContent-Length: 4\n\nnope');
				return;
			default:
				wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
		}
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as AddressInfo).port,
		server,
		get hangClosed() { return hangClosed; },
		close: () => new Promise<void>((resolve) => {
			for (const client of wss.clients) { client.terminate(); }
			for (const socket of sockets) { socket.destroy(); }
			server.close(() => resolve());
		}),
	};
}

/** Sends a WebSocket handshake for `path` over TLS and returns everything until the proxy closes. */
function rawUpgrade(ca: TestCa, port: number, path: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] }, () => {
			socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
		});
		let text = '';
		socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
		socket.on('close', () => resolve(text));
		socket.on('error', reject);
		socket.setTimeout(5000, () => reject(new Error(`the proxy kept the connection open; received so far: ${JSON.stringify(text)}`)));
	});
}

describe('proxy: WebSocket upgrades the dev server refuses', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let dev: Awaited<ReturnType<typeof refusingDevServer>>;
	let proxy: ProxyServer;
	let port: number;
	const logs: string[] = [];
	const sink = new RecordingSink();

	before(async () => {
		ca = await makeCa();
		dev = await refusingDevServer();
		proxy = new ProxyServer({ target: dev.port, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger(logs), capture: sink });
		({ port } = await proxy.start());
	});
	after(async () => {
		await proxy?.stop();
		await dev?.close();
	});
	afterEach(async () => {
		// The dev server is up and the proxy knows it: requests and accepted WebSockets still go through.
		assert.equal((await h1Request(ca, port, '/hello')).body.toString(), 'hello');
		assert.ok(dev.server.listening);
		assert.doesNotMatch(logs.join('\n'), /Cannot reach/);
	});

	it('passes a 401 with its body to the client exactly, logs what the dev server answered, and records it', async () => {
		const before = sink.exchanges.length;
		const logsBefore = logs.length;
		const raw = await rawUpgrade(ca, port, '/ws?token=wrong');
		const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
		assert.match(head, /^HTTP\/1\.1 401 Unauthorized\r\n/);
		assert.match(head, /\r\nWWW-Authenticate: Bearer realm="dev"\r\n/);
		assert.match(head, /\r\nConnection: close(\r\n|$)/);
		assert.equal(body, UNAUTHORIZED_BODY);
		const said = logs.slice(logsBefore).join('\n');
		assert.match(said, new RegExp(`info \\[proxy\\] http://localhost:${dev.port} refused the WebSocket upgrade of /ws\\?token=wrong: it answered 401 Unauthorized`));
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.equal(exchange.init.kind, 'websocket');
		const response = exchange.events.find(([kind]) => kind === 'response')![1] as { statusCode: number; headers: Array<[string, string]> };
		assert.equal(response.statusCode, 401);
		assert.ok(response.headers.some(([name, value]) => name === 'WWW-Authenticate' && value === 'Bearer realm="dev"'));
		const recorded = Buffer.concat(exchange.events.filter(([kind]) => kind === 'responseBody').map(([, chunk]) => chunk as Buffer));
		assert.equal(recorded.toString(), UNAUTHORIZED_BODY);
		assert.deepEqual(exchange.events.at(-1)!.slice(0, 2), ['finish', 'completed']);
	});

	it('a WebSocket client sees the 401 (not a 502), and one with the right token is accepted', async () => {
		const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
			const ws = new WebSocket(`wss://localhost:${port}/ws`, { ca: ca.caPem });
			ws.on('unexpected-response', (_req, res) => {
				let text = '';
				res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
				res.on('end', () => resolve({ status: res.statusCode!, body: text }));
			});
			ws.on('open', () => reject(new Error('accepted')));
			ws.on('error', () => { });
		});
		assert.deepEqual(refused, { status: 401, body: UNAUTHORIZED_BODY });
		const ws = new WebSocket(`wss://localhost:${port}/ws?token=secret`, { ca: ca.caPem });
		await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
		ws.send('ping');
		assert.equal((await new Promise<Buffer>((resolve) => ws.once('message', resolve))).toString(), 'ping');
		ws.close();
	});

	it('passes a chunked 403 on without its hop-by-hop headers', async () => {
		const raw = await rawUpgrade(ca, port, '/forbidden');
		const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
		assert.match(head, /^HTTP\/1\.1 403 Forbidden\r\n/);
		assert.doesNotMatch(head, /Transfer-Encoding|Keep-Alive/i);
		assert.equal(raw.slice(raw.indexOf('\r\n\r\n') + 4), 'forbidden', 'the body, delimited by the close');
	});

	it('closes the client connection when the refusal is cut short, and records that', async () => {
		const before = sink.exchanges.length;
		const raw = await rawUpgrade(ca, port, '/cut');
		assert.match(raw, /^HTTP\/1\.1 401 Unauthorized\r\n[^]*\r\n\r\nonly part of it$/);
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.deepEqual(exchange.events.at(-1)!.slice(0, 2), ['finish', 'upstream-error']);
		assert.match(exchange.events.at(-1)![2] as string, /closed the connection in the middle of its answer/);
	});

	it('lets go of the dev server\'s socket when the client leaves in the middle of a refusal', async () => {
		const before = sink.exchanges.length;
		await new Promise<void>((resolve, reject) => {
			const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] }, () => {
				socket.write('GET /hang HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
			});
			socket.once('data', () => { socket.destroy(); resolve(); });
			socket.on('error', reject);
		});
		await waitFor(() => dev.hangClosed === 1, 5000, 'the dev server side to close');
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.deepEqual(exchange.events.at(-1)!.slice(0, 2), ['finish', 'closed-by-client']);
	});

	it('says the dev server answered with invalid HTTP, instead of "Cannot reach" and "start your dev server"', async () => {
		const logsBefore = logs.length;
		const raw = await rawUpgrade(ca, port, '/malformed');
		assert.match(raw, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
		assert.match(raw, new RegExp(`http://localhost:${dev.port} answered, but not with valid HTTP/1\\.1`));
		assert.doesNotMatch(raw, /Start your dev server/);
		await waitFor(() => logs.length > logsBefore, 2000, 'the log line');
		assert.match(logs.slice(logsBefore).join('\n'), new RegExp(`warn \\[proxy\\] http://localhost:${dev.port} answered with a response that is not valid HTTP/1\\.1`));
	});

	it('passes a bare answer with no status line (Next.js\'s `Unauthorized`) to the client as it came, and records it with its bytes', async () => {
		const before = sink.exchanges.length;
		const logsBefore = logs.length;
		const raw = await rawUpgrade(ca, port, '/bare?id=1');
		assert.equal(raw, 'Unauthorized');
		await waitFor(() => logs.length > logsBefore, 2000, 'the log line');
		assert.match(logs.slice(logsBefore).join('\n'), new RegExp(`info \\[proxy\\] http://localhost:${dev.port} refused the WebSocket upgrade of /bare\\?id=1: it answered "Unauthorized", with no HTTP status line, and closed`));
		const exchange = sink.exchanges[before];
		await exchange.finished;
		assert.equal(exchange.events.find(([kind]) => kind === 'response'), undefined, 'no response head');
		const recorded = Buffer.concat(exchange.events.filter(([kind]) => kind === 'responseBody').map(([, chunk]) => chunk as Buffer));
		assert.equal(recorded.toString(), 'Unauthorized');
		assert.deepEqual(exchange.events.at(-1), ['finish', 'upstream-error', `http://localhost:${dev.port} answered the WebSocket upgrade with "Unauthorized" (no HTTP status line) and closed the connection.`]);
	});
});
