/**
 * Display helpers of the investigation components (pure: unit-tested). Zooms' own (status tone,
 * remaining TTL, investigation links) are in components/zoom/zoomState.ts, shared with the process page.
 */

/** 1 234 567 → "1.2 MB"; small counts stay exact ("512 B"). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

/** Badge tone of a finding's severity. */
export function findingTone(severity: string): Tone {
  return severity === 'critical' || severity === 'high' ? 'bad' : severity === 'medium' ? 'warn' : severity === 'low' ? 'info' : 'muted';
}

/** "1 000.0 ms" → "1.00 s" for intervals. */
export function formatIntervalMs(ms: number | null): string {
  if (ms === null) return '—';
  // 999.96 ms would print as "1000.0 ms": from there on it is seconds.
  return ms >= 999.95 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** The probe sets as the order form shows them, with what each collects. */
export const PROBE_LABELS: Record<string, string> = {
  IO_URING: 'io_uring requests (opcode, path or peer, bytes, payload prefix)',
  NETWORK: 'sockets (connects, sends and receives with payload prefixes)',
  FILES: 'file access (opens, reads, writes with paths and bytes)',
  CODE: 'code fingerprints (executable and mapped modules: language, build id, sha256)',
  CHILDREN: 'follow children (processes it forks join the zoom)',
};

/** What a verdict looks like on the page, whatever shape an older API gave it in (a bare string). */
export interface VerdictDisplay {
  value: 'benign' | 'malicious' | 'inconclusive';
  reason: string;
  by: string;
  atNs: string | null;
}

export function verdictOf(raw: unknown): VerdictDisplay | null {
  if (raw === null || raw === undefined || raw === 'none' || raw === '') return null;
  if (typeof raw === 'string') return raw === 'benign' || raw === 'malicious' || raw === 'inconclusive' ? { value: raw, reason: '', by: '', atNs: null } : null;
  if (typeof raw !== 'object') return null;
  const v = raw as Record<string, unknown>;
  if (v.value !== 'benign' && v.value !== 'malicious' && v.value !== 'inconclusive') return null;
  return {
    value: v.value,
    reason: typeof v.reason === 'string' ? v.reason : '',
    by: typeof v.by === 'string' ? v.by : '',
    atNs: typeof v.atNs === 'string' && /^\d{1,20}$/.test(v.atNs) ? v.atNs : null,
  };
}

export function verdictTone(value: VerdictDisplay['value'] | null): Tone {
  return value === 'malicious' ? 'bad' : value === 'benign' ? 'ok' : value === 'inconclusive' ? 'warn' : 'muted';
}

/** Nanosecond string → milliseconds as a JS number (for chart axes; sub-ms kept as a fraction). */
export function nsToMs(ns: string): number {
  const v = BigInt(ns);
  return Number(v / 1_000_000n) + Number(v % 1_000_000n) / 1e6;
}

/** "3f9a1c2b…d4e5" for long hashes in tables (the whole value goes in the title). */
export function shortHash(hash: string | null, keep = 12): string {
  if (!hash) return '—';
  return hash.length <= keep + 4 ? hash : `${hash.slice(0, keep)}…${hash.slice(-4)}`;
}
