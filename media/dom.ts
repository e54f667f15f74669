// Tiny DOM helpers. Captured data is untrusted: it only ever reaches the page as text nodes
// (`textContent`, `createTextNode`) or as plain-text attributes (`title`, `aria-label`); never as HTML,
// never as a URL that could navigate.

type Child = Node | string | undefined | false;

interface Props {
	class?: string;
	/** Plain-text attributes only (no `href`, `src`, `style`, `on*`): enforced below. */
	attrs?: Record<string, string>;
	text?: string;
	on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

const UNSAFE_ATTRIBUTE = /^(on|href$|src$|srcset$|style$|action$|formaction$|xlink:href$)/i;

/** Creates an element; string children become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);
	if (props.class) element.className = props.class;
	if (props.attrs) {
		for (const [name, value] of Object.entries(props.attrs)) {
			if (UNSAFE_ATTRIBUTE.test(name)) throw new Error(`refusing to set ${name}`);
			element.setAttribute(name, value);
		}
	}
	if (props.text !== undefined) element.textContent = props.text;
	if (props.on) {
		for (const [type, listener] of Object.entries(props.on)) element.addEventListener(type, listener as EventListener);
	}
	for (const child of children) {
		if (child === undefined || child === false) continue;
		element.append(typeof child === 'string' ? document.createTextNode(child) : child);
	}
	return element;
}

/** A codicon (`<span class="codicon codicon-NAME" aria-hidden="true">`). */
export function icon(name: string, extra = ''): HTMLSpanElement {
	return h('span', { class: `codicon codicon-${name}${extra ? ' ' + extra : ''}`, attrs: { 'aria-hidden': 'true' } });
}

/** A toolbar-style button with a codicon and an accessible label (the label shows when `showLabel`). */
export function button(iconName: string, label: string, onClick: () => void, options: { showLabel?: boolean; class?: string; title?: string } = {}): HTMLButtonElement {
	const b = h('button', {
		class: `button ${options.showLabel ? 'labelled' : 'icon-only'}${options.class ? ' ' + options.class : ''}`,
		attrs: { type: 'button', title: options.title ?? label, 'aria-label': label },
		on: { click: (e) => { e.preventDefault(); onClick(); } },
	}, icon(iconName), options.showLabel ? h('span', { text: label }) : undefined);
	return b;
}

/** A primary button, as in VS Code's welcome views. */
export function primaryButton(label: string, onClick: () => void): HTMLButtonElement {
	return h('button', { class: 'primary', attrs: { type: 'button' }, text: label, on: { click: (e) => { e.preventDefault(); onClick(); } } });
}

/** Removes all children. */
export function clear(element: Element): void {
	element.replaceChildren();
}
