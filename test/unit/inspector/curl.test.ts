import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toCurl } from '../../../src/core/inspector/curl';
import type { Exchange, RawHeaders } from '../../../src/shared/exchange';

interface Received {
	method: string;
	url: string;
	headers: RawHeaders;
	body: Buffer;
}

function pairs(raw: string[]): RawHeaders {
	const result: RawHeaders = [];
	for (let i = 0; i < raw.length; i += 2) result.push([raw[i], raw[i + 1]]);
	return result;
}

/** An exchange with its request body attached (as the store would hand it out separately). */
type WithBody = Exchange & { body?: Buffer };

function exchange(method: string, path: string, headers: RawHeaders, body?: Buffer, httpVersion = '1.1'): WithBody {
	return {
		body,
		id: 1, kind: 'http', state: 'completed', client: '127.0.0.1:1', tls: {}, timings: { startTime: 0 },
		request: { method, path, authority: 'localhost:8443', httpVersion, headers },
		requestBody: { size: body?.length ?? 0, captured: body?.length ?? 0, truncated: false },
		responseBody: { size: 0, captured: 0, truncated: false },
	};
}

async function run(shell: string, command: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
	// `sh -c COMMAND`; a command beyond the kernel's 128 KiB per-argument limit goes in a script file
	// instead, as it would when pasted into a terminal or saved as a script.
	let args = ['-c', command];
	if (command.length > 100 * 1024) {
		const file = join(env.HOME!, 'command.sh');
		await writeFile(file, command);
		args = [file];
	}
	return new Promise((resolve, reject) => {
		execFile(shell, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 15_000 }, (error, stdout, stderr) => {
			if (error) reject(new Error(`${shell} failed: ${error.message}\n${stderr}\ncommand:\n${command.slice(0, 2000)}`));
			else resolve({ stdout, stderr });
		});
	});
}

/** The request as the server should see it: what curl adds itself (Host, length, defaults we did not send) left out. */
function comparable(headers: RawHeaders, original: RawHeaders): RawHeaders {
	const sent = new Set(original.map(([n]) => n.toLowerCase()));
	return headers.filter(([name]) => {
		const lower = name.toLowerCase();
		if (name.startsWith(':') || lower === 'host' || lower === 'content-length') return false;
		if ((lower === 'user-agent' || lower === 'accept') && !sent.has(lower)) return false;
		return true;
	});
}

