import { describe, expect, it } from 'vitest';
import { classifyFlow, classifyMessage, type MessageVerdict } from './payloadFormat';
import { be16, be32, bytes, fixture, fromHex, randomBytes } from './testkit';

function format(prefix: Uint8Array, size?: number): MessageVerdict['format'] {
  return classifyMessage({ prefix, size }).format;
}

const jwtHeader = Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url');
const jwtClaims = Buffer.from('{"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:shop:web"}').toString('base64url');
const token = `${jwtHeader}.${jwtClaims}.${'s'.repeat(342)}`;

describe('classifyMessage', () => {
  it('recognises each format, with its reason', () => {
    const cases: Array<[Uint8Array, number | undefined, string, string]> = [
      [bytes(), undefined, 'empty', 'no payload bytes captured'],
      [bytes('GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n'), undefined, 'http1_request', 'HTTP/1.1 request GET /healthz (Host api)'],
      [bytes('HTTP/1.1 200 OK\r\nServer: envoy\r\n\r\n'), undefined, 'http1_response', 'HTTP/1.1 response 200 OK (Server envoy)'],
      [bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [0, 0, 6, 4, 0, 0, 0, 0, 0], be16(3), be32(100)), undefined, 'http2', 'HTTP/2 connection preface, then SETTINGS (MAX_CONCURRENT_STREAMS=100)'],
      [bytes(0x17, 0x03, 0x03, 0x00, 0x20, randomBytes(32, 1)), undefined, 'tls_record', 'TLS application_data record (TLS 1.2 record layer, 32 bytes)'],
      [bytes('{"event":"login","user":"a"}'), undefined, 'json', 'JSON object with keys event, user'],
      [bytes('[{"id":1},{"id":2},{"id'), 4000, 'json', 'JSON array, valid up to where the capture ends'],
      [fixture('go-gob-point.bin'), undefined, 'gob', 'Go gob stream: type definition struct Point {X int, Y int} (type id 65), then 1 value message of type 65'],
      [bytes(0x82, 0xa4, 'host', 0xa3, 'web', 0xa3, 'seq', 0x07), undefined, 'msgpack', 'MessagePack map of 2 entries (keys host, seq), parsed whole'],
      [bytes(0x0a, 0x03, 'web', 0x10, 0x07), undefined, 'protobuf', 'protobuf wire format that parses whole: field 1 (string "web"), field 2 (varint 7)'],
      [bytes('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'), undefined, 'text', 'plain text (100 % printable): Redis RESP command GET (2 arguments)'],
      [new TextEncoder().encode('Grüße aus Köln, schöne Grüße'), undefined, 'text', 'plain text (100 % printable)'],
      [randomBytes(256, 7), 4096, 'high_entropy', 'high entropy: 7.11 bits/byte over 256 bytes (random bytes of that length show 7.17; threshold 6.67): likely encrypted or compressed'],
      [bytes(0xca, 0xfe, 0x00, 0x01, 0x00, 0x00), undefined, 'binary', 'unrecognised binary: 1.79 bits/byte over 6 bytes, too short to judge entropy (under 64 bytes), starts cafe00010000'],
    ];
    for (const [prefix, size, expected, reason] of cases) {
      const v = classifyMessage({ prefix, size });
      expect([v.format, v.reason]).toEqual([expected, reason]);
    }
  });

  it('parses a TLS ClientHello and gives its JA4, or says why it cannot', () => {
    const go = fixture('go1.19-crypto-tls-clienthello.bin');
    const full = classifyMessage({ prefix: go });
    expect(full.reason).toBe('TLS ClientHello (TLS 1.3, SNI api.internal.example, ALPN h2,http/1.1, 19 cipher suites, 10 extensions); JA4 t13d1910h2_9dc949149365_97f8aa674fd9');
    const cut = classifyMessage({ prefix: go.subarray(0, 256), size: go.length });
    expect(cut.reason).toBe(
      'TLS ClientHello (TLS 1.3, SNI api.internal.example, ALPN h2,http/1.1, 19 cipher suites, 10 extensions); JA4 t13d1910h2_9dc949149365_97f8aa674fd9 (256 of 286 bytes captured; the rest holds nothing JA4 reads)',
    );
    expect(cut.truncated).toBe(true);
    const node = fixture('node20-openssl3-clienthello.bin');
    const partial = classifyMessage({ prefix: node.subarray(0, 256), size: node.length });
    expect(partial.format).toBe('tls_client_hello');
    expect(partial.reason).toBe(
      'TLS ClientHello (TLS 1.2 (legacy_version; supported_versions not captured), SNI kubernetes.default.svc, ALPN not captured, 59 cipher suites, 3+ extensions) cut at 256 of 398 bytes: extensions after the first 3 missing, so no full JA4; JA4_b a33745022dd6 from the complete cipher list',
    );
    if (partial.format === 'tls_client_hello') expect(partial.fields).toMatchObject({ ja4: null, ja4CipherHash: 'a33745022dd6', notCaptured: ['ALPN', 'supported_versions', 'signature_algorithms'] });
  });

  it('prefers text over protobuf for printable bytes that happen to parse', () => {
    expect(format(bytes('hi'))).toBe('text');
    expect(format(bytes(0x0a, 0x05, 'hello'))).toBe('protobuf');
  });

  it('stays sane on adversarial input', () => {
    expect(format(bytes(0x16))).toBe('binary');
    expect(format(bytes(0x16, 0x03, 0x01))).toBe('binary');
    expect(format(bytes(0x16, 0x03, 0x01, 0x40, 0x00, 0x01))).toBe('binary'); // record longer than TLS allows
    expect(format(bytes(0x17, 0x03, 0x03, 0x10, 0x00), 5)).toBe('binary'); // record longer than the send
    expect(format(bytes('GET'))).toBe('text');
    expect(format(bytes('{"a":'))).toBe('text'); // incomplete JSON with nothing left to capture
    expect(format(bytes(0xff))).toBe('binary');
    expect(format(new Uint8Array(300))).toBe('binary');
    expect(format(bytes(0xc1, 0xc1, 0xc1))).toBe('binary');
  });

  it('reports credentials whatever the format', () => {
    const v = classifyMessage({ prefix: bytes(`POST /collect HTTP/1.1\r\nAuthorization: Bearer ${token}`).subarray(0, 256), size: 900 });
    expect(v.format).toBe('http1_request');
    expect(v.reason).toBe('HTTP/1.1 request POST /collect (Authorization Bearer …)');
    expect(v.credentials.map((c) => c.description)).toEqual([
      'Kubernetes service-account JWT (alg RS256, kid k1; iss https://kubernetes.default.svc.cluster.local, sub system:serviceaccount:shop:web)',
    ]);
  });
});

