/**
 * What the engine logs through. The CLI writes to stderr, VS Code to its LogOutputChannel; the core
 * never decides where logs go.
 */
export interface Logger {
	trace(message: string): void;
	debug(message: string): void;
	info(message: string): void;
	warn(message: string): void;
	error(message: string): void;
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { trace() { }, debug() { }, info() { }, warn() { }, error() { } };
