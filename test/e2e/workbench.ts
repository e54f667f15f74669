// Helpers for driving the real VS Code workbench (VS Code server + web UI in headless Chromium).
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';

/** Trusts the opened folder the way a user would (a fresh profile opens it in Restricted Mode). */
export async function trustWorkspace(page: Page): Promise<void> {
	await page.locator('.part.banner').getByText('Manage').click();
	await page.locator('.workspace-trust-editor .monaco-button').filter({ hasText: /^Trust$/ }).first().click();
	const trustEditor = page.locator('.workspace-trust-editor');
	for (let attempt = 0; attempt < 20 && await trustEditor.count() > 0; attempt++) {
		await trustEditor.first().click({ position: { x: 5, y: 5 } }).catch(() => undefined);
		await page.keyboard.press('Escape');
		await page.waitForTimeout(250);
	}
	await trustEditor.waitFor({ state: 'detached', timeout: 5_000 });
	await page.locator('.statusbar-item').filter({ hasText: 'Restricted Mode' }).waitFor({ state: 'detached', timeout: 20_000 });
}

/**
 * F1, type the command's title, pick it. Waits for a previous palette to be closed first: an F1 pressed
 * while it is still closing lands on an inert input that then disappears. (Not after: a command such as
 * Start TLS Proxy opens its own quick pick in the same widget.)
 */
export async function runCommand(page: Page, title: string): Promise<void> {
	const widget = page.locator('.quick-input-widget');
	const input = widget.locator('input');
	await widget.waitFor({ state: 'hidden', timeout: 10_000 });
	await page.keyboard.press('F1');
	await input.waitFor({ state: 'visible' });
	await input.fill(`>${title}`);
	await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().click();
}

/** The frame that holds the inspector's HTML (webviews are nested iframes), once its handshake is done. */
export async function inspectorFrame(page: Page, timeoutMs = 30_000, pollMs = 100): Promise<Frame> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		for (const frame of page.frames()) {
			try {
				if (await frame.locator('body[data-ready="true"] #app').count() > 0) { return frame; }
			} catch {
				// A frame that navigated or detached while we looked.
			}
		}
		if (Date.now() > deadline) { throw new Error('the inspector webview did not complete its ready handshake'); }
		await page.waitForTimeout(pollMs);
	}
}

/** The proxy's port, read from the status bar (`:PORT → :TARGET`). */
export async function proxyPort(page: Page, targetPort: number, timeoutMs = 30_000): Promise<number> {
	const item = page.locator('.statusbar-item').filter({ hasText: new RegExp(`:\\d+ → :${targetPort}`) }).first();
	await item.waitFor({ timeout: timeoutMs });
	const match = /:(\d+) → :/.exec(await item.innerText());
	if (!match) { throw new Error('no port in the status bar'); }
	return Number(match[1]);
}

/** After each failed test of the suite, a screenshot of `page()` in `dir`, named `failed-PREFIXtitle.png`. */
export function screenshotFailures(dir: string, page: () => Page | undefined, prefix = ''): void {
	afterEach(async function () {
		const current = page();
		if (this.currentTest?.state === 'failed' && current) {
			await current.screenshot({ path: path.join(dir, `failed-${prefix}${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}.png`) });
		}
	});
}
