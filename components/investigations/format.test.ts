import { describe, expect, it } from 'vitest';
import { findingTone, formatBytes, formatIntervalMs, formatRemaining, investigationHref, zoomStatusTone } from './format';

describe('investigation display helpers', () => {
  it('formats bytes, remaining TTLs and intervals', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(15 * 1024 * 1024)]).toEqual(['0 B', '1023 B', '1.5 KiB', '15 MiB']);
    expect([formatRemaining(null), formatRemaining(0), formatRemaining(12_001), formatRemaining(245_000)]).toEqual(['—', '0 s', '13 s', '4 min 05 s']);
    expect([formatIntervalMs(null), formatIntervalMs(999.94), formatIntervalMs(1003)]).toEqual(['—', '999.9 ms', '1.00 s']);
  });

  it('links and tones', () => {
    expect(investigationHref('0123456789abcdef01234567')).toBe('/investigations/0123456789abcdef01234567');
    expect(['active', 'refused', 'exhausted', 'expired'].map(zoomStatusTone)).toEqual(['info', 'bad', 'warn', 'muted']);
    expect(['critical', 'high', 'medium', 'low', 'info'].map(findingTone)).toEqual(['bad', 'bad', 'warn', 'info', 'muted']);
  });
});
