// The details pane of the selected exchange: Headers, Request, Response, Timing, TLS, Messages (WebSockets)
// and EventStream (server-sent events) tabs.
// Every captured value is put on the page with textContent (through h()/text nodes), made visible first:
// control and bidi characters are shown as symbols, not interpreted.
import type { RawHeaders, RewrittenHeader } from '../src/shared/exchange';
import type { BodyView, EventView, ExchangeDetails, MessageView } from '../src/shared/protocol';
import type { ExchangeSummary } from '../src/shared/summary';
import { formatBytes, formatDuration, visible, visibleLine } from '../src/shared/summary';
import { isUntrustedCaError } from '../src/shared/trust';
import { button, clear, h, icon } from './dom';

export type TabId = 'headers' | 'request' | 'response' | 'timing' | 'tls' | 'messages' | 'events';

const TABS: ReadonlyArray<{ id: TabId; label: string }> = [
	{ id: 'headers', label: 'Headers' },
	{ id: 'request', label: 'Request' },
	{ id: 'response', label: 'Response' },
	{ id: 'timing', label: 'Timing' },
	{ id: 'tls', label: 'TLS' },
	{ id: 'messages', label: 'Messages' },
	{ id: 'events', label: 'EventStream' },
];

export interface DetailsCallbacks {
	close(): void;
	tabChanged(tab: TabId): void;
	body(id: number, side: 'request' | 'response'): Promise<BodyView | undefined>;
	image(id: number, side: 'request' | 'response'): Promise<{ mime: string; bytes: Uint8Array } | undefined>;
	copyAs(id: number, format: 'curl' | 'fetch'): void;
	replay(id: number): void;
	openInEditor(id: number, side: 'request' | 'response'): void;
	copyText(text: string): void;
	messageFilterChanged(text: string): void;
	/** Switch to the Trust view (from a handshake the client failed for want of trust). */
	openTrust(): void;
}

export class DetailsPane {
	readonly element: HTMLDivElement;
	private readonly title: HTMLDivElement;
	/** Above the tabs, for a handshake the client refused because it does not trust the CA. */
	private readonly trustNotice: HTMLDivElement;
	private readonly tabList: HTMLDivElement;
	private readonly tabButtons = new Map<TabId, HTMLButtonElement>();
	private readonly panel: HTMLDivElement;
	private details: ExchangeDetails | undefined;
	private tab: TabId = 'headers';
	private objectUrls: string[] = [];
	/** Increments with every render, so that late body answers for an older render are dropped. */
	private renderToken = 0;
	private messageFilter = '';
	/** The EventStream tab's type choice ('' for all). */
	private eventType = '';
	private messageDirection: 'all' | 'client' | 'server' = 'all';
	private readonly bodyCache = new Map<string, BodyView | undefined>();
	/** Copy as cURL, Copy as fetch and Replay: offered only for an HTTP request the host still keeps. */
	private readonly requestActions: readonly HTMLButtonElement[];

