// The Trust view: the Trust Doctor's checks (asked of the host, which runs the same code as the
// "TLS Lens: Trust Doctor" command) with a button per one-click fix. Text only, through dom.ts.
import { groupTrustChecks, TRUST_LEVEL_LABEL, trustHeadline, type TrustCheckLevel, type TrustCheckView, type TrustFixResult, type TrustReportView } from '../src/shared/trust';
import { button, clear, h, icon } from './dom';

export interface TrustViewCallbacks {
	report(): Promise<TrustReportView>;
	fix(id: string): Promise<TrustFixResult>;
	/** Back to the traffic list (the button, or Esc). */
	close(): void;
}

const LEVEL_ICON: Readonly<Record<TrustCheckLevel, string>> = { ok: 'pass', info: 'info', warn: 'warning', error: 'error' };

export class TrustView {
	readonly element: HTMLElement;
	private readonly heading: HTMLHeadingElement;
	private readonly headline: HTMLSpanElement;
	private readonly status: HTMLDivElement;
	private readonly body: HTMLDivElement;
	private readonly refreshButton: HTMLButtonElement;
	private report: TrustReportView | undefined;
	/** Set while a fix is on its way (one at a time). */
	private fixing = false;
	/** The latest report or fix asked for: older answers are dropped. */
	private token = 0;

	constructor(private readonly callbacks: TrustViewCallbacks) {
		this.heading = h('h2', { text: 'Trust Doctor', attrs: { tabindex: '-1' } });
		this.headline = h('span', { class: 'muted trust-headline' });
		this.refreshButton = button('refresh', 'Run the checks again', () => void this.refresh());
		this.status = h('div', { class: 'trust-status', attrs: { role: 'status', 'aria-live': 'polite' } });
		this.body = h('div', { class: 'trust-body' });
		this.element = h('section', { class: 'trust-view', attrs: { id: 'trust-view', role: 'region', 'aria-label': 'Trust Doctor' } },
			h('div', { class: 'trust-header' }, icon('shield'), this.heading, this.headline, h('span', { class: 'spacer' }),
				this.refreshButton,
				button('arrow-left', 'Back to traffic (Esc)', () => callbacks.close(), { showLabel: true, title: 'Back to the traffic list (Esc)' })),
			h('p', { class: 'muted trust-intro', text: 'Why a browser might still warn about the proxy\'s certificate: each trust store, the certificates, and the usual traps. The same checks as the "TLS Lens: Trust Doctor" command.' }),
			this.status,
			this.body);
		this.element.addEventListener('keydown', (e) => {
			if (e.key === 'Escape') {
				e.preventDefault();
				callbacks.close();
			}
		});
	}

	/** Moves keyboard focus to the view's heading (when it opens). */
	focus(): void {
		this.heading.focus();
	}

	/** Asks the host for a fresh report and shows it. */
	async refresh(): Promise<void> {
		const token = ++this.token;
		this.setBusy(true, 'Running the checks…');
		let report: TrustReportView;
		try {
			report = await this.callbacks.report();
		} catch (error) {
			report = { checks: [], error: error instanceof Error ? error.message : String(error) };
		}
		if (token !== this.token) return;
		this.setBusy(false);
		this.render(report);
	}

	/** Applies check `id`'s fix through the host (which asks for consent where something changes), then shows the new report. */
	async applyFix(id: string): Promise<void> {
		if (this.fixing) return;
		const check = this.report?.checks.find((c) => c.id === id);
		const token = ++this.token;
		this.fixing = true;
		this.setBusy(true, `Applying “${check?.fix?.label ?? id}”…`);
		let result: TrustFixResult;
		try {
			result = await this.callbacks.fix(id);
		} catch (error) {
			result = { applied: false, error: error instanceof Error ? error.message : String(error), report: this.report ?? { checks: [] } };
		} finally {
			this.fixing = false;
		}
		if (token !== this.token) return;
		const hadFocus = this.element.contains(document.activeElement) || document.activeElement === document.body;
		this.setBusy(false);
		this.render(result.report);
		// The button that had focus was re-rendered: keep the keyboard in the view.
		if (hadFocus && !this.element.contains(document.activeElement)) this.focus();
		if (result.error) this.showStatus(`The fix failed: ${result.error}`, true);
		else if (!result.applied) this.showStatus('That check has no fix any more; the report below is current.');
		else this.showStatus(`“${check?.fix?.label ?? id}” finished; the checks below ran again afterwards.`);
	}

	private setBusy(busy: boolean, text = ''): void {
		this.refreshButton.disabled = busy;
		for (const b of this.body.querySelectorAll('button')) b.disabled = busy;
		this.element.setAttribute('aria-busy', String(busy));
		clear(this.status);
		if (busy) this.status.append(icon('loading', 'codicon-modifier-spin'), ' ' + text);
	}

	private showStatus(text: string, error = false): void {
		clear(this.status);
		this.status.append(h('span', { class: error ? 'error' : 'muted', text }));
	}

	private render(report: TrustReportView): void {
		this.report = report;
		clear(this.body);
		this.headline.textContent = report.error ? '' : trustHeadline(report.checks);
		document.body.dataset.trustChecks = String(report.checks.length);
		if (report.error) {
			this.body.append(h('div', { class: 'notice warning', attrs: { role: 'note' } }, icon('error'), ' The checks could not run: ' + report.error));
			return;
		}
		if (report.ca) {
			this.body.append(h('p', { class: 'muted trust-ca', text: `CA: ${report.ca.commonName}, SHA-256 ${report.ca.fingerprint256}, file ${report.ca.certPath}` }));
		}
		for (const group of groupTrustChecks(report.checks)) {
			const list = h('ul', { class: 'trust-checks', attrs: { 'aria-label': group.title } });
			for (const check of group.checks) list.append(this.checkItem(check));
			this.body.append(h('section', { class: 'section' }, h('h3', { text: group.title }), list));
		}
	}

	private checkItem(check: TrustCheckView): HTMLElement {
		const label = TRUST_LEVEL_LABEL[check.level];
		const item = h('li', { class: `trust-check level-${check.level}`, attrs: { 'data-check': check.id } },
			h('span', { class: 'trust-icon' }, icon(LEVEL_ICON[check.level])),
			h('div', { class: 'trust-text' },
				h('div', { class: 'trust-title' }, h('span', { class: 'trust-level', text: `${label}:` }), ' ', h('span', { text: check.title })),
				h('p', { class: 'trust-detail', text: check.detail })));
		if (check.fix) {
			const fix = h('button', {
				class: 'secondary trust-fix',
				attrs: { type: 'button', 'aria-label': `${check.fix.label} (fixes: ${check.title})` },
				on: { click: (e) => { e.preventDefault(); void this.applyFix(check.id); } },
			}, icon('wrench'), ' ', check.fix.label);
			item.append(fix);
		}
		return item;
	}
}
