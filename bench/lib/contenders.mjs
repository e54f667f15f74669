// The servers of the proxy benchmark, each run as our own process with its config in the bench's temp
// dir (never the system services): the shared plain-HTTP target (nginx serving static files), nginx
// and Caddy terminating TLS in front of it, and the TLS Lens CLI with capture on or off.
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { freePort, startServer, waitForPort } from './procs.mjs';

const libDir = path.dirname(new URL(import.meta.url).pathname);
const repoDir = path.resolve(libDir, '..', '..');
export const cliPath = path.join(repoDir, 'dist', 'cli.js');

/** Fills `{{name}}` placeholders in one of the config templates next to this file. */
function renderTemplate(name, values) {
	return readFileSync(path.join(libDir, name), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key) => {
		if (!(key in values)) { throw new Error(`${name}: no value for {{${key}}}`); }
		return String(values[key]);
	});
}

/**
 * Writes the bench's own CA and one leaf for localhost, 127.0.0.1 and ::1 (ECDSA P-256, the key type
 * our CA issues) for nginx and Caddy; TLS Lens issues the same kind of leaf from the same CA itself.
 */
export function makeCertificate(workDir) {
	const caDir = path.join(workDir, 'ca');
	const certDir = path.join(workDir, 'cert');
	mkdirSync(certDir, { recursive: true });
	const result = spawnSync(process.execPath, [cliPath, 'cert', 'localhost', '127.0.0.1', '::1', '--ca-dir', caDir], { cwd: certDir, encoding: 'utf8' });
	if (result.status !== 0) { throw new Error(`tls-lens cert failed: ${result.stderr}`); }
	const certFile = path.join(certDir, 'localhost+2.pem');
	const keyFile = path.join(certDir, 'localhost+2-key.pem');
	const caFile = path.join(caDir, 'rootCA.pem');
	const keyType = spawnSync('openssl', ['x509', '-in', certFile, '-noout', '-text'], { encoding: 'utf8' }).stdout;
	const curve = /NIST CURVE: (\S+)/.exec(keyType)?.[1] ?? /ASN1 OID: (\S+)/.exec(keyType)?.[1] ?? 'unknown curve';
	return { caDir, caFile, certFile, keyFile, keyDescription: `ECDSA ${curve}` };
}

/** nginx serving `/1k` and `/1m` over plain HTTP; `/nginx_status` counts the connections it accepted. */
export async function startTarget(workDir) {
	const prefix = path.join(workDir, 'target');
	const root = path.join(prefix, 'www');
	mkdirSync(root, { recursive: true });
	// Fixed bytes rather than random ones: nothing in the path compresses, and the runs stay comparable.
	writeFileSync(path.join(root, '1k'), Buffer.alloc(1024, 'x'));
	writeFileSync(path.join(root, '1m'), Buffer.alloc(1024 * 1024, 'y'));
	const port = await freePort();
	const server = startNginx('target', prefix, renderTemplate('nginx-target.conf', { port, root, prefix }));
	await waitForPort(port, '127.0.0.1', 10000, server);
	return { ...server, port, url: `http://127.0.0.1:${port}` };
}

/** nginx terminating TLS in front of the target, with upstream keep-alive. */
export async function startNginxTls(workDir, target, cert) {
	const prefix = path.join(workDir, 'nginx-tls');
	mkdirSync(prefix, { recursive: true });
	const port = await freePort();
	const server = startNginx('nginx', prefix, renderTemplate('nginx-tls.conf', {
		port, prefix, targetPort: target.port, certFile: cert.certFile, keyFile: cert.keyFile,
	}));
	await waitForPort(port, '127.0.0.1', 10000, server);
	return { ...server, port };
}

function startNginx(name, prefix, config) {
	const confFile = path.join(prefix, 'nginx.conf');
	writeFileSync(confFile, config);
	// -e: nginx opens its compiled-in error log before reading the config unless told otherwise.
	return startServer(name, 'nginx', ['-p', prefix, '-c', confFile, '-e', path.join(prefix, 'error.log')], {
		logFile: path.join(prefix, 'stderr.log'),
	});
}

/** Caddy's reverse_proxy with our certificate files, no admin endpoint and no automatic HTTPS. */
export async function startCaddy(workDir, target, cert) {
	const dir = path.join(workDir, 'caddy');
	mkdirSync(dir, { recursive: true });
	const port = await freePort();
	const confFile = path.join(dir, 'Caddyfile');
	writeFileSync(confFile, renderTemplate('Caddyfile', { port, targetPort: target.port, certFile: cert.certFile, keyFile: cert.keyFile }));
	// Caddy keeps state under $HOME / $XDG_*: point those into the temp dir so the run leaves nothing.
	const env = { HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
	const server = startServer('caddy', 'caddy', ['run', '--config', confFile, '--adapter', 'caddyfile'], {
		cwd: dir, env, logFile: path.join(dir, 'caddy.log'),
	});
	await waitForPort(port, '127.0.0.1', 15000, server);
	return { ...server, port };
}

/**
 * The TLS Lens CLI (the shipped dist/cli.js, or `script` with the same command line), resolved once it
 * prints its ready line. `nodeFlags` go
 * before the script (e.g. --cpu-prof); the process runs in its own dir, where --cpu-prof writes.
 */
export async function startTlsLens(workDir, target, cert, { capture, nodeFlags = [], name, script = cliPath }) {
	// An explicit 127.0.0.1: a bare port means localhost, which may resolve to ::1 first.
	const args = ['--target', target.url, '--port', String(await freePort()), '--host', '127.0.0.1', '--ca-dir', cert.caDir];
	if (!capture) { args.push('--no-capture'); }
	return startNodeProxy(workDir, name, script, args, nodeFlags);
}

/** The plain Node https/h2 + keep-alive agent proxy (nodeBaselineProxy.mjs) with our leaf files. */
export async function startNodeBaseline(workDir, target, cert) {
	const args = ['--target', String(target.port), '--port', String(await freePort()), '--cert', cert.certFile, '--key', cert.keyFile];
	return startNodeProxy(workDir, 'node', path.join(libDir, 'nodeBaselineProxy.mjs'), args, []);
}

/** Starts a Node proxy that prints `ready https://localhost:PORT -> TARGET` when it listens. */
async function startNodeProxy(workDir, name, script, scriptArgs, nodeFlags) {
	const dir = path.join(workDir, name);
	mkdirSync(dir, { recursive: true });
	const args = [...nodeFlags, script, ...scriptArgs];
	let stdout = '';
	let onReady;
	const ready = new Promise((resolve) => { onReady = resolve; });
	const server = startServer(name, process.execPath, args, {
		cwd: dir, logFile: path.join(dir, 'stderr.log'),
		onStdout: (chunk) => {
			stdout += chunk;
			const match = /^ready https:\/\/localhost:(\d+) -> (.*)$/m.exec(stdout);
			if (match) { onReady(Number(match[1])); }
		},
	});
	const exited = server.exited.then(({ code, signal }) => {
		const stderr = readFileSync(server.logFile, 'utf8').trim().split('\n').slice(0, 3).join(' ');
		throw new Error(`exited (${signal ?? code}) before printing its ready line: ${stderr}`);
	});
	let timer;
	const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no ready line after 15 s')), 15000); });
	// Both reject later in a normal run (the process exits at the end): that must not be unhandled.
	exited.catch(() => {});
	timeout.catch(() => {});
	const readyPort = await Promise.race([ready, exited, timeout]).finally(() => clearTimeout(timer));
	await waitForPort(readyPort, '127.0.0.1', 5000, server);
	return { ...server, port: readyPort, dir };
}
