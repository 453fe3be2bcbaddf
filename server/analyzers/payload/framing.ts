/**
 * Length-prefixed binary framing: a message that starts with its own length. Checked against
 * the message's real size (the send's byte count), not the captured prefix, so it works on
 * 256-byte captures of long messages.
 *
 * Variants tried (the common shapes of custom and database protocols):
 *   - 2 or 4 bytes, big- or little-endian, counting the rest of the message ("rest") or the
 *     whole message including the length itself ("whole");
 *   - a 1-byte type then a 4-byte big-endian length counting itself and the rest (PostgreSQL's
 *     frontend/backend messages);
 *   - a 3-byte little-endian length then a 1-byte sequence number (MySQL packets).
 * A send may carry several frames back to back; they are followed as long as their headers are
 * in the captured bytes, and the chain must end exactly at the send's size.
 *
 * One message proves little for the 2-byte variants (1 chance in ~65 536 to match at random,
 * fewer for 4 bytes): the flow verdict (`detectFraming`) wants the same variant in at least
 * 80 % of a flow's messages, and says in how many it held. Known protocols with such framing
 * are named when their next fields fit (MongoDB, PostgreSQL startup, Kafka requests), because a
 * length-prefixed stream to a database is ordinary.
 */
import { hexNumber, u16be, u16le, u24le, u32be, u32le, u8 } from './bytes';

export interface FramingVariant {
  id: string;
  /** readable: "4-byte big-endian length" */
  label: string;
  /** bytes before the length field */
  offset: number;
  width: number;
  endian: 'big' | 'little';
  /** bytes before the body (offset + width + anything after the length) */
  headerBytes: number;
  /** the frame's total size given the length field's value */
  frameSize(length: number): number;
  /** what the length counts: the bytes after the header, the whole frame, or itself and what follows */
  counts: 'rest' | 'whole' | 'self_and_rest';
}

function variant(
  id: string,
  label: string,
  offset: number,
  width: number,
  endian: 'big' | 'little',
  headerBytes: number,
  frameSize: (l: number) => number,
  counts: FramingVariant['counts'],
): FramingVariant {
  return { id, label, offset, width, endian, headerBytes, frameSize, counts };
}

/** In order of preference when two fit equally well. */
export const FRAMING_VARIANTS: readonly FramingVariant[] = [
  variant('u32be_rest', '4-byte big-endian length', 0, 4, 'big', 4, (l) => l + 4, 'rest'),
  variant('u32le_rest', '4-byte little-endian length', 0, 4, 'little', 4, (l) => l + 4, 'rest'),
  variant('u16be_rest', '2-byte big-endian length', 0, 2, 'big', 2, (l) => l + 2, 'rest'),
  variant('u16le_rest', '2-byte little-endian length', 0, 2, 'little', 2, (l) => l + 2, 'rest'),
  variant('u32be_whole', '4-byte big-endian length (counting itself)', 0, 4, 'big', 4, (l) => l, 'whole'),
  variant('u32le_whole', '4-byte little-endian length (counting itself)', 0, 4, 'little', 4, (l) => l, 'whole'),
  variant('u16be_whole', '2-byte big-endian length (counting itself)', 0, 2, 'big', 2, (l) => l, 'whole'),
  variant('u16le_whole', '2-byte little-endian length (counting itself)', 0, 2, 'little', 2, (l) => l, 'whole'),
  variant('tag_u32be', '1-byte type then 4-byte big-endian length (counting itself)', 1, 4, 'big', 5, (l) => l + 1, 'self_and_rest'),
  variant('u24le_seq', '3-byte little-endian length then 1-byte sequence', 0, 3, 'little', 4, (l) => l + 4, 'rest'),
];

function readLength(v: FramingVariant, b: Uint8Array, off: number): number | null {
  const at = off + v.offset;
  if (v.width === 4) return v.endian === 'big' ? u32be(b, at) : u32le(b, at);
  if (v.width === 3) return u24le(b, at);
  return v.endian === 'big' ? u16be(b, at) : u16le(b, at);
}

export interface FrameMatch {
  variant: FramingVariant;
  /** the first frame's length field */
  length: number;
  /** frames found in this send (more than 1 when several were written together) */
  frames: number;
}

/** Whether `b` (a prefix of a `size`-byte send) is a chain of frames of variant `v`. */
export function matchFraming(v: FramingVariant, b: Uint8Array, size: number): FrameMatch | null {
  let off = 0;
  let frames = 0;
  let first: number | null = null;
  while (off < size) {
    const length = readLength(v, b, off);
    if (length === null) return frames > 0 && off > b.length - v.headerBytes ? { variant: v, length: first!, frames } : null;
    const frame = v.frameSize(length);
    if (frame <= v.headerBytes || off + frame > size) return null; // empty body, or past the send
    if (first === null) first = length;
    frames++;
    off += frame;
  }
  return off === size ? { variant: v, length: first!, frames } : null;
}

export interface FramingVerdict {
  variant: FramingVariant;
  /** messages whose framing matched / messages long enough to carry a header */
  matched: number;
  considered: number;
  reason: string;
  /** MongoDB, PostgreSQL, Kafka ... when the fields after the length fit */
  protocolHint?: string;
  /** index of the messages that matched */
  matchedIndexes: number[];
}