	constructor(private readonly callbacks: DetailsCallbacks) {
		this.title = h('div', { class: 'details-title', attrs: { role: 'heading', 'aria-level': '2' } });
		this.requestActions = [
			button('terminal', 'Copy as cURL', () => this.details && callbacks.copyAs(this.details.summary.id, 'curl'), { showLabel: true }),
			button('code', 'Copy as fetch', () => this.details && callbacks.copyAs(this.details.summary.id, 'fetch'), { showLabel: true }),
			button('debug-restart', 'Replay', () => this.details && callbacks.replay(this.details.summary.id), { showLabel: true, title: 'Send this request again through the proxy' }),
		];
		const actions = h('div', { class: 'details-actions' }, ...this.requestActions, button('close', 'Close details (Esc)', () => callbacks.close()));
		this.tabList = h('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Exchange details' } });
		for (const tab of TABS) {
			const b = h('button', {
				class: 'tab',
				attrs: { type: 'button', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': 'tabpanel', 'aria-selected': 'false', tabindex: '-1' },
				text: tab.label,
				on: { click: () => this.selectTab(tab.id, true) },
			});
			this.tabButtons.set(tab.id, b);
			this.tabList.append(b);
		}
		this.tabList.addEventListener('keydown', (e) => this.onTabKey(e));
		this.panel = h('div', { class: 'tabpanel', attrs: { role: 'tabpanel', id: 'tabpanel', tabindex: '0' } });
		this.trustNotice = h('div', { class: 'notice warning trust-notice', attrs: { role: 'note' } },
			icon('shield'), h('span', { text: 'The client refused the proxy\'s certificate: it does not trust the TLS Lens CA.' }),
			button('shield', 'Open Trust Doctor', () => callbacks.openTrust(), { showLabel: true, title: 'Check which stores trust the CA, and fix them' }));
		this.trustNotice.hidden = true;
		this.element = h('div', { class: 'details-pane', attrs: { role: 'region', 'aria-label': 'Details' } },
			h('div', { class: 'details-header' }, this.title, actions), this.trustNotice, this.tabList, this.panel);
		this.element.addEventListener('keydown', (e) => {
			if (e.key === 'Escape' && !(e.target instanceof HTMLInputElement)) {
				e.preventDefault();
				callbacks.close();
			}
		});
	}

	get currentId(): number | undefined {
		return this.details?.summary.id;
	}

	get currentTab(): TabId {
		return this.tab;
	}

	setMessageFilter(text: string): void {
		this.messageFilter = text;
	}

	/**
	 * Shows `details`, or, when undefined, why exchange `id` has none any more (`evicted`: the store
	 * let go of it to stay within its memory budget). Keeps the tab when possible.
	 */
	show(details: ExchangeDetails | undefined, id: number, tab?: TabId, evicted = false): void {
		const sameExchange = this.details?.summary.id === id;
		if (!sameExchange) this.bodyCache.clear();
		this.details = details;
		if (tab !== undefined) this.tab = tab;
		clear(this.title);
		this.trustNotice.hidden = !(details?.summary.kind === 'tls-error' && isUntrustedCaError(details.error ?? details.summary.error));
		// A TLS failure made no request; a WebSocket is not a request to copy or send again.
		const offered = details !== undefined && details.summary.kind === 'http' && details.request !== undefined;
		for (const action of this.requestActions) action.hidden = !offered;
		if (!details) {
			this.title.append(h('span', { text: `#${id}` }));
			this.renderPanelMessage(evicted
				? 'This exchange was evicted: the capture keeps to its memory budget (tlsLens.capture.budget) by letting go of the oldest finished exchanges, and this was one of them. Its headers, bodies and timing are gone.'
				: 'This exchange is no longer kept: the capture was cleared, the proxy started again, or the memory budget evicted it.');
			this.updateTabs();
			return;
		}
		const s = details.summary;
		this.title.append(
			h('span', { class: 'method', text: visibleLine(s.method || 'TLS') }),
			h('span', { class: `status${s.status >= 400 || isFailure(s.state) ? ' error' : ''}`, text: s.status ? String(s.status) : stateText(s.state) }),
			h('span', { class: 'url', text: visibleLine(details.url || details.error || ''), attrs: { title: visibleLine(details.url) } }),
		);
		if ((this.tab === 'messages' && details.messages === undefined) || (this.tab === 'events' && details.events === undefined)) this.tab = 'headers';
		this.updateTabs();
		this.renderTab();
	}

	/** Moves keyboard focus into the details (Enter on a row). */
	focus(): void {
		this.tabButtons.get(this.tab)?.focus();
	}

	selectTab(tab: TabId, focus = false): void {
		this.tab = tab;
		this.updateTabs();
		this.renderTab();
		this.callbacks.tabChanged(tab);
		if (focus) this.tabButtons.get(tab)?.focus();
	}

	private updateTabs(): void {
		const hasMessages = this.details?.messages !== undefined;
		const events = this.details?.events;
		for (const [id, b] of this.tabButtons) {
			const selected = id === this.tab;
			b.setAttribute('aria-selected', String(selected));
			b.tabIndex = selected ? 0 : -1;
			b.classList.toggle('selected', selected);
			b.hidden = id === 'messages' && !hasMessages;
			if (id === 'messages' && hasMessages) b.textContent = `Messages (${(this.details!.messages!.length + (this.details!.messagesOmitted ?? 0))})`;
			if (id === 'events') {
				b.hidden = events === undefined;
				if (events !== undefined) b.textContent = `EventStream (${events.length + (this.details!.eventsOmitted ?? 0)})`;
			}
		}
		this.panel.setAttribute('aria-labelledby', `tab-${this.tab}`);
	}

	private onTabKey(e: KeyboardEvent): void {
		const visibleTabs = TABS.filter((t) => !this.tabButtons.get(t.id)!.hidden).map((t) => t.id);
		const i = visibleTabs.indexOf(this.tab);
		let next: TabId | undefined;
		if (e.key === 'ArrowRight') next = visibleTabs[(i + 1) % visibleTabs.length];
		else if (e.key === 'ArrowLeft') next = visibleTabs[(i - 1 + visibleTabs.length) % visibleTabs.length];
		else if (e.key === 'Home') next = visibleTabs[0];
		else if (e.key === 'End') next = visibleTabs[visibleTabs.length - 1];
		if (next !== undefined) {
			e.preventDefault();
			this.selectTab(next, true);
		}
	}

	private revokeUrls(): void {
		for (const url of this.objectUrls) URL.revokeObjectURL(url);
		this.objectUrls = [];
	}

	private renderPanelMessage(text: string): void {
		this.revokeUrls();
		clear(this.panel);
		this.panel.append(h('p', { class: 'muted', text }));
	}

	private renderTab(): void {
		const details = this.details;
		if (!details) return;
		this.revokeUrls();
		const token = ++this.renderToken;
		clear(this.panel);
		switch (this.tab) {
			case 'headers': this.renderHeaders(details); break;
			case 'request': void this.renderBody(details, 'request', token); break;
			case 'response': void this.renderBody(details, 'response', token); break;
			case 'timing': this.renderTiming(details); break;
			case 'tls': this.renderTls(details); break;
			case 'messages': this.renderMessages(details); break;
			case 'events': this.renderEvents(details); break;
		}
	}

	private section(title: string, copyText?: string): HTMLElement {
		const header = h('div', { class: 'section-header' }, h('h3', { text: title }));
		if (copyText !== undefined) header.append(button('copy', `Copy ${title.toLowerCase()}`, () => this.callbacks.copyText(copyText)));
		const section = h('section', { class: 'section' }, header);
		this.panel.append(section);
		return section;
	}

	/** A table of rows; a row's third element is its value cell's class (`prose`: a sentence, wrapped at spaces). */
	private keyValues(section: HTMLElement, rows: Array<[string, string | undefined, string?]>, raw = false): void {
		const table = h('table', { class: 'kv' });
		for (const [key, value, valueClass] of rows) {
			if (value === undefined) continue;
			table.append(h('tr', {}, h('th', { text: raw ? visibleLine(key) : key, attrs: { scope: 'row' } }), h('td', { class: valueClass, text: visibleLine(value) })));
		}
		section.append(table);
	}

	/** Headers as they were sent; a value TLS Lens rewrote carries a note with the dev server's original. */
	private headersSection(title: string, headers: RawHeaders | undefined, rewritten?: readonly RewrittenHeader[]): void {
		if (headers === undefined) return;
		const section = this.section(`${title} (${headers.length})`, headers.map(([n, v]) => `${n}: ${v}`).join('\n'));
		this.keyValues(section, headers.map(([n, v]) => [n, v]), true);
		if (rewritten === undefined) return;
		const rows = section.querySelectorAll('table.kv tr');
		for (const { index, original } of rewritten) {
			const cell = rows[index]?.querySelector('td');
			if (!cell) continue;
			cell.classList.add('rewritten');
			cell.append(h('div', { class: 'rewrite-note muted' }, icon('info'), ` rewritten by TLS Lens from ${visibleLine(original)}`));
		}
	}

	private renderHeaders(d: ExchangeDetails): void {
		const s = d.summary;
		// TLS Lens's note (a dev server's host check refused the name, say): first, where it is seen.
		if (s.note) this.panel.append(h('div', { class: 'notice warning exchange-note', attrs: { role: 'note' } }, icon('warning'), h('span', { text: visibleLine(s.note) })));
		const general = this.section('General');
		this.keyValues(general, [
			['URL', d.url || undefined],
			['Method', d.request?.method],
			['Status', d.response ? `${d.response.statusCode} ${d.response.statusMessage}` : stateText(s.state)],
			['Ended', s.state === 'closed-by-client' ? 'closed by client, before the response was complete' : undefined],
			['Protocol', d.request ? (d.request.httpVersion === '2' ? 'HTTP/2' : `HTTP/${d.request.httpVersion}`) + (s.kind === 'websocket' ? ' (WebSocket)' : '') : undefined],
			['Client', d.client],
			['Error', d.error],
			['TLS Lens', s.note || undefined, 'prose'],
		]);
		this.headersSection('Response headers', d.response?.headers, d.response?.rewritten);
		this.headersSection('Request headers', d.request?.headers);
	}

	private async renderBody(d: ExchangeDetails, side: 'request' | 'response', token: number): Promise<void> {
		const id = d.summary.id;
		const info = side === 'request' ? d.requestBody : d.responseBody;
		if (info.size === 0) {
			this.panel.append(h('p', { class: 'muted', text: side === 'request' ? 'No request body.' : d.response ? 'No response body.' : 'No response (yet).' }));
			return;
		}
		const key = `${id}:${side}:${info.size}:${d.summary.state}`;
		let view = this.bodyCache.get(key);
		if (view === undefined) {
			this.panel.append(h('p', { class: 'muted' }, icon('loading', 'codicon-modifier-spin'), ' Decoding…'));
			view = await this.callbacks.body(id, side);
			if (token !== this.renderToken) return;
			this.bodyCache.set(key, view);
			clear(this.panel);
		}
		if (!view) {
			this.panel.append(h('p', { class: 'muted', text: 'This body is no longer kept.' }));
			return;
		}
		const facts: string[] = [];
		if (view.mime) facts.push(view.mime);
		facts.push(`${formatBytes(view.info.size)} on the wire`);
		if (view.decodedWith.length > 0) facts.push(`decoded from ${view.decodedWith.join(', ')} to ${formatBytes(view.decodedSize)}`);
		if (view.pretty) facts.push('pretty-printed');
		const bar = h('div', { class: 'body-bar' }, h('span', { class: 'facts', text: visibleLine(facts.join(' · ')) }));
		const tools = h('div', { class: 'body-tools' });
		if (view.mime.startsWith('image/')) {
			tools.append(button('file-media', 'Show image', () => void this.showImage(id, side, token, imageHolder), { showLabel: true }));
		}
		tools.append(button('go-to-file', 'Open in Editor', () => this.callbacks.openInEditor(id, side), { showLabel: true }));
		bar.append(tools);
		this.panel.append(bar);
		if (view.info.truncated) {
			this.panel.append(h('div', { class: 'notice warning', attrs: { role: 'note' } }, icon('warning'), ` Truncated at ${view.info.captured.toLocaleString()} bytes (of ${view.info.size.toLocaleString()}): the capture limit (tlsLens.capture.bodyLimit) cut it.`));
		}
		if (view.error) this.panel.append(h('div', { class: 'notice warning', attrs: { role: 'note' } }, icon('warning'), ' ' + visibleLine(view.error)));
		if (view.note) this.panel.append(h('div', { class: 'notice', attrs: { role: 'note' } }, icon('info'), ' ' + visibleLine(view.note)));
		if (view.displayCut) this.panel.append(h('div', { class: 'notice', attrs: { role: 'note' } }, icon('info'), ' Only the beginning is shown here; Open in Editor has all of it.'));
		const imageHolder = h('div', { class: 'image-holder' });
		this.panel.append(imageHolder);
		if (view.kind === 'image') {
			imageHolder.append(h('p', { class: 'muted', text: 'Images are shown only on request.' }));
			return;
		}
		if (view.hex !== undefined) {
			this.panel.append(h('pre', { class: 'code hex', text: view.hex }));
			return;
		}
		if (view.text !== undefined) this.panel.append(codeBlock(visible(view.text)));
	}

	private async showImage(id: number, side: 'request' | 'response', token: number, holder: HTMLElement): Promise<void> {
		const data = await this.callbacks.image(id, side);
		if (token !== this.renderToken) return;
		clear(holder);
		if (!data) {
			holder.append(h('p', { class: 'muted', text: 'This image cannot be previewed.' }));
			return;
		}
		// A blob: URL of the bytes, with the type the host vetted: nothing from the capture becomes a URL.
		const blob = new Blob([data.bytes.slice().buffer as ArrayBuffer], { type: data.mime });
		const url = URL.createObjectURL(blob);
		this.objectUrls.push(url);
		const img = document.createElement('img');
		img.className = 'preview';
		img.alt = 'Captured image';
		img.src = url;
		holder.append(img);
	}

	private renderTiming(d: ExchangeDetails): void {
		const phases = d.phases;
		const section = this.section('Timing');
		if (phases.length === 0) {
			section.append(h('p', { class: 'muted', text: d.summary.kind === 'tls-error' ? 'The handshake failed: there was no request.' : 'No timing yet.' }));
		} else {
			const min = Math.min(0, ...phases.map((p) => p.start));
			const max = Math.max(...phases.map((p) => p.start + p.duration), 0.001);
			const span = max - min;
			const table = h('div', { class: 'waterfall', attrs: { role: 'table', 'aria-label': 'Timing phases' } });
			for (const phase of phases) {
				const bar = h('div', { class: `bar phase-${phase.name}` });
				bar.style.left = `${((phase.start - min) / span) * 100}%`;
				bar.style.width = `${Math.max(0.5, (phase.duration / span) * 100)}%`;
				table.append(h('div', { class: 'wf-row', attrs: { role: 'row' } },
					h('div', { class: 'wf-label', attrs: { role: 'cell' }, text: phase.label }),
					h('div', { class: 'wf-track', attrs: { role: 'cell' } }, bar),
					h('div', { class: 'wf-value', attrs: { role: 'cell' }, text: formatDuration(phase.duration) })));
			}
			section.append(table);
		}
		const t = d.timings;
		this.keyValues(this.section('Offsets'), [
			['Started', new Date(t.startTime).toISOString()],
			['Upstream connected', t.upstreamConnect !== undefined ? `+${formatDuration(t.upstreamConnect)}` : d.summary.kind === 'tls-error' ? undefined : 'reused (a kept-alive connection to the dev server)'],
			['Request sent', t.requestSent !== undefined ? `+${formatDuration(t.requestSent)}` : undefined],
			['First response byte', t.responseStart !== undefined ? `+${formatDuration(t.responseStart)}` : undefined],
			['Finished', t.end !== undefined ? `+${formatDuration(t.end)}` : undefined],
			['Client connection', connectionText(d.summary)],
			['TLS handshake', d.summary.connectionReused ? 'none: the connection was already open'
				: d.tls.handshakeMs !== undefined ? `${formatDuration(d.tls.handshakeMs)}${d.tls.resumed ? ' (resumed)' : ''}` : undefined],
		]);
	}

	private renderTls(d: ExchangeDetails): void {
		const tls = d.tls;
		if (d.summary.kind === 'tls-error') {
			this.panel.append(h('div', { class: 'notice warning', attrs: { role: 'note' } }, icon('error'), ' Handshake failed: ' + visibleLine(d.error ?? 'unknown reason')));
		}
		this.keyValues(this.section('Connection'), [
			['Connection', d.summary.connection !== undefined ? `#${d.summary.connection}` : undefined],
			['Protocol', tls.protocol],
			['Cipher', tls.cipher],
			['ALPN', tls.alpn ?? 'none'],
			['SNI', tls.sni ?? '(none: connected by address)'],
			['Resumed', tls.resumed === undefined ? undefined : tls.resumed ? 'yes' : 'no'],
			['Handshake', formatDuration(tls.handshakeMs) || undefined],
			['Client', d.client],
		]);
		const cert = tls.certificate;
		if (cert) {
			this.keyValues(this.section('Certificate served'), [
				['Subject', cert.subject],
				['Issuer', cert.issuer],
				['Names (SAN)', cert.subjectAltNames.join(', ')],
				['Valid from', cert.validFrom],
				['Valid to', cert.validTo],
				['SHA-256', cert.fingerprint256],
			]);
		}
	}

	private renderMessages(d: ExchangeDetails): void {
		const messages = d.messages ?? [];
		const filter = h('input', {
			class: 'input',
			attrs: { type: 'search', placeholder: 'Filter messages', 'aria-label': 'Filter messages', spellcheck: 'false' },
		});
		filter.value = this.messageFilter;
		const direction = h('select', { class: 'select', attrs: { 'aria-label': 'Direction' } },
			h('option', { attrs: { value: 'all' }, text: 'All' }),
			h('option', { attrs: { value: 'client' }, text: 'Sent (browser → server)' }),
			h('option', { attrs: { value: 'server' }, text: 'Received (server → browser)' }));
		direction.value = this.messageDirection;
		const count = h('span', { class: 'muted' });
		const list = h('div', { class: 'messages', attrs: { role: 'list', 'aria-label': 'WebSocket messages' } });
		const render = () => {
			const needle = this.messageFilter.toLowerCase();
			clear(list);
			let shown = 0;
			for (const m of messages) {
				if (this.messageDirection !== 'all' && m.direction !== this.messageDirection) continue;
				if (needle && !(m.text ?? m.hex ?? '').toLowerCase().includes(needle)) continue;
				list.append(messageRow(m));
				shown++;
			}
			count.textContent = `${shown} of ${messages.length}${d.messagesOmitted ? ` (${d.messagesOmitted} older not shown)` : ''}`;
		};
		filter.addEventListener('input', () => {
			this.messageFilter = filter.value;
			this.callbacks.messageFilterChanged(filter.value);
			render();
		});
		direction.addEventListener('change', () => {
			this.messageDirection = direction.value as 'all' | 'client' | 'server';
			render();
		});
		this.panel.append(h('div', { class: 'messages-bar' }, filter, direction, count), list);
		render();
	}

	/** Server-sent events as EventSource dispatched them: one row each (id, type, data, time), filterable. */
	private renderEvents(d: ExchangeDetails): void {
		const events = d.events ?? [];
		const filter = h('input', {
			class: 'input',
			attrs: { type: 'search', placeholder: 'Filter events', 'aria-label': 'Filter events', spellcheck: 'false' },
		});
		filter.value = this.messageFilter;
		const types = [...new Set(events.map((e) => e.type))].sort();
		const typeSelect = h('select', { class: 'select', attrs: { 'aria-label': 'Event type' } },
			h('option', { attrs: { value: '' }, text: 'All types' }),
			...types.map((t) => h('option', { attrs: { value: t }, text: visibleLine(t) })));
		typeSelect.value = types.includes(this.eventType) ? this.eventType : '';
		const count = h('span', { class: 'muted' });
		const body = h('tbody');
		const table = h('table', { class: 'events', attrs: { 'aria-label': 'Server-sent events' } },
			h('thead', {}, h('tr', {}, ...['Id', 'Type', 'Data', 'Time'].map((label) => h('th', { text: label, attrs: { scope: 'col' } })))),
			body);
		const render = () => {
			const needle = this.messageFilter.toLowerCase();
			const type = typeSelect.value;
			clear(body);
			let shown = 0;
			for (const e of events) {
				if (type !== '' && e.type !== type) continue;
				if (needle && !`${e.id}\n${e.type}\n${e.data}`.toLowerCase().includes(needle)) continue;
				body.append(eventRow(e));
				shown++;
			}
			count.textContent = `${shown} of ${events.length}${d.eventsOmitted ? ` (${d.eventsOmitted} older not shown)` : ''}`;
		};
		filter.addEventListener('input', () => {
			this.messageFilter = filter.value;
			this.callbacks.messageFilterChanged(filter.value);
			render();
		});
		typeSelect.addEventListener('change', () => {
			this.eventType = typeSelect.value;
			render();
		});
		this.panel.append(h('div', { class: 'messages-bar' }, filter, typeSelect, count));
		if (d.eventsNote !== undefined) this.panel.append(h('p', { class: 'notice', attrs: { role: 'note' }, text: visibleLine(d.eventsNote) }));
		if (events.length === 0) {
			this.panel.append(h('p', { class: 'muted', text: d.summary.state === 'pending' ? 'No events yet: they appear here as they arrive.' : 'The stream sent no events.' }));
			return;
		}
		this.panel.append(table);
		render();
	}
}

