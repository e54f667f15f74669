/**
 * The Trust Doctor as the inspector's Trust view shows it: the checks of src/core/trust/doctor.ts
 * without what only the host may act on (a fix's argument stays on the host: the webview names a
 * check, the host applies that check's fix). Pure functions, shared by host and webview.
 */

export type TrustCheckLevel = 'ok' | 'info' | 'warn' | 'error';
export type TrustCheckGroup = 'stores' | 'certificates' | 'traps';

/** One check of the doctor's report. */
export interface TrustCheckView {
	/** Stable id (`store:linux-system`, `leaf:validates` …): what a fix request names. */
	readonly id: string;
	readonly group: TrustCheckGroup;
	readonly level: TrustCheckLevel;
	readonly title: string;
	readonly detail: string;
	/** Set when the check has a one-click fix: the button's text. */
	readonly fix?: { readonly label: string };
}

/** The doctor's report for the Trust view. */
export interface TrustReportView {
	/** The CA checked (absent when it could not be opened). */
	readonly ca?: { readonly commonName: string; readonly fingerprint256: string; readonly certPath: string };
	readonly checks: readonly TrustCheckView[];
	/** Why the checks could not run at all. */
	readonly error?: string;
}

/** What applying a fix from the Trust view did; `report` is the doctor's report afterwards. */
export interface TrustFixResult {
	/** True when the check's fix ran (its consent modal may still have been declined); false when it has no fix or failed. */
	readonly applied: boolean;
	readonly error?: string;
	readonly report: TrustReportView;
}

export const TRUST_GROUPS: ReadonlyArray<{ readonly id: TrustCheckGroup; readonly title: string }> = [
	{ id: 'stores', title: 'Trust stores' },
	{ id: 'certificates', title: 'Certificates' },
	{ id: 'traps', title: 'Traps' },
];

/** A level in words, so that the view never says it with colour alone. */
export const TRUST_LEVEL_LABEL: Readonly<Record<TrustCheckLevel, string>> = { ok: 'OK', info: 'Note', warn: 'Warning', error: 'Problem' };

/** The webview's copy of a doctor check: only plain fields, and of the fix only its label. */
export function trustCheckView(check: { id: string; group: TrustCheckGroup; level: TrustCheckLevel; title: string; detail: string; fix?: { label: string } }): TrustCheckView {
	return {
		id: check.id,
		group: check.group,
		level: check.level,
		title: check.title,
		detail: check.detail,
		...(check.fix ? { fix: { label: check.fix.label } } : {}),
	};
}

/** The checks by group, in the doctor's group order; empty groups left out. */
export function groupTrustChecks(checks: readonly TrustCheckView[]): Array<{ id: TrustCheckGroup; title: string; checks: TrustCheckView[] }> {
	return TRUST_GROUPS.map((group) => ({ ...group, checks: checks.filter((check) => check.group === group.id) })).filter((group) => group.checks.length > 0);
}

/** One line over the report: how many problems and warnings, or that all is well. */
export function trustHeadline(checks: readonly TrustCheckView[]): string {
	const problems = checks.filter((check) => check.level === 'error').length;
	const warnings = checks.filter((check) => check.level === 'warn').length;
	if (problems === 0 && warnings === 0) return checks.length ? 'All good' : 'No checks ran';
	const parts: string[] = [];
	if (problems) parts.push(`${problems} problem${problems === 1 ? '' : 's'}`);
	if (warnings) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
	return parts.join(', ');
}

/**
 * Whether a failed handshake's reason says the client does not trust the CA: the alerts OpenSSL and
 * BoringSSL clients send for an unknown issuer (unknown ca, certificate unknown, bad certificate,
 * unsupported certificate), as src/core/proxy/tlsDetails.ts describes them.
 */
export function isUntrustedCaError(error: string | undefined): boolean {
	if (!error) return false;
	return /does not trust the TLS Lens CA|\b(unknown ca|certificate unknown|bad certificate|unsupported certificate)\b/i.test(error);
}
