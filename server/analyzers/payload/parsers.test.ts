import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { be16, be32, bytes, fixture, fromHex, le32, randomBytes } from '../testkit';
import { decodeUtf8Prefix, u32be, u32le } from './bytes';
import { decodeBase64Url, findCredentials } from './credentials';
import { expectedRandomEntropy, highEntropyThreshold, measureEntropy, shannonEntropy } from './entropy';
import { detectFraming, FRAMING_VARIANTS, matchFraming } from './framing';
import { describeGobDefinition, parseGob } from './gob';
import { parseHttp2Preface, parseHttpRequest, parseHttpResponse } from './http';
import { scanJson } from './json';
import { parseMsgpack } from './msgpack';
import { describeProtobufFields, parseProtobuf } from './protobuf';
import { measureText, textHint } from './text';

describe('byte helpers', () => {
  it('reads 32-bit values without sign trouble', () => {
    expect(u32be(bytes(0xff, 0xff, 0xff, 0xfe), 0)).toBe(0xfffffffe);
    expect(u32le(bytes(0xfe, 0xff, 0xff, 0xff), 0)).toBe(0xfffffffe);
    expect(u32be(bytes(1, 2, 3), 0)).toBeNull();
  });

  it('decodes UTF-8 cut in the middle of a character', () => {
    expect(decodeUtf8Prefix(bytes('caf', 0xc3, 0xa9, ' ', 0xe2, 0x82))).toBe('café ');
    expect(decodeUtf8Prefix(bytes(0xff, 0x41))).toBeNull();
  });
});

