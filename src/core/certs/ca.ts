import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { CertError } from './errors';
import { decodeNameConstraints, encodeNameConstraints, NAME_CONSTRAINTS_OID } from './nameConstraintsDer';
import { DEFAULT_PERMITTED, formatSubtree, isPermitted, parseHostName, parseSubtree, type HostName, type NameConstraintSet } from './names';
import { x509 } from './x509';

const DAY = 24 * 60 * 60 * 1000;
/** Root lifetime, as mkcert's: ten years, so that users do not have to re-trust it often. */
const CA_VALIDITY_DAYS = 3650;
/**
 * Leaf lifetime: at most 30 days (the brief), well below the 398 days browsers accept and the 825 days
 * Apple allows for custom roots (mkcert cert.go). Leaves live in memory and renew themselves.
 */
export const LEAF_VALIDITY_DAYS = 30;
/** Back-date certificates a little so a client whose clock is slightly behind still accepts them. */
const BACKDATE_MS = 60 * 60 * 1000;

/** Options for creating a new CA. */
export interface CreateCaOptions {
	/** Extra names the CA may sign for, besides DEFAULT_PERMITTED (DNS suffixes, IPs or CIDR ranges). */
	readonly extraPermitted?: readonly string[];
	/** Overrides "user@host" in the subject (tests). */
	readonly owner?: string;
}

/** What a person needs to recognise and judge a CA. */
export interface CaDescription {
	readonly subject: string;
	readonly fingerprint256: string;
	readonly serialNumber: string;
	readonly notBefore: Date;
	readonly notAfter: Date;
	readonly keyType: string;
	/** Permitted names in text form, or undefined when the CA is unconstrained (e.g. mkcert's). */
	readonly permitted: readonly string[] | undefined;
	readonly excluded: readonly string[];
}

/** A leaf certificate and its private key, both PEM. */
export interface IssuedCertificate {
	readonly certPem: string;
	readonly keyPem: string;
	readonly names: readonly string[];
	readonly notAfter: Date;
}

type SigningAlgorithm = { name: 'ECDSA'; hash: 'SHA-256' } | { name: 'RSASSA-PKCS1-v1_5'; hash: 'SHA-256' };

/**
 * A certificate authority that can sign leaf certificates: ours (ECDSA P-256, name constrained) or an
 * existing one such as mkcert's (RSA or ECDSA, usually unconstrained). Create with `create` or `fromPem`.
 */
export class CertificateAuthority {
	private constructor(
		/** The CA certificate, PEM. */
		readonly certPem: string,
		/** The CA private key, PKCS#8 PEM; written to disk only by caStore with mode 0600. */
		readonly keyPem: string,
		private readonly cert: x509.X509Certificate,
		private readonly signingKey: webcrypto.CryptoKey,
		private readonly signingAlgorithm: SigningAlgorithm,
		/** Name constraints in the certificate, undefined when it has none. */
		readonly constraints: NameConstraintSet | undefined,
	) { }

	/** Makes a new self-signed root: ECDSA P-256, pathLen 0, critical name constraints. */
	static async create(options: CreateCaOptions = {}): Promise<CertificateAuthority> {
		const permitted = [...DEFAULT_PERMITTED, ...(options.extraPermitted ?? [])].map(parseSubtree);
		const algorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
		const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
		const owner = options.owner ?? defaultOwner();
		const now = Date.now();
		const cert = await x509.X509CertificateGenerator.createSelfSigned({
			serialNumber: randomSerial(),
			name: [{ CN: [`TLS Lens Development CA (${owner})`] }, { O: ['TLS Lens local development CA'] }, { OU: [owner] }],
			notBefore: new Date(now - BACKDATE_MS),
			notAfter: new Date(now + CA_VALIDITY_DAYS * DAY),
			keys,
			signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
			extensions: [
				new x509.BasicConstraintsExtension(true, 0, true),
				new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
				await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
				await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
				// Critical, so that a client that does not understand it rejects our leaves rather than
				// trusting a CA that could sign for any site (mkcert#302, caddy#5759).
				new x509.Extension(NAME_CONSTRAINTS_OID, true, encodeNameConstraints({ permitted, excluded: [] })),
			],
		});
		const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
		const keyPem = toPem('PRIVATE KEY', new Uint8Array(pkcs8));
		return CertificateAuthority.fromPem(cert.toString('pem') + '\n', keyPem);
	}

