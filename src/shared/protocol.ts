/**
 * The one message protocol between the inspector webview and its host (src/vscode/inspectorPanel.ts),
 * after vscode-hexeditor's shared/protocol.ts: every message has a literal `type`; requests are
 * correlated by id; the webview starts with a `ready` request and the host sends nothing else before it
 * has answered. The host keeps the capture: it sends list rows (summaries) in batches, at most
 * ~10 a second, and details and bodies only for the exchange the user selects.
 */
import type { BodyKind } from './bodyKind';
import type { BodyInfo, CapturedRequest, CapturedResponse, ExchangeId, ExchangeTimings, TlsDetails } from './exchange';
import type { ExchangeSummary, TimingPhase } from './summary';
import type { TrustFixResult, TrustReportView } from './trust';

// #region data

/** What the empty state and the toolbar need to know about the proxy. */
export interface SessionInfo {
	/** `stopped`, `starting`, `running` or `error`. */
	readonly state: 'stopped' | 'starting' | 'running' | 'error';
	/** `https://localhost:PORT` while running. */
	readonly url?: string;
	/** The dev server, e.g. `http://127.0.0.1:5173`. */
	readonly target?: string;
	/** The error message in the `error` state. */
	readonly message?: string;
	/** False when `tlsLens.capture.enabled` is off for the running proxy. */
	readonly capturing: boolean;
	readonly paused: boolean;
	/** Changes whenever a new proxy session (and so a new capture) starts. */
	readonly generation: number;
}

/** One WebSocket message as the Messages tab shows it. */
export interface MessageView {
	/** Position among the messages still kept (0 = oldest kept). */
	readonly index: number;
	readonly direction: 'client' | 'server';
	readonly opcode: number;
	readonly size: number;
	/** ms from the exchange's start. */
	readonly time: number;
	/** Text payloads (decoded), up to {@link MESSAGE_PREVIEW_CHARS}. */
	readonly text?: string;
	/** Hex of binary payloads (or undecodable ones), up to {@link MESSAGE_PREVIEW_BYTES}. */
	readonly hex?: string;
	/** The preview (not the capture) was cut. */
	readonly previewCut: boolean;
	/** The capture cap cut the payload. */
	readonly truncated: boolean;
	readonly compressed: boolean;
	readonly note?: string;
}

/** One server-sent event as the EventStream tab shows it. */
export interface EventView {
	/** Position among the events of the kept body (0 = first). */
	readonly index: number;
	/** The stream's last event ID when it was dispatched (`id:`, carried over to later events). */
	readonly id: string;
	/** `event:`, or `message`. */
	readonly type: string;
	/** `data:` lines joined by newlines, up to {@link MESSAGE_PREVIEW_CHARS}. */
	readonly data: string;
	/** The preview (not the capture) was cut. */
	readonly previewCut: boolean;
	/** ms from the exchange's start, when known (not for a content-encoded stream). */
	readonly time?: number;
	/** A `retry:` field that came with it. */
	readonly retry?: number;
}

export const MESSAGE_PREVIEW_CHARS = 4096;
export const MESSAGE_PREVIEW_BYTES = 1024;
/** The Messages tab gets at most this many (the newest). */
export const MAX_MESSAGES_IN_DETAILS = 1000;

/** Everything about one exchange except its bodies. */
export interface ExchangeDetails {
	readonly summary: ExchangeSummary;
	readonly url: string;
	readonly client: string;
	readonly request?: CapturedRequest;
	readonly response?: CapturedResponse;
	readonly requestBody: BodyInfo;
	readonly responseBody: BodyInfo;
	readonly timings: ExchangeTimings;
	readonly phases: readonly TimingPhase[];
	readonly tls: TlsDetails;
	readonly error?: string;
	/** WebSocket messages: the newest {@link MAX_MESSAGES_IN_DETAILS}, oldest first. */
	readonly messages?: readonly MessageView[];
	/** Messages kept but not sent (older than the newest ones sent). */
	readonly messagesOmitted?: number;
	/** Server-sent events of a `text/event-stream` response: the newest {@link MAX_MESSAGES_IN_DETAILS}, oldest first. */
	readonly events?: readonly EventView[];
	/** Events kept but not sent (older than the newest ones sent). */
	readonly eventsOmitted?: number;
	/** Why the events may be incomplete or untimed (the capture limit, a content-encoded stream). */
	readonly eventsNote?: string;
}

