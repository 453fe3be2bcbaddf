import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './migrate';
import { migrations } from './migrations';
import { selectRows } from './query';
import { openTestDb } from './testing';
import type { Migration } from './migrations/types';

describe('migration runner on a fresh embedded database', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;
  beforeAll(async () => {
    t = await openTestDb({ migrate: false });
  });
  afterAll(async () => t.close());

  it('applies every migration once and records it', async () => {
    const first = await migrate(t.db);
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    expect(first.skipped).toEqual([]);
    const tables = await selectRows<{ name: string }>(t.db, {
      sql: "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name",
      tag: 'test',
    });
    expect(tables.map((r) => r.name)).toEqual(
      expect.arrayContaining(['process_events', 'processes', 'schema_migrations', 'sensor_batches', 'sensor_gaps', 'sensor_status']),
    );
  });

  it('is a no-op the second time', async () => {
    const second = await migrate(t.db);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(migrations.map((m) => m.name));
    const rows = await selectRows<{ c: string }>(t.db, { sql: 'SELECT count() AS c FROM schema_migrations FINAL', tag: 'test' });
    expect(Number(rows[0]!.c)).toBe(migrations.length);
  });

  it('tolerates two runners at once (idempotent DDL, one record per version)', async () => {
    const extra: Migration = {
      version: 9001,
      name: '9001_create_concurrency_probe',
      statements: (f) => [`CREATE TABLE IF NOT EXISTS ${f.database}.concurrency_probe (x UInt8) ENGINE = MergeTree ORDER BY x`],
    };
    const list = [...migrations, extra];
    const [a, b] = await Promise.all([migrate(t.db, list), migrate(t.db, list)]);
    expect([...a.applied, ...b.applied].every((n) => n === extra.name)).toBe(true);
    const rows = await selectRows<{ c: string }>(t.db, {
      sql: 'SELECT count() AS c FROM schema_migrations FINAL WHERE version = 9001',
      tag: 'test',
    });
    expect(Number(rows[0]!.c)).toBe(1);
  });

  it('refuses a shipped migration whose DDL changed', async () => {
    const changed = migrations.map((m, i) =>
      i === 0 ? { ...m, statements: () => ['CREATE TABLE IF NOT EXISTS default.changed (x UInt8) ENGINE = MergeTree ORDER BY x'] } : m,
    );
    await expect(migrate(t.db, changed)).rejects.toThrow(/changed after it was applied/);
  });
});
