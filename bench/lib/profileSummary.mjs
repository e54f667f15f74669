// Summarizes a V8 .cpuprofile (from node --cpu-prof): top functions by self time, and self time per
// script, so a profile can be read without DevTools. Usable on its own:
//   node bench/lib/profileSummary.mjs FILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Self time (µs) per profile node, from the samples and the time between them. */
function selfTimes(profile) {
	const self = new Map();
	const { samples, timeDeltas } = profile;
	for (let i = 0; i < samples.length; i++) {
		// timeDeltas[i] is the time before sample i; attribute the gap after it to the sample instead.
		const delta = timeDeltas[i + 1] ?? 0;
		self.set(samples[i], (self.get(samples[i]) ?? 0) + delta);
	}
	return self;
}

function scriptName(url) {
	if (!url) { return '(native / V8)'; }
	return url.startsWith('node:') ? url : path.basename(url.replace(/^file:\/\//, ''));
}

export function summarizeProfile(file, top = 25) {
	const profile = JSON.parse(readFileSync(file, 'utf8'));
	const self = selfTimes(profile);
	const byFunction = new Map();
	const byScript = new Map();
	let total = 0;
	let idle = 0;
	for (const node of profile.nodes) {
		const us = self.get(node.id) ?? 0;
		if (!us) { continue; }
		// Idle time is waiting for I/O: percentages below are of the busy time.
		if (node.callFrame.functionName === '(idle)') { idle += us; continue; }
		total += us;
		const { functionName, url, lineNumber } = node.callFrame;
		const script = scriptName(url);
		const key = `${functionName || '(anonymous)'} ${script}${url ? `:${lineNumber + 1}` : ''}`;
		byFunction.set(key, (byFunction.get(key) ?? 0) + us);
		byScript.set(script, (byScript.get(script) ?? 0) + us);
	}
	const pct = (us) => `${(us / total * 100).toFixed(1).padStart(5)}%`;
	const sorted = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
	const lines = [`${path.basename(file)}: ${(total / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle; % of busy time`, '  self time by script:'];
	for (const [script, us] of sorted(byScript, 10)) { lines.push(`  ${pct(us)}  ${script}`); }
	lines.push(`  top ${top} functions by self time:`);
	for (const [key, us] of sorted(byFunction, top)) { lines.push(`  ${pct(us)}  ${key}`); }
	return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
	console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 30)));
}
