import { createHash } from 'node:crypto';
import { renderTable } from './schema/render';
import { schemaMigrations } from './schema/tables';
import type { Flavour } from './schema/types';
import { migrations as allMigrations } from './migrations';
import type { Migration } from './migrations/types';
import type { Db } from './client';
import { insertRows } from './query';
import { nowNs } from './time';

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

/** Checksum of a migration's DDL in the single flavour: detects a migration edited after it shipped. */
export function migrationChecksum(migration: Migration): string {
  const sql = migration.statements({ database: 'db', cluster: null }).join(';\n');
  return createHash('sha256').update(sql).digest('hex').slice(0, 16);
}

/** Renders every migration for a flavour (used by `npm run migrate -- --print` and tests). */
export function renderAllMigrations(flavour: Flavour, migrations: readonly Migration[] = allMigrations): string[] {
  return [...renderTable(schemaMigrations, flavour), ...migrations.flatMap((m) => m.statements(flavour))];
}

/**
 * Applies pending migrations and records each one.
 *
 * Safe to run twice: applied versions are skipped, and every statement is idempotent anyway.
 * Safe when two processes start at once (a ClickHouse server; embedded chDB allows one process per
 * directory): ClickHouse has no transactional DDL or advisory locks, so instead of a lock both
 * runners may execute the same IF-NOT-EXISTS statements, and the bookkeeping row is a
 * ReplacingMergeTree keyed by version inserted with a per-version dedup token — either way one
 * logical record results. A recorded migration whose checksum changed is refused loudly.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = allMigrations): Promise<MigrationReport> {
  const flavour: Flavour = { database: db.database, cluster: db.cluster };
  for (const statement of renderTable(schemaMigrations, flavour)) {
    await db.client.command({ query: statement, clickhouse_settings: { log_comment: 'migrate' } });
  }
  const applied = await appliedMigrations(db);
  const report: MigrationReport = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const checksum = migrationChecksum(migration);
    const recorded = applied.get(migration.version);
    if (recorded) {
      if (recorded.checksum !== checksum) {
        throw new Error(
          `migration ${migration.name} was changed after it was applied (checksum ${recorded.checksum} → ${checksum}); add a new migration instead`,
        );
      }
      report.skipped.push(migration.name);
      continue;
    }
    for (const statement of migration.statements(flavour)) {
      await db.client.command({ query: statement, clickhouse_settings: { log_comment: `migrate:${migration.name}` } });
    }
    // Through insertRows: the token goes into the statement. (As a client setting, chDB would
    // turn it into a session-wide SET, and later inserts without a token of their own would be
    // deduplicated against it.)
    await insertRows(db, {
      table: schemaMigrations,
      rows: [{ version: migration.version, name: migration.name, checksum, applied_at: nowNs().toString() }],
      tag: 'migrate',
      dedupToken: `migration:${migration.version}`,
    });
    report.applied.push(migration.name);
  }
  return report;
}

async function appliedMigrations(db: Db): Promise<Map<number, { name: string; checksum: string }>> {
  const result = await db.client.query({
    query: 'SELECT version, argMax(name, applied_at) AS name, argMax(checksum, applied_at) AS checksum FROM schema_migrations GROUP BY version',
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: 'migrate' },
  });
  const rows = await result.json<{ version: number; name: string; checksum: string }>();
  return new Map(rows.map((r) => [Number(r.version), { name: r.name, checksum: r.checksum }]));
}
