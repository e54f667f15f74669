import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { openCa, type StoredCa } from '../../../src/core/certs';
import { ProxySession } from '../../../src/core/session';
import { caIdentity, processRunner, systemEnvironment, type CaIdentity, type CommandResult, type CommandRunner, type TrustEnvironment } from '../../../src/core/trust';
import { tempDir } from '../helpers';

/** Every trust test CA has this owner, so a sweep can find leftovers of a killed run. */
export const TEST_OWNER = 'tls-lens-trust-test@localhost';

/** A runner that really runs commands and remembers them, so tests can check what ran. */
export class RecordingRunner implements CommandRunner {
	readonly calls: string[][] = [];
	async run(argv: readonly string[]): Promise<CommandResult> {
		this.calls.push([...argv]);
		return processRunner.run(argv);
	}
	/** Calls that could change something (everything but listing). */
	mutating(): string[][] {
		return this.calls.filter((argv) => !(argv[0] === 'certutil' && argv[1] === '-L'));
	}
}

/**
 * A trust environment for this machine with another HOME and a recording runner. The XDG variables
 * of this process are left out (they name the real user's directories, not those under `home`).
 */
export function testEnvironment(home: string, runner: CommandRunner = new RecordingRunner(), overrides: Partial<TrustEnvironment> = {}): TrustEnvironment {
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('XDG_')));
	return systemEnvironment({ home, runner, env, ...overrides });
}

/** A CA in a temp dir, a plain-HTTP dev server and a real ProxySession in front of it. */
export interface ProxyFixture {
	readonly stored: StoredCa;
	readonly ca: CaIdentity;
	readonly session: ProxySession;
	/** `https://localhost:PORT` */
	readonly url: string;
	close(): Promise<void>;
}

export async function startProxyFixture(): Promise<ProxyFixture> {
	const stored = await openCa(path.join(tempDir('tls-lens-trust-'), 'ca'), { owner: TEST_OWNER });
	const dev = http.createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<title>dev server</title>hello through TLS Lens'); });
	await new Promise<void>((resolve) => dev.listen(0, '127.0.0.1', resolve));
	const session = await ProxySession.start({ target: String((dev.address() as AddressInfo).port), port: 0, caDir: stored.dir, capture: false });
	return {
		stored,
		ca: caIdentity(stored.ca.certPem, stored.certPath),
		session,
		url: session.url,
		close: async () => {
			await session.stop();
			await new Promise((resolve) => dev.close(resolve));
		},
	};
}

/** Runs a command with stdin at /dev/null (openssl s_client waits for input otherwise), without blocking the event loop. */
export function runDetached(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ status: number | null; output: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
		child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		child.on('error', reject);
		child.on('close', (status) => { clearTimeout(timer); resolve({ status, output }); });
	});
}
