import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDb, openDb, type Db } from './client';

/**
 * A real embedded ClickHouse (chDB) on a fresh temporary directory, for *.servertest.ts files.
 * chDB allows one engine per process, and vitest runs each test file in its own process.
 */
export async function openTestDb(options: { migrate?: boolean } = {}): Promise<{ db: Db; dir: string; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-chdb-'));
  const db = await openDb({ mode: 'embedded', chdbPath: dir, database: 'default' }, options);
  return {
    db,
    dir,
    async close() {
      await closeDb(db);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
