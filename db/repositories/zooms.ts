import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { zoomOrders, zooms } from '../schema/zoom';
import { nsToClickHouse } from '../time';
import type { Zoom } from '../../sensor/gen/soc/sensor/v1/sensor';
import { zoomRow, type ZoomRowSource, type ZoomStatusName, type ZoomTargetKind } from './evidence';

/**
 * Zoom orders (append-only) and zoom lifecycles (ReplacingMergeTree, read with FINAL): see
 * db/schema/zoom.ts. The collector writes lifecycle rows from the stream (sensorStream.ts); the
 * zoom service writes the order's and a cancel's responses and one order row per order.
 */

export interface ZoomOrderRecord {
  orderId: string;
  tsNs: string;
  trigger: 'manual' | 'auto';
  actorType: string;
  actorId: string;
  actorName: string;
  actorRole: string;
  reason: string;
  indicatorId: string;
  investigationId: string;
  sensor: string;
  node: string;
  targetKind: ZoomTargetKind;
  target: string;
  probes: string[];
  ttlSeconds: number;
  maxEvents: string;
  maxEventsPerSecond: number;
  payloadPrefixBytes: number;
  outcome: 'accepted' | 'refused';
  errorCode: string;
  error: string;
  zoomId: string;
  roundTripNs: string;
}

export async function insertZoomOrder(db: Db, r: ZoomOrderRecord): Promise<void> {
  await insertRows(db, {
    table: zoomOrders,
    rows: [
      {
        order_id: r.orderId,
        ts: r.tsNs,
        trigger: r.trigger,
        actor_type: r.actorType,
        actor_id: r.actorId,
        actor_name: r.actorName,
        actor_role: r.actorRole,
        reason: r.reason,
        indicator_id: r.indicatorId,
        investigation_id: r.investigationId,
        sensor: r.sensor,
        node: r.node,
        target_kind: r.targetKind,
        target: r.target,
        probes: r.probes,
        ttl_s: r.ttlSeconds,
        max_events: r.maxEvents,
        max_events_per_s: r.maxEventsPerSecond,
        payload_prefix_bytes: r.payloadPrefixBytes,
        outcome: r.outcome,
        error_code: r.errorCode,
        error: r.error,
        zoom_id: r.zoomId,
        round_trip_ns: r.roundTripNs,
      },
    ],
    tag: 'zooms.order',
    // One order is one row, even when its write is retried.
    dedupToken: `zoom_order:${r.orderId}`,
  });
}

/** A zoom state as the sensor answered an order or a cancel. */
export async function upsertZoomState(db: Db, zoom: Zoom, src: ZoomRowSource): Promise<void> {
  await insertRows(db, { table: zooms, rows: [zoomRow(zoom, src)], tag: `zooms.${src.source}` });
}

/** A zoom's current state (the newest row version). */
export interface ZoomRecord {
  zoomId: string;
  sensor: string;
  node: string;
  investigationId: string;
  status: ZoomStatusName;
  reason: string;
  error: string;
  targetKind: ZoomTargetKind;
  target: string;
  targetTgids: number[];
  probes: string[];
  ttlSeconds: number;
  maxEvents: string;
  maxEventsPerSecond: number;
  payloadPrefixBytes: number;
  orderedAtNs: string;
  startedAtNs: string;
  expiresAtNs: string;
  endedAtNs: string;
  eventsEmitted: string;
  eventsDropped: string;
  droppedRate: string;
  droppedBudget: string;
  droppedRing: string;
  fingerprints: string;
  attachNs: string;
  requestedBy: string;
  clientSubject: string;
  orderReason: string;
  observedAtNs: string;
}

