import type { CompletedBy, EntryKind, EntrySource, ProfileStatus } from '../../db/repositories/baselines';
import type { IndicatorKind } from '../../db/repositories/indicators';
import type { Entry } from './profiles';
import { basename, type RuleHit } from './rules';

/**
 * Why an indicator fired, as data (what the indicator page shows) and as one sentence (what the
 * inbox shows): the profile it was compared against with its learning window, the entries of the
 * same kind nearest to the new value (with why they are near), and the rules that matched.
 */

export interface NearestEntry {
  kind: EntryKind;
  value: string;
  source: EntrySource;
  /** the profile it belongs to ('*': the workload-level profile) */
  executable: string;
  /** 0..1 */
  similarity: number;
  reason: string;
  /** allowed entries: who and why */
  actor: string;
  why: string;
}

export interface Explanation {
  /** what was seen */
  fact: { kind: IndicatorKind; value: string; node: string; execId: string; tsNs: string; detail: Record<string, unknown> };
  /** the profile it was compared against */
  profile: {
    workload: string;
    executable: string;
    version: number;
    status: ProfileStatus;
    startedAtNs: string;
    lastNewAtNs: string;
    completedAtNs: string;
    completedBy: CompletedBy;
    window: { minNs: string; quietNs: string; maxNs: string };
    /** distinct entries of the profile and of the workload-level profile */
    entries: number;
    /** of them, entries of the fact's kind */
    entriesOfKind: number;
  };
  /** outside a completed profile */
  deviation: boolean;
  rules: RuleHit[];
  nearest: NearestEntry[];
}

// ---------------------------------------------------------------------------------------------
// Similarity

