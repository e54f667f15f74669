// The inspector's engine side, without VS Code: the batched row feed, details and body views, HAR export
// of a filtered view, and replay through the proxy. src/vscode/inspectorPanel.ts wires it to a webview.
export { RowFeed } from './rowFeed';
export { bodyView, editorContent, exchangeDetails, hexDump, imageData, prettyJson, prettyXml } from './views';
export { CurlCaDecision, harForFilter, replay, requestBodyOf, type ReplayResult, type ReplayTarget } from './actions';
