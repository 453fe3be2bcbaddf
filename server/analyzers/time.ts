/**
 * Time at the analyzers' edges: nanosecond decimal strings in, bigint inside, milliseconds
 * (JS numbers) for durations, and durations written the way an analyst reads them.
 *
 * Durations are computed as bigint differences first and only then converted to milliseconds,
 * so nanosecond epoch values (beyond 2^53) never lose precision.
 */
import type { NsTimestamp } from './types';

const DECIMAL = /^\d{1,20}$/;

/** Parses a nanosecond timestamp; throws on anything but an unsigned decimal integer. */
export function parseNs(ts: NsTimestamp): bigint {
  if (!DECIMAL.test(ts)) throw new Error(`timestamp ${JSON.stringify(ts)} is not nanoseconds as a decimal string`);
  return BigInt(ts);
}

export function formatNs(ns: bigint): NsTimestamp {
  return ns.toString();
}

/** b - a in milliseconds (fractional). */
export function diffMs(a: bigint, b: bigint): number {
  return Number(b - a) / 1e6;
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** "250 ms", "1.25 s", "5 s", "2 min 30 s", "1 h 5 min". */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1) return `${trimZeros(ms.toFixed(3))} ms`;
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${trimZeros((ms / 1000).toFixed(abs < 10_000 ? 2 : 1))} s`;
  if (abs < 3_600_000) {
    const min = Math.floor(abs / 60_000);
    const s = Math.round((abs - min * 60_000) / 1000);
    return s === 0 ? `${min} min` : s === 60 ? `${min + 1} min` : `${min} min ${s} s`;
  }
  const h = Math.floor(abs / 3_600_000);
  const min = Math.round((abs - h * 3_600_000) / 60_000);
  return min === 0 ? `${h} h` : min === 60 ? `${h + 1} h` : `${h} h ${min} min`;
}

/** "1,234" — byte counts and the like. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
