/** A complete WebSocket message (or control frame) seen by a {@link WebSocketFrameParser}. */
export interface ParsedWebSocketMessage {
	/** 1 text, 2 binary, 8 close, 9 ping, 10 pong (of the first frame for fragmented messages). */
	readonly opcode: number;
	/** Payload bytes over all fragments, as on the wire (compressed when `compressed`). */
	readonly size: number;
	/** The first `maxPayload` bytes of the payload, unmasked. May be a view into a pushed chunk. */
	readonly payload: Buffer;
	readonly truncated: boolean;
	/** RSV1 was set on the first frame: the payload is permessage-deflate compressed (RFC 7692). */
	readonly compressed: boolean;
}

const EMPTY = Buffer.alloc(0);

// 2^53 / 2^32: a 64-bit length whose high word is above this does not fit a safe JS integer.
const MAX_HIGH_WORD = 0x1fffff;

/** Collects the kept bytes of one message (data or control) while counting all of them. */
class Accumulator {
	readonly parts: Buffer[] = [];
	kept = 0;
	size = 0;
	truncated = false;

	take(): Buffer {
		const parts = this.parts;
		const payload = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts, this.kept);
		parts.length = 0;
		this.kept = 0;
		this.size = 0;
		this.truncated = false;
		return payload;
	}
}

/**
 * A passive, streaming RFC 6455 frame parser for one direction of a WebSocket connection: fed the raw
 * bytes as they pass (split anywhere, many frames per chunk), it reports whole messages. It only reads
 * its input and never throws; on a protocol violation (https://www.rfc-editor.org/rfc/rfc6455#section-5)
 * it stops reporting for this stream, because after a framing error it cannot know where frames start,
 * and the endpoints will close the connection anyway.
 *
 * Client frames are unmasked into the kept copy. Fragmented messages are reassembled, with control
 * frames allowed in between. Unmasked payloads are kept as views into the pushed chunks (no copy) when
 * a message arrives in one piece.
 */
export class WebSocketFrameParser {
	private readonly header = Buffer.alloc(14);
	private headerLength = 0;
	private headerNeeded = 2;
	private inPayload = false;
	private stopped = false;

	// The frame being read.
	private frameFin = false;
	private frameOpcode = 0;
	private frameMasked = false;
	private readonly mask = Buffer.alloc(4);
	private frameOffset = 0;
	private remaining = 0;
	private target: Accumulator;

	// The data message being reassembled (it may span frames).
	private messageActive = false;
	private messageOpcode = 0;
	private messageCompressed = false;
	private readonly data = new Accumulator();
	private readonly control = new Accumulator();

	/**
	 * @param maxPayload bytes kept per message; the rest is counted in `size` and marks it `truncated`.
	 * @param onMessage called synchronously from {@link push} for each complete message; its exceptions are swallowed.
	 */
	constructor(
		private readonly maxPayload: number,
		private readonly onMessage: (message: ParsedWebSocketMessage) => void,
	) {
		this.target = this.data;
	}

	/** False after a protocol violation: later input is ignored. */
	get active(): boolean {
		return !this.stopped;
	}

	/** Feeds the next bytes of the stream. Never throws, never modifies `chunk`. */
	push(chunk: Buffer): void {
		if (this.stopped) return;
		try {
			this.parse(chunk);
		} catch {
			// Not expected; but a capture bug must not break the connection it watches.
			this.stop();
		}
	}

	private parse(chunk: Buffer): void {
		const length = chunk.length;
		let pos = 0;
		while (pos < length) {
			if (!this.inPayload) {
				while (this.headerLength < this.headerNeeded && pos < length) {
					this.header[this.headerLength++] = chunk[pos++];
					if (this.headerLength === 2) this.headerNeeded = headerSize(this.header[1]);
				}
				if (this.headerLength < this.headerNeeded) return;
				if (!this.startFrame()) {
					this.stop();
					return;
				}
				if (this.remaining === 0) this.endFrame();
				continue;
			}
			const take = Math.min(this.remaining, length - pos);
			this.consume(chunk, pos, take);
			pos += take;
			this.remaining -= take;
			if (this.remaining === 0) this.endFrame();
		}
	}

