import { sensorBatchesCurrent } from './detection';
import type { ColumnDef, TableDef } from './types';

/**
 * Tables of adaptive zoom-in (migration 0005), and the columns it adds to sensor_batches. See
 * docs/ARCHITECTURE.md (Zoom-in: the cockpit side).
 *
 * - `investigations`: ReplacingMergeTree by id. One investigation groups an indicator (or an
 *   analyst's manual order), its zooms and their evidence. Verdict fields are reserved for the
 *   investigation page.
 * - `zoom_orders`: append-only, one row per order the cockpit made or refused (who, when, why,
 *   target, probes, TTL, budget, sensor, outcome).
 * - `zooms`: ReplacingMergeTree by zoom id: the lifecycle as the sensor reports it (the order's
 *   response, the in-band ZoomState events, a cancel's response). The row version puts the state
 *   first (ordered < active < ended) and the observation time second, so the newest state wins
 *   whatever order the rows arrive in.
 * - evidence (`io_uring_ops`, `socket_events`, `file_accesses`, `code_fingerprints`): append-only,
 *   stored by the collector inside the unit that carries them (the unit's dedup token, counted by
 *   its intent row), each row tagged with its zoom and — mapped when it is stored — the zoom's
 *   investigation. Ordered by (investigation_id, ts): the investigation page's reads.
 */

const NS = "DateTime64(9, 'UTC')";
const DEDUP_WINDOW = { non_replicated_deduplication_window: 10_000 };
const NODE_SHARD = 'cityHash64(node)';

/** Evidence is kept 90 days (facts and lifecycle 30): investigations outlive the stream. */
const EVIDENCE_TTL = 'toDateTime(ts) + INTERVAL 90 DAY';

/** Rows a unit writes to the evidence tables and to zooms (sensor_batches records them with its intent). */
export const sensorBatchEvidenceColumns: ColumnDef[] = [
  { name: 'evidence_rows', type: 'UInt32', comment: 'rows of the unit in io_uring_ops, socket_events, file_accesses and code_fingerprints' },
  { name: 'zoom_rows', type: 'UInt32', comment: 'zoom state rows of the unit (zooms)' },
];

/** sensor_batches as migrations 0002, 0004 and 0005 left it. */
export const sensorBatchesWithEvidence: TableDef = {
  ...sensorBatchesCurrent,
  columns: [...sensorBatchesCurrent.columns, ...sensorBatchEvidenceColumns],
};

export const ZOOM_STATUS = "Enum8('ordered' = 1, 'active' = 2, 'expired' = 3, 'cancelled' = 4, 'exhausted' = 5, 'failed' = 6)";
export const ZOOM_TARGET_KIND = "Enum8('exec_id' = 1, 'pid' = 2, 'cgroup' = 3)";
const VIA = "Enum8('unspecified' = 0, 'syscall' = 1, 'io_uring' = 2)";

/** Columns every evidence row starts with: where it came from and what it is evidence of. */
const evidenceColumns: ColumnDef[] = [
  { name: 'investigation_id', type: 'String', comment: "the zoom's investigation, mapped when stored ('' when the order named none)" },
  { name: 'zoom_id', type: 'String' },
  { name: 'ts', type: NS },
  { name: 'node', type: 'LowCardinality(String)' },
  { name: 'sensor', type: 'LowCardinality(String)' },
  { name: 'epoch', type: 'String' },
  { name: 'seq', type: 'UInt64' },
  { name: 'exec_id', type: 'String' },
  { name: 'pid', type: 'UInt32' },
  { name: 'tid', type: 'UInt32' },
  { name: 'own', type: 'Bool', comment: "the sensor's or the cockpit's own activity" },
];

function evidenceTable(name: string, comment: string, columns: ColumnDef[]): TableDef {
  return {
    name,
    comment,
    columns: [...evidenceColumns, ...columns],
    engine: 'MergeTree',
    partitionBy: 'toYYYYMM(ts)',
    orderBy: '(investigation_id, ts)',
    ttl: EVIDENCE_TTL,
    indexes: ['idx_zoom zoom_id TYPE bloom_filter(0.01) GRANULARITY 4'],
    settings: DEDUP_WINDOW,
    shardingKey: NODE_SHARD,
  };
}

