import { describe, expect, it } from 'vitest';
import { renderAllMigrations } from '../migrate';
import { renderTable } from './render';
import { processEvents } from './tables';

describe('DDL rendering', () => {
  it('renders the single-server flavour with the dedup window', () => {
    const [sql, ...rest] = renderTable(processEvents, { database: 'default', cluster: null });
    expect(rest).toEqual([]);
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS default.process_events\n');
    expect(sql).toContain('ENGINE = MergeTree()');
    expect(sql).toContain('PARTITION BY toYYYYMMDD(ts)');
    expect(sql).toContain('ORDER BY (node, exec_id, ts)');
    expect(sql).toContain('non_replicated_deduplication_window = 10000');
  });

  it('renders the cluster flavour: ON CLUSTER, Replicated engines, Distributed tables sharded by node', () => {
    const statements = renderAllMigrations({ database: 'soc', cluster: 'prod' });
    const local = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS soc.process_events_local'));
    const distributed = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS soc.process_events '));
    expect(local).toContain(" ON CLUSTER 'prod'");
    expect(local).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')");
    expect(local).not.toContain('non_replicated_deduplication_window');
    expect(distributed).toContain("ENGINE = Distributed('prod', 'soc', 'process_events_local', cityHash64(node))");
    const replacing = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS soc.sensor_status_local'));
    expect(replacing).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', observed_at)");
    const view = statements.find((s) => s.startsWith('CREATE VIEW IF NOT EXISTS soc.processes'));
    expect(view).toContain(" ON CLUSTER 'prod'");
    expect(view).toContain('FROM soc.process_events\n');
    // Every statement is idempotent, so concurrent or repeated runs are safe (a view that a later
    // migration redefines is replaced: it holds no data; MODIFY COLUMN to the type it already has
    // and an UPDATE whose WHERE matches nothing any more are no-ops).
    for (const s of statements) expect(s).toMatch(/IF NOT EXISTS|^CREATE OR REPLACE VIEW |^ALTER TABLE \S+( ON CLUSTER '[^']+')? (MODIFY COLUMN \w+ |UPDATE \w+ = .* WHERE )/);
    const added = statements.filter((s) => s.includes('ADD COLUMN IF NOT EXISTS workload '));
    expect(added.map((s) => s.split(' ADD')[0])).toEqual([
      "ALTER TABLE soc.process_events_local ON CLUSTER 'prod'",
      "ALTER TABLE soc.process_events ON CLUSTER 'prod'",
    ]);
    expect(statements.find((s) => s.startsWith('CREATE OR REPLACE VIEW soc.processes'))).toContain('AS workload_kind');
  });

  it('rejects identifiers that are not plain names', () => {
    expect(() => renderTable({ ...processEvents, name: 'x; DROP TABLE y' }, { database: 'default', cluster: null })).toThrow(/invalid identifier/);
  });
});
