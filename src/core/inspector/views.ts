import type { BodySide, CaptureStore } from '../capture/captureStore';
import { decodeBody, decodeWebSocketPayload } from './bodyDecoding';
import { arrivalAt, parseEventStream } from './eventStream';
import { bodyKind, bodyText, type BodyKind } from '../../shared/bodyKind';
import type { Exchange, ExchangeId, WebSocketMessage } from '../../shared/exchange';
import {
	HEX_DUMP_BYTES, MAX_MESSAGES_IN_DETAILS, MAX_TEXT_CHARS, MESSAGE_PREVIEW_BYTES, MESSAGE_PREVIEW_CHARS,
	type BodyView, type EventView, type ExchangeDetails, type ImageData, type MessageView,
} from '../../shared/protocol';
import { headerValue, mediaType, requestUrl, summarize, timingPhases } from '../../shared/summary';

/** The Details pane of one exchange (no bodies), or undefined when the store no longer has it. */
export async function exchangeDetails(store: CaptureStore, id: ExchangeId): Promise<ExchangeDetails | undefined> {
	const exchange = store.get(id);
	if (exchange === undefined) return undefined;
	const details: ExchangeDetails = {
		summary: summarize(exchange),
		url: exchange.request ? requestUrl(exchange.request.authority, exchange.request.path) : '',
		client: exchange.client,
		request: exchange.request,
		response: exchange.response,
		requestBody: { ...exchange.requestBody },
		responseBody: { ...exchange.responseBody },
		timings: { ...exchange.timings },
		phases: timingPhases(exchange),
		tls: exchange.tls,
		error: exchange.error,
	};
	// The capture times the chunks of exactly the responses that are event streams: one rule, its.
	const arrivals = store.bodyArrivals(id, 'response');
	if (arrivals !== undefined) return { ...details, ...await eventsOf(store, exchange, arrivals) };
	if (exchange.messages !== undefined) {
		const all = exchange.messages;
		const first = Math.max(0, all.length - MAX_MESSAGES_IN_DETAILS);
		const messages: MessageView[] = [];
		for (let i = first; i < all.length; i++) messages.push(await messageView(all[i], i));
		return { ...details, messages, messagesOmitted: first };
	}
	return details;
}

/** The EventStream tab's part of the details: the events kept so far, with their arrival times. */
async function eventsOf(store: CaptureStore, exchange: Exchange, received: readonly number[]): Promise<Pick<ExchangeDetails, 'events' | 'eventsOmitted' | 'eventsNote'>> {
	const raw = store.body(exchange.id, 'response') ?? Buffer.alloc(0);
	const encoding = headerValue(exchange.response?.headers, 'content-encoding');
	const notes: string[] = [];
	let body: Uint8Array = raw;
	// Arrival offsets are offsets into the bytes as received: usable only when those are the events' bytes.
	let arrivals: readonly number[] | undefined = received;
	if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
		// A stream still arriving decodes only so far: its events up to there are shown.
		const decoded = await decodeBody(raw, encoding);
		if (decoded.error !== undefined) notes.push(`Decoding stopped: ${decoded.error}.`);
		body = decoded.body;
		arrivals = undefined;
		notes.push(`The stream is ${encoding}-encoded, so the times of its events are not known.`);
	}
	if (exchange.responseBody.truncated) notes.push(`The capture kept the first ${exchange.responseBody.captured.toLocaleString('en-US')} bytes of the stream (tlsLens.capture.bodyLimit): later events are not shown.`);
	const parsed = parseEventStream(body, exchange.state !== 'pending');
	const first = Math.max(0, parsed.length - MAX_MESSAGES_IN_DETAILS);
	const events: EventView[] = [];
	for (let i = first; i < parsed.length; i++) {
		const event = parsed[i];
		const cut = event.data.length > MESSAGE_PREVIEW_CHARS;
		const time = arrivalAt(arrivals, event.end - 1);
		events.push({
			index: i, id: event.id, type: event.type, data: cut ? event.data.slice(0, MESSAGE_PREVIEW_CHARS) : event.data, previewCut: cut,
			...(time !== undefined ? { time } : {}), ...(event.retry !== undefined ? { retry: event.retry } : {}),
		});
	}
	return { events, eventsOmitted: first, ...(notes.length > 0 ? { eventsNote: notes.join(' ') } : {}) };
}

const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

