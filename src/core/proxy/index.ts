// The TLS-terminating reverse proxy: HTTPS (HTTP/2 + HTTP/1.1, WebSockets) in front of a dev server.
export { ProxyServer, type ProxyAddress, type ProxyOptions } from './proxyServer';
export { ListenError } from './listeners';
export { parseTarget } from './target';
