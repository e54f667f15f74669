import * as assert from 'node:assert/strict';
import { checkWebpackSocket, findWebpackClientQuery, webpackSocketUrl } from '../../../src/core/devServers';

// As webpack-dev-server 5.2 writes its client entry into a development bundle (devtool eval: inside an
// eval() string, quotes escaped), for `webpack serve --port 18931` with no other options.
const evalBundle = (query: string) => `/***/ "../node_modules/webpack-dev-server/client/index.js?${query}":
/***/ (function(__unused_webpack_module, __webpack_exports__, __webpack_require__) {
eval("{__webpack_require__.r(__webpack_exports__);\\nvar __resourceQuery = \\"?${query}\\";\\n/* harmony import */ ...");`;
const noOptions = 'protocol=ws%3A&hostname=0.0.0.0&port=18931&pathname=%2Fws&logging=info&overlay=true&reconnect=10&hot=true&live-reload=true';
const page = new URL('https://localhost:8443/');

describe('webpack-dev-server socket address (pure)', () => {
	it('finds the baked query in an eval() development bundle and in a plain one', () => {
		assert.equal(findWebpackClientQuery(evalBundle(noOptions))?.get('port'), '18931');
		const plain = `__webpack_require__("./node_modules/webpack-dev-server/client/index.js?${noOptions}")`;
		assert.equal(findWebpackClientQuery(plain)?.get('hostname'), '0.0.0.0');
		assert.equal(findWebpackClientQuery('console.log("webpack-dev-server")'), undefined);
	});

	it("computes the URL as the client does: no options → the page's host, wss, but the dev server's port", () => {
		assert.equal(webpackSocketUrl(new URLSearchParams(noOptions), page), 'wss://localhost:18931/ws');
		// --host 127.0.0.1: the host too is the dev server's, and the protocol stays ws.
		assert.equal(webpackSocketUrl(new URLSearchParams('protocol=ws%3A&hostname=127.0.0.1&port=8080&pathname=%2Fws'), page), 'ws://127.0.0.1:8080/ws');
		// The documented proxy setting: everything from the page.
		assert.equal(webpackSocketUrl(new URLSearchParams('protocol=auto%3A&hostname=0.0.0.0&port=0&pathname=%2Fws'), page), 'wss://localhost:8443/ws');
		assert.equal(webpackSocketUrl(new URLSearchParams('protocol=ws%3A&hostname=%3A%3A&port=0&pathname=%2Fhmr'), new URL('https://[::1]:9443/')), 'wss://[::1]:9443/hmr');
	});

	it('reports a client that will dial past the proxy, with the config change; none for one that dials the page', () => {
		const bypass = checkWebpackSocket(evalBundle(noOptions), page);
		assert.equal(bypass?.dialed, 'wss://localhost:18931/ws');
		assert.equal(bypass?.expected, 'wss://localhost:8443/ws');
		assert.match(bypass!.message, /devServer: \{ client: \{ webSocketURL: 'auto:\/\/0\.0\.0\.0:0\/ws' \} \}/);
		assert.equal(checkWebpackSocket(evalBundle('protocol=auto%3A&hostname=0.0.0.0&port=0&pathname=%2Fws&hot=true'), page), undefined);
		assert.equal(checkWebpackSocket('export const x = 1;', page), undefined);
	});
});