const ZOOM_COLUMNS = `zoom_id AS zoomId, toString(sensor) AS sensor, toString(node) AS node, investigation_id AS investigationId,
  toString(status) AS status, reason, error, toString(target_kind) AS targetKind, target, target_tgids AS targetTgids, probes,
  ttl_s AS ttlSeconds, toString(max_events) AS maxEvents, max_events_per_s AS maxEventsPerSecond, payload_prefix_bytes AS payloadPrefixBytes,
  toString(toUnixTimestamp64Nano(ordered_at)) AS orderedAtNs, toString(toUnixTimestamp64Nano(started_at)) AS startedAtNs,
  toString(toUnixTimestamp64Nano(expires_at)) AS expiresAtNs, toString(toUnixTimestamp64Nano(ended_at)) AS endedAtNs,
  toString(events_emitted) AS eventsEmitted, toString(events_dropped) AS eventsDropped, toString(dropped_rate) AS droppedRate,
  toString(dropped_budget) AS droppedBudget, toString(dropped_ring) AS droppedRing, toString(fingerprints) AS fingerprints,
  toString(attach_ns) AS attachNs, requested_by AS requestedBy, client_subject AS clientSubject, order_reason AS orderReason,
  toString(toUnixTimestamp64Nano(observed_at)) AS observedAtNs`;

/** What zooms and orders are listed by: a window of order times, optionally one investigation or one targeted process image. */
export interface ZoomListQuery {
  fromNs: string;
  toNs: string;
  investigationId?: string;
  /** only zooms ordered on this exec id (target kind exec_id) */
  execId?: string;
  limit: number;
}

const listParams = (q: ZoomListQuery) => ({ from: nsToClickHouse(q.fromNs), to: nsToClickHouse(q.toNs), investigation: q.investigationId ?? '', execId: q.execId ?? '', limit: q.limit });
const LIST_FILTERS = `AND ({investigation:String} = '' OR investigation_id = {investigation:String})
            AND ({execId:String} = '' OR (target_kind = 'exec_id' AND target = {execId:String}))`;

/** Zooms ordered in [from, to], optionally of one investigation or process image, newest first. */
export async function listZooms(db: Db, query: ZoomListQuery): Promise<ZoomRecord[]> {
  return selectRows<ZoomRecord>(db, {
    sql: `SELECT ${ZOOM_COLUMNS} FROM zooms FINAL
          WHERE ordered_at BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}
            ${LIST_FILTERS}
          ORDER BY ordered_at DESC, zoom_id
          LIMIT {limit:UInt32}`,
    params: listParams(query),
    tag: 'zooms.list',
  });
}

/** One zoom (its newest state), searched in the last `withinNs` (zooms are kept 400 days). */
export async function getZoom(db: Db, zoomId: string, sinceNs: string): Promise<ZoomRecord | null> {
  const rows = await selectRows<ZoomRecord>(db, {
    sql: `SELECT ${ZOOM_COLUMNS} FROM zooms FINAL
          WHERE zoom_id = {id:String} AND ordered_at >= {since:DateTime64(9, 'UTC')}
          LIMIT 1`,
    params: { id: zoomId, since: nsToClickHouse(sinceNs) },
    tag: 'zooms.get',
  });
  return rows[0] ?? null;
}

/** zoom id → investigation of the zooms ordered since `sinceNs` (what the collector maps evidence with). */
export async function loadZoomInvestigations(db: Db, sinceNs: string): Promise<Map<string, string>> {
  const rows = await selectRows<{ zoomId: string; investigationId: string }>(db, {
    sql: `SELECT zoom_id AS zoomId, argMax(investigation_id, row_version) AS investigationId FROM zooms
          WHERE ordered_at >= {since:DateTime64(9, 'UTC')}
          GROUP BY zoom_id`,
    params: { since: nsToClickHouse(sinceNs) },
    tag: 'collector:zoom_investigations',
  });
  return new Map(rows.map((r) => [r.zoomId, r.investigationId]));
}

/**
 * Investigations whose last zoom ended in (from, to], oldest end first: its end state, or — for a
 * zoom whose end state never arrived — its expiry (what the analysis keeper stores analyses for).
 */
