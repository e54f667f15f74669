import type { Browser, LaunchOptions } from 'playwright-core';

export const CODE_SERVER_VERSION: string;
export const cacheDir: string;
export const nodeBin: string;
export const vscodeDir: string;
export function ensureTestVscode(): { nodeBin: string; vscodeDir: string };
export function freePort(): Promise<number>;
export interface TestVscode {
	readonly port: number;
	readonly origin: string;
	output(): string;
	url(options: { folder: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
	stop(): Promise<void>;
}
export function startTestVscode(options: { dataDir: string; port?: number }): Promise<TestVscode>;
export function launchChromium(extraArgs?: string[], options?: LaunchOptions): Promise<Browser>;