describe('classifyFlow', () => {
  it('recognises the reference attack: a token in a 4-byte length-prefixed frame', () => {
    const frame = bytes(be32(1 + token.length), 0x01, token);
    const flow = classifyFlow(Array.from({ length: 5 }, () => ({ prefix: frame.subarray(0, 256), size: frame.length })));
    expect(flow.format).toBe('length_prefixed');
    expect(flow.agreeing).toBe(5);
    const length = 1 + token.length;
    expect(length).toBe(504);
    expect(flow.reason).toBe(
      'length-prefixed binary: 4-byte big-endian length 0x000001f8 = 504 matches the remaining 504 bytes in 5 of 5 messages; body: plain text (99.6 % printable)',
    );
    expect(flow.credentials).toHaveLength(5);
    expect(flow.credentials[0]).toMatchObject({ kind: 'jwt', offset: 5, message: 0 });
    if (flow.primary?.format === 'length_prefixed') expect(flow.primary.fields).toMatchObject({ variant: 'u32be_rest', length: 504, frames: 1, body: { format: 'text' } });
  });

  it('reproduces the brief\'s reason for an encrypted body', () => {
    const flow = classifyFlow([1, 2, 3, 4, 5].map((seed) => ({ prefix: bytes(be32(60), randomBytes(60, seed)) })));
    expect(flow.reason).toBe(
      'length-prefixed binary: 4-byte big-endian length 0x0000003c = 60 matches the remaining 60 bytes in 5 of 5 messages; body: high entropy: 7.24 bits/byte over 300 bytes (random bytes of that length show 7.29; threshold 6.79): likely encrypted or compressed',
    );
  });

  it('names a TLS flow by its ClientHello and counts the records after it', () => {
    const hello = fixture('go1.19-crypto-tls-clienthello.bin');
    const records = [1, 2].map((s) => ({ prefix: bytes(0x17, 0x03, 0x03, 0x00, 0x40, randomBytes(64, s)) }));
    const flow = classifyFlow([{ prefix: hello.subarray(0, 256), size: hello.length }, ...records]);
    expect(flow.format).toBe('tls_client_hello');
    expect(flow.agreeing).toBe(3);
    expect(flow.reason).toMatch(/; JA4 t13d1910h2_9dc949149365_97f8aa674fd9 \(256 of 286 bytes captured; the rest holds nothing JA4 reads\); then 2 TLS records$/);
  });

  it('follows HTTP/2 frames after the preface', () => {
    const flow = classifyFlow([
      { prefix: bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [0, 0, 0, 4, 0, 0, 0, 0, 0]) },
      { prefix: bytes([0, 0, 5, 1, 4, 0, 0, 0, 1], 0x82, 0x86, 0x84, 0x41, 0x8a) },
    ]);
    expect(flow.format).toBe('http2');
    expect(flow.agreeing).toBe(2);
    expect(flow.perMessage[1]!.reason).toBe('HTTP/2 frames: HEADERS');
  });

  it('follows a gob stream across sends', () => {
    const stream = fixture('go-gob-point.bin');
    const flow = classifyFlow([{ prefix: stream.subarray(0, 32) }, { prefix: stream.subarray(32) }, { prefix: fromHex('07ff82010201040000'), size: 9 }]);
    expect(flow.perMessage.map((m) => m.format)).toEqual(['gob', 'gob', 'binary']);
    expect(flow.perMessage[1]!.reason).toBe('Go gob stream: 1 value message of type 65');
    expect(flow.reason).toBe('Go gob stream: type definition struct Point {X int, Y int} (type id 65); 2 of 3 messages');
  });

  it('does not see framing in HTTP or JSON flows', () => {
    const flow = classifyFlow([
      { prefix: bytes('POST /v1/events HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n\r\n') },
      { prefix: bytes('{"events":[{"t":1}]}') },
      { prefix: bytes('POST /v1/events HTTP/1.1\r\nHost: ingest\r\n\r\n') },
    ]);
    expect(flow.format).toBe('http1_request');
    expect(flow.reason).toBe('HTTP/1.1 request POST /v1/events (Host ingest, Content-Type application/json); 2 of 3 messages');
  });

  it('names a database flow by its framing', () => {
    const le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    // header (length, requestID, responseTo, opCode), flagBits, section kind 0, an empty BSON document
    const opMsg = (id: number) => bytes(le(26), le(id), le(0), le(2013), le(0), 0, le(5), 0);
    const flow = classifyFlow([1, 2, 3].map((id) => ({ prefix: opMsg(id) })));
    expect(flow.format).toBe('length_prefixed');
    expect(flow.reason).toMatch(/^length-prefixed binary: 4-byte little-endian length \(counting itself\) 0x0000001a = 26 matches the whole 26-byte message in 3 of 3 messages; MongoDB wire protocol \(OP_MSG\); body: /);
  });

  it('handles no messages at all', () => {
    expect(classifyFlow([])).toMatchObject({ format: 'empty', reason: 'no messages captured', primary: null });
  });
});

describe('classifyFlow framing threshold', () => {
  it('does not call a mostly-JSON flow length-prefixed because of one framed message', () => {
    const flow = classifyFlow([
      { prefix: bytes('{"a":1}') },
      { prefix: bytes('{"a":2}') },
      { prefix: bytes(be32(8), randomBytes(8, 1)) },
    ]);
    expect(flow.format).toBe('json');
    expect(flow.reason).toBe('JSON object with keys a; 2 of 3 messages');
  });
});
