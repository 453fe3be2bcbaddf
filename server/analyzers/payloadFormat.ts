/**
 * Payload format: what the first captured bytes of a flow's messages are, with the reason and
 * the fields parsed.
 *
 * Each message (a send's captured prefix, with the send's full size when known) is tried
 * against the formats from the most to the least specific; the first that holds wins:
 *   empty -> TLS (ClientHello parsed, with JA4; other records) -> HTTP/2 (preface, or frames
 *   once the flow sent the preface) -> HTTP/1.x request/response -> JSON -> Go gob -> plain
 *   ASCII text -> MessagePack -> protobuf -> UTF-8 text -> high entropy -> binary.
 * Plain ASCII comes before MessagePack and protobuf because short text can happen to parse as
 * protobuf ("hi" is field 13 = 105), while real protobuf almost always has a non-printable key
 * or length byte.
 *
 * The flow verdict then looks across messages: a TLS ClientHello or an HTTP/2 preface names
 * the flow; otherwise a length prefix that holds in at least 80 % of the messages that are not
 * a stronger format makes it `length_prefixed` (with the bodies classified in turn: text, JSON,
 * high entropy...); otherwise the format most messages agree on. Credentials seen in any message
 * (a JWT, a PEM private key, an AWS key id) are reported whatever the format.
 *
 * Limits: only the captured prefix (at most 256 bytes by default) is read, so long TLS
 * ClientHellos get a partial JA4 (see payload/tls.ts); formats inside TLS are out of reach;
 * messages split or coalesced by the application's writes are taken as the sends the sensor
 * saw; QUIC is not parsed (its ClientHello is encrypted in the Initial packet).
 */
import { concatBytes, hex } from './payload/bytes';
import { findCredentials, type CredentialHint } from './payload/credentials';
import { measureEntropy, MIN_ENTROPY_SAMPLE, expectedRandomEntropy } from './payload/entropy';
import { detectFraming, matchFraming, type FramingVariant } from './payload/framing';
import { describeGobDefinition, parseGob, type GobMessage, type GobTypeDefinition } from './payload/gob';
import {
  parseHttp2Frames,
  parseHttp2Preface,
  parseHttpRequest,
  parseHttpResponse,
  type Http2Message,
  type HttpRequest,
  type HttpResponse,
} from './payload/http';
import { ja4, ja4CipherHash, isGrease, type Ja4 } from './payload/ja4';
import { scanJson } from './payload/json';
import { parseMsgpack, type MsgpackSummary } from './payload/msgpack';
import { describeProtobufFields, parseProtobuf, type ProtobufField } from './payload/protobuf';
import { isText, measureText, textHint } from './payload/text';
import { parseClientHello, parseTlsRecordHeader, versionName, type ClientHello, type TlsRecordHeader } from './payload/tls';
import { round } from './stats';
import { plural } from './time';

export type PayloadFormat =
  | 'empty'
  | 'tls_client_hello'
  | 'tls_record'
  | 'http2'
  | 'http1_request'
  | 'http1_response'
  | 'json'
  | 'gob'
  | 'msgpack'
  | 'protobuf'
  | 'length_prefixed'
  | 'text'
  | 'high_entropy'
  | 'binary';

/** One captured message: the prefix, and the send's full size when known. */
export interface PayloadSample {
  prefix: Uint8Array;
  /** the message's full length in bytes (the send's byte count); defaults to the prefix length */
  size?: number;
}

export interface TlsClientHelloFields {
  /** the negotiated-at-most version: highest supported_versions entry, else legacy_version */
  version: string;
  sni?: string;
  alpn: string[];
  /** hex, wire order, GREASE left out */
  cipherSuites: string[];
  extensions: string[];
  signatureAlgorithms: string[];
  supportedGroups: string[];
  ja4: Ja4 | null;
  /** JA4_b alone, available when the cipher list was captured whole */
  ja4CipherHash: string | null;
  complete: boolean;
  missing?: string;
  /** extensions JA4 reads whose data lies past the captured bytes */
  notCaptured: string[];
  /** the ClientHello's declared length (handshake message + 4-byte header) */
  helloBytes: number;
}

