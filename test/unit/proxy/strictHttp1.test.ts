import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ProxyServer, type ProxyOptions } from '../../../src/core/proxy';
import { delay, h2Request, makeCa, memoryLogger, waitFor, type TestCa } from './helpers';
import { BAD_RECORD, bridge, RawTlsClient } from './rawTlsClient';

/*
 * What the proxy's HTTP/1.1 parser refuses, seen from outside: exact bytes over TLS from a client, and
 * exact bytes from a dev server on raw sockets. Each refusal is checked on both sides: what the client
 * gets (status, and whether the connection closes) and what the dev server receives (nothing, for a
 * refused request) or what happens to its connection (dropped, for a refused response).
 */

/** One response as the client read it. */
interface Answer {
	readonly status: number;
	readonly head: string;
	readonly body: string;
	/** From the client's last write to the response head's arrival. */
	readonly ms: number;
}

/** A TLS client (ALPN http/1.1) that writes raw bytes and reads the proxy's responses. */
class Client extends RawTlsClient {
	private writtenAt = 0;
	private headAt = 0;

	static async connect(ca: TestCa, port: number): Promise<Client> {
		return new Client(await RawTlsClient.open(ca, port, 'http/1.1', '127.0.0.1'));
	}

	write(bytes: string | Buffer): Promise<void> {
		this.writtenAt = performance.now();
		return new Promise((resolve, reject) => this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (error) => (error ? reject(error) : resolve())));
	}

	/** The next response (Content-Length or chunked body; none when `toHead`); throws when the connection closes first. */
	async response(toHead = false): Promise<Answer> {
		const headEnd = await this.until(() => {
			const at = this.buffer.indexOf('\r\n\r\n');
			if (at >= 0 && this.headAt === 0) { this.headAt = performance.now(); }
			return at < 0 ? undefined : at;
		}, 'a response head');
		const ms = this.headAt - this.writtenAt;
		this.headAt = 0;
		const head = this.buffer.toString('latin1', 0, headEnd);
		const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
		assert.ok(status >= 100, `bad status line in ${JSON.stringify(head)}`);
		this.buffer = this.buffer.subarray(headEnd + 4);
		const length = /\r\ncontent-length: *(\d+)/i.exec(head);
		let body: string;
		if (toHead) {
			body = '';
		} else if (length !== null) {
			const size = Number(length[1]);
			await this.until(() => (this.buffer.length >= size ? true : undefined), `${size} body bytes`);
			body = this.buffer.toString('latin1', 0, size);
			this.buffer = this.buffer.subarray(size);
		} else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
			const decoded = await this.until(() => decodeChunked(this.buffer), 'the end of a chunked body');
			body = decoded.body;
			this.buffer = this.buffer.subarray(decoded.end);
		} else {
			body = '';
		}
		return { status, head, body, ms };
	}
}

/** A chunked body at the start of `data` (no extensions, as the proxy sends them), or undefined while incomplete. */
function decodeChunked(data: Buffer): { body: string; end: number } | undefined {
	let pos = 0;
	let body = '';
	for (;;) {
		const lineEnd = data.indexOf('\r\n', pos);
		if (lineEnd < 0) { return undefined; }
		const line = data.toString('latin1', pos, lineEnd);
		assert.match(line, /^[0-9a-f]+$/, 'a chunk-size line as the proxy writes it');
		const size = parseInt(line, 16);
		pos = lineEnd + 2;
		if (size === 0) { break; }
		if (data.length < pos + size + 2) { return undefined; }
		body += data.toString('latin1', pos, pos + size);
		pos += size + 2;
	}
	if (data.length < pos + 2) { return undefined; }
	assert.equal(data.toString('latin1', pos, pos + 2), '\r\n', 'no trailers');
	return { body, end: pos + 2 };
}

/** What a {@link RawDevServer} answers to a request path: bytes written at once, or pieces written with pauses between. */
type Answering = string | { readonly pieces: readonly string[]; readonly pauseMs: number };

/**
 * A dev server on raw sockets. It records every byte it receives, answers requests by path from
 * `answers` (404 otherwise) once their body is complete, and counts the connections the proxy closed.
 */
