import * as assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Browser, Frame, Locator, Page } from 'playwright-core';
import { startVite, type ViteServer } from '../fixtures/devServers';
import { runCommand, screenshotFailures, trustWorkspace } from './workbench';

const repo = path.resolve(__dirname, '../..');
const output = path.join(repo, 'test-output/e2e');

interface WalkthroughStep {
	readonly id: string;
	readonly title: string;
	readonly description: string;
	readonly media: { readonly svg: string; readonly altText: string };
	readonly completionEvents: readonly string[];
}

// The manifest is what VS Code renders, so it is also what the test expects to see.
const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
	contributes: { walkthroughs: { id: string; title: string; steps: WalkthroughStep[] }[] };
};
const walkthrough = manifest.contributes.walkthroughs[0]!;
const steps = walkthrough.steps;

// The walkthrough as a user finds it (Welcome: Open Walkthrough…), its images in every theme, and its
// first button. The once-after-install auto-open needs an installed extension (Production mode): the
// VSIX tier tests that; here TLS Lens runs as an extension under development.
describe('Get Started walkthrough in the VS Code UI', function () {
	let vscode: import('../vscode/testVscode.mjs').TestVscode;
	let browser: Browser;
	let page: Page;
	let vite: ViteServer;
	let work: string;
	let app: string;

	before(async () => {
		const { startTestVscode, launchChromium } = await import('../vscode/testVscode.mjs');
		work = mkdtempSync(path.join(tmpdir(), 'tls-lens-e2e-walkthrough-'));
		app = path.join(work, 'demo-app');
		cpSync(path.join(repo, 'test/fixtures/viteApp'), app, { recursive: true });
		vite = await startVite(app);
		// The dev server's port, named in package.json, is what "Start TLS Proxy" discovers.
		writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'demo', private: true, scripts: { dev: `vite --port ${vite.port}` } }));
		mkdirSync(path.join(app, '.vscode'), { recursive: true });
		writeFileSync(path.join(app, '.vscode/settings.json'), JSON.stringify({ 'tlsLens.port': 0, 'workbench.colorTheme': 'Default Dark Modern' }));
		mkdirSync(output, { recursive: true });
		vscode = await startTestVscode({ dataDir: path.join(work, 'vscode') });
		browser = await launchChromium();
		// Reduced motion: the walkthrough then focuses a selected step at once instead of 250 ms later, after
		// its expand animation (gettingStarted.ts selectStep), which would close a quick pick opened in between.
		page = await browser.newPage({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
		await page.goto(vscode.url({ folder: app }));
		await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
		// Restricted Mode would ignore tlsLens.port (0: a free port) and take 8443.
		await trustWorkspace(page);
		// Room for the step list and its image side by side, as in a maximised window.
		await runCommand(page, 'View: Close Primary Side Bar');
		if (await page.locator('.part.auxiliarybar').isVisible()) { await runCommand(page, 'View: Toggle Secondary Side Bar Visibility'); }
	});

	screenshotFailures(output, () => page, 'walkthrough-');

	after(async () => {
		await browser?.close();
		await vscode?.stop();
		await vite?.stop();
		if (work) { rmSync(work, { recursive: true, force: true }); }
	});

	const stepButton = (step: WalkthroughStep) => page.locator(`.getting-started-step[data-step-id$="#${walkthrough.id}#${step.id}"]`);

	/** Expands a step and waits until its image is drawn. */
	const selectStep = async (step: WalkthroughStep) => {
		await stepButton(step).locator('.step-title').click();
		await page.locator(`.getting-started-step.expanded[data-step-id$="#${step.id}"]`).waitFor({ timeout: 5_000 });
		return stepImage(page, step);
	};

	it('Welcome: Open Walkthrough… offers it; it lists the four steps with their buttons', async () => {
		await runCommand(page, 'Welcome: Open Walkthrough...');
		await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: walkthrough.title }).first().click();
		await page.locator('.gettingStartedDetailsContent h2.category-title').filter({ hasText: walkthrough.title }).waitFor({ timeout: 20_000 });
		assert.equal(steps.length, 4);
		assert.deepEqual(await page.locator('.getting-started-step .step-title').allInnerTexts(), steps.map((s) => s.title));
		for (const step of steps) {
			// Each step has a button (a link on a line of its own) for the command it is about.
			const button = /^\[([^\]]+)\]\(command:([\w.]+)\)$/m.exec(step.description);
			assert.ok(button, `${step.id}: a command button in the description`);
			assert.ok(step.completionEvents.includes(`onCommand:${button[2]}`), `${step.id}: done when ${button[2]} runs`);
			await selectStep(step);
			await stepButton(step).locator('.button-container .monaco-button').filter({ hasText: button[1] }).waitFor({ state: 'visible', timeout: 5_000 });
			assert.equal(await stepButton(step).getAttribute('aria-checked'), 'false', `${step.id} is not done yet`);
		}
	});

	it('the first step\'s Start TLS Proxy button runs the command and checks the step off', async () => {
		const first = steps[0]!;
		await selectStep(first);
		await stepButton(first).locator('.button-container .monaco-button').filter({ hasText: 'Start TLS Proxy' }).click();
		// The command's own quick pick, with the dev server it discovered.
		const candidate = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: `127.0.0.1:${vite.port}` });
		await candidate.waitFor({ timeout: 20_000 });
		await candidate.click();
		await page.locator('.statusbar-item').filter({ hasText: new RegExp(`:\\d+ → :${vite.port}`) }).waitFor({ timeout: 30_000 });
		await page.locator(`.codicon-getting-started-step-checked[data-done-step-id$="#${first.id}"]`).waitFor({ timeout: 10_000 });
		assert.equal(await stepButton(first).getAttribute('aria-checked'), 'true');
		for (const step of steps.slice(1)) { assert.equal(await stepButton(step).getAttribute('aria-checked'), 'false', `${step.id} is not done by this`); }
	});

	it('every step shows its image, in the colours of the dark, light and high-contrast themes (screenshots)', async () => {
		await runCommand(page, 'Notifications: Clear All Notifications');
		for (const [theme, name] of [['Default Light Modern', 'light'], ['Default High Contrast', 'high-contrast'], ['Default Dark Modern', 'dark']] as const) {
			await setTheme(page, app, theme);
			// Last the first step, whose image is the one in the screenshot.
			for (const step of [...steps.slice(1), steps[0]!]) {
				const { frame, svg } = await selectStep(step);
				const box = await svg.boundingBox();
				assert.ok(box && box.width > 300 && box.height > 150, `${step.media.svg} is drawn at a visible size (${JSON.stringify(box)})`);
				// Theme-aware: the image's background is this theme's editor background, not a colour of its own.
				await waitFor(async () => {
					const colours = await themeColours(frame, step);
					return colours.variable !== '' && colours.fill === colours.resolved;
				}, `${name}: ${step.media.svg} is drawn in the theme's colours (${JSON.stringify(await themeColours(frame, step))})`);
			}
			await page.waitForTimeout(300);
			await page.screenshot({ path: path.join(output, `walkthrough-${name}.png`) });
		}
		// The walkthrough alone, for the README: all four steps (a taller window), the editor area down to the
		// footer (code-server's, not VS Code's).
		await page.setViewportSize({ width: 1280, height: 940 });
		await page.waitForTimeout(300);
		const editor = await page.locator('.part.editor').boundingBox();
		const footer = await page.locator('.getting-started-footer').boundingBox().catch(() => null);
		assert.ok(editor);
		await page.screenshot({ path: path.join(output, 'walkthrough-dark-editor.png'), clip: { ...editor, height: footer ? footer.y - editor.y : editor.height } });
		await page.setViewportSize({ width: 1280, height: 800 });
		// An image that could not be read is reported by VS Code as an error notification.
		assert.equal(await page.locator('.notification-toast').filter({ hasText: /Error reading/ }).count(), 0);
	});

	it('a narrow window (800×600) still shows every step\'s text and button (screenshot)', async () => {
		await page.setViewportSize({ width: 800, height: 600 });
		try {
			await stepButton(steps[1]!).locator('.step-title').click();
			const button = stepButton(steps[1]!).locator('.button-container .monaco-button');
			await button.waitFor({ state: 'visible', timeout: 5_000 });
			// Below 950 px VS Code leaves the images out (gettingStarted.css) and keeps the text in one column.
			const clipped = await button.evaluate((b: { scrollWidth: number; clientWidth: number }) => b.scrollWidth > b.clientWidth);
			assert.equal(clipped, false, 'the button label is not clipped');
			await page.waitForTimeout(300);
			await page.screenshot({ path: path.join(output, 'walkthrough-narrow.png') });
		} finally {
			await page.setViewportSize({ width: 1280, height: 800 });
		}
	});
});

