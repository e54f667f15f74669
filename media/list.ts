// The virtualized exchange list: only the rows in view (plus a few) exist in the DOM, recycled as the
// user scrolls; cells are filled with textContent.
import type { ExchangeSummary } from '../src/shared/summary';
import { formatBytes, formatDuration, visibleLine } from '../src/shared/summary';
import { h } from './dom';
import type { Row } from './rowModel';
import { perf } from './telemetry';

export const ROW_HEIGHT = 22;

const OVERSCAN = 8;


interface Column {
	readonly key: string;
	readonly label: string;
	readonly cell: (s: ExchangeSummary) => string;
	readonly title?: (s: ExchangeSummary) => string;
	/** Whether the cell shows the note marker after its text (the row has a note from TLS Lens). */
	readonly marked?: (s: ExchangeSummary) => boolean;
}

function statusText(s: ExchangeSummary): string {
	if (s.kind === 'tls-error') return 'TLS ✕';
	if (s.status !== 0) return String(s.status);
	if (s.state === 'pending') return '…';
	if (s.state === 'closed-by-client') return '(closed)';
	return s.kind === 'websocket' && s.state === 'completed' ? '101' : '(failed)';
}

/** A WebSocket the dev server accepted and nobody closed yet: live, not waiting. */
function isOpenWebSocket(s: ExchangeSummary): boolean {
	return s.kind === 'websocket' && s.state === 'pending' && s.status === 101;
}

function timeText(s: ExchangeSummary): string {
	if (s.kind === 'tls-error') return '';
	if (s.state === 'pending') return isOpenWebSocket(s) ? 'open' : 'pending';
	// Said in words, as "open" and "pending" are: the duration of a stream the client closed is its title.
	if (s.state === 'closed-by-client') return 'closed';
	return formatDuration(s.duration);
}

/** What the Status and Time cells say on hover. */
function stateTitle(s: ExchangeSummary): string {
	if (s.state === 'closed-by-client') return `Closed by the client after ${formatDuration(s.duration)}, before the response was complete`;
	return s.error ? visibleLine(s.error) : '';
}

/** A row as a screen reader says it: each column's name and value (empty ones left out), and the note's presence. */
function rowLabel(s: ExchangeSummary): string {
	const parts: string[] = [];
	for (const column of COLUMNS) {
		const value = column.cell(s);
		if (value !== '') parts.push(`${column.label} ${value}`);
	}
	if (s.note) parts.push('has a TLS Lens note');
	return parts.join(', ');
}

/** What the Status cell says on hover: TLS Lens's note first, when there is one, then the state. */
function statusTitle(s: ExchangeSummary): string {
	const state = stateTitle(s);
	if (!s.note) return state;
	return state ? `${visibleLine(s.note)}\n${state}` : visibleLine(s.note);
}

const COLUMNS: readonly Column[] = [
	{ key: 'status', label: 'Status', cell: statusText, title: statusTitle, marked: (s) => Boolean(s.note) },
	{ key: 'method', label: 'Method', cell: (s) => visibleLine(s.method) },
	{ key: 'host', label: 'Host', cell: (s) => visibleLine(s.host) },
	{ key: 'path', label: 'Path', cell: (s) => visibleLine(s.kind === 'tls-error' ? s.error ?? 'handshake failed' : s.path), title: (s) => visibleLine(s.kind === 'tls-error' ? s.error ?? '' : s.path) },
	{ key: 'type', label: 'Type', cell: (s) => s.type },
	{ key: 'proto', label: 'Proto', cell: (s) => s.protocol },
	{ key: 'size', label: 'Size', cell: (s) => s.kind === 'tls-error' ? '' : s.kind === 'websocket' ? `${s.messages ?? 0} msg` : formatBytes(s.size), title: (s) => s.kind === 'websocket' ? formatBytes(s.size) : `${s.size} bytes` },
	{ key: 'time', label: 'Time', cell: timeText, title: (s) => s.state === 'closed-by-client' ? stateTitle(s) : '' },
];

/**
 * A cell with the note marker: its text (cut with an ellipsis when narrow) and a warning codicon that
 * always stays in view. The marker is an image named for screen readers; the note is the cell's title.
 */
function fillMarked(cell: HTMLDivElement, text: string): void {
	const current = cell.firstElementChild;
	if (current?.classList.contains('cell-text') && cell.lastElementChild?.classList.contains('note-marker')) {
		if (current.textContent !== text) current.textContent = text;
		return;
	}
	cell.replaceChildren(
		h('span', { class: 'cell-text', text }),
		h('span', { class: 'codicon codicon-warning note-marker', attrs: { role: 'img', 'aria-label': 'TLS Lens note' } }));
}

interface RowElement {
	readonly element: HTMLDivElement;
	readonly cells: HTMLDivElement[];
	row: Row | undefined;
	version: number;
	index: number;
	selected: boolean;
}

