import * as assert from 'node:assert/strict';
import { isPermitted, parseHostName, parseSubtree, formatSubtree, DEFAULT_PERMITTED } from '../../../src/core/certs/names';
import { decodeNameConstraints, encodeNameConstraints } from '../../../src/core/certs/nameConstraintsDer';

const defaults = { permitted: DEFAULT_PERMITTED.map(parseSubtree), excluded: [] };

describe('host names and name constraints', () => {
	it('normalises DNS names and IP addresses', () => {
		assert.deepEqual(parseHostName('App.LocalHost.'), { kind: 'dns', value: 'app.localhost' });
		assert.equal(parseHostName('*.app.localhost').value, '*.app.localhost');
		assert.equal(parseHostName('bücher.test').value, 'xn--bcher-kva.test');
		assert.equal(parseHostName('[::1]').value, '::1');
		assert.equal(parseHostName('0:0:0:0:0:0:0:1').value, '::1');
		assert.equal(parseHostName('fe80:0:0:0:1:0:0:1').value, 'fe80::1:0:0:1');
		assert.equal(parseHostName('::ffff:127.0.0.1').value, '::ffff:7f00:1');
		assert.equal(parseHostName('127.0.0.1').kind, 'ip');
	});

	it('rejects what is not a host name', () => {
		for (const bad of ['', 'a b', '-x.localhost', 'x..localhost', 'http://x', 'x'.repeat(64) + '.test', '*.']) {
			assert.throws(() => parseHostName(bad), { code: 'INVALID_NAME' }, bad);
		}
	});

	it('permits exactly the loopback names by default', () => {
		const allowed = ['localhost', 'app.localhost', 'a.b.localhost', '*.localhost', 'shop.test', '127.0.0.1', '127.255.1.2', '::1'];
		const refused = ['example.com', 'localhost.example.com', 'notlocalhost', 'mytest', '128.0.0.1', '10.0.0.1', '::2', '::ffff:127.0.0.1'];
		for (const name of allowed) { assert.ok(isPermitted(parseHostName(name), defaults), name); }
		for (const name of refused) { assert.ok(!isPermitted(parseHostName(name), defaults), name); }
	});

	it('treats a CA without constraints as permitting everything and honours excluded subtrees', () => {
		assert.ok(isPermitted(parseHostName('example.com'), undefined));
		const set = { permitted: defaults.permitted, excluded: [parseSubtree('secret.localhost')] };
		assert.ok(!isPermitted(parseHostName('a.secret.localhost'), set));
		assert.ok(isPermitted(parseHostName('public.localhost'), set));
	});

	it('parses and formats ranges', () => {
		assert.equal(formatSubtree(parseSubtree('10.1.2.3/8')), '10.0.0.0/8');
		assert.equal(formatSubtree(parseSubtree('192.168.1.5')), '192.168.1.5/32');
		assert.equal(formatSubtree(parseSubtree('fd00::/8')), 'fd00::/8');
		assert.equal(formatSubtree(parseSubtree('.MyApp.Internal')), 'myapp.internal');
		assert.throws(() => parseSubtree('10.0.0.0/33'), { code: 'INVALID_NAME' });
		assert.throws(() => parseSubtree('*.internal'), { code: 'INVALID_NAME' });
	});

	it('round-trips the NameConstraints DER and rejects malformed DER', () => {
		const set = { permitted: [...defaults.permitted, parseSubtree('myapp.internal')], excluded: [parseSubtree('10.0.0.0/8')] };
		const decoded = decodeNameConstraints(encodeNameConstraints(set));
		assert.deepEqual(decoded.permitted.map(formatSubtree), ['localhost', 'test', '127.0.0.0/8', '::1/128', 'myapp.internal']);
		assert.deepEqual(decoded.excluded.map(formatSubtree), ['10.0.0.0/8']);
		assert.throws(() => decodeNameConstraints(Uint8Array.from([0x30, 0x05, 0xa0, 0x10])), { code: 'CA_CORRUPT' });
	});
});
