import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { findDevServers, portHints, probeHttp } from '../../src/core/discovery';
import { tempDir } from './helpers';

function listen<T extends net.Server>(server: T, host = '127.0.0.1'): Promise<number> {
	return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));
}

describe('dev server discovery', () => {
	const servers: net.Server[] = [];
	after(() => servers.forEach((s) => s.close()));

	it('reads port hints from package.json scripts and config files', async () => {
		const dir = tempDir();
		writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ scripts: { dev: 'vite --port 5199', api: 'PORT=4010 node server.js', next: 'next dev -p 3030' } }));
		writeFileSync(path.join(dir, 'vite.config.ts'), 'export default { server: { port: 5288 } }');
		assert.deepEqual(await portHints(dir), [[5199, 'package.json'], [3030, 'package.json'], [4010, 'package.json'], [5288, 'vite.config.ts']]);
		writeFileSync(path.join(dir, 'package.json'), '{ "scripts": ');
		assert.deepEqual(await portHints(dir), [[5288, 'vite.config.ts']], 'a half-edited package.json is skipped');
	});

	it('lists hinted ports that answer HTTP, on 127.0.0.1 or ::1, and skips the rest', async () => {
		const web = http.createServer((_req, res) => { res.setHeader('Server', 'demo'); res.end('ok'); });
		servers.push(web);
		const webPort = await listen(web);
		const v6 = http.createServer((_req, res) => res.end('ok'));
		servers.push(v6);
		const v6Port = await listen(v6, '::1');
		const notHttp = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n'));
		servers.push(notHttp);
		const notHttpPort = await listen(notHttp);
		const dir = tempDir();
		writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ scripts: { a: `x --port ${webPort}`, b: `y --port ${notHttpPort}`, c: `z --port ${v6Port}` } }));
		const found = await findDevServers([dir]);
		const web1 = found.find((c) => c.port === webPort);
		assert.deepEqual(web1, { port: webPort, source: 'package.json', url: `http://127.0.0.1:${webPort}`, detail: 'HTTP/1.1 200 OK (demo)' });
		assert.equal(found.find((c) => c.port === v6Port)?.url, `http://[::1]:${v6Port}`);
		assert.equal(found.some((c) => c.port === notHttpPort), false);
		assert.equal((await findDevServers([dir], { skipPorts: [webPort] })).some((c) => c.port === webPort), false);
	});

	it('gives up quickly on a port that accepts but never answers', async () => {
		const silent = net.createServer(() => { /* never answers */ });
		servers.push(silent);
		const port = await listen(silent);
		const started = Date.now();
		assert.equal(await probeHttp('127.0.0.1', port, 200), undefined);
		assert.ok(Date.now() - started < 1000);
	});
});
