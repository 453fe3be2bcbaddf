/**
 * The evidence analyzers: pure functions from zoom-in evidence to verdicts and findings, each
 * with the reason for it. See docs/ARCHITECTURE.md, "Analyzers".
 */
export * from './types';
export * from './serviceMap';
export * from './serviceMapSources';
export * from './beaconing';
export * from './payloadFormat';
export type { Ja4 } from './payload/ja4';
export type { ClientHello } from './payload/tls';
export type { CredentialHint } from './payload/credentials';
export * from './fileClass';
export * from './codeProvenance';
export * from './ioUringEvidence';
export * from './findings';
export { parseIp, parseCidr, formatIp, formatCidr, cidrContains, addressScope, type AddressScope, type IpAddress, type Cidr } from './ip';
