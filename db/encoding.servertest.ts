import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from './client';
import { insertRows, insertSpoolDir, selectRows, spoolDirIn } from './query';
import { renderTable } from './schema/render';
import type { TableDef } from './schema/types';
import { openTestDb } from './testing';

// Both encoders against the real engine: every column type the tables use round-trips exactly,
// and the same rows give the same table through RowBinary files and JSONEachRow.

const columns: TableDef['columns'] = [
  { name: 'id', type: 'UInt32' },
  { name: 's', type: 'String' },
  { name: 'lc', type: 'LowCardinality(String)' },
  { name: 'u8', type: 'UInt8' },
  { name: 'u16', type: 'UInt16' },
  { name: 'u32', type: 'UInt32' },
  { name: 'u64', type: 'UInt64' },
  { name: 'i8', type: 'Int8' },
  { name: 'i32', type: 'Int32' },
  { name: 'b', type: 'Bool' },
  { name: 'e', type: "Enum8('exec' = 1, 'fork' = 2, 'exit' = 3, 'neg' = -5)" },
  { name: 't', type: "DateTime64(9, 'UTC')" },
  { name: 'a', type: 'Array(String)' },
  { name: 'i64', type: 'Int64' },
  { name: 'p', type: 'Array(UInt8)' },
];
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const def = (name: string): TableDef => ({ name, comment: 'encoder test', columns, engine: 'MergeTree', orderBy: 'id', shardingKey: 'id', settings: { non_replicated_deduplication_window: 100 } });
const viaBinary = def('enc_binary');
const viaJson = def('enc_json');

const bigArray = Array.from({ length: 5000 }, (_, i) => `arg-${i}-${'ß'.repeat(i % 7)}`);
const rows = [
  {
    id: 1, s: 'plain', lc: 'docker', u8: 255, u16: 65535, u32: 4294967295, u64: '18446744073709551615', i8: -128, i32: -2147483648,
    b: true, e: 'fork', t: '1767225600123456789', a: ['sh', '-c', 'echo "hi" \\ \'quoted\''], i64: '-9223372036854775808', p: allBytes,
  },
  {
    id: 2, s: 'ünïcödé 😀 \u0000 \t\n\\ "', lc: '', u8: 0, u16: 0, u32: 0, u64: '0', i8: 127, i32: -1,
    b: false, e: 'neg', t: '1', a: [], i64: '-115', p: Buffer.from('BCN1'),
  },
  { id: 3, s: 'x'.repeat(100_000), lc: 'containerd', u64: '9007199254740993', i32: 2147483647, e: 'exit', t: '9223372036854775807', a: bigArray, i64: '9223372036854775807', p: [] },
  // Everything omitted but the key: the columns' defaults.
  { id: 4 },
  { id: 5, u64: '4294967296', t: '1700000000000000001', a: [''], e: 3 },
];

const SELECT = `SELECT id, s, lc, u8, u16, u32, u64, i8, i32, b, toString(e) AS e,
                toString(toUnixTimestamp64Nano(t)) AS t, a, toString(i64) AS i64,
                arrayStringConcat(arrayMap(x -> hex(x), p)) AS p FROM {table} ORDER BY id`;

let t: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;

async function dump(table: string) {
  return selectRows<Record<string, unknown>>(db, { sql: SELECT.replace('{table}', table), tag: 'test' });
}

async function count(table: string): Promise<number> {
  const [row] = await selectRows<{ n: string }>(db, { sql: `SELECT count() AS n FROM ${table}`, tag: 'test' });
  return Number(row!.n);
}

/** This process's files in the spool directory (other test files may be inserting meanwhile). */
function spoolEntries(): string[] {
  return fs.readdirSync(insertSpoolDir()).filter((name) => name.startsWith(`${process.pid}-`));
}

beforeAll(async () => {
  t = await openTestDb({ migrate: false });
  db = t.db;
  for (const table of [viaBinary, viaJson]) {
    for (const sql of renderTable(table, { database: 'default', cluster: null })) await db.client.command({ query: sql });
  }
  await insertRows(db, { table: viaBinary, rows, tag: 'test', format: 'RowBinary' });
  await insertRows(db, { table: viaJson, rows, tag: 'test', format: 'JSONEachRow' });
});

afterAll(async () => t?.close());

