import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { LeafIssuer, openCa, type StoredCa } from '../../../src/core/certs';
import { runAsync, tempDir } from '../helpers';

interface Handshake { authorized: boolean; error?: string; peer?: X509Certificate }

/** Connects with only our CA as trust and reports what the client concluded. */
function connect(port: number, host: string, servername: string | undefined, ca: string): Promise<Handshake> {
	return new Promise((resolve) => {
		const socket = tls.connect({ port, host, servername, ca, ...(servername ? {} : { checkServerIdentity: () => undefined }) });
		socket.once('secureConnect', () => {
			const raw = socket.getPeerX509Certificate();
			resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), peer: raw });
			socket.end();
		});
		socket.once('error', (error) => resolve({ authorized: false, error: error.message }));
	});
}

describe('per-name leaf certificates over real TLS', () => {
	let stored: StoredCa;
	let issuer: LeafIssuer;
	let server: tls.Server;
	let port: number;
	const issuedLog: string[] = [];
	const serverErrors: string[] = [];

	before(async () => {
		stored = await openCa(path.join(tempDir(), 'ca'));
		issuer = new LeafIssuer(stored.ca, { onIssued: (issued) => issuedLog.push(issued.names.join(',')) });
		const fallback = await issuer.certificateFor(undefined);
		server = tls.createServer({ SNICallback: issuer.sniCallback, cert: fallback.issued.certPem, key: fallback.issued.keyPem }, (socket) => {
			socket.on('error', () => { /* client went away */ });
			socket.end('hello');
		});
		server.on('tlsClientError', (error) => serverErrors.push(error.message));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		port = (server.address() as AddressInfo).port;
	});
	after(() => server.close());

	it('is trusted by Node with only our CA, for localhost and *.localhost', async () => {
		for (const name of ['localhost', 'app.localhost', 'deep.api.localhost']) {
			const result = await connect(port, '127.0.0.1', name, stored.ca.certPem);
			assert.equal(result.authorized, true, `${name}: ${result.error}`);
			assert.match(result.peer!.subjectAltName!, new RegExp(`DNS:${name.replace(/\./g, '\\.')}`));
		}
	});

	it('is rejected by Node without our CA (control)', async () => {
		const result = await new Promise<string>((resolve) => {
			const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost' });
			socket.once('secureConnect', () => { socket.destroy(); resolve('connected'); });
			socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
		});
		assert.equal(result, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
	});

	it('serves the default certificate (localhost, 127.0.0.1, ::1) to clients without SNI', async () => {
		const result = await connect(port, '127.0.0.1', undefined, stored.ca.certPem);
		assert.equal(result.authorized, true, result.error);
		assert.equal(result.peer!.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
		assert.equal(result.peer!.checkIP('127.0.0.1'), '127.0.0.1');
	});

	it('is accepted by curl --cacert (and refused without it)', async () => {
		const httpsServer = https.createServer({ SNICallback: issuer.sniCallback }, (_req, res) => res.end('trusted'));
		await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
		try {
			const httpsPort = (httpsServer.address() as AddressInfo).port;
			const url = `https://app.localhost:${httpsPort}/`;
			const resolve = `app.localhost:${httpsPort}:127.0.0.1`;
			const trusted = await runAsync('curl', ['-sS', '--cacert', stored.certPath, '--resolve', resolve, url]);
			assert.equal(trusted.stdout, 'trusted', trusted.stderr);
			const untrusted = await runAsync('curl', ['-sS', '--resolve', resolve, url]);
			assert.equal(untrusted.status, 60, 'curl: peer certificate cannot be authenticated');
		} finally {
			httpsServer.close();
		}
	});

	it('refuses names outside the constraints with a clear handshake error', async () => {
		const before = serverErrors.length;
		const result = await connect(port, '127.0.0.1', 'example.com', stored.ca.certPem);
		assert.equal(result.authorized, false);
		assert.ok(serverErrors.slice(before).some((message) => /example\.com.*outside the names this CA may sign for/.test(message)), serverErrors.join('\n'));
	});

	it('caches one leaf per name and shares concurrent issuing', async () => {
		const count = issuedLog.filter((names) => names === 'cached.localhost').length;
		const [a, b] = await Promise.all([issuer.certificateFor('cached.localhost'), issuer.certificateFor('CACHED.localhost')]);
		assert.equal(a, b);
		assert.equal(await issuer.certificateFor('cached.localhost'), a);
		assert.equal(issuedLog.filter((names) => names === 'cached.localhost').length, count + 1);
	});

	it('renews a leaf before it expires', async () => {
		let now = Date.now();
		const clocked = new LeafIssuer(stored.ca, { now: () => now });
		const first = await clocked.certificateFor('renew.localhost');
		now += 19 * 86_400_000;
		assert.equal(await clocked.certificateFor('renew.localhost'), first, 'still fresh after 19 days');
		now += 2 * 86_400_000;
		const second = await clocked.certificateFor('renew.localhost');
		assert.notEqual(second, first, 'renewed with 9 days left');
		assert.ok(second.issued.notAfter > first.issued.notAfter);
	});

	it('keeps at most maxCached leaves', async () => {
		const small = new LeafIssuer(stored.ca, { maxCached: 2 });
		const a = await small.certificateFor('a.localhost');
		await small.certificateFor('b.localhost');
		await small.certificateFor('c.localhost');
		assert.notEqual(await small.certificateFor('a.localhost'), a, 'oldest was evicted and issued again');
	});
});
