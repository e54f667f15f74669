import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';

/**
 * Mozilla's "intermediate" suites: every TLS 1.3 suite, and for TLS 1.2 ECDHE with AES-GCM or
 * ChaCha20-Poly1305 only (Node's default list adds CBC suites, which scanners flag: LUCKY13).
 * AES-128-GCM first, chosen by us: as strong as a local dev loop needs, and the cheapest suite with
 * AES-NI (what Go, and so Caddy, prefer too). Clients otherwise ask for AES-256 first.
 */
export const CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
	'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
	'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'].join(':');

/**
 * The TLS settings of every context that serves a certificate of ours: the server's own and each
 * per-SNI one (OpenSSL takes the cipher list and options of the context the SNI callback picks).
 * No renegotiation at all (TLS 1.2; 1.3 has none): a client could otherwise make the server redo
 * handshakes on one connection for as long as it likes.
 */
export const SERVER_TLS_OPTIONS = {
	minVersion: 'TLSv1.2',
	ciphers: CIPHERS,
	honorCipherOrder: true,
	secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
} as const satisfies SecureContextOptions;
