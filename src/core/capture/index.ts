// Traffic capture: the store the proxy records into (through the CaptureSink contract in types.ts).
export * from './types';
export { CaptureStore, type CaptureStoreOptions, type CaptureChange, type CaptureStats, type BodySide } from './captureStore';
