import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { once } from 'node:events';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { WebSocketFrameParser, type ParsedWebSocketMessage } from '../../../src/core/proxy/wsFrameParser';
import { decodeWebSocketPayload } from '../../../src/core/inspector/bodyDecoding';

// ws exports its frame encoder at runtime; @types/ws does not declare it.
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };

type Direction = 'client' | 'server';

/** What a parser reported, with the payload as a Buffer copy (views may be reused by the caller). */
interface Seen {
	opcode: number;
	size: number;
	payload: Buffer;
	truncated: boolean;
	compressed: boolean;
}

function collect(maxPayload: number): { parser: WebSocketFrameParser; seen: Seen[] } {
	const seen: Seen[] = [];
	const parser = new WebSocketFrameParser(maxPayload, (m: ParsedWebSocketMessage) => seen.push({ ...m, payload: Buffer.from(m.payload) }));
	return { parser, seen };
}

/**
 * A real ws server and client talking through a TCP relay that taps both directions, as the proxy
 * does: the bytes after each side's HTTP head go to a parser, and are also recorded for replays.
 */
class TappedConnection {
	readonly parsers: Record<Direction, { parser: WebSocketFrameParser; seen: Seen[] }>;
	readonly streams: Record<Direction, Buffer[]> = { client: [], server: [] };
	readonly received: Array<{ data: Buffer; isBinary: boolean }> = [];
	server!: WebSocketServer;
	relay!: net.Server;
	client!: WebSocket;
	serverSide!: WebSocket;
	private readonly sockets = new Set<net.Socket>();

	constructor(maxPayload = 1024 * 1024) {
		this.parsers = { client: collect(maxPayload), server: collect(maxPayload) };
	}

	async open(options: { perMessageDeflate?: ServerOptions['perMessageDeflate'] } = {}): Promise<void> {
		this.server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: options.perMessageDeflate ?? false });
		await once(this.server, 'listening');
		const serverPort = (this.server.address() as net.AddressInfo).port;
		this.server.on('connection', (ws) => {
			this.serverSide = ws;
			ws.on('message', (data, isBinary) => this.received.push({ data: Buffer.concat([data as Buffer]), isBinary }));
		});
		this.relay = net.createServer((downstream) => {
			const upstream = net.connect(serverPort, '127.0.0.1');
			this.sockets.add(downstream).add(upstream);
			this.tap(downstream, upstream, 'client');
			this.tap(upstream, downstream, 'server');
		});
		this.relay.listen(0, '127.0.0.1');
		await once(this.relay, 'listening');
		const relayPort = (this.relay.address() as net.AddressInfo).port;
		this.client = new WebSocket(`ws://127.0.0.1:${relayPort}/`, { perMessageDeflate: options.perMessageDeflate ? options.perMessageDeflate as object : false });
		await once(this.client, 'open');
		while (!this.serverSide) await new Promise((r) => setImmediate(r));
	}

	private tap(from: net.Socket, to: net.Socket, direction: Direction): void {
		let head: Buffer | undefined = Buffer.alloc(0);
		from.on('data', (chunk: Buffer) => {
			const digest = createHash('sha1').update(chunk).digest('hex');
			to.write(chunk);
			let frames = chunk;
			if (head !== undefined) {
				head = Buffer.concat([head, chunk]);
				const end = head.indexOf('\r\n\r\n');
				if (end < 0) return;
				frames = head.subarray(end + 4);
				head = undefined;
			}
			this.streams[direction].push(Buffer.from(frames));
			this.parsers[direction].parser.push(frames);
			// Parsing only reads.
			assert.equal(createHash('sha1').update(chunk).digest('hex'), digest);
		});
		from.on('end', () => to.end());
		from.on('error', () => to.destroy());
	}

	stream(direction: Direction): Buffer {
		return Buffer.concat(this.streams[direction]);
	}

	async close(): Promise<void> {
		if (this.client.readyState === WebSocket.OPEN) {
			this.client.close(1000, 'bye');
			await once(this.client, 'close');
		}
		for (const s of this.sockets) s.destroy();
		this.relay.close();
		this.server.close();
	}
}

