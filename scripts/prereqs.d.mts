export type Purpose = 'test' | 'start';
export interface MissingTool {
	/** What is missing, as the line names it: `mkcert`, `chromium at /usr/bin/chromium`, `<gssapi/gssapi.h>`. */
	readonly tool: string;
	readonly neededFor: string;
	readonly install: { readonly debian: string; readonly fedora: string; readonly macos: string };
	/** The line printed for it. */
	readonly line: string;
}
export function checkPrerequisites(purpose: Purpose, options?: { env?: NodeJS.ProcessEnv; log?: (line: string) => void }): MissingTool[];
export function firefoxPath(env?: NodeJS.ProcessEnv): string;
export function chromiumPath(env?: NodeJS.ProcessEnv): string;
export function findOnPath(name: string, env?: NodeJS.ProcessEnv): string | undefined;
export function hasDesktopCode(env?: NodeJS.ProcessEnv): boolean;
