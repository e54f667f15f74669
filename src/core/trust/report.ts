import { TRUST_GROUPS } from '../../shared/trust';
import type { DoctorCheck } from './doctor';
import type { CaIdentity } from './types';

const LEVEL_MARK = { ok: '✅', info: 'ℹ️', warn: '⚠️', error: '❌' } as const;

/** The Trust Doctor's results as a Markdown report, grouped as the Trust view groups them. */
export function doctorReport(checks: readonly DoctorCheck[], ca: CaIdentity): string {
	const lines = ['# TLS Lens Trust Doctor', '', `CA: ${ca.commonName}, SHA-256 \`${ca.fingerprint256}\`, file \`${ca.certPath}\``, ''];
	for (const group of TRUST_GROUPS) {
		const inGroup = checks.filter((c) => c.group === group.id);
		if (!inGroup.length) continue;
		lines.push(`## ${group.title}`, '');
		for (const check of inGroup) {
			lines.push(`- ${LEVEL_MARK[check.level]} **${check.title}**  `, `  ${check.detail}${check.fix ? `  \n  Fix: *${check.fix.label}* (run Trust Doctor and pick this line)` : ''}`);
		}
		lines.push('');
	}
	return lines.join('\n');
}