async function messageView(message: WebSocketMessage, index: number): Promise<MessageView> {
	let payload: Uint8Array = message.payload;
	let note: string | undefined;
	if (message.compressed) {
		const decoded = await decodeWebSocketPayload(payload, { maxOutputLength: 4 * 1024 * 1024 });
		if (decoded.error === undefined) payload = decoded.body;
		else note = decoded.error;
	}
	const base = { index, direction: message.direction, opcode: message.opcode, size: message.size, time: message.time, truncated: message.truncated, compressed: message.compressed };
	if ((message.opcode === 1 || message.opcode === 0) && note === undefined) {
		const text = lenientUtf8.decode(payload.subarray(0, MESSAGE_PREVIEW_CHARS * 4));
		const cut = text.length > MESSAGE_PREVIEW_CHARS || payload.length > MESSAGE_PREVIEW_CHARS * 4;
		return { ...base, text: cut ? text.slice(0, MESSAGE_PREVIEW_CHARS) : text, previewCut: cut, ...(note ? { note } : {}) };
	}
	if (message.opcode === 8 && payload.length >= 2) {
		const reason = lenientUtf8.decode(payload.subarray(2));
		return { ...base, text: `close ${(payload[0] << 8) | payload[1]}${reason ? ' ' + reason : ''}`, previewCut: false };
	}
	const shown = payload.subarray(0, MESSAGE_PREVIEW_BYTES);
	return { ...base, hex: hexDump(shown), previewCut: payload.length > shown.length, ...(note ? { note } : {}) };
}

/** `00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|` lines. */
export function hexDump(bytes: Uint8Array, limit = HEX_DUMP_BYTES): string {
	const n = Math.min(bytes.length, limit);
	const lines: string[] = [];
	for (let offset = 0; offset < n; offset += 16) {
		let hex = '';
		let ascii = '';
		for (let i = 0; i < 16; i++) {
			if (i === 8) hex += ' ';
			if (offset + i < n) {
				const b = bytes[offset + i];
				hex += (b < 16 ? '0' : '') + b.toString(16) + ' ';
				ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
			} else {
				hex += '   ';
			}
		}
		lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
	}
	return lines.join('\n');
}

const LANGUAGE: Record<BodyKind, string> = {
	empty: 'plaintext', text: 'plaintext', json: 'json', xml: 'xml', html: 'html', javascript: 'javascript', css: 'css', image: 'plaintext', binary: 'plaintext',
};

/**
 * Re-indents JSON without parsing its values (so big numbers, duplicate keys and key order stay exactly
 * as sent). Call only on text that parses as JSON.
 */
export function prettyJson(text: string, indent = '  '): string {
	let out = '';
	let depth = 0;
	let inString = false;
	const newline = () => '\n' + indent.repeat(depth);
	for (let i = 0; i < text.length; i++) {
		const c = text[i];
		if (inString) {
			out += c;
			if (c === '\\') {
				out += text[++i] ?? '';
			} else if (c === '"') {
				inString = false;
			}
			continue;
		}
		switch (c) {
			case '"': inString = true; out += c; break;
			case '{': case '[': {
				// Empty containers stay on one line.
				let j = i + 1;
				while (j < text.length && /\s/.test(text[j])) j++;
				if (text[j] === (c === '{' ? '}' : ']')) {
					out += c + text[j];
					i = j;
				} else {
					depth++;
					out += c + newline();
				}
				break;
			}
			case '}': case ']': depth = Math.max(0, depth - 1); out += newline() + c; break;
			case ',': out += c + newline(); break;
			case ':': out += ': '; break;
			case ' ': case '\t': case '\n': case '\r': break;
			default: out += c;
		}
	}
	return out;
}

