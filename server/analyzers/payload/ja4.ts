/**
 * JA4 TLS client fingerprint (FoxIO's published algorithm, technical_details/JA4.md), computed
 * from a parsed ClientHello:
 *
 *   JA4_a  protocol ("t" TCP, "q" QUIC), version ("13", "12", ...: the highest non-GREASE
 *          supported_versions entry, else legacy_version), "d"/"i" (SNI present or not), cipher
 *          count and extension count (2 digits each, GREASE excluded, capped at 99; the
 *          extension count includes SNI and ALPN), first+last character of the first ALPN
 *          value ("00" without ALPN; the first+last hex digits when either end byte is not
 *          alphanumeric)
 *   JA4_b  first 12 hex digits of sha256 over the sorted 4-hex-digit cipher list, comma
 *          separated ("000000000000" when empty)
 *   JA4_c  first 12 hex digits of sha256 over the sorted extension list without SNI (0000) and
 *          ALPN (0010), then "_" and the signature algorithms in wire order (no "_" when there
 *          are none; "000000000000" when there are no extensions)
 * GREASE values (0x?a?a, RFC 8701) are ignored everywhere. Also given: JA4_r (the raw, sorted
 * lists) and JA4_o / JA4_ro (original order, SNI and ALPN kept), which the spec defines for
 * analysts who compare fingerprints by hand.
 *
 * Checked against the spec's worked example (the Chrome ClientHello whose JA4 is
 * t13d1516h2_8daaf6152771_e5627efa2ab1, JA4_o t13d1516h2_acb858a92679_18f69afefd3d), rebuilt
 * byte by byte in the tests with GREASE values added.
 */
import { createHash } from 'node:crypto';
import type { ClientHello } from './tls';

export interface Ja4 {
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
  parts: { a: string; b: string; c: string };
}

export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function sha12(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

const VERSION_CODES: Record<number, string> = {
  0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0200: 's2', 0x0002: 's2', 0x0100: 's1',
  0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3',
};

function versionCode(hello: ClientHello): string {
  const supported = (hello.supportedVersions ?? []).filter((v) => !isGrease(v));
  const v = supported.length > 0 ? Math.max(...supported) : hello.legacyVersion;
  return VERSION_CODES[v] ?? '00';
}

function alphanumeric(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/** First and last character of the first ALPN value (see the module comment). */
export function alpnChars(alpn: readonly Uint8Array[] | undefined): string {
  const first = alpn?.[0];
  if (!first || first.length === 0) return '00';
  const a = first[0]!;
  const z = first[first.length - 1]!;
  if (alphanumeric(a) && alphanumeric(z)) return String.fromCharCode(a) + String.fromCharCode(z);
  const h = Array.from(first, (x) => x.toString(16).padStart(2, '0')).join('');
  return h[0]! + h[h.length - 1]!;
}

function count2(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0');
}

const SNI = 0x0000;
const ALPN = 0x0010;
/** quic_transport_parameters (and its draft code point): the hello travels in QUIC. */
const QUIC_PARAMS = [0x0039, 0xffa5];

/** The JA4 fingerprint of a complete ClientHello; null when the hello was not read whole. */
export function ja4(hello: ClientHello): Ja4 | null {
  if (!hello.complete) return null;
  const ciphers = hello.cipherSuites.filter((c) => !isGrease(c));
  const extensions = hello.extensions.map((e) => e.type).filter((t) => !isGrease(t));
  const sigs = (hello.signatureAlgorithms ?? []).filter((s) => !isGrease(s));
  const protocol = extensions.some((t) => QUIC_PARAMS.includes(t)) ? 'q' : 't';
  const a = `${protocol}${versionCode(hello)}${extensions.includes(SNI) ? 'd' : 'i'}${count2(ciphers.length)}${count2(extensions.length)}${alpnChars(hello.alpn)}`;

  const sortedCiphers = ciphers.map(hex4).sort().join(',');
  const sortedExtensions = extensions.filter((t) => t !== SNI && t !== ALPN).map(hex4).sort().join(',');
  const sigText = sigs.map(hex4).join(',');
  const cRaw = sigText ? `${sortedExtensions}_${sigText}` : sortedExtensions;
  const b = ciphers.length === 0 ? '000000000000' : sha12(sortedCiphers);
  const c = sortedExtensions === '' ? '000000000000' : sha12(cRaw);

  const originalCiphers = ciphers.map(hex4).join(',');
  const originalExtensions = extensions.map(hex4).join(',');
  const oRaw = sigText ? `${originalExtensions}_${sigText}` : originalExtensions;
  const bo = ciphers.length === 0 ? '000000000000' : sha12(originalCiphers);
  const co = extensions.length === 0 ? '000000000000' : sha12(oRaw);
  return {
    ja4: `${a}_${b}_${c}`,
    ja4_r: `${a}_${sortedCiphers}_${cRaw}`,
    ja4_o: `${a}_${bo}_${co}`,
    ja4_ro: `${a}_${originalCiphers}_${oRaw}`,
    parts: { a, b, c },
  };
}

/** JA4_b alone: computable as soon as the cipher suites were captured whole. */
export function ja4CipherHash(hello: ClientHello): string | null {
  if (!hello.ciphersComplete) return null;
  const ciphers = hello.cipherSuites.filter((c) => !isGrease(c));
  return ciphers.length === 0 ? '000000000000' : sha12(ciphers.map(hex4).sort().join(','));
}
