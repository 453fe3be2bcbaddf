import { describe, expect, it } from 'vitest';
import { RowBinaryReader, rowBinaryEncoder } from './encoding';
import type { TableDef } from './schema/types';

// The reader against the ingest path's own RowBinary encoder (db/encoding.ts): what one writes,
// the other reads back, including the edges (64-bit values past 2^53, negatives, long lengths).
const table: TableDef = {
  name: 't_rowbinary_read',
  comment: '',
  columns: [
    { name: 's', type: 'String' },
    { name: 'u64', type: 'UInt64' },
    { name: 'i64', type: 'Int64' },
    { name: 'i32', type: 'Int32' },
    { name: 'u16', type: 'UInt16' },
    { name: 'u32', type: 'UInt32' },
    { name: 'b', type: 'Bool' },
    { name: 'bytes', type: 'Array(UInt8)' },
    { name: 'words', type: 'Array(String)' },
  ],
  engine: 'MergeTree',
  orderBy: 'tuple()',
  shardingKey: 'rand()',
};

const read = (r: RowBinaryReader) => ({
  s: r.string(),
  u64: r.u64(),
  i64: r.i64(),
  i32: r.i32(),
  u16: r.u16(),
  u32: r.u32(),
  b: r.bool(),
  bytes: [...r.bytes()],
  words: r.strings(),
});

describe('RowBinaryReader', () => {
  it('reads back what the encoder wrote, row after row', () => {
    const rows = [
      { s: '', u64: '0', i64: '0', i32: 0, u16: 0, u32: 0, b: false, bytes: [], words: [] },
      {
        s: 'é😀 node-a:0a1b',
        u64: '18446744073709551615',
        i64: '-9223372036854775808',
        i32: -2147483648,
        u16: 65535,
        u32: 4294967295,
        b: true,
        bytes: [0, 1, 0x7f, 0x80, 0xff],
        words: ['Go build info go1.22.1', ''],
      },
      // Nanosecond timestamps (past 2^53: read exactly), small negatives (-errno), a 300-byte string (2-byte length).
      { s: 'x'.repeat(300), u64: '1795357388000000001', i64: '-111', i32: -100, u16: 4444, u32: 7, b: true, bytes: [0x42], words: ['a'] },
      { s: 'y', u64: '9007199254740993', i64: '9007199254740993', i32: 1, u16: 1, u32: 1, b: false, bytes: [], words: [] },
    ];
    const buf = rowBinaryEncoder(table).encode(rows.map((r) => ({ ...r, bytes: Uint8Array.from(r.bytes) })));
    const reader = new RowBinaryReader(buf);
    const back = [];
    while (!reader.done) back.push(read(reader));
    expect(back).toEqual(rows);
  });

  it('reads Int8 (Enum8) values and LEB128 lengths byte by byte', () => {
    const r = new RowBinaryReader(Buffer.from([0xfe, 0x03, 0xac, 0x02]));
    expect([r.i8(), r.i8(), r.varint()]).toEqual([-2, 3, 300]);
    expect(r.done).toBe(true);
  });

  it('a payload is a view of the bytes read, not a copy', () => {
    const buf = Buffer.from([3, 0x65, 0x79, 0x4a]);
    const bytes = new RowBinaryReader(buf).bytes();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(bytes)).toBe(false);
    expect([...bytes]).toEqual([0x65, 0x79, 0x4a]);
    buf[1] = 0;
    expect(bytes[0]).toBe(0);
  });

  it('refuses to read past the end (a cut answer is an error, never a short row)', () => {
    expect(() => new RowBinaryReader(Buffer.from([5, 0x61, 0x62])).string()).toThrow(/5 bytes wanted at 1, 2 left/);
    expect(() => new RowBinaryReader(Buffer.from([1, 2, 3])).u64()).toThrow(RangeError);
  });
});
