/** Something that holds a resource until `dispose()` is called. Shaped like `vscode.Disposable`. */
export interface Disposable {
	dispose(): void;
}

/** Subscribes a listener; the returned handle unsubscribes it. Shaped like `vscode.Event<T>`. */
export type Event<T> = (listener: (e: T) => void) => Disposable;

/**
 * A tiny typed event emitter without the `vscode` dependency, so the engine runs (and is tested) in a
 * plain Node process. The VS Code layer can pass `emitter.event` wherever a `vscode.Event<T>` is expected.
 */
export class Emitter<T> {
	private listeners: Array<(e: T) => void> = [];
	private disposed = false;

	/**
	 * @param onListenerError called when a listener throws; the other listeners still run. Listener
	 *   errors must not escape: the emitter fires from timers, where an exception would be uncaught.
	 */
	constructor(private readonly onListenerError?: (error: unknown) => void) { }

	/** Subscribes to the event. */
	readonly event: Event<T> = (listener) => {
		if (this.disposed) return { dispose() { } };
		this.listeners.push(listener);
		return {
			dispose: () => {
				const i = this.listeners.indexOf(listener);
				if (i >= 0) this.listeners.splice(i, 1);
			},
		};
	};

	/** True when at least one listener is subscribed (lets producers skip work nobody will see). */
	get hasListeners(): boolean {
		return this.listeners.length > 0;
	}

	/** Calls every listener with `e`. Never throws. */
	fire(e: T): void {
		// Iterate a snapshot: a listener may unsubscribe itself or others while we loop.
		for (const listener of this.listeners.slice()) {
			try {
				listener(e);
			} catch (error) {
				try {
					this.onListenerError?.(error);
				} catch {
					// The error reporter failed too; nothing sensible is left to do.
				}
			}
		}
	}

	/** Drops all listeners; later subscriptions are ignored. */
	dispose(): void {
		this.disposed = true;
		this.listeners = [];
	}
}
