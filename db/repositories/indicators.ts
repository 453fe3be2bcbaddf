import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { indicators } from '../schema/detection';
import { nsToClickHouse } from '../time';

/**
 * Indicators (db/schema/detection.ts): a ReplacingMergeTree keyed by a deterministic id, so a
 * folded repeat (count + 1, a later last-seen time) is a new row version of the same indicator;
 * reads use FINAL. Only the detector writes them (and an analyst's allow marks one allowed).
 */

export type IndicatorKind = 'syscall' | 'io_uring_op' | 'exec' | 'endpoint' | 'file';
export type Severity = 'low' | 'medium' | 'high';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];

export interface IndicatorRecord {
  id: string;
  tsNs: string;
  lastSeenNs: string;
  /** Decimal string (UInt64). */
  count: string;
  node: string;
  execId: string;
  lastExecId: string;
  execIds: string[];
  workload: string;
  workloadKind: string;
  executable: string;
  kind: IndicatorKind;
  value: string;
  severity: Severity;
  deviation: boolean;
  rules: string[];
  profileVersion: number;
  profileStatus: 'learning' | 'completed';
  sentence: string;
  /** JSON (see server/detection/explain.ts). */
  explanation: string;
  state: 'open' | 'allowed';
  updatedAtNs: string;
  rowVersion: string;
}

export async function upsertIndicators(db: Db, records: readonly IndicatorRecord[]): Promise<void> {
  await insertRows(db, {
    table: indicators,
    rows: records.map((r) => ({
      id: r.id,
      ts: r.tsNs,
      last_seen: r.lastSeenNs,
      count: r.count,
      node: r.node,
      exec_id: r.execId,
      last_exec_id: r.lastExecId,
      exec_ids: r.execIds,
      workload: r.workload,
      workload_kind: r.workloadKind,
      executable: r.executable,
      kind: r.kind,
      value: r.value,
      severity: r.severity,
      deviation: r.deviation,
      rules: r.rules,
      profile_version: r.profileVersion,
      profile_status: r.profileStatus,
      sentence: r.sentence,
      explanation: r.explanation,
      state: r.state,
      updated_at: r.updatedAtNs,
      row_version: r.rowVersion,
    })),
    tag: 'indicators.write',
  });
}

const COLUMNS = `id, toString(toUnixTimestamp64Nano(ts)) AS tsNs, toString(toUnixTimestamp64Nano(last_seen)) AS lastSeenNs,
  toString(count) AS count, toString(node) AS node, exec_id AS execId, last_exec_id AS lastExecId, exec_ids AS execIds,
  workload, toString(workload_kind) AS workloadKind, executable, toString(kind) AS kind, value, toString(severity) AS severity,
  deviation, rules, profile_version AS profileVersion, toString(profile_status) AS profileStatus, sentence, explanation,
  toString(state) AS state, toString(toUnixTimestamp64Nano(updated_at)) AS updatedAtNs, toString(row_version) AS rowVersion`;

function toRecord(row: IndicatorRecord): IndicatorRecord {
  return { ...row, deviation: Boolean(row.deviation), profileVersion: Number(row.profileVersion) };
}

export interface IndicatorQuery {
  fromNs: string;
  toNs: string;
  node?: string;
  workload?: string;
  kind?: IndicatorKind;
  /** At least this severity. */
  severity?: Severity;
  limit: number;
}

/** Indicators active in [from, to] (first seen before `to`, last seen after `from`), newest first. */
export async function listIndicators(db: Db, query: IndicatorQuery): Promise<IndicatorRecord[]> {
  // Columns are named through the table alias: the SELECT's aliases (kind, severity, node) shadow them.
  const filters = [`i.ts <= {to:DateTime64(9, 'UTC')}`, `i.last_seen >= {from:DateTime64(9, 'UTC')}`];
  const params: Record<string, unknown> = { from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs), limit: query.limit };
  if (query.node) {
    filters.push('i.node = {node:String}');
    params.node = query.node;
  }
  if (query.workload) {
    filters.push('i.workload = {workload:String}');
    params.workload = query.workload;
  }
  if (query.kind) {
    filters.push('toString(i.kind) = {kind:String}');
    params.kind = query.kind;
  }
  if (query.severity) {
    // Enum8 values: low 1, medium 2, high 3.
    filters.push('CAST(i.severity AS Int8) >= {severity:Int8}');
    params.severity = SEVERITIES.indexOf(query.severity) + 1;
  }
  const rows = await selectRows<IndicatorRecord>(db, {
    sql: `SELECT ${COLUMNS} FROM indicators AS i FINAL
          WHERE ${filters.join(' AND ')}
          ORDER BY i.ts DESC, id
          LIMIT {limit:UInt32}`,
    params,
    tag: 'indicators.list',
  });
  return rows.map(toRecord);
}

export async function getIndicator(db: Db, id: string): Promise<IndicatorRecord | null> {
  const rows = await selectRows<IndicatorRecord>(db, {
    sql: `SELECT ${COLUMNS} FROM indicators FINAL WHERE id = {id:String}`,
    params: { id },
    tag: 'indicators.get',
  });
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Indicators last seen after `sinceNs` (the detector folds new repeats into them after a restart). */
export async function listIndicatorsSeenSince(db: Db, sinceNs: string): Promise<IndicatorRecord[]> {
  const rows = await selectRows<IndicatorRecord>(db, {
    sql: `SELECT ${COLUMNS} FROM indicators FINAL WHERE last_seen >= {since:DateTime64(9, 'UTC')}`,
    params: { since: nsToClickHouse(sinceNs) },
    tag: 'indicators.load',
  });
  return rows.map(toRecord);
}

/** Indicators per workload (open, total) for the baselines list. */
export async function countIndicatorsByWorkload(db: Db, sinceNs: string): Promise<Map<string, { open: number; total: number }>> {
  const rows = await selectRows<{ workload: string; open: string; total: string }>(db, {
    sql: `SELECT workload, countIf(state = 'open') AS open, count() AS total
          FROM indicators FINAL WHERE last_seen >= {since:DateTime64(9, 'UTC')} GROUP BY workload`,
    params: { since: nsToClickHouse(sinceNs) },
    tag: 'indicators.by_workload',
  });
  return new Map(rows.map((r) => [r.workload, { open: Number(r.open), total: Number(r.total) }]));
}
