/**
 * TLS records, and the ClientHello parsed field by field (RFC 8446 section 4.1.2): versions,
 * cipher suites, extensions with SNI, ALPN, supported versions, signature algorithms and
 * groups.
 *
 * The sensor captures at most 256 bytes, and a modern ClientHello is longer (Go's ~290 bytes,
 * OpenSSL's ~400, Chrome's ~1.8 KiB with post-quantum key shares). The parser therefore reads
 * as far as the bytes go and says what it could not read (`complete: false`, `missing`): the
 * cipher suites usually fit, the last extensions usually do not. A ClientHello spanning
 * several records is read from its first record only.
 */
import { u16be, u24be, u8 } from './bytes';

export const TLS_CONTENT_TYPES: Record<number, string> = {
  0x14: 'change_cipher_spec',
  0x15: 'alert',
  0x16: 'handshake',
  0x17: 'application_data',
  0x18: 'heartbeat',
};

const HANDSHAKE_TYPES: Record<number, string> = {
  1: 'client_hello', 2: 'server_hello', 4: 'new_session_ticket', 8: 'encrypted_extensions',
  11: 'certificate', 12: 'server_key_exchange', 13: 'certificate_request', 14: 'server_hello_done',
  15: 'certificate_verify', 16: 'client_key_exchange', 20: 'finished',
};

/** Largest record payload (2^14 plus the expansion TLS 1.2 allows). */
const MAX_RECORD_LENGTH = 16384 + 2048;

export interface TlsRecordHeader {
  contentType: number;
  contentTypeName: string;
  /** record-layer version, e.g. 0x0301 */
  version: number;
  length: number;
  /** the handshake message type of a handshake record, when captured */
  handshakeType?: string;
}

