// The TLS Lens traffic inspector webview: plain DOM, a virtualized list, typed messages to the host.
// Captured data is untrusted: it is rendered with textContent only (see dom.ts), images only as blob:
// URLs after a click, and nothing captured ever becomes a link.
import './styles.css';
import { parseFilter } from '../src/shared/filter';
import { MessageHandler, type HostApi, type InspectorView, type RowsEvent, type SessionInfo, type WebviewApi as InspectorWebviewApi } from '../src/shared/protocol';
import { DetailsPane, type TabId } from './details';
import { button, clear, h, icon, primaryButton } from './dom';
import { VirtualList } from './list';
import { RowModel } from './rowModel';
import { perf, rowsShown } from './telemetry';
import { TrustView } from './trust';

/** What survives hide/show and window reloads (vscode.setState). */
interface SavedState {
	filter: string;
	selected?: number;
	tab: TabId;
	scrollTop: number;
	following: boolean;
	messageFilter: string;
	generation?: number;
	/** The main area: traffic, or the Trust Doctor. */
	view: InspectorView;
}

const vscode = acquireVsCodeApi<SavedState>();
const saved: SavedState = { filter: '', tab: 'headers', scrollTop: 0, following: true, messageFilter: '', view: 'traffic', ...(vscode.getState() ?? {}) };

const handler = new MessageHandler<InspectorWebviewApi, HostApi>((message) => vscode.postMessage(message), (error, type) => console.error(`[tls-lens] ${type}:`, error));
window.addEventListener('message', (event: MessageEvent) => {
	// Only the host posts to this window (the webview's parent frame relays it); anything else is ignored by shape.
	void handler.handleMessage(event.data);
});

// #region state

const model = new RowModel(parseFilter(saved.filter));
let session: SessionInfo = { state: 'stopped', capturing: true, paused: false, generation: 0 };
let selected: number | undefined = saved.selected;
let restoredScroll = false;

let saveTimer = 0;
function save(): void {
	if (saveTimer) return;
	saveTimer = window.setTimeout(() => {
		saveTimer = 0;
		vscode.setState(saved);
	}, 200);
}

// #endregion

// #region layout

const app = document.getElementById('app')!;

