import * as assert from 'node:assert/strict';
import { describeTlsError } from '../../../src/core/proxy/tlsDetails';
import { groupTrustChecks, isUntrustedCaError, trustCheckView, trustHeadline, type TrustCheckView } from '../../../src/shared/trust';

const check = (id: string, group: TrustCheckView['group'], level: TrustCheckView['level']): TrustCheckView => ({ id, group, level, title: id, detail: `${id} detail` });

describe('inspector Trust view model', () => {
	it('gives the webview a check without its fix argument (the host keeps it)', () => {
		const view = trustCheckView({
			id: 'store:nss', group: 'stores', level: 'warn', title: 'NSS: cannot be checked', detail: 'certutil is missing',
			fix: { id: 'nss.installCertutil', label: 'Install certutil…', arg: 'sudo apt-get install libnss3-tools' },
		} as Parameters<typeof trustCheckView>[0]);
		assert.deepEqual(view, { id: 'store:nss', group: 'stores', level: 'warn', title: 'NSS: cannot be checked', detail: 'certutil is missing', fix: { label: 'Install certutil…' } });
		assert.ok(!JSON.stringify(view).includes('apt-get'));
		assert.equal('fix' in trustCheckView({ id: 'ca:expiry', group: 'certificates', level: 'ok', title: 't', detail: 'd' }), false);
	});

	it('groups checks in the doctor\'s order and leaves empty groups out', () => {
		const groups = groupTrustChecks([check('trap:a', 'traps', 'ok'), check('store:x', 'stores', 'error'), check('trap:b', 'traps', 'info')]);
		assert.deepEqual(groups.map((g) => [g.title, g.checks.map((c) => c.id)]), [['Trust stores', ['store:x']], ['Traps', ['trap:a', 'trap:b']]]);
	});

	it('sums the report up in words', () => {
		assert.equal(trustHeadline([check('a', 'stores', 'ok'), check('b', 'traps', 'info')]), 'All good');
		assert.equal(trustHeadline([]), 'No checks ran');
		assert.equal(trustHeadline([check('a', 'stores', 'error'), check('b', 'traps', 'warn'), check('c', 'traps', 'warn')]), '1 problem, 2 warnings');
		assert.equal(trustHeadline([check('a', 'stores', 'error'), check('b', 'stores', 'error')]), '2 problems');
	});

	it('recognises the handshake failures of a client that does not trust the CA', () => {
		const alert = (code: string, message: string) => describeTlsError(Object.assign(new Error(message), { code }));
		assert.equal(isUntrustedCaError(alert('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', '…:tlsv1 alert unknown ca:…')), true);
		assert.equal(isUntrustedCaError(alert('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', '…:sslv3 alert certificate unknown:…')), true);
		assert.equal(isUntrustedCaError(alert('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', '…:sslv3 alert bad certificate:…')), true);
		assert.equal(isUntrustedCaError('alert 48: unknown CA'), true);
		// Other failures are not about trust: the Trust Doctor would not help.
		assert.equal(isUntrustedCaError(alert('ECONNRESET', 'socket hang up')), false);
		assert.equal(isUntrustedCaError(alert('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', '…:tlsv1 alert protocol version:…')), false);
		assert.equal(isUntrustedCaError('Not a TLS handshake (plain HTTP sent to the HTTPS port?): wrong version number'), false);
		assert.equal(isUntrustedCaError('example.com is outside the CA\'s name constraints'), false);
		assert.equal(isUntrustedCaError(undefined), false);
		assert.equal(isUntrustedCaError(''), false);
	});
});
