import type { Db } from '../../db/client';

/**
 * For tests: storage whose inserts into `table` fail for the units `fails` picks (by dedup
 * token): before anything is written (a crash between the intent row and the data), or after the
 * rows are in (a crash right after the data insert). `hits` lists the tokens that failed.
 */
export function failingDb(db: Db, mode: 'before' | 'after', fails: (token: string) => boolean, table = 'process_events') {
  const hits: string[] = [];
  const wrapped: Db = {
    ...db,
    rawExec: async (sql) => {
      const token = /insert_deduplication_token = '([^']*)'/.exec(sql)?.[1] ?? '';
      const failing = sql.startsWith(`INSERT INTO ${table} `) && fails(token);
      if (failing) hits.push(token);
      if (failing && mode === 'before') throw new Error(`injected failure before storing ${token}`);
      await db.rawExec!(sql);
      if (failing) throw new Error(`injected failure after storing ${token}`);
    },
  };
  return { db: wrapped, hits };
}

/** The first seq of a unit's dedup token (`sensor:epoch:first-last`). */
export const firstSeqOf = (token: string) => Number(/:(\d+)-\d+$/.exec(token)?.[1] ?? 0);
