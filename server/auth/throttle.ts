import type { LoginAttempt } from '../../db/repositories/users';

/**
 * Brute-force defence for password sign-in, as a pure policy over recorded attempts.
 *
 * Per account (the email typed, whether or not it exists — so that lockout reveals nothing):
 *   - the first BACKOFF_AFTER (3) consecutive failures cost nothing;
 *   - after that each failure doubles the wait before the next attempt: 1 s, 2 s, 4 s … 60 s;
 *   - at `threshold` consecutive failures (AUTH_LOCKOUT_THRESHOLD, 10) the account is locked for
 *     AUTH_LOCKOUT_MINUTES (15); each failure after the lock lifts locks it again.
 *   A success (or an admin's `users -- unlock`) resets the count. Refused attempts are not
 *   counted, so hammering a locked account does not extend the lock.
 * Per source address: SOURCE_LIMIT (50) failures within the lockout window refuse further
 * attempts from that address until the window has passed (password spraying across accounts).
 */
export const BACKOFF_AFTER = 3;
export const MAX_BACKOFF_NS = 60_000_000_000n;
export const SOURCE_LIMIT = 50;
/** How far back consecutive account failures are counted. */
export const ACCOUNT_MEMORY_NS = 24n * 3_600_000_000_000n;

export type ThrottleDecision = { allowed: true } | { allowed: false; reason: 'backoff' | 'locked' | 'source_limit'; retryAfterNs: bigint };

/** Attempts newest first. */
export function accountDecision(attempts: readonly LoginAttempt[], nowNs: bigint, policy: { threshold: number; lockoutNs: bigint }): ThrottleDecision {
  let failures = 0;
  for (const attempt of attempts) {
    if (attempt.ok) break;
    failures++;
  }
  if (failures < BACKOFF_AFTER) return { allowed: true };
  const lastFailure = BigInt(attempts[0]!.tsNs);
  let waitNs: bigint;
  let reason: 'backoff' | 'locked';
  if (failures >= policy.threshold) {
    waitNs = policy.lockoutNs;
    reason = 'locked';
  } else {
    waitNs = 1_000_000_000n << BigInt(failures - BACKOFF_AFTER);
    if (waitNs > MAX_BACKOFF_NS) waitNs = MAX_BACKOFF_NS;
    reason = 'backoff';
  }
  const until = lastFailure + waitNs;
  return nowNs < until ? { allowed: false, reason, retryAfterNs: until - nowNs } : { allowed: true };
}

/** Attempts newest first, already limited to the window. */
export function sourceDecision(attempts: readonly LoginAttempt[], nowNs: bigint, windowNs: bigint): ThrottleDecision {
  const failures = attempts.filter((a) => !a.ok && nowNs - BigInt(a.tsNs) < windowNs);
  if (failures.length < SOURCE_LIMIT) return { allowed: true };
  const oldestCounted = BigInt(failures[SOURCE_LIMIT - 1]!.tsNs);
  return { allowed: false, reason: 'source_limit', retryAfterNs: oldestCounted + windowNs - nowNs };
}
