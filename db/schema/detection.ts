import { processesView, processEvents, sensorBatches } from './tables';
import type { ColumnDef, TableDef, ViewDef } from './types';

/**
 * Tables of learned baselines and first-seen indicators (migration 0004), and the columns that
 * migration adds to tables created before it. See docs/ARCHITECTURE.md (Baselines and detection).
 *
 * - `facts`, `activity_counters`: what the sensors report besides the lifecycle, stored by the
 *   collector inside the same unit (same dedup token) as the unit's process events.
 * - `baseline_profiles`: one row per (workload, executable) profile, ReplacingMergeTree: status
 *   (learning → completed), the learning window, the profile version.
 * - `baseline_entries`: append-only, what a profile allows (learned, imported, allowed by an
 *   analyst with who and why).
 * - `baseline_documents`: the last Kubescape ApplicationProfile imported for a workload, kept
 *   verbatim so an export gives back every field the cockpit does not interpret.
 * - `indicators`: ReplacingMergeTree by a deterministic id per (workload, executable, kind,
 *   value, profile version): repeats fold into one row whose count and last-seen time grow.
 */

const NS = "DateTime64(9, 'UTC')";
const DEDUP_WINDOW = { non_replicated_deduplication_window: 10_000 };
const NODE_SHARD = 'cityHash64(node)';
const WORKLOAD_SHARD = 'cityHash64(workload)';

/** What the detector compares (the kinds); `http_endpoint` only carries Kubescape's HTTP endpoints through import/export. */
export const ENTRY_KIND = "Enum8('syscall' = 1, 'io_uring_op' = 2, 'exec' = 3, 'endpoint' = 4, 'file' = 5, 'http_endpoint' = 6)";
export const INDICATOR_KIND = "Enum8('syscall' = 1, 'io_uring_op' = 2, 'exec' = 3, 'endpoint' = 4, 'file' = 5)";

/** Workload columns added to process_events (the exec's Workload, empty for other kinds). */
export const processEventWorkloadColumns: ColumnDef[] = [
  { name: 'workload', type: 'String', comment: 'workload key (exec): k8s/…, container/…, systemd/…, cgroup/…, host/…' },
  { name: 'workload_kind', type: 'LowCardinality(String)' },
  { name: 'workload_namespace', type: 'LowCardinality(String)' },
  { name: 'workload_name', type: 'String' },
  { name: 'workload_container', type: 'String' },
  { name: 'workload_name_source', type: 'LowCardinality(String)', comment: 'how the name was found (annotation, pod-name:deployment, …)' },
];

/** Rows a unit writes to the tables added here (sensor_batches records them with its intent). */
export const sensorBatchUnitColumns: ColumnDef[] = [
  { name: 'fact_rows', type: 'UInt32' },
  { name: 'counter_rows', type: 'UInt32' },
];

/** process_events as migrations 0001 and 0004 left it: what the ingest path writes. */
export const processEventsCurrent: TableDef = { ...processEvents, columns: [...processEvents.columns, ...processEventWorkloadColumns] };

/** sensor_batches as migrations 0002 and 0004 left it. */
export const sensorBatchesCurrent: TableDef = { ...sensorBatches, columns: [...sensorBatches.columns, ...sensorBatchUnitColumns] };

/** The processes view with the exec's workload (replaces 0001's view). */
export const processesViewCurrent: ViewDef = {
  ...processesView,
  select: processesView.select.replace(
    '  argMax(src.seeded, src.weight) AS seeded,',
    [
      '  argMax(src.workload, src.weight) AS workload,',
      '  argMax(toString(src.workload_kind), src.weight) AS workload_kind,',
      '  argMax(toString(src.workload_namespace), src.weight) AS workload_namespace,',
      '  argMax(src.workload_name, src.weight) AS workload_name,',
      '  argMax(src.workload_container, src.weight) AS workload_container,',
      '  argMax(src.seeded, src.weight) AS seeded,',
    ].join('\n'),
  ),
};