export interface ListCallbacks {
	select(id: number | undefined, how: 'click' | 'keyboard'): void;
	activate(id: number): void;
	scrolled(scrollTop: number, following: boolean): void;
}

/** The list pane: header, scrolling grid and a "jump to latest" button. */
export class VirtualList {
	readonly element: HTMLDivElement;
	readonly viewport: HTMLDivElement;
	private readonly spacer: HTMLDivElement;
	private readonly jump: HTMLButtonElement;
	private readonly pool: RowElement[] = [];
	private view: readonly Row[] = [];
	private selectedId: number | undefined;
	private frame = 0;
	/** Follow the tail: stays true while the user is at the bottom. */
	following = true;

	constructor(private readonly callbacks: ListCallbacks) {
		const header = h('div', { class: 'list-header', attrs: { role: 'row', 'aria-rowindex': '1' } },
			...COLUMNS.map((c) => h('div', { class: `cell col-${c.key}`, attrs: { role: 'columnheader' }, text: c.label })));
		this.spacer = h('div', { class: 'list-spacer', attrs: { role: 'presentation' } });
		this.viewport = h('div', {
			class: 'list-viewport',
			attrs: { role: 'grid', tabindex: '0', 'aria-label': 'Captured exchanges', 'aria-rowcount': '1', 'aria-colcount': String(COLUMNS.length), 'aria-multiselectable': 'false' },
		}, header, this.spacer);
		this.jump = h('button', { class: 'jump-latest', attrs: { type: 'button', title: 'Follow new requests', hidden: '' }, on: { click: () => this.scrollToEnd() } });
		this.jump.append(h('span', { class: 'codicon codicon-arrow-down', attrs: { 'aria-hidden': 'true' } }), h('span', { text: 'Latest' }));
		this.element = h('div', { class: 'list-pane' }, this.viewport, this.jump);
		this.viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
		this.viewport.addEventListener('keydown', (e) => this.onKey(e));
		this.viewport.addEventListener('mousedown', (e) => {
			const rowElement = (e.target as Element).closest('.row');
			const id = rowElement ? Number((rowElement as HTMLElement).dataset.id) : undefined;
			if (id !== undefined && !Number.isNaN(id)) this.callbacks.select(id, 'click');
		});
		this.viewport.addEventListener('dblclick', (e) => {
			const rowElement = (e.target as Element).closest('.row');
			const id = rowElement ? Number((rowElement as HTMLElement).dataset.id) : undefined;
			if (id !== undefined && !Number.isNaN(id)) this.callbacks.activate(id);
		});
		new ResizeObserver(() => this.schedule()).observe(this.viewport);
	}

	/** Replaces the rows shown (already filtered); keeps the scroll position unless following. */
	setView(view: readonly Row[]): void {
		this.view = view;
		this.spacer.style.height = `${view.length * ROW_HEIGHT}px`;
		this.viewport.setAttribute('aria-rowcount', String(view.length + 1));
		if (this.following) this.scrollToEnd();
		this.schedule();
	}

	get length(): number {
		return this.view.length;
	}

	setSelected(id: number | undefined, reveal: boolean): void {
		this.selectedId = id;
		if (id === undefined) {
			this.viewport.removeAttribute('aria-activedescendant');
		} else if (reveal) {
			const index = this.view.findIndex((r) => r.s.id === id);
			if (index >= 0) this.reveal(index);
		}
		this.schedule();
	}

	/** Re-renders the visible rows whose summary changed (call after updates). */
	refresh(): void {
		this.schedule();
	}

	scrollTo(scrollTop: number): void {
		this.viewport.scrollTop = scrollTop;
		this.following = this.atEnd();
		this.schedule();
	}

	scrollToEnd(): void {
		this.viewport.scrollTop = this.viewport.scrollHeight;
		this.following = true;
		this.jump.hidden = true;
		this.schedule();
	}

	/** Renders now (for measurements; normally rendering happens on the next animation frame). */
	renderNow(): void {
		if (this.frame) cancelAnimationFrame(this.frame);
		this.frame = 0;
		this.render();
	}

	private atEnd(): boolean {
		const v = this.viewport;
		return v.scrollTop + v.clientHeight >= v.scrollHeight - ROW_HEIGHT;
	}

	private onScroll(): void {
		this.following = this.atEnd();
		this.jump.hidden = this.following || this.view.length === 0;
		this.callbacks.scrolled(this.viewport.scrollTop, this.following);
		this.schedule();
	}

	private schedule(): void {
		if (this.frame) return;
		this.frame = requestAnimationFrame(() => {
			this.frame = 0;
			this.render();
		});
	}

	private render(): void {
		const started = performance.now();
		this.renderRows();
		perf.render = performance.now() - started;
	}

