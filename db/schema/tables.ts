import type { TableDef, ViewDef } from './types';

/**
 * The tables, in one place. Migrations render these definitions (see schema/render.ts); queries
 * live in db/repositories/*. Timestamps are DateTime64(9, 'UTC'): nanoseconds end to end.
 *
 * Idempotent inserts: each insert carries an `insert_deduplication_token` derived from the sensor,
 * its producer epoch and the stored unit's sequence range. A plain MergeTree only honours it when
 * `non_replicated_deduplication_window` > 0 (the default is 0), hence the setting on every
 * append-only table that receives sensor batches.
 */

const DEDUP_WINDOW = { non_replicated_deduplication_window: 10_000 };
const NODE_SHARD = 'cityHash64(node)';
const SENSOR_SHARD = 'cityHash64(sensor)';

/** Bookkeeping of the migration runner (created by the runner itself before anything else). */
export const schemaMigrations: TableDef = {
  name: 'schema_migrations',
  comment: 'Migrations applied to this database, one row per version',
  columns: [
    { name: 'version', type: 'UInt32' },
    { name: 'name', type: 'String' },
    { name: 'checksum', type: 'String' },
    { name: 'applied_at', type: "DateTime64(9, 'UTC')" },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'applied_at',
  orderBy: 'version',
  shardingKey: 'version',
};

/** Process lifecycle as the sensors saw it: exec (and /proc seeding), fork, exit. Append-only. */
export const processEvents: TableDef = {
  name: 'process_events',
  comment: 'Process lifecycle events (exec, fork, exit) from node sensors',
  columns: [
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String', comment: 'producer epoch of the sensor stream' },
    { name: 'seq', type: 'UInt64', comment: 'sequence number within the epoch' },
    { name: 'ts', type: "DateTime64(9, 'UTC')" },
    { name: 'kind', type: "Enum8('exec' = 1, 'fork' = 2, 'exit' = 3)" },
    { name: 'exec_id', type: 'String' },
    { name: 'parent_exec_id', type: 'String' },
    { name: 'pid', type: 'UInt32' },
    { name: 'tid', type: 'UInt32' },
    { name: 'ppid', type: 'UInt32' },
    { name: 'uid', type: 'UInt32' },
    { name: 'gid', type: 'UInt32' },
    { name: 'auid', type: 'UInt32' },
    { name: 'binary', type: 'String' },
    { name: 'argv', type: 'Array(String)' },
    { name: 'argv_truncated', type: 'Bool' },
    { name: 'cwd', type: 'String' },
    { name: 'comm', type: 'String' },
    { name: 'cgroup_id', type: 'UInt64' },
    { name: 'cgroup_path', type: 'String' },
    { name: 'container_runtime', type: 'LowCardinality(String)' },
    { name: 'container_id', type: 'String' },
    { name: 'pod_uid', type: 'String' },
    { name: 'pod_name', type: 'String' },
    { name: 'pod_namespace', type: 'LowCardinality(String)' },
    { name: 'seeded', type: 'Bool', comment: 'read from /proc at sensor start, not seen executing' },
    { name: 'start_ts', type: "DateTime64(9, 'UTC')", comment: 'exec: when the image started' },
    { name: 'child_pid', type: 'UInt32', comment: 'fork: the new process' },
    { name: 'exit_code', type: 'Int32' },
    { name: 'exit_signal', type: 'Int32' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMMDD(ts)',
  orderBy: '(node, exec_id, ts)',
  ttl: "toDateTime(ts) + INTERVAL 30 DAY",
  // Only the index that turns "children of X" from a scan into a lookup; every other filter is
  // time-bounded and partition-pruned (indexes cost ingest throughput: see docs/BENCHMARKS.md).
  indexes: ['idx_parent parent_exec_id TYPE bloom_filter(0.01) GRANULARITY 4'],
  settings: DEDUP_WINDOW,
  shardingKey: NODE_SHARD,
};

/**
 * One row per process image, computed at read time from process_events. A plain VIEW rather than a
 * materialized one on purpose: an aggregating MV halved ingest throughput on embedded chDB (it
 * re-aggregates every inserted block), while reads filter on (node, exec_id) — the primary key of
 * process_events — and ClickHouse pushes that filter through the view (point lookups stay ~ms).
 *
 * Start fields come from the exec row — a live exec (weight 2) wins over a /proc seed (weight 1);
 * exit fields from the exit of the pid that exec'd the image: the exec id is
 * "<node>:<boot>:<start_ns>:<tgid>:<self_exec_id>" and forked children share it, so only the exit
 * of that 4th field's pid ends the image.
 */
export const processesView: ViewDef = {
  name: 'processes',
  comment: 'Process images (one per exec id), computed from process_events',
  select: `SELECT
  src.node AS node,
  src.exec_id AS exec_id,
  argMax(src.parent_exec_id, src.weight) AS parent_exec_id,
  argMax(src.pid, src.weight) AS pid,
  argMax(src.ppid, src.weight) AS ppid,
  argMax(src.uid, src.weight) AS uid,
  argMax(src.gid, src.weight) AS gid,
  argMax(src.binary, src.weight) AS binary,
  argMax(src.argv, src.weight) AS argv,
  argMax(src.cwd, src.weight) AS cwd,
  argMax(src.comm, src.weight) AS comm,
  argMax(src.cgroup_id, src.weight) AS cgroup_id,
  argMax(src.cgroup_path, src.weight) AS cgroup_path,
  argMax(toString(src.container_runtime), src.weight) AS container_runtime,
  argMax(src.container_id, src.weight) AS container_id,
  argMax(src.pod_uid, src.weight) AS pod_uid,
  argMax(src.pod_name, src.weight) AS pod_name,
  argMax(toString(src.pod_namespace), src.weight) AS pod_namespace,
  argMax(src.seeded, src.weight) AS seeded,
  argMax(src.start_ts, src.weight) AS start_ts,
  max(src.weight) AS image_known,
  min(src.ts) AS first_seen_ts,
  max(src.ts) AS last_seen_ts,
  max(src.image_exit) AS exited,
  maxIf(src.ts, src.image_exit = 1) AS exit_ts,
  maxIf(src.exit_code, src.image_exit = 1) AS exit_code,
  maxIf(src.exit_signal, src.image_exit = 1) AS exit_signal
FROM (
  SELECT *,
    toUInt8(multiIf(kind = 'exec' AND NOT seeded, 2, kind = 'exec', 1, 0)) AS weight,
    toUInt8(kind = 'exit' AND pid = toUInt32OrZero(splitByChar(':', exec_id)[4])) AS image_exit
  FROM {process_events}
) AS src
GROUP BY src.node, src.exec_id`,
};

/**
 * One row per unit stored from a sensor stream (consecutive batches of one epoch stored together:
 * see db/repositories/sensorStream.ts). Written BEFORE the unit's data, as its intent: the newest
 * row of a sensor is where the collector resumes, and what it redoes or verifies.
 */
export const sensorBatches: TableDef = {
  name: 'sensor_batches',
  comment: 'Units stored from sensor streams, written before their data (resume points, gaps, drops)',
  columns: [
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String' },
    { name: 'first_seq', type: 'UInt64' },
    { name: 'last_seq', type: 'UInt64' },
    { name: 'events', type: 'UInt32' },
    { name: 'process_rows', type: 'UInt32', comment: 'rows the unit writes to process_events' },
    { name: 'gap', type: 'Bool' },
    { name: 'missing', type: 'UInt64' },
    { name: 'dropped', type: 'UInt64' },
    { name: 'dropped_kernel', type: 'UInt64' },
    { name: 'dropped_user', type: 'UInt64' },
    { name: 'first_ts', type: "DateTime64(9, 'UTC')", comment: 'time of the first event' },
    { name: 'last_ts', type: "DateTime64(9, 'UTC')", comment: 'time of the last event' },
    { name: 'min_ts', type: "DateTime64(9, 'UTC')", comment: 'earliest event time (bounds verification scans)' },
    { name: 'max_ts', type: "DateTime64(9, 'UTC')", comment: 'latest event time' },
    { name: 'received_at', type: "DateTime64(9, 'UTC')" },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMM(received_at)',
  orderBy: '(sensor, epoch, first_seq)',
  ttl: "toDateTime(received_at) + INTERVAL 30 DAY",
  settings: DEDUP_WINDOW,
  shardingKey: SENSOR_SHARD,
};

/** Everything that means "evidence may be missing here": gaps, restarts, drops, rejected batches. */
export const sensorGaps: TableDef = {
  name: 'sensor_gaps',
  comment: 'Gaps and drops in sensor streams, shown on timelines so missing evidence is visible',
  columns: [
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String' },
    { name: 'ts', type: "DateTime64(9, 'UTC')" },
    {
      name: 'kind',
      type: "Enum8('seq_gap' = 1, 'restart' = 2, 'kernel_drop' = 3, 'user_drop' = 4, 'stream_error' = 5, 'rejected_batch' = 6, 'unit_shortfall' = 7)",
      comment: 'unit_shortfall: part of a unit was recorded but never stored, and the sensor no longer held it',
    },
    { name: 'from_seq', type: 'UInt64' },
    { name: 'to_seq', type: 'UInt64' },
    { name: 'count', type: 'UInt64' },
    { name: 'detail', type: 'String' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMM(ts)',
  orderBy: '(sensor, ts)',
  ttl: "toDateTime(ts) + INTERVAL 90 DAY",
  settings: DEDUP_WINDOW,
  shardingKey: SENSOR_SHARD,
};

/** The last Status each sensor reported (ReplacingMergeTree keeps the newest per sensor). */
export const sensorStatus: TableDef = {
  name: 'sensor_status',
  comment: 'Latest status reported by each sensor',
  columns: [
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'observed_at', type: "DateTime64(9, 'UTC')" },
    { name: 'epoch', type: 'String' },
    { name: 'node', type: 'String' },
    { name: 'mode', type: 'LowCardinality(String)' },
    { name: 'kernel_release', type: 'String' },
    { name: 'btf_available', type: 'Bool' },
    { name: 'version', type: 'String' },
    { name: 'events_total', type: 'UInt64' },
    { name: 'last_seq', type: 'UInt64' },
    { name: 'dropped_kernel', type: 'UInt64' },
    { name: 'dropped_user', type: 'UInt64' },
    { name: 'uptime_ns', type: 'UInt64' },
    { name: 'started_at', type: "DateTime64(9, 'UTC')" },
    { name: 'status_json', type: 'String', comment: 'the full SensorStatus message as JSON' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'observed_at',
  orderBy: 'sensor',
  // One row per poll until merges replace them; a sensor silent for 30 days is history.
  ttl: "toDateTime(observed_at) + INTERVAL 30 DAY",
  shardingKey: SENSOR_SHARD,
};
