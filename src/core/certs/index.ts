export { CertificateAuthority, LEAF_VALIDITY_DAYS, type CaDescription, type CreateCaOptions, type IssuedCertificate } from './ca';
export { CA_CERT_FILE, CA_KEY_FILE, defaultCaDir, mkcertCaRoot, openCa, type OpenCaOptions, type StoredCa } from './caStore';
export { CertError, type CertErrorCode } from './errors';
export { DEFAULT_LEAF_NAMES, LeafIssuer, type LeafIssuerOptions, type ServedCertificate } from './leafIssuer';
export { DEFAULT_PERMITTED, parseHostName, parseSubtree, type HostName } from './names';
