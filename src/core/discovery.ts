import { promises as fs } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';

/** Ports dev servers usually take: Next/Express 3000, Angular 4200, Astro 4321, Vite 5173, Django/others 8000, 8080… */
export const COMMON_DEV_PORTS = [3000, 3001, 4000, 4200, 4321, 5000, 5173, 5174, 6006, 8000, 8080, 8081, 8888, 9000] as const;

/** A loopback port that answered HTTP, and why we looked there. */
export interface DevServerCandidate {
	readonly port: number;
	/** `http://127.0.0.1:PORT` or `http://[::1]:PORT`, whichever answered. */
	readonly url: string;
	/** `common port`, or the file that named the port (e.g. `package.json`). */
	readonly source: string;
	/** The `Server` header or first status line, to help the user tell servers apart. */
	readonly detail: string;
}

/**
 * Finds dev servers that are running: probes the common ports and the ports named in each folder's
 * `package.json` scripts and Vite/Next/Astro config, on 127.0.0.1 and ::1, with a short HTTP request.
 * @param folders workspace folders to read port hints from
 * @param skipPorts ports to leave out (e.g. the proxy's own)
 */
export async function findDevServers(folders: readonly string[], options: { skipPorts?: readonly number[]; timeoutMs?: number } = {}): Promise<DevServerCandidate[]> {
	const hinted = new Map<number, string>();
	for (const folder of folders) {
		for (const [port, source] of await portHints(folder)) {
			if (!hinted.has(port)) { hinted.set(port, source); }
		}
	}
	for (const port of COMMON_DEV_PORTS) {
		if (!hinted.has(port)) { hinted.set(port, 'common port'); }
	}
	for (const port of options.skipPorts ?? []) { hinted.delete(port); }
	const probes = [...hinted].map(async ([port, source]) => {
		const answer = await probeHttp('127.0.0.1', port, options.timeoutMs) ?? await probeHttp('::1', port, options.timeoutMs);
		return answer && { port, source, url: answer.url, detail: answer.detail };
	});
	return (await Promise.all(probes)).filter((c): c is DevServerCandidate => !!c);
}

/** Ports named in a folder's package.json scripts and dev-server config files. */
export async function portHints(folder: string): Promise<Array<[number, string]>> {
	const hints: Array<[number, string]> = [];
	const add = (text: string, patterns: RegExp[], source: string) => {
		for (const pattern of patterns) {
			for (const match of text.matchAll(pattern)) {
				const port = Number(match[1]);
				if (port > 0 && port < 65536) { hints.push([port, source]); }
			}
		}
	};
	const pkg = await readText(path.join(folder, 'package.json'));
	if (pkg) {
		try {
			const scripts = Object.values((JSON.parse(pkg) as { scripts?: Record<string, unknown> }).scripts ?? {}).filter((s): s is string => typeof s === 'string');
			add(scripts.join('\n'), [/--port[= ](\d{2,5})\b/g, /(?:^|\s)-p[= ]?(\d{2,5})\b/g, /\bPORT=(\d{2,5})\b/g], 'package.json');
		} catch {
			// Not JSON (being edited): no hints from it.
		}
	}
	for (const file of ['vite.config.ts', 'vite.config.js', 'vite.config.mjs', 'vite.config.mts', 'astro.config.mjs', 'next.config.js', 'next.config.mjs', 'next.config.ts']) {
		const text = await readText(path.join(folder, file));
		if (text) { add(text, [/\bport\s*:\s*(\d{2,5})\b/g], file); }
	}
	return hints;
}

/** Sends `HEAD /` and reports the status line if an HTTP server answered within the timeout. */
export function probeHttp(host: string, port: number, timeoutMs = 400): Promise<{ url: string; detail: string } | undefined> {
	return new Promise((resolve) => {
		const socket = connect({ host, port });
		const done = (result?: { url: string; detail: string }) => { socket.destroy(); resolve(result); };
		socket.setTimeout(timeoutMs, () => done());
		socket.once('error', () => done());
		socket.once('connect', () => socket.write(`HEAD / HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`));
		let head = '';
		socket.on('data', (chunk) => {
			head += chunk.toString('latin1');
			if (!head.includes('\r\n')) { return; }
			if (!/^HTTP\/\d(\.\d)? \d{3}/.test(head)) { done(); return; }
			const server = /\r\nserver:\s*([^\r\n]*)/i.exec(head)?.[1];
			const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
			done({ url, detail: server ? `${head.slice(0, head.indexOf('\r\n'))} (${server})` : head.slice(0, head.indexOf('\r\n')) });
		});
	});
}

async function readText(file: string): Promise<string | undefined> {
	try {
		return await fs.readFile(file, 'utf8');
	} catch {
		return undefined;
	}
}