export interface SizedMessage {
  prefix: Uint8Array;
  size: number;
}

/**
 * The framing variant that fits the flow's messages best, if it fits at least 80 % of those
 * long enough to carry its header (and at least one).
 */
export function detectFraming(messages: readonly SizedMessage[]): FramingVerdict | null {
  let best: FramingVerdict | null = null;
  for (const v of FRAMING_VARIANTS) {
    const eligible = messages.map((m, i) => ({ m, i })).filter(({ m }) => m.size > v.headerBytes && m.prefix.length >= v.offset + v.width);
    if (eligible.length === 0) continue;
    const hits = eligible.map(({ m, i }) => ({ i, match: matchFraming(v, m.prefix, m.size), m })).filter((h) => h.match);
    if (hits.length === 0 || hits.length < Math.ceil(0.8 * eligible.length)) continue;
    if (best && hits.length <= best.matched) continue;
    const example = hits[0]!;
    best = {
      variant: v,
      matched: hits.length,
      considered: eligible.length,
      matchedIndexes: hits.map((h) => h.i),
      reason: framingReason(v, example.match!, example.m.size, hits.length, eligible.length, hits.every((h) => h.match!.length === example.match!.length)),
      protocolHint: protocolHint(v, example.m.prefix),
    };
  }
  return best;
}

function framingReason(v: FramingVariant, match: FrameMatch, size: number, matched: number, considered: number, sameLength: boolean): string {
  const value = `${hexNumber(match.length, v.width)} = ${match.length}`;
  const l = match.length;
  const what =
    v.counts === 'whole' ? `the whole ${l}-byte message` : v.counts === 'rest' ? `the remaining ${l} bytes` : `its own 4 bytes and the remaining ${l - 4}`;
  const chain = match.frames > 1 ? ` (${match.frames} frames in one send of ${size} bytes)` : '';
  const where = `in ${matched} of ${considered} ${considered === 1 ? 'message' : 'messages'}`;
  if (sameLength || matched === 1) return `${v.label} ${value} matches ${what}${chain} ${where}`;
  return `${v.label} matches the message's size ${where} (e.g. ${value}: ${what}${chain})`;
}

const MYSQL_COMMANDS: Record<number, string> = {
  0x01: 'COM_QUIT', 0x02: 'COM_INIT_DB', 0x03: 'COM_QUERY', 0x0e: 'COM_PING', 0x16: 'COM_STMT_PREPARE', 0x17: 'COM_STMT_EXECUTE',
};
const KAFKA_API_KEYS: Record<number, string> = {
  0: 'Produce', 1: 'Fetch', 2: 'ListOffsets', 3: 'Metadata', 8: 'OffsetCommit', 9: 'OffsetFetch', 10: 'FindCoordinator',
  11: 'JoinGroup', 12: 'Heartbeat', 18: 'ApiVersions',
};
const MONGO_OPCODES: Record<number, string> = { 1: 'OP_REPLY', 2004: 'OP_QUERY', 2012: 'OP_COMPRESSED', 2013: 'OP_MSG' };
const PG_CODES: Record<number, string> = { 0x00030000: 'StartupMessage (protocol 3.0)', 80877103: 'SSLRequest', 80877104: 'GSSENCRequest', 80877102: 'CancelRequest' };

function protocolHint(v: FramingVariant, b: Uint8Array): string | undefined {
  if (v.id === 'u32le_whole') {
    const op = u32le(b, 12);
    if (op !== null && MONGO_OPCODES[op]) return `MongoDB wire protocol (${MONGO_OPCODES[op]})`;
  }
  if (v.id === 'u32be_whole') {
    const code = u32be(b, 4);
    if (code !== null && PG_CODES[code]) return `PostgreSQL ${PG_CODES[code]}`;
  }
  if (v.id === 'tag_u32be') {
    const tag = u8(b, 0);
    if (tag !== null && tag >= 0x41 && tag <= 0x7a) return `PostgreSQL-style message (type '${String.fromCharCode(tag)}')`;
  }
  if (v.id === 'u24le_seq') return 'MySQL packet shape';
  if (v.id === 'u32le_rest' && u8(b, 3) === 0) {
    // A MySQL packet with sequence number 0 reads exactly like a 4-byte little-endian length.
    const command = u8(b, 4);
    if (command !== null && MYSQL_COMMANDS[command]) return `possibly a MySQL packet (sequence 0, ${MYSQL_COMMANDS[command]})`;
  }
  if (v.id === 'u32be_rest') {
    const apiKey = u16be(b, 4);
    const apiVersion = u16be(b, 6);
    const clientIdLength = u16be(b, 12);
    if (apiKey !== null && KAFKA_API_KEYS[apiKey] && apiVersion !== null && apiVersion <= 20 && clientIdLength !== null && (clientIdLength === 0xffff || clientIdLength < 256)) {
      return `consistent with a Kafka request (api key ${apiKey} ${KAFKA_API_KEYS[apiKey]}, version ${apiVersion})`;
    }
  }
  return undefined;
}
