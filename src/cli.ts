// The `tls-lens` command: the same engine as the extension, without VS Code.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CertError, defaultCaDir, mkcertCaRoot, openCa, parseTarget, type StoredCa } from './core';
import { runProxy, type ProxyFlags } from './cliProxy';
import { SETTINGS } from './shared/settings';

const USAGE = `Usage:
  tls-lens --target PORT|URL [options] run the HTTPS proxy in front of a dev server (long form: tls-lens proxy ...)
  tls-lens ca path [options]          print the CA certificate's path (creating the CA if needed)
  tls-lens ca show [options]          print the CA's subject, SHA-256 fingerprint, validity and constraints
  tls-lens cert NAME... [options]     write a certificate and key for NAME... into the current directory

Proxy options:
  --target T        dev server: a port (5173), host:port or URL (http://127.0.0.1:5173; https:// re-encrypts)
  --port N          HTTPS port to listen on (default ${SETTINGS.port.default}; 0 picks a free one)
  --host H          address to listen on (default: 127.0.0.1 and ::1); repeatable
  --har FILE        write the captured traffic as HAR 1.2 to FILE on exit (SIGINT/SIGTERM), with the
                    values of Authorization, Proxy-Authorization, Cookie and Set-Cookie redacted
  --har-sensitive   keep those values in the HAR as they were sent (do not share such a file)
  --no-capture      do not record traffic
  --verbose         log one line per finished request
  --keep-hsts       pass Strict-Transport-Security through (default: dropped on loopback hosts)
  --rewrite-host    send the target's host in Host (default: keep the browser's)
  --no-rewrite-redirects  leave redirects to the target's own origin as sent (default: to the proxy)
  --insecure-upstream  do not verify an https:// target's certificate

Common options:
  --ca-dir DIR      CA directory (default: ${defaultCaDir()})
  --mkcert          use mkcert's CA ($CAROOT, else ${mkcertCaRoot()})
  --permit NAME     when creating the CA, also permit NAME (DNS suffix, IP or CIDR); repeatable
  -h, --help        show this help
  -v, --version     print the version`;

/** A bad command line: exits 2 with the reason and the usage. */
class UsageError extends Error { }