export interface EntropyFields {
  bitsPerByte: number;
  bytes: number;
  /** what uniformly random bytes of that length would show */
  randomBitsPerByte: number;
  threshold: number;
}

export interface LengthPrefixedFields {
  variant: string;
  label: string;
  length: number;
  frames: number;
  protocolHint?: string;
  body: MessageVerdict;
}

interface VerdictBase {
  reason: string;
  /** the message is longer than what was captured */
  truncated: boolean;
  credentials: CredentialHint[];
}

export type MessageVerdict = VerdictBase &
  (
    | { format: 'empty'; fields: Record<string, never> }
    | { format: 'tls_client_hello'; fields: TlsClientHelloFields }
    | { format: 'tls_record'; fields: TlsRecordHeader }
    | { format: 'http2'; fields: Http2Message }
    | { format: 'http1_request'; fields: HttpRequest }
    | { format: 'http1_response'; fields: HttpResponse }
    | { format: 'json'; fields: { top: 'object' | 'array'; keys: string[]; values: number; complete: boolean } }
    | { format: 'gob'; fields: { messages: GobMessage[]; definitions: string[] } }
    | { format: 'msgpack'; fields: MsgpackSummary }
    | { format: 'protobuf'; fields: { fields: ProtobufField[] } }
    | { format: 'length_prefixed'; fields: LengthPrefixedFields }
    | { format: 'text'; fields: { printableRatio: number; hint?: string; start: string } }
    | { format: 'high_entropy'; fields: EntropyFields }
    | { format: 'binary'; fields: EntropyFields & { firstBytes: string } }
  );

export interface FlowVerdict {
  format: PayloadFormat;
  reason: string;
  /** messages classified (all samples) */
  messages: number;
  /** messages that support `format` */
  agreeing: number;
  /** the message verdict that stands for the flow (the ClientHello, the first framed message...) */
  primary: MessageVerdict | null;
  perMessage: MessageVerdict[];
  /** credentials seen in any message, with the message's index */
  credentials: Array<CredentialHint & { message: number }>;
}

/** What earlier messages of the flow established. */
interface FlowContext {
  http2: boolean;
  tls: boolean;
  gobTypes: Map<number, GobTypeDefinition>;
}

function newContext(): FlowContext {
  return { http2: false, tls: false, gobTypes: new Map() };
}

type Detector = (b: Uint8Array, size: number, ctx: FlowContext) => Omit<MessageVerdict, 'credentials'> | null;

function hexList(values: readonly number[] | undefined): string[] {
  return (values ?? []).filter((v) => !isGrease(v)).map((v) => v.toString(16).padStart(4, '0'));
}

