import type { Db } from '../../db/client';
import { getIndicator } from '../../db/repositories/indicators';
import { getInvestigation } from '../../db/repositories/investigations';
import { getProcess } from '../../db/repositories/processes';
import { laneBuckets, sensorsOfNode, type LaneBucket, type LaneQuery, type LaneSource } from '../../db/repositories/investigationTimeline';
import type { ZoomView } from '../zoom/views';
import { InvestigationNotFoundError } from './errors';
import { encodeRef, type RefTable } from './refs';
import { investigationScope, type Narrowing } from './analysis';

/**
 * The investigation timeline: one lane per kind of activity, over one time range shared by every
 * panel. Lanes are bucketed in storage (db/repositories/investigationTimeline.ts): a lane holds at
 * most TIMELINE_BUCKETS points whatever the number of rows; a point of `count` 1 is one row (with
 * its ref), a larger one a slice of the window holding that many rows.
 *
 * The range runs from the indicator (or the process's exec shortly before it) to the last zoom's end.
 *
 * - process: exec, fork and exit of the focused process (the investigation's, or `execId`) and
 *   the images it started;
 * - ioUring: the zooms' io_uring requests, and the facts that raised the indicator (io_uring_setup
 *   and opcodes seen by the always-on probes, before or without a zoom);
 * - network, files: the zooms' socket events and file accesses;
 * - zooms: each zoom's window (start to end, or to now while active);
 * - gaps: the sensors' gaps and drops (sensor_gaps of the node's and the zooms' sensors) and the
 *   events the zooms dropped (budget, rate, ring): missing evidence is visible.
 */

export const TIMELINE_BUCKETS = 1500;
/** The range starts at the process's exec when it began at most this long before the indicator. */
const PROCESS_START_LOOKBACK_NS = 3_600_000_000_000n;

export interface TimelinePoint {
  tsNs: string;
  /** a zoom's end, or a bucket's last row */
  endNs?: string;
  execId: string;
  label: string;
  /** the row (count 1), null for a bucket of rows */
  ref: string | null;
  /** rows in the point: >1 = a bucket */
  count: number;
}

export interface TimelineLane {
  points: TimelinePoint[];
  /** rows in the window */
  total: number;
  /** some points are buckets of rows */
  truncated: boolean;
}

