import { CertError } from './errors';
import type { NameConstraintSet, NameSubtree } from './names';

/**
 * DER for the X.509 NameConstraints extension (RFC 5280 §4.2.1.10). @peculiar/x509 has no class for
 * it and its IP converter cannot express address/mask pairs, so the few tags involved are encoded
 * here by hand:
 *
 *   NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *                                  excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 *   GeneralSubtree  ::= SEQUENCE { base GeneralName, ... }   -- minimum/maximum left at defaults
 *   GeneralName     ::= dNSName [2] IA5String | iPAddress [7] OCTET STRING (address || mask) | ...
 */

const SEQUENCE = 0x30, PERMITTED = 0xa0, EXCLUDED = 0xa1, DNS_NAME = 0x82, IP_ADDRESS = 0x87;

/** The extension's OID: id-ce-nameConstraints. */
export const NAME_CONSTRAINTS_OID = '2.5.29.30';

/** Encodes permitted and excluded subtrees as the extension's DER value. */
export function encodeNameConstraints(set: NameConstraintSet): Uint8Array {
	const subtrees = (list: readonly NameSubtree[]) => list.map((subtree) => tlv(SEQUENCE, generalName(subtree)));
	const parts: Uint8Array[] = [];
	if (set.permitted.length) { parts.push(tlv(PERMITTED, ...subtrees(set.permitted))); }
	if (set.excluded.length) { parts.push(tlv(EXCLUDED, ...subtrees(set.excluded))); }
	return tlv(SEQUENCE, ...parts);
}

/**
 * Decodes the extension's DER value. Name types other than DNS and IP are skipped: they cannot
 * constrain the server names TLS Lens issues.
 */
export function decodeNameConstraints(der: Uint8Array): NameConstraintSet {
	const permitted: NameSubtree[] = [];
	const excluded: NameSubtree[] = [];
	const outer = readTlv(der, 0);
	if (outer.tag !== SEQUENCE || outer.end !== der.length) { throw malformed(); }
	for (const group of children(der, outer)) {
		const target = group.tag === PERMITTED ? permitted : group.tag === EXCLUDED ? excluded : undefined;
		if (!target) { throw malformed(); }
		for (const subtree of children(der, group)) {
			const name = readTlv(der, subtree.start);
			const value = der.subarray(name.start, name.end);
			if (name.tag === DNS_NAME) {
				target.push({ kind: 'dns', value: new TextDecoder().decode(value).toLowerCase().replace(/^\.+/, '') });
			} else if (name.tag === IP_ADDRESS && (value.length === 8 || value.length === 32)) {
				const half = value.length / 2;
				target.push({ kind: 'ip', address: value.slice(0, half), mask: value.slice(half) });
			}
		}
	}
	return { permitted, excluded };
}

function generalName(subtree: NameSubtree): Uint8Array {
	return subtree.kind === 'dns'
		? tlv(DNS_NAME, new TextEncoder().encode(subtree.value))
		: tlv(IP_ADDRESS, subtree.address, subtree.mask);
}

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
	const length = contents.reduce((n, part) => n + part.length, 0);
	const lengthBytes = length < 0x80 ? [length] : length < 0x100 ? [0x81, length] : [0x82, length >> 8, length & 0xff];
	const out = new Uint8Array(1 + lengthBytes.length + length);
	out[0] = tag;
	out.set(lengthBytes, 1);
	let offset = 1 + lengthBytes.length;
	for (const part of contents) { out.set(part, offset); offset += part.length; }
	return out;
}

interface Tlv { tag: number; start: number; end: number }

function readTlv(der: Uint8Array, offset: number): Tlv {
	if (offset + 2 > der.length) { throw malformed(); }
	const tag = der[offset];
	let length = der[offset + 1];
	let start = offset + 2;
	if (length & 0x80) {
		const count = length & 0x7f;
		if (count < 1 || count > 3 || start + count > der.length) { throw malformed(); }
		length = 0;
		for (let i = 0; i < count; i++) { length = (length << 8) | der[start + i]; }
		start += count;
	}
	if (start + length > der.length) { throw malformed(); }
	return { tag, start, end: start + length };
}

function* children(der: Uint8Array, parent: Tlv): Generator<Tlv> {
	for (let offset = parent.start; offset < parent.end;) {
		const child = readTlv(der, offset);
		if (child.end > parent.end) { throw malformed(); }
		yield child;
		offset = child.end;
	}
}

function malformed(): CertError {
	return new CertError('CA_CORRUPT', 'The CA certificate has a malformed name constraints extension.');
}
