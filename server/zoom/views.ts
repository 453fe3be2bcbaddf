import type { ZoomStatusName, ZoomTargetKind } from '../../db/repositories/evidence';
import { ENDED_STATUSES } from '../../db/repositories/evidence';
import type { ZoomOrderRecord, ZoomRecord } from '../../db/repositories/zooms';

/**
 * The API shape of a zoom: its order (who, when, why) and its lifecycle as the sensor reported it.
 * Timestamps are nanoseconds as decimal strings; 64-bit counters are decimal strings.
 */
export interface ZoomView {
  /** the sensor's zoom id; '' for an order that never became a zoom (refused) */
  id: string;
  /** the cockpit's order id; null for a zoom the cockpit has no order row of (ordered by another client) */
  orderId: string | null;
  investigationId: string;
  sensor: string;
  node: string;
  /** ordered → active → expired | cancelled | exhausted | failed; refused: the order never started */
  status: ZoomStatusName | 'refused';
  /** why it is in this state, in words (the end cause; the refusal) */
  reason: string;
  error: string;
  trigger: 'manual' | 'auto' | null;
  indicatorId: string | null;
  target: { kind: ZoomTargetKind; value: string };
  /** processes targeted now (active) or last (ended) */
  targetPids: number[];
  probes: string[];
  ttlSeconds: number;
  maxEvents: string;
  orderedAtNs: string;
  startedAtNs: string | null;
  expiresAtNs: string | null;
  endedAtNs: string | null;
  /** active: ms until the sensor's TTL ends it; else null */
  remainingTtlMs: number | null;
  eventsEmitted: string;
  eventsDropped: string;
  /** order received → probes attached, on the sensor (ms) */
  attachMs: number | null;
  /** who ordered it (the analyst, or the zoom policy) and why */
  requestedBy: string;
  orderReason: string;
}

const nsOrNull = (ns: string) => (ns && ns !== '0' ? ns : null);

/** A zoom still "active" this long past its expiry never had its end state delivered. */
const STALE_GRACE_NS = 10_000_000_000n;

export function toZoomView(z: ZoomRecord, order: ZoomOrderRecord | undefined, nowNs: bigint): ZoomView {
  let status: ZoomView['status'] = z.status;
  let reason = z.reason;
  const expires = nsOrNull(z.expiresAtNs);
  if ((status === 'active' || status === 'ordered') && expires && BigInt(expires) + STALE_GRACE_NS < nowNs) {
    // The sensor ends every zoom at its TTL; storage never heard of it (the sensor restarted, the
    // stream was cut). Said so rather than shown as active forever.
    status = 'expired';
    reason = 'its TTL ran out (no end state was received from the sensor: it may have restarted)';
  }
  const remaining = status === 'active' && expires ? Number((BigInt(expires) - nowNs) / 1_000_000n) : null;
  return {
    id: z.zoomId,
    orderId: order?.orderId ?? null,
    investigationId: z.investigationId,
    sensor: z.sensor,
    node: z.node,
    status,
    reason,
    error: z.error,
    trigger: order?.trigger ?? null,
    indicatorId: order?.indicatorId || null,
    target: { kind: z.targetKind, value: z.target },
    targetPids: z.targetTgids.map(Number),
    probes: z.probes,
    ttlSeconds: Number(z.ttlSeconds),
    maxEvents: z.maxEvents,
    orderedAtNs: z.orderedAtNs,
    startedAtNs: nsOrNull(z.startedAtNs),
    expiresAtNs: expires,
    endedAtNs: nsOrNull(z.endedAtNs),
    remainingTtlMs: remaining === null ? null : Math.max(0, remaining),
    eventsEmitted: z.eventsEmitted,
    eventsDropped: z.eventsDropped,
    attachMs: z.attachNs !== '0' ? Number(z.attachNs) / 1e6 : null,
    requestedBy: z.requestedBy || order?.actorName || '',
    orderReason: z.orderReason || order?.reason || '',
  };
}

/** An order the sensor (or the cockpit) refused: no zoom exists. */
export function refusedOrderView(o: ZoomOrderRecord): ZoomView {
  return {
    id: o.zoomId,
    orderId: o.orderId,
    investigationId: o.investigationId,
    sensor: o.sensor,
    node: o.node,
    status: 'refused',
    reason: o.error,
    error: o.errorCode,
    trigger: o.trigger,
    indicatorId: o.indicatorId || null,
    target: { kind: o.targetKind, value: o.target },
    targetPids: [],
    probes: o.probes,
    ttlSeconds: Number(o.ttlSeconds),
    maxEvents: o.maxEvents,
    orderedAtNs: o.tsNs,
    startedAtNs: null,
    expiresAtNs: null,
    endedAtNs: null,
    remainingTtlMs: null,
    eventsEmitted: '0',
    eventsDropped: '0',
    attachMs: null,
    requestedBy: o.actorName,
    orderReason: o.reason,
  };
}

/** Zooms with their orders, and the refused orders, newest first. */
export function toZoomViews(zooms: readonly ZoomRecord[], orders: readonly ZoomOrderRecord[], nowNs: bigint): ZoomView[] {
  const byZoom = new Map(orders.filter((o) => o.zoomId).map((o) => [o.zoomId, o]));
  const views = zooms.map((z) => toZoomView(z, byZoom.get(z.zoomId), nowNs));
  const shown = new Set(zooms.map((z) => z.zoomId));
  for (const o of orders) if (o.outcome === 'refused' && !shown.has(o.zoomId)) views.push(refusedOrderView(o));
  return views.sort((a, b) => (BigInt(b.orderedAtNs) > BigInt(a.orderedAtNs) ? 1 : BigInt(b.orderedAtNs) < BigInt(a.orderedAtNs) ? -1 : 0));
}

export function isEnded(status: ZoomView['status']): boolean {
  return status === 'refused' || ENDED_STATUSES.has(status as ZoomStatusName);
}