class RawDevServer {
	/** Every byte received, over all connections, in order. */
	received = '';
	/** Request lines received, in order. */
	readonly requests: string[] = [];
	connections = 0;
	/** Connections the proxy ended or reset (not by this server). */
	closedByProxy = 0;
	private readonly sockets = new Set<net.Socket>();
	private constructor(private readonly server: net.Server, private readonly answers: Readonly<Record<string, Answering>>) { }

	static async start(answers: Readonly<Record<string, Answering>>): Promise<RawDevServer> {
		const server = net.createServer();
		const dev = new RawDevServer(server, answers);
		server.on('connection', (socket) => dev.serve(socket));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return dev;
	}

	get target(): string {
		return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
	}

	close(): Promise<void> {
		for (const socket of this.sockets) { socket.destroy(); }
		return new Promise((resolve) => this.server.close(() => resolve()));
	}

	private serve(socket: net.Socket): void {
		this.connections++;
		this.sockets.add(socket);
		let buffer = '';
		let closing = false;
		socket.on('error', () => { });
		socket.on('end', () => {
			if (!closing) { this.closedByProxy++; }
			socket.destroy();
		});
		socket.on('close', () => this.sockets.delete(socket));
		socket.on('data', (chunk: Buffer) => {
			const text = chunk.toString('latin1');
			this.received += text;
			buffer += text;
			for (;;) {
				const headEnd = buffer.indexOf('\r\n\r\n');
				if (headEnd < 0) { return; }
				const head = buffer.slice(0, headEnd);
				let end = headEnd + 4;
				if (/\r\ntransfer-encoding: chunked/i.test(head)) {
					const last = buffer.indexOf('\r\n0\r\n\r\n', headEnd);
					if (last < 0) { return; }
					end = last + 7;
				} else {
					end += Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
					if (buffer.length < end) { return; }
				}
				buffer = buffer.slice(end);
				const line = head.slice(0, head.indexOf('\r\n'));
				this.requests.push(line);
				const answer = this.answers[line.split(' ')[1]] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
				if (typeof answer === 'string') {
					socket.write(answer, 'latin1');
				} else {
					void (async () => {
						for (const piece of answer.pieces) {
							if (socket.destroyed) { return; }
							socket.write(piece, 'latin1');
							await delay(answer.pauseMs);
						}
					})();
				}
				if (/\r\nconnection: close/i.test(head)) {
					closing = true;
					socket.end();
				}
			}
		});
	}
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';

describe('proxy: strict HTTP/1.1 (refusals seen from the client and the dev server)', function () {
	this.timeout(20_000);
	let ca: TestCa;
	let dev: RawDevServer;
	let proxy: ProxyServer;
	let port: number;
	let logs: string[];

	before(async () => {
		ca = await makeCa();
		dev = await RawDevServer.start({
			'/hello': OK,
			'/ext-empty': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n',
			'/ext-cr-in-quotes': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a="x\r\nab\r\n0\r\n\r\n',
			'/ext-valid': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b;c="d\\"e";f\r\nab\r\n1;g=h\r\nc\r\n0;last\r\n\r\n',
			'/ext-bws': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 ;a\r\nab\r\n0\r\n\r\n',
			'/trailer-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nContent-Length: 5\r\n\r\n',
			'/te-and-cl': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nab\r\n0\r\n\r\n',
			'/te-comma': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n2\r\nab\r\n0\r\n\r\n',
			'/204-two-cl': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n',
			'/head-bad-field': 'HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n',
			'/head-ok': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
			// 9 bytes under 16 KiB: Connection and Keep-Alive, added on the way, take it over.
			'/near-16k': `HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ${'v'.repeat(16384 - 9 - 36 - 7 - 4)}\r\n\r\n`,
			'/ext-late': { pieces: ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n', '2;\r\ncd\r\n0\r\n\r\n'], pauseMs: 100 },
			'/cl-twice': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
			'/cl-list': 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello',
			'/switch': 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter',
			'/bare-lf': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nab',
			'/bare-cr': 'HTTP/1.1 200 OK\rContent-Length: 2\r\rab',
			'/bare-lf-late': { pieces: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r', '\n\n'], pauseMs: 100 },
			'/continue-switch': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
		});
		logs = [];
		// The default 30 s head timeout: a refusal that waits for it shows.
		const options: ProxyOptions = { target: dev.target, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger(logs) };
		proxy = new ProxyServer(options);
		({ port } = await proxy.start());
	});
	after(async () => {
		await proxy?.stop();
		await dev?.close();
	});

	/** The next response on `client`, or a failure when none comes within `ms`. */
	function answerWithin(client: Client, ms: number): Promise<Answer> {
		return Promise.race([client.response(), delay(ms).then(() => { throw new Error(`no answer within ${ms} ms`); })]);
	}

	/** Sends `bytes` on a new connection; expects `status` at once and the connection closed, with nothing for the dev server. */
	async function refused(bytes: string, status: number): Promise<Answer> {
		const before = dev.received.length;
		const client = await Client.connect(ca, port);
		try {
			await client.write(bytes);
			const answer = await answerWithin(client, 3000);
			assert.equal(answer.status, status, answer.head);
			assert.match(answer.head, /\r\nConnection: close(\r\n|$)/);
			assert.ok(await client.closesWithin(1000), 'the proxy closes the connection');
			assert.equal(client.unread, '', 'nothing after the refusal');
			await delay(50);
			assert.equal(dev.received.slice(before), '', 'nothing reached the dev server');
			return answer;
		} finally {
			client.destroy();
		}
	}

	/** Requests `path` on a new connection; expects a 502 and the dev server's connection dropped, and the client connection still usable. */
	async function badGateway(path: string, message: RegExp): Promise<void> {
		const closedBefore = dev.closedByProxy;
		const client = await Client.connect(ca, port);
		try {
			await client.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n`);
			const answer = await answerWithin(client, 3000);
			assert.equal(answer.status, 502, answer.head + answer.body);
			assert.match((JSON.parse(answer.body) as { message: string }).message, message);
			assert.ok(answer.ms < 1000, `the 502 took ${answer.ms} ms`);
			await waitFor(() => dev.closedByProxy > closedBefore, 2000, 'the dev server connection dropped');
			await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
			assert.deepEqual([(await client.response()).body, client.isClosed], ['hello', false], 'the client connection goes on');
		} finally {
			client.destroy();
		}
	}

	afterEach(async () => {
		// Whatever the previous test did, the proxy serves a plain request, and the dev server sees it.
		const client = await Client.connect(ca, port);
		try {
			const seen = dev.requests.length;
			await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
			assert.equal((await client.response()).body, 'hello');
			assert.equal(dev.requests.length, seen + 1);
		} finally {
			client.destroy();
		}
	});

	describe('chunk extensions (RFC 9112 §7.1.1)', () => {
		const upload = (sizeLine: string): string => `POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${sizeLine}\r\nab\r\n0\r\n\r\n`;

		it('refuses a request with an empty chunk extension (2;) with 400, sending nothing upstream', async () => {
			const answer = await refused(upload('2;'), 400);
			assert.match(answer.body, /empty chunk extension name/);
		});

		it('refuses a request with a CR inside an unterminated quoted extension value with 400, sending nothing upstream', async () => {
			await refused(upload('2;a="x'), 400);
			await refused(upload('2;a=""x'), 400);
			await refused(upload('2;a='), 400);
		});

		it('refuses a malformed extension in a later chunk with 400, and the dev server sees its request cut off', async () => {
			const client = await Client.connect(ca, port);
			try {
				const closedBefore = dev.closedByProxy;
				const before = dev.received.length;
				await client.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2;ok=1\r\nab\r\n');
				await waitFor(() => dev.received.length > before, 2000, 'the request head upstream');
				await client.write('2;\r\ncd\r\n0\r\n\r\n');
				const answer = await client.response();
				assert.equal(answer.status, 400);
				assert.ok(await client.closesWithin(1000), 'closed');
				await waitFor(() => dev.closedByProxy > closedBefore, 2000, 'the dev server connection dropped');
				const sent = dev.received.slice(before);
				assert.ok(sent.endsWith('\r\n\r\n2\r\nab\r\n'), `the dev server got the first chunk only, without its extension: ${JSON.stringify(sent)}`);
			} finally {
				client.destroy();
			}
		});

		it('accepts token and quoted extensions, and forwards the body without them', async () => {
			const client = await Client.connect(ca, port);
			try {
				const before = dev.received.length;
				await client.write('POST /hello HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b;c="d\\"e";f\r\nab\r\n1;g=h\r\nc\r\n0;last\r\n\r\n');
				assert.equal((await client.response()).body, 'hello');
				const sent = dev.received.slice(before);
				assert.ok(sent.endsWith('\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n'), JSON.stringify(sent));
				await client.write('GET /ext-valid HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.response()).body, 'abc');
			} finally {
				client.destroy();
			}
		});

		it('refuses whitespace around ; and = in chunk lines with 400 (RFC 9112 allows BWS there, llhttp does not), sending nothing upstream', async () => {
			const chunked = 'POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n';
			for (const body of ['3 ;x\r\nabc\r\n0\r\n\r\n', '3; a=b\r\nabc\r\n0\r\n\r\n', '3;a = b\r\nabc\r\n0\r\n\r\n', '3\r\nabc\r\n0\t;a\r\n\r\n']) {
				await refused(chunked + body, 400);
			}
			await badGateway('/ext-bws', /invalid chunked body: invalid chunk size/);
		});

		it('answers 502 to a response with an empty chunk extension, or a CR inside a quoted one, and drops the dev server connection', async () => {
			await badGateway('/ext-empty', /invalid chunked body: empty chunk extension name/);
			await badGateway('/ext-cr-in-quotes', /invalid chunked body: invalid character in chunk extension quoted string/);
			assert.match(logs.join('\n'), /warn \[proxy\] .* answered with a response that is not valid HTTP\/1\.1: The dev server sent an invalid chunked body/);
		});

		it('cuts off a response whose malformed extension comes after the head was passed on, and drops the dev server connection', async () => {
			const closedBefore = dev.closedByProxy;
			const client = await Client.connect(ca, port);
			try {
				await client.write('GET /ext-late HTTP/1.1\r\nHost: localhost\r\n\r\n');
				await assert.rejects(client.response(), /the connection closed before the end of a chunked body/);
				assert.match(client.unread, /^2\r\nab\r\n$/, 'the first chunk arrived; the body never ends');
				await waitFor(() => dev.closedByProxy > closedBefore, 2000, 'the dev server connection dropped');
			} finally {
				client.destroy();
			}
		});
	});

	describe('Content-Length (refused when repeated or a list, as llhttp does)', () => {
		it('refuses a request with two Content-Length fields, equal ones too, with 400, sending nothing upstream', async () => {
			await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 400);
			await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400);
		});

		it('refuses a request with a Content-Length list ("5, 5") with 400, sending nothing upstream', async () => {
			const answer = await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 5\r\n\r\nhello', 400);
			assert.match(answer.body, /invalid Content-Length/);
		});

		it('forwards a single Content-Length as sent', async () => {
			const client = await Client.connect(ca, port);
			try {
				const before = dev.received.length;
				await client.write('POST /hello HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello');
				assert.equal((await client.response()).body, 'hello');
				const sent = dev.received.slice(before);
				assert.equal(sent.match(/content-length/gi)?.length, 1, sent);
				assert.match(sent, /\r\nContent-Length: 5\r\n[^]*\r\n\r\nhello$/);
			} finally {
				client.destroy();
			}
		});

		it('answers 502 to a response with two Content-Length fields or a list, and drops the dev server connection', async () => {
			await badGateway('/cl-twice', /invalid response: invalid Content-Length/);
			await badGateway('/cl-list', /invalid response: invalid Content-Length/);
		});
	});

	describe('framing fields llhttp refuses (trailers, Transfer-Encoding lists and tabs, TE with Content-Length in responses)', () => {
		const chunked = 'POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n';

		it('refuses Content-Length or Transfer-Encoding in a request\'s trailer section with 400, sending nothing upstream', async () => {
			const answer = await refused(`${chunked}Content-Length: 5\r\n\r\n`, 400);
			assert.match(answer.body, /Content-Length in the trailer section/);
			await refused(`${chunked}X-Checksum: 1\r\ntransfer-encoding: chunked\r\n\r\n`, 400);
		});

		it('refuses Transfer-Encoding "chunked," and a tab after a framing value with 400, sending nothing upstream', async () => {
			const answer = await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked,\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 400);
			assert.match(answer.body, /empty element in Transfer-Encoding/);
			await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\t\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 400);
			await refused('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\t\r\n\r\nabc', 400);
		});

		it('answers 502 to responses with framing llhttp refuses, body-less ones too, and drops the dev server connection', async () => {
			await badGateway('/trailer-cl', /invalid chunked body: Content-Length in the trailer section/);
			await badGateway('/te-and-cl', /invalid response: both Transfer-Encoding and Content-Length/);
			await badGateway('/te-comma', /invalid response: empty element in Transfer-Encoding/);
			await badGateway('/204-two-cl', /invalid response: invalid Content-Length/);
		});
	});

	describe('HEAD', () => {
		it('answers a HEAD with a 502 without a body when the response is invalid, and the connection goes on', async () => {
			const client = await Client.connect(ca, port);
			try {
				await client.write('HEAD /head-bad-field HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const answer = await client.response(true);
				assert.equal(answer.status, 502);
				assert.match(answer.head, /\r\nContent-Length: [1-9]\d*\r\n/, 'the length a GET would have');
				await client.write('HEAD /head-ok HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const next = await client.response(true);
				assert.deepEqual([next.status, client.unread], [200, ''], 'no body of the 502 was read as the next response');
			} finally {
				client.destroy();
			}
		});

		it('refuses a HEAD without a body too', async () => {
			const client = await Client.connect(ca, port);
			try {
				await client.write('HEAD /hello HTTP/1.1\r\n\r\n');
				const answer = await client.response(true);
				assert.equal(answer.status, 400);
				assert.ok(await client.closesWithin(1000));
				assert.equal(client.unread, '');
			} finally {
				client.destroy();
			}
		});
	});

	describe('heads the proxy would take over 16 KiB', () => {
		it('answers 431 to a request head that its X-Forwarded-* fields would take over 16 KiB, sending nothing upstream', async () => {
			const answer = await refused(`GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'v'.repeat(16384 - 60 - 33 - 7 - 4)}\r\n\r\n`, 431);
			assert.match(answer.body, /X-Forwarded-\* fields that TLS Lens adds/);
		});

		it('answers 502 to a response head that Connection and Keep-Alive would take over 16 KiB', async () => {
			await badGateway('/near-16k', /response head is larger than 16 KiB once TLS Lens adds Connection and Keep-Alive/);
		});
	});

	describe('request-targets (RFC 9112 §3.2)', () => {
		it('refuses authority-form off CONNECT, asterisk-form off OPTIONS, and targets with neither / nor a scheme, with 400', async () => {
			for (const target of ['localhost:443', '*', '!/', 'http:/x']) {
				const answer = await refused(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 400);
				assert.match(answer.body, /invalid request-target/, target);
			}
		});

		it('forwards OPTIONS * and absolute-form as sent', async () => {
			const client = await Client.connect(ca, port);
			try {
				const seen = dev.requests.length;
				await client.write('OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.response()).status, 404);
				await client.write('GET http://localhost/hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				await client.response();
				assert.deepEqual(dev.requests.slice(seen), ['OPTIONS * HTTP/1.1', 'GET http://localhost/hello HTTP/1.1']);
			} finally {
				client.destroy();
			}
		});
	});

	describe('Host (RFC 9112 §3.2)', () => {
		it('refuses an HTTP/1.1 request without Host with 400, sending nothing upstream; HTTP/1.0 gets the target\'s', async () => {
			const answer = await refused('GET /hello HTTP/1.1\r\n\r\n', 400);
			assert.match(answer.body, /no Host header/);
			const client = await Client.connect(ca, port);
			try {
				const before = dev.received.length;
				await client.write('GET /hello HTTP/1.0\r\n\r\n');
				assert.equal((await client.response()).body, 'hello');
				assert.match(dev.received.slice(before), /\r\nHost: /);
			} finally {
				client.destroy();
			}
		});

		it('refuses a request with two Host fields with 400, sending nothing upstream, the same names or not', async () => {
			const answer = await refused('GET /hello HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n', 400);
			assert.match(answer.body, /more than one Host header/);
			await refused('GET /hello HTTP/1.1\r\nHost: localhost\r\nX: y\r\nhost: localhost\r\n\r\n', 400);
			await refused('GET /hello HTTP/1.0\r\nHost: localhost\r\nHOST: localhost\r\n\r\n', 400);
		});

		it('refuses a WebSocket upgrade with two Host fields the same way', async () => {
			await refused('GET /ws HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'
				+ 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 400);
		});
	});

	describe('HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1)', () => {
		it('refuses an HTTP/1.0 request with Transfer-Encoding: chunked with 400, sending nothing upstream', async () => {
			const answer = await refused('POST /upload HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 400);
			assert.match(answer.body, /Transfer-Encoding in an HTTP\/1\.0 request/);
			await refused('POST /upload HTTP/1.0\r\nHost: localhost\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
		});

		it('forwards an HTTP/1.0 request with Content-Length', async () => {
			const client = await Client.connect(ca, port);
			try {
				await client.write('POST /hello HTTP/1.0\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello');
				assert.equal((await client.response()).body, 'hello');
				assert.ok(await client.closesWithin(1000), 'an HTTP/1.0 connection closes after its response');
			} finally {
				client.destroy();
			}
		});
	});

	describe('methods', () => {
		it('refuses PRI * HTTP/1.1 (the HTTP/2 preface\'s method) with 400 and closes, sending nothing upstream', async () => {
			const answer = await refused('PRI * HTTP/1.1\r\nHost: localhost\r\n\r\n', 400);
			assert.match(answer.body, /HTTP\/2 connection preface method/);
			await refused('PRI * HTTP/1.0\r\n\r\n', 400);
			// The preface itself names HTTP/2.0: refused as that version.
			await refused('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505);
		});

		it('forwards an unknown method that is a valid token (RFC 9110 §9.1)', async () => {
			const client = await Client.connect(ca, port);
			try {
				const seen = dev.requests.length;
				await client.write('PURGE-ALL /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				assert.equal((await client.response()).body, 'hello');
				assert.equal(dev.requests[seen], 'PURGE-ALL /hello HTTP/1.1');
			} finally {
				client.destroy();
			}
		});
	});

	describe('101 Switching Protocols nobody asked for', () => {
		it('answers 502 on a kept-alive HTTP/1.1 connection (and HTTP/2), and drops the dev server connection', async () => {
			await badGateway('/switch', /answered, but not with valid HTTP\/1\.1: The dev server sent an invalid response: 101 Switching Protocols to a request that did not ask to upgrade/);
			await badGateway('/continue-switch', /101 Switching Protocols to a request that did not ask to upgrade/);
			const closedBefore = dev.closedByProxy;
			const reply = await h2Request(ca, port, '/switch', { headers: { accept: 'application/json' } });
			assert.equal(reply.status, 502);
			await waitFor(() => dev.closedByProxy > closedBefore, 2000, 'the dev server connection dropped');
		});
	});

	describe('bare LF and bare CR line ends: refused as soon as they are seen', () => {
		it('answers a request head with bare LFs or bare CRs with 400 in well under a second, sending nothing upstream', async () => {
			for (const head of ['GET /hello HTTP/1.1\nHost: localhost\n\n', 'GET /hello HTTP/1.1\rHost: localhost\r\r', 'GET /hello HTTP/1.1\r\nHost: localhost\n\n',
				'GET /hello HTTP/1.1\r\nHost: localhost\r\n\n', 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\r']) {
				const answer = await refused(head, 400);
				assert.ok(answer.ms < 500, `${JSON.stringify(head)}: 400 after ${answer.ms} ms`);
				assert.match(answer.body, /bare CR or LF/);
			}
		});

		it('refuses a bare CR or LF that arrives in a later read of the head at once, and not a CRLF split over reads', async () => {
			for (const [first, second] of [['GET /hello HTTP/1.1\r\nHost: localhost\r', 'X: y\r\n\r\n'], ['GET /hello HTTP/1.1\r\nHost: localhost\r\n', '\n']]) {
				const before = dev.received.length;
				const client = await Client.connect(ca, port);
				try {
					await client.write(first);
					assert.equal(await client.closesWithin(200), false, `${JSON.stringify(first)} is an incomplete head, not a bad one`);
					await client.write(second);
					const answer = await answerWithin(client, 3000);
					assert.equal(answer.status, 400);
					assert.ok(answer.ms < 500, `400 after ${answer.ms} ms`);
					assert.ok(await client.closesWithin(1000), 'closed');
					assert.equal(dev.received.slice(before), '', 'nothing reached the dev server');
				} finally {
					client.destroy();
				}
			}
			const client = await Client.connect(ca, port);
			try {
				for (const piece of ['GET /hello HTTP/1.1\r', '\nHost: localhost\r', '\n\r', '\n']) {
					await client.write(piece);
					await delay(30);
				}
				assert.equal((await answerWithin(client, 3000)).body, 'hello', 'CRLFs split between reads are fine');
			} finally {
				client.destroy();
			}
		});

		it('answers a response head with bare LFs or bare CRs with 502 in well under a second, and drops the dev server connection', async () => {
			// badGateway checks the time too: the dev server keeps these connections open.
			await badGateway('/bare-lf', /invalid response: bare CR or LF in the response head/);
			await badGateway('/bare-cr', /invalid response: bare CR or LF in the response head/);
			await badGateway('/bare-lf-late', /invalid response: bare CR or LF in the response head/);
		});
	});

	describe('socket errors end the socket', () => {
		it('closes a client connection whose TLS fails after the handshake (an error Node emits without closing)', async () => {
			const raw = net.connect(port, '127.0.0.1');
			try {
				await new Promise((resolve) => raw.once('connect', resolve));
				const { duplex, cut } = bridge(raw);
				const client = tls.connect({ socket: duplex, servername: 'localhost', ca: ca.caPem, ALPNProtocols: ['http/1.1'] });
				client.on('error', () => { });
				await new Promise((resolve) => client.once('secureConnect', resolve));
				client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
				const reply = await new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
				assert.match(reply, /^HTTP\/1\.1 200 OK\r\n[^]*hello$/);
				cut();
				const closed = new Promise<boolean>((resolve) => raw.once('close', () => resolve(true)));
				raw.write(BAD_RECORD);
				// The proxy's idle timeout is a minute: without the handler ending it, the socket stays open that long.
				assert.ok(await Promise.race([closed, delay(2000).then(() => false)]), 'the proxy closed the connection');
			} finally {
				raw.destroy();
			}
		});

		it('closes a pooled TLS upstream connection whose TLS fails while idle, and serves the next request on a new one', async () => {
			const leaf = await ca.stored.ca.issue(['localhost', '127.0.0.1']);
			const context = tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem });
			const raws: net.Socket[] = [];
			const closedByProxy: boolean[] = [];
			const server = net.createServer((raw) => {
				const index = raws.push(raw) - 1;
				closedByProxy.push(false);
				raw.on('close', () => { closedByProxy[index] = true; });
				const { duplex, cut } = bridge(raw);
				const secure = new tls.TLSSocket(duplex, { isServer: true, secureContext: context });
				secure.on('error', () => { });
				secure.on('data', () => {
					secure.write(OK);
					// Once the connection is back in the pool: a broken record from the dev server's side.
					setTimeout(() => {
						cut();
						raw.write(BAD_RECORD);
					}, 100);
				});
			});
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			const tlsProxy = new ProxyServer({
				target: `https://localhost:${(server.address() as net.AddressInfo).port}`, issuer: ca.issuer, ca: ca.stored.ca, port: 0, logger: memoryLogger([]),
			});
			const { port: tlsPort } = await tlsProxy.start();
			try {
				const client = await Client.connect(ca, tlsPort);
				try {
					await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
					assert.equal((await client.response()).body, 'hello');
					await waitFor(() => closedByProxy[0], 2000, 'the proxy to close the broken upstream connection');
					await client.write('GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
					assert.equal((await client.response()).body, 'hello');
					assert.equal(raws.length, 2, 'a new upstream connection');
				} finally {
					client.destroy();
				}
			} finally {
				await tlsProxy.stop();
				for (const raw of raws) { raw.destroy(); }
				await new Promise((resolve) => server.close(resolve));
			}
		});
	});
});