const OPTIONS = {
	'ca-dir': { type: 'string' },
	mkcert: { type: 'boolean' },
	target: { type: 'string' },
	port: { type: 'string' },
	host: { type: 'string', multiple: true },
	har: { type: 'string' },
	'har-sensitive': { type: 'boolean' },
	'no-capture': { type: 'boolean' },
	verbose: { type: 'boolean' },
	'keep-hsts': { type: 'boolean' },
	'rewrite-host': { type: 'boolean' },
	'no-rewrite-redirects': { type: 'boolean' },
	'insecure-upstream': { type: 'boolean' },
	permit: { type: 'string', multiple: true },
	help: { type: 'boolean', short: 'h' },
	version: { type: 'boolean', short: 'v' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
	try {
		return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
}

async function main(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
	const { values, positionals } = parse(argv);
	if (values.help) { out.write(USAGE + '\n'); return; }
	if (values.version) { out.write(`${VERSION}\n`); return; }
	const [command, ...rest] = positionals;
	switch (command) {
		case 'ca': return caCommand(rest, values, out);
		case 'cert': return certCommand(rest, values, out);
		case 'proxy': return proxyCommand(rest, values, out, err);
		case undefined:
			if (values.target !== undefined) { return proxyCommand(rest, values, out, err); }
			throw new UsageError('missing command (or --target to run the proxy)');
		default: throw new UsageError(`unknown command "${command}"`);
	}
}

async function proxyCommand(args: string[], values: Values, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
	if (args.length) { throw new UsageError(`unexpected argument "${args[0]}"`); }
	if (values.target === undefined || values.target === '') { throw new UsageError('--target is required (a port such as 5173, or a URL)'); }
	const port = values.port === undefined ? SETTINGS.port.default : Number(values.port);
	if (!Number.isInteger(port) || port < 0 || port > 65535) { throw new UsageError(`--port must be a number from 0 to 65535, not "${values.port}"`); }
	if (values.mkcert && values['ca-dir']) { throw new UsageError('--mkcert and --ca-dir cannot be combined'); }
	if (values.har !== undefined && values['no-capture']) { throw new UsageError('--har needs capture: drop --no-capture'); }
	if (values['har-sensitive'] && values.har === undefined) { throw new UsageError('--har-sensitive needs --har FILE'); }
	try {
		parseTarget(values.target);
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const flags: ProxyFlags = {
		target: values.target,
		port,
		host: values.host,
		caDir: values.mkcert ? mkcertCaRoot() : path.resolve(values['ca-dir'] ?? defaultCaDir()),
		createCa: !values.mkcert,
		extraNames: values.permit ?? [],
		har: values.har === undefined ? undefined : path.resolve(values.har),
		harSensitive: values['har-sensitive'] ?? false,
		capture: !values['no-capture'],
		verbose: values.verbose ?? false,
		keepHsts: values['keep-hsts'] ?? false,
		rewriteHost: values['rewrite-host'] ?? false,
		rewriteRedirects: !values['no-rewrite-redirects'],
		upstreamTlsVerify: !values['insecure-upstream'],
	};
	await runProxy(flags, out, err);
}

async function caCommand(args: string[], values: Values, out: NodeJS.WritableStream): Promise<void> {
	const [sub, ...extra] = args;
	if (extra.length) { throw new UsageError(`unexpected argument "${extra[0]}"`); }
	if (sub !== 'path' && sub !== 'show') { throw new UsageError(sub ? `unknown ca command "${sub}"` : 'missing ca command (path or show)'); }
	const stored = await loadCa(values);
	if (sub === 'path') { out.write(stored.certPath + '\n'); return; }
	const info = stored.ca.describe();
	out.write([
		`Directory:    ${stored.dir}${stored.created ? ' (created now)' : ''}`,
		`Certificate:  ${stored.certPath}`,
		`Subject:      ${info.subject}`,
		`Key:          ${info.keyType}`,
		`SHA-256:      ${info.fingerprint256}`,
		`Valid from:   ${info.notBefore.toISOString()}`,
		`Valid until:  ${info.notAfter.toISOString()}`,
		`Permitted:    ${info.permitted ? info.permitted.join(', ') : 'any name (no name constraints: this CA can sign for any site)'}`,
		...(info.excluded.length ? [`Excluded:     ${info.excluded.join(', ')}`] : []),
	].join('\n') + '\n');
}

async function certCommand(names: string[], values: Values, out: NodeJS.WritableStream): Promise<void> {
	if (names.length === 0) { throw new UsageError('cert needs at least one NAME'); }
	const stored = await loadCa(values);
	const issued = await stored.ca.issue(names);
	// mkcert's file naming, so scripts and docs written for mkcert keep working.
	const base = names[0].replaceAll(':', '_').replaceAll('*', '_wildcard') + (names.length > 1 ? `+${names.length - 1}` : '');
	const certFile = path.resolve(`${base}.pem`);
	const keyFile = path.resolve(`${base}-key.pem`);
	await fs.writeFile(certFile, issued.certPem, { mode: 0o644 });
	await fs.writeFile(keyFile, issued.keyPem, { mode: 0o600 });
	await fs.chmod(keyFile, 0o600);
	out.write(`Certificate for ${issued.names.join(', ')} (valid until ${issued.notAfter.toISOString()}):\n  ${certFile}\n  ${keyFile}\n`);
}

async function loadCa(values: Values): Promise<StoredCa> {
	if (values.mkcert && values['ca-dir']) { throw new UsageError('--mkcert and --ca-dir cannot be combined'); }
	if (values.mkcert) {
		// Reuse mkcert's CA as it is: users who ran `mkcert -install` need no new trust step.
		return openCa(mkcertCaRoot(), { create: false });
	}
	return openCa(path.resolve(values['ca-dir'] ?? defaultCaDir()), { extraPermitted: values.permit ?? [] });
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

/** Runs the CLI; resolves to the process exit code (0 ok, 1 failure, 2 bad arguments). */
export async function run(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
	try {
		await main(argv, out, err);
		return 0;
	} catch (error) {
		if (error instanceof UsageError) {
			err.write(`tls-lens: ${error.message}\n\n${USAGE}\n`);
			return 2;
		}
		const known = error instanceof CertError || typeof (error as { code?: unknown }).code === 'string';
		err.write(`tls-lens: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
		return 1;
	}
}

if (require.main === module) {
	run(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