function eventRow(e: EventView): HTMLElement {
	const data = h('td', { class: 'event-data', text: visible(e.data) });
	const notes: string[] = [];
	if (e.retry !== undefined) notes.push(`retry ${e.retry} ms`);
	if (e.previewCut) notes.push('preview cut');
	if (notes.length > 0) data.append(h('span', { class: 'muted', text: ` (${notes.join(', ')})` }));
	return h('tr', {},
		h('td', { class: 'event-id', text: visibleLine(e.id), attrs: { title: visibleLine(e.id) } }),
		h('td', { class: 'event-type', text: visibleLine(e.type), attrs: { title: visibleLine(e.type) } }),
		data,
		h('td', { class: 'event-time', text: e.time !== undefined ? `+${formatDuration(e.time)}` : '' }));
}

/** Whether an exchange in `state` failed (a client closing a stream is a normal end). */
function isFailure(state: ExchangeSummary['state']): boolean {
	return state === 'aborted' || state === 'upstream-error' || state === 'tls-error';
}

function stateText(state: ExchangeSummary['state']): string {
	return state === 'closed-by-client' ? 'closed by client' : state;
}

const OPCODES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function messageRow(m: MessageView): HTMLElement {
	const sent = m.direction === 'client';
	const preview = m.text !== undefined ? visible(m.text) : m.hex ?? '';
	const body = h('pre', { class: `message-data${m.hex !== undefined ? ' hex' : ''}`, text: preview });
	const meta: string[] = [OPCODES[m.opcode] ?? `opcode ${m.opcode}`, formatBytes(m.size), `+${formatDuration(m.time)}`];
	if (m.compressed) meta.push('compressed');
	if (m.truncated) meta.push('truncated by the capture limit');
	if (m.previewCut) meta.push('preview cut');
	if (m.note) meta.push(visibleLine(m.note));
	const row = h('div', { class: `message ${sent ? 'sent' : 'received'}`, attrs: { role: 'listitem', tabindex: '0', 'aria-label': `${sent ? 'Sent' : 'Received'} ${OPCODES[m.opcode] ?? ''} message, ${m.size} bytes` } },
		h('div', { class: 'message-meta' }, icon(sent ? 'arrow-up' : 'arrow-down'), h('span', { text: `${sent ? 'sent' : 'received'} · ${meta.join(' · ')}` })),
		body);
	row.addEventListener('click', () => row.classList.toggle('expanded'));
	row.addEventListener('keydown', (e) => {
		if (e.key === 'Enter' || e.key === ' ') {
			e.preventDefault();
			row.classList.toggle('expanded');
		}
	});
	return row;
}

/** Text with a line-number gutter: two text nodes, however long the text. */
function codeBlock(text: string): HTMLElement {
	let lines = 1;
	for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
	const numbers = new Array<string>(lines);
	for (let i = 0; i < lines; i++) numbers[i] = String(i + 1);
	return h('div', { class: 'code-block' },
		h('pre', { class: 'gutter', attrs: { 'aria-hidden': 'true' }, text: numbers.join('\n') }),
		h('pre', { class: 'code', attrs: { tabindex: '0', 'aria-label': 'Body' }, text }));
}

/** Which client connection carried the exchange, and whether this request opened it. */
function connectionText(s: ExchangeSummary): string | undefined {
	if (s.kind === 'tls-error') return s.connection !== undefined ? `#${s.connection}` : undefined;
	const id = s.connection !== undefined ? `#${s.connection}, ` : '';
	return s.connectionReused ? `${id}reused (an earlier request opened it)` : `${id}opened by this request`;
}
