// The README inside the VSIX. VS Code's extension page shows README images only from `https:` URLs
// (its sanitizer strips relative and `data:` sources, and its CSP allows `img-src https: data:`), and
// TLS Lens has no public home to serve them from. Rather than invent a URL, each relative image
// becomes a line that names the screenshot; the walkthrough, served from the extension itself,
// carries the pictures.
import * as path from 'node:path';
import { existsSync } from 'node:fs';

/**
 * `markdown` as the packaged README: relative images replaced by a caption. Throws on what could not
 * work in the VSIX: a relative image that does not exist, or a relative link to another file of the
 * repository (not in the VSIX; name it in backticks instead).
 */
export function packagedReadme(markdown, root) {
	const problems = [];
	const out = markdown.replace(/(!?)\[((?:[^\][]|\[[^\]]*\])*)\]\(([^)\s]+)\)/g, (all, bang, text, link) => {
		if (/^[a-z][\w+.-]*:/i.test(link) || link.startsWith('#')) { return all; }
		if (!bang) { problems.push(`a relative link to ${link}, which is not in the VSIX`); return all; }
		if (!existsSync(path.join(root, link))) { problems.push(`the image ${link} does not exist`); return all; }
		return `*Screenshot (in the source repository, \`${link}\`): ${text}.*`;
	});
	if (problems.length) { throw new Error(`README.md cannot be packaged as it is:\n${problems.map((p) => `- ${p}`).join('\n')}`); }
	return out;
}
