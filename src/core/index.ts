// The engine's public surface, shared by the CLI, the VS Code layer, tests and benchmarks.
export * from './capture';
export * from './certs';
export * from './discovery';
export { silentLogger, type Logger } from './logger';
export * from './proxy';
export * from './session';
