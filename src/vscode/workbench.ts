// The VS Code facts behind src/core/workbenchPlace.ts: where the browser runs, and which proxy link
// Open in Browser and Copy Proxy URL can hand out from here.
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { proxyLinks, workbenchPlacement, type ProxyLinks, type WorkbenchFacts, type WorkbenchPlacement } from '../core/workbenchPlace';

/** Any port: a web workbench's port proxy maps every port onto its own origin the same way. */
const PROBE_PORT = 8443;

/**
 * Where this window's browser runs. Only a browser workbench is probed: asExternalUri in a desktop
 * remote window (Remote-SSH, WSL) would forward the port as a side effect, and its browser is local
 * to the desktop anyway, never on the remote host.
 */
export async function placeWorkbench(logger: Logger, probePort = PROBE_PORT): Promise<WorkbenchPlacement> {
	const remoteName = vscode.env.remoteName;
	const web = vscode.env.uiKind === vscode.UIKind.Web;
	let probe: WorkbenchFacts['probe'];
	if (remoteName !== undefined && web) {
		try {
			const external = await vscode.env.asExternalUri(vscode.Uri.parse(`http://localhost:${probePort}`));
			probe = { port: probePort, external: external.toString(true) };
		} catch (error) {
			// VS Code for the Web without a port proxy throws "Failed to resolve external URI".
			logger.debug(`Workbench: asExternalUri(http://localhost:${probePort}) failed: ${(error as Error).message}`);
		}
	}
	const placement = workbenchPlacement({ remoteName, web, probe, proxyUriTemplate: process.env.VSCODE_PROXY_URI });
	logger.debug(`Workbench: ${placement.place} (${placement.reason}).`);
	return placement;
}

/** The links for a running proxy at `direct` (`https://localhost:PORT`), bound to `bound`. */
export async function linksFor(direct: string, bound: readonly string[], logger: Logger): Promise<ProxyLinks> {
	const port = Number(new URL(direct).port);
	const external = (await vscode.env.asExternalUri(vscode.Uri.parse(direct))).toString(true);
	const placement = await placeWorkbench(logger, port);
	const links = proxyLinks({ direct, bound, external, placement, proxyUriTemplate: process.env.VSCODE_PROXY_URI });
	if (links.message) { logger.warn(links.message); }
	return links;
}

/** Shows why a link is missing, with a Copy action for the URL that works once the port is forwarded. */
export function explainLinks(links: ProxyLinks): void {
	if (!links.message) { return; }
	const copy = links.messageCopy ? `Copy ${links.messageCopy}` : undefined;
	void vscode.window.showWarningMessage(`TLS Lens: ${links.message}`, ...(copy ? [copy] : [])).then(async (choice) => {
		if (choice && choice === copy && links.messageCopy) {
			await vscode.env.clipboard.writeText(links.messageCopy);
			void vscode.window.setStatusBarMessage(`$(copy) Copied ${links.messageCopy}`, 3000);
		}
	});
}
