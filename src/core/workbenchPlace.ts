// Where the user's browser runs, seen from the extension host, and which proxy link can work there.
// A window with vscode.env.remoteName set is not always far away: VS Code for the Web served from this
// machine (code-server, `code serve-web` on 127.0.0.1) is a "remote" whose browser is right here. Pure
// functions: the VS Code facts come in as strings (src/vscode/workbench.ts gathers them).

/** Local: the browser runs on the machine that runs the proxy. Remote: somewhere else. */
export type WorkbenchPlace = 'local' | 'remote';

/** What the extension host can learn about the workbench. */
export interface WorkbenchFacts {
	/** `vscode.env.remoteName`: undefined in a local desktop window. */
	readonly remoteName: string | undefined;
	/** True in a browser workbench (`vscode.env.uiKind === UIKind.Web`). */
	readonly web: boolean;
	/**
	 * `asExternalUri(http://localhost:PORT)` in a browser workbench. A web workbench that maps ports
	 * through its own port proxy (code-server's `/proxy/PORT/`) answers with a URL on its own origin:
	 * that host is where the browser reaches the server.
	 */
	readonly probe?: { readonly port: number; readonly external: string };
	/** The extension host's `VSCODE_PROXY_URI` (code-server: the port proxy's URL template, with `{{port}}`). */
	readonly proxyUriTemplate?: string;
}

/** Where the browser is, and how that was decided. */
export interface WorkbenchPlacement {
	readonly place: WorkbenchPlace;
	/** The workbench's host as the browser reaches it (`127.0.0.1`, `code.example.com`), when known. */
	readonly host?: string;
	/** Why, in words, for the log. */
	readonly reason: string;
}

/** Authorities VS Code for the Web maps through its port proxy when it opens or resolves a link (extractLocalHostUriMetaDataForPortMapping). */
const PORT_MAPPED_AUTHORITY = /^(localhost|127\.0\.0\.1|0\.0\.0\.0):\d+$/i;

/** True for names and addresses that always mean "this machine" to whoever resolves them. */
export function isLoopbackHostname(host: string): boolean {
	let name = host.toLowerCase();
	if (name.startsWith('[') && name.endsWith(']')) { name = name.slice(1, -1); }
	if (name.endsWith('.')) { name = name.slice(0, -1); }
	if (name === 'localhost' || name.endsWith('.localhost') || name === '::1' || name === '0:0:0:0:0:0:0:1') { return true; }
	const v4 = name.startsWith('::ffff:') ? name.slice('::ffff:'.length) : name;
	return /^127(\.\d{1,3}){3}$/.test(v4);
}

/** The host of a URL, without IPv6 brackets; undefined when it does not parse. */
function urlHost(url: string): string | undefined {
	try {
		const host = new URL(url).hostname;
		return host.startsWith('[') ? host.slice(1, -1) : host;
	} catch {
		return undefined;
	}
}

/**
 * True when `external` is a web port proxy's URL for `port`: plain HTTP forwarded by the workbench's
 * server (code-server's `/proxy/PORT/` and `/absproxy/PORT/`, or the `VSCODE_PROXY_URI` template).
 * TLS cannot pass through such a proxy: it talks plain HTTP to the port.
 */
export function isWebPortProxy(external: string, port: number, proxyUriTemplate?: string): boolean {
	if (proxyUriTemplate?.includes('{{port}}')) {
		const escaped = proxyUriTemplate.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
		const pattern = escaped.replace(/\{\{port\}\}/g, String(port)).replace(/\{\{host\}\}/g, '[^/]+').replace(/\/$/, '');
		if (new RegExp(`^${pattern}(/|$)`, 'i').test(external)) { return true; }
	}
	try {
		return new RegExp(`/(abs)?proxy/${port}(/|$)`).test(new URL(external).pathname);
	} catch {
		return false;
	}
}

/**
 * The host a browser workbench's `remoteName` names. VS Code for the Web's own server uses the page's
 * `location.host` as the remote authority, so remoteName is `127.0.0.1:8080` there; the remotes of
 * extensions (`ssh-remote`, `wsl`, `dev-container`, `codespaces`, `tunnel`) never have a port or a dot.
 */
function remoteNameHost(remoteName: string): string | undefined {
	const withPort = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d+$/i.exec(remoteName);
	if (withPort) { return withPort[1].replace(/^\[|\]$/g, ''); }
	return isLoopbackHostname(remoteName) ? remoteName : undefined;
}

/**
 * Decides whether the browser runs on this machine. A local desktop window: yes. A browser workbench
 * whose own origin is loopback (its port proxy's URL, its proxy template, or its remote authority):
 * yes, the browser reached the server on this machine. Everything else: remote.
 *
 * A loopback origin can also be an SSH tunnel (`ssh -L 8080:localhost:8080` to a remote code-server):
 * the browser's origin looks the same from here, so such a setup is taken as local too.
 */