export interface TimelineView {
  /** the whole investigation: from its indicator (or creation) to its last zoom's end */
  range: { fromNs: string; toNs: string };
  /** what was asked (the range when from/to are absent) */
  window: { fromNs: string; toNs: string };
  lanes: { process: TimelineLane; ioUring: TimelineLane; network: TimelineLane; files: TimelineLane; zooms: TimelineLane; gaps: TimelineLane };
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** A zoom's [start, end] as of now (an active zoom runs to now, at most to its expiry). */
function zoomSpan(z: ZoomView, nowNs: bigint): [bigint, bigint] {
  const start = BigInt(z.startedAtNs ?? z.orderedAtNs);
  const end = z.endedAtNs ? BigInt(z.endedAtNs) : z.status === 'active' || z.status === 'ordered' ? min(nowNs, BigInt(z.expiresAtNs ?? nowNs)) : BigInt(z.expiresAtNs ?? z.orderedAtNs);
  return [start, max(start, end)];
}

const SOURCE_TABLE: Record<LaneSource, RefTable> = {
  io_uring_ops: 'io_uring_ops',
  socket_events: 'socket_events',
  file_accesses: 'file_accesses',
  facts_io_uring: 'facts',
  process_events: 'process_events',
  sensor_gaps: 'sensor_gaps',
};

function refOf(source: LaneSource, key: string[]): string | null {
  const table = SOURCE_TABLE[source];
  const [a = '', b = '', c = '', d = '', e = ''] = key;
  switch (table) {
    case 'process_events':
    case 'facts':
      return encodeRef({ table, node: a, execId: b, tsNs: c, epoch: d, seq: e });
    case 'sensor_gaps':
      return encodeRef({ table, sensor: a, epoch: b, tsNs: c, fromSeq: d });
    case 'zooms':
      return null;
    default:
      return encodeRef({ table, tsNs: a, zoomId: b, seq: c });
  }
}

/** One lane from its sources' buckets: buckets of the same slice merge. */
function lane(sources: Array<{ source: LaneSource; buckets: LaneBucket[] }>, extra: TimelinePoint[] = []): TimelineLane {
  const bySlice = new Map<number, { source: LaneSource; b: LaneBucket; count: number; sum: number; lastNs: bigint }>();
  for (const { source, buckets } of sources) {
    for (const b of buckets) {
      const seen = bySlice.get(b.bucket);
      if (!seen) {
        bySlice.set(b.bucket, { source, b, count: b.count, sum: b.sum, lastNs: BigInt(b.lastNs) });
        continue;
      }
      if (BigInt(b.firstNs) < BigInt(seen.b.firstNs)) {
        seen.source = source;
        seen.b = b;
      }
      seen.count += b.count;
      seen.sum += b.sum;
      seen.lastNs = max(seen.lastNs, BigInt(b.lastNs));
    }
  }
  const points: TimelinePoint[] = [...bySlice.entries()]
    .sort(([x], [y]) => x - y)
    .map(([, { source, b, count, sum, lastNs }]) => {
      if (count === 1) return { tsNs: b.firstNs, execId: b.execId, label: b.label, ref: refOf(source, b.key), count };
      const label = source === 'sensor_gaps' ? `${sum} events lost in ${count} gaps (first: ${b.label})` : `${count} events (first: ${b.label})`;
      return { tsNs: b.firstNs, endNs: lastNs.toString(), execId: b.execId, label, ref: null, count };
    });
  const all = [...points, ...extra].sort((x, y) => (BigInt(x.tsNs) < BigInt(y.tsNs) ? -1 : BigInt(x.tsNs) > BigInt(y.tsNs) ? 1 : 0));
  const total = all.reduce((n, p) => n + p.count, 0);
  return { points: all, total, truncated: all.length < total };
}

export async function investigationTimeline(
  db: Db,
  id: string,
  nowNs: bigint,
  input: Narrowing = {},
): Promise<TimelineView> {
  const record = await getInvestigation(db, id);
  if (!record) throw new InvestigationNotFoundError(id);
  // Everything else the timeline needs depends on the record only: asked at once.
  const [{ zooms }, indicators, process, nodeSensors] = await Promise.all([
    investigationScope(db, id, nowNs, record),
    Promise.all(record.indicatorIds.slice(0, 10).map((i) => getIndicator(db, i))).then((all) => all.filter((x) => x !== null)),
    record.execId ? getProcess(db, record.execId) : Promise.resolve(null),
    record.node ? sensorsOfNode(db, record.node) : Promise.resolve([]),
  ]);
  const started = zooms.filter((z) => z.status !== 'refused');

  let from = BigInt(record.createdAtNs);
  let to = max(from, BigInt(record.updatedAtNs));
  for (const i of indicators) from = min(from, BigInt(i.tsNs));
  for (const z of started) {
    const [s, e] = zoomSpan(z, nowNs);
    from = min(from, min(s, BigInt(z.orderedAtNs)));
    to = max(to, e);
  }
  // The process's start, unless it ran long before (a daemon would stretch the range to days).
  if (process && BigInt(process.startNs) < from && from - BigInt(process.startNs) <= PROCESS_START_LOOKBACK_NS) from = BigInt(process.startNs);
  const range = { fromNs: from.toString(), toNs: to.toString() };
  const window = { fromNs: input.fromNs ?? range.fromNs, toNs: input.toNs ?? range.toNs };
  const wFrom = BigInt(window.fromNs);
  const wTo = BigInt(window.toNs);

  const focus = input.execId ?? record.execId;
  const sensors = [...new Set([...zooms.map((z) => z.sensor).filter((s) => s), ...nodeSensors])];
  const q: LaneQuery = {
    ...window,
    buckets: TIMELINE_BUCKETS,
    investigationId: id,
    execId: input.execId ?? '',
    node: record.node,
    execIds: focus ? [focus] : [],
    sensors,
  };
  const sources: LaneSource[] = ['process_events', 'io_uring_ops', 'facts_io_uring', 'socket_events', 'file_accesses', 'sensor_gaps'];
  const buckets = await Promise.all(sources.map((source) => laneBuckets(db, source, q)));
  const of = (source: LaneSource) => ({ source, buckets: buckets[sources.indexOf(source)]! });

  const zoomPoints: TimelinePoint[] = [];
  const dropPoints: TimelinePoint[] = [];
  for (const z of started) {
    const [s, e] = zoomSpan(z, nowNs);
    if (e < wFrom || s > wTo) continue;
    const execId = z.target.kind === 'exec_id' ? z.target.value : '';
    const ref = encodeRef({ table: 'zooms', zoomId: z.id });
    zoomPoints.push({ tsNs: s.toString(), endNs: e.toString(), execId, label: `${z.probes.join('+')} · ${z.status}`, ref, count: 1 });
    const dropped = BigInt(z.eventsDropped || '0');
    if (dropped > 0n && e >= wFrom && e <= wTo) {
      dropPoints.push({ tsNs: e.toString(), execId, label: `${dropped} events dropped by zoom ${z.id} (rate, budget or ring limits)`, ref, count: 1 });
    }
  }
  return {
    range,
    window,
    lanes: {
      process: lane([of('process_events')]),
      ioUring: lane([of('io_uring_ops'), of('facts_io_uring')]),
      network: lane([of('socket_events')]),
      files: lane([of('file_accesses')]),
      zooms: lane([], zoomPoints),
      gaps: lane([of('sensor_gaps')], dropPoints),
    },
  };
}