describe('HTTP', () => {
  it('parses a request with the headers analysts ask about', () => {
    const req = parseHttpRequest(
      bytes('POST /api/v1/upload?x=1 HTTP/1.1\r\nHost: files.internal\r\nUser-Agent: node-fetch/3.3\r\nContent-Type: application/json\r\nContent-Length: 2048\r\nAuthorization: Bearer abc.def\r\n\r\n{"a":'),
      false,
    );
    expect(req).toEqual({
      method: 'POST', target: '/api/v1/upload?x=1', version: '1.1', truncated: false,
      headers: { host: 'files.internal', userAgent: 'node-fetch/3.3', contentType: 'application/json', contentLength: 2048, authorization: 'Bearer' },
    });
  });

  it('keeps what it can of a request cut by the capture', () => {
    expect(parseHttpRequest(bytes('GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8'), true)).toMatchObject({ headers: { host: 'a' }, truncated: true });
    expect(parseHttpRequest(bytes(`GET /search?q=${'x'.repeat(240)}`), true)).toMatchObject({ method: 'GET', version: '1.?', truncated: true });
    expect(parseHttpRequest(bytes(`GET /search?q=${'x'.repeat(240)}`), false)).toBeNull();
  });

  it('parses responses and refuses look-alikes', () => {
    expect(parseHttpResponse(bytes('HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n'), false)).toEqual({ status: 404, reasonPhrase: 'Not Found', version: '1.1', headers: { server: 'nginx' }, truncated: false });
    expect(parseHttpResponse(bytes('HTTP/1.0 200\r\n\r\n'), false)?.status).toBe(200);
    expect(parseHttpRequest(bytes('get / HTTP/1.1\r\n'), false)).toBeNull();
    expect(parseHttpRequest(bytes('GET / HTTP/2.0\r\n'), false)).toBeNull();
    expect(parseHttpResponse(bytes('HTTP/1.1 999 Nope\r\n'), false)).toBeNull();
  });

  it('parses the HTTP/2 preface and the SETTINGS after it', () => {
    const settings = [0, 0, 18, 4, 0, ...be32(0), ...be16(3), ...be32(100), ...be16(4), ...be32(10485760), ...be16(2), ...be32(0)];
    const windowUpdate = [0, 0, 4, 8, 0, ...be32(0), ...be32(10420225)];
    const m = parseHttp2Preface(bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', settings, windowUpdate))!;
    expect(m.frames).toEqual([
      { type: 'SETTINGS', length: 18, flags: 0, streamId: 0, settings: { MAX_CONCURRENT_STREAMS: 100, INITIAL_WINDOW_SIZE: 10485760, ENABLE_PUSH: 0 } },
      { type: 'WINDOW_UPDATE', length: 4, flags: 0, streamId: 0 },
    ]);
    expect(parseHttp2Preface(bytes('PRI * HTTP/2.0\r\n'))).toBeNull();
  });
});

describe('protobuf', () => {
  // message Beacon { string host = 1; int32 seq = 2; bytes token = 3; Inner inner = 4; fixed32 crc = 5; double t = 6; }
  const handEncoded = bytes(
    0x0a, 0x08, 'web-7d9f',
    0x10, 0x96, 0x01,
    0x1a, 0x08, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03,
    0x22, 0x02, 0x08, 0x01,
    0x2d, 0x78, 0x56, 0x34, 0x12,
    0x31, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
  );

  it('encodes by hand exactly as the protobuf runtime does', () => {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).string('web-7d9f');
    w.tag(2, WireType.Varint).int32(150);
    w.tag(3, WireType.LengthDelimited).bytes(fromHex('deadbeef00010203'));
    w.tag(4, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(1).join();
    w.tag(5, WireType.Bit32).fixed32(0x12345678);
    w.tag(6, WireType.Bit64).double(1);
    expect(Array.from(w.finish())).toEqual(Array.from(handEncoded));
  });

  it('parses a whole message, field by field', () => {
    const pb = parseProtobuf(handEncoded)!;
    expect(pb.truncated).toBe(false);
    expect(pb.fields).toEqual([
      { number: 1, wire: 'len', length: 8, text: 'web-7d9f' },
      { number: 2, wire: 'varint', value: '150' },
      { number: 3, wire: 'len', length: 8, text: undefined, nested: false },
      { number: 4, wire: 'len', length: 2, text: undefined, nested: true },
      { number: 5, wire: 'i32' },
      { number: 6, wire: 'i64' },
    ]);
    expect(describeProtobufFields(pb.fields)).toBe('field 1 (string "web-7d9f"), field 2 (varint 150), field 3 (bytes, 8 bytes), field 4 (message, 2 bytes), …');
  });

  it('accepts a message cut by the capture only within its declared size', () => {
    expect(parseProtobuf(handEncoded.subarray(0, 14), handEncoded.length)).toMatchObject({ truncated: true });
    expect(parseProtobuf(handEncoded.subarray(0, 14))).toBeNull();
    expect(parseProtobuf(bytes(0x0a, 0x50, 'abc'), 20)).toBeNull(); // field longer than the whole message
  });

  it('accepts balanced groups and refuses invalid wire data', () => {
    expect(parseProtobuf(bytes(0x0b, 0x08, 0x01, 0x0c))?.fields).toEqual([{ number: 1, wire: 'group' }, { number: 1, wire: 'varint', value: '1' }]);
    expect(parseProtobuf(bytes(0x0c))).toBeNull(); // end group without start
    expect(parseProtobuf(bytes(0x00, 0x00, 0x00, 0x3c))).toBeNull(); // field 0
    expect(parseProtobuf(bytes(0x0e, 0x01))).toBeNull(); // wire type 6
    expect(parseProtobuf(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x08))).toBeNull(); // field number beyond 2^16
    expect(parseProtobuf(bytes(0x08, ...Array(11).fill(0xff)))).toBeNull(); // varint longer than 10 bytes
    expect(parseProtobuf(bytes())).toBeNull();
  });
});

describe('gob', () => {
  it('parses the exact bytes Go writes for Point{22, 33} (encoding/gob doc example)', () => {
    const point = fixture('go-gob-point.bin');
    expect(Array.from(point.subarray(0, 8))).toEqual([0x1f, 0xff, 0x81, 0x03, 0x01, 0x01, 0x05, 0x50]);
    const gob = parseGob(point)!;
    expect(gob.truncated).toBe(false);
    expect(gob.messages.map((m) => [m.length, m.typeId])).toEqual([[31, -65], [7, 65]]);
    expect(gob.messages[0]!.definition).toEqual({
      typeId: 65, kind: 'struct', name: 'Point', truncated: false,
      fields: [{ name: 'X', typeId: 2 }, { name: 'Y', typeId: 2 }],
    });
    expect(describeGobDefinition(gob.messages[0]!.definition!)).toBe('struct Point {X int, Y int} (type id 65)');
  });

  it('parses a stream Go wrote for a struct with string, int and []byte fields', () => {
    // From: gob.NewEncoder(w).Encode(Beacon{"web-7d9f", 1, []byte("eyJhbGciOiJSUzI1NiJ9")}), twice (type id 66).
    const stream = fromHex(
      '2fff8303010106426561636f6e01ff840001030104486f7374010c0001035365710104000105546f6b656e010a000000' +
        '25ff8401087765622d376439660102011465794a68624763694f694a53557a49314e694a3900' +
        '25ff8401087765622d376439660104011465794a68624763694f694a53557a49314e694a3900',
    );
    const gob = parseGob(stream)!;
    expect(gob.messages.map((m) => m.typeId)).toEqual([-66, 66, 66]);
    expect(describeGobDefinition(gob.messages[0]!.definition!)).toBe('struct Beacon {Host string, Seq int, Token []byte} (type id 66)');
    // A value message alone is gob only once its type was defined in the flow.
    const value = stream.subarray(48, 48 + 38);
    expect(parseGob(value)).toBeNull();
    expect(parseGob(value, value.length, new Set([66]))?.messages).toEqual([{ length: 37, typeId: 66 }]);
    // A definition cut by the capture still counts.
    expect(parseGob(stream.subarray(0, 20), stream.length)).toMatchObject({ truncated: true, messages: [{ typeId: -66, definition: { name: 'Beacon', kind: 'struct', truncated: true } }] });
  });

  it('refuses look-alikes', () => {
    expect(parseGob(bytes(0x05, 0x03, 0x01, 0x02, 0x03, 0x04))).toBeNull(); // built-in type id -2
    expect(parseGob(bytes(0x1f, 0xff, 0x81, 0x03))).toBeNull(); // length beyond the message
    expect(parseGob(bytes(0x00, 0x00, 0x00, 0x3c))).toBeNull();
    expect(parseGob(bytes())).toBeNull();
  });
});

