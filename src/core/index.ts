// The engine's public surface, shared by the CLI, the VS Code layer, tests and benchmarks.
export * from './capture';
export * from './events';
export * from './certs';
export * from './discovery';
export * from './inspector';
export { silentLogger, type Logger } from './logger';
export * from './proxy';
export * from './session';
// A namespace: trust's helpers (which, shellQuote, …) are generic names.
export * as trust from './trust';
