import * as zlib from 'node:zlib';

/** The outcome of decoding a body for display. */
export interface DecodedBody {
	/** The body decoded by exactly the codings in `decodedWith` (the raw body when that is empty). */
	readonly body: Buffer;
	/** Codings undone, in the order they were undone (the reverse of the header's order). */
	readonly decodedWith: string[];
	/** Why decoding stopped short, when it did; `body` is then as far as decoding got. */
	readonly error?: string;
	/** Something worth showing next to a successfully decoded body, e.g. that it is only a prefix. */
	readonly note?: string;
}

/** Options for {@link decodeBody} and {@link decodeBodySync}. */
export interface DecodeOptions {
	/** Largest decoded size accepted, against decompression bombs. Default 64 MiB. */
	readonly maxOutputLength?: number;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

// Node 22.15+ / 23.8+ have zstd; Node 20's type definitions do not know it, so look it up by name.
const zlibByName = zlib as unknown as Record<string, unknown>;
type ZstdSync = (buffer: Buffer, options?: { maxOutputLength?: number }) => Buffer;
type ZstdAsync = (buffer: Buffer, options: { maxOutputLength?: number }, callback: (error: Error | null, result: Buffer) => void) => void;
const zstdDecompressSync = typeof zlibByName.zstdDecompressSync === 'function' ? zlibByName.zstdDecompressSync as ZstdSync : undefined;
const zstdDecompress = typeof zlibByName.zstdDecompress === 'function' ? zlibByName.zstdDecompress as ZstdAsync : undefined;

/** True when this Node runtime can decode zstd. */
export const zstdSupported = zstdDecompressSync !== undefined && zstdDecompress !== undefined;

type Algorithm = 'gunzip' | 'inflate' | 'inflateRaw' | 'brotli' | 'zstd';

/** One decompression the decoding logic asks its driver (sync or async) to run. */
interface Operation {
	readonly algorithm: Algorithm;
	readonly input: Buffer;
	/** Decode as much as the input holds instead of failing when it ends early. */
	readonly lenient: boolean;
	readonly maxOutputLength: number;
}

// The decoding logic is written once, as a generator that yields operations; the sync and async
// drivers below run them with zlib's sync or callback API and send the result (or throw the error) back.
type Steps = Generator<Operation, DecodedBody, Buffer>;

/**
 * Decodes a body as sent with `Content-Encoding` (gzip, x-gzip, deflate in its zlib and raw forms, br,
 * zstd where Node has it, identity, and lists of them). A body cut short by the capture cap decodes as
 * far as it goes, with a note. Runs zlib off the main thread; call it only when a body is displayed or
 * exported, never on the forwarding path.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, options: DecodeOptions = {}): Promise<DecodedBody> {
	const steps = decodeSteps(raw, contentEncoding, options.maxOutputLength ?? DEFAULT_MAX_OUTPUT);
	let next = steps.next();
	while (!next.done) {
		let result: Buffer;
		try {
			result = await runAsync(next.value);
		} catch (error) {
			next = steps.throw(error);
			continue;
		}
		next = steps.next(result);
	}
	return next.value;
}

/** {@link decodeBody} on the calling thread, for exports that are synchronous (HAR). */
export function decodeBodySync(raw: Buffer, contentEncoding: string | undefined, options: DecodeOptions = {}): DecodedBody {
	const steps = decodeSteps(raw, contentEncoding, options.maxOutputLength ?? DEFAULT_MAX_OUTPUT);
	let next = steps.next();
	while (!next.done) {
		let result: Buffer;
		try {
			result = runSync(next.value);
		} catch (error) {
			next = steps.throw(error);
			continue;
		}
		next = steps.next(result);
	}
	return next.value;
}

/** Splits a `Content-Encoding` value into lowercase codings, in header order. */
export function parseContentEncoding(contentEncoding: string | undefined): string[] {
	if (contentEncoding === undefined) return [];
	return contentEncoding.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding.length > 0);
}

function* decodeSteps(raw: Buffer, contentEncoding: string | undefined, maxOutputLength: number): Steps {
	const codings = parseContentEncoding(contentEncoding);
	const decodedWith: string[] = [];
	const notes: string[] = [];
	let body = raw;
	const result = (error?: string): DecodedBody => ({
		body,
		decodedWith,
		...(error !== undefined ? { error } : {}),
		...(notes.length > 0 ? { note: notes.join('; ') } : {}),
	});
	// Codings are listed in the order they were applied (RFC 9110 8.4), so undo them from the end.
	for (let i = codings.length - 1; i >= 0; i--) {
		const coding = codings[i];
		if (coding === 'identity') continue;
		let algorithm: Algorithm;
		if (coding === 'gzip' || coding === 'x-gzip') {
			algorithm = 'gunzip';
		} else if (coding === 'deflate') {
			// "deflate" means the zlib format (RFC 9110 8.4.1.2), but some servers send raw deflate.
			algorithm = hasZlibHeader(body) ? 'inflate' : 'inflateRaw';
		} else if (coding === 'br') {
			algorithm = 'brotli';
		} else if (coding === 'zstd') {
			if (!zstdSupported) {
				return result(`zstd decoding needs Node.js 22.15 or later (this is ${process.version}); showing the body still zstd-encoded`);
			}
			algorithm = 'zstd';
		} else {
			return result(`unsupported content-encoding "${coding}"`);
		}
		if (body.length === 0) {
			decodedWith.push(coding);
			continue;
		}
		let decoded: Buffer;
		try {
			decoded = yield { algorithm, input: body, lenient: false, maxOutputLength };
		} catch (strictError) {
			if (isTooLarge(strictError)) return result(`${coding}: decoded body is larger than ${maxOutputLength} bytes`);
			// Perhaps the input was cut short (the capture cap): decode the prefix it holds.
			try {
				decoded = yield { algorithm, input: body, lenient: true, maxOutputLength };
			} catch {
				return result(`${coding}: ${errorMessage(strictError)}`);
			}
			if (decoded.length === 0) return result(`${coding}: ${errorMessage(strictError)}`);
			notes.push(`${coding} input ended early; decoded the ${decoded.length} bytes it held`);
		}
		body = decoded;
		decodedWith.push(coding);
	}
	return result();
}

