import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { CertError } from './errors';

/** A name a certificate can be issued for: a DNS name (possibly `*.` wildcard) or an IP address. */
export type HostName =
	| { readonly kind: 'dns'; readonly value: string }
	| { readonly kind: 'ip'; readonly value: string; readonly bytes: Uint8Array };

/** A permitted (or excluded) subtree of a name constraint: a DNS suffix or an IP range. */
export type NameSubtree =
	| { readonly kind: 'dns'; readonly value: string }
	| { readonly kind: 'ip'; readonly address: Uint8Array; readonly mask: Uint8Array };

/**
 * What the CA permits by default. `localhost` covers every `*.localhost` name (RFC 5280 §4.2.1.10:
 * a dNSName constraint matches the name and all its subdomains), `test` is reserved for testing by
 * RFC 2606, and the loopback ranges cover `127.0.0.1`, `127.x.y.z` and `::1`.
 */
export const DEFAULT_PERMITTED = ['localhost', 'test', '127.0.0.0/8', '::1/128'] as const;

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Parses and normalises a host name (lower case, IDNA, no trailing dot); throws INVALID_NAME. */
export function parseHostName(input: string): HostName {
	const raw = input.trim();
	const unbracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
	if (isIP(unbracketed)) {
		const bytes = ipBytes(unbracketed);
		return { kind: 'ip', value: formatIp(bytes), bytes };
	}
	const wildcard = raw.startsWith('*.');
	const rest = (wildcard ? raw.slice(2) : raw).replace(/\.$/, '');
	const ascii = rest === '' ? '' : domainToASCII(rest);
	const labels = ascii.split('.');
	if (!ascii || ascii.length > 253 || !labels.every((label) => LABEL.test(label))) {
		throw new CertError('INVALID_NAME', `"${input}" is not a valid host name or IP address.`);
	}
	return { kind: 'dns', value: (wildcard ? '*.' : '') + ascii };
}

/** Parses a constraint: a DNS suffix (`localhost`, `myapp.internal`), an IP (`10.1.2.3`) or a CIDR range. */
export function parseSubtree(input: string): NameSubtree {
	const [address, prefix, extra] = input.trim().split('/');
	if (extra === undefined && isIP(address)) {
		const bytes = ipBytes(address);
		const bits = prefix === undefined ? bytes.length * 8 : Number(prefix);
		if (!/^\d+$/.test(prefix ?? '0') || bits > bytes.length * 8) {
			throw new CertError('INVALID_NAME', `"${input}" is not a valid IP range (prefix must be 0-${bytes.length * 8}).`);
		}
		const mask = prefixMask(bytes.length, bits);
		return { kind: 'ip', address: bytes.map((b, i) => b & mask[i]), mask };
	}
	const name = parseHostName(input.replace(/^\.+/, ''));
	if (name.kind !== 'dns' || name.value.startsWith('*.') || prefix !== undefined) {
		throw new CertError('INVALID_NAME', `"${input}" is not a valid DNS suffix or IP range for a name constraint.`);
	}
	return name;
}

/** Formats a subtree back to the text form `parseSubtree` reads. */
export function formatSubtree(subtree: NameSubtree): string {
	if (subtree.kind === 'dns') { return subtree.value; }
	const bits = subtree.mask.reduce((n, byte) => n + popcount(byte), 0);
	return `${formatIp(subtree.address)}/${bits}`;
}

/** The constraints recorded in a CA certificate. */
export interface NameConstraintSet {
	readonly permitted: readonly NameSubtree[];
	readonly excluded: readonly NameSubtree[];
}

/**
 * Whether `name` is allowed under `constraints` per RFC 5280: an excluded match refuses it; if any
 * permitted subtree of the name's type exists, one of them must match; types with no permitted
 * subtree are unconstrained. A CA without the extension (`undefined`) permits everything.
 */
export function isPermitted(name: HostName, constraints: NameConstraintSet | undefined): boolean {
	if (!constraints) { return true; }
	if (constraints.excluded.some((subtree) => matches(name, subtree))) { return false; }
	const sameKind = constraints.permitted.filter((subtree) => subtree.kind === name.kind);
	return sameKind.length === 0 || sameKind.some((subtree) => matches(name, subtree));
}

function matches(name: HostName, subtree: NameSubtree): boolean {
	if (name.kind === 'dns' && subtree.kind === 'dns') {
		const host = name.value.replace(/^\*\./, '');
		return host === subtree.value || host.endsWith('.' + subtree.value);
	}
	if (name.kind === 'ip' && subtree.kind === 'ip') {
		return name.bytes.length === subtree.address.length
			&& name.bytes.every((byte, i) => (byte & subtree.mask[i]) === subtree.address[i]);
	}
	return false;
}

function ipBytes(address: string): Uint8Array {
	if (isIP(address) === 4) {
		return Uint8Array.from(address.split('.').map(Number));
	}
	// Expand "::" and an embedded IPv4 tail into eight 16-bit groups.
	let text = address;
	const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
	if (v4) {
		const [a, b, c, d] = v4[1].split('.').map(Number);
		text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
	}
	const [head, tail] = text.split('::');
	const headGroups = head ? head.split(':') : [];
	const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
	const missing = 8 - headGroups.length - tailGroups.length;
	const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
	const bytes = new Uint8Array(16);
	groups.forEach((group, i) => {
		const value = parseInt(group, 16);
		bytes[i * 2] = value >> 8;
		bytes[i * 2 + 1] = value & 0xff;
	});
	return bytes;
}

function formatIp(bytes: Uint8Array): string {
	if (bytes.length === 4) { return bytes.join('.'); }
	const groups: number[] = [];
	for (let i = 0; i < 16; i += 2) { groups.push((bytes[i] << 8) | bytes[i + 1]); }
	// RFC 5952: compress the longest run of two or more zero groups.
	let best = -1, bestLength = 1;
	for (let i = 0; i < 8;) {
		let j = i;
		while (j < 8 && groups[j] === 0) { j++; }
		if (j - i > bestLength) { best = i; bestLength = j - i; }
		i = j === i ? i + 1 : j;
	}
	const hex = groups.map((g) => g.toString(16));
	if (best < 0) { return hex.join(':'); }
	return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLength).join(':');
}

function prefixMask(length: number, bits: number): Uint8Array {
	const mask = new Uint8Array(length);
	for (let i = 0; i < length; i++) {
		const take = Math.max(0, Math.min(8, bits - i * 8));
		mask[i] = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
	}
	return mask;
}

function popcount(byte: number): number {
	let n = 0;
	for (let b = byte; b; b &= b - 1) { n++; }
	return n;
}
