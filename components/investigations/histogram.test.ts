import { describe, expect, it } from 'vitest';
import { binLabel, bucketCounts, intervalHistogram, intervalsFromContacts, intervalSummary, niceStep } from './histogram';

const S = 1_000_000_000n;
const T0 = 1_763_809_000_000_000_000n;

describe('contact intervals and histograms', () => {
  it('takes intervals between sorted contacts exactly, from nanosecond strings', () => {
    const contacts = [T0 + 2n * S + 5_000_000n, T0, T0 + S, 'junk', T0 + 3n * S].map(String);
    expect(intervalsFromContacts(contacts)).toEqual([1000, 1005, 995]);
    expect(intervalsFromContacts([String(T0)])).toEqual([]);
  });

  it('picks nice bin widths', () => {
    expect([0.3, 1, 3, 7, 12, 45, 180, 999].map(niceStep)).toEqual([0.5, 1, 5, 10, 20, 50, 200, 1000]);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(Number.NaN)).toBe(1);
  });

  it('a beacon is one tall bar; noise spreads out', () => {
    const beacon = [1000, 1002, 998, 1001, 999, 1000, 1003, 997];
    const bins = intervalHistogram(beacon, 4);
    expect(bins.map((b) => [b.startMs, b.endMs, b.count])).toEqual([
      [996, 998, 1],
      [998, 1000, 2],
      [1000, 1002, 3],
      [1002, 1004, 2],
    ]);
    expect(bins.reduce((s, b) => s + b.count, 0)).toBe(beacon.length);
    // identical intervals: one bin of the minimal width
    expect(intervalHistogram([500, 500, 500])).toEqual([{ startMs: 500, endMs: 501, count: 3 }]);
    expect(intervalHistogram([])).toEqual([]);
    expect(intervalHistogram([-1, Number.NaN])).toEqual([]);
  });

  it('labels bins in ms, or in s for long intervals', () => {
    expect([binLabel(998, 1004), binLabel(999.6, 1004), binLabel(30_000, 61_000)]).toEqual(['998 ms', '1000 ms', '30.0 s']);
  });

  it('summarises the median and spread', () => {
    expect(intervalSummary([1000, 1000, 1000])).toEqual({ medianMs: 1000, spread: 0 });
    expect(intervalSummary([100, 1000, 5000])).toEqual({ medianMs: 1000, spread: 4.9 });
    expect(intervalSummary([])).toBeNull();
  });

  it('counts contacts per bucket over a window', () => {
    const times = [T0, T0 + 1n, T0 + 5n * S, T0 + 10n * S, T0 + 11n * S].map(String);
    const buckets = bucketCounts(times, String(T0), String(T0 + 10n * S), 2);
    expect(buckets.map((b) => b.count)).toEqual([3, 1]);
    expect(buckets[0]!.startNs).toBe(String(T0));
    expect(bucketCounts(times, String(T0 + S), String(T0))).toEqual([]);
  });
});