/** Syscalls that do the same kind of thing. */
const SYSCALL_FAMILIES: ReadonlyArray<[string, string[]]> = [
  ['io_uring', ['io_uring_setup', 'io_uring_enter', 'io_uring_register']],
  ['read', ['read', 'readv', 'pread64', 'preadv', 'preadv2']],
  ['write', ['write', 'writev', 'pwrite64', 'pwritev', 'pwritev2', 'sendfile']],
  ['open', ['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']],
  ['socket', ['socket', 'socketpair', 'connect', 'bind', 'listen', 'accept', 'accept4', 'getsockopt', 'setsockopt', 'getsockname', 'getpeername', 'shutdown']],
  ['send/receive', ['sendto', 'sendmsg', 'sendmmsg', 'recvfrom', 'recvmsg', 'recvmmsg']],
  ['process creation', ['clone', 'clone3', 'fork', 'vfork']],
  ['exec', ['execve', 'execveat']],
  ['memory mapping', ['mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'brk']],
  ['epoll', ['epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2']],
  ['poll/select', ['poll', 'ppoll', 'select', 'pselect6']],
  ['stat', ['stat', 'fstat', 'lstat', 'newfstatat', 'statx', 'statfs', 'fstatfs']],
  ['tracing and debugging', ['ptrace', 'process_vm_readv', 'process_vm_writev', 'perf_event_open', 'bpf']],
  ['privileges', ['setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'capset', 'setns', 'unshare']],
  ['modules', ['init_module', 'finit_module', 'delete_module']],
  ['time', ['clock_gettime', 'gettimeofday', 'time', 'clock_nanosleep', 'nanosleep']],
];
const FAMILY_OF = new Map(SYSCALL_FAMILIES.flatMap(([family, names]) => names.map((n) => [n, family] as const)));

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

function textSimilarity(a: string, b: string): { similarity: number; reason: string } {
  const prefix = commonPrefix(a, b);
  if (prefix.length >= 3) return { similarity: 0.4 + 0.3 * (prefix.length / Math.max(a.length, b.length)), reason: `shares the prefix "${prefix}"` };
  const d = editDistance(a, b);
  return { similarity: Math.max(0, 1 - d / Math.max(a.length, b.length, 1)) * 0.5, reason: `${d} character${d === 1 ? '' : 's'} apart` };
}

/** host:port/proto (IPv6 in brackets) or ":port/proto inbound". */
function parseEndpoint(value: string): { address: string; port: string; protocol: string; inbound: boolean } | null {
  const m = /^(\[[^\]]+\]|[^:\s]*):(\d+)\/(\w+)( inbound)?$/.exec(value);
  return m ? { address: m[1]!.replace(/^\[|\]$/g, ''), port: m[2]!, protocol: m[3]!, inbound: !!m[4] } : null;
}

function sameSubnet(a: string, b: string): boolean {
  if (a.includes('.') && b.includes('.')) return a.split('.').slice(0, 3).join('.') === b.split('.').slice(0, 3).join('.');
  if (a.includes(':') && b.includes(':')) return a.split(':').slice(0, 4).join(':') === b.split(':').slice(0, 4).join(':');
  return false;
}

const dirname = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/'))) || '/';

/**
 * How near an allowed entry is to a new value of the same kind (an io_uring opcode is also
 * compared with syscalls: OPENAT through a ring is an openat), with the reason in words.
 */
export function similarity(kind: IndicatorKind, value: string, entry: Pick<Entry, 'kind' | 'value' | 'detail'>, detail: Record<string, unknown> = {}): { similarity: number; reason: string } {
  const other = entry.value;
  switch (kind) {
    case 'syscall': {
      const family = FAMILY_OF.get(value);
      if (family && family === FAMILY_OF.get(other)) return { similarity: 0.8, reason: `same family (${family})` };
      return textSimilarity(value, other);
    }
    case 'io_uring_op': {
      if (entry.kind === 'syscall') {
        const op = value.toLowerCase();
        return other === op || other === `${op}64` ? { similarity: 0.9, reason: `the same operation as a syscall (${other}), without io_uring` } : { similarity: 0, reason: '' };
      }
      return textSimilarity(value, other);
    }
    case 'endpoint': {
      const a = parseEndpoint(value);
      const b = parseEndpoint(other);
      if (!a || !b) return textSimilarity(value, other);
      if (a.inbound !== b.inbound) return { similarity: 0, reason: '' };
      if (a.address === b.address && a.port !== b.port) return { similarity: 0.8, reason: `same peer ${a.address || '(any)'}, port ${b.port}` };
      if (a.port === b.port && a.protocol === b.protocol) return { similarity: 0.6, reason: `same port ${a.port}/${a.protocol}, another peer` };
      if (sameSubnet(a.address, b.address)) return { similarity: 0.5, reason: 'same subnet' };
      return { similarity: 0.1, reason: 'another peer' };
    }
    case 'file': {
      const cls = String(detail.class ?? '');
      if (cls && cls === String(entry.detail.class ?? '')) return { similarity: 0.7, reason: `same class (${cls.replace(/_/g, ' ')})` };
      if (dirname(value) === dirname(other)) return { similarity: 0.6, reason: `same directory ${dirname(value)}` };
      return textSimilarity(value, other);
    }
    case 'exec': {
      if (basename(value) === basename(other)) return { similarity: 0.8, reason: `same program name in ${dirname(other)}` };
      if (dirname(value) === dirname(other)) return { similarity: 0.6, reason: `same directory ${dirname(value)}` };
      return textSimilarity(basename(value), basename(other));
    }
  }
}

/** Below this an entry is not "near": the explanation says there is nothing similar instead. */
export const NEAR_ENOUGH = 0.3;

/** The allowed entries nearest to a new value (same kind; for io_uring ops, syscalls too), best first. */
export function nearestEntries(
  kind: IndicatorKind,
  value: string,
  detail: Record<string, unknown>,
  candidates: ReadonlyArray<{ executable: string; entry: Entry }>,
  limit = 3,
): NearestEntry[] {
  const scored: NearestEntry[] = [];
  const seen = new Set<string>();
  for (const { executable, entry } of candidates) {
    if (entry.kind !== kind && !(kind === 'io_uring_op' && entry.kind === 'syscall')) continue;
    if (entry.value === value && entry.kind === kind) continue;
    const key = `${entry.kind}\u0000${entry.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s = similarity(kind, value, entry, detail);
    if (s.similarity < NEAR_ENOUGH) continue;
    scored.push({ kind: entry.kind, value: entry.value, source: entry.source, executable, similarity: Math.round(s.similarity * 100) / 100, reason: s.reason, actor: entry.actor, why: entry.reason });
  }
  scored.sort((a, b) => b.similarity - a.similarity || a.value.localeCompare(b.value));
  return scored.slice(0, limit);
}

// ---------------------------------------------------------------------------------------------
// The sentence

const KIND_WORDS: Record<IndicatorKind, [string, string]> = {
  syscall: ['syscall', 'syscalls'],
  io_uring_op: ['io_uring operation', 'io_uring operations'],
  exec: ['executable started', 'executables'],
  endpoint: ['network endpoint', 'endpoints'],
  file: ['sensitive file opened', 'sensitive files'],
};

/** "2026-11-22 10:57:03" (UTC, seconds). */
export function formatUtc(ns: string | bigint): string {
  const iso = new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** "45 s", "5 min", "1 h 30 min", "2 d". */
export function formatDuration(ns: string | bigint): string {
  const s = Number(BigInt(ns) / 1_000_000n) / 1000;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${Math.round(s * 10) / 10} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h${Math.round((s % 3600) / 60) ? ` ${Math.round((s % 3600) / 60)} min` : ''}`;
  return `${Math.round(s / 86400)} d`;
}

function nearestText(x: Explanation): string {
  return `Nearest allowed: ${x.nearest.map((n) => `${n.value} (${n.reason}${n.source !== 'learned' ? `, ${n.source}` : ''})`).join(', ')}.`;
}

/** The inbox's one-sentence why, built from the explanation data alone. */
export function explanationSentence(x: Explanation): string {
  const p = x.profile;
  const exe = p.executable === '*' ? 'the workload' : basename(p.executable);
  const [kindWord, kindPlural] = KIND_WORDS[x.fact.kind];
  const parts: string[] = [];
  if (x.deviation) {
    const how =
      p.completedBy === 'import'
        ? `imported baseline (v${p.version})`
        : `profile (v${p.version}, learned ${formatUtc(p.startedAtNs)}–${formatUtc(p.completedAtNs).slice(11)} UTC, ` +
          (p.completedBy === 'max' ? `closed at the ${formatDuration(p.window.maxNs)} maximum` : `completed after ${formatDuration(p.window.quietNs)} with nothing new`) +
          ')';
    parts.push(`First ${kindWord} ${x.fact.value} by ${exe} in ${p.workload}: its ${how} allows ${p.entriesOfKind} ${p.entriesOfKind === 1 ? kindWord.split(' ')[0] : kindPlural}, not this one.`);
    parts.push(x.nearest.length > 0 ? nearestText(x) : 'Nothing similar is allowed.');
  } else if (p.status === 'learning') {
    parts.push(`Raised while the profile of ${exe} in ${p.workload} is still learning (since ${formatUtc(p.startedAtNs)} UTC); rule hits are never learned.`);
    if (x.nearest.length > 0) parts.push(nearestText(x));
  }
  for (const rule of x.rules) parts.push(`Rule "${rule.title}": ${rule.reason}.`);
  return parts.join(' ');
}
