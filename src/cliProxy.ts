// `tls-lens --target …`: runs a ProxySession until SIGINT/SIGTERM, then writes the HAR and exits.
import type { Exchange } from './shared/exchange';
import { toHar, writeHar } from './core/inspector/har';
import { watchHostChecks, watchWebpackSocket } from './core/devServers';
import { ProxySession } from './core/session';
import type { Logger } from './core/logger';

/** The proxy command's parsed flags. */
export interface ProxyFlags {
	readonly target: string;
	readonly port: number;
	readonly host: readonly string[] | undefined;
	readonly caDir: string;
	readonly createCa: boolean;
	readonly extraNames: readonly string[];
	readonly har: string | undefined;
	/** Keep credentials and cookies in the HAR (redacted otherwise). */
	readonly harSensitive: boolean;
	readonly capture: boolean;
	readonly verbose: boolean;
	readonly keepHsts: boolean;
	readonly rewriteHost: boolean;
	readonly rewriteRedirects: boolean;
	readonly upstreamTlsVerify: boolean;
}

/** Starts the proxy, prints the ready line, and resolves after a signal has stopped it cleanly. */
export async function runProxy(flags: ProxyFlags, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<void> {
	const logger = stderrLogger(err, flags.verbose);
	const session = await ProxySession.start({
		target: flags.target,
		port: flags.port,
		host: flags.host,
		caDir: flags.caDir,
		createCa: flags.createCa,
		extraNames: flags.extraNames,
		keepHsts: flags.keepHsts,
		rewriteHost: flags.rewriteHost,
		rewriteRedirects: flags.rewriteRedirects,
		upstreamTlsVerify: flags.upstreamTlsVerify,
		// --verbose without capture still needs request lines, but no bodies.
		capture: flags.capture || flags.verbose,
		bodyLimit: flags.capture ? undefined : 0,
		logger,
	});
	if (flags.verbose && session.store) {
		session.store.onDidChange(({ added, updated }) => {
			for (const exchange of [...added, ...updated]) {
				if (exchange.state !== 'pending') { err.write(requestLine(exchange) + '\n'); }
			}
		});
	}
	if (session.store) {
		watchWebpackSocket(session.store, { onBypass: (bypass) => logger.warn(bypass.message) });
		watchHostChecks(session.store, {
			onRefusal: (refusal) => logger.warn(`${refusal.message} The change: ${refusal.fix}${refusal.rewriteHostFixes ? '; or restart with --rewrite-host' : ''}.`),
		});
	}
	// Listen for the signals before saying "ready": a supervisor may stop us the moment it reads it.
	const signal = new Promise<NodeJS.Signals>((resolve) => {
		process.once('SIGINT', resolve);
		process.once('SIGTERM', resolve);
	});
	out.write(`ready ${session.url} -> ${session.proxy.target.origin}\n`);
	await signal;
	logger.info(`${await signal}: stopping`);
	await session.proxy.stop();
	try {
		if (flags.har && session.store) {
			const har = toHar(session.store.list(), (id, side) => session.store!.body(id, side), undefined, { includeSensitive: flags.harSensitive });
			await writeHar(flags.har, har);
			logger.info(`Wrote ${har.log.entries.length} entries to ${flags.har}${flags.harSensitive ? ' (with credentials and cookies: do not share it)' : ' (credentials and cookies redacted)'}`);
		}
	} finally {
		session.store?.dispose();
	}
}

function requestLine(exchange: Exchange): string {
	const request = exchange.request;
	const status = exchange.response?.statusCode ?? exchange.state;
	const duration = exchange.timings.end === undefined ? '' : ` ${exchange.timings.end.toFixed(1)}ms`;
	if (!request) { return `TLS ${exchange.client} ${exchange.error ?? exchange.state}`; }
	return `${request.method} ${request.authority}${request.path} ${status} ${exchange.responseBody.size}B${duration} h${request.httpVersion}`;
}

function stderrLogger(err: NodeJS.WritableStream, verbose: boolean): Logger {
	const write = (level: string) => (message: string) => { err.write(`[${level}] ${message}\n`); };
	const quiet = () => { };
	return { trace: quiet, debug: verbose ? write('debug') : quiet, info: write('info'), warn: write('warn'), error: write('error') };
}