export function workbenchPlacement(facts: WorkbenchFacts): WorkbenchPlacement {
	if (facts.remoteName === undefined) { return { place: 'local', reason: 'a local window' }; }
	let host: string | undefined;
	let source = '';
	if (facts.web && facts.probe && isWebPortProxy(facts.probe.external, facts.probe.port, facts.proxyUriTemplate)) {
		host = urlHost(facts.probe.external);
		source = `its port proxy (${facts.probe.external})`;
	}
	if (host === undefined && facts.web && facts.proxyUriTemplate && !facts.proxyUriTemplate.includes('{{host}}')) {
		host = urlHost(facts.proxyUriTemplate.replace(/\{\{port\}\}/g, '1'));
		if (host !== undefined) { source = `VSCODE_PROXY_URI (${facts.proxyUriTemplate})`; }
	}
	if (host === undefined && facts.web) {
		host = remoteNameHost(facts.remoteName);
		if (host !== undefined) { source = `its remote authority (${facts.remoteName})`; }
	}
	if (host !== undefined && isLoopbackHostname(host)) {
		return { place: 'local', host, reason: `the workbench is served from ${host} on this machine, as ${source} shows` };
	}
	return host !== undefined
		? { place: 'remote', host, reason: `the workbench is served from ${host}, as ${source} shows` }
		: { place: 'remote', reason: `a remote window (${facts.remoteName})` };
}

/** What Open in Browser and Copy Proxy URL hand out, or why they cannot. */
export interface ProxyLinks {
	/** What Open in Browser opens; undefined: no URL that VS Code's opener would open correctly. */
	readonly open?: string;
	/** What Copy Proxy URL copies; undefined: no URL known to work from the user's browser. */
	readonly copy?: string;
	/** Why `open` or `copy` is missing, and how to reach the proxy instead. */
	readonly message?: string;
	/** A URL the message offers to copy (it works once the port is forwarded as TCP). */
	readonly messageCopy?: string;
}

/** What proxyLinks decides from. */
export interface ProxyLinkInput {
	/** The proxy's own URL, `https://localhost:PORT`. */
	readonly direct: string;
	/** Every URL the proxy is bound to (`https://localhost:PORT`, `https://127.0.0.1:PORT`, `https://[::1]:PORT`). */
	readonly bound: readonly string[];
	/** `asExternalUri(direct)`. */
	readonly external: string;
	readonly placement: WorkbenchPlacement;
	/** The extension host's `VSCODE_PROXY_URI`. */
	readonly proxyUriTemplate?: string;
}

/**
 * Picks the links. Never hands out one known not to work: a web port proxy (plain HTTP) cannot carry
 * the proxy's TLS, so a remote browser gets an explanation instead. A local browser gets the proxy's
 * own URL; where the workbench would send that through its port proxy when opening it (VS Code for
 * the Web maps localhost and 127.0.0.1), Open uses another bound loopback address (`[::1]`) that it
 * leaves alone, and says so when there is none.
 */
export function proxyLinks(input: ProxyLinkInput): ProxyLinks {
	const { direct, external } = input;
	const port = Number(new URL(direct).port) || 443;
	const mapped = external !== direct && external.replace(/\/$/, '') !== direct;
	if (input.placement.place === 'local') {
		if (!mapped) { return { open: direct, copy: direct }; }
		const unmapped = input.bound.find((url) => !PORT_MAPPED_AUTHORITY.test(new URL(url).host));
		if (unmapped) { return { open: unmapped, copy: direct }; }
		return {
			copy: direct,
			message: `The browser runs on this machine, but this VS Code would open ${direct} through its port proxy (${external}), which cannot carry TLS. Open ${direct} in the browser yourself.`,
			messageCopy: direct,
		};
	}
	if (new URL(external).protocol === 'https:' && !isWebPortProxy(external, port, input.proxyUriTemplate)) {
		// A TCP tunnel (Remote-SSH, WSL) or a forwarding service: what VS Code offers for this port.
		return { open: external, copy: external };
	}
	const where = input.placement.host ?? 'the remote host';
	const ssh = `ssh -L ${port}:localhost:${port} ${input.placement.host ?? '<remote host>'}`;
	return {
		message: `This VS Code forwards ${direct} as ${external}, a plain-HTTP web proxy that TLS cannot pass through. `
			+ `Forward port ${port} as TCP instead (for example \`${ssh}\`) and open ${direct} in your browser, or open it on ${where}, the machine that runs the proxy.`,
		messageCopy: direct,
	};
}
