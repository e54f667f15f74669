import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CertificateAuthority, type CreateCaOptions } from './ca';
import { CertError } from './errors';

export { defaultCaDir, mkcertCaRoot } from './locations';

/** File names inside a CA directory: the same as mkcert's CAROOT, so either tool can use the other's. */
export const CA_CERT_FILE = 'rootCA.pem';
export const CA_KEY_FILE = 'rootCA-key.pem';

/** A CA together with where it lives on disk. */
export interface StoredCa {
	readonly ca: CertificateAuthority;
	readonly dir: string;
	readonly certPath: string;
	readonly keyPath: string;
	/** True when this call created the CA (first use). */
	readonly created: boolean;
}

export interface OpenCaOptions extends CreateCaOptions {
	/** Create the CA when the directory holds none (default true). Never replaces existing files. */
	readonly create?: boolean;
}

/**
 * Loads the CA in `dir`, creating it on first use. Validation failures throw a CertError that names the
 * file and the problem; a directory with only one of the two files is reported, never overwritten.
 * New files are written to temporary names and hard-linked into place, so a crash cannot leave a
 * half-written PEM and two processes creating at once cannot overwrite each other.
 */
export async function openCa(dir: string, options: OpenCaOptions = {}): Promise<StoredCa> {
	const certPath = path.join(dir, CA_CERT_FILE);
	const keyPath = path.join(dir, CA_KEY_FILE);
	const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
	if (certPem !== undefined && keyPem !== undefined) {
		return { ca: await CertificateAuthority.fromPem(certPem, keyPem, dir), dir, certPath, keyPath, created: false };
	}
	if (certPem !== undefined) {
		throw new CertError('CA_MISSING_FILE', `${dir}: ${CA_CERT_FILE} exists but ${CA_KEY_FILE} does not. TLS Lens needs the CA key to issue certificates (an mkcert "keyless" CAROOT cannot sign). Restore the key, or choose another CA directory.`);
	}
	if (keyPem !== undefined) {
		throw new CertError('CA_MISSING_FILE', `${dir}: ${CA_KEY_FILE} exists but ${CA_CERT_FILE} does not (an interrupted creation, or a deleted file). Restore the certificate, or delete ${keyPath} to create a new CA.`);
	}
	if (options.create === false) {
		throw new CertError('CA_MISSING_FILE', `${dir}: no CA here (${CA_CERT_FILE} and ${CA_KEY_FILE} are missing).`);
	}
	const ca = await CertificateAuthority.create(options);
	await fs.mkdir(dir, { recursive: true, mode: 0o700 });
	const won = await linkNew(dir, keyPath, ca.keyPem, 0o600);
	if (!won) {
		// Another process is creating the CA right now: use theirs once both files are there.
		return waitForOther(dir, options);
	}
	await linkNew(dir, certPath, ca.certPem, 0o644);
	return { ca, dir, certPath, keyPath, created: true };
}

/** Writes `content` to a temporary file and links it to `target`; false if `target` already exists. */
async function linkNew(dir: string, target: string, content: string, mode: number): Promise<boolean> {
	const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
	const handle = await fs.open(temp, 'wx', mode);
	try {
		await handle.writeFile(content);
		await handle.chmod(mode); // the umask may have narrowed or (on some systems) ignored `mode`
		await handle.sync();
	} finally {
		await handle.close();
	}
	try {
		await fs.link(temp, target);
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') { return false; }
		throw error;
	} finally {
		await fs.rm(temp, { force: true });
	}
}

async function waitForOther(dir: string, options: OpenCaOptions): Promise<StoredCa> {
	for (let attempt = 0; attempt < 50; attempt++) {
		await new Promise((resolve) => setTimeout(resolve, 100));
		try {
			return await openCa(dir, { ...options, create: false });
		} catch (error) {
			if (!(error instanceof CertError && error.code === 'CA_MISSING_FILE')) { throw error; }
		}
	}
	return openCa(dir, { ...options, create: false });
}

async function readIfExists(file: string): Promise<string | undefined> {
	try {
		return await fs.readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') { return undefined; }
		throw new CertError('CA_CORRUPT', `${file}: cannot be read (${(error as Error).message}).`);
	}
}
