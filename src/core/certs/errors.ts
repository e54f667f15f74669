/** Why a certificate operation failed; stable codes let the CLI and the UI react without parsing text. */
export type CertErrorCode =
	| 'CA_MISSING_FILE'
	| 'CA_CORRUPT'
	| 'CA_KEY_MISMATCH'
	| 'CA_EXPIRED'
	| 'CA_NOT_YET_VALID'
	| 'CA_NOT_A_CA'
	| 'CA_UNSUPPORTED_KEY'
	| 'CA_DIR_INSECURE'
	| 'INVALID_NAME'
	| 'NAME_NOT_PERMITTED';

/** An error a user can act on: the message names the file or name involved and what to do. */
export class CertError extends Error {
	constructor(readonly code: CertErrorCode, message: string) {
		super(message);
		this.name = 'CertError';
	}
}
