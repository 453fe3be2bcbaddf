import type { ColumnDef, TableDef } from './schema/types';

/**
 * Row encoders generated from table definitions (db/schema/tables.ts), so that what is inserted
 * always matches the columns declared once.
 *
 * The canonical row shape, the same for every encoder:
 *   - DateTime64(9, …) columns: nanoseconds since the Unix epoch as a decimal string (a bigint is
 *     accepted too);
 *   - 64-bit integers (UInt64): decimal strings (a bigint or a safe-integer number is accepted);
 *   - everything else a plain JS value: string, number, boolean, string[] for Array(String), the
 *     value's name for Enum8 (its number is accepted too);
 *   - a field left out (undefined) takes the column's default (0, '', false, [], the epoch, the
 *     smallest Enum8 value). Columns with DEFAULT expressions are refused by the RowBinary encoder
 *     (it cannot leave a value out), MATERIALIZED / ALIAS / EPHEMERAL columns are never written.
 *
 * Two encoders:
 *   - JSONEachRow, for a ClickHouse server: DateTime64 as "seconds.nanoseconds" text (a bare
 *     integer is not read as nanoseconds — see db/time.ts), 64-bit integers as bare digits;
 *   - RowBinary, for the embedded engine: read back with
 *     `INSERT INTO t (cols) SELECT * FROM file(path, 'RowBinary', structure)`, the structure
 *     derived from the same definition. The structure is written without quotes (it sits inside
 *     an SQL string): DateTime64 without its time zone, Enum8 as Int8, Bool as UInt8,
 *     LowCardinality(String) as String — the values map onto the table's types on insert.
 *
 * An unsupported column type fails when the encoder is built (first use of a table), not at the
 * first row that happens to use it.
 */

export type CanonicalRow = Readonly<Record<string, unknown>>;

export type RowFormat = 'RowBinary' | 'JSONEachRow';

export interface RowEncoder {
  readonly format: RowFormat;
  readonly table: string;
  /** The columns written, in order (the insert's column list). */
  readonly columns: readonly string[];
  /** RowBinary: the structure argument of file() for these columns. Empty for JSONEachRow. */
  readonly structure: string;
  encode(rows: readonly CanonicalRow[]): Buffer;
  /** Rows appended one at a time (`expectedRows` sizes the first buffer). */
  sink(expectedRows?: number): RowSink;
}

export interface RowSink {
  /** Encodes one row; a bad value throws (naming table, column and row) and adds nothing. */
  add(row: CanonicalRow): void;
  readonly rows: number;
  readonly bytes: number;
  /** The encoded rows; nothing may be added afterwards. */
  finish(): Buffer;
}

/** One column type: how to write it in each format. */
interface TypeCodec {
  /** The type as declared in a file() structure (no quotes). */
  structure: string;
  /** RowBinary: writes `value` (undefined: the type's default). */
  binary(w: ByteWriter, value: unknown): void;
  /**
   * RowBinary, generated: JavaScript statements writing the variable `v` to the writer `w`
   * (undefined: the default). The generated row loop inlines these instead of calling `binary`
   * through a table of closures: about 3x faster on the 31 columns of process_events.
   */
  binaryCode?: string;
  /** JSONEachRow: the JSON text of `value` (never called with undefined). */
  json(value: unknown): string;
}

// ---------------------------------------------------------------------------------------------
// Encoders

const binaryCache = new WeakMap<TableDef, RowEncoder>();
const jsonCache = new WeakMap<TableDef, RowEncoder>();

export function rowEncoder(def: TableDef, format: RowFormat): RowEncoder {
  return format === 'RowBinary' ? rowBinaryEncoder(def) : jsonEachRowEncoder(def);
}

export function rowBinaryEncoder(def: TableDef): RowEncoder {
  let encoder = binaryCache.get(def);
  if (!encoder) {
    encoder = buildRowBinary(def);
    binaryCache.set(def, encoder);
  }
  return encoder;
}

export function jsonEachRowEncoder(def: TableDef): RowEncoder {
  let encoder = jsonCache.get(def);
  if (!encoder) {
    encoder = buildJsonEachRow(def);
    jsonCache.set(def, encoder);
  }
  return encoder;
}

