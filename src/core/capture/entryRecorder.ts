import type { ExchangeId, ExchangeState } from '../../shared/exchange';
import type { CaptureEntry } from './captureEntry';
import type { ChunkHolder } from '../memory/chunkHolder';
import type { ExchangeRecorder } from './types';

/**
 * What the proxy holds for one exchange: forwards to the store's entry while that entry still holds this
 * exchange. Entries are reused once their exchange is evicted, and the proxy may keep calling a recorder
 * after that (an evicted in-flight exchange, calls after `finish`): the generation check makes those
 * calls no-ops instead of writes into someone else's record. One small object per exchange that dies
 * young with the proxy's own per-request state.
 */
export class EntryRecorder implements ExchangeRecorder {
	constructor(
		readonly id: ExchangeId,
		private readonly entry: CaptureEntry,
		private readonly generation: number,
	) { }

	requestBody(chunk: Buffer): void {
		if (this.entry.generation === this.generation) this.entry.requestBody(chunk);
	}

	upstreamConnected(reused: boolean): void {
		if (this.entry.generation === this.generation) this.entry.upstreamConnected(reused);
	}

	requestSent(): void {
		if (this.entry.generation === this.generation) this.entry.requestSent();
	}

	response(statusCode: number, statusMessage: string, rawHeaders: readonly string[], headText?: string): void {
		if (this.entry.generation === this.generation) this.entry.response(statusCode, statusMessage, rawHeaders, headText);
	}

	responseHeaderRewritten(index: number, original: string, value: string): void {
		if (this.entry.generation === this.generation) this.entry.responseHeaderRewritten(index, original, value);
	}

	responseBody(chunk: Buffer, holder?: ChunkHolder): void {
		if (this.entry.generation === this.generation) this.entry.responseBody(chunk, holder);
	}

	webSocketMessage(message: { direction: 'client' | 'server'; opcode: number; size: number; payload: Buffer; truncated: boolean; compressed: boolean }): void {
		if (this.entry.generation === this.generation) this.entry.webSocketMessage(message);
	}

	finish(state: Exclude<ExchangeState, 'pending'>, error?: string): void {
		if (this.entry.generation === this.generation) this.entry.finish(state, error);
	}
}
