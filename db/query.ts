import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from './client';
import { rowEncoder, type CanonicalRow, type RowFormat } from './encoding';
import type { TableDef } from './schema/types';

/**
 * The primitives repositories use. Every query is parameterised (ClickHouse server-side
 * parameters, `{name:Type}` in the SQL) and tagged with the feature that ran it (`log_comment`,
 * visible in system.query_log). 64-bit integers come back as strings: JavaScript numbers would
 * silently lose precision on ids, sequence numbers and nanosecond timestamps.
 */
export async function selectRows<T>(
  db: Db,
  query: { sql: string; params?: Record<string, unknown>; tag: string },
): Promise<T[]> {
  const result = await db.client.query({
    query: query.sql,
    query_params: query.params,
    format: 'JSONEachRow',
    clickhouse_settings: {
      output_format_json_quote_64bit_integers: 1,
      log_comment: query.tag,
    },
  });
  return result.json<T>();
}

/**
 * Rows in ClickHouse's RowBinary format, not decoded (read them with RowBinaryReader from ./encoding, in the order
 * the SELECT names its columns): for reads of tens of thousands of rows, where parsing JSON and
 * building an object per row with every value as text would cost more than the query itself.
 */
export async function selectRowBinary(
  db: Db,
  query: { sql: string; params?: Record<string, unknown>; tag: string },
): Promise<Buffer> {
  const result = await db.client.exec({
    query: `${query.sql}\nFORMAT RowBinary`,
    query_params: query.params,
    clickhouse_settings: { log_comment: query.tag },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Rows of one table, encoded and ready to insert (see prepareInsert). */
export interface PreparedInsert {
  table: TableDef;
  format: RowFormat;
  columns: readonly string[];
  structure: string;
  rows: number;
  body: Buffer;
}

/** The format an insert into `db` uses: RowBinary through a file when embedded, else JSONEachRow. */
export function insertFormat(db: Db): RowFormat {
  return db.rawExec ? 'RowBinary' : 'JSONEachRow';
}

/**
 * Encodes canonical rows (see db/encoding.ts) for `db`, without touching storage: the ingest path
 * encodes the next unit while the engine is still inserting the previous one.
 */
export function prepareInsert(
  db: Db,
  insert: { table: TableDef; rows: readonly CanonicalRow[]; format?: RowFormat },
): PreparedInsert {
  const encoder = rowEncoder(insert.table, insert.format ?? insertFormat(db));
  return {
    table: insert.table,
    format: encoder.format,
    columns: encoder.columns,
    structure: encoder.structure,
    rows: insert.rows.length,
    body: encoder.encode(insert.rows),
  };
}

/** Rows for one insert, encoded as they are added (see RowSink); finish() gives the insert. */
export interface InsertBuilder {
  add(row: CanonicalRow): void;
  readonly rows: number;
  finish(): PreparedInsert;
}

export function insertBuilder(db: Db, insert: { table: TableDef; format?: RowFormat; expectedRows?: number }): InsertBuilder {
  const encoder = rowEncoder(insert.table, insert.format ?? insertFormat(db));
  const sink = encoder.sink(insert.expectedRows);
  return {
    add: (row) => sink.add(row),
    get rows() {
      return sink.rows;
    },
    finish: () => ({
      table: insert.table,
      format: encoder.format,
      columns: encoder.columns,
      structure: encoder.structure,
      rows: sink.rows,
      body: sink.finish(),
    }),
  };
}

/**
 * Runs a prepared insert. With a dedup token, a retry of the same insert is stored once (tables
 * that take tokens set a deduplication window: see db/schema/tables.ts). Settings are written
 * into the statement itself, never as session settings (see Db.rawExec).
 *
 * - RowBinary (embedded): the body goes to a file of its own in a private directory (0700, in
 *   /dev/shm when there is one), mode 0600, read with `INSERT … SELECT * FROM file(…)`, and is
 *   removed afterwards whatever happened.
 * - JSONEachRow: embedded, chDB's zero-copy raw insert; a server, an INSERT … FORMAT JSONEachRow
 *   with the body streamed.
 */
export async function runInsert(db: Db, prepared: PreparedInsert, options: { tag: string; dedupToken?: string }): Promise<void> {
  if (prepared.rows === 0) return;
  const table = ident(prepared.table.name);
  const columns = prepared.columns.map(ident).join(', ');
  // An empty token explicitly: a session-level token (see Db.rawExec) must never apply here.
  const settings = `insert_deduplication_token = ${quote(options.dedupToken ?? '')}, log_comment = ${quote(options.tag)}`;
  if (prepared.format === 'RowBinary') {
    if (!db.rawExec) throw new Error('RowBinary inserts need the embedded engine');
    const file = spoolFile();
    try {
      await fs.promises.writeFile(file, prepared.body, { mode: 0o600, flag: 'wx' });
      await db.rawExec(
        `INSERT INTO ${table} (${columns}) SETTINGS ${settings} ` +
          `SELECT * FROM file(${quote(file)}, 'RowBinary', ${quote(prepared.structure)})`,
      );
    } finally {
      await fs.promises.rm(file, { force: true });
    }
    return;
  }
  if (db.rawInsert) {
    await db.rawInsert({
      table: prepared.table.name,
      values: prepared.body,
      format: 'JSONEachRow',
      settings: { insert_deduplication_token: options.dedupToken ?? '', log_comment: options.tag },
    });
    return;
  }
  const { Readable } = await import('node:stream');
  const result = await db.client.exec({
    query: `INSERT INTO ${table} (${columns}) SETTINGS ${settings} FORMAT JSONEachRow`,
    values: Readable.from([prepared.body]),
  });
  result.stream.destroy();
}

/** Encodes and inserts canonical rows (prepareInsert + runInsert). */
export async function insertRows(
  db: Db,
  insert: { table: TableDef; rows: readonly CanonicalRow[]; tag: string; dedupToken?: string; format?: RowFormat },
): Promise<void> {
  if (insert.rows.length === 0) return;
  await runInsert(db, prepareInsert(db, insert), { tag: insert.tag, dedupToken: insert.dedupToken });
}

// ---------------------------------------------------------------------------------------------

function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid identifier: ${name}`);
  return name;
}

/** An SQL string literal. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

let spoolDir: string | null = null;
let spoolCounter = 0;

/** A fresh file name in the spool directory: `<pid>-<n>-<random>.bin`. */
function spoolFile(): string {
  spoolDir ??= openSpoolDir();
  return path.join(spoolDir, `${process.pid}-${++spoolCounter}-${randomBytes(6).toString('hex')}.bin`);
}

/** Where insert files are spooled (created on first use); exported for tests. */
export function insertSpoolDir(): string {
  spoolDir ??= openSpoolDir();
  return spoolDir;
}

/**
 * The spool directory: `soc-ingest-<uid>` in /dev/shm (memory), else in the system temp
 * directory. It is shared by this user's processes (files carry their pid), so none is left
 * behind per process; since its name is predictable in a world-writable directory, it is used only
 * if it is a real directory owned by this user with no access for others — otherwise a fresh
 * private one (mkdtemp) is made. Files of processes that are gone (killed mid-insert) are removed.
 */
function openSpoolDir(): string {
  let lastError: unknown = null;
  for (const base of ['/dev/shm', os.tmpdir()]) {
    try {
      return spoolDirIn(base);
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`no directory for insert files: ${(lastError as Error)?.message ?? lastError}`);
}

/** The spool directory under `base` (see openSpoolDir); exported for tests. */
export function spoolDirIn(base: string): string {
  const uid = process.getuid?.() ?? null;
  const dir = path.join(base, `soc-ingest-${uid ?? 'user'}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(dir);
  if (st.isDirectory() && (uid === null || st.uid === uid) && (st.mode & 0o077) === 0) {
    removeStaleFiles(dir);
    return dir;
  }
  return fs.mkdtempSync(path.join(base, 'soc-ingest-')); // mode 0700
}

function removeStaleFiles(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}