function alpnText(alpn: readonly Uint8Array[] | undefined): string[] {
  return (alpn ?? []).map((p) => Array.from(p, (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?')).join(''));
}

/** Whether an extension's data was read, is absent, or lies past the captured bytes. */
function extensionState(hello: ClientHello, type: number, value: unknown): 'read' | 'absent' | 'not_captured' {
  if (value !== undefined) return 'read';
  return hello.complete && !hello.extensions.some((e) => e.type === type) ? 'absent' : 'not_captured';
}

function helloFields(hello: ClientHello): TlsClientHelloFields {
  const supported = (hello.supportedVersions ?? []).filter((v) => !isGrease(v));
  const states: Array<[string, 'read' | 'absent' | 'not_captured']> = [
    ['SNI', extensionState(hello, 0x0000, hello.sni)],
    ['ALPN', extensionState(hello, 0x0010, hello.alpn)],
    ['supported_versions', extensionState(hello, 0x002b, hello.supportedVersions)],
    ['signature_algorithms', extensionState(hello, 0x000d, hello.signatureAlgorithms)],
  ];
  const notCaptured = states.filter(([, st]) => st === 'not_captured').map(([name]) => name);
  const legacy = versionName(hello.legacyVersion);
  return {
    version: supported.length > 0 ? versionName(Math.max(...supported)) : notCaptured.includes('supported_versions') ? `${legacy} (legacy_version; supported_versions not captured)` : legacy,
    sni: hello.sni,
    alpn: alpnText(hello.alpn),
    cipherSuites: hexList(hello.cipherSuites),
    extensions: hexList(hello.extensions.map((e) => e.type)),
    signatureAlgorithms: hexList(hello.signatureAlgorithms),
    supportedGroups: hexList(hello.supportedGroups),
    ja4: ja4(hello),
    ja4CipherHash: ja4CipherHash(hello),
    complete: hello.complete,
    missing: hello.missing,
    notCaptured,
    helloBytes: hello.declaredLength + 4,
  };
}

function helloReason(f: TlsClientHelloFields, captured: number): string {
  const sni = f.sni ? `SNI ${f.sni}` : f.notCaptured.includes('SNI') ? 'SNI not captured' : 'no SNI';
  const alpn = f.alpn.length > 0 ? `ALPN ${f.alpn.join(',')}` : f.notCaptured.includes('ALPN') ? 'ALPN not captured' : 'no ALPN';
  const what = [f.version, sni, alpn, plural(f.cipherSuites.length, 'cipher suite'), `${f.extensions.length}${f.complete ? '' : '+'} extensions`].join(', ');
  const total = f.helloBytes + 5;
  if (f.ja4) {
    const cut = captured < total ? ` (${captured} of ${total} bytes captured; the rest holds nothing JA4 reads)` : '';
    return `TLS ClientHello (${what}); JA4 ${f.ja4.ja4}${cut}`;
  }
  const partial = f.ja4CipherHash ? `; JA4_b ${f.ja4CipherHash} from the complete cipher list` : '';
  return `TLS ClientHello (${what}) cut at ${captured} of ${total} bytes: ${f.missing ?? 'the rest'} missing, so no full JA4${partial}`;
}

const detectTls: Detector = (b, size) => {
  const record = parseTlsRecordHeader(b);
  if (!record) return null;
  const hello = record.handshakeType === 'client_hello' ? parseClientHello(b) : null;
  if (hello) {
    const fields = helloFields(hello);
    return { format: 'tls_client_hello', fields, truncated: size > b.length, reason: helloReason(fields, b.length) };
  }
  if (record.length + 5 > size) return null; // a record longer than the send: not a record start
  const kind = record.handshakeType ? `${record.contentTypeName} (${record.handshakeType})` : record.contentTypeName;
  return {
    format: 'tls_record', fields: record, truncated: size > b.length,
    reason: `TLS ${kind} record (${versionName(record.version)} record layer, ${plural(record.length, 'byte')})`,
  };
};

function describeFrames(m: Http2Message): string {
  return m.frames
    .slice(0, 4)
    .map((f) => (f.settings ? `${f.type} (${Object.entries(f.settings).map(([k, v]) => `${k}=${v}`).join(', ')})` : f.type))
    .join(', ');
}

const detectHttp2: Detector = (b, size, ctx) => {
  const preface = parseHttp2Preface(b);
  if (preface) {
    const frames = preface.frames.length > 0 ? `, then ${describeFrames(preface)}` : '';
    return { format: 'http2', fields: preface, truncated: size > b.length, reason: `HTTP/2 connection preface${frames}` };
  }
  if (!ctx.http2) return null;
  const frames = parseHttp2Frames(b);
  if (!frames) return null;
  const message = { preface: false, frames };
  return { format: 'http2', fields: message, truncated: size > b.length, reason: `HTTP/2 frames: ${describeFrames(message)}` };
};

function headerNotes(h: HttpRequest['headers']): string {
  const notes = [
    ...(h.host ? [`Host ${h.host}`] : []),
    ...(h.userAgent ? [`User-Agent ${h.userAgent}`] : []),
    ...(h.contentType ? [`Content-Type ${h.contentType}`] : []),
    ...(h.authorization ? [`Authorization ${h.authorization} …`] : []),
  ];
  return notes.length > 0 ? ` (${notes.join(', ')})` : '';
}

const detectHttp1: Detector = (b, size) => {
  const truncated = size > b.length;
  const request = parseHttpRequest(b, truncated);
  if (request) {
    const target = request.target.length > 80 ? `${request.target.slice(0, 80)}…` : request.target;
    return {
      format: 'http1_request', fields: request, truncated: request.truncated,
      reason: `HTTP/${request.version} request ${request.method} ${target}${headerNotes(request.headers)}`,
    };
  }
  const response = parseHttpResponse(b, truncated);
  if (!response) return null;
  return {
    format: 'http1_response', fields: response, truncated: response.truncated,
    reason: `HTTP/${response.version} response ${response.status}${response.reasonPhrase ? ` ${response.reasonPhrase}` : ''}${response.headers.server ? ` (Server ${response.headers.server})` : ''}`,
  };
};

const detectJson: Detector = (b, size) => {
  const m = measureText(b);
  if (m.text === null) return null;
  const scan = scanJson(m.text);
  if (scan.status === 'invalid' || !scan.top) return null;
  const complete = scan.status === 'complete';
  if (!complete && size <= b.length) return null; // incomplete although the whole message was captured
  const keys = scan.keys.length > 0 ? ` with keys ${scan.keys.join(', ')}` : '';
  const values = scan.values > 1 ? ` (${scan.values} values, JSON lines)` : '';
  return {
    format: 'json', fields: { top: scan.top, keys: scan.keys, values: scan.values, complete }, truncated: !complete,
    reason: `JSON ${scan.top}${keys}${values}${complete ? '' : ', valid up to where the capture ends'}`,
  };
};

const detectGob: Detector = (b, size, ctx) => {
  const gob = parseGob(b, size, new Set(ctx.gobTypes.keys()));
  if (!gob) return null;
  const defs = new Map(ctx.gobTypes);
  for (const m of gob.messages) if (m.definition) defs.set(m.definition.typeId, m.definition);
  const definitions = gob.messages.filter((m) => m.definition).map((m) => describeGobDefinition(m.definition!, defs));
  const values = gob.messages.filter((m) => !m.definition);
  const parts = [
    ...(definitions.length > 0 ? [`type definition ${definitions.join('; ')}`] : []),
    ...(values.length > 0 ? [`${plural(values.length, 'value message')} of type ${[...new Set(values.map((v) => v.typeId))].join(', ')}`] : []),
  ];
  return { format: 'gob', fields: { messages: gob.messages, definitions }, truncated: gob.truncated, reason: `Go gob stream: ${parts.join(', then ')}` };
};

const detectAsciiText: Detector = (b, size) => {
  const m = measureText(b);
  if (!m.pureAscii || m.text === null) return null;
  return textVerdict(m.text, 1, size > b.length);
};

function textVerdict(text: string, ratio: number, truncated: boolean): Omit<MessageVerdict, 'credentials'> {
  const hint = textHint(text);
  const start = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return {
    format: 'text', fields: { printableRatio: round(ratio, 3), hint, start }, truncated,
    reason: `plain text (${round(ratio * 100, 1)} % printable)${hint ? `: ${hint}` : ''}`,
  };
}

const detectMsgpack: Detector = (b, size) => {
  const mp = parseMsgpack(b, size);
  if (!mp) return null;
  const keys = mp.keys.length > 0 ? ` (keys ${mp.keys.join(', ')})` : '';
  return {
    format: 'msgpack', fields: mp, truncated: mp.truncated,
    reason: `MessagePack ${mp.top} of ${plural(mp.count, 'entry', 'entries')}${keys}${mp.truncated ? ', valid up to where the capture ends' : ', parsed whole'}`,
  };
};

const detectProtobuf: Detector = (b, size) => {
  const pb = parseProtobuf(b, size);
  if (!pb || pb.fields.length === 0) return null;
  return {
    format: 'protobuf', fields: { fields: pb.fields }, truncated: pb.truncated,
    reason: `protobuf wire format${pb.truncated ? ', valid up to where the capture ends' : ' that parses whole'}: ${describeProtobufFields(pb.fields)}`,
  };
};

const detectUtf8Text: Detector = (b, size) => {
  const m = measureText(b);
  return isText(m) ? textVerdict(m.text!, m.ratio, size > b.length) : null;
};

function entropyFields(b: Uint8Array): EntropyFields {
  const e = measureEntropy(b);
  return { bitsPerByte: round(e.bitsPerByte, 2), bytes: e.bytes, randomBitsPerByte: round(expectedRandomEntropy(e.bytes), 2), threshold: round(e.threshold, 2) };
}

function entropyVerdict(b: Uint8Array, truncated: boolean): Omit<MessageVerdict, 'credentials'> {
  const f = entropyFields(b);
  if (f.bytes >= MIN_ENTROPY_SAMPLE && f.bitsPerByte >= f.threshold) {
    return {
      format: 'high_entropy', fields: f, truncated,
      reason:
        `high entropy: ${f.bitsPerByte} bits/byte over ${plural(f.bytes, 'byte')} ` +
        `(random bytes of that length show ${f.randomBitsPerByte}; threshold ${f.threshold}): likely encrypted or compressed`,
    };
  }
  const short = f.bytes < MIN_ENTROPY_SAMPLE ? `, too short to judge entropy (under ${MIN_ENTROPY_SAMPLE} bytes)` : '';
  return {
    format: 'binary', fields: { ...f, firstBytes: hex(b, 16) }, truncated,
    reason: `unrecognised binary: ${f.bitsPerByte} bits/byte over ${plural(f.bytes, 'byte')}${short}, starts ${hex(b, 8)}`,
  };
}

const DETECTORS: readonly Detector[] = [detectTls, detectHttp2, detectHttp1, detectJson, detectGob, detectAsciiText, detectMsgpack, detectProtobuf, detectUtf8Text];

function classifyWith(b: Uint8Array, size: number, ctx: FlowContext): MessageVerdict {
  const credentials = findCredentials(b);
  if (b.length === 0) return { format: 'empty', fields: {}, truncated: size > 0, credentials, reason: 'no payload bytes captured' };
  for (const detect of DETECTORS) {
    const v = detect(b, size, ctx);
    if (v) return { ...v, credentials } as MessageVerdict;
  }
  return { ...entropyVerdict(b, size > b.length), credentials } as MessageVerdict;
}

function remember(v: MessageVerdict, ctx: FlowContext): void {
  if (v.format === 'http2' && v.fields.preface) ctx.http2 = true;
  if (v.format === 'tls_client_hello' || v.format === 'tls_record') ctx.tls = true;
  if (v.format === 'gob') for (const m of v.fields.messages) if (m.definition) ctx.gobTypes.set(m.definition.typeId, m.definition);
}

/** Classifies one message on its own (no flow context). */
export function classifyMessage(sample: PayloadSample): MessageVerdict {
  return classifyWith(sample.prefix, sample.size ?? sample.prefix.length, newContext());
}

/** Formats that name a flow by themselves; framing is looked for only among the others. */
const STRONG: ReadonlySet<PayloadFormat> = new Set(['tls_client_hello', 'tls_record', 'http2', 'http1_request', 'http1_response', 'json', 'gob']);

/** Ties between equally frequent formats go to the more specific. */
const PRECEDENCE: readonly PayloadFormat[] = [
  'tls_client_hello', 'http2', 'http1_request', 'http1_response', 'tls_record', 'json', 'gob', 'length_prefixed',
  'msgpack', 'protobuf', 'text', 'high_entropy', 'binary', 'empty',
];

function framedVerdict(sample: Required<PayloadSample>, original: MessageVerdict, v: FramingVariant, hint: string | undefined): MessageVerdict {
  const match = matchFraming(v, sample.prefix, sample.size)!;
  const body = classifyMessage({ prefix: sample.prefix.subarray(v.headerBytes), size: Math.max(0, v.frameSize(match.length) - v.headerBytes) });
  return {
    format: 'length_prefixed',
    fields: { variant: v.id, label: v.label, length: match.length, frames: match.frames, protocolHint: hint, body },
    truncated: sample.size > sample.prefix.length,
    credentials: original.credentials,
    reason: `${v.label} ${match.length}; body: ${body.reason}`,
  };
}

/** The body format most framed messages share; entropy judged on all bodies together. */
function bodySummary(framed: readonly MessageVerdict[], bodies: readonly Uint8Array[]): string {
  const formats = framed.map((m) => (m.format === 'length_prefixed' ? m.fields.body : m));
  const top = mostCommon(formats.map((f) => f.format));
  if (top === 'binary' || top === 'high_entropy') {
    const pooled = concatBytes(bodies).subarray(0, 4096);
    return entropyVerdict(pooled, false).reason;
  }
  return formats.find((f) => f.format === top)!.reason;
}

function mostCommon(formats: readonly PayloadFormat[]): PayloadFormat {
  const counts = new Map<PayloadFormat, number>();
  for (const f of formats) counts.set(f, (counts.get(f) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || PRECEDENCE.indexOf(a[0]) - PRECEDENCE.indexOf(b[0]))[0]![0];
}

function withCredentials(perMessage: readonly MessageVerdict[]): FlowVerdict['credentials'] {
  return perMessage.flatMap((m, i) => m.credentials.map((c) => ({ ...c, message: i })));
}

/**
 * Classifies the messages of one flow (the sends of one connection, or of one destination, in
 * time order).
 */
export function classifyFlow(samples: readonly PayloadSample[]): FlowVerdict {
  const sized = samples.map((s) => ({ prefix: s.prefix, size: Math.max(s.size ?? s.prefix.length, s.prefix.length) }));
  const ctx = newContext();
  const perMessage = sized.map((s) => {
    const v = classifyWith(s.prefix, s.size, ctx);
    remember(v, ctx);
    return v;
  });
  const credentials = withCredentials(perMessage);
  const n = perMessage.length;
  if (n === 0) return { format: 'empty', reason: 'no messages captured', messages: 0, agreeing: 0, primary: null, perMessage, credentials };

  const hello = perMessage.findIndex((m) => m.format === 'tls_client_hello');
  if (hello >= 0) {
    const records = perMessage.filter((m) => m.format === 'tls_record').length;
    const more = records > 0 ? `; then ${plural(records, 'TLS record')}` : '';
    const agreeing = perMessage.filter((m) => m.format === 'tls_client_hello' || m.format === 'tls_record').length;
    return { format: 'tls_client_hello', reason: perMessage[hello]!.reason + more, messages: n, agreeing, primary: perMessage[hello]!, perMessage, credentials };
  }
  const preface = perMessage.findIndex((m) => m.format === 'http2');
  if (preface >= 0) {
    const agreeing = perMessage.filter((m) => m.format === 'http2').length;
    return { format: 'http2', reason: perMessage[preface]!.reason, messages: n, agreeing, primary: perMessage[preface]!, perMessage, credentials };
  }

  // Framing is looked for among the messages no stronger format claimed, and must hold for
  // 80 % of all non-empty messages: a few framed bodies do not make an HTTP flow binary.
  const nonEmpty = perMessage.filter((m) => m.format !== 'empty').length;
  const weak = sized.map((s, i) => ({ s, i })).filter(({ i }) => !STRONG.has(perMessage[i]!.format) && perMessage[i]!.format !== 'empty');
  const framing = weak.length > 0 ? detectFraming(weak.map(({ s }) => s)) : null;
  if (framing && framing.matched >= Math.ceil(0.8 * nonEmpty)) {
    const indexes = framing.matchedIndexes.map((j) => weak[j]!.i);
    for (const i of indexes) perMessage[i] = framedVerdict(sized[i]!, perMessage[i]!, framing.variant, framing.protocolHint);
    const framed = indexes.map((i) => perMessage[i]!);
    const bodies = indexes.map((i) => sized[i]!.prefix.subarray(framing.variant.headerBytes));
    const hint = framing.protocolHint ? `; ${framing.protocolHint}` : '';
    return {
      format: 'length_prefixed', messages: n, agreeing: indexes.length, primary: framed[0]!, perMessage, credentials: withCredentials(perMessage),
      reason: `length-prefixed binary: ${framing.reason}${hint}; body: ${bodySummary(framed, bodies)}`,
    };
  }

  const format = mostCommon(perMessage.map((m) => m.format));
  const agreeing = perMessage.filter((m) => m.format === format);
  const primary = agreeing[0]!;
  const share = n > 1 ? `; ${agreeing.length} of ${n} messages` : '';
  return { format, reason: `${primary.reason}${share}`, messages: n, agreeing: agreeing.length, primary, perMessage, credentials };
}
