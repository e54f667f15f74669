import * as vscode from 'vscode';
import { planWebpackSocketFix, WEBPACK_SOCKET_FIX, type WebpackSocketBypass } from '../core/devServers/webpackSocket';
import type { Logger } from '../core/logger';
import { ConfigFix, type ConfigFixEdit, type ConfigFixOutcome, type ConfigFixSpec } from './configFix';

const FIX = 'Fix webpack.config…';
const SHOW_LOG = 'Show Log';

/** A whole config a user can paste when the workspace has none (or one we cannot edit). */
export const WEBPACK_FIX_SNIPPET = `// webpack.config.js: let webpack-dev-server's HMR client dial the page's own origin, so it goes through TLS Lens.
module.exports = {
  devServer: {
    client: { webSocketURL: 'auto://0.0.0.0:0/ws' },
  },
};
`;

const SPEC: ConfigFixSpec = {
	glob: '**/webpack.config.{js,cjs,mjs,ts}',
	packageHint: /webpack/,
	server: 'webpack serve',
	change: WEBPACK_SOCKET_FIX,
	label: "Route webpack-dev-server's HMR socket through TLS Lens",
	description: "devServer.client.webSocketURL: 'auto://0.0.0.0:0/ws'",
	plan: planWebpackSocketFix,
	snippet: WEBPACK_FIX_SNIPPET,
	afterwards: 'restart webpack serve, since webpack-dev-server bakes its socket address into the bundle when it builds.',
};

export type WebpackFixEdit = ConfigFixEdit;
export type WebpackFixOutcome = ConfigFixOutcome;

/**
 * The VS Code side of webpack-dev-server's HMR socket bypass: one warning per session, and the
 * **Fix webpack.config…** action that edits the config through VS Code's refactor preview.
 */
export class WebpackFix {
	private readonly configFix: ConfigFix;

	constructor(private readonly logger: Logger, private readonly showLog: () => void) {
		this.configFix = new ConfigFix(logger);
	}

	/** Chooses among several configs (a quick pick; tests replace it). */
	set pick(pick: ConfigFix['pick']) { this.configFix.pick = pick; }
	get pick(): ConfigFix['pick'] { return this.configFix.pick; }

	/** Logs the bypass and shows its warning with the fix and Show Log actions. */
	async notify(bypass: WebpackSocketBypass): Promise<WebpackFixOutcome | undefined> {
		const line = `webpack-dev-server's HMR client connects to ${bypass.dialed}, past TLS Lens: edits will not reach the page.`;
		this.logger.warn(line);
		const choice = await vscode.window.showWarningMessage(line, FIX, SHOW_LOG);
		if (choice === SHOW_LOG) { this.showLog(); }
		if (choice !== FIX) { return undefined; }
		return this.fix().catch((error: unknown) => {
			this.logger.error(`Fix webpack.config: ${(error as Error).message ?? String(error)}`);
			return 'manual' as const;
		});
	}

	/** Finds the config to edit (asking when several are equally near a package.json) and offers the edit. */
	fix(uri?: vscode.Uri): Promise<WebpackFixOutcome> {
		return this.configFix.fix(SPEC, uri);
	}

	/** The edit for `document`, flagged so VS Code shows its refactor preview before applying it. */
	buildEdit(document: vscode.TextDocument): WebpackFixEdit {
		return this.configFix.buildEdit(SPEC, document);
	}
}