/** How a body is shown. */

/** A body decoded and formatted for display. */
export interface BodyView {
	readonly side: 'request' | 'response';
	readonly kind: BodyKind;
	/** VS Code language id for "Open in Editor" (`json`, `xml`, `html`, `javascript`, `css`, `plaintext`). */
	readonly language: string;
	readonly mime: string;
	/** Bytes on the wire, kept bytes, and whether the cap cut the kept copy. */
	readonly info: BodyInfo;
	/** Decoded length in bytes. */
	readonly decodedSize: number;
	readonly decodedWith: readonly string[];
	/** Text to show: pretty-printed JSON/XML, or the text itself. */
	readonly text?: string;
	/** True when `text` was pretty-printed (the original is one long line). */
	readonly pretty?: boolean;
	/** Hex dump (for binary bodies), of the first {@link HEX_DUMP_BYTES} bytes. */
	readonly hex?: string;
	/** The display (not the capture) was cut: `text` or `hex` stop early. */
	readonly displayCut?: boolean;
	readonly error?: string;
	readonly note?: string;
}

export const HEX_DUMP_BYTES = 64 * 1024;
/** Text beyond this many characters is not sent to the webview (Open in Editor has all of it). */
export const MAX_TEXT_CHARS = 2 * 1024 * 1024;

/** An image's bytes, sent only when the user asks to see it. */
export interface ImageData {
	/** A safe `image/*` media type. */
	readonly mime: string;
	readonly bytes: Uint8Array;
}

/**
 * A batch of list changes. `reset` replaces the whole list (first batch, new session, clear). A whole
 * list is sent newest first, so the rows a following list shows arrive first: the batches after the
 * reset carry `older` rows, to go before those the webview has.
 */
export interface RowsEvent {
	readonly reset: boolean;
	/** These `added` rows are older than every row the webview has (the rest of a reset). */
	readonly older?: boolean;
	readonly added: readonly ExchangeSummary[];
	readonly updated: readonly ExchangeSummary[];
	readonly removed: readonly ExchangeId[];
	/** Part of a reset that arrives in several batches: false until the last one. */
	readonly complete: boolean;
	readonly generation: number;
}

/** The webview's own account of its state. */
export interface WebviewDescription {
	/** Rows held, and rows shown after filtering. */
	readonly rows: number;
	readonly view: number;
	readonly filter: string;
	readonly selected?: ExchangeId;
	/** Ids of the last rows shown (at most 50), in list order. */
	readonly lastIds: readonly ExchangeId[];
	readonly tab: string;
	readonly following: boolean;
	/** The main area: the traffic list or the Trust Doctor. */
	readonly mainView: InspectorView;
}

/** What the inspector's main area shows. */
export type InspectorView = 'traffic' | 'trust';

// #endregion

// #region the two sides

/** A side's API: the requests it answers and the events it receives. */
export interface ProtocolSide {
	readonly requests: Record<string, { readonly params: unknown; readonly result: unknown }>;
	readonly events: Record<string, unknown>;
}

