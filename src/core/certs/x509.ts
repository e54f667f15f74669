// The one place that loads @peculiar/x509 and binds it to Node's WebCrypto, so every module that makes
// certificates gets the same provider. (Reflect metadata: see reflectShim.ts.)
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is the standard Crypto; the cast only bridges @types/node and the DOM typings.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export { x509 };