describe('msgpack', () => {
  it('parses a map whole, with its keys', () => {
    const m = bytes(0x83, 0xa4, 'host', 0xa8, 'web-7d9f', 0xa3, 'seq', 0x07, 0xa2, 'ok', 0xc3);
    expect(parseMsgpack(m)).toEqual({ top: 'map', count: 3, keys: ['host', 'seq', 'ok'], truncated: false });
    expect(parseMsgpack(bytes(0x93, 0x01, 0xa1, 'a', 0xc0))).toEqual({ top: 'array', count: 3, keys: [], truncated: false });
    expect(parseMsgpack(bytes(0xde, 0x00, 0x01, 0xcd, 0x01, 0x00, 0xcb, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f))).toMatchObject({ top: 'map', count: 1 });
  });

  it('accepts a prefix of a longer message, and nothing inconsistent', () => {
    const m = bytes(0x82, 0xa4, 'data', 0xc5, 0x01, 0x00, ...Array(10).fill(7));
    expect(parseMsgpack(m, 300)).toEqual({ top: 'map', count: 2, keys: ['data'], truncated: true });
    expect(parseMsgpack(m)).toBeNull(); // the bin announces 256 bytes the message does not have
    expect(parseMsgpack(bytes(0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0x00))).toBeNull(); // a byte left over
    expect(parseMsgpack(bytes(0x81, 0xc1, 0x01))).toBeNull(); // 0xc1 is never used
    expect(parseMsgpack(bytes(0x81, 0x93, 1, 2, 3, 0x01))).toBeNull(); // an array as a map key
    expect(parseMsgpack(bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2))).toBeNull(); // 4 billion elements in 6 bytes
    expect(parseMsgpack(bytes(0x90))).toBeNull(); // empty: too weak
    expect(parseMsgpack(bytes('{"a":1}'))).toBeNull();
  });
});

describe('JSON', () => {
  it('tells complete, cut and invalid apart', () => {
    expect(scanJson('{"kind":"Pod","spec":{"x":[1,2.5e3,true,null]}}')).toEqual({ status: 'complete', top: 'object', keys: ['kind', 'spec'], values: 1 });
    expect(scanJson('[{"a":1}]\n')).toMatchObject({ status: 'complete', top: 'array' });
    expect(scanJson('{"a":1}\n{"a":2}\n')).toMatchObject({ status: 'complete', values: 2 });
    expect(scanJson('{"items":[{"name":"web-7d9f","tok')).toMatchObject({ status: 'incomplete', keys: ['items'] });
    expect(scanJson('{"n": 12')).toMatchObject({ status: 'incomplete' });
    expect(scanJson('{"a":tru')).toMatchObject({ status: 'incomplete' });
    expect(scanJson('{"a":1,}')).toMatchObject({ status: 'invalid' });
    expect(scanJson('{a:1}')).toMatchObject({ status: 'invalid' });
    expect(scanJson('{"a":01}')).toMatchObject({ status: 'invalid' });
    expect(scanJson('42')).toMatchObject({ status: 'invalid' });
    expect(scanJson('')).toMatchObject({ status: 'invalid' });
    expect(scanJson('{"a":"\\x"}')).toMatchObject({ status: 'invalid' });
    expect(scanJson(`${'['.repeat(100)}`)).toMatchObject({ status: 'invalid' }); // nesting limit
  });
});