/** Columns an INSERT writes: everything but MATERIALIZED / ALIAS / EPHEMERAL ones. */
function writableColumns(def: TableDef): ColumnDef[] {
  return def.columns.filter((c) => !/^\s*(MATERIALIZED|ALIAS|EPHEMERAL)\b/i.test(c.extra ?? ''));
}

function codecsOf(def: TableDef): { column: ColumnDef; codec: TypeCodec }[] {
  return writableColumns(def).map((column) => {
    try {
      return { column, codec: parseType(column.type) };
    } catch (err) {
      throw new Error(`${def.name}.${column.name}: ${(err as Error).message}`);
    }
  });
}

/**
 * An encoder from its per-row writer: `encode` for an array, `sink` to append rows as they come
 * (the collector encodes each batch as it arrives, so decoded events die young instead of
 * surviving, with their rows, until a unit closes — most of the garbage collector's work).
 */
function encoderOf(
  def: TableDef,
  format: RowFormat,
  columns: readonly string[],
  structure: string,
  writeRow: (w: ByteWriter, row: CanonicalRow) => void,
): RowEncoder {
  let bytesPerRow = 256;
  const sink = (expectedRows = 64): RowSink => {
    const w = new ByteWriter(Math.max(1024, Math.ceil(bytesPerRow * expectedRows * 1.1)));
    let rows = 0;
    let done = false;
    return {
      get rows() {
        return rows;
      },
      get bytes() {
        return w.pos;
      },
      add(row) {
        if (done) throw new Error('rows added after finish()');
        const start = w.pos;
        try {
          writeRow(w, row);
        } catch (err) {
          w.pos = start; // the sink stays consistent: the bad row is simply not there
          throw new Error(`${def.name}.${(err as ColumnError).column ?? '?'} (row ${rows}): ${(err as Error).message}`, { cause: err });
        }
        rows++;
      },
      finish() {
        done = true;
        if (rows > 0) bytesPerRow = Math.max(16, w.pos / rows);
        return w.finish();
      },
    };
  };
  return {
    format,
    table: def.name,
    columns,
    structure,
    sink,
    encode(rows) {
      const out = sink(rows.length);
      for (const row of rows) out.add(row);
      return out.finish();
    },
  };
}

/** An encoding failure, with the column it happened in. */
interface ColumnError extends Error {
  column?: string;
}

function withColumn(err: unknown, column: string): ColumnError {
  const e = (err instanceof Error ? err : new Error(String(err))) as ColumnError;
  e.column = column;
  return e;
}

function buildRowBinary(def: TableDef): RowEncoder {
  const columns = codecsOf(def);
  for (const { column } of columns) {
    if (/^\s*DEFAULT\b/i.test(column.extra ?? '')) {
      throw new Error(
        `${def.name}.${column.name}: RowBinary cannot leave a column out, so its DEFAULT expression would never apply`,
      );
    }
  }
  const names = columns.map((c) => c.column.name);
  const codecs = columns.map((c) => c.codec);
  const structure = columns.map((c) => `${c.column.name} ${c.codec.structure}`).join(', ');
  // The row writer, generated once per table: direct property reads (monomorphic for rows built by
  // one function) and each column's code inlined; columns without generated code call their codec.
  const body = [
    'return function writeRow(w, r) {',
    '  let c = 0, v;',
    '  try {',
    ...columns.map(({ column, codec }, index) =>
      [
        `    c = ${index}; v = r[${JSON.stringify(column.name)}];`,
        codec.binaryCode ? `    ${codec.binaryCode}` : `    codecs[${index}].binary(w, v);`,
      ].join('\n'),
    ),
    '  } catch (err) {',
    '    throw withColumn(err, names[c]);',
    '  }',
    '};',
  ].join('\n');
  const writeRow = new Function('codecs', 'names', 'h', 'withColumn', body)(codecs, names, helpers, withColumn) as (
    w: ByteWriter,
    row: CanonicalRow,
  ) => void;
  return encoderOf(def, 'RowBinary', names, structure, writeRow);
}

function buildJsonEachRow(def: TableDef): RowEncoder {
  const columns = codecsOf(def);
  const names = columns.map((c) => c.column.name);
  const keys = names.map((name) => JSON.stringify(name) + ':');
  const codecs = columns.map((c) => c.codec);
  const n = names.length;
  const writeRow = (w: ByteWriter, row: CanonicalRow) => {
    let line = '{';
    let first = true;
    let c = 0;
    try {
      for (c = 0; c < n; c++) {
        const value = row[names[c]!];
        if (value === undefined) continue;
        line += (first ? '' : ',') + keys[c] + codecs[c]!.json(value);
        first = false;
      }
    } catch (err) {
      throw withColumn(err, names[c]!);
    }
    w.utf8(line + '}\n');
  };
  return encoderOf(def, 'JSONEachRow', names, '', writeRow);
}

