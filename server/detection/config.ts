import { z } from 'zod';

/**
 * The learning window, like Kubescape's learning period: a profile learns for at least
 * `minNs`, then completes as soon as nothing new was learned for `quietNs`, and at the latest
 * after `maxNs`. Configured once for the cockpit (env), recorded on every profile when its
 * learning starts (a profile keeps the window it learned under).
 */
export interface LearningWindow {
  minNs: bigint;
  quietNs: bigint;
  maxNs: bigint;
}

const NS_PER_MS = 1_000_000n;
const UNITS: Record<string, bigint> = { ms: NS_PER_MS, s: 1000n * NS_PER_MS, m: 60_000n * NS_PER_MS, h: 3_600_000n * NS_PER_MS, d: 86_400_000n * NS_PER_MS };

/** Production defaults: Kubescape-like (learn ≥ 10 min, complete after 5 quiet minutes, at most a day). */
export const DEFAULT_LEARNING_WINDOW: LearningWindow = {
  minNs: 10n * UNITS.m!,
  quietNs: 5n * UNITS.m!,
  maxNs: 24n * UNITS.h!,
};

/** "90s", "10m", "1.5h", "250ms", "2d" or a bare number of seconds → nanoseconds. */
export function parseDuration(text: string): bigint | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2] ?? 's']!;
  const [whole, fraction = ''] = m[1]!.split('.');
  const digits = fraction.slice(0, 6).padEnd(6, '0');
  return BigInt(whole!) * unit + (BigInt(digits) * unit) / 1_000_000n;
}

const duration = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const ns = parseDuration(v);
      if (ns === null) {
        ctx.addIssue({ code: 'custom', message: `${name}: not a duration ("${v}"; use e.g. 30s, 10m, 24h)` });
        return z.NEVER;
      }
      return ns;
    });

const envSchema = z.object({
  BASELINE_MIN_LEARNING: duration('BASELINE_MIN_LEARNING'),
  BASELINE_QUIET: duration('BASELINE_QUIET'),
  BASELINE_MAX_LEARNING: duration('BASELINE_MAX_LEARNING'),
});

/** The learning window from BASELINE_MIN_LEARNING / BASELINE_QUIET / BASELINE_MAX_LEARNING. */
export function learningWindowFromEnv(env: Record<string, string | undefined> = process.env): LearningWindow {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
  const window: LearningWindow = {
    minNs: parsed.data.BASELINE_MIN_LEARNING ?? DEFAULT_LEARNING_WINDOW.minNs,
    quietNs: parsed.data.BASELINE_QUIET ?? DEFAULT_LEARNING_WINDOW.quietNs,
    maxNs: parsed.data.BASELINE_MAX_LEARNING ?? DEFAULT_LEARNING_WINDOW.maxNs,
  };
  if (window.quietNs <= 0n) throw new Error('BASELINE_QUIET must be more than 0');
  if (window.maxNs < window.minNs) throw new Error('BASELINE_MAX_LEARNING must not be shorter than BASELINE_MIN_LEARNING');
  return window;
}
