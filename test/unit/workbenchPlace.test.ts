import * as assert from 'node:assert/strict';
import { isLoopbackHostname, isWebPortProxy, proxyLinks, workbenchPlacement, type WorkbenchPlacement } from '../../src/core/workbenchPlace';

const DIRECT = 'https://localhost:8443';
const BOUND = [DIRECT, 'https://127.0.0.1:8443', 'https://[::1]:8443'];

describe('workbench place: where the browser runs', () => {
	it('knows loopback names and addresses', () => {
		for (const host of ['localhost', 'LOCALHOST', 'app.localhost', 'localhost.', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) {
			assert.equal(isLoopbackHostname(host), true, host);
		}
		for (const host of ['10.0.0.1', '192.168.1.5', 'code.example.com', 'localhost.example.com', '::2', '128.0.0.1', 'ssh-remote']) {
			assert.equal(isLoopbackHostname(host), false, host);
		}
	});

	it('recognises a web port proxy by its path or by VSCODE_PROXY_URI', () => {
		assert.equal(isWebPortProxy('http://127.0.0.1:8080/proxy/8443/', 8443), true);
		assert.equal(isWebPortProxy('https://code.example.com/base/absproxy/8443', 8443), true);
		assert.equal(isWebPortProxy('http://127.0.0.1:8080/proxy/5173/', 8443), false, 'another port');
		assert.equal(isWebPortProxy('https://localhost:54321/', 8443), false, 'a TCP tunnel');
		assert.equal(isWebPortProxy('https://8443.code.example.com/', 8443, 'https://{{port}}.code.example.com/'), true);
		assert.equal(isWebPortProxy('https://8443.code.example.com/x', 8443, 'https://{{port}}.{{host}}/'), true);
		assert.equal(isWebPortProxy('https://5173.code.example.com/', 8443, 'https://{{port}}.code.example.com/'), false);
	});

	it('a local desktop window is local', () => {
		assert.equal(workbenchPlacement({ remoteName: undefined, web: false }).place, 'local');
	});

	it('VS Code for the Web served from loopback here is local: its port proxy, its template or its authority shows it', () => {
		const probe = { port: 8443, external: 'http://127.0.0.1:37813/proxy/8443/' };
		const fromProbe = workbenchPlacement({ remoteName: '127.0.0.1:37813', web: true, probe });
		assert.equal(fromProbe.place, 'local');
		assert.equal(fromProbe.host, '127.0.0.1');
		assert.match(fromProbe.reason, /port proxy/);
		assert.equal(workbenchPlacement({ remoteName: 'localhost:8080', web: true, proxyUriTemplate: 'http://localhost:8080/proxy/{{port}}/' }).place, 'local');
		assert.equal(workbenchPlacement({ remoteName: '[::1]:8080', web: true }).host, '::1');
		assert.equal(workbenchPlacement({ remoteName: '[::1]:8080', web: true }).place, 'local');
	});

	it('VS Code for the Web served from another host is remote, and names that host', () => {
		const placed = workbenchPlacement({ remoteName: 'code.example.com', web: true, probe: { port: 8443, external: 'https://code.example.com/proxy/8443/' } });
		assert.deepEqual([placed.place, placed.host], ['remote', 'code.example.com']);
		assert.deepEqual([workbenchPlacement({ remoteName: '192.168.1.5:8080', web: true }).place, workbenchPlacement({ remoteName: '192.168.1.5:8080', web: true }).host], ['remote', '192.168.1.5']);
	});

	it('extension remotes stay remote, even when a tunnel lands on loopback', () => {
		// Remote-SSH maps a port to a tunnel on the desktop's localhost: not the workbench's origin.
		assert.equal(workbenchPlacement({ remoteName: 'ssh-remote', web: false }).place, 'remote');
		assert.equal(workbenchPlacement({ remoteName: 'tunnel', web: true, probe: { port: 8443, external: 'http://localhost:54321/' } }).place, 'remote');
		assert.equal(workbenchPlacement({ remoteName: 'codespaces', web: true, probe: { port: 8443, external: 'https://x-8443.app.github.dev/' } }).place, 'remote');
		// A desktop window's remote name is never read as a host, whatever it looks like.
		assert.equal(workbenchPlacement({ remoteName: 'localhost:8080', web: false }).place, 'remote');
	});
});

describe('proxy links: never one known not to work', () => {
	const local: WorkbenchPlacement = { place: 'local', reason: 'a local window' };
	const loopbackWeb: WorkbenchPlacement = { place: 'local', host: '127.0.0.1', reason: 'served from 127.0.0.1' };
	const far: WorkbenchPlacement = { place: 'remote', host: 'code.example.com', reason: 'served from code.example.com' };

	it('a local window opens and copies the proxy URL', () => {
		assert.deepEqual(proxyLinks({ direct: DIRECT, bound: BOUND, external: `${DIRECT}/`, placement: local }), { open: DIRECT, copy: DIRECT });
	});

	it('VS Code for the Web on loopback: copies https://localhost:PORT; opens [::1], which its opener does not send through /proxy/', () => {
		const links = proxyLinks({ direct: DIRECT, bound: BOUND, external: 'http://127.0.0.1:37813/proxy/8443/', placement: loopbackWeb });
		assert.deepEqual(links, { open: 'https://[::1]:8443', copy: DIRECT });
	});

	it('... and, with no other loopback bound, opens nothing and says to open the URL by hand', () => {
		const links = proxyLinks({ direct: DIRECT, bound: [DIRECT, 'https://127.0.0.1:8443'], external: 'http://127.0.0.1:37813/proxy/8443/', placement: loopbackWeb });
		assert.equal(links.open, undefined);
		assert.equal(links.copy, DIRECT);
		assert.equal(links.messageCopy, DIRECT);
		assert.match(links.message!, /Open https:\/\/localhost:8443 in the browser yourself/);
	});

	it('a remote browser behind a plain-HTTP web proxy gets an explanation, not the proxy link', () => {
		for (const external of ['http://code.example.com/proxy/8443/', 'https://code.example.com/proxy/8443/']) {
			const links = proxyLinks({ direct: DIRECT, bound: BOUND, external, placement: far });
			assert.equal(links.open, undefined, external);
			assert.equal(links.copy, undefined, external);
			assert.match(links.message!, /plain-HTTP web proxy that TLS cannot pass through/);
			assert.match(links.message!, /ssh -L 8443:localhost:8443 code\.example\.com/);
			assert.equal(links.messageCopy, DIRECT, 'the direct URL works once the port is forwarded as TCP');
		}
		const unknownHost = proxyLinks({ direct: DIRECT, bound: BOUND, external: 'http://localhost:54321/', placement: { place: 'remote', reason: 'a remote window (x)' } });
		assert.match(unknownHost.message!, /ssh -L 8443:localhost:8443 <remote host>/);
	});

	it('a TCP tunnel or an HTTPS forwarding service is handed out as VS Code maps it', () => {
		const ssh: WorkbenchPlacement = { place: 'remote', reason: 'a remote window (ssh-remote)' };
		assert.deepEqual(proxyLinks({ direct: DIRECT, bound: BOUND, external: 'https://localhost:54321/', placement: ssh }), { open: 'https://localhost:54321/', copy: 'https://localhost:54321/' });
		assert.equal(proxyLinks({ direct: DIRECT, bound: BOUND, external: 'https://x-8443.app.github.dev/', placement: ssh }).open, 'https://x-8443.app.github.dev/');
	});
});