	private renderRows(): void {
		const v = this.viewport;
		// The header row takes the first ROW_HEIGHT of the scroll area (it is sticky).
		const top = Math.max(0, v.scrollTop - ROW_HEIGHT);
		const height = v.clientHeight || 600;
		const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
		const last = Math.min(this.view.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
		const needed = Math.max(0, last - first);
		while (this.pool.length < needed) this.pool.push(this.createRow());
		let activeId: string | undefined;
		for (let i = 0; i < this.pool.length; i++) {
			const re = this.pool[i];
			const index = first + i;
			if (i >= needed) {
				if (re.row !== undefined) {
					re.element.hidden = true;
					re.row = undefined;
				}
				continue;
			}
			const row = this.view[index];
			if (re.row !== row || re.version !== row.version) {
				this.fill(re, row);
			}
			if (re.index !== index) {
				re.index = index;
				re.element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
				re.element.setAttribute('aria-rowindex', String(index + 2));
			}
			const selected = row.s.id === this.selectedId;
			if (selected !== re.selected) {
				re.selected = selected;
				re.element.classList.toggle('selected', selected);
				re.element.setAttribute('aria-selected', String(selected));
			}
			if (selected) activeId = re.element.id;
			re.element.hidden = false;
		}
		if (activeId !== undefined) v.setAttribute('aria-activedescendant', activeId);
		else v.removeAttribute('aria-activedescendant');
	}

	private createRow(): RowElement {
		const cells = COLUMNS.map((c) => h('div', { class: `cell col-${c.key}`, attrs: { role: 'gridcell' } }));
		const element = h('div', { class: 'row', attrs: { role: 'row', 'aria-selected': 'false' } }, ...cells);
		element.hidden = true;
		this.spacer.append(element);
		return { element, cells, row: undefined, version: -1, index: -1, selected: false };
	}

	private fill(re: RowElement, row: Row): void {
		const s = row.s;
		re.row = row;
		re.version = row.version;
		re.element.id = `row-${s.id}`;
		re.element.dataset.id = String(s.id);
		// A stream the client closed (EventSource.close(), an aborted fetch) ended normally: not red.
		const failed = s.state === 'aborted' || s.state === 'upstream-error' || s.state === 'tls-error';
		// An open WebSocket looks like any answered row.
		re.element.className = `row${re.selected ? ' selected' : ''}${isOpenWebSocket(s) ? ' open' : s.state === 'pending' ? ' pending' : ''}${s.state === 'closed-by-client' ? ' closed' : ''}${failed || s.status >= 400 ? ' error' : ''}${s.status >= 300 && s.status < 400 ? ' redirect' : ''}${s.note ? ' noted' : ''}`;
		re.element.setAttribute('aria-label', rowLabel(s));
		for (let c = 0; c < COLUMNS.length; c++) {
			const column = COLUMNS[c];
			const cell = re.cells[c];
			const text = column.cell(s);
			if (column.marked?.(s)) fillMarked(cell, text);
			else if (cell.firstElementChild !== null || cell.textContent !== text) cell.textContent = text;
			const title = column.title?.(s);
			if (title) cell.title = title;
			else if (cell.title) cell.removeAttribute('title');
		}
	}

	private reveal(index: number): void {
		const v = this.viewport;
		const rowTop = (index + 1) * ROW_HEIGHT;
		const visibleTop = v.scrollTop + ROW_HEIGHT;
		const visibleBottom = v.scrollTop + v.clientHeight;
		if (rowTop < visibleTop) v.scrollTop = rowTop - ROW_HEIGHT;
		else if (rowTop + ROW_HEIGHT > visibleBottom) v.scrollTop = rowTop + ROW_HEIGHT - v.clientHeight;
	}

	private onKey(e: KeyboardEvent): void {
		if (this.view.length === 0) return;
		const current = this.selectedId === undefined ? -1 : this.view.findIndex((r) => r.s.id === this.selectedId);
		const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
		let next: number | undefined;
		switch (e.key) {
			case 'ArrowDown': next = current < 0 ? 0 : Math.min(this.view.length - 1, current + 1); break;
			case 'ArrowUp': next = current < 0 ? this.view.length - 1 : Math.max(0, current - 1); break;
			case 'PageDown': next = Math.min(this.view.length - 1, Math.max(0, current) + page); break;
			case 'PageUp': next = Math.max(0, current - page); break;
			case 'Home': next = 0; break;
			case 'End': next = this.view.length - 1; break;
			case 'Enter':
				if (current >= 0) {
					e.preventDefault();
					this.callbacks.activate(this.view[current].s.id);
				}
				return;
			case 'Escape':
				if (this.selectedId !== undefined) {
					e.preventDefault();
					this.callbacks.select(undefined, 'keyboard');
				}
				return;
			default:
				return;
		}
		e.preventDefault();
		const id = this.view[next].s.id;
		this.callbacks.select(id, 'keyboard');
		this.reveal(next);
		this.following = next === this.view.length - 1 && this.atEnd();
	}
}