// ---------------------------------------------------------------------------------------------
// Types

const UINT64_MAX = 18446744073709551615n;
const DECIMAL = /^\d{1,20}$/;

/** Parses a ClickHouse column type into its codec; throws on anything not supported. */
export function parseType(type: string): TypeCodec {
  const t = type.trim();
  let m: RegExpExecArray | null;
  if (t === 'String') return STRING;
  if ((m = /^LowCardinality\((.*)\)$/.exec(t))) {
    const inner = m[1]!.trim();
    if (inner !== 'String') throw new Error(`unsupported column type ${type} (LowCardinality of String only)`);
    return STRING;
  }
  if ((m = /^Array\((.*)\)$/.exec(t))) return m[1]!.trim() === 'UInt8' ? BYTES : arrayCodec(parseType(m[1]!));
  if ((m = /^DateTime64\(\s*(\d+)\s*(?:,\s*'[^']*'\s*)?\)$/.exec(t))) {
    if (m[1] !== '9') throw new Error(`unsupported column type ${type} (DateTime64 with precision 9 only: rows carry nanoseconds)`);
    return DATETIME64_9;
  }
  if ((m = /^Enum8\((.*)\)$/.exec(t))) return enum8Codec(type, m[1]!);
  switch (t) {
    case 'UInt8':
      return intCodec('UInt8', 0, 0xff, 1);
    case 'UInt16':
      return intCodec('UInt16', 0, 0xffff, 2);
    case 'UInt32':
      return intCodec('UInt32', 0, 0xffffffff, 4);
    case 'Int8':
      return intCodec('Int8', -0x80, 0x7f, 1);
    case 'Int32':
      return intCodec('Int32', -0x80000000, 0x7fffffff, 4);
    case 'UInt64':
      return UINT64;
    case 'Int64':
      return INT64;
    case 'Bool':
      return BOOL;
  }
  throw new Error(`unsupported column type ${type}`);
}

const STRING: TypeCodec = {
  structure: 'String',
  binaryCode: `if (typeof v === 'string') w.string(v); else if (v === undefined) w.u8(0); else h.bad('a string', v);`,
  binary(w, value) {
    if (value === undefined) {
      w.u8(0);
      return;
    }
    if (typeof value !== 'string') throw new TypeError(`expected a string, got ${describe(value)}`);
    w.string(value);
  },
  json(value) {
    if (typeof value !== 'string') throw new TypeError(`expected a string, got ${describe(value)}`);
    return JSON.stringify(value);
  },
};

const BOOL: TypeCodec = {
  structure: 'UInt8',
  binaryCode: `if (v === true) w.u8(1); else if (v === false || v === undefined) w.u8(0); else h.bad('a boolean', v);`,
  binary(w, value) {
    if (value === undefined) w.u8(0);
    else if (typeof value === 'boolean') w.u8(value ? 1 : 0);
    else throw new TypeError(`expected a boolean, got ${describe(value)}`);
  },
  json(value) {
    if (typeof value !== 'boolean') throw new TypeError(`expected a boolean, got ${describe(value)}`);
    return value ? 'true' : 'false';
  },
};

function intCodec(name: string, min: number, max: number, bytes: 1 | 2 | 4): TypeCodec {
  const check = (value: unknown): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`expected a ${name} (integer ${min}..${max}), got ${describe(value)}`);
    }
    return value;
  };
  const write = bytes === 1 ? 'w.u8(v & 0xff)' : bytes === 2 ? 'w.u16(v & 0xffff)' : 'w.u32(v >>> 0)';
  return {
    structure: name,
    binaryCode:
      `if (v === undefined) v = 0; else if (typeof v !== 'number' || !Number.isInteger(v) || v < ${min} || v > ${max}) ` +
      `h.bad('a ${name} (integer ${min}..${max})', v); ${write};`,
    binary(w, value) {
      const v = value === undefined ? 0 : check(value);
      if (bytes === 1) w.u8(v & 0xff);
      else if (bytes === 2) w.u16(v & 0xffff);
      else w.u32(v >>> 0);
    },
    json(value) {
      return String(check(value));
    },
  };
}