/** What the host answers and receives. */
export interface HostApi extends ProtocolSide {
	readonly requests: {
		/** The handshake: the webview has loaded and listens. */
		ready: { params: Record<string, never>; result: { session: SessionInfo; platform: 'mac' | 'other' } };
		details: { params: { id: ExchangeId }; result: ExchangeDetails | undefined };
		body: { params: { id: ExchangeId; side: 'request' | 'response' }; result: BodyView | undefined };
		image: { params: { id: ExchangeId; side: 'request' | 'response' }; result: ImageData | undefined };
		/** Save the exchanges that pass `filter` as HAR (asks where); resolves to the file path or undefined. */
		exportHar: { params: { filter: string }; result: string | undefined };
		copyAs: { params: { id: ExchangeId; format: 'curl' | 'fetch' }; result: boolean };
		/** Resends the request through the proxy; resolves to the new row's status, or an error message. */
		replay: { params: { id: ExchangeId }; result: { ok: boolean; status?: number; error?: string } };
		openInEditor: { params: { id: ExchangeId; side: 'request' | 'response' }; result: boolean };
		/** Runs the Trust Doctor's checks (as the "TLS Lens: Trust Doctor" command does). */
		trustReport: { params: Record<string, never>; result: TrustReportView };
		/**
		 * Applies the one-click fix of check `id` from the host's latest report, through the command's
		 * code path (consent modals included), then runs the checks again.
		 */
		trustFix: { params: { id: string }; result: TrustFixResult };
	};
	readonly events: {
		clear: Record<string, never>;
		setPaused: { paused: boolean };
		copyText: { text: string };
		/** Buttons of the empty state. */
		command: { command: 'start' | 'openInBrowser' | 'copyUrl' | 'showLog' | 'openSettings' };
		/** What is selected, for logging and the extension's test API. */
		selected: { id: ExchangeId | undefined };
	};
}

/** What the webview answers and receives. */
export interface WebviewApi extends ProtocolSide {
	readonly requests: {
		/** What the webview holds and shows: for diagnostics and the extension's test API. */
		describe: { params: Record<string, never>; result: WebviewDescription };
	};
	readonly events: {
		rows: RowsEvent;
		session: SessionInfo;
		/** Select (and reveal) an exchange, e.g. from a command. */
		select: { id: ExchangeId };
		focusFilter: { text?: string };
		/** A short notice in the toolbar (export done, replay failed …). */
		notice: { text: string; error?: boolean };
		/** Switch the main area (the Trust view asks for a fresh report when it opens). */
		showView: { view: InspectorView };
		/** Apply check `id`'s fix as its button in the Trust view would (the extension's test API). */
		applyTrustFix: { id: string };
	};
}

// #endregion

// #region wire format

export type RequestMessage<S extends ProtocolSide> = {
	[K in keyof S['requests'] & string]: { readonly kind: 'request'; readonly id: number; readonly type: K; readonly params: S['requests'][K]['params'] }
}[keyof S['requests'] & string];

export type EventMessage<S extends ProtocolSide> = {
	[K in keyof S['events'] & string]: { readonly kind: 'event'; readonly type: K; readonly body: S['events'][K] }
}[keyof S['events'] & string];

export interface ResponseMessage {
	readonly kind: 'response';
	readonly inReplyTo: number;
	readonly result?: unknown;
	readonly error?: string;
}

/** Every message the webview can receive. */
export type ToWebviewMessage = EventMessage<WebviewApi> | RequestMessage<WebviewApi> | ResponseMessage;
/** Every message the host can receive. */
export type FromWebviewMessage = EventMessage<HostApi> | RequestMessage<HostApi> | ResponseMessage;

type RequestHandlers<S extends ProtocolSide> = {
	[K in keyof S['requests']]?: (params: S['requests'][K]['params']) => S['requests'][K]['result'] | Promise<S['requests'][K]['result']>
};
type EventHandlers<S extends ProtocolSide> = {
	[K in keyof S['events']]?: (body: S['events'][K]) => void
};

/**
 * Both ends of the protocol: `Local` is what this side answers, `Remote` what the other side answers.
 * Transport-agnostic (give it a `post` function and feed it every incoming message through
 * {@link handleMessage}); the host uses it as `MessageHandler<HostApi, WebviewApi>`, the webview as
 * `MessageHandler<WebviewApi, HostApi>`.
 */
