// Events and disposables shaped like VS Code's, for the engine that must not import `vscode`.
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

/**
 * Owns disposables and disposes them together, newest first (as vscode-hexeditor's and
 * vscode-js-debug's DisposableStore): what is added after `dispose()` is disposed at once, so nothing
 * outlives its owner. One that throws does not keep the others from being disposed; its error is
 * thrown afterwards.
 */
export class DisposableStore implements Disposable {
	private items: Disposable[] = [];
	private disposed = false;

	/** Takes ownership of `items`; returns the first, for `const x = store.add(new X())`. */
	add<T extends Disposable>(...items: [T, ...Disposable[]]): T {
		if (this.disposed) {
			disposeAll(items);
		} else {
			this.items.push(...items);
		}
		return items[0];
	}

	/** Disposes what it holds now and stays usable (for owners that hold a set per session). */
	clear(): void {
		const items = this.items;
		this.items = [];
		disposeAll(items);
	}

	dispose(): void {
		this.disposed = true;
		this.clear();
	}
}

function disposeAll(items: readonly Disposable[]): void {
	const errors: unknown[] = [];
	for (let i = items.length - 1; i >= 0; i--) {
		try {
			items[i].dispose();
		} catch (error) {
			errors.push(error);
		}
	}
	if (errors.length === 1) throw errors[0];
	if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed`);
}