/** 64-bit unsigned: decimal string (or bigint, or safe integer) → bare digits / 8 bytes LE. */
function u64Digits(value: unknown, what: string): string {
  if (typeof value === 'string') {
    if (!DECIMAL.test(value) || (value.length === 20 && value > '18446744073709551615')) {
      throw new RangeError(`expected ${what} as a decimal string, got ${describe(value)}`);
    }
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > UINT64_MAX) throw new RangeError(`${what} out of range: ${value}`);
    return value.toString();
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw new TypeError(`expected ${what} as a decimal string, got ${describe(value)}`);
}

const UINT64: TypeCodec = {
  structure: 'UInt64',
  binaryCode:
    `if (typeof v === 'string' && w.u64Text(v, 4294967296)) {} ` +
    `else if (v === undefined) w.u64Zero(); else w.u64Decimal(h.u64Digits(v, 'a UInt64'));`,
  binary(w, value) {
    if (value === undefined) w.u64Zero();
    else w.u64Decimal(u64Digits(value, 'a UInt64'));
  },
  json(value) {
    return u64Digits(value, 'a UInt64');
  },
};

const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;
const SIGNED_DECIMAL = /^-?\d{1,19}$/;

/** 64-bit signed: decimal string (or bigint, or safe integer) → bigint in range. */
function i64Value(value: unknown): bigint {
  let v: bigint;
  if (typeof value === 'string' && SIGNED_DECIMAL.test(value)) v = BigInt(value);
  else if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else throw new TypeError(`expected an Int64 as a decimal string, got ${describe(value)}`);
  if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`Int64 out of range: ${v}`);
  return v;
}

/** Int64 (results that are byte counts or -errno): 8 bytes LE two's complement / bare digits. */
const INT64: TypeCodec = {
  structure: 'Int64',
  binary(w, value) {
    if (value === undefined) {
      w.u64Zero();
      return;
    }
    const u = BigInt.asUintN(64, i64Value(value));
    w.u32(Number(u & 0xffffffffn));
    w.u32(Number(u >> 32n));
  },
  json(value) {
    return i64Value(value).toString();
  },
};

/**
 * Array(UInt8) holds raw bytes (payload prefixes): a Uint8Array (or Buffer) is written as-is —
 * RowBinary's array of UInt8 is a varint length and the bytes, like a String — and a plain array
 * of numbers is accepted too. JSONEachRow: an array of numbers (a String could not carry
 * arbitrary bytes through JSON).
 */
const BYTES: TypeCodec = {
  structure: 'Array(UInt8)',
  binary(w, value) {
    if (value === undefined) {
      w.u8(0);
      return;
    }
    const bytes = toBytes(value);
    w.varint(bytes.length);
    w.bytes(bytes);
  },
  json(value) {
    return `[${Array.prototype.join.call(toBytes(value), ',')}]`;
  },
};

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return Uint8Array.from(value as number[]);
  throw new TypeError(`expected bytes (a Uint8Array), got ${describe(value)}`);
}

/** Nanoseconds since the epoch (decimal string) → Int64 ticks / "seconds.nanoseconds" text. */
const DATETIME64_9: TypeCodec = {
  structure: 'DateTime64(9)',
  binaryCode: `if (typeof v === 'string' && w.u64Text(v, 2147483648)) {} else if (v === undefined) w.u64Zero(); else w.u64Decimal(h.nsDigits(v));`,
  binary(w, value) {
    if (value === undefined) w.u64Zero();
    else w.u64Decimal(nsDigits(value));
  },
  json(value) {
    const digits = nsDigits(value);
    const padded = digits.length < 19 ? digits.padStart(19, '0') : digits;
    return `"${padded.slice(0, -9)}.${padded.slice(-9)}"`;
  },
};

function nsDigits(value: unknown): string {
  const digits = u64Digits(value, 'nanoseconds');
  // DateTime64 is Int64 ticks: the sign bit must stay clear (that is the year 2262).
  if (digits.length > 19 || (digits.length === 19 && digits > '9223372036854775807')) {
    throw new RangeError(`nanoseconds out of DateTime64 range: ${digits}`);
  }
  return digits;
}