describe('entropy', () => {
  it('computes Shannon entropy and the expectation for random bytes', () => {
    expect(shannonEntropy(bytes('aaaa'))).toBe(0);
    expect(shannonEntropy(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(8);
    expect(expectedRandomEntropy(64)).toBeCloseTo(5.766, 3);
    expect(expectedRandomEntropy(256)).toBeCloseTo(7.175, 3);
    expect(expectedRandomEntropy(1024)).toBeCloseTo(7.809, 3);
    expect(highEntropyThreshold(256)).toBeCloseTo(6.675, 3);
    expect(highEntropyThreshold(4096)).toBe(7.2);
  });

  it('calls random bytes high at every length from 64 bytes, and text or code not', () => {
    for (const n of [64, 100, 256, 1024]) expect(measureEntropy(randomBytes(n, n)).high).toBe(true);
    expect(measureEntropy(randomBytes(63, 1)).high).toBeNull();
    const base64 = bytes(Buffer.from(randomBytes(192, 3)).toString('base64'));
    expect(measureEntropy(base64).high).toBe(false);
    expect(measureEntropy(bytes('The quick brown fox jumps over the lazy dog. '.repeat(6))).high).toBe(false);
  });
});

describe('text', () => {
  it('measures printable text and names known text protocols', () => {
    expect(measureText(bytes('hello\r\n'))).toEqual({ ratio: 1, text: 'hello\r\n', pureAscii: true });
    expect(measureText(bytes('héllo')).pureAscii).toBe(false);
    expect(measureText(bytes('a', 0, 'b')).text).toBeNull();
    expect(textHint('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n')).toBe('Redis RESP command SET (3 arguments)');
    expect(textHint('+OK\r\n')).toBe('Redis RESP reply');
    expect(textHint('-----BEGIN RSA PRIVATE KEY-----\nMII')).toBe('PEM rsa private key');
    expect(textHint('EHLO mail.example\r\n')).toBe('a mail or login protocol command line');
    expect(textHint('aGVsbG8gd29ybGQsIHRoaXMgaXMgYSBiYXNlNjQgYmxvYg==')).toBe('a base64 blob');
    expect(textHint('just words')).toBeUndefined();
  });
});

describe('credentials', () => {
  const header = Buffer.from('{"alg":"RS256","kid":"Xq3sZ0aKd-2_rL"}').toString('base64url');
  const claims = Buffer.from('{"aud":["https://kubernetes.default.svc"],"iss":"https://kubernetes.default.svc.cluster.local","sub":"system:serviceaccount:shop:web"}').toString('base64url');

  it('finds a service-account JWT and describes it without its secret part', () => {
    const found = findCredentials(bytes('Authorization: Bearer ', header, '.', claims, '.c2lnbmF0dXJl'));
    expect(found).toEqual([
      {
        kind: 'jwt', offset: 22,
        jwt: { alg: 'RS256', kid: 'Xq3sZ0aKd-2_rL', typ: undefined, issuer: 'https://kubernetes.default.svc.cluster.local', subject: 'system:serviceaccount:shop:web', kubernetesServiceAccount: true },
        description: 'Kubernetes service-account JWT (alg RS256, kid Xq3sZ0aKd-2_…; iss https://kubernetes.default.svc.cluster.local, sub system:serviceaccount:shop:web)',
      },
    ]);
  });

  it('still names a JWT whose claims were cut by the capture', () => {
    const [hint] = findCredentials(bytes(0, 0, 0, 0x3c, 0x01, header, '.', claims.slice(0, 30)));
    expect(hint?.description).toBe('JWT (alg RS256, kid Xq3sZ0aKd-2_…)');
  });

  it('finds private keys and AWS key ids, and ignores look-alikes', () => {
    expect(findCredentials(bytes('x-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl')).map((c) => c.description)).toEqual(['PEM openssh private key block']);
    expect(findCredentials(bytes('key=AKIAIOSFODNN7EXAMPLE;')).map((c) => c.description)).toEqual(['AWS access key id AKIAIOSFODNN7EXAMPLE']);
    expect(findCredentials(bytes('eyJub3RhIjoiam9zZSJ9.eyJ4Ijox'))).toEqual([]); // decodes, but not a JOSE header
    expect(findCredentials(bytes('-----BEGIN CERTIFICATE-----'))).toEqual([]);
  });

  it('decodes base64url and plain base64', () => {
    expect(Buffer.from(decodeBase64Url('aGk_-w')).toString('hex')).toBe('68693ffb');
    expect(Buffer.from(decodeBase64Url('aGk/+w==')).toString('hex')).toBe('68693ffb');
  });
});

describe('length-prefixed framing', () => {
  const body = (n: number, seed: number) => randomBytes(n, seed);

  it('matches the reference attack frame: 4-byte big-endian length of the rest', () => {
    const messages = [1, 2, 3, 4, 5].map((s) => ({ prefix: bytes(be32(60), body(60, s)), size: 64 }));
    const v = detectFraming(messages)!;
    expect(v.variant.id).toBe('u32be_rest');
    expect(v.reason).toBe('4-byte big-endian length 0x0000003c = 60 matches the remaining 60 bytes in 5 of 5 messages');
  });

  it('checks lengths against the send size, not the captured prefix', () => {
    const long = bytes(be32(1020), body(252, 9));
    expect(matchFraming(FRAMING_VARIANTS[0]!, long, 1024)).toEqual({ variant: FRAMING_VARIANTS[0], length: 1020, frames: 1 });
    expect(matchFraming(FRAMING_VARIANTS[0]!, long, 256)).toBeNull();
  });

  it('follows several frames in one send', () => {
    const two = bytes(be16(3), 'abc', be16(2), 'de');
    expect(matchFraming(FRAMING_VARIANTS.find((v) => v.id === 'u16be_rest')!, two, two.length)).toMatchObject({ frames: 2, length: 3 });
  });

  it('says how many messages agree, with varying lengths', () => {
    const messages = [20, 31, 47, 52].map((n, i) => ({ prefix: bytes(n & 0xff, n >> 8, body(n, i)), size: n + 2 }));
    messages.push({ prefix: bytes(0x41, 0x41, body(10, 99)), size: 12 });
    const v = detectFraming(messages)!;
    expect(v.variant.id).toBe('u16le_rest');
    expect(v.reason).toBe('2-byte little-endian length matches the message\'s size in 4 of 5 messages (e.g. 0x0014 = 20: the remaining 20 bytes)');
    messages.push({ prefix: bytes(0x42, 0x42, body(10, 98)), size: 12 });
    expect(detectFraming(messages)).toBeNull(); // 4 of 6 is not enough
  });

  it('names database protocols with such framing', () => {
    const mongo = bytes(le32(30), le32(7), le32(0), le32(2013), le32(0), 0, 'ping!', 0);
    expect(detectFraming([{ prefix: mongo, size: 30 }])?.protocolHint).toBe('MongoDB wire protocol (OP_MSG)');
    const pgStartup = bytes(be32(23), be32(0x00030000), 'user', 0, 'app', 0, 'x', 0, 0);
    expect(detectFraming([{ prefix: pgStartup, size: 23 }])?.protocolHint).toBe('PostgreSQL StartupMessage (protocol 3.0)');
    const pgQuery = bytes('Q', be32(13), 'select 1;', 0);
    expect(detectFraming([{ prefix: pgQuery, size: 14 }])).toMatchObject({ protocolHint: "PostgreSQL-style message (type 'Q')", reason: "1-byte type then 4-byte big-endian length (counting itself) 0x0000000d = 13 matches its own 4 bytes and the remaining 9 in 1 of 1 message" });
    const kafka = bytes(be32(21), be16(18), be16(3), be32(1), be16(7), 'cli-app', 0, 0, 0, 0);
    expect(detectFraming([{ prefix: kafka, size: 25 }])?.protocolHint).toBe('consistent with a Kafka request (api key 18 ApiVersions, version 3)');
    const mysqlReply = bytes(5, 0, 0, 1, 0x00, 0, 0, 2, 0);
    expect(detectFraming([{ prefix: mysqlReply, size: 9 }])?.protocolHint).toBe('MySQL packet shape');
    const mysqlQuery = bytes(9, 0, 0, 0, 0x03, 'select 1');
    expect(detectFraming([{ prefix: mysqlQuery, size: 13 }])?.protocolHint).toBe('possibly a MySQL packet (sequence 0, COM_QUERY)');
  });

  it('finds nothing in text or random bytes', () => {
    expect(detectFraming([{ prefix: bytes('GET / HTTP/1.1\r\n\r\n'), size: 18 }])).toBeNull();
    expect(detectFraming([1, 2, 3].map((s) => ({ prefix: body(100, s), size: 100 })))).toBeNull();
  });
});
