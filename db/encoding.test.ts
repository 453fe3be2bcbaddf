import { describe, expect, it } from 'vitest';
import { ByteWriter, jsonEachRowEncoder, rowBinaryEncoder } from './encoding';
import { processEvents, sensorBatches, sensorGaps, sensorStatus, schemaMigrations } from './schema/tables';
import type { TableDef } from './schema/types';

const table = (name: string, columns: TableDef['columns']): TableDef => ({
  name,
  comment: '',
  columns,
  engine: 'MergeTree',
  orderBy: 'tuple()',
  shardingKey: 'rand()',
});

const one = (type: string) => table(`t_${Math.random().toString(36).slice(2)}`, [{ name: 'v', type }]);
const bin = (type: string, value: unknown) => [...rowBinaryEncoder(one(type)).encode([{ v: value }])];
const json = (type: string, value: unknown) => jsonEachRowEncoder(one(type)).encode([{ v: value }]).toString('utf8');

function u64le(value: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return [...b];
}

describe('RowBinary encoder', () => {
  it('writes strings as varint length + UTF-8', () => {
    expect(bin('String', '')).toEqual([0]);
    expect(bin('String', 'ab')).toEqual([2, 0x61, 0x62]);
    expect(bin('LowCardinality(String)', 'é')).toEqual([2, 0xc3, 0xa9]);
    expect(bin('String', '😀')).toEqual([4, 0xf0, 0x9f, 0x98, 0x80]);
    const long = 'x'.repeat(200);
    expect(bin('String', long)).toEqual([200 & 0x7f | 0x80, 1, ...Buffer.from(long)]);
    const longUnicode = 'ü'.repeat(100); // 200 bytes, past the one-byte-varint fast path
    expect(bin('String', longUnicode)).toEqual([0xc8, 1, ...Buffer.from(longUnicode)]);
    const mixed = 'a'.repeat(20) + 'ü' + '😀'; // switches to the slow path mid-string
    expect(bin('String', mixed)).toEqual([Buffer.byteLength(mixed), ...Buffer.from(mixed)]);
  });

  it('writes integers little-endian, with their ranges checked', () => {
    expect(bin('UInt8', 255)).toEqual([255]);
    expect(bin('UInt16', 0x1234)).toEqual([0x34, 0x12]);
    expect(bin('UInt32', 4294967295)).toEqual([255, 255, 255, 255]);
    expect(bin('Int8', -1)).toEqual([255]);
    expect(bin('Int32', -2)).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(bin('Int32', -2147483648)).toEqual([0, 0, 0, 0x80]);
    expect(() => bin('UInt8', 256)).toThrow(/UInt8/);
    expect(() => bin('UInt32', -1)).toThrow(/UInt32/);
    expect(() => bin('Int32', 1.5)).toThrow(/Int32/);
    expect(() => bin('UInt16', '7')).toThrow(/UInt16/);
  });

  it('writes UInt64 from decimal strings exactly, up to 2^64 − 1', () => {
    for (const v of [0n, 1n, 255n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 10n ** 15n - 1n, 10n ** 15n, 10n ** 19n, 2n ** 63n, 2n ** 64n - 1n]) {
      expect(bin('UInt64', v.toString())).toEqual(u64le(v));
      expect(bin('UInt64', v)).toEqual(u64le(v));
    }
    expect(bin('UInt64', 42)).toEqual(u64le(42n));
    expect(() => bin('UInt64', '18446744073709551616')).toThrow(/decimal string/);
    expect(() => bin('UInt64', '99999999999999999999')).toThrow(/decimal string/);
    expect(() => bin('UInt64', '-1')).toThrow(/decimal string/);
    expect(() => bin('UInt64', '1e5')).toThrow(/decimal string/);
    expect(() => bin('UInt64', 2 ** 53)).toThrow(/decimal string/);
  });

  it('agrees with BigInt on random 64-bit values', () => {
    for (let i = 0; i < 2000; i++) {
      const v = (BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n) | BigInt(Math.floor(Math.random() * 2 ** 32));
      const w = new ByteWriter(16);
      w.u64Decimal(v.toString());
      expect(w.finish().readBigUInt64LE(0)).toBe(v);
    }
  });

  it('writes DateTime64(9) as Int64 nanoseconds', () => {
    expect(bin("DateTime64(9, 'UTC')", '1767225600123456789')).toEqual(u64le(1767225600123456789n));
    expect(bin('DateTime64(9)', '5')).toEqual(u64le(5n));
    expect(() => bin("DateTime64(9, 'UTC')", '9223372036854775808')).toThrow(/range/);
    expect(() => bin("DateTime64(9, 'UTC')", '1767225600.1')).toThrow(/nanoseconds/);
  });

  it('writes Bool, Enum8 and Array(String)', () => {
    expect(bin('Bool', true)).toEqual([1]);
    expect(bin('Bool', false)).toEqual([0]);
    expect(() => bin('Bool', 1)).toThrow(/boolean/);
    const e = "Enum8('exec' = 1, 'fork' = 2, 'minus' = -3, 'it''s' = 4)";
    expect(bin(e, 'fork')).toEqual([2]);
    expect(bin(e, 'minus')).toEqual([0xfd]);
    expect(bin(e, 2)).toEqual([2]);
    expect(() => bin(e, 'nope')).toThrow(/not a value of Enum8/);
    expect(bin('Array(String)', [])).toEqual([0]);
    expect(bin('Array(String)', ['a', ''])).toEqual([2, 1, 0x61, 0]);
    const many = Array.from({ length: 300 }, (_, i) => String(i % 10));
    expect(bin('Array(String)', many)).toEqual([0xac, 2, ...many.flatMap((s) => [1, s.charCodeAt(0)])]);
  });

  it('writes Int64 (results: byte counts or -errno) as 8 bytes of two\'s complement', () => {
    expect(bin('Int64', '-13')).toEqual([...u64le(2n ** 64n - 13n)]);
    expect(bin('Int64', '9223372036854775807')).toEqual([...u64le(2n ** 63n - 1n)]);
    expect(bin('Int64', -9223372036854775808n)).toEqual([...u64le(2n ** 63n)]);
    expect(bin('Int64', 5)).toEqual([...u64le(5n)]);
    expect(() => bin('Int64', '9223372036854775808')).toThrow(/out of range/);
    expect(() => bin('Int64', '1.5')).toThrow(/decimal string/);
    expect(json('Int64', '-115')).toBe('{"v":-115}\n');
  });

  it('writes Array(UInt8) from bytes as-is (payload prefixes), and from numbers', () => {
    expect(bin('Array(UInt8)', new Uint8Array([0, 255, 7]))).toEqual([3, 0, 255, 7]);
    expect(bin('Array(UInt8)', Buffer.from('BCN1'))).toEqual([4, 0x42, 0x43, 0x4e, 0x31]);
    expect(bin('Array(UInt8)', [1, 2])).toEqual([2, 1, 2]);
    expect(bin('Array(UInt8)', undefined)).toEqual([0]);
    const big = new Uint8Array(200).fill(9);
    expect(bin('Array(UInt8)', big)).toEqual([0xc8, 1, ...big]);
    expect(() => bin('Array(UInt8)', [256])).toThrow(/bytes/);
    expect(json('Array(UInt8)', new Uint8Array([0, 255]))).toBe('{"v":[0,255]}\n');
  });

  it("writes the type's default for an omitted field", () => {
    const def = table('defaults', [
      { name: 's', type: 'LowCardinality(String)' },
      { name: 'n', type: 'UInt32' },
      { name: 'i', type: 'Int8' },
      { name: 'u', type: 'UInt64' },
      { name: 'b', type: 'Bool' },
      { name: 'e', type: "Enum8('b' = 2, 'a' = -1)" },
      { name: 't', type: "DateTime64(9, 'UTC')" },
      { name: 'a', type: 'Array(String)' },
    ]);
    expect([...rowBinaryEncoder(def).encode([{}])]).toEqual([0, 0, 0, 0, 0, 0, ...u64le(0n), 0, 0xff, ...u64le(0n), 0]);
  });

  it('derives the file() structure from the definition, without quotes', () => {
    expect(rowBinaryEncoder(sensorGaps).structure).toBe(
      'sensor String, epoch String, ts DateTime64(9), kind Int8, from_seq UInt64, to_seq UInt64, count UInt64, detail String',
    );
    for (const def of [processEvents, sensorBatches, sensorGaps, sensorStatus, schemaMigrations]) {
      const encoder = rowBinaryEncoder(def);
      expect(encoder.structure).not.toContain("'");
      expect(encoder.columns).toEqual(def.columns.map((c) => c.name));
    }
  });

  it('appends rows one by one into a sink; a bad row leaves nothing behind', () => {
    const def = table('sinked', [
      { name: 'a', type: 'UInt32' },
      { name: 'b', type: 'String' },
    ]);
    const sink = rowBinaryEncoder(def).sink(1);
    sink.add({ a: 1, b: 'x' });
    expect(() => sink.add({ a: 2, b: 7 })).toThrow(/sinked\.b \(row 1\)/);
    sink.add({ a: 3, b: 'y'.repeat(5000) }); // grows the buffer
    expect(sink.rows).toBe(2);
    expect(sink.finish()).toEqual(rowBinaryEncoder(def).encode([{ a: 1, b: 'x' }, { a: 3, b: 'y'.repeat(5000) }]));
    expect(() => sink.add({ a: 4 })).toThrow(/after finish/);
  });

  it('names the table, column and row of a bad value', () => {
    expect(() => rowBinaryEncoder(sensorGaps).encode([{ kind: 'seq_gap' }, { kind: 'oops' }])).toThrow(/sensor_gaps\.kind \(row 1\)/);
    expect(() => jsonEachRowEncoder(sensorGaps).encode([{ count: 'x' }])).toThrow(/sensor_gaps\.count \(row 0\)/);
  });
});

