/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

/** The headers whose values are secrets (lower case): credentials and cookies. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/**
 * `value` with its secrets replaced by {@link REDACTED}, keeping what helps a reader and is no secret:
 * an Authorization scheme (`Bearer [redacted]`), cookie names, and a Set-Cookie's attributes
 * (`sid=[redacted]; Path=/; HttpOnly`). Values of other headers are returned as they are.
 *
 * @param name the header's name, any case.
 */
export function redactHeader(name: string, value: string): string {
	switch (name.toLowerCase()) {
		case 'authorization':
		case 'proxy-authorization': {
			// RFC 9110 11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
			const scheme = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +\S/.exec(value);
			return scheme === null ? REDACTED : `${scheme[1]} ${REDACTED}`;
		}
		case 'cookie':
			return value.split(';').map((pair) => redactPair(pair.trim())).filter((pair) => pair.length > 0).join('; ');
		case 'set-cookie': {
			const semicolon = value.indexOf(';');
			return semicolon < 0 ? redactPair(value.trim()) : redactPair(value.slice(0, semicolon).trim()) + value.slice(semicolon);
		}
		default:
			return value;
	}
}

/** `name=value` as `name=[redacted]`; a pair without a name is all secret. */
function redactPair(pair: string): string {
	if (pair.length === 0) return '';
	const eq = pair.indexOf('=');
	return eq < 0 ? REDACTED : `${pair.slice(0, eq).trim()}=${REDACTED}`;
}
