/**
 * Time display. Everything is shown in UTC (tickets and chats mix time zones; UTC does not), from
 * nanosecond decimal strings, converted with BigInt: a JavaScript number cannot hold nanoseconds
 * since 1970 exactly.
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

function toBigInt(ns: string | bigint): bigint {
  return typeof ns === 'bigint' ? ns : BigInt(ns);
}

/** "2026-11-22 10:57:03.123" — milliseconds, for tables. */
export function formatNs(ns: string | bigint): string {
  const iso = new Date(Number(toBigInt(ns) / NS_PER_MS)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** "2026-11-22T10:57:03.123456789Z" — every nanosecond, for tooltips and copying. */
export function formatNsPrecise(ns: string | bigint): string {
  const value = toBigInt(ns);
  const iso = new Date(Number(value / NS_PER_MS)).toISOString();
  return `${iso.slice(0, 19)}.${(value % NS_PER_S).toString().padStart(9, '0')}Z`;
}

/** A duration in nanoseconds as "1.5 s", "3 min 20 s", "2 h 5 min", "4 d 3 h". */
export function formatDurationNs(ns: string | bigint): string {
  const value = toBigInt(ns);
  if (value < 0n) return `-${formatDurationNs(-value)}`;
  if (value < 1_000n) return `${value} ns`;
  if (value < NS_PER_MS) return `${Number(value) / 1_000} µs`;
  if (value < NS_PER_S) return `${Number(value / 1_000n) / 1_000} ms`;
  const seconds = Number(value / NS_PER_MS) / 1000;
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const s = Math.floor(seconds);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${sec} s`;
}

/** Milliseconds since the epoch → nanosecond string. */
export function msToNsString(ms: number): string {
  return (BigInt(Math.trunc(ms)) * NS_PER_MS).toString();
}

/** Nanosecond string → "YYYY-MM-DDTHH:MM:SS" (UTC), the value of an `<input type="datetime-local">`. */
export function nsToInputValue(ns: string): string {
  return new Date(Number(BigInt(ns) / NS_PER_MS)).toISOString().slice(0, 19);
}

/**
 * Reads a time from a URL or a form: nanoseconds ("1763809023123456789") or an ISO date-time taken
 * as UTC when it has no zone ("2026-11-22T10:57:03", "2026-11-22T10:57:03.5Z"). Null when neither.
 */
export function parseTimeToNs(text: string): string | null {
  const value = text.trim();
  if (/^\d{1,20}$/.test(value)) return BigInt(value).toString();
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms) || ms < 0) return null;
  const fraction = BigInt((m[2] ?? '').padEnd(9, '0'));
  return (BigInt(ms) * NS_PER_MS + fraction).toString();
}