describe('toCurl', function () {
	this.timeout(30_000);
	let dir: string;
	let server: http.Server;
	let origin: string;
	let received: Received[];
	let env: NodeJS.ProcessEnv;
	let canary: string;

	before(async () => {
		dir = await mkdtemp(join(tmpdir(), 'tls-lens-curl-'));
		canary = join(dir, 'PWNED');
		// No proxy variables and no ~/.curlrc: only the generated command decides what curl does.
		env = { PATH: process.env.PATH, HOME: dir, LC_ALL: 'C' };
		received = [];
		server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				received.push({ method: req.method!, url: req.url!, headers: pairs(req.rawHeaders), body: Buffer.concat(chunks) });
				res.end('ok');
			});
		});
		server.listen(0, '127.0.0.1');
		await once(server, 'listening');
		origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});

	after(async () => {
		server.close();
		await rm(dir, { recursive: true, force: true });
	});

	const nasty = `it's "quoted" $(touch CANARY) \`touch CANARY\` $HOME \\ back; echo pwned > CANARY | %s %% '`;

	const cases: Array<{ name: string; exchange: () => WithBody; expect?: (command: string) => void }> = [
		{
			name: 'POST with quotes, $(...), backticks, newlines and an empty header',
			exchange: () => exchange('POST', '/api/items?x=1', [
				['Host', 'localhost:8443'], ['User-Agent', nasty.replace(/CANARY/g, canary)], ['Accept', '*/*'], ['X-Empty', ''],
				['X-Dup', '1'], ['x-dup', '2 \t tab'], ['Content-Type', 'text/plain'], ['Content-Length', '99'], ['Connection', 'keep-alive'],
			], Buffer.from(`line 1\n${nasty.replace(/CANARY/g, canary)}\n\nlast line without newline`)),
			expect: (command) => assert.match(command, /--data-binary '/),
		},
		{
			name: 'PUT with a binary body: NUL, 0xff, CR and a trailing newline (printf | curl --data-binary @-)',
			exchange: () => exchange('PUT', '/upload', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a'], ['Content-Type', 'application/octet-stream']],
				Buffer.from([0, 1, 2, 0x27, 0x25, 0x5c, 0x30, 0xff, 0xfe, 0x0d, 0x0a, 0x24, 0x28, 0x0a])),
			expect: (command) => assert.match(command, /^printf '.*' \| curl /s),
		},
		{
			name: 'a body starting with @ is data, not a file name',
			exchange: () => exchange('POST', '/', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a'], ['Content-Type', 'text/plain']], Buffer.from('@/etc/passwd')),
			expect: (command) => assert.match(command, /--data-raw '@\/etc\/passwd'/),
		},
		{
			name: 'a header value with a latin1 byte is sent byte for byte',
			exchange: () => exchange('GET', '/', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a'], ['X-Latin1', 'caf\u00e9 \u00ff'], ['X-Utf8', Buffer.from('naïve ✓').toString('latin1')]]),
		},
		{
			name: 'a URL with quotes, $(...) and brackets',
			exchange: () => exchange('GET', `/p'a$(id)th/[x]{y}?q='x'&y=\`id\`;&z=%41|"\\`, [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a']]),
			expect: (command) => assert.match(command, /--globoff/),
		},
		{
			name: 'DELETE without body, and no content type added to a body that had none',
			exchange: () => exchange('DELETE', '/items/7', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a']]),
		},
		{
			name: 'PATCH with a body but no Content-Type',
			exchange: () => exchange('PATCH', '/items/7', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a']], Buffer.from('{"a":1}')),
		},
		{
			name: 'a 100 KiB text body (beyond one argument\'s limit) with accept-encoding',
			exchange: () => exchange('POST', '/big', [['Host', 'x'], ['User-Agent', 'u'], ['Accept', 'a'], ['Content-Type', 'text/plain'], ['Accept-Encoding', 'gzip, deflate']],
				Buffer.from(`'$(x)\`\n`.repeat(100 * 1024 / 8))),
			expect: (command) => {
				assert.match(command, /--compressed$/);
				assert.match(command, /^printf /);
			},
		},
	];

	for (const shell of ['sh', 'bash']) {
		for (const c of cases) {
			it(`${shell}: ${c.name}`, async () => {
				const ex = c.exchange();
				const body = ex.body;
				const command = toCurl(ex, body, { origin });
				c.expect?.(command);
				received.length = 0;
				await run(shell, `${command} --silent --show-error --fail --output /dev/null`, env);
				assert.equal(received.length, 1);
				const [got] = received;
				assert.equal(got.method, ex.request!.method);
				assert.equal(got.url, ex.request!.path);
				assert.deepEqual(comparable(got.headers, ex.request!.headers),
					ex.request!.headers.filter(([n]) => !['host', 'content-length', 'connection'].includes(n.toLowerCase())));
				assert.ok(got.body.equals(body ?? Buffer.alloc(0)), `body: ${got.body.toString('hex').slice(0, 200)}`);
				if (body && !ex.request!.headers.some(([n]) => n.toLowerCase() === 'content-type')) {
					assert.ok(!got.headers.some(([n]) => n.toLowerCase() === 'content-type'));
				}
				assert.equal(existsSync(canary), false, 'nothing in the request was executed');
			});
		}
	}


	it('uses HEAD, --http2, merged cookie crumbs and no pseudo-headers; replays over HTTP/2', async () => {
		const ex = exchange('GET', '/h2?x=1', [[':method', 'GET'], [':authority', 'localhost:8443'], [':scheme', 'https'], [':path', '/h2?x=1'],
			['user-agent', 'u'], ['accept', 'a'], ['cookie', 'a=1'], ['x-mid', 'm'], ['cookie', 'b=2']], undefined, '2');
		const command = toCurl(ex);
		assert.match(command, /^curl 'https:\/\/localhost:8443\/h2\?x=1'/);
		assert.match(command, /--http2/);
		assert.doesNotMatch(command, /':/);
		assert.equal(toCurl(exchange('HEAD', '/', [['Host', 'x']])).includes('--head'), true);

		// A real HTTP/2 server over TLS, with a throwaway self-signed certificate curl is told to trust.
		const key = join(dir, 'key.pem');
		const cert = join(dir, 'cert.pem');
		await run('sh', `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '${key}' -out '${cert}' -days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null`, env);
		const h2 = http2.createSecureServer({ key: await readFile(key), cert: await readFile(cert) });
		let got: { headers: RawHeaders; version: string } | undefined;
		h2.on('request', (req, res) => {
			got = { headers: pairs(req.rawHeaders), version: req.httpVersion };
			res.end();
		});
		h2.listen(0, '127.0.0.1');
		await once(h2, 'listening');
		try {
			const h2Command = toCurl(ex, undefined, { origin: `https://127.0.0.1:${(h2.address() as AddressInfo).port}` });
			await run('sh', `${h2Command} --silent --show-error --fail --output /dev/null`, { ...env, CURL_CA_BUNDLE: cert });
			assert.equal(got!.version, '2.0');
			assert.deepEqual(comparable(got!.headers, ex.request!.headers), [['user-agent', 'u'], ['accept', 'a'], ['cookie', 'a=1; b=2'], ['x-mid', 'm']]);
		} finally {
			h2.close();
		}
	});

	it('notes a truncated or missing body above the command', () => {
		const ex = exchange('POST', '/', [['Host', 'x']], Buffer.from('abc'));
		ex.requestBody.size = 10;
		ex.requestBody.truncated = true;
		assert.match(toCurl(ex, Buffer.from('abc')), /^# the request body was cut by the capture limit: 3 of 10 bytes are sent\ncurl /);
		assert.match(toCurl(ex), /^# the request body \(10 bytes\) was not captured\n/);
	});
});
