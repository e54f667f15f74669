import type { Browser, LaunchOptions } from 'playwright-core';

export const CODE_SERVER_VERSION: string;
export const cacheDir: string;
export const nodeBin: string;
export const vscodeDir: string;
export function ensureTestVscode(): Promise<{ nodeBin: string; vscodeDir: string }>;
export function testVscodeInstalled(): boolean;
export function installInto(dir: string, what: string, install: (staging: string) => Promise<void>): Promise<boolean>;
export function stopInstalls(): void;
export function installEnv(binDir?: string): NodeJS.ProcessEnv;
export function freePort(): Promise<number>;
export interface TestVscode {
	readonly port: number;
	readonly origin: string;
	output(): string;
	url(options: { folder: string; extensionDevelopmentPath?: string | null; extensionTestsPath?: string }): string;
	stop(): Promise<void>;
}
export function startTestVscode(options: { dataDir: string; port?: number }): Promise<TestVscode>;
export function installExtension(options: { dataDir: string; vsix: string }): Promise<void>;
export function launchChromium(extraArgs?: string[], options?: LaunchOptions): Promise<Browser>;