describe('JSONEachRow encoder', () => {
  it('writes DateTime64 as seconds.nanoseconds text and 64-bit integers as bare digits', () => {
    expect(json("DateTime64(9, 'UTC')", '1767225600123456789')).toBe('{"v":"1767225600.123456789"}\n');
    expect(json("DateTime64(9, 'UTC')", '5')).toBe('{"v":"0000000000.000000005"}\n');
    expect(json('UInt64', '18446744073709551615')).toBe('{"v":18446744073709551615}\n');
    expect(json('UInt64', 7n)).toBe('{"v":7}\n');
  });

  it('writes strings, arrays, enums and booleans as JSON', () => {
    expect(json('String', 'a"\n😀')).toBe('{"v":"a\\"\\n😀"}\n');
    expect(json('Array(String)', ['x', 'y"'])).toBe('{"v":["x","y\\""]}\n');
    expect(json("Enum8('exec' = 1, 'fork' = 2)", 2)).toBe('{"v":"fork"}\n');
    expect(json('Bool', false)).toBe('{"v":false}\n');
    expect(json('Int32', -5)).toBe('{"v":-5}\n');
  });

  it('leaves omitted fields out (the column default applies) and writes one line per row', () => {
    const def = table('two', [
      { name: 'a', type: 'UInt32' },
      { name: 'b', type: 'String' },
    ]);
    expect(jsonEachRowEncoder(def).encode([{ b: 'x' }, { a: 1 }, {}]).toString()).toBe('{"b":"x"}\n{"a":1}\n{}\n');
    expect(jsonEachRowEncoder(def).encode([]).length).toBe(0);
  });
});