	/** Decodes the collected header; false on a protocol violation. */
	private startFrame(): boolean {
		const header = this.header;
		const b0 = header[0];
		const b1 = header[1];
		this.headerLength = 0;
		this.headerNeeded = 2;
		const fin = (b0 & 0x80) !== 0;
		const rsv1 = (b0 & 0x40) !== 0;
		const opcode = b0 & 0x0f;
		const masked = (b1 & 0x80) !== 0;
		let payloadLength = b1 & 0x7f;
		let offset = 2;
		if (payloadLength === 126) {
			payloadLength = header.readUInt16BE(2);
			offset = 4;
		} else if (payloadLength === 127) {
			const high = header.readUInt32BE(2);
			// The most significant bit must be 0 (RFC 6455 5.2); beyond 2^53 we could not count anyway.
			if (high > MAX_HIGH_WORD) return false;
			payloadLength = high * 0x100000000 + header.readUInt32BE(6);
			offset = 10;
		}
		if (masked) header.copy(this.mask, 0, offset, offset + 4);

		if (opcode >= 8) {
			// Control frames: close, ping, pong; never fragmented, at most 125 bytes (RFC 6455 5.5).
			if (opcode > 10 || !fin || payloadLength > 125) return false;
			this.target = this.control;
		} else if (opcode === 0) {
			if (!this.messageActive) return false;
			this.target = this.data;
		} else if (opcode === 1 || opcode === 2) {
			if (this.messageActive) return false;
			this.messageActive = true;
			this.messageOpcode = opcode;
			// RSV1 on the first frame marks a compressed message (RFC 7692 6); other extensions' RSV bits
			// are not ours to judge.
			this.messageCompressed = rsv1;
			this.target = this.data;
		} else {
			return false;
		}
		this.frameFin = fin;
		this.frameOpcode = opcode;
		this.frameMasked = masked;
		this.frameOffset = 0;
		this.remaining = payloadLength;
		this.inPayload = payloadLength > 0;
		return true;
	}

	private consume(chunk: Buffer, pos: number, take: number): void {
		const acc = this.target;
		acc.size += take;
		const room = this.maxPayload - acc.kept;
		const keep = room < take ? Math.max(0, room) : take;
		if (keep < take) acc.truncated = true;
		if (keep > 0) {
			if (this.frameMasked) {
				const mask = this.mask;
				const out = Buffer.allocUnsafe(keep);
				const base = this.frameOffset;
				for (let i = 0; i < keep; i++) out[i] = chunk[pos + i] ^ mask[(base + i) & 3];
				acc.parts.push(out);
			} else {
				acc.parts.push(chunk.subarray(pos, pos + keep));
			}
			acc.kept += keep;
		}
		this.frameOffset += take;
	}

	private endFrame(): void {
		this.inPayload = false;
		if (this.frameOpcode >= 8) {
			this.emit(this.frameOpcode, this.control, false);
		} else if (this.frameFin) {
			this.messageActive = false;
			this.emit(this.messageOpcode, this.data, this.messageCompressed);
		}
	}

	private emit(opcode: number, acc: Accumulator, compressed: boolean): void {
		const size = acc.size;
		const truncated = acc.truncated;
		const payload = acc.take();
		try {
			this.onMessage({ opcode, size, payload, truncated, compressed });
		} catch {
			// The listener's problem; parsing (and the connection) go on.
		}
	}

	private stop(): void {
		this.stopped = true;
		this.data.take();
		this.control.take();
	}
}

/** Header bytes implied by the second header byte: base, extended length, masking key. */
function headerSize(b1: number): number {
	const length = b1 & 0x7f;
	return 2 + (length === 126 ? 2 : length === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}
