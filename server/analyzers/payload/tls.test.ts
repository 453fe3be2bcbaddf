import { describe, expect, it } from 'vitest';
import { be16, bytes, fixture } from '../testkit';
import { alpnChars, isGrease, ja4, ja4CipherHash } from './ja4';
import { parseClientHello, parseTlsRecordHeader } from './tls';

function ext(type: number, data: number[] | Uint8Array): number[] {
  return [...be16(type), ...be16(data.length), ...data];
}

function vec16(data: number[]): number[] {
  return [...be16(data.length), ...data];
}

function u16s(values: readonly number[]): number[] {
  return values.flatMap(be16);
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** A ClientHello record: legacy_version 0x0303, zero random, a 32-byte session id. */
function clientHello(ciphers: readonly number[], extensions: readonly number[][]): Uint8Array {
  const body = [
    0x03, 0x03, ...Array(32).fill(0x11), 32, ...Array(32).fill(0x22),
    ...vec16(u16s(ciphers)), 1, 0,
    ...vec16(extensions.flat()),
  ];
  const handshake = [1, 0, ...be16(body.length), ...body];
  return bytes(0x16, 0x03, 0x01, be16(handshake.length), handshake);
}

const SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

/** Every extension of the spec's example, by type, with realistic contents. */
const EXTENSION_DATA: Record<number, number[]> = {
  0x001b: [0x02, 0x00, 0x02],
  0x0000: vec16([0, ...vec16(ascii('www.example.com'))]),
  0x0033: vec16([0x00, 0x1d, 0x00, 0x20, ...Array(32).fill(0x33)]),
  0x0010: vec16([2, ...ascii('h2'), 8, ...ascii('http/1.1')]),
  0x4469: [0x00, 0x03, 0x02, ...ascii('h2')],
  0x0017: [],
  0x002d: [0x01, 0x01],
  0x000d: vec16(u16s(SIG_ALGS)),
  0x0005: [0x01, 0x00, 0x00, 0x00, 0x00],
  0x0023: [],
  0x0012: [],
  0x002b: [0x06, ...u16s([0x3a3a, 0x0304, 0x0303])],
  0xff01: [0x00],
  0x000b: [0x01, 0x00],
  0x000a: vec16(u16s([0x4a4a, 0x001d, 0x0017, 0x0018])),
  0x0015: Array(20).fill(0),
  0x44cd: [0x00, 0x03, 0x02, ...ascii('h2')],
  0xfe0d: [0x00, 0x00, 0x01, 0x00, 0x01, 0x42, 0x00, 0x00, 0x00, 0x00],
};

/** JA4.md's worked example (a Chrome ClientHello): ciphers and extensions in wire order. */
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_EXTENSIONS = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];

function specHello(): Uint8Array {
  // GREASE added where Chrome puts it (first cipher, first and last extension): JA4 must ignore it.
  return clientHello([0x0a0a, ...SPEC_CIPHERS], [ext(0x2a2a, []), ...SPEC_EXTENSIONS.map((t) => ext(t, EXTENSION_DATA[t]!)), ext(0xdada, [0])]);
}

describe('TLS ClientHello parsing', () => {
  it('reads every field of a complete hello', () => {
    const hello = parseClientHello(specHello())!;
    expect(hello.complete).toBe(true);
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.sessionIdLength).toBe(32);
    expect(hello.cipherSuites).toEqual([0x0a0a, ...SPEC_CIPHERS]);
    expect(hello.extensions.map((e) => e.type)).toEqual([0x2a2a, ...SPEC_EXTENSIONS, 0xdada]);
    expect(hello.sni).toBe('www.example.com');
    expect(hello.alpn?.map((a) => Buffer.from(a).toString())).toEqual(['h2', 'http/1.1']);
    expect(hello.supportedVersions).toEqual([0x3a3a, 0x0304, 0x0303]);
    expect(hello.signatureAlgorithms).toEqual(SIG_ALGS);
    expect(hello.supportedGroups).toEqual([0x4a4a, 0x001d, 0x0017, 0x0018]);
  });

  it('reads a real Go crypto/tls ClientHello', () => {
    const hello = parseClientHello(fixture('go1.19-crypto-tls-clienthello.bin'))!;
    expect(hello.complete).toBe(true);
    expect(hello.sni).toBe('api.internal.example');
    expect(hello.alpn?.map((a) => Buffer.from(a).toString())).toEqual(['h2', 'http/1.1']);
    expect(hello.cipherSuites).toHaveLength(19);
  });

  it('reads as far as a truncated capture goes and says what is missing', () => {
    const full = fixture('node20-openssl3-clienthello.bin');
    const hello = parseClientHello(full.subarray(0, 256))!;
    expect(hello.complete).toBe(false);
    expect(hello.ciphersComplete).toBe(true);
    expect(hello.cipherSuites).toHaveLength(59);
    expect(hello.sni).toBe('kubernetes.default.svc');
    expect(hello.missing).toBe('extensions after the first 3');
    expect(ja4(hello)).toBeNull();
    expect(ja4CipherHash(hello)).toBe('a33745022dd6');
    // Cut inside the cipher list: nothing past it.
    expect(parseClientHello(full.subarray(0, 100))).toMatchObject({ ciphersComplete: false, missing: 'cipher suites after the first 11, and the extensions' });
    expect(parseClientHello(full.subarray(0, 20))).toMatchObject({ missing: 'everything after the random' });
  });

  it('refuses what is not a ClientHello', () => {
    expect(parseClientHello(bytes())).toBeNull();
    expect(parseClientHello(bytes(0x16, 0x03, 0x01))).toBeNull();
    expect(parseClientHello(bytes(0x16, 0x03, 0x01, 0x00, 0x10, 0x02, 0, 0, 12))).toBeNull(); // ServerHello
    expect(parseClientHello(bytes(0x17, 0x03, 0x03, 0x00, 0x10, 0x01))).toBeNull(); // application data
    expect(parseClientHello(bytes(0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x40))).toBeNull(); // hello longer than its record
    const lying = specHello();
    lying[9 + 2 + 32 + 1 + 32 + 1] = 0xff; // cipher-suite length beyond the message
    expect(parseClientHello(lying)).toBeNull();
  });

  it('reads record headers', () => {
    expect(parseTlsRecordHeader(bytes(0x17, 0x03, 0x03, 0x01, 0x00))).toEqual({ contentType: 0x17, contentTypeName: 'application_data', version: 0x0303, length: 256 });
    expect(parseTlsRecordHeader(bytes(0x16, 0x03, 0x03, 0x00, 0x7a, 0x02))?.handshakeType).toBe('server_hello');
    expect(parseTlsRecordHeader(bytes(0x17, 0x03, 0x05, 0x00, 0x10))).toBeNull();
    expect(parseTlsRecordHeader(bytes(0x17, 0x03, 0x03, 0x50, 0x00))).toBeNull();
    expect(parseTlsRecordHeader(bytes(0x47, 0x45, 0x54, 0x20, 0x2f))).toBeNull();
  });
});

