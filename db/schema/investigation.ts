import { investigations } from './zoom';
import type { TableDef } from './types';

/**
 * Tables of the investigation page (migration 0006): the analysts' verdicts and notes.
 *
 * Both are append-only and keyed by investigation, apart from `investigations` on purpose: the
 * zoom service rewrites an investigation's row from a copy it read earlier (adding an indicator,
 * a manual zoom), which would silently revert a verdict written in between. A verdict is a new row
 * here (the newest is current, the older ones are its history); who and when are columns.
 * Inserts carry the verdict's or note's id as their dedup token: a retried insert is stored once.
 */

const NS = "DateTime64(9, 'UTC')";
const DEDUP_WINDOW = { non_replicated_deduplication_window: 10_000 };
const INVESTIGATION_SHARD = 'cityHash64(investigation_id)';

/** The verdicts an analyst can reach (API order). */
export const VERDICTS = ['benign', 'malicious', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** investigations.verdict after migration 0006: 'suspicious' is gone (nothing ever set it), 'inconclusive' added; numbers kept. */
export const INVESTIGATION_VERDICT_ENUM = "Enum8('none' = 0, 'benign' = 1, 'malicious' = 3, 'inconclusive' = 4)";

const actorColumns = [
  { name: 'actor_type', type: 'LowCardinality(String)' },
  { name: 'actor_id', type: 'String' },
  { name: 'actor_name', type: 'String' },
  { name: 'actor_role', type: 'LowCardinality(String)' },
];

/** An append-only table of analysts' rows about investigations, read per investigation in time order. */
function byInvestigation(name: string, comment: string, idColumn: string, columns: TableDef['columns']): TableDef {
  return {
    name,
    comment,
    columns: [{ name: 'investigation_id', type: 'String' }, { name: idColumn, type: 'String' }, { name: 'ts', type: NS }, ...columns, ...actorColumns],
    engine: 'MergeTree',
    partitionBy: 'toYYYYMM(ts)',
    orderBy: `(investigation_id, ts, ${idColumn})`,
    ttl: 'toDateTime(ts) + INTERVAL 730 DAY',
    settings: DEDUP_WINDOW,
    shardingKey: INVESTIGATION_SHARD,
  };
}

export const investigationVerdicts = byInvestigation(
  'investigation_verdicts',
  "Analysts' verdicts on investigations (newest per investigation is current; the rest is history)",
  'verdict_id',
  [
    { name: 'verdict', type: "Enum8('benign' = 1, 'malicious' = 2, 'inconclusive' = 3)" },
    { name: 'reason', type: 'String' },
  ],
);

export const investigationNotes = byInvestigation('investigation_notes', "Analysts' notes on investigations, oldest first", 'note_id', [{ name: 'text', type: 'String' }]);

export const INVESTIGATION_PAGE_TABLES: readonly TableDef[] = [investigationVerdicts, investigationNotes];

/**
 * The analysis of an investigation whose zooms ended (migration 0008): every analysis view of the
 * page (findings, network, files, code, evidence tree) as JSON, computed once from evidence that no
 * longer changes, so a first view reads one row instead of analysing up to a zoom's whole budget
 * of rows. `evidence_key` names what it was computed from (server/investigations/storedAnalysis.ts:
 * the investigation's row version, evidence range and rows per table, the analyzers' format and
 * configuration); a reader uses it only when the key is the one it computes now. One row per
 * investigation is kept (the newest computation), for as long as the evidence it describes.
 */
export const investigationAnalyses: TableDef = {
  name: 'investigation_analyses',
  comment: 'Stored analysis views of investigations whose zooms ended (newest per investigation)',
  columns: [
    { name: 'investigation_id', type: 'String' },
    { name: 'evidence_key', type: 'String' },
    { name: 'computed_at', type: NS },
    { name: 'compute_ms', type: 'UInt32', comment: 'how long the analysis took when it was stored' },
    { name: 'evidence_rows', type: 'UInt64', comment: 'evidence rows it was computed from' },
    { name: 'views', type: 'String', extra: 'CODEC(ZSTD(3))' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'computed_at',
  orderBy: 'investigation_id',
  ttl: 'toDateTime(computed_at) + INTERVAL 90 DAY',
  settings: DEDUP_WINDOW,
  shardingKey: INVESTIGATION_SHARD,
};

/** investigations as migrations 0005 and 0006 left it (the verdict enum changed). */
export const investigationsCurrent: TableDef = {
  ...investigations,
  columns: investigations.columns.map((c) => (c.name === 'verdict' ? { ...c, type: INVESTIGATION_VERDICT_ENUM } : c)),
};
