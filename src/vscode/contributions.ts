// One source of truth for the ids that package.json also names (commands, context keys, settings).

export const Command = {
	start: 'tlsLens.start',
	stop: 'tlsLens.stop',
	toggle: 'tlsLens.toggle',
	openInBrowser: 'tlsLens.openInBrowser',
	copyUrl: 'tlsLens.copyUrl',
	openInspector: 'tlsLens.openInspector',
	showLog: 'tlsLens.showLog',
	showCaInfo: 'tlsLens.showCaInfo',
	trustCa: 'tlsLens.trustCa',
	untrustCa: 'tlsLens.untrustCa',
	trustDoctor: 'tlsLens.trustDoctor',
} as const;

export const ContextKey = {
	/** True while the proxy is listening. */
	running: 'tlsLens.running',
	/** `stopped`, `starting`, `running` or `error`. */
	state: 'tlsLens.state',
	/** True while something TLS Lens added trusts its CA: "Remove CA Trust" is offered only then. */
	caTrusted: 'tlsLens.caTrusted',
} as const;

/** The settings section; keys below are relative to it. */
export const SECTION = 'tlsLens';