describe('encoders are built from the definition and fail loudly', () => {
  it.each(['Float64', 'Nullable(String)', 'DateTime64(3)', 'LowCardinality(UInt8)', 'Int128', 'Map(String, String)', 'Enum8()'])(
    'refuses %s when the encoder is built',
    (type) => {
      const def = table('bad', [
        { name: 'ok', type: 'String' },
        { name: 'x', type },
      ]);
      expect(() => rowBinaryEncoder(def)).toThrow(/bad\.x/);
      expect(() => jsonEachRowEncoder(def)).toThrow(/bad\.x/);
    },
  );

  it('never writes MATERIALIZED / ALIAS columns, and RowBinary refuses a DEFAULT expression it could not apply', () => {
    const def = table('extras', [
      { name: 'a', type: 'UInt32' },
      { name: 'm', type: 'UInt32', extra: 'MATERIALIZED a + 1' },
      { name: 'l', type: 'UInt32', extra: 'ALIAS a * 2' },
    ]);
    expect(rowBinaryEncoder(def).columns).toEqual(['a']);
    expect(jsonEachRowEncoder(def).columns).toEqual(['a']);
    const withDefault = table('withdefault', [{ name: 'd', type: 'UInt32', extra: 'DEFAULT 7' }]);
    expect(() => rowBinaryEncoder(withDefault)).toThrow(/DEFAULT expression/);
    expect(jsonEachRowEncoder(withDefault).encode([{}]).toString()).toBe('{}\n');
  });
});
