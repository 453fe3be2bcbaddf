import type { MaterializedViewDef, TableDef } from './types';

/**
 * The tables, in one place. Migrations render these definitions (see schema/render.ts); queries
 * live in db/repositories/*. Timestamps are DateTime64(9, 'UTC'): nanoseconds end to end.
 *
 * Idempotent inserts: each insert carries an `insert_deduplication_token` derived from the sensor,
 * its producer epoch and the batch's sequence range. A plain MergeTree only honours it when
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
  indexes: [
    'idx_parent parent_exec_id TYPE bloom_filter(0.01) GRANULARITY 4',
    'idx_pid pid TYPE bloom_filter(0.01) GRANULARITY 4',
    'idx_binary binary TYPE ngrambf_v1(3, 4096, 2, 0) GRANULARITY 4',
    'idx_kind kind TYPE set(3) GRANULARITY 4',
  ],
  settings: DEDUP_WINDOW,
  shardingKey: NODE_SHARD,
};

/**
 * One row per process image after merges (query with GROUP BY exec_id and the -Merge combinators,
 * see repositories/processes.ts). Start fields come from the exec row — a live exec (weight 2)
 * wins over a /proc seed (weight 1) — and exit fields from the exit of the pid that exec'd the
 * image (forked children share the exec id; their exits do not end the image). Every aggregate is
 * idempotent, so a re-delivered batch cannot skew it.
 */
export const processes: TableDef = {
  name: 'processes',
  comment: 'Process images (one per exec id), aggregated from process_events',
  columns: [
    { name: 'node', type: 'LowCardinality(String)' },
    { name: 'exec_id', type: 'String' },
    { name: 'parent_exec_id', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'pid', type: 'AggregateFunction(argMax, UInt32, UInt8)' },
    { name: 'ppid', type: 'AggregateFunction(argMax, UInt32, UInt8)' },
    { name: 'uid', type: 'AggregateFunction(argMax, UInt32, UInt8)' },
    { name: 'gid', type: 'AggregateFunction(argMax, UInt32, UInt8)' },
    { name: 'binary', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'argv', type: 'AggregateFunction(argMax, Array(String), UInt8)' },
    { name: 'cwd', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'comm', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'cgroup_id', type: 'AggregateFunction(argMax, UInt64, UInt8)' },
    { name: 'cgroup_path', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'container_runtime', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'container_id', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'pod_uid', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'pod_name', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'pod_namespace', type: 'AggregateFunction(argMax, String, UInt8)' },
    { name: 'seeded', type: 'AggregateFunction(argMax, Bool, UInt8)' },
    { name: 'start_ts', type: "AggregateFunction(argMax, DateTime64(9, 'UTC'), UInt8)" },
    { name: 'first_seen_ts', type: "SimpleAggregateFunction(min, DateTime64(9, 'UTC'))" },
    { name: 'last_seen_ts', type: "SimpleAggregateFunction(max, DateTime64(9, 'UTC'))" },
    { name: 'exited', type: 'SimpleAggregateFunction(max, UInt8)' },
    { name: 'exit_ts', type: "SimpleAggregateFunction(max, DateTime64(9, 'UTC'))" },
    { name: 'exit_code', type: 'SimpleAggregateFunction(max, Int32)' },
    { name: 'exit_signal', type: 'SimpleAggregateFunction(max, Int32)' },
  ],
  engine: 'AggregatingMergeTree',
  orderBy: '(node, exec_id)',
  ttl: "toDateTime(last_seen_ts) + INTERVAL 30 DAY",
  shardingKey: NODE_SHARD,
};

/**
 * The exec id is "<node>:<boot>:<start_ns>:<tgid>:<self_exec_id>"; the 4th field is the pid that
 * exec'd the image. Only that pid's exit ends the image (forked children keep the exec id).
 */
// Source columns are qualified (src.x) because the SELECT's aliases reuse their names and
// ClickHouse resolves an alias before a column of the same name.
const IMAGE_PID = "toUInt32OrZero(splitByChar(':', src.exec_id)[4])";
const IS_IMAGE_EXIT = `src.kind = 'exit' AND src.pid = ${IMAGE_PID}`;
const WEIGHT = "toUInt8(multiIf(src.kind = 'exec' AND NOT src.seeded, 2, src.kind = 'exec', 1, 0))";
const argMaxColumns = [
  'parent_exec_id', 'pid', 'ppid', 'uid', 'gid', 'binary', 'argv', 'cwd', 'comm', 'cgroup_id', 'cgroup_path',
  'container_runtime', 'container_id', 'pod_uid', 'pod_name', 'pod_namespace', 'seeded', 'start_ts',
];
const LOW_CARDINALITY = new Set(['container_runtime', 'pod_namespace']);

export const processesMv: MaterializedViewDef = {
  name: 'processes_mv',
  comment: 'Feeds processes from process_events',
  from: 'process_events',
  to: 'processes',
  select: `SELECT
  src.node AS node,
  src.exec_id AS exec_id,
${argMaxColumns
  .map((c) => `  argMaxState(${LOW_CARDINALITY.has(c) ? `toString(src.${c})` : `src.${c}`}, ${WEIGHT}) AS ${c},`)
  .join('\n')}
  min(src.ts) AS first_seen_ts,
  max(src.ts) AS last_seen_ts,
  max(toUInt8(${IS_IMAGE_EXIT})) AS exited,
  max(if(${IS_IMAGE_EXIT}, src.ts, toDateTime64(0, 9, 'UTC'))) AS exit_ts,
  max(if(${IS_IMAGE_EXIT}, src.exit_code, 0)) AS exit_code,
  max(if(${IS_IMAGE_EXIT}, src.exit_signal, 0)) AS exit_signal
FROM {from} AS src
GROUP BY src.node, src.exec_id`,
};

/** One row per batch stored from a sensor stream: the sequence ranges, gaps and drops it carried. */
export const sensorBatches: TableDef = {
  name: 'sensor_batches',
  comment: 'Batches received from sensor streams (resume points, gaps, drops)',
  columns: [
    { name: 'sensor', type: 'LowCardinality(String)' },
    { name: 'epoch', type: 'String' },
    { name: 'first_seq', type: 'UInt64' },
    { name: 'last_seq', type: 'UInt64' },
    { name: 'events', type: 'UInt32' },
    { name: 'gap', type: 'Bool' },
    { name: 'missing', type: 'UInt64' },
    { name: 'dropped', type: 'UInt64' },
    { name: 'dropped_kernel', type: 'UInt64' },
    { name: 'dropped_user', type: 'UInt64' },
    { name: 'first_ts', type: "DateTime64(9, 'UTC')" },
    { name: 'last_ts', type: "DateTime64(9, 'UTC')" },
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
      type: "Enum8('seq_gap' = 1, 'restart' = 2, 'kernel_drop' = 3, 'user_drop' = 4, 'stream_error' = 5, 'rejected_batch' = 6)",
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
  shardingKey: SENSOR_SHARD,
};