function enum8Codec(type: string, body: string): TypeCodec {
  const byName = new Map<string, number>();
  const byValue = new Map<number, string>();
  const entry = /\s*'((?:[^'\\]|\\.|'')*)'\s*=\s*(-?\d+)\s*(,|$)/y;
  let pos = 0;
  while (pos < body.length) {
    entry.lastIndex = pos;
    const m = entry.exec(body);
    if (!m) throw new Error(`cannot parse ${type}`);
    const name = m[1]!.replace(/''|\\(.)/g, (_all, escaped: string | undefined) => escaped ?? "'");
    const value = Number(m[2]);
    if (value < -128 || value > 127 || byName.has(name) || byValue.has(value)) throw new Error(`invalid ${type}`);
    byName.set(name, value);
    byValue.set(value, name);
    pos = entry.lastIndex;
  }
  if (byName.size === 0) throw new Error(`empty ${type}`);
  // ClickHouse's default for an Enum is its smallest value.
  const defaultValue = Math.min(...byValue.keys());
  const valueOf = (value: unknown): number => {
    if (typeof value === 'string') {
      const v = byName.get(value);
      if (v !== undefined) return v;
    } else if (typeof value === 'number' && byValue.has(value)) {
      return value;
    }
    throw new RangeError(`${describe(value)} is not a value of ${type}`);
  };
  return {
    structure: 'Int8',
    // No binaryCode: the generated loop calls binary() (a Map lookup either way).
    binary(w, value) {
      w.u8((value === undefined ? defaultValue : valueOf(value)) & 0xff);
    },
    json(value) {
      return JSON.stringify(byValue.get(valueOf(value))!);
    },
  };
}

function arrayCodec(item: TypeCodec): TypeCodec {
  return {
    structure: `Array(${item.structure})`,
    binary(w, value) {
      if (value === undefined) {
        w.u8(0);
        return;
      }
      if (!Array.isArray(value)) throw new TypeError(`expected an array, got ${describe(value)}`);
      w.varint(value.length);
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v === undefined) throw new TypeError(`array item ${i} is undefined`);
        item.binary(w, v);
      }
    },
    json(value) {
      if (!Array.isArray(value)) throw new TypeError(`expected an array, got ${describe(value)}`);
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        const v = value[i];
        if (v === undefined) throw new TypeError(`array item ${i} is undefined`);
        out += (i === 0 ? '' : ',') + item.json(v);
      }
      return out + ']';
    },
  };
}