	/**
	 * Loads a CA from PEM text and validates it: both parse, the key matches the certificate, the
	 * certificate is a CA that may sign certificates, and it is within its validity period.
	 * @param source where the PEM came from, for error messages (a directory or file path)
	 */
	static async fromPem(certPem: string, keyPem: string, source = 'the CA'): Promise<CertificateAuthority> {
		let nodeCert: X509Certificate;
		let cert: x509.X509Certificate;
		try {
			nodeCert = new X509Certificate(certPem);
			cert = new x509.X509Certificate(certPem);
		} catch (error) {
			throw new CertError('CA_CORRUPT', `${source}: the CA certificate (rootCA.pem) cannot be parsed: ${message(error)}.`);
		}
		let key: KeyObject;
		try {
			key = createPrivateKey(keyPem);
		} catch (error) {
			throw new CertError('CA_CORRUPT', `${source}: the CA private key (rootCA-key.pem) cannot be parsed: ${message(error)}.`);
		}
		if (!nodeCert.checkPrivateKey(key)) {
			throw new CertError('CA_KEY_MISMATCH', `${source}: rootCA-key.pem is not the private key of rootCA.pem (files from two different CAs?).`);
		}
		if (!nodeCert.ca) {
			throw new CertError('CA_NOT_A_CA', `${source}: rootCA.pem is not a CA certificate (basicConstraints CA:TRUE is missing).`);
		}
		const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
		if (keyUsage && !(keyUsage.usages & x509.KeyUsageFlags.keyCertSign)) {
			throw new CertError('CA_NOT_A_CA', `${source}: rootCA.pem may not sign certificates (keyUsage lacks keyCertSign).`);
		}
		const now = Date.now();
		if (now > Date.parse(nodeCert.validTo)) {
			throw new CertError('CA_EXPIRED', `${source}: the CA certificate expired on ${new Date(nodeCert.validTo).toISOString()}; move the directory away to create a new CA, then trust the new one.`);
		}
		if (now < Date.parse(nodeCert.validFrom) - BACKDATE_MS) {
			throw new CertError('CA_NOT_YET_VALID', `${source}: the CA certificate is not valid until ${new Date(nodeCert.validFrom).toISOString()}; check the system clock.`);
		}
		const algorithm = signingAlgorithmFor(key, source);
		const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
		const importParams = algorithm.name === 'ECDSA' ? { name: 'ECDSA', namedCurve: key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256' } : algorithm;
		const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importParams, false, ['sign']);
		const constraintsExtension = cert.getExtension(NAME_CONSTRAINTS_OID);
		const constraints = constraintsExtension ? decodeNameConstraints(new Uint8Array(constraintsExtension.value)) : undefined;
		return new CertificateAuthority(certPem, keyPem, cert, signingKey, algorithm, constraints);
	}

	/** SHA-256 fingerprint of the certificate, colon-separated upper-case hex (as browsers show it). */
	get fingerprint256(): string {
		return createHash('sha256').update(Buffer.from(this.cert.rawData)).digest('hex').toUpperCase().match(/../g)!.join(':');
	}

	/** Subject, fingerprint, validity and constraints, for `tls-lens ca show` and the UI. */
	describe(): CaDescription {
		const keyAlgorithm = this.cert.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
		return {
			subject: this.cert.subject,
			fingerprint256: this.fingerprint256,
			serialNumber: this.cert.serialNumber,
			notBefore: this.cert.notBefore,
			notAfter: this.cert.notAfter,
			keyType: keyAlgorithm.namedCurve ? `ECDSA ${keyAlgorithm.namedCurve}` : this.signingAlgorithm.name === 'ECDSA' ? 'ECDSA' : 'RSA',
			permitted: this.constraints?.permitted.map(formatSubtree),
			excluded: this.constraints?.excluded.map(formatSubtree) ?? [],
		};
	}