describe('JA4', () => {
  it('reproduces the published example (JA4.md) byte for byte, GREASE ignored', () => {
    const fp = ja4(parseClientHello(specHello())!)!;
    expect(fp.ja4).toBe('t13d1516h2_8daaf6152771_e5627efa2ab1');
    expect(fp.ja4_o).toBe('t13d1516h2_acb858a92679_18f69afefd3d');
    expect(fp.ja4_r).toBe(
      't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    );
    expect(fp.ja4_ro).toBe(
      't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601',
    );
  });

  it('matches a second published fingerprint (a newer Chrome: ALPS 44cd, ECH fe0d)', () => {
    const types = [0x0000, 0x0010, 0x0005, 0x000a, 0x000b, 0x000d, 0x0012, 0x0017, 0x001b, 0x0023, 0x002b, 0x002d, 0x0033, 0x44cd, 0xfe0d, 0xff01];
    const fp = ja4(parseClientHello(clientHello(SPEC_CIPHERS, types.map((t) => ext(t, EXTENSION_DATA[t]!))))!)!;
    expect(fp.ja4).toBe('t13d1516h2_8daaf6152771_d8a2da3f94cd');
  });

  it('hashes the extension list without an underscore when there are no signature algorithms', () => {
    const withoutSigs = SPEC_EXTENSIONS.map((t) => ext(t, t === 0x000d ? vec16([]) : EXTENSION_DATA[t]!));
    expect(ja4(parseClientHello(clientHello(SPEC_CIPHERS, withoutSigs))!)!.parts.c).toBe('6d807ffa2a79');
  });

  it('fills the parts for hellos without ciphers, extensions, SNI or ALPN', () => {
    const bare = ja4(parseClientHello(clientHello([], []))!)!;
    expect(bare.ja4).toBe('t12i000000_000000000000_000000000000');
    const tls10 = clientHello([0x002f], [ext(0x000b, [0x01, 0x00])]);
    tls10[9] = 0x03;
    tls10[10] = 0x01;
    expect(ja4(parseClientHello(tls10)!)!.parts.a).toBe('t10i010100');
    const quic = ja4(parseClientHello(clientHello([0x1301], [ext(0x0039, [])]))!)!;
    expect(quic.parts.a).toBe('q12i010100');
  });

  it('takes ALPN characters as the spec says, hex for non-alphanumeric ends', () => {
    const alpn = (...values: number[][]) => values.map((v) => Uint8Array.from(v));
    expect(alpnChars(undefined)).toBe('00');
    expect(alpnChars(alpn([]))).toBe('00');
    expect(alpnChars(alpn(ascii('h2')))).toBe('h2');
    expect(alpnChars(alpn(ascii('http/1.1')))).toBe('h1');
    expect(alpnChars(alpn(ascii('h')))).toBe('hh');
    expect(alpnChars(alpn([0xab]))).toBe('ab');
    expect(alpnChars(alpn([0xab, 0xcd]))).toBe('ad');
    expect(alpnChars(alpn([0x30, 0xab]))).toBe('3b');
    expect(alpnChars(alpn([0x30, 0x31, 0xab, 0xcd]))).toBe('3d');
    expect(alpnChars(alpn([0x30, 0xab, 0xcd, 0x31]))).toBe('01');
  });

  it('recognises every GREASE value and nothing else', () => {
    const grease = Array.from({ length: 16 }, (_, i) => ((i << 4) | 0x0a) * 0x101);
    expect(grease.every(isGrease)).toBe(true);
    expect([0x0a0b, 0x1a2a, 0x0000, 0x1301, 0xfafb].some(isGrease)).toBe(false);
  });

  it('fingerprints real clients (values checked with an independent implementation)', () => {
    expect(ja4(parseClientHello(fixture('go1.19-crypto-tls-clienthello.bin'))!)!.ja4).toBe('t13d1910h2_9dc949149365_97f8aa674fd9');
    expect(ja4(parseClientHello(fixture('node20-openssl3-clienthello.bin'))!)!.ja4).toBe('t13d5911h2_a33745022dd6_1f22a2ca17c4');
    // Go's hello ends with its key share: a 256-byte capture still holds everything JA4 reads.
    expect(ja4(parseClientHello(fixture('go1.19-crypto-tls-clienthello.bin').subarray(0, 256))!)!.ja4).toBe('t13d1910h2_9dc949149365_97f8aa674fd9');
  });
});
