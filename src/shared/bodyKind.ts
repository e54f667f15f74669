import { mediaType } from './summary';

/** What a body is, for showing and exporting it. */
export type BodyKind = 'empty' | 'text' | 'json' | 'xml' | 'html' | 'javascript' | 'css' | 'image' | 'binary';

/** Bodies are sniffed (UTF-8, JSON, control characters) on at most this many leading bytes. */
const SNIFF_BYTES = 64 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The one rule for what a (decoded) body is, used by the details view, the editor, HAR and everything
 * else that must tell text from bytes, so that a body shown as text is exported as text. By its media
 * type first; unlabelled or generic bodies are sniffed: JSON (APIs often forget the header), then text
 * when the first 64 KiB are UTF-8 (a sequence cut at that boundary still counts) without C0 control
 * characters other than tab, line breaks and escape (coloured logs); anything else is binary.
 */
export function bodyKind(contentType: string | undefined, body: Uint8Array): BodyKind {
	if (body.length === 0) return 'empty';
	const mime = mediaType(contentType);
	if (mime === 'application/json' || mime.endsWith('+json') || mime === 'application/x-ndjson') return 'json';
	if (mime === 'image/svg+xml') return 'xml';
	if (mime.startsWith('image/')) return 'image';
	if (mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
	if (mime === 'application/xml' || mime === 'text/xml' || mime.endsWith('+xml')) return 'xml';
	if (/^(text|application)\/(javascript|ecmascript|x-javascript)$/.test(mime)) return 'javascript';
	if (mime === 'text/css') return 'css';
	if (mime.startsWith('text/') || mime === 'application/x-www-form-urlencoded' || mime === 'application/graphql') return 'text';
	if (/^(audio|video|font)\//.test(mime) || /^application\/(octet-stream|wasm|zip|gzip|pdf|protobuf|x-protobuf)$/.test(mime)) return 'binary';
	let text: string;
	try {
		text = strictUtf8.decode(body.subarray(0, Math.min(body.length, SNIFF_BYTES)));
	} catch {
		return body.length > SNIFF_BYTES && isUtf8Prefix(body.subarray(0, SNIFF_BYTES)) ? 'text' : 'binary';
	}
	const trimmed = text.trimStart();
	if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && isJson(body)) return 'json';
	// eslint-disable-next-line no-control-regex
	return /[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/.test(text) ? 'binary' : 'text';
}

/** Whether bodies of `kind` are text (shown and exported as a string) rather than bytes. */
export function isTextKind(kind: BodyKind): boolean {
	return kind !== 'image' && kind !== 'binary';
}

/** A text body as a string: in the charset its Content-Type names, else UTF-8 (invalid bytes as U+FFFD). */
export function bodyText(body: Uint8Array, contentType: string | undefined): string {
	const charset = /;\s*charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
	if (charset !== undefined) {
		try {
			return new TextDecoder(charset, { ignoreBOM: false }).decode(body);
		} catch {
			// Unknown label: UTF-8 below.
		}
	}
	return new TextDecoder('utf-8').decode(body);
}

function isUtf8Prefix(bytes: Uint8Array): boolean {
	for (let cut = 1; cut <= 3; cut++) {
		try {
			strictUtf8.decode(bytes.subarray(0, bytes.length - cut));
			return true;
		} catch {
			// Try a shorter prefix.
		}
	}
	return false;
}

function isJson(body: Uint8Array): boolean {
	try {
		JSON.parse(lenientUtf8.decode(body));
		return true;
	} catch {
		return false;
	}
}