export async function investigationsWithZoomsEnded(db: Db, query: { fromNs: string; toNs: string; limit: number }): Promise<Array<{ investigationId: string; endedNs: string }>> {
  return selectRows<{ investigationId: string; endedNs: string }>(db, {
    sql: `SELECT investigation_id AS investigationId, max(if(toUnixTimestamp64Nano(ended_at) > 0, ended_at, expires_at)) AS settled,
            toString(toUnixTimestamp64Nano(settled)) AS endedNs
          FROM zooms FINAL
          WHERE ordered_at <= {to:DateTime64(9, 'UTC')} AND investigation_id != ''
          GROUP BY investigation_id
          HAVING settled > {from:DateTime64(9, 'UTC')} AND settled <= {to:DateTime64(9, 'UTC')}
          ORDER BY settled
          LIMIT {limit:UInt32}`,
    params: { from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs), limit: query.limit },
    tag: 'zooms.ended',
  });
}

const ORDER_COLUMNS = `order_id AS orderId, toString(toUnixTimestamp64Nano(ts)) AS tsNs, toString(trigger) AS trigger,
  toString(actor_type) AS actorType, actor_id AS actorId, actor_name AS actorName, toString(actor_role) AS actorRole, reason,
  indicator_id AS indicatorId, investigation_id AS investigationId, toString(sensor) AS sensor, toString(node) AS node,
  toString(target_kind) AS targetKind, target, probes, ttl_s AS ttlSeconds, toString(max_events) AS maxEvents,
  max_events_per_s AS maxEventsPerSecond, payload_prefix_bytes AS payloadPrefixBytes, toString(outcome) AS outcome,
  toString(error_code) AS errorCode, error, zoom_id AS zoomId, toString(round_trip_ns) AS roundTripNs`;

/** Orders made in [from, to], optionally of one investigation or process image, newest first. */
export async function listZoomOrders(db: Db, query: ZoomListQuery): Promise<ZoomOrderRecord[]> {
  return selectRows<ZoomOrderRecord>(db, {
    sql: `SELECT ${ORDER_COLUMNS} FROM zoom_orders
          WHERE ts BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}
            ${LIST_FILTERS}
          ORDER BY ts DESC, order_id
          LIMIT {limit:UInt32}`,
    params: listParams(query),
    tag: 'zooms.orders',
  });
}

/** The sensor that delivered an exec id's image (zoom orders go to it), with whether it exited. */
export async function sensorOfExec(db: Db, node: string, execId: string): Promise<{ sensor: string; binary: string; pid: number; exited: boolean; exitNs: string } | null> {
  // Output names differ from the columns: ClickHouse aliases would shadow them in the other aggregates.
  const rows = await selectRows<{ sensorName: string; binaryPath: string; imagePid: number; exited: number | boolean; exitNs: string }>(db, {
    sql: `SELECT argMaxIf(toString(sensor), ts, kind = 'exec') AS sensorName,
                 argMaxIf(binary, ts, kind = 'exec') AS binaryPath,
                 any(pid) AS imagePid,
                 max(kind = 'exit' AND pid = {pid:UInt32}) AS exited,
                 toString(toUnixTimestamp64Nano(maxIf(ts, kind = 'exit' AND pid = {pid:UInt32}))) AS exitNs
          FROM process_events
          WHERE node = {node:String} AND exec_id = {execId:String}
          HAVING count() > 0`,
    params: { node, execId, pid: Number(execId.split(':')[3] ?? 0) },
    tag: 'zooms.target',
  });
  const r = rows[0];
  if (!r || !r.sensorName) return null;
  return { sensor: r.sensorName, binary: r.binaryPath, pid: Number(r.imagePid), exited: Boolean(Number(r.exited)), exitNs: r.exitNs };
}

/** The sensor that last reported a node (its Status), within the last 30 days. */
export async function sensorOfNode(db: Db, node: string): Promise<string | null> {
  const rows = await selectRows<{ sensor: string }>(db, {
    sql: `SELECT toString(sensor) AS sensor FROM sensor_status
          WHERE node = {node:String} AND observed_at >= now64(9) - INTERVAL 30 DAY
          ORDER BY observed_at DESC LIMIT 1`,
    params: { node },
    tag: 'zooms.node',
  });
  return rows[0]?.sensor ?? null;
}
