import * as assert from 'node:assert/strict';
import { MessageHandler, type HostApi, type WebviewApi } from '../../../src/shared/protocol';

/** Two handlers wired back to back, as host and webview are (asynchronously, like postMessage). */
function pair() {
	const toWebview: unknown[] = [];
	const toHost: unknown[] = [];
	const errors: string[] = [];
	const host = new MessageHandler<HostApi, WebviewApi>((m) => { toWebview.push(m); setImmediate(() => void webview.handleMessage(structuredClone(m))); }, (_e, type) => errors.push(type));
	const webview: MessageHandler<WebviewApi, HostApi> = new MessageHandler<WebviewApi, HostApi>((m) => { toHost.push(m); setImmediate(() => void host.handleMessage(structuredClone(m))); });
	return { host, webview, toWebview, toHost, errors };
}

describe('inspector message protocol', () => {
	it('correlates requests and responses by id, in both directions', async () => {
		const { host, webview } = pair();
		host.onRequest('details', async ({ id }) => {
			await new Promise((resolve) => setTimeout(resolve, id === 1 ? 20 : 0));
			return undefined;
		});
		host.onRequest('copyAs', ({ id, format }) => id === 3 && format === 'curl');
		webview.onRequest('describe', () => ({ rows: 2, view: 1, filter: 'x', lastIds: [2], tab: 'headers', following: true, mainView: 'traffic' }));
		// The slow answer to the first request must not be taken for the second one's.
		const [slow, fast] = await Promise.all([webview.sendRequest('details', { id: 1 }), webview.sendRequest('copyAs', { id: 3, format: 'curl' })]);
		assert.equal(slow, undefined);
		assert.equal(fast, true);
		assert.deepEqual(await host.sendRequest('describe', {}), { rows: 2, view: 1, filter: 'x', lastIds: [2], tab: 'headers', following: true, mainView: 'traffic' });
	});

	it('delivers events, and turns handler failures into error responses', async () => {
		const { host, webview, errors } = pair();
		const cleared: unknown[] = [];
		host.onEvent('clear', (body) => cleared.push(body));
		host.onRequest('replay', () => { throw new Error('no proxy'); });
		webview.sendEvent('clear', {});
		await assert.rejects(webview.sendRequest('replay', { id: 1 }), /no proxy/);
		assert.deepEqual(cleared, [{}]);
		assert.deepEqual(errors, ['replay']);
	});

	it('answers unknown requests with an error and ignores malformed or unknown messages', async () => {
		const { host, webview } = pair();
		await assert.rejects((webview as unknown as MessageHandler<WebviewApi, { requests: { nope: { params: object; result: unknown } }; events: Record<string, never> }>).sendRequest('nope', {}), /unknown request nope/);
		for (const junk of [null, 42, 'x', {}, { kind: 'event' }, { kind: 'event', type: 'toString' }, { kind: 'response', inReplyTo: 999 }, { kind: 'request', type: 'details' }]) {
			await host.handleMessage(junk);
		}
	});

	it('the ready handshake: the webview asks, the host answers with the session', async () => {
		const { host, webview } = pair();
		host.onRequest('ready', () => ({ session: { state: 'stopped', capturing: true, paused: false, generation: 1 }, platform: 'other' }));
		const answer = await webview.sendRequest('ready', {});
		assert.equal(answer.session.state, 'stopped');
	});

	it('rejects pending requests when the other side goes away', async () => {
		const host = new MessageHandler<HostApi, WebviewApi>(() => undefined);
		const pending = host.sendRequest('describe', {});
		host.cancelPending('hidden');
		await assert.rejects(pending, /hidden/);
	});
});