export const ioUringOps = evidenceTable('io_uring_ops', 'Zoom-in evidence: io_uring requests (submission joined with completion)', [
  { name: 'opcode', type: 'LowCardinality(String)' },
  { name: 'opcode_number', type: 'UInt32' },
  { name: 'fd', type: 'Int32' },
  { name: 'fixed_file', type: 'Bool' },
  { name: 'path', type: 'String' },
  { name: 'address', type: 'String' },
  { name: 'port', type: 'UInt16' },
  { name: 'local_address', type: 'String' },
  { name: 'local_port', type: 'UInt16' },
  { name: 'socket_cookie', type: 'UInt64' },
  { name: 'result', type: 'Int64', comment: 'cqe->res: bytes, a new fd, or -errno' },
  { name: 'length', type: 'UInt64' },
  { name: 'bytes', type: 'UInt64' },
  { name: 'payload_prefix', type: 'Array(UInt8)', comment: 'SEND/WRITE: first bytes at submit; RECV/READ: at completion' },
  { name: 'user_data', type: 'UInt64' },
  { name: 'submit_ts', type: NS },
  { name: 'complete_ts', type: NS },
  { name: 'sqpoll', type: 'Bool' },
  { name: 'io_worker', type: 'Bool' },
  { name: 'submit_tid', type: 'UInt32' },
  { name: 'open_flags', type: 'UInt32' },
  { name: 'path_truncated', type: 'Bool' },
  { name: 'completed', type: 'Bool' },
]);

export const socketEvents = evidenceTable('socket_events', 'Zoom-in evidence: connects, sends, receives and TCP state changes', [
  { name: 'op', type: "Enum8('unspecified' = 0, 'connect' = 1, 'accept' = 2, 'send' = 3, 'recv' = 4, 'state' = 5)" },
  { name: 'socket_cookie', type: 'UInt64' },
  { name: 'address', type: 'String', comment: 'remote' },
  { name: 'port', type: 'UInt16' },
  { name: 'local_address', type: 'String' },
  { name: 'local_port', type: 'UInt16' },
  { name: 'protocol', type: 'LowCardinality(String)' },
  { name: 'bytes', type: 'UInt64' },
  { name: 'payload_prefix', type: 'Array(UInt8)' },
  { name: 'via', type: VIA },
  { name: 'old_state', type: 'LowCardinality(String)' },
  { name: 'new_state', type: 'LowCardinality(String)' },
]);

export const fileAccesses = evidenceTable('file_accesses', 'Zoom-in evidence: opens, reads, writes and closes, via syscalls or io_uring', [
  { name: 'op', type: "Enum8('unspecified' = 0, 'open' = 1, 'read' = 2, 'write' = 3, 'close' = 4)" },
  { name: 'path', type: 'String' },
  { name: 'flags', type: 'UInt32' },
  { name: 'bytes', type: 'UInt64' },
  { name: 'via', type: VIA },
  { name: 'fd', type: 'Int32' },
  { name: 'result', type: 'Int64' },
  { name: 'path_truncated', type: 'Bool' },
]);

export const codeFingerprints = evidenceTable('code_fingerprints', 'Zoom-in evidence: the executable and every executable mapping of a target, fingerprinted', [
  { name: 'path', type: 'String' },
  { name: 'kind', type: "Enum8('unspecified' = 0, 'executable' = 1, 'shared_object' = 2, 'native_module' = 3, 'jit' = 4)" },
  { name: 'language', type: 'LowCardinality(String)', comment: 'as the sensor says: Go, Rust, C++, C, JVM, JavaScript, Python, .NET, unknown' },
  { name: 'runtime', type: 'LowCardinality(String)' },
  { name: 'evidence', type: 'Array(String)', comment: 'why the verdict: the markers found' },
  { name: 'build_id', type: 'String' },
  { name: 'sha256', type: 'String' },
  { name: 'size', type: 'UInt64' },
  { name: 'mapped_at', type: NS },
  { name: 'go_version', type: 'LowCardinality(String)' },
  { name: 'go_module', type: 'String' },
  { name: 'map_address', type: 'UInt64' },
  { name: 'error', type: 'String' },
  { name: 'cached', type: 'Bool' },
]);

export const EVIDENCE_TABLES: readonly TableDef[] = [ioUringOps, socketEvents, fileAccesses, codeFingerprints];

