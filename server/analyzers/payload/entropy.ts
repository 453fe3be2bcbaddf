/**
 * Shannon entropy of a byte sample, and the threshold above which it is "high" (likely
 * encrypted or compressed).
 *
 * A fixed 7.2 bits/byte only works on long samples: n bytes can show at most log2(n) bits, and
 * uniformly random bytes show on average E(n) = 5.77 bits/byte at n = 64, 7.18 at 256, 7.81 at
 * 1024. So the sample is compared with what random bytes *of its length* would show:
 * high when H >= min(7.2, E(n) - 0.5) and n >= 64. At 1 KiB and beyond that is the usual 7.2;
 * at 256 bytes it is 6.68 (a gzip stream's first 256 bytes measure ~6.7, random bytes 6.97 at
 * the very least). E(n) is computed exactly (binomial expectation), not estimated.
 */

export const MIN_ENTROPY_SAMPLE = 64;
const LONG_SAMPLE_THRESHOLD = 7.2;
const MARGIN_BELOW_RANDOM = 0.5;

/** Bits per byte (0..8). */
export function shannonEntropy(b: Uint8Array): number {
  if (b.length === 0) return 0;
  const counts = new Array<number>(256).fill(0);
  for (const x of b) counts[x]!++;
  let h = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / b.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const expectedCache = new Map<number, number>();

/**
 * Expected entropy (bits/byte) of n independent uniformly random bytes:
 * E = -256 * sum_k P(count = k) * (k/n) log2(k/n), count ~ Binomial(n, 1/256).
 */
export function expectedRandomEntropy(n: number): number {
  if (n <= 0) return 0;
  const size = Math.min(n, 1 << 20);
  const cached = expectedCache.get(size);
  if (cached !== undefined) return cached;
  const p = 1 / 256;
  let pk = Math.pow(1 - p, size); // P(count = 0)
  let s = 0;
  for (let k = 1; k <= size; k++) {
    pk = (pk * (size - k + 1)) / k * (p / (1 - p));
    if (pk < 1e-300 && k > size * p * 4) break; // the remaining terms no longer count
    s += pk * (k / size) * Math.log2(k / size);
  }
  const e = -256 * s;
  expectedCache.set(size, e);
  return e;
}

/** The "high entropy" threshold for a sample of n bytes (see the module comment). */
export function highEntropyThreshold(n: number): number {
  return Math.min(LONG_SAMPLE_THRESHOLD, expectedRandomEntropy(n) - MARGIN_BELOW_RANDOM);
}

export interface EntropyMeasure {
  bitsPerByte: number;
  bytes: number;
  /** null when the sample is too short to judge */
  high: boolean | null;
  threshold: number;
}

export function measureEntropy(b: Uint8Array): EntropyMeasure {
  const bitsPerByte = shannonEntropy(b);
  const threshold = highEntropyThreshold(b.length);
  return { bitsPerByte, bytes: b.length, high: b.length < MIN_ENTROPY_SAMPLE ? null : bitsPerByte >= threshold, threshold };
}
