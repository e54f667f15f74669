// The "plain Node setup" the issue measures TLS Lens against: Node's own TLS server (HTTP/2 with
// HTTP/1.1 fallback, the https code path for HTTP/1.1) piping each request through an http.Agent with
// keep-alive, nothing else. Same command-line contract as the TLS Lens CLI so the bench runs it alike:
//   node nodeBaselineProxy.mjs --target PORT --port PORT --cert FILE --key FILE
// prints `ready https://localhost:PORT -> http://127.0.0.1:TARGET`, exits 0 on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { target: { type: 'string' }, port: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } });
const targetPort = Number(values.target);
const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60000, maxFreeSockets: 1024 });
// Hop-by-hop headers must not be forwarded: a forwarded `Connection: close` would close both sides.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'http2-settings']);

function forwardable(headers) {
	const out = {};
	for (const name in headers) {
		if (name[0] !== ':' && !HOP_BY_HOP.has(name)) { out[name] = headers[name]; }
	}
	return out;
}

const server = http2.createSecureServer({ cert: readFileSync(values.cert), key: readFileSync(values.key), allowHTTP1: true }, (req, res) => {
	const headers = forwardable(req.headers);
	headers.host = req.headers[':authority'] ?? req.headers.host;
	const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent }, (upstreamRes) => {
		res.writeHead(upstreamRes.statusCode, forwardable(upstreamRes.headers));
		upstreamRes.pipe(res);
	});
	upstream.on('error', () => {
		if (!res.headersSent) { res.writeHead(502); }
		res.end();
	});
	req.pipe(upstream);
});

server.listen(Number(values.port), '127.0.0.1', () => {
	process.stdout.write(`ready https://localhost:${server.address().port} -> http://127.0.0.1:${targetPort}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
	process.on(signal, () => process.exit(0));
}
