import type { Db } from '../client';
import { selectRows } from '../query';
import { nsToClickHouse } from '../time';

/**
 * The investigation timeline's lanes, bucketed in storage: the window is cut into at most
 * `buckets` equal slices and each source returns one row per non-empty slice (its row count,
 * first and last time, and the first row's exec id, label and key), so a lane never carries more
 * points than slices whatever the number of rows. A slice holding one row is that row (the
 * caller makes a ref of its key).
 *
 * Sources are constants of this module (table, filter, label, key columns); every value is a
 * server-side parameter.
 */

export interface LaneBucket {
  bucket: number;
  count: number;
  firstNs: string;
  lastNs: string;
  execId: string;
  label: string;
  /** the first row's key (see the source's `key`), for its ref */
  key: string[];
  /** sources that sum a quantity per row (gaps: events lost) */
  sum: number;
}

export type LaneSource = 'io_uring_ops' | 'socket_events' | 'file_accesses' | 'facts_io_uring' | 'process_events' | 'sensor_gaps';

interface SourceSpec {
  table: string;
  where: string;
  label: string;
  /** key columns, as strings */
  key: string[];
  exec: string;
  sum?: string;
}

const EVIDENCE_WHERE = `investigation_id = {id:String} AND NOT own AND ({exec:String} = '' OR exec_id = {exec:String})`;
const EVIDENCE_KEY = ['toString(toUnixTimestamp64Nano(ts))', 'zoom_id', 'toString(seq)'];
const STREAM_KEY = ['toString(node)', 'exec_id', 'toString(toUnixTimestamp64Nano(ts))', 'epoch', 'toString(seq)'];
const bytesSuffix = `if(bytes > 0, concat(' · ', toString(bytes), ' B'), '')`;

const SOURCES: Record<LaneSource, SourceSpec> = {
  io_uring_ops: {
    table: 'io_uring_ops',
    where: EVIDENCE_WHERE,
    label: `concat(toString(opcode), multiIf(path != '', concat(' ', path), address != '', concat(' ', address, ':', toString(port)), ''), ${bytesSuffix})`,
    key: EVIDENCE_KEY,
    exec: 'exec_id',
  },
  socket_events: {
    table: 'socket_events',
    where: EVIDENCE_WHERE,
    label: `concat(toString(op), ' ', address, ':', toString(port), ${bytesSuffix}, if(via = 'io_uring', ' · io_uring', ''))`,
    key: EVIDENCE_KEY,
    exec: 'exec_id',
  },
  file_accesses: {
    table: 'file_accesses',
    where: EVIDENCE_WHERE,
    label: `concat(toString(op), ' ', path, ${bytesSuffix}, if(via = 'io_uring', ' · io_uring', ''))`,
    key: EVIDENCE_KEY,
    exec: 'exec_id',
  },
  // The facts that raised the indicator: io_uring seen before (or without) a zoom.
  facts_io_uring: {
    table: 'facts',
    where: `node = {node:String} AND exec_id IN {execs:Array(String)} AND NOT own
            AND (kind IN ('io_uring_setup', 'io_uring_op') OR (kind = 'syscall' AND startsWith(name, 'io_uring_')))`,
    label: `concat(if(kind = 'io_uring_op', concat('io_uring ', name), name), ' (fact)')`,
    key: STREAM_KEY,
    exec: 'exec_id',
  },
  process_events: {
    table: 'process_events',
    where: `node = {node:String} AND (exec_id IN {execs:Array(String)} OR (kind = 'exec' AND parent_exec_id IN {execs:Array(String)}))`,
    label: `multiIf(kind = 'exec', concat('exec ', binary, ' [', toString(pid), ']'), kind = 'fork', concat('fork → ', toString(child_pid)),
             concat('exit [', toString(pid), '] code ', toString(exit_code), if(exit_signal != 0, concat(' signal ', toString(exit_signal)), '')))`,
    key: STREAM_KEY,
    exec: 'exec_id',
  },
  sensor_gaps: {
    table: 'sensor_gaps',
    where: `sensor IN {sensors:Array(String)}`,
    label: `multiIf(kind = 'restart', concat('sensor ', toString(sensor), ' restarted'),
             concat(toString(count), ' events lost (', replaceAll(toString(kind), '_', ' '), ', sensor ', toString(sensor), ')'))`,
    key: ['toString(sensor)', 'epoch', 'toString(toUnixTimestamp64Nano(ts))', 'toString(from_seq)'],
    exec: "''",
    sum: 'count',
  },
};

export interface LaneQuery {
  fromNs: string;
  toNs: string;
  /** slices of the window */
  buckets: number;
  investigationId?: string;
  /** evidence: only this exec id ('' for all) */
  execId?: string;
  node?: string;
  /** facts and process events: these images (process events: and the images they started) */
  execIds?: readonly string[];
  sensors?: readonly string[];
}

/** One source's rows in [from, to], one per non-empty slice, oldest first. */
export async function laneBuckets(db: Db, source: LaneSource, q: LaneQuery): Promise<LaneBucket[]> {
  const spec = SOURCES[source];
  if ((source === 'facts_io_uring' || source === 'process_events') && (!q.node || !q.execIds?.length)) return [];
  if (source === 'sensor_gaps' && !q.sensors?.length) return [];
  const from = BigInt(q.fromNs);
  const span = BigInt(q.toNs) - from + 1n;
  const width = (span + BigInt(q.buckets) - 1n) / BigInt(q.buckets);
  // Aliases are camelCase so they never shadow a column (sensor_gaps has `count`).
  const rows = await selectRows<{ slice: string; rowCount: string; firstNs: string; lastNs: string; execId: string; label: string; key: string[]; quantity: string }>(db, {
    sql: `SELECT intDiv(toUnixTimestamp64Nano(ts) - {fromInt:Int64}, {width:UInt64}) AS slice, count() AS rowCount,
                 toString(toUnixTimestamp64Nano(min(ts))) AS firstNs, toString(toUnixTimestamp64Nano(max(ts))) AS lastNs,
                 argMin(${spec.exec}, ts) AS execId, argMin(${spec.label}, ts) AS label,
                 argMin([${spec.key.join(', ')}], ts) AS key, ${spec.sum ? `sum(${spec.sum})` : '0'} AS quantity
          FROM ${spec.table}
          WHERE ts BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')} AND ${spec.where}
          GROUP BY slice
          ORDER BY slice`,
    params: {
      fromInt: q.fromNs,
      width: width.toString(),
      from: nsToClickHouse(q.fromNs),
      to: nsToClickHouse(q.toNs),
      id: q.investigationId ?? '',
      exec: q.execId ?? '',
      node: q.node ?? '',
      execs: q.execIds ?? [],
      sensors: q.sensors ?? [],
    },
    tag: `investigations.timeline.${source}`,
  });
  return rows.map((r) => ({ bucket: Number(r.slice), count: Number(r.rowCount), firstNs: r.firstNs, lastNs: r.lastNs, execId: r.execId, label: r.label, key: r.key, sum: Number(r.quantity) }));
}

/** Sensors that reported from a node (their status rows). */
export async function sensorsOfNode(db: Db, node: string): Promise<string[]> {
  const rows = await selectRows<{ sensor: string }>(db, {
    sql: `SELECT DISTINCT toString(sensor) AS sensor FROM sensor_status WHERE node = {node:String} LIMIT 100`,
    params: { node },
    tag: 'investigations.timeline.sensors',
  });
  return rows.map((r) => r.sensor);
}
