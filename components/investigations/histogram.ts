/**
 * What the network panel computes in the browser from a destination's contact times: the intervals
 * between contacts and their histogram (one tall bar = a beacon), and per-bucket counts for the
 * contact timeline. Pure, unit-tested; nanoseconds are BigInt until they become milliseconds.
 */

/** Contact times (ns strings, any order, duplicates allowed) → intervals between them in ms. */
export function intervalsFromContacts(contactsNs: readonly string[]): number[] {
  const sorted = contactsNs
    .filter((t) => /^\d{1,20}$/.test(t))
    .map((t) => BigInt(t))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: number[] = [];
  for (let i = 1; i < sorted.length; i++) out.push(Number(sorted[i]! - sorted[i - 1]!) / 1e6);
  return out;
}

/** 1, 2 or 5 × 10^k, the smallest at least `raw` (bins that read well on an axis). */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

export interface HistogramBin {
  /** [startMs, endMs) */
  startMs: number;
  endMs: number;
  count: number;
}

/**
 * Intervals (ms) in about `targetBins` bins of a nice width (at least 1 ms), from the bin holding
 * the smallest to the one holding the largest. Negative or non-finite values are ignored.
 */
export function intervalHistogram(intervalsMs: readonly number[], targetBins = 24): HistogramBin[] {
  const values = intervalsMs.filter((v) => Number.isFinite(v) && v >= 0);
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = Math.max(1, niceStep((max - min) / Math.max(1, targetBins)));
  const first = Math.floor(min / width) * width;
  const count = Math.floor((max - first) / width) + 1;
  const bins: HistogramBin[] = Array.from({ length: count }, (_, i) => ({ startMs: first + i * width, endMs: first + (i + 1) * width, count: 0 }));
  for (const v of values) bins[Math.min(count - 1, Math.floor((v - first) / width))]!.count++;
  return bins;
}

/** Median and relative spread (p90−p10 over the median) of intervals; null without any. */
export function intervalSummary(intervalsMs: readonly number[]): { medianMs: number; spread: number } | null {
  const v = intervalsMs.filter((x) => Number.isFinite(x) && x >= 0).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
  const median = at(0.5);
  return { medianMs: median, spread: median > 0 ? (at(0.9) - at(0.1)) / median : 0 };
}

/**
 * Counts of times (ns strings) per bucket of `bucketNs` between fromNs and toNs (inclusive), for a
 * contact strip; times outside are ignored. At most `maxBuckets` buckets (the width grows instead).
 */
export function bucketCounts(timesNs: readonly string[], fromNs: string, toNs: string, maxBuckets = 200): Array<{ startNs: string; count: number }> {
  const from = BigInt(fromNs);
  const to = BigInt(toNs);
  if (to < from) return [];
  const span = to - from + 1n;
  const buckets = BigInt(Math.max(1, maxBuckets));
  const width = (span + buckets - 1n) / buckets;
  const n = Number((span + width - 1n) / width);
  const counts = new Array<number>(n).fill(0);
  for (const t of timesNs) {
    if (!/^\d{1,20}$/.test(t)) continue;
    const v = BigInt(t);
    if (v < from || v > to) continue;
    counts[Number((v - from) / width)]!++;
  }
  return counts.map((count, i) => ({ startNs: (from + BigInt(i) * width).toString(), count }));
}

/** A histogram bin's axis label: whole milliseconds tell bins of a few ms apart; long intervals read better in seconds. */
export function binLabel(startMs: number, maxMs: number): string {
  return maxMs < 10_000 ? `${Math.round(startMs)} ms` : `${(startMs / 1000).toFixed(1)} s`;
}