describe('row encoders on the embedded engine', () => {
  it('picks RowBinary through a file when embedded', async () => {
    const { insertFormat } = await import('./query');
    expect(insertFormat(db)).toBe('RowBinary');
  });

  it('round-trips every type exactly through RowBinary', async () => {
    const stored = await dump('enc_binary');
    expect(stored).toHaveLength(rows.length);
    expect(stored[0]).toEqual({
      id: 1, s: 'plain', lc: 'docker', u8: 255, u16: 65535, u32: 4294967295, u64: '18446744073709551615', i8: -128, i32: -2147483648,
      b: true, e: 'fork', t: '1767225600123456789', a: ['sh', '-c', 'echo "hi" \\ \'quoted\''],
      i64: '-9223372036854775808', p: Buffer.from(allBytes).toString('hex').toUpperCase(),
    });
    expect(stored[1]).toMatchObject({ s: 'ünïcödé 😀 \u0000 \t\n\\ "', e: 'neg', t: '1', a: [], i32: -1, i8: 127, b: false, i64: '-115', p: '42434E31' });
    expect(stored[2]).toMatchObject({ u64: '9007199254740993', t: '9223372036854775807', i32: 2147483647, e: 'exit' });
    expect((stored[2]!.s as string).length).toBe(100_000);
    expect(stored[2]!.a).toEqual(bigArray);
    expect(stored[3]).toEqual({ id: 4, s: '', lc: '', u8: 0, u16: 0, u32: 0, u64: '0', i8: 0, i32: 0, b: false, e: 'neg', t: '0', a: [], i64: '0', p: '' });
    expect(stored[2]).toMatchObject({ i64: '9223372036854775807', p: '' });
    expect(stored[4]).toMatchObject({ u64: '4294967296', t: '1700000000000000001', a: [''], e: 'exit' });
  });

  it('stores the same table through JSONEachRow', async () => {
    expect(await dump('enc_json')).toEqual(await dump('enc_binary'));
    const [diff] = await selectRows<{ n: string }>(db, {
      sql: `SELECT count() AS n FROM (SELECT * FROM enc_binary EXCEPT SELECT * FROM enc_json)`,
      tag: 'test',
    });
    expect(Number(diff!.n)).toBe(0);
  });

  it('stores the same table through the server path (INSERT … FORMAT JSONEachRow, body streamed)', async () => {
    // A Db without the embedded shortcuts takes the path used with a ClickHouse server; chDB's
    // connection runs the same statement.
    const asServer: Db = { ...db, rawExec: undefined, rawInsert: undefined };
    const viaServer = def('enc_server');
    for (const sql of renderTable(viaServer, { database: 'default', cluster: null })) await db.client.command({ query: sql });
    await insertRows(asServer, { table: viaServer, rows, tag: 'test', dedupToken: 'enc:server' });
    await insertRows(asServer, { table: viaServer, rows, tag: 'test', dedupToken: 'enc:server' });
    expect(await dump('enc_server')).toEqual(await dump('enc_binary'));
  });

  it('deduplicates a file insert repeated with the same token', async () => {
    const extra = [{ id: 100, s: 'once' }];
    await insertRows(db, { table: viaBinary, rows: extra, tag: 'test', dedupToken: 'enc:once' });
    await insertRows(db, { table: viaBinary, rows: extra, tag: 'test', dedupToken: 'enc:once' });
    expect(await count('enc_binary')).toBe(rows.length + 1);
  });

  it('spools into a private directory, a 0600 file per insert, removed afterwards', async () => {
    const dir = insertSpoolDir();
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const seen: { file: string; mode: number }[] = [];
    const spying: Db = {
      ...db,
      rawExec: async (sql) => {
        const file = /file\('([^']+)'/.exec(sql)![1]!;
        seen.push({ file, mode: fs.statSync(file).mode & 0o777 });
        return db.rawExec!(sql);
      },
    };
    await insertRows(spying, { table: viaBinary, rows: [{ id: 200 }], tag: 'test' });
    await insertRows(spying, { table: viaBinary, rows: [{ id: 201 }], tag: 'test' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.file).not.toBe(seen[1]!.file);
    expect(path.dirname(seen[0]!.file)).toBe(dir);
    expect(seen.map((s) => s.mode)).toEqual([0o600, 0o600]);
    expect(spoolEntries()).toEqual([]);
  });

  it('uses the well-known spool directory only when it is private to this user', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-spool-test-'));
    try {
      const known = path.join(base, `soc-ingest-${process.getuid!()}`);
      // Files of a process that is gone are removed; this process's are not.
      fs.mkdirSync(known, { mode: 0o700 });
      const gone = spawnSync('true').pid!;
      fs.writeFileSync(path.join(known, `${gone}-1-abc.bin`), 'x');
      fs.writeFileSync(path.join(known, `${process.pid}-1-abc.bin`), 'x');
      expect(spoolDirIn(base)).toBe(known);
      expect(fs.readdirSync(known)).toEqual([`${process.pid}-1-abc.bin`]);
      // Readable by others, or a symlink: a fresh private directory instead.
      fs.chmodSync(known, 0o755);
      const fresh = spoolDirIn(base);
      expect(fresh).not.toBe(known);
      expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
      fs.rmSync(known, { recursive: true });
      fs.symlinkSync(fresh, known);
      expect(spoolDirIn(base)).not.toBe(known);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('leaves no file behind when the insert fails', async () => {
    // Into a table the rows do not fit: the engine refuses the statement.
    const other: TableDef = { ...viaBinary, name: 'enc_missing' };
    await expect(insertRows(db, { table: other, rows: [{ id: 1 }], tag: 'test' })).rejects.toThrow(/enc_missing/);
    const failing: Db = { ...db, rawExec: async () => Promise.reject(new Error('engine down')) };
    await expect(insertRows(failing, { table: viaBinary, rows: [{ id: 300 }], tag: 'test' })).rejects.toThrow(/engine down/);
    expect(spoolEntries()).toEqual([]);
    expect(await count('enc_binary')).toBe(rows.length + 3);
  });
});