/** A zoom's lifecycle as the sensor reported it; the newest row_version is current (read with FINAL). */
export const zooms: TableDef = {
  name: 'zooms',
  comment: 'Zoom-ins: lifecycle (ordered, active, expired, cancelled, exhausted, failed) and counters, as the sensors report them',
  columns: [
    { name: 'zoom_id', type: 'String' },
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'investigation_id', type: 'String' },
    { name: 'status', type: ZOOM_STATUS },
    { name: 'reason', type: 'String', comment: 'why it is in this state (the end cause, in words)' },
    { name: 'error', type: 'String' },
    { name: 'target_kind', type: ZOOM_TARGET_KIND },
    { name: 'target', type: 'String', comment: 'exec id, pid or cgroup path as ordered' },
    { name: 'target_tgids', type: 'Array(UInt32)' },
    { name: 'probes', type: 'Array(String)' },
    { name: 'ttl_s', type: 'UInt32' },
    { name: 'max_events', type: 'UInt64' },
    { name: 'max_events_per_s', type: 'UInt32' },
    { name: 'payload_prefix_bytes', type: 'UInt32' },
    { name: 'ordered_at', type: NS },
    { name: 'started_at', type: NS },
    { name: 'expires_at', type: NS },
    { name: 'ended_at', type: NS },
    { name: 'events_emitted', type: 'UInt64' },
    { name: 'events_dropped', type: 'UInt64' },
    { name: 'dropped_rate', type: 'UInt64' },
    { name: 'dropped_budget', type: 'UInt64' },
    { name: 'dropped_ring', type: 'UInt64' },
    { name: 'fingerprints', type: 'UInt64' },
    { name: 'attach_ns', type: 'UInt64', comment: 'order received -> probes attached, on the sensor' },
    { name: 'requested_by', type: 'String' },
    { name: 'client_subject', type: 'String', comment: 'the client certificate the order came with' },
    { name: 'order_reason', type: 'String' },
    { name: 'source', type: "Enum8('order' = 1, 'stream' = 2, 'cancel' = 3)" },
    { name: 'epoch', type: 'String', comment: 'stream rows: the sensor epoch' },
    { name: 'seq', type: 'UInt64', comment: 'stream rows: the ZoomState event' },
    { name: 'observed_at', type: NS },
    { name: 'row_version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'row_version',
  // ordered_at never changes for a zoom: every version lands in the same partition.
  partitionBy: 'toYYYYMM(ordered_at)',
  orderBy: 'zoom_id',
  ttl: 'toDateTime(ordered_at) + INTERVAL 400 DAY',
  settings: DEDUP_WINDOW,
  shardingKey: NODE_SHARD,
};

/** Every order the cockpit made (or refused before it reached a sensor). Append-only. */
export const zoomOrders: TableDef = {
  name: 'zoom_orders',
  comment: 'Zoom-in orders: who, when, why, target, probes, TTL, budget, sensor, outcome',
  columns: [
    { name: 'order_id', type: 'String' },
    { name: 'ts', type: NS, comment: 'when the cockpit ordered (auto: right after the indicator was stored)' },
    { name: 'trigger', type: "Enum8('manual' = 1, 'auto' = 2)" },
    { name: 'actor_type', type: 'LowCardinality(String)' },
    { name: 'actor_id', type: 'String' },
    { name: 'actor_name', type: 'String' },
    { name: 'actor_role', type: 'LowCardinality(String)' },
    { name: 'reason', type: 'String' },
    { name: 'indicator_id', type: 'String' },
    { name: 'investigation_id', type: 'String' },
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'target_kind', type: ZOOM_TARGET_KIND },
    { name: 'target', type: 'String' },
    { name: 'probes', type: 'Array(String)' },
    { name: 'ttl_s', type: 'UInt32' },
    { name: 'max_events', type: 'UInt64' },
    { name: 'max_events_per_s', type: 'UInt32' },
    { name: 'payload_prefix_bytes', type: 'UInt32' },
    { name: 'outcome', type: "Enum8('accepted' = 1, 'refused' = 2)" },
    { name: 'error_code', type: 'LowCardinality(String)', comment: 'the refusal as the API reports it (NOT_FOUND, FORBIDDEN, …)' },
    { name: 'error', type: 'String' },
    { name: 'zoom_id', type: 'String' },
    { name: 'round_trip_ns', type: 'UInt64', comment: 'ZoomIn as the cockpit saw it' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMM(ts)',
  orderBy: '(investigation_id, ts)',
  ttl: 'toDateTime(ts) + INTERVAL 400 DAY',
  shardingKey: NODE_SHARD,
};

/** Investigations: an indicator (or a manual order), its zooms and their evidence. */
export const investigations: TableDef = {
  name: 'investigations',
  comment: 'Investigations: an indicator (or a manual order), its zooms and their evidence',
  columns: [
    { name: 'id', type: 'String' },
    { name: 'title', type: 'String' },
    { name: 'status', type: "Enum8('open' = 1, 'closed' = 2)" },
    { name: 'trigger', type: "Enum8('manual' = 1, 'auto' = 2)" },
    { name: 'created_at', type: NS },
    { name: 'updated_at', type: NS },
    { name: 'created_by', type: 'String' },
    { name: 'indicator_ids', type: 'Array(String)' },
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'workload', type: 'String' },
    { name: 'exec_id', type: 'String', comment: 'the process it is about' },
    { name: 'verdict', type: "Enum8('none' = 0, 'benign' = 1, 'suspicious' = 2, 'malicious' = 3)", comment: 'reserved: the investigation page sets it' },
    { name: 'verdict_by', type: 'String' },
    { name: 'verdict_at', type: NS },
    { name: 'verdict_note', type: 'String' },
    { name: 'row_version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'row_version',
  partitionBy: 'toYYYYMM(created_at)',
  orderBy: 'id',
  ttl: 'toDateTime(updated_at) + INTERVAL 730 DAY',
  shardingKey: 'cityHash64(id)',
};

export const ZOOM_TABLES: readonly TableDef[] = [investigations, zoomOrders, zooms, ...EVIDENCE_TABLES];