/** Waits until `predicate` holds, polling each event-loop turn. */
async function until(predicate: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 5000;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 2));
	}
}

function text(seen: Seen): string {
	return seen.payload.toString('utf8');
}

describe('WebSocketFrameParser', () => {
	describe('against the ws package over a real socket', () => {
		let conn: TappedConnection;
		afterEach(async () => conn?.close());

		it('reports text, binary and control frames both ways, unmasking client frames', async () => {
			conn = new TappedConnection();
			await conn.open();
			const binary = Buffer.from([0, 1, 2, 0xfe, 0xff]);
			conn.client.send('hello from the browser');
			conn.client.send(binary);
			conn.client.ping(Buffer.from('are you there'));
			conn.serverSide.send('hello from the dev server');
			await until(() => conn.received.length === 2 && conn.parsers.server.seen.length >= 2, 'messages');
			await conn.close();
			await until(() => conn.parsers.client.seen.some((m) => m.opcode === 8) && conn.parsers.server.seen.some((m) => m.opcode === 8), 'close frames');

			const client = conn.parsers.client.seen;
			assert.deepEqual(client.map((m) => m.opcode), [1, 2, 9, 8]);
			assert.equal(text(client[0]), 'hello from the browser');
			assert.deepEqual(client[1].payload, binary);
			assert.equal(text(client[2]), 'are you there');
			assert.equal(client[3].payload.readUInt16BE(0), 1000);
			assert.equal(client[3].payload.subarray(2).toString(), 'bye');
			assert.ok(client.every((m) => !m.truncated && !m.compressed && m.size === m.payload.length));
			// Client frames really were masked on the wire (RFC 6455 5.3).
			assert.ok((conn.stream('client')[1] & 0x80) !== 0);

			// The pong and the server's message race; their order on the wire is either.
			const server = [...conn.parsers.server.seen].sort((a, b) => a.opcode - b.opcode);
			assert.deepEqual(server.map((m) => m.opcode), [1, 8, 10]);
			assert.equal(text(server[0]), 'hello from the dev server');
			assert.equal(text(server[2]), 'are you there');
		});

		it('handles 7-, 16- and 64-bit lengths at their boundaries (125, 126, 65535, 65536, 70000, 70 KiB)', async function () {
			this.timeout(10_000);
			conn = new TappedConnection();
			await conn.open();
			const sizes = [0, 125, 126, 65535, 65536, 70000, 70 * 1024];
			const payloads = sizes.map((n) => randomBytes(n));
			for (const p of payloads) conn.client.send(p);
			for (const p of payloads) conn.serverSide.send(p);
			await until(() => conn.parsers.client.seen.length === sizes.length && conn.parsers.server.seen.length === sizes.length, 'all sizes');
			for (const direction of ['client', 'server'] as const) {
				const seen = conn.parsers[direction].seen;
				assert.deepEqual(seen.map((m) => m.size), sizes);
				seen.forEach((m, i) => assert.ok(m.payload.equals(payloads[i]), `${direction} ${sizes[i]}`));
			}
		});

		it('reassembles fragmented messages with control frames in between', async () => {
			conn = new TappedConnection();
			await conn.open();
			conn.client.send('frag-1 ', { fin: false });
			conn.client.ping('mid');
			conn.client.send('frag-2 ', { fin: false });
			conn.client.send('frag-3', { fin: true });
			conn.client.send(Buffer.from([1, 2]), { fin: false, binary: true });
			conn.client.send(Buffer.from([3]), { fin: true, binary: true });
			await until(() => conn.received.length === 2, 'reassembled messages');
			assert.equal(conn.received[0].data.toString(), 'frag-1 frag-2 frag-3');
			const seen = conn.parsers.client.seen;
			assert.deepEqual(seen.map((m) => [m.opcode, m.payload.toString('hex')]), [
				[9, Buffer.from('mid').toString('hex')],
				[1, Buffer.from('frag-1 frag-2 frag-3').toString('hex')],
				[2, '010203'],
			]);
			assert.equal(seen[1].size, 20);
		});

		it('caps kept payloads at maxPayload while counting the size', async () => {
			conn = new TappedConnection(1000);
			await conn.open();
			const big = randomBytes(70000);
			conn.client.send(big);
			conn.client.send('a'.repeat(600), { fin: false });
			conn.client.send('b'.repeat(600), { fin: true });
			await until(() => conn.parsers.client.seen.length === 2, 'messages');
			const [first, second] = conn.parsers.client.seen;
			assert.equal(first.size, 70000);
			assert.equal(first.truncated, true);
			assert.ok(first.payload.equals(big.subarray(0, 1000)));
			assert.equal(second.size, 1200);
			assert.equal(second.truncated, true);
			assert.equal(second.payload.toString(), 'a'.repeat(600) + 'b'.repeat(400));
		});

		it('marks permessage-deflate messages compressed and keeps the raw bytes, which inflate back', async () => {
			conn = new TappedConnection();
			await conn.open({ perMessageDeflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } });
			const messages = ['{"type":"update","updates":[{"path":"/src/App.tsx"}]}', 'x'.repeat(5000)];
			for (const m of messages) conn.client.send(m);
			for (const m of messages) conn.serverSide.send(m);
			await until(() => conn.parsers.client.seen.length === 2 && conn.parsers.server.seen.length === 2, 'compressed messages');
			for (const direction of ['client', 'server'] as const) {
				const seen = conn.parsers[direction].seen;
				for (let i = 0; i < messages.length; i++) {
					assert.equal(seen[i].compressed, true);
					assert.ok(seen[i].size < Buffer.byteLength(messages[i]) || i === 0, 'raw compressed size');
					const decoded = await decodeWebSocketPayload(seen[i].payload);
					assert.equal(decoded.error, undefined);
					assert.equal(decoded.body.toString(), messages[i]);
				}
			}
		});

		it('parses a recorded stream identically at every split point and byte by byte', async function () {
			this.timeout(20_000);
			conn = new TappedConnection(64);
			await conn.open();
			conn.client.send('one');
			conn.client.send('fragmented ', { fin: false });
			conn.client.ping();
			conn.client.send('message', { fin: true });
			conn.client.send(randomBytes(200));
			conn.client.pong('p');
			await until(() => conn.received.length === 3, 'messages');
			const stream = conn.stream('client');
			const expected = conn.parsers.client.seen;
			assert.equal(expected.length, 5);
			for (let i = 0; i <= stream.length; i++) {
				for (const j of [i, Math.min(stream.length, i + 1), Math.min(stream.length, i + 7)]) {
					const { parser, seen } = collect(64);
					parser.push(stream.subarray(0, i));
					parser.push(stream.subarray(i, j));
					parser.push(stream.subarray(j));
					assert.deepEqual(seen, expected, `split at ${i}/${j}`);
				}
			}
			const { parser, seen } = collect(64);
			for (let i = 0; i < stream.length; i++) parser.push(stream.subarray(i, i + 1));
			assert.deepEqual(seen, expected);
		});
	});

	describe('frames built with ws.Sender', () => {
		function frame(data: Buffer | string, options: { opcode: number; fin?: boolean; mask?: boolean; rsv1?: boolean }): Buffer {
			return Buffer.concat(Sender.frame(Buffer.from(data), {
				fin: options.fin ?? true, opcode: options.opcode, mask: options.mask ?? false, rsv1: options.rsv1 ?? false, readOnly: false,
				maskBuffer: Buffer.from([0x12, 0x34, 0x56, 0x78]),
			}));
		}

		it('reports many frames from one chunk, and keeps unmasked payloads as views (no copy)', () => {
			const chunk = Buffer.concat([frame('a', { opcode: 1 }), frame('bb', { opcode: 2 }), frame('', { opcode: 9 }), frame('masked', { opcode: 1, mask: true })]);
			const payloads: Buffer[] = [];
			const parser = new WebSocketFrameParser(1000, (m) => payloads.push(m.payload));
			parser.push(chunk);
			assert.deepEqual(payloads.map((p) => p.toString()), ['a', 'bb', '', 'masked']);
			const inChunk = (p: Buffer) => p.buffer === chunk.buffer && p.byteOffset >= chunk.byteOffset && p.byteOffset < chunk.byteOffset + chunk.length;
			assert.ok(inChunk(payloads[0]), 'view into the pushed chunk');
			assert.ok(!inChunk(payloads[3]), 'masked payload is an unmasked copy');
		});

		it('takes RSV1 from the first frame only', () => {
			const { parser, seen } = collect(100);
			parser.push(Buffer.concat([frame('ab', { opcode: 1, fin: false, rsv1: true }), frame('cd', { opcode: 0 }), frame('x', { opcode: 1 })]));
			assert.deepEqual(seen.map((m) => [m.compressed, m.payload.toString()]), [[true, 'abcd'], [false, 'x']]);
		});

		it('stops at a protocol violation without throwing, and reports nothing after it', () => {
			const violations = [
				Buffer.from([0x83, 0x00]), // reserved opcode 3
				Buffer.from([0x80, 0x00]), // continuation without a message
				Buffer.from([0x09, 0x00]), // fragmented ping
				Buffer.concat([Buffer.from([0x89, 0x7e, 0x00, 0x7e]), Buffer.alloc(126)]), // 126-byte ping
				Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]), // 64-bit length with the top bit set
				Buffer.concat([frame('a', { opcode: 1, fin: false }), frame('b', { opcode: 1 })]), // new message inside a fragmented one
			];
			for (const bad of violations) {
				const { parser, seen } = collect(100);
				parser.push(frame('before', { opcode: 1 }));
				assert.doesNotThrow(() => parser.push(Buffer.concat([bad, frame('after', { opcode: 1 })])));
				parser.push(frame('later', { opcode: 1 }));
				assert.deepEqual(seen.map((m) => m.payload.toString()), ['before'], bad.toString('hex'));
				assert.equal(parser.active, false);
			}
		});

		it('never throws on random input and never modifies it', () => {
			for (let i = 0; i < 2000; i++) {
				const chunk = randomBytes(1 + (i % 300));
				const copy = Buffer.from(chunk);
				const parser = new WebSocketFrameParser(50, () => { });
				assert.doesNotThrow(() => {
					parser.push(chunk);
					parser.push(chunk);
				});
				assert.ok(chunk.equals(copy));
			}
		});

		it('survives a throwing listener', () => {
			let calls = 0;
			const parser = new WebSocketFrameParser(10, () => {
				calls++;
				throw new Error('listener');
			});
			assert.doesNotThrow(() => parser.push(Buffer.concat([frame('a', { opcode: 1 }), frame('b', { opcode: 1 })])));
			assert.equal(calls, 2);
		});

		it('throughput: parses 1 KiB frames, unmasked (views) and masked (unmasked copies)', () => {
			for (const mask of [false, true]) {
				const one = frame(randomBytes(1024), { opcode: 2, mask });
				const chunk = Buffer.concat(Array.from({ length: 64 }, () => one));
				let messages = 0;
				const parser = new WebSocketFrameParser(1024 * 1024, () => messages++);
				const started = performance.now();
				for (let i = 0; i < 512; i++) parser.push(chunk);
				const ms = performance.now() - started;
				const mib = (chunk.length * 512) / 1048576;
				console.log(`      ${mask ? 'masked' : 'unmasked'}: ${(mib / ms * 1000).toFixed(0)} MiB/s, ${(messages / ms / 1000).toFixed(2)} M messages/s`);
				assert.equal(messages, 64 * 512);
			}
		});

		it('counts sizes beyond the kept cap for a 64-bit length without buffering', () => {
			const { parser, seen } = collect(8);
			const header = Buffer.from([0x82, 0x7f, 0, 0, 0, 0x01, 0, 0, 0, 0]); // 2^32 bytes
			parser.push(header);
			const block = Buffer.alloc(1024 * 1024, 0xab);
			for (let i = 0; i < 4096; i++) parser.push(block);
			assert.equal(seen.length, 1);
			assert.equal(seen[0].size, 2 ** 32);
			assert.equal(seen[0].truncated, true);
			assert.equal(seen[0].payload.toString('hex'), 'ab'.repeat(8));
		});
	});
});