/** The selected step's SVG, inlined by VS Code into the media webview (a nested frame). */
async function stepImage(page: Page, step: WalkthroughStep, timeoutMs = 10_000): Promise<{ frame: Frame; svg: Locator }> {
	const selector = `svg#${svgId(step)}`;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		for (const frame of page.frames()) {
			try {
				const svg = frame.locator(selector);
				if (await svg.count() > 0 && await svg.isVisible()) { return { frame, svg }; }
			} catch {
				// A frame that navigated or detached while we looked.
			}
		}
		if (Date.now() > deadline) { throw new Error(`${step.media.svg} did not render in the walkthrough (no visible ${selector})`); }
		await page.waitForTimeout(100);
	}
}

/** Each SVG's root carries `id="tlsLens-walkthrough-<file name>"`, so the test knows which one it sees. */
function svgId(step: WalkthroughStep): string {
	return `tlsLens-walkthrough-${path.basename(step.media.svg, '.svg')}`;
}

/** The fill of the image's background and the colour `--vscode-editor-background` resolves to in its webview. */
async function themeColours(frame: Frame, step: WalkthroughStep): Promise<{ fill: string; resolved: string; variable: string }> {
	return frame.evaluate(`(() => {
		const rect = document.querySelector('svg#${svgId(step)} > rect');
		const probe = document.createElement('div');
		probe.style.color = 'var(--vscode-editor-background)';
		document.body.append(probe);
		const resolved = getComputedStyle(probe).color;
		probe.remove();
		const variable = getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background').trim();
		return { fill: rect ? getComputedStyle(rect).fill : 'no rect', resolved, variable };
	})()`);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!await check()) {
		if (Date.now() > deadline) { throw new Error(`timed out: ${what}`); }
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

async function setTheme(page: Page, app: string, theme: string): Promise<void> {
	const file = path.join(app, '.vscode/settings.json');
	const current = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
	writeFileSync(file, JSON.stringify({ ...current, 'workbench.colorTheme': theme }, null, '\t'));
	const cls = theme.includes('High Contrast') ? 'hc-black' : theme.includes('Dark') ? 'vs-dark' : 'vs';
	await page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 15_000 });
}
