import * as assert from 'node:assert/strict';
import { doctorReport, localInstructions } from '../../../src/core/trust';
import type { DoctorCheck } from '../../../src/core/trust';
import { DEBIAN } from '../../../src/core/trust/linuxSystem';
import { nssNickname } from '../../../src/core/trust/nss';
import type { CaIdentity } from '../../../src/core/trust/types';

const ca: CaIdentity = {
	certPem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', certPath: '/home/me/.config/tls-lens/ca/rootCA.pem',
	fingerprint256: 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
	sha1: '0123456789ABCDEF0123456789ABCDEF01234567', commonName: 'TLS Lens Development CA (me@host)',
};

describe('trust reports and instructions (core)', () => {
	it('tells a remote user the commands the stores themselves run, on the saved file', () => {
		const text = localInstructions(ca, 'devbox');
		assert.match(text, /TLS Lens runs on \*\*devbox\*\*/);
		assert.ok(text.includes(ca.fingerprint256));
		assert.ok(text.includes('security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db tls-lens-rootCA.pem'));
		assert.ok(text.includes('certutil -user -addstore Root tls-lens-rootCA.pem'));
		const debian = DEBIAN.installSteps({ ...ca, certPath: 'tls-lens-rootCA.pem' }).map((step) => `sudo ${step.join(' ')}`).join(' && ');
		assert.ok(text.includes(debian), debian);
		assert.ok(text.includes(`certutil -A -d "sql:$HOME/.pki/nssdb" -t C,, -n '${nssNickname(ca)}' -i tls-lens-rootCA.pem`));
		assert.ok(text.includes(`certutil -A -d "sql:$p" -t C,, -n '${nssNickname(ca)}' -i tls-lens-rootCA.pem`));
		assert.ok(!text.includes(ca.certPath), 'the remote path means nothing on the local machine');
	});

	it('writes the doctor report grouped as the Trust view groups it, with each fix named', () => {
		const checks: DoctorCheck[] = [
			{ id: 'trap:hsts', group: 'traps', level: 'warn', title: 'HSTS pinned', detail: 'app.test is pinned.', fix: { id: 'hsts.instructions', label: 'Copy chrome://net-internals/#hsts', arg: 'app.test' } },
			{ id: 'store:nss', group: 'stores', level: 'ok', title: 'Chromium trusts the CA', detail: 'In ~/.pki/nssdb.' },
		];
		const report = doctorReport(checks, ca);
		assert.ok(report.indexOf('## Trust stores') < report.indexOf('## Traps'));
		assert.ok(!report.includes('## Certificates'), 'empty groups are left out');
		assert.match(report, /⚠️ \*\*HSTS pinned\*\*[\s\S]*Fix: \*Copy chrome:\/\/net-internals\/#hsts\*/);
		assert.ok(report.includes(ca.fingerprint256));
	});
});
