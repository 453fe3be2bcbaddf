import type { Db } from './client';

/**
 * The two primitives repositories use. Every query is parameterised (ClickHouse server-side
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
 * Inserts rows as JSONEachRow. With a dedup token, a retry of the same insert is stored once
 * (tables that take tokens set a deduplication window: see db/schema/tables.ts).
 */
export async function insertRows(
  db: Db,
  insert: { table: string; rows: readonly Record<string, unknown>[]; tag: string; dedupToken?: string },
): Promise<void> {
  if (insert.rows.length === 0) return;
  if (db.rawInsert) {
    // Embedded: hand chDB one NDJSON buffer, parsed natively (the fastest path measured here).
    await db.rawInsert({
      table: insert.table,
      values: Buffer.from(insert.rows.map((row) => JSON.stringify(row)).join('\n')),
      format: 'JSONEachRow',
      settings: {
        log_comment: insert.tag,
        ...(insert.dedupToken ? { insert_deduplication_token: insert.dedupToken } : {}),
      },
    });
    return;
  }
  await db.client.insert({
    table: insert.table,
    values: insert.rows as Record<string, unknown>[],
    format: 'JSONEachRow',
    clickhouse_settings: {
      log_comment: insert.tag,
      ...(insert.dedupToken ? { insert_deduplication_token: insert.dedupToken } : {}),
    },
  });
}
