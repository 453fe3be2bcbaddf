/**
 * Protocol Buffers wire format (protobuf.dev/programming-guides/encoding): a message is a run of
 * fields, each a varint key (field number << 3 | wire type) and a value: varint (0), 64-bit (1),
 * length-delimited (2), group start/end (3/4, deprecated but valid), 32-bit (5).
 *
 * A message counts as protobuf only when it parses *whole*: every key valid, every length
 * consistent, the last field ending exactly at the end of the message — or, for a message longer
 * than the capture, running past the captured bytes but not past the message's size. Random
 * bytes rarely survive that; short ASCII text sometimes does ("hi" is field 13 = 105), which is
 * why the classifier tries text first when every byte is printable.
 *
 * Plausibility limits (real schemas stay far below them): field numbers up to 65 535 (the
 * format allows 2^29 - 1), nesting up to 32 groups.
 */

export type WireType = 'varint' | 'i64' | 'len' | 'group' | 'i32';

export interface ProtobufField {
  number: number;
  wire: WireType;
  /** varint value (as a decimal string: it may exceed 2^53), or the length of a len field */
  value?: string;
  length?: number;
  /** a len field whose bytes are printable UTF-8: the start of it */
  text?: string;
  /** a len field whose bytes parse as a message themselves */
  nested?: boolean;
}

export interface ProtobufParse {
  fields: ProtobufField[];
  /** the message runs past the captured bytes */
  truncated: boolean;
}

const MAX_FIELD_NUMBER = 65535;
const MAX_GROUP_DEPTH = 32;
const MAX_REPORTED_FIELDS = 16;

/** Reads a varint; 'end' when the bytes run out inside it, null when it is longer than 10 bytes. */
function readVarint(b: Uint8Array, off: number): { value: bigint; next: number } | 'end' | null {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (off + i >= b.length) return 'end';
    const byte = b[off + i]!;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value, next: off + i + 1 };
  }
  return null;
}

function printableUtf8(b: Uint8Array): string | undefined {
  if (b.length === 0) return undefined;
  for (const x of b) if (x < 0x20 && x !== 0x09 && x !== 0x0a && x !== 0x0d) return undefined;
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b);
    return s.length > 40 ? `${s.slice(0, 40)}…` : s;
  } catch {
    return undefined;
  }
}

/**
 * Parses `b` as one protobuf message. `size` is the whole message's length when the capture is a
 * prefix of it (defaults to b.length). Null when the bytes are not a valid message.
 */
export function parseProtobuf(b: Uint8Array, size = b.length, nestedCheck = true): ProtobufParse | null {
  if (b.length === 0) return null;
  const fields: ProtobufField[] = [];
  const groups: number[] = [];
  let off = 0;
  const cut = (): ProtobufParse | null => (size > b.length ? { fields, truncated: true } : null);
  while (off < b.length) {
    const key = readVarint(b, off);
    if (key === 'end') return cut();
    if (key === null || key.value > 0xffffffffn) return null;
    const number = Number(key.value >> 3n);
    const wt = Number(key.value & 7n);
    if (number < 1 || number > MAX_FIELD_NUMBER) return null;
    off = key.next;
    const field: ProtobufField = { number, wire: 'varint' };
    if (wt === 0) {
      const v = readVarint(b, off);
      if (v === 'end') return cut();
      if (v === null) return null;
      field.value = v.value.toString();
      off = v.next;
    } else if (wt === 1 || wt === 5) {
      field.wire = wt === 1 ? 'i64' : 'i32';
      off += wt === 1 ? 8 : 4;
      if (off > b.length) return off <= size ? cut() : null;
    } else if (wt === 2) {
      const len = readVarint(b, off);
      if (len === 'end') return cut();
      if (len === null || len.value > BigInt(size)) return null;
      field.wire = 'len';
      field.length = Number(len.value);
      off = len.next;
      if (off + field.length > size) return null;
      if (off + field.length > b.length) {
        fields.push(field);
        return cut();
      }
      const inner = b.subarray(off, off + field.length);
      field.text = printableUtf8(inner);
      if (nestedCheck && !field.text && inner.length > 0) field.nested = parseProtobuf(inner, inner.length, false) !== null;
      off += field.length;
    } else if (wt === 3) {
      if (groups.length >= MAX_GROUP_DEPTH) return null;
      field.wire = 'group';
      groups.push(number);
    } else if (wt === 4) {
      if (groups.pop() !== number) return null; // an end without its matching start
      continue;
    } else {
      return null; // wire types 6 and 7 do not exist
    }
    if (fields.length < MAX_REPORTED_FIELDS) fields.push(field);
  }
  if (groups.length > 0) return cut();
  return { fields, truncated: false };
}

/** "field 1 (string \"web-7d9f\"), field 2 (varint 7), field 3 (bytes, 32)". */
export function describeProtobufFields(fields: readonly ProtobufField[], max = 4): string {
  const parts = fields.slice(0, max).map((f) => {
    if (f.wire === 'varint') return `field ${f.number} (varint ${f.value})`;
    if (f.wire === 'len') {
      if (f.text !== undefined) return `field ${f.number} (string ${JSON.stringify(f.text)})`;
      return `field ${f.number} (${f.nested ? 'message' : 'bytes'}, ${f.length} bytes)`;
    }
    return `field ${f.number} (${f.wire})`;
  });
  return parts.join(', ') + (fields.length > max ? `, …` : '');
}