const filterInput = h('input', {
	class: 'input filter',
	attrs: { type: 'text', 'aria-label': 'Filter requests', spellcheck: 'false', autocomplete: 'off', placeholder: 'Filter (text, method:POST, status:4xx, host:, type:json, -negate)' },
});
filterInput.value = saved.filter;
const filterHint = h('span', { class: 'filter-hint', attrs: { role: 'status', 'aria-live': 'polite' } });
const count = h('span', { class: 'count', attrs: { 'aria-live': 'off' } });
const notice = h('span', { class: 'notice-text', attrs: { role: 'status', 'aria-live': 'polite' } });
const pauseButton = button('debug-pause', 'Pause capture', () => handler.sendEvent('setPaused', { paused: !session.paused }));
const trustButton = button('shield', 'Trust Doctor', () => setView(currentView === 'trust' ? 'traffic' : 'trust'), { title: 'Trust Doctor: does the browser trust the proxy\'s certificate?' });
trustButton.setAttribute('aria-pressed', 'false');
trustButton.setAttribute('aria-controls', 'trust-view');
const toolbar = h('div', { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Inspector' } },
	h('div', { class: 'filter-box' }, icon('filter'), filterInput),
	filterHint,
	h('span', { class: 'spacer' }),
	notice,
	count,
	pauseButton,
	button('clear-all', 'Clear', () => {
		// What the details show is cleared too.
		select(undefined, false);
		handler.sendEvent('clear', {});
	}),
	button('save', 'Export HAR…', () => void exportHar(), { title: 'Export the listed requests as HAR' }),
	trustButton,
);
const banner = h('div', { class: 'banner', attrs: { role: 'status' } });
const empty = h('div', { class: 'empty-state' });

const list = new VirtualList({
	select: (id, how) => select(id, how === 'click'),
	activate: (id) => {
		select(id, false);
		details.focus();
	},
	scrolled: (scrollTop, following) => {
		saved.scrollTop = scrollTop;
		saved.following = following;
		save();
	},
});
list.following = saved.following;

const details = new DetailsPane({
	close: () => {
		select(undefined, false);
		list.viewport.focus();
	},
	tabChanged: (tab) => {
		saved.tab = tab;
		save();
	},
	body: (id, side) => handler.sendRequest('body', { id, side }).catch(() => undefined),
	image: (id, side) => handler.sendRequest('image', { id, side }).catch(() => undefined),
	copyAs: (id, format) => void handler.sendRequest('copyAs', { id, format }).catch(showError),
	replay: (id) => void handler.sendRequest('replay', { id }).catch(showError),
	openInEditor: (id, side) => void handler.sendRequest('openInEditor', { id, side }).catch(showError),
	copyText: (text) => {
		handler.sendEvent('copyText', { text });
		showNotice('Copied');
	},
	messageFilterChanged: (text) => {
		saved.messageFilter = text;
		save();
	},
	openTrust: () => setView('trust'),
});
details.setMessageFilter(saved.messageFilter);

const trustView = new TrustView({
	report: () => handler.sendRequest('trustReport', {}),
	fix: (id) => handler.sendRequest('trustFix', { id }),
	close: () => setView('traffic'),
});
trustView.element.hidden = true;

const listColumn = h('div', { class: 'list-column' }, list.element, empty);
// The Trust view lies over the list and details, which keep their scroll position and selection under it.
const main = h('div', { class: 'main' }, listColumn, details.element, trustView.element);
app.append(toolbar, banner, main);

// #endregion

// #region rendering

function applyFilter(): void {
	const started = performance.now();
	model.refilter();
	perf.filter = performance.now() - started;
	showRows();
}

function showRows(): void {
	list.setView(model.view);
	const { order, view } = model;
	count.textContent = model.filter.terms.length > 0 ? `${view.length.toLocaleString()} / ${order.length.toLocaleString()}` : `${order.length.toLocaleString()} requests`;
	document.body.dataset.rows = String(order.length);
	document.body.dataset.view = String(view.length);
	renderEmpty();
}

function renderEmpty(): void {
	clear(empty);
	const show = model.view.length === 0;
	empty.hidden = !show;
	list.element.classList.toggle('hidden', show);
	if (!show) return;
	if (model.order.length > 0) {
		empty.append(icon('filter'), h('p', { text: 'No requests match the filter.' }), primaryButton('Clear filter', () => setFilter('')));
		return;
	}
	switch (session.state) {
		case 'running':
			if (!session.capturing) {
				empty.append(icon('circle-slash'), h('p', { text: 'Capture is off (tlsLens.capture.enabled), so the proxy forwards without recording.' }),
					primaryButton('Open Settings', () => handler.sendEvent('command', { command: 'openSettings' })));
			} else {
				empty.append(icon('radio-tower'), h('p', { text: 'Waiting for traffic.' }),
					h('p', { class: 'muted' }, 'Open ', h('code', { text: session.url ?? '' }), ' in your browser; every request shows up here.'),
					h('div', { class: 'buttons' },
						primaryButton('Open in Browser', () => handler.sendEvent('command', { command: 'openInBrowser' })),
						h('button', { class: 'secondary', attrs: { type: 'button' }, text: 'Copy URL', on: { click: () => handler.sendEvent('command', { command: 'copyUrl' }) } })));
			}
			break;
		case 'starting':
			empty.append(icon('loading', 'codicon-modifier-spin'), h('p', { text: 'Starting the proxy…' }));
			break;
		default:
			empty.append(icon('lock'), h('p', { text: session.state === 'error' ? 'The proxy could not start.' : 'The proxy is not running.' }),
				h('p', { class: 'muted', text: session.message ?? '' }),
				h('p', { class: 'muted', text: 'Start it in front of your dev server, then open its https:// URL.' }),
				h('div', { class: 'buttons' },
					primaryButton('Start TLS Proxy', () => handler.sendEvent('command', { command: 'start' })),
					session.state === 'error' ? h('button', { class: 'secondary', attrs: { type: 'button' }, text: 'Show Log', on: { click: () => handler.sendEvent('command', { command: 'showLog' }) } }) : undefined));
	}
}

function renderSession(): void {
	clear(banner);
	pauseButton.setAttribute('aria-label', session.paused ? 'Resume capture' : 'Pause capture');
	pauseButton.title = session.paused ? 'Resume capture' : 'Pause capture';
	pauseButton.setAttribute('aria-pressed', String(session.paused));
	pauseButton.replaceChildren(icon(session.paused ? 'debug-start' : 'debug-pause'));
	let text: string | undefined;
	if (session.paused) text = 'Capture is paused: new requests are forwarded but not recorded.';
	else if (session.state !== 'running' && model.order.length > 0) text = 'The proxy stopped: these rows are what it captured; details and export work until you Clear or start again.';
	banner.hidden = text === undefined;
	if (text) banner.append(icon(session.paused ? 'debug-pause' : 'info'), ' ' + text);
	renderEmpty();
}

let noticeTimer = 0;
function showNotice(text: string, error = false): void {
	notice.textContent = text;
	notice.classList.toggle('error', error);
	window.clearTimeout(noticeTimer);
	noticeTimer = window.setTimeout(() => { notice.textContent = ''; }, 4000);
}

function showError(error: unknown): void {
	showNotice(error instanceof Error ? error.message : String(error), true);
}

// #endregion

// #region views

let currentView: InspectorView = 'traffic';

/** Shows the traffic list (with the details) or the Trust view, which asks the host for a fresh report. */
function setView(next: InspectorView, focus = true): void {
	const trust = next === 'trust';
	const changed = next !== currentView;
	currentView = next;
	saved.view = next;
	save();
	trustView.element.hidden = !trust;
	listColumn.inert = trust;
	details.element.inert = trust;
	trustButton.setAttribute('aria-pressed', String(trust));
	document.body.dataset.mainView = next;
	if (trust) {
		if (changed) void trustView.refresh();
		if (focus) trustView.focus();
	} else if (focus && changed) {
		list.viewport.focus();
	}
}

// #endregion

// #region selection and details

let detailsToken = 0;
let detailsTimer = 0;
let lastDetailsAt = 0;

function select(id: number | undefined, _fromClick: boolean): void {
	const changed = id !== selected;
	selected = id;
	saved.selected = id;
	save();
	list.setSelected(id, true);
	main.classList.toggle('with-details', id !== undefined);
	handler.sendEvent('selected', { id });
	if (id === undefined) return;
	if (changed || details.currentId !== id) void loadDetails(id, saved.tab);
}

async function loadDetails(id: number, tab?: TabId): Promise<void> {
	const token = ++detailsToken;
	lastDetailsAt = performance.now();
	const result = await handler.sendRequest('details', { id }).catch(() => undefined);
	if (token !== detailsToken || selected !== id) return;
	details.show(result, id, tab);
}

/** The selected exchange changed on the host (response arrived, WebSocket message …): refresh, at most twice a second. */
function selectedChanged(): void {
	if (selected === undefined || detailsTimer) return;
	const wait = Math.max(0, lastDetailsAt + 500 - performance.now());
	detailsTimer = window.setTimeout(() => {
		detailsTimer = 0;
		if (selected !== undefined) void loadDetails(selected);
	}, wait);
}

// #endregion

// #region host messages

function onRows(event: RowsEvent): void {
	const applied = model.apply(event, selected);
	if (!applied.accepted) return;
	// The store let go of the exchange whose details are open: say so where its details were.
	if (selected !== undefined && !event.reset && event.removed.includes(selected)) {
		++detailsToken;
		window.clearTimeout(detailsTimer);
		detailsTimer = 0;
		details.show(undefined, selected, undefined, true);
	}
	// A new proxy session: the old selection's id means nothing now.
	if (applied.newSession && selected !== undefined) select(undefined, false);
	saved.generation = model.generation;
	showRows();
	if (event.complete && !restoredScroll) {
		restoredScroll = true;
		if (!saved.following) list.scrollTo(saved.scrollTop);
		if (selected !== undefined) {
			if (model.has(selected)) {
				list.setSelected(selected, false);
				main.classList.add('with-details');
				void loadDetails(selected, saved.tab);
			} else {
				select(undefined, false);
			}
		}
	}
	rowsShown(event.complete, () => list.renderNow());
	if (applied.touchedSelected) selectedChanged();
}

handler.onEvent('rows', onRows);
handler.onEvent('session', (s) => {
	session = s;
	renderSession();
});
handler.onEvent('select', ({ id }) => {
	if (typeof id !== 'number') return;
	select(id, false);
});
handler.onEvent('focusFilter', ({ text }) => {
	if (typeof text === 'string') setFilter(text);
	filterInput.focus();
	filterInput.select();
});
handler.onRequest('describe', () => ({
	rows: model.order.length,
	view: model.view.length,
	filter: filterInput.value,
	...(selected !== undefined ? { selected } : {}),
	lastIds: model.view.slice(-50).map((r) => r.s.id),
	tab: details.currentTab,
	following: list.following,
	mainView: currentView,
}));
handler.onEvent('showView', ({ view }) => {
	const next = view === 'trust' ? 'trust' : 'traffic';
	// Asked to show the Trust view it already shows: check again (setView refreshes only on a change).
	if (next === 'trust' && currentView === 'trust') void trustView.refresh();
	setView(next);
});
handler.onEvent('applyTrustFix', ({ id }) => {
	if (typeof id !== 'string') return;
	if (currentView !== 'trust') setView('trust', false);
	void trustView.applyFix(id);
});
handler.onEvent('notice', ({ text, error }) => showNotice(String(text), Boolean(error)));

async function exportHar(): Promise<void> {
	try {
		await handler.sendRequest('exportHar', { filter: filterInput.value });
	} catch (error) {
		showError(error);
	}
}

// #endregion

// #region input

function setFilter(text: string): void {
	filterInput.value = text;
	onFilterInput();
}

/** The hint is cut to fit the toolbar; its tooltip has every word. */
function showFilterErrors(errors: readonly string[]): void {
	filterHint.textContent = errors.join('; ');
	filterHint.title = filterHint.textContent;
	filterInput.classList.toggle('invalid', errors.length > 0);
}

let filterFrame = 0;
function onFilterInput(): void {
	saved.filter = filterInput.value;
	save();
	const filter = parseFilter(filterInput.value);
	model.setFilter(filter);
	showFilterErrors(filter.errors);
	// One recomputation per frame however fast the user types.
	if (filterFrame) return;
	filterFrame = requestAnimationFrame(() => {
		filterFrame = 0;
		applyFilter();
	});
}
filterInput.addEventListener('input', () => {
	// Filtering is about the list: show it.
	if (currentView === 'trust') setView('traffic', false);
	onFilterInput();
});
filterInput.addEventListener('keydown', (e) => {
	if (e.key === 'Escape') {
		e.preventDefault();
		if (filterInput.value) setFilter('');
		else list.viewport.focus();
	} else if (e.key === 'ArrowDown' || e.key === 'Enter') {
		e.preventDefault();
		list.viewport.focus();
	}
});

window.addEventListener('keydown', (e) => {
	if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'f') {
		e.preventDefault();
		filterInput.focus();
		filterInput.select();
	}
});

// #endregion

// The handshake: nothing arrives from the host before it has answered this.
void handler.sendRequest('ready', {}).then(({ session: s, platform }) => {
	session = s;
	filterInput.placeholder = `Filter (${platform === 'mac' ? '⌘F' : 'Ctrl+F'}): text, method:POST, status:4xx, host:, type:json, -negate`;
	document.body.dataset.ready = 'true';
	renderSession();
	if (saved.following) list.scrollToEnd();
	showFilterErrors(model.filter.errors);
	if (saved.view === 'trust') setView('trust', false);
});
renderSession();
showRows();
