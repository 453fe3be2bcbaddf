/**
 * Nanosecond timestamps, end to end. The API and the sensor carry them as decimal strings of
 * nanoseconds since the Unix epoch; ClickHouse stores DateTime64(9, 'UTC').
 *
 * Why the conversion is explicit: a DateTime64 given to ClickHouse as a bare integer string in
 * JSONEachRow is not read as nanoseconds (the row is silently mis-parsed), and JavaScript numbers
 * lose precision past 2^53 ns (~104 days). So we only ever exchange "seconds.nanoseconds" text on
 * the way in and `toUnixTimestamp64Nano(...)` strings on the way out.
 */

const NS_PER_SECOND = 1_000_000_000n;

/**
 * "1767225600123456789" → "1767225600.123456789" (the form ClickHouse parses exactly). The seconds
 * are zero-padded to 10 digits: ClickHouse reads shorter numbers as other date forms (or rejects
 * them), so 0 must be sent as "0000000000.000000000".
 */
export function nsToClickHouse(ns: string | bigint): string {
  const value = typeof ns === 'bigint' ? ns : BigInt(ns);
  if (value < 0n) throw new RangeError(`negative timestamp: ${value}`);
  const seconds = value / NS_PER_SECOND;
  const nanos = value % NS_PER_SECOND;
  return `${seconds.toString().padStart(10, '0')}.${nanos.toString().padStart(9, '0')}`;
}

/** Current wall clock in nanoseconds (millisecond precision plus hrtime's sub-ms offset). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** Nanoseconds (string) → milliseconds (number), for charts and Date. */
export function nsToMs(ns: string | bigint): number {
  return Number((typeof ns === 'bigint' ? ns : BigInt(ns)) / 1_000_000n);
}

/** Milliseconds → nanosecond string. */
export function msToNs(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

/** Validates a nanosecond decimal string (used by zod schemas and repositories). */
export const NS_PATTERN = /^\d{1,20}$/;