/** What generated code reaches for (passed in as `h`). */
const helpers = {
  u64Digits,
  nsDigits,
  bad(what: string, value: unknown): never {
    throw new RangeError(`expected ${what}, got ${describe(value)}`);
  },
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

// ---------------------------------------------------------------------------------------------
// Bytes

const TWO_32 = 4294967296;

/** A growable little-endian byte writer (RowBinary's primitives). */
export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v & 0xff;
    b[p++] = v >>> 8;
    this.pos = p;
  }

  u32(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    let p = this.pos;
    b[p++] = v & 0xff;
    b[p++] = (v >>> 8) & 0xff;
    b[p++] = (v >>> 16) & 0xff;
    b[p++] = v >>> 24;
    this.pos = p;
  }

  u64Zero(): void {
    this.u32(0);
    this.u32(0);
  }

  /** A validated decimal string (≤ 2^64 − 1) as 8 bytes LE; see u64Text. */
  u64Decimal(digits: string): void {
    if (!this.u64Text(digits, TWO_32)) throw new RangeError(`${digits} does not fit in 64 bits`);
  }

  /**
   * Parses a decimal string and writes it as 8 bytes LE, without BigInt or allocations: the digits
   * before the last 9 (≤ 11 of them) and the last 9 are read as two exact doubles, then combined
   * in 32-bit words. Writes nothing and returns false when `s` is not 1–20 digits or its high word
   * reaches `hiLimit` (2^32: UInt64; 2^31: a non-negative Int64).
   */
  u64Text(s: string, hiLimit: number): boolean {
    const n = s.length;
    if (n === 0 || n > 20) return false;
    const split = n > 9 ? n - 9 : 0;
    let top = 0;
    let bottom = 0;
    let i = 0;
    for (; i < split; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      top = top * 10 + d;
    }
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      bottom = bottom * 10 + d;
    }
    let lo: number;
    let hi: number;
    if (top < 9_007_199) {
      const v = top * 1e9 + bottom; // < 2^53: exact
      lo = v % TWO_32;
      hi = (v - lo) / TWO_32;
    } else {
      const topLow16 = top % 65536;
      const topHigh = (top - topLow16) / 65536; // < 2^21
      const x = topLow16 * 1e9 + bottom; // < 2^46
      const y = topHigh * 1e9; // < 2^51: the value is y * 2^16 + x
      const yLow16 = y % 65536;
      const yHigh = (y - yLow16) / 65536; // < 2^35
      const z = yLow16 * 65536 + x; // < 2^47: the value is yHigh * 2^32 + z
      lo = z % TWO_32;
      hi = yHigh + (z - lo) / TWO_32;
    }
    if (hi >= hiLimit) return false;
    this.u32(lo);
    this.u32(hi);
    return true;
  }

  /** LEB128, as RowBinary prefixes strings and arrays. */
  varint(v: number): void {
    while (v >= 0x80) {
      this.u8((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.u8(v);
  }

  /** A String: varint byte length, then UTF-8. */
  string(s: string): void {
    const n = s.length;
    if (n < 43) {
      // At most 3 bytes per UTF-16 unit, so the length fits a one-byte varint: write the bytes
      // after it, then fill it in. ASCII (the common case) is copied in a loop, no call into C++.
      if (this.pos + 1 + n * 3 > this.buf.length) this.grow(1 + n * 3);
      const b = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const ch = s.charCodeAt(i);
        if (ch >= 0x80) break;
        b[start + i] = ch;
      }
      const written = i === n ? n : i + b.write(s.slice(i), start + i, 'utf8');
      b[this.pos] = written;
      this.pos = start + written;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    if (this.pos + bytes > this.buf.length) this.grow(bytes);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += bytes;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Raw UTF-8 text (JSONEachRow lines). */
  utf8(s: string): void {
    const max = s.length * 3;
    if (this.pos + max > this.buf.length) this.grow(max);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

// --- reading RowBinary (the counterpart of the writer above; see selectRowBinary in ./query) ---

/** Below 2^21 in the high word, a 64-bit integer is exact as a double (< 2^53). */
const EXACT_HIGH = 0x200000;

/**
 * Reads RowBinary values in sequence (little endian; strings and arrays prefixed with their
 * length as a LEB128 varint). 64-bit integers come back as decimal strings, like selectRows'.
 * Enum8 columns are Int8 numbers (map them with the enum's names); a DateTime64 is best selected
 * as `toUnixTimestamp64Nano(…)` and read with i64.
 */
export class RowBinaryReader {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  /** Every byte read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(bytes: number): number {
    const at = this.pos;
    if (at + bytes > this.buf.length) throw new RangeError(`RowBinary: ${bytes} bytes wanted at ${at}, ${this.buf.length - at} left`);
    this.pos = at + bytes;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)]!;
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  i8(): number {
    return this.buf.readInt8(this.need(1));
  }

  u16(): number {
    return this.buf.readUInt16LE(this.need(2));
  }

  u32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }

  i32(): number {
    return this.buf.readInt32LE(this.need(4));
  }

  /** UInt64 as a decimal string. */
  u64(): string {
    const at = this.need(8);
    const high = this.buf.readUInt32LE(at + 4);
    return high < EXACT_HIGH ? String(high * TWO_32 + this.buf.readUInt32LE(at)) : this.buf.readBigUInt64LE(at).toString();
  }

  /** Int64 as a decimal string. */
  i64(): string {
    const at = this.need(8);
    const high = this.buf.readInt32LE(at + 4);
    return high >= -EXACT_HIGH && high < EXACT_HIGH ? String(high * TWO_32 + this.buf.readUInt32LE(at)) : this.buf.readBigInt64LE(at).toString();
  }

  /** A LEB128 length (strings, arrays). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
      if (scale > 2 ** 49) throw new RangeError('RowBinary: length varint too long');
    }
  }

  string(): string {
    const length = this.varint();
    const at = this.need(length);
    return length === 0 ? '' : this.buf.toString('utf8', at, at + length);
  }

  /** Array(UInt8) as its bytes: a view into the buffer read (no copy). */
  bytes(): Uint8Array {
    const length = this.varint();
    const at = this.need(length);
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + at, length);
  }

  strings(): string[] {
    const n = this.varint();
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.string();
    return out;
  }
}
