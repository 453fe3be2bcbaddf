import { describe, expect, it } from 'vitest';
import { findingTone, formatBytes, formatIntervalMs, nsToMs, shortHash, verdictOf, verdictTone } from './format';

describe('investigation display helpers', () => {
  it('formats bytes and intervals', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(15 * 1024 * 1024)]).toEqual(['0 B', '1023 B', '1.5 KiB', '15 MiB']);
    expect([formatIntervalMs(null), formatIntervalMs(999.94), formatIntervalMs(999.96), formatIntervalMs(1003)]).toEqual(['—', '999.9 ms', '1.00 s', '1.00 s']);
  });

  it('tones of finding severities', () => {
    expect(['critical', 'high', 'medium', 'low', 'info'].map(findingTone)).toEqual(['bad', 'bad', 'warn', 'info', 'muted']);
  });
});

describe('verdicts and chart numbers', () => {
  it('reads a verdict in either shape and rejects anything else', () => {
    expect(verdictOf(null)).toBeNull();
    expect(verdictOf('none')).toBeNull();
    expect(verdictOf('suspicious')).toBeNull();
    expect(verdictOf('malicious')).toEqual({ value: 'malicious', reason: '', by: '', atNs: null });
    expect(verdictOf({ value: 'benign', reason: 'a backup job', by: 'ana@x', atNs: '1763809000000000000' })).toEqual({
      value: 'benign',
      reason: 'a backup job',
      by: 'ana@x',
      atNs: '1763809000000000000',
    });
    expect(verdictOf({ value: 'benign', atNs: 'soon', by: 3 })).toEqual({ value: 'benign', reason: '', by: '', atNs: null });
    expect(verdictOf({ value: 'evil' })).toBeNull();
    expect([verdictTone('malicious'), verdictTone('benign'), verdictTone('inconclusive'), verdictTone(null)]).toEqual(['bad', 'ok', 'warn', 'muted']);
  });

  it('converts nanoseconds to chart milliseconds without losing the millisecond', () => {
    expect(nsToMs('1763809000123456789')).toBeCloseTo(1763809000123.4568, 3);
    expect(nsToMs('0')).toBe(0);
    expect(shortHash(null)).toBe('—');
    expect(shortHash('abcdef')).toBe('abcdef');
    expect(shortHash('0123456789abcdef0123456789abcdef')).toBe('0123456789ab…cdef');
  });
});
