// The inspector's engine side, without VS Code: the row feed, details and body views, body decoding,
// HAR and cURL export, and replay through the proxy. src/vscode/inspectorPanel.ts wires it to a webview.
export { RowFeed } from './rowFeed';
export {
	decodeBody, decodeBodySync, decodeWebSocketPayload, decodeWebSocketPayloadSync, parseContentEncoding, zstdSupported,
	type DecodedBody, type DecodeOptions,
} from './bodyDecoding';
export * from './har';
export { toCurl, type CurlOptions } from './curl';
export { bodyView, editorContent, exchangeDetails, hexDump, imageData, prettyJson, prettyXml } from './views';
export { CurlCaDecision, harForFilter, replay, requestBodyOf, type ReplayResult, type ReplayTarget } from './actions';
