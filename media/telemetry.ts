// What the inspector's performance tests read (test/e2e/inspectorPerf.test.ts): timings on a global and
// on <body>'s data attributes. Costs a few assignments; nothing else reads it.

/** How long the last render and filter took (ms). */
export const perf = { render: 0, filter: 0 };
(globalThis as { tlsLensPerf?: typeof perf }).tlsLensPerf = perf;

let firstShown = false;
let allShown = false;

/**
 * Rows were put on screen (`render` draws them now); `complete` when they are the whole list. The first
 * time of each, the next frame records when (ms since the webview started, and the wall-clock time).
 */
export function rowsShown(complete: boolean, render: () => void): void {
	if (!firstShown) {
		firstShown = true;
		render();
		mark('firstRows');
	}
	if (complete && !allShown) {
		allShown = true;
		render();
		mark('allRows');
	}
}

function mark(name: 'firstRows' | 'allRows'): void {
	requestAnimationFrame(() => {
		document.body.dataset[`${name}Ms`] = performance.now().toFixed(1);
		document.body.dataset[`${name}At`] = String(Date.now());
	});
}
