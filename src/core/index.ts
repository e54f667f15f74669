// The engine's public surface, shared by the CLI, the VS Code layer, tests and benchmarks.
export * from './certs';
