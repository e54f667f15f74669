/**
 * Owner of the memory behind a body chunk that can lend it out: `hold()` keeps the chunk's backing buffer
 * from being reused until the function it returns is called (exactly once); undefined when it cannot.
 *
 * The proxy's upstream connections are such owners: they read into pooled 64 KiB pages (pagePool.ts)
 * and reuse a page once every write of a view into it has called back and every holder has let go. The
 * capture store holds the pages of large response chunks instead of copying them (see
 * capture/bodyRecord.ts for when, and the measurement that justifies it); anything else that is handed
 * a chunk copies what it keeps.
 */
export interface ChunkHolder {
	hold(): (() => void) | undefined;
}
