import * as vscode from 'vscode';
import { planHostCheckFix, type HostCheckRefusal, type HostCheckServer } from '../core/devServers/hostCheck';
import type { Logger } from '../core/logger';
import { ConfigFix, type ConfigFixEdit, type ConfigFixOutcome, type ConfigFixSpec } from './configFix';

const SHOW_LOG = 'Show Log';
const REWRITE_HOST = 'Send Host: localhost';

/** What each dev server is called, the files its setting lives in, and whether it restarts by itself. */
const SERVERS: Record<HostCheckServer, { readonly name: string; readonly file: string; readonly packageHint: RegExp; readonly afterwards?: string }> = {
	// Vite (and Astro through it) and Next.js restart their server when the config file changes.
	vite: { name: 'Vite', file: 'vite.config', packageHint: /"(?:vite|astro)"/ },
	next: { name: 'Next.js', file: 'next.config', packageHint: /"next"/ },
	webpack: { name: 'webpack-dev-server', file: 'webpack.config', packageHint: /webpack/, afterwards: 'restart webpack serve: webpack-dev-server reads its config when it starts.' },
};

/** The config change that lets the refused name through, for {@link ConfigFix}. */
export function hostCheckSpec(refusal: HostCheckRefusal): ConfigFixSpec {
	const server = SERVERS[refusal.server];
	const path = refusal.setting.split('.');
	const change = path.slice(0, -1).reduceRight((inner, key) => `${key}: { ${inner} }`, refusal.fix);
	return {
		glob: refusal.configGlob,
		packageHint: server.packageHint,
		server: server.name,
		change,
		label: `Let ${server.name} serve ${refusal.host} through TLS Lens`,
		description: change,
		plan: (text) => planHostCheckFix(refusal, text),
		snippet: `// ${server.file}: let ${server.name} answer requests for ${refusal.host}, the name TLS Lens serves it on.\nexport default {\n  ${change},\n};\n`,
		afterwards: server.afterwards,
	};
}

/**
 * The VS Code side of a dev server's host check refusing the browser's name: one warning per refused
 * name, with **Fix vite.config…** (or next.config, webpack.config) editing the config through the
 * Refactor Preview and, where that alone is enough (Vite), sending the target's own host instead.
 */
export class HostCheckFix {
	readonly configFix: ConfigFix;

	constructor(private readonly logger: Logger, private readonly showLog: () => void, private readonly useRewriteHost: () => Thenable<void>) {
		this.configFix = new ConfigFix(logger);
	}

	/** Logs the refusal and shows its warning with the fixes and Show Log. */
	async notify(refusal: HostCheckRefusal): Promise<ConfigFixOutcome | 'rewriteHost' | undefined> {
		this.logger.warn(`${refusal.message} The change: ${refusal.fix}.`);
		const fixLabel = `Fix ${SERVERS[refusal.server].file}…`;
		const actions = refusal.rewriteHostFixes ? [fixLabel, REWRITE_HOST, SHOW_LOG] : [fixLabel, SHOW_LOG];
		const choice = await vscode.window.showWarningMessage(refusal.message, ...actions);
		if (choice === SHOW_LOG) { this.showLog(); }
		if (choice === REWRITE_HOST) { return this.sendOwnHost(refusal); }
		if (choice !== fixLabel) { return undefined; }
		return this.fix(refusal).catch((error: unknown) => {
			this.logger.error(`${fixLabel}: ${(error as Error).message ?? String(error)}`);
			return 'manual' as const;
		});
	}

	/** Turns on tlsLens.rewriteHost (which restarts the running proxy): the answer where it is enough on its own. */
	async sendOwnHost(refusal: HostCheckRefusal): Promise<'rewriteHost'> {
		await this.useRewriteHost();
		this.logger.info(`Turned on tlsLens.rewriteHost: ${SERVERS[refusal.server].name} now gets its own host in Host, and lets ${refusal.host} through.`);
		return 'rewriteHost';
	}

	/** Finds the config that holds the setting (asking when several) and offers the edit. */
	fix(refusal: HostCheckRefusal, uri?: vscode.Uri): Promise<ConfigFixOutcome> {
		return this.configFix.fix(hostCheckSpec(refusal), uri);
	}

	/** The edit for `document`, flagged so VS Code shows its Refactor Preview before applying it. */
	buildEdit(refusal: HostCheckRefusal, document: vscode.TextDocument): ConfigFixEdit {
		return this.configFix.buildEdit(hostCheckSpec(refusal), document);
	}
}