/** Indents XML by element nesting, when it is a plain tag soup we can follow; otherwise the text itself. */
export function prettyXml(text: string, indent = '  '): string {
	// Leave documents with a DOCTYPE internal subset or CDATA alone: a naive indenter would change them.
	if (/<!\[CDATA\[|<!DOCTYPE[^>]*\[/i.test(text)) return text;
	const tokens = text.replace(/>\s+</g, '><').split(/(?=<)|(?<=>)/);
	let depth = 0;
	const lines: string[] = [];
	for (const token of tokens) {
		if (token.length === 0) continue;
		if (token.startsWith('</')) {
			depth = Math.max(0, depth - 1);
			lines.push(indent.repeat(depth) + token);
		} else if (token.startsWith('<?') || token.startsWith('<!') || token.endsWith('/>') || !token.startsWith('<')) {
			lines.push(indent.repeat(depth) + token);
		} else {
			lines.push(indent.repeat(depth) + token);
			depth++;
		}
	}
	// `<a>text</a>` on one line.
	const joined: string[] = [];
	for (let i = 0; i < lines.length; i++) {
		const open = lines[i];
		const textLine = lines[i + 1];
		const close = lines[i + 2];
		if (textLine !== undefined && close !== undefined && !textLine.trimStart().startsWith('<') && close.trimStart().startsWith('</')
			&& open.trimStart().startsWith('<') && !open.trimStart().startsWith('</')) {
			joined.push(open + textLine.trimStart() + close.trimStart());
			i += 2;
		} else {
			joined.push(open);
		}
	}
	return joined.join('\n');
}

interface Decoded {
	readonly exchange: Exchange;
	readonly contentType: string | undefined;
	readonly mime: string;
	readonly body: Buffer;
	readonly decodedWith: string[];
	readonly error?: string;
	readonly note?: string;
}

async function decoded(store: CaptureStore, id: ExchangeId, side: BodySide): Promise<Decoded | undefined> {
	const exchange = store.get(id);
	if (exchange === undefined) return undefined;
	const headers = side === 'request' ? exchange.request?.headers : exchange.response?.headers;
	const raw = store.body(id, side) ?? Buffer.alloc(0);
	const contentType = headerValue(headers, 'content-type');
	const result = await decodeBody(raw, headerValue(headers, 'content-encoding'));
	return { exchange, contentType, mime: mediaType(contentType), body: result.body, decodedWith: result.decodedWith, error: result.error, note: result.note };
}

/** Decodes (gzip, br, zstd …) and formats one body for the Request/Response tab. */
export async function bodyView(store: CaptureStore, id: ExchangeId, side: BodySide): Promise<BodyView | undefined> {
	const d = await decoded(store, id, side);
	if (d === undefined) return undefined;
	const info = side === 'request' ? d.exchange.requestBody : d.exchange.responseBody;
	// Still encoded (unsupported coding, or a decoding error): show bytes, not garbled text.
	const kind: BodyKind = d.error !== undefined && d.body.length > 0 ? 'binary' : bodyKind(d.contentType, d.body);
	const base = {
		side, kind, language: LANGUAGE[kind], mime: d.mime, info: { ...info }, decodedSize: d.body.length, decodedWith: d.decodedWith,
		...(d.error !== undefined ? { error: d.error } : {}), ...(d.note !== undefined ? { note: d.note } : {}),
	};
	if (kind === 'empty') return base;
	if (kind === 'image') return base;
	if (kind === 'binary') return { ...base, hex: hexDump(d.body), displayCut: d.body.length > HEX_DUMP_BYTES };
	let text = bodyText(d.body, d.contentType);
	let pretty = false;
	if (kind === 'json' && text.length <= MAX_TEXT_CHARS) {
		try {
			JSON.parse(text);
			const formatted = prettyJson(text);
			pretty = formatted !== text;
			text = formatted;
		} catch {
			// Not valid JSON (or cut by the cap): show it as it is.
		}
	} else if (kind === 'xml' && text.length <= MAX_TEXT_CHARS) {
		const formatted = prettyXml(text);
		pretty = formatted !== text;
		text = formatted;
	}
	const cut = text.length > MAX_TEXT_CHARS;
	return { ...base, text: cut ? text.slice(0, MAX_TEXT_CHARS) : text, pretty, displayCut: cut };
}

// Image types a browser renders in <img> without running anything (SVG in <img> runs no script either).
const SAFE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon|svg\+xml)$/;

/** The decoded bytes of an image body, for a preview the user asked for; undefined when not an image. */
export async function imageData(store: CaptureStore, id: ExchangeId, side: BodySide): Promise<ImageData | undefined> {
	const d = await decoded(store, id, side);
	if (d === undefined || d.error !== undefined || !SAFE_IMAGE.test(d.mime)) return undefined;
	return { mime: d.mime, bytes: new Uint8Array(d.body.buffer, d.body.byteOffset, d.body.byteLength) };
}

/** The full body as text for an editor document, with the language to give it. */
export async function editorContent(store: CaptureStore, id: ExchangeId, side: BodySide): Promise<{ content: string; language: string } | undefined> {
	const d = await decoded(store, id, side);
	if (d === undefined) return undefined;
	const kind: BodyKind = d.error !== undefined && d.body.length > 0 ? 'binary' : bodyKind(d.contentType, d.body);
	if (kind === 'binary' || kind === 'image') return { content: hexDump(d.body, d.body.length), language: 'plaintext' };
	let content = bodyText(d.body, d.contentType);
	if (kind === 'json') {
		try {
			JSON.parse(content);
			content = prettyJson(content);
		} catch {
			// As it is.
		}
	} else if (kind === 'xml') {
		content = prettyXml(content);
	}
	return { content, language: LANGUAGE[kind] };
}