/** First-seen facts as the sensors report them. Append-only, stored with their unit. */
export const facts: TableDef = {
  name: 'facts',
  comment: 'First-seen facts per process image (syscall, io_uring op and ring, endpoint, sensitive file)',
  columns: [
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String' },
    { name: 'seq', type: 'UInt64' },
    { name: 'ts', type: NS },
    { name: 'exec_id', type: 'String' },
    { name: 'pid', type: 'UInt32' },
    { name: 'tid', type: 'UInt32' },
    { name: 'own', type: 'Bool', comment: "the sensor's or the cockpit's own activity (never raises indicators)" },
    { name: 'workload', type: 'String' },
    { name: 'kind', type: "Enum8('unspecified' = 0, 'syscall' = 1, 'io_uring_op' = 2, 'io_uring_setup' = 3, 'endpoint' = 4, 'file' = 5)" },
    { name: 'name', type: 'String', comment: 'syscall name, io_uring opcode, "io_uring_setup", address:port/protocol, path class' },
    { name: 'number', type: 'UInt32' },
    { name: 'via', type: "Enum8('unspecified' = 0, 'syscall' = 1, 'io_uring' = 2)" },
    { name: 'abi', type: 'LowCardinality(String)' },
    { name: 'address', type: 'String' },
    { name: 'port', type: 'UInt16' },
    { name: 'protocol', type: 'LowCardinality(String)' },
    { name: 'direction', type: "Enum8('unspecified' = 0, 'outbound' = 1, 'inbound' = 2)" },
    { name: 'path', type: 'String' },
    { name: 'path_class', type: 'LowCardinality(String)' },
    { name: 'open_flags', type: 'UInt32' },
    { name: 'path_relative', type: 'Bool' },
    { name: 'ring_flags', type: 'UInt32' },
    { name: 'sqpoll', type: 'Bool' },
    { name: 'sq_entries', type: 'UInt32' },
    { name: 'cq_entries', type: 'UInt32' },
    { name: 'ring_flag_names', type: 'Array(String)' },
    { name: 'fd', type: 'Int32' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMMDD(ts)',
  // Read per process (its facts on the process and indicator pages), like process_events.
  orderBy: '(node, exec_id, ts)',
  ttl: 'toDateTime(ts) + INTERVAL 30 DAY',
  settings: DEDUP_WINDOW,
  shardingKey: NODE_SHARD,
};

/**
 * What migration 0007 adds for folding repeated facts at storage (server/collector/factFold.ts):
 * the image's executable on each fact (part of the fold key, so a stored row says which key it
 * opened), and per unit how many facts were folded into rows stored earlier in the fold window.
 */
export const factBinaryColumn: ColumnDef = { name: 'binary', type: 'LowCardinality(String)', comment: "the image's executable ('' when its exec was not seen in the epoch)" };
export const sensorBatchFoldColumns: ColumnDef[] = [
  { name: 'facts_folded', type: 'UInt32', comment: 'facts not stored: repeats, within the fold window, of a stored fact of the same workload, executable and key' },
];

/** facts as migrations 0004 and 0007 left it: what the ingest path writes. */
export const factsCurrent: TableDef = { ...facts, columns: [...facts.columns, factBinaryColumn] };

/** Activity counters per image and period. Append-only, stored with their unit. */
export const activityCounters: TableDef = {
  name: 'activity_counters',
  comment: 'What each process image did per period (syscalls, io_uring submissions, connects, opens, …)',
  columns: [
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String' },
    { name: 'seq', type: 'UInt64' },
    { name: 'ts', type: NS, comment: 'end of the period' },
    { name: 'since_ts', type: NS, comment: 'start of the period' },
    { name: 'exec_id', type: 'String' },
    { name: 'pid', type: 'UInt32' },
    { name: 'own', type: 'Bool' },
    { name: 'workload', type: 'String' },
    { name: 'syscalls', type: 'UInt64' },
    { name: 'io_uring_submissions', type: 'UInt64' },
    { name: 'io_uring_setups', type: 'UInt64' },
    { name: 'connects', type: 'UInt64' },
    { name: 'sends_addressed', type: 'UInt64' },
    { name: 'accepts', type: 'UInt64' },
    { name: 'opens', type: 'UInt64' },
    { name: 'sensitive_opens', type: 'UInt64' },
    { name: 'final', type: 'Bool', comment: 'the image ended: its last report' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMMDD(ts)',
  orderBy: '(node, exec_id, ts)',
  ttl: 'toDateTime(ts) + INTERVAL 30 DAY',
  settings: DEDUP_WINDOW,
  shardingKey: NODE_SHARD,
};

/**
 * One profile per (workload, executable); executable '*' is the workload-level profile (the
 * executables started in the workload, and entries imported for the whole container). The
 * newest row_version is current (read with FINAL).
 */
export const baselineProfiles: TableDef = {
  name: 'baseline_profiles',
  comment: 'Baseline profiles per (workload, executable): status, learning window, version',
  columns: [
    { name: 'workload', type: 'String' },
    { name: 'executable', type: 'String', comment: "absolute path, or '*' for the workload-level profile" },
    { name: 'workload_kind', type: 'LowCardinality(String)' },
    { name: 'workload_namespace', type: 'LowCardinality(String)' },
    { name: 'workload_name', type: 'String' },
    { name: 'workload_container', type: 'String' },
    { name: 'status', type: "Enum8('learning' = 1, 'completed' = 2)" },
    { name: 'version', type: 'UInt32', comment: 'profile version: 1 while learning, +1 at completion and at every allow or import' },
    { name: 'started_at', type: NS, comment: 'learning window start (first activity seen)' },
    { name: 'last_new_at', type: NS, comment: 'last time an entry was learned' },
    { name: 'completed_at', type: NS, comment: 'the epoch (0) while learning' },
    { name: 'completed_by', type: "Enum8('none' = 0, 'window' = 1, 'max' = 2, 'import' = 3)" },
    { name: 'min_learning_ns', type: 'UInt64' },
    { name: 'quiet_ns', type: 'UInt64' },
    { name: 'max_learning_ns', type: 'UInt64' },
    { name: 'entries', type: 'UInt32' },
    { name: 'updated_at', type: NS },
    { name: 'row_version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'row_version',
  orderBy: '(workload, executable)',
  shardingKey: WORKLOAD_SHARD,
};

/** What profiles allow. Append-only; (kind, value, detail) repeated is the same entry. */
export const baselineEntries: TableDef = {
  name: 'baseline_entries',
  comment: 'Entries of baseline profiles: learned, imported, or allowed by an analyst (who, why)',
  columns: [
    { name: 'workload', type: 'String' },
    { name: 'executable', type: 'String' },
    { name: 'kind', type: ENTRY_KIND },
    { name: 'value', type: 'String', comment: 'syscall name, opcode, executable path, address:port/protocol, path (class for learned files), HTTP endpoint' },
    { name: 'detail', type: 'String', comment: 'JSON: exec args, open flags, HTTP methods/direction/internal, endpoint fields' },
    { name: 'source', type: "Enum8('learned' = 1, 'imported' = 2, 'allowed' = 3)" },
    { name: 'ts', type: NS },
    { name: 'profile_version', type: 'UInt32', comment: 'the version this entry first belongs to' },
    { name: 'position', type: 'UInt32', comment: 'order within an imported document' },
    { name: 'node', type: 'String', comment: 'learned: where it was seen first' },
    { name: 'exec_id', type: 'String', comment: 'learned: the image that showed it first' },
    { name: 'actor', type: 'String', comment: 'allowed / imported: who' },
    { name: 'reason', type: 'String', comment: 'allowed: why' },
    { name: 'indicator_id', type: 'String', comment: 'allowed from an indicator' },
  ],
  engine: 'MergeTree',
  orderBy: '(workload, executable, kind, value, ts)',
  settings: { non_replicated_deduplication_window: 1000 },
  shardingKey: WORKLOAD_SHARD,
};

/** The last ApplicationProfile imported per workload, verbatim (for lossless export). */
export const baselineDocuments: TableDef = {
  name: 'baseline_documents',
  comment: 'The last Kubescape ApplicationProfile imported for each workload (JSON), for lossless export',
  columns: [
    { name: 'workload', type: 'String' },
    { name: 'container', type: 'String', comment: 'the container of the document this workload was imported from' },
    { name: 'document', type: 'String', comment: 'the whole document as imported, JSON' },
    { name: 'imported_at', type: NS },
    { name: 'actor', type: 'String' },
    { name: 'row_version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'row_version',
  orderBy: 'workload',
  shardingKey: WORKLOAD_SHARD,
};

/** Indicators: one row per folded (workload, executable, kind, value, profile version). */
export const indicators: TableDef = {
  name: 'indicators',
  comment: 'Indicators raised by the detector (first-seen facts outside a profile, known-bad rules)',
  columns: [
    { name: 'id', type: 'String', comment: 'deterministic: hash of workload, executable, kind, value, profile version' },
    { name: 'ts', type: NS, comment: 'first seen' },
    { name: 'last_seen', type: NS },
    { name: 'count', type: 'UInt64', comment: 'process images that showed it (folded repeats)' },
    { name: 'node', type: 'LowCardinality(String)', comment: 'of the first occurrence' },
    { name: 'exec_id', type: 'String', comment: 'the first image that showed it' },
    { name: 'last_exec_id', type: 'String' },
    { name: 'exec_ids', type: 'Array(String)', comment: 'images folded so far (at most 64: makes folding idempotent)' },
    { name: 'workload', type: 'String' },
    { name: 'workload_kind', type: 'LowCardinality(String)' },
    { name: 'executable', type: 'String' },
    { name: 'kind', type: INDICATOR_KIND },
    { name: 'value', type: 'String' },
    { name: 'severity', type: "Enum8('low' = 1, 'medium' = 2, 'high' = 3)" },
    { name: 'deviation', type: 'Bool', comment: 'outside a completed profile' },
    { name: 'rules', type: 'Array(String)', comment: 'known-bad rules that matched' },
    { name: 'profile_version', type: 'UInt32' },
    { name: 'profile_status', type: "Enum8('learning' = 1, 'completed' = 2)" },
    { name: 'sentence', type: 'String', comment: 'why, in words (shown in the inbox)' },
    { name: 'explanation', type: 'String', comment: 'why, as data (JSON): learning window, entries compared, nearest allowed entries, rules' },
    { name: 'state', type: "Enum8('open' = 1, 'allowed' = 2)" },
    { name: 'updated_at', type: NS },
    { name: 'row_version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'row_version',
  // ts never changes for an id, so every version of an indicator lands in the same partition.
  partitionBy: 'toYYYYMM(ts)',
  orderBy: 'id',
  ttl: 'toDateTime(last_seen) + INTERVAL 365 DAY',
  shardingKey: WORKLOAD_SHARD,
};

export const DETECTION_TABLES: readonly TableDef[] = [facts, activityCounters, baselineProfiles, baselineEntries, baselineDocuments, indicators];