	/** Throws NAME_NOT_PERMITTED when browsers would reject a certificate for `name` from this CA. */
	checkName(name: HostName): void {
		if (!isPermitted(name, this.constraints)) {
			const allowed = this.describe().permitted?.join(', ');
			throw new CertError('NAME_NOT_PERMITTED',
				`"${name.value}" is outside the names this CA may sign for (${allowed}). Use a name under .localhost, `
				+ 'or add it to the extra hostnames setting and create a new CA.');
		}
	}

	/**
	 * Issues a leaf certificate for server use: a fresh ECDSA P-256 key, SANs for `names`, EKU
	 * serverAuth, valid LEAF_VALIDITY_DAYS. Every name is checked against the CA's constraints first.
	 */
	async issue(names: readonly string[], now = Date.now()): Promise<IssuedCertificate> {
		if (names.length === 0) { throw new CertError('INVALID_NAME', 'A certificate needs at least one name.'); }
		const parsed = dedupe(names.map(parseHostName));
		parsed.forEach((name) => this.checkName(name));
		// Node's native key generation is several times faster than WebCrypto's here and gives the
		// same SPKI/PKCS#8 bytes.
		const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
		const spki = publicKey.export({ type: 'spki', format: 'der' });
		const notBefore = new Date(now - BACKDATE_MS);
		const notAfter = new Date(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY);
		const cert = await x509.X509CertificateGenerator.create({
			serialNumber: randomSerial(),
			subject: [{ O: ['TLS Lens development certificate'] }, { OU: [defaultOwner()] }],
			issuer: this.cert.subjectName,
			notBefore,
			notAfter,
			publicKey: spki,
			signingKey: this.signingKey,
			signingAlgorithm: this.signingAlgorithm,
			extensions: [
				new x509.BasicConstraintsExtension(false, undefined, true),
				new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
				new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
				new x509.SubjectAlternativeNameExtension(parsed.map((name) => ({ type: name.kind, value: name.value }))),
				await x509.SubjectKeyIdentifierExtension.create(spki),
				new x509.AuthorityKeyIdentifierExtension(this.subjectKeyIdentifier()),
			],
		});
		return {
			certPem: cert.toString('pem') + '\n',
			keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
			names: parsed.map((name) => name.value),
			notAfter,
		};
	}

	private subjectKeyIdentifier(): string {
		const ski = this.cert.getExtension(x509.SubjectKeyIdentifierExtension);
		// Some CAs lack an SKI; RFC 5280 method 1 (SHA-1 of the public key bits) is what Go and OpenSSL use.
		return ski?.keyId ?? createHash('sha1').update(Buffer.from(this.cert.publicKey.rawData).subarray(-65)).digest('hex');
	}
}

function signingAlgorithmFor(key: KeyObject, source: string): SigningAlgorithm {
	if (key.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(key.asymmetricKeyDetails?.namedCurve ?? '')) {
		return { name: 'ECDSA', hash: 'SHA-256' };
	}
	if (key.asymmetricKeyType === 'rsa') {
		return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
	}
	throw new CertError('CA_UNSUPPORTED_KEY', `${source}: the CA key type (${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}) is not supported; use ECDSA P-256/P-384 or RSA.`);
}

/** 128 random bits, as mkcert; @peculiar/x509 encodes them as a minimal positive DER INTEGER. */
function randomSerial(): string {
	return randomBytes(16).toString('hex');
}

function defaultOwner(): string {
	let user = 'user';
	try { user = userInfo().username; } catch { /* no passwd entry (some containers) */ }
	return `${user}@${hostname()}`;
}

function dedupe(names: HostName[]): HostName[] {
	const seen = new Set<string>();
	return names.filter((name) => !seen.has(name.value) && seen.add(name.value));
}

function toPem(label: string, der: Uint8Array): string {
	const base64 = Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n');
	return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

function message(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