export function versionName(v: number): string {
  const names: Record<number, string> = { 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' };
  return names[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

/** The record header at `off`, or null when the bytes are not a TLS record. */
export function parseTlsRecordHeader(b: Uint8Array, off = 0): TlsRecordHeader | null {
  const type = u8(b, off);
  const version = u16be(b, off + 1);
  const length = u16be(b, off + 3);
  if (type === null || version === null || length === null) return null;
  if (!TLS_CONTENT_TYPES[type] || version < 0x0300 || version > 0x0304 || length === 0 || length > MAX_RECORD_LENGTH) return null;
  const header: TlsRecordHeader = { contentType: type, contentTypeName: TLS_CONTENT_TYPES[type]!, version, length };
  const hs = type === 0x16 ? u8(b, off + 5) : null;
  if (hs !== null) header.handshakeType = HANDSHAKE_TYPES[hs] ?? `type ${hs}`;
  return header;
}

export interface TlsExtension {
  type: number;
  length: number;
  /** whether the extension's data was captured whole */
  complete: boolean;
}

export interface ClientHello {
  recordVersion: number;
  /** the ClientHello's legacy_version (0x0303 for TLS 1.2 and 1.3) */
  legacyVersion: number;
  /** length of the handshake message as declared */
  declaredLength: number;
  sessionIdLength: number;
  /** in wire order, GREASE included; complete only when `ciphersComplete` */
  cipherSuites: number[];
  ciphersComplete: boolean;
  compressionMethods: number[];
  /** in wire order, GREASE included */
  extensions: TlsExtension[];
  /**
   * every extension's type was read, and the data of those JA4 reads (SNI, ALPN, supported
   * versions, signature algorithms): enough for a full fingerprint
   */
  complete: boolean;
  /** what the capture did not reach ("extensions after the 7th") */
  missing?: string;
  sni?: string;
  /** ALPN protocol names as raw bytes (JA4 needs the bytes) */
  alpn?: Uint8Array[];
  supportedVersions?: number[];
  signatureAlgorithms?: number[];
  supportedGroups?: number[];
}

/** A cursor over the captured bytes that reports running out instead of throwing. */
class Cursor {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
  ) {}
  u8(): number | null {
    const v = u8(this.b, this.pos);
    if (v !== null) this.pos += 1;
    return v;
  }
  u16(): number | null {
    const v = u16be(this.b, this.pos);
    if (v !== null) this.pos += 2;
    return v;
  }
  u24(): number | null {
    const v = u24be(this.b, this.pos);
    if (v !== null) this.pos += 3;
    return v;
  }
}

function u16List(b: Uint8Array, off: number, bytes: number): number[] {
  const out: number[] = [];
  for (let p = off; p + 2 <= Math.min(b.length, off + bytes); p += 2) out.push(u16be(b, p)!);
  return out;
}

function readExtensionData(hello: ClientHello, b: Uint8Array, type: number, off: number, length: number): void {
  const end = off + length;
  if (end > b.length) return; // not captured whole: leave the field unset
  if (type === 0x0000) {
    // server_name_list: u16 list length, then entries (u8 type 0 = host_name, u16 length, name)
    const nameLength = u16be(b, off + 3);
    if (u8(b, off + 2) === 0 && nameLength !== null && off + 5 + nameLength <= end) {
      hello.sni = new TextDecoder().decode(b.subarray(off + 5, off + 5 + nameLength));
    }
  } else if (type === 0x0010) {
    const alpn: Uint8Array[] = [];
    for (let p = off + 2; p < end; ) {
      const n = b[p]!;
      if (p + 1 + n > end) break;
      alpn.push(b.slice(p + 1, p + 1 + n));
      p += 1 + n;
    }
    hello.alpn = alpn;
  } else if (type === 0x002b) {
    hello.supportedVersions = u16List(b, off + 1, Math.min(b[off] ?? 0, length - 1));
  } else if (type === 0x000d) {
    hello.signatureAlgorithms = u16List(b, off + 2, Math.min(u16be(b, off) ?? 0, length - 2));
  } else if (type === 0x000a) {
    hello.supportedGroups = u16List(b, off + 2, Math.min(u16be(b, off) ?? 0, length - 2));
  }
}

/**
 * A ClientHello at the start of `b` (a TLS handshake record), or null when the bytes are not
 * one. Fields past the captured bytes are left out and named in `missing`.
 */
export function parseClientHello(b: Uint8Array): ClientHello | null {
  const record = parseTlsRecordHeader(b);
  if (!record || record.contentType !== 0x16 || u8(b, 5) !== 1) return null;
  const c = new Cursor(b, 6);
  const declaredLength = c.u24();
  const legacyVersion = c.u16();
  if (declaredLength === null || legacyVersion === null) return null;
  if (legacyVersion < 0x0300 || legacyVersion > 0x0304 || declaredLength + 4 > record.length) return null;
  const hello: ClientHello = {
    recordVersion: record.version, legacyVersion, declaredLength, sessionIdLength: 0,
    cipherSuites: [], ciphersComplete: false, compressionMethods: [], extensions: [], complete: false,
  };
  const helloEnd = 9 + declaredLength;
  c.pos += 32; // random
  const sid = c.u8();
  if (sid === null || sid > 32) return sid === null ? { ...hello, missing: 'everything after the random' } : null;
  hello.sessionIdLength = sid;
  c.pos += sid;
  const cipherBytes = c.u16();
  if (cipherBytes === null) return { ...hello, missing: 'the cipher suites' };
  if (cipherBytes % 2 !== 0 || c.pos + cipherBytes > helloEnd) return null;
  hello.cipherSuites = u16List(b, c.pos, cipherBytes);
  hello.ciphersComplete = c.pos + cipherBytes <= b.length;
  c.pos += cipherBytes;
  if (!hello.ciphersComplete) return { ...hello, missing: `cipher suites after the first ${hello.cipherSuites.length}, and the extensions` };
  const compression = c.u8();
  if (compression === null || c.pos + compression > b.length) return { ...hello, missing: 'the compression methods and extensions' };
  hello.compressionMethods = Array.from(b.subarray(c.pos, c.pos + compression));
  c.pos += compression;
  if (c.pos === helloEnd) return { ...hello, complete: true }; // no extensions at all (old clients)
  const extBytes = c.u16();
  if (extBytes === null) return { ...hello, missing: 'the extensions' };
  if (c.pos + extBytes !== helloEnd) return null;
  while (c.pos < helloEnd) {
    const type = c.u16();
    const length = c.u16();
    if (type === null || length === null) return { ...hello, missing: `extensions after the first ${hello.extensions.length}` };
    if (c.pos + length > helloEnd) return null;
    hello.extensions.push({ type, length, complete: c.pos + length <= b.length });
    readExtensionData(hello, b, type, c.pos, length);
    c.pos += length;
  }
  return { ...hello, complete: hello.extensions.every((e) => e.complete) || extensionsNeededComplete(hello) };
}

/** JA4 needs every extension's type, but the data of only SNI, ALPN, versions and signatures. */
function extensionsNeededComplete(hello: ClientHello): boolean {
  return hello.extensions.every((e) => e.complete || ![0x0000, 0x0010, 0x002b, 0x000d].includes(e.type));
}