function hasZlibHeader(body: Buffer): boolean {
	// RFC 1950 2.2: CM = 8 (deflate) and the first two bytes, big-endian, a multiple of 31.
	return body.length >= 2 && (body[0] & 0x0f) === 8 && ((body[0] << 8) | body[1]) % 31 === 0;
}

function isTooLarge(error: unknown): boolean {
	return error instanceof RangeError || (error as { code?: unknown } | undefined)?.code === 'ERR_BUFFER_TOO_LARGE';
}

function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

function zlibOptions(operation: Operation): zlib.ZlibOptions {
	return operation.lenient
		? { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: operation.maxOutputLength }
		: { maxOutputLength: operation.maxOutputLength };
}

function brotliOptions(operation: Operation): zlib.BrotliOptions {
	return operation.lenient
		? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: operation.maxOutputLength }
		: { maxOutputLength: operation.maxOutputLength };
}

function runSync(operation: Operation): Buffer {
	const input = operation.input;
	switch (operation.algorithm) {
		case 'gunzip': return zlib.gunzipSync(input, zlibOptions(operation));
		case 'inflate': return zlib.inflateSync(input, zlibOptions(operation));
		case 'inflateRaw': return zlib.inflateRawSync(input, zlibOptions(operation));
		case 'brotli': return zlib.brotliDecompressSync(input, brotliOptions(operation));
		case 'zstd': return zstdDecompressSync!(input, { maxOutputLength: operation.maxOutputLength });
	}
}

function runAsync(operation: Operation): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const done = (error: Error | null, result: Buffer) => error ? reject(error) : resolve(result);
		const input = operation.input;
		switch (operation.algorithm) {
			case 'gunzip': return zlib.gunzip(input, zlibOptions(operation), done);
			case 'inflate': return zlib.inflate(input, zlibOptions(operation), done);
			case 'inflateRaw': return zlib.inflateRaw(input, zlibOptions(operation), done);
			case 'brotli': return zlib.brotliDecompress(input, brotliOptions(operation), done);
			case 'zstd': return zstdDecompress!(input, { maxOutputLength: operation.maxOutputLength }, done);
		}
	});
}

// permessage-deflate strips this empty stored block from every message (RFC 7692 7.2.1); put it back.
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Inflates one permessage-deflate WebSocket payload (RFC 7692). Works for messages that do not refer
 * back to earlier ones: the first message of a connection, or any message when the endpoints agreed on
 * `no_context_takeover`. Later messages of a context-takeover connection may fail: then the error says so.
 */
export async function decodeWebSocketPayload(payload: Uint8Array, options: DecodeOptions = {}): Promise<DecodedBody> {
	return new Promise((resolve) => {
		zlib.inflateRaw(Buffer.concat([payload, DEFLATE_TAIL]), websocketInflateOptions(options), (error, result) => {
			resolve(websocketResult(payload, error, result, options));
		});
	});
}

/** {@link decodeWebSocketPayload} on the calling thread, for synchronous exports (HAR). */
export function decodeWebSocketPayloadSync(payload: Uint8Array, options: DecodeOptions = {}): DecodedBody {
	try {
		return websocketResult(payload, null, zlib.inflateRawSync(Buffer.concat([payload, DEFLATE_TAIL]), websocketInflateOptions(options)), options);
	} catch (error) {
		return websocketResult(payload, error as Error, undefined, options);
	}
}

function websocketInflateOptions(options: DecodeOptions): zlib.ZlibOptions {
	return { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: options.maxOutputLength ?? DEFAULT_MAX_OUTPUT };
}

function websocketResult(payload: Uint8Array, error: Error | null, result: Buffer | undefined, options: DecodeOptions): DecodedBody {
	if (error === null && result !== undefined) return { body: result, decodedWith: ['permessage-deflate'] };
	const reason = isTooLarge(error)
		? `decoded message is larger than ${options.maxOutputLength ?? DEFAULT_MAX_OUTPUT} bytes`
		: `${errorMessage(error)} (a message that refers back to earlier ones cannot be inflated alone)`;
	return { body: Buffer.from(payload), decodedWith: [], error: `permessage-deflate: ${reason}` };
}