export class MessageHandler<Local extends ProtocolSide, Remote extends ProtocolSide> {
	private nextId = 1;
	private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
	private readonly requestHandlers: RequestHandlers<Local> = {};
	private readonly eventHandlers: EventHandlers<Local> = {};

	/**
	 * @param post sends one message to the other side (returns false/undefined when it could not).
	 * @param onError called with handler failures (the other side still gets an error response).
	 */
	constructor(
		private readonly post: (message: unknown) => unknown,
		private readonly onError: (error: unknown, type: string) => void = () => undefined,
	) { }

	/** Answers requests of `type` with `handler`. */
	onRequest<K extends keyof Local['requests'] & string>(type: K, handler: NonNullable<RequestHandlers<Local>[K]>): void {
		this.requestHandlers[type] = handler;
	}

	/** Receives events of `type`. */
	onEvent<K extends keyof Local['events'] & string>(type: K, handler: NonNullable<EventHandlers<Local>[K]>): void {
		this.eventHandlers[type] = handler;
	}

	/** Fire-and-forget. */
	sendEvent<K extends keyof Remote['events'] & string>(type: K, body: Remote['events'][K]): void {
		this.post({ kind: 'event', type, body });
	}

	/** Sends a request; resolves with the other side's answer, rejects with its error. */
	sendRequest<K extends keyof Remote['requests'] & string>(type: K, params: Remote['requests'][K]['params']): Promise<Remote['requests'][K]['result']> {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
			this.post({ kind: 'request', id, type, params });
		});
	}

	/** Rejects every unanswered request (the other side went away). */
	cancelPending(reason = 'the other side went away'): void {
		for (const { reject } of this.pending.values()) reject(new Error(reason));
		this.pending.clear();
	}

	/** Dispatches one incoming message. Anything malformed or unknown is ignored. */
	async handleMessage(message: unknown): Promise<void> {
		if (typeof message !== 'object' || message === null) return;
		const m = message as { kind?: unknown; type?: unknown; id?: unknown; inReplyTo?: unknown; params?: unknown; body?: unknown; result?: unknown; error?: unknown };
		if (m.kind === 'response' && typeof m.inReplyTo === 'number') {
			const waiting = this.pending.get(m.inReplyTo);
			if (waiting === undefined) return;
			this.pending.delete(m.inReplyTo);
			if (typeof m.error === 'string') waiting.reject(new Error(m.error));
			else waiting.resolve(m.result);
			return;
		}
		if (typeof m.type !== 'string') return;
		if (m.kind === 'event') {
			const handler = Object.prototype.hasOwnProperty.call(this.eventHandlers, m.type)
				? (this.eventHandlers as Record<string, ((body: unknown) => void) | undefined>)[m.type] : undefined;
			if (handler === undefined) return;
			try {
				handler(m.body);
			} catch (error) {
				this.onError(error, m.type);
			}
			return;
		}
		if (m.kind === 'request' && typeof m.id === 'number') {
			const handler = Object.prototype.hasOwnProperty.call(this.requestHandlers, m.type)
				? (this.requestHandlers as Record<string, ((params: unknown) => unknown) | undefined>)[m.type] : undefined;
			if (handler === undefined) {
				this.post({ kind: 'response', inReplyTo: m.id, error: `unknown request ${m.type}` });
				return;
			}
			try {
				const result = await handler(m.params ?? {});
				this.post({ kind: 'response', inReplyTo: m.id, result });
			} catch (error) {
				this.onError(error, m.type);
				this.post({ kind: 'response', inReplyTo: m.id, error: error instanceof Error ? error.message : String(error) });
			}
		}
	}
}

// #endregion

/** Rows per message when a whole list is (re)sent; the first (newest) batch is smaller, to show sooner. */
export const ROWS_CHUNK = 5000;
export const ROWS_FIRST_CHUNK = 1000;
