import type { Tone } from '@/components/investigations/format';
import type { ZoomView } from '@/server/zoom/views';

/**
 * What the process page's zoom panel shows, computed without React: which zooms belong to the
 * process, how long an active one has left, how a state looks.
 */

export type ZoomStatus = ZoomView['status'];

/** Zooms whose target is this process image (orders by exec id), newest first as listed. */
export function zoomsOfProcess(zooms: readonly ZoomView[], execId: string): ZoomView[] {
  return zooms.filter((z) => z.target.kind === 'exec_id' && z.target.value === execId);
}

/**
 * Milliseconds an active zoom has left now: the server's remainingTtlMs when the list was fetched,
 * less the time since (the browser's clock is never compared with the sensor's). Null when ended.
 */
export function remainingMsNow(zoom: Pick<ZoomView, 'status' | 'remainingTtlMs'>, fetchedAtMs: number, nowMs: number): number | null {
  if (zoom.status !== 'active' || zoom.remainingTtlMs === null) return null;
  return Math.max(0, zoom.remainingTtlMs - Math.max(0, nowMs - fetchedAtMs));
}

/** "1 min 05 s", "42 s", "ending…" (a zoom at 0 waits for the sensor's end state). */
export function formatRemaining(ms: number): string {
  if (ms <= 0) return 'ending…';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${sec} s`;
}

const STATUS_TONE: Record<ZoomStatus, Tone> = {
  ordered: 'info',
  active: 'ok',
  expired: 'muted',
  cancelled: 'muted',
  exhausted: 'warn',
  failed: 'bad',
  refused: 'bad',
};

/** Badge tone of a zoom's status (the process page and the investigation page alike). */
export function zoomStatusTone(status: string): Tone {
  return STATUS_TONE[status as ZoomStatus] ?? 'muted';
}

export function statusBadgeClass(status: ZoomStatus): string {
  return `badge--${zoomStatusTone(status)}`;
}

/** True while some zoom may still change by itself (the panel keeps polling). */
export function anyLive(zooms: readonly Pick<ZoomView, 'status'>[]): boolean {
  return zooms.some((z) => z.status === 'active' || z.status === 'ordered');
}

/** What the API's error code means for an order, as a heading (the message says the rest). */
export function orderErrorTitle(code: string | null): string {
  switch (code) {
    case 'BAD_REQUEST':
      return 'The order is not valid';
    case 'NOT_FOUND':
      return 'Nothing to zoom on';
    case 'FORBIDDEN':
      return 'Not allowed';
    case 'CONFLICT':
      return 'The sensor refused the order';
    case 'SERVICE_UNAVAILABLE':
      return 'The sensor cannot be reached';
    case 'UNAUTHORIZED':
      return 'Signed out';
    default:
      return 'The order failed';
  }
}

/** `/investigations/<id>` */
export function investigationHref(id: string): string {
  return `/investigations/${encodeURIComponent(id)}`;
}
