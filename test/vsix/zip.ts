// The names in a ZIP file (a VSIX is one), read from its central directory: enough to check what a
// package ships without unpacking it or depending on an unzip tool.
import { readFileSync } from 'node:fs';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;

/** Every entry name in the ZIP at `file`, in directory order. */
export function zipEntries(file: string): string[] {
	const zip = readFileSync(file);
	// The end record is the last 22 bytes, plus a comment of up to 64 KiB.
	let end = -1;
	for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
		if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) { end = at; break; }
	}
	if (end < 0) { throw new Error(`${file} is not a ZIP file (no end of central directory)`); }
	const count = zip.readUInt16LE(end + 10);
	let at = zip.readUInt32LE(end + 16);
	const names: string[] = [];
	for (let i = 0; i < count; i++) {
		if (zip.readUInt32LE(at) !== CENTRAL_DIRECTORY_ENTRY) { throw new Error(`${file}: bad central directory entry ${i}`); }
		const nameLength = zip.readUInt16LE(at + 28);
		const extraLength = zip.readUInt16LE(at + 30);
		const commentLength = zip.readUInt16LE(at + 32);
		names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
		at += 46 + nameLength + extraLength + commentLength;
	}
	return names;
}
