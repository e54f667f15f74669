// Traffic capture: the store the proxy records into, the passive WebSocket parser, decoding for display,
// and export (HAR, cURL).
export * from './types';
export * from './events';
export { CaptureStore, type CaptureStoreOptions, type CaptureChange, type CaptureStats, type BodySide } from './captureStore';
export { WebSocketFrameParser, type ParsedWebSocketMessage } from './wsFrameParser';
export {
	decodeBody, decodeBodySync, decodeWebSocketPayload, decodeWebSocketPayloadSync, parseContentEncoding, zstdSupported,
	type DecodedBody, type DecodeOptions,
} from './bodyDecoding';
export * from './har';
export { toCurl, type CurlOptions } from './curl';
