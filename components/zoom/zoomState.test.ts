import { describe, expect, it } from 'vitest';
import type { ZoomView } from '@/server/zoom/views';
import { anyLive, formatRemaining, investigationHref, orderErrorTitle, remainingMsNow, statusBadgeClass, zoomsOfProcess, zoomStatusTone } from './zoomState';

const view = (over: Partial<ZoomView>): ZoomView =>
  ({ id: 'z-1', status: 'active', remainingTtlMs: 60_000, target: { kind: 'exec_id', value: 'n:1:2:3:4' }, ...over }) as ZoomView;

describe('zoom panel state', () => {
  it('keeps only zooms targeting this exec id', () => {
    const zooms = [
      view({ id: 'a' }),
      view({ id: 'b', target: { kind: 'exec_id', value: 'n:1:2:3:5' } }),
      view({ id: 'c', target: { kind: 'cgroup', value: 'n:1:2:3:4' } }),
      view({ id: 'd', status: 'refused' }),
    ];
    expect(zoomsOfProcess(zooms, 'n:1:2:3:4').map((z) => z.id)).toEqual(['a', 'd']);
  });

  it('counts the remaining TTL down from the fetch, never below 0, and only for active zooms', () => {
    expect(remainingMsNow(view({}), 1_000, 4_500)).toBe(56_500);
    expect(remainingMsNow(view({}), 1_000, 900)).toBe(60_000);
    expect(remainingMsNow(view({}), 0, 90_000)).toBe(0);
    expect(remainingMsNow(view({ status: 'expired', remainingTtlMs: null }), 0, 0)).toBeNull();
    expect(remainingMsNow(view({ status: 'cancelled' }), 0, 0)).toBeNull();
  });

  it('formats remaining time in s, min and h', () => {
    expect(formatRemaining(0)).toBe('ending…');
    expect(formatRemaining(1)).toBe('1 s');
    expect(formatRemaining(59_001)).toBe('1 min 00 s');
    expect(formatRemaining(58_500)).toBe('59 s');
    expect(formatRemaining(65_000)).toBe('1 min 05 s');
    expect(formatRemaining(3_600_000 + 120_000)).toBe('1 h 02 min');
  });

  it('badges and polling follow the state', () => {
    expect(statusBadgeClass('active')).toBe('badge--ok');
    expect(statusBadgeClass('refused')).toBe('badge--bad');
    expect(statusBadgeClass('exhausted')).toBe('badge--warn');
    // One mapping for both pages (the investigation page's badges use the tone).
    expect(['active', 'ordered', 'refused', 'exhausted', 'expired', 'unknown'].map(zoomStatusTone)).toEqual(['ok', 'info', 'bad', 'warn', 'muted', 'muted']);
    expect(anyLive([view({ status: 'expired' }), view({ status: 'ordered' })])).toBe(true);
    expect(anyLive([view({ status: 'expired' }), view({ status: 'cancelled' })])).toBe(false);
  });

  it('names order errors by their code and links investigations', () => {
    expect(orderErrorTitle('SERVICE_UNAVAILABLE')).toBe('The sensor cannot be reached');
    expect(orderErrorTitle('BAD_REQUEST')).toBe('The order is not valid');
    expect(orderErrorTitle(null)).toBe('The order failed');
    expect(investigationHref('0123456789abcdef01234567')).toBe('/investigations/0123456789abcdef01234567');
  });
});
