/**
 * Sensitive path classes: the configured list, its in-kernel prefilter, and the exact matcher.
 *
 * A class is a name and glob patterns. `*` matches any run of characters, `/` included; a
 * pattern ending in `/` means everything below that directory. Matching is on the absolute path
 * the process named (relative paths are resolved against its cwd or dirfd in the kernel),
 * normalised (`//`, `.`, `..` collapsed), not on symlink targets.
 *
 * The kernel cannot run globs, so each pattern contributes one *probe* that every path matching
 * the pattern must contain, at a known place:
 *   - a fixed start ("/etc/ssl/private/*")      -> an anchored prefix,
 *   - else a fixed end ("*.pem")                 -> a suffix (matched on the reversed tail),
 *   - else ("*\/.ssh/id_*") its longest fixed part -> a segment found anywhere.
 * The kernel reports an open when a probe matches (a superset of the matches); the sensor then
 * matches exactly here. A probe that is the whole pattern (prefix*, *suffix, *segment*, an
 * exact path) is COMPLETE: its match is already exact, which the kernel's sensitive-open
 * counter relies on.
 */
import path from 'node:path';
import { PATH_PROBE_MAX, ProbeFlag } from './layout';

export interface PathClass {
  /** reported as Fact.path_class, e.g. "service_account_token" */
  name: string;
  /** glob patterns (see the module comment) */
  patterns: string[];
}

/** The default classes (the brief's list). Order matters: the first class that matches wins. */
export const DEFAULT_PATH_CLASSES: readonly PathClass[] = [
  {
    name: 'service_account_token',
    patterns: [
      '/var/run/secrets/kubernetes.io/serviceaccount/',
      '/run/secrets/kubernetes.io/serviceaccount/',
      '*/serviceaccount/token',
    ],
  },
  { name: 'shadow', patterns: ['/etc/shadow', '/etc/gshadow'] },
  { name: 'cloud_credentials', patterns: ['*/.aws/credentials', '*/.config/gcloud/*', '*/.azure/*'] },
  { name: 'key_material', patterns: ['*/.ssh/id_*', '*.pem', '*.key', '/etc/ssl/private/*'] },
  { name: 'kube_config', patterns: ['*/.kube/config'] },
];

export type ProbeKind = 'prefix' | 'suffix' | 'segment';

/** One kernel probe: what the tries are loaded with. */
export interface PathProbe {
  kind: ProbeKind;
  /** the bytes to match (suffixes as written, not reversed) */
  text: Buffer;
  /** ProbeFlag bits */
  flags: number;
  /** probe number (for diagnostics) */
  id: number;
}

/** Parts of a pattern between its `*`s; a trailing `/` becomes `/` + `*`. */
function globParts(pattern: string): string[] {
  const p = pattern.endsWith('/') ? `${pattern}*` : pattern;
  return p.split('*');
}

function validate(pattern: string): void {
  if (!pattern || globParts(pattern).every((part) => part === '')) {
    throw new Error(`path pattern ${JSON.stringify(pattern)} matches everything: not a sensitive class`);
  }
}

/** The probe of one pattern (before merging). */
function probeOf(pattern: string): { kind: ProbeKind; text: Buffer; exact: boolean; complete: boolean } {
  validate(pattern);
  const parts = globParts(pattern);
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (parts.length === 1) {
    const text = Buffer.from(first);
    const fits = text.length <= PATH_PROBE_MAX;
    return { kind: 'prefix', text: text.subarray(0, PATH_PROBE_MAX), exact: fits, complete: fits };
  }
  if (first !== '') {
    const text = Buffer.from(first);
    const fits = text.length <= PATH_PROBE_MAX;
    return { kind: 'prefix', text: text.subarray(0, PATH_PROBE_MAX), exact: false, complete: fits && parts.length === 2 && last === '' };
  }
  if (last !== '') {
    const text = Buffer.from(last);
    const fits = text.length <= PATH_PROBE_MAX;
    return { kind: 'suffix', text: text.subarray(text.length - Math.min(text.length, PATH_PROBE_MAX)), exact: false, complete: fits && parts.length === 2 };
  }
  const middle = parts.slice(1, -1).reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), '');
  const text = Buffer.from(middle);
  const fits = text.length <= PATH_PROBE_MAX;
  return { kind: 'segment', text: text.subarray(0, PATH_PROBE_MAX), exact: false, complete: fits && parts.length === 3 };
}

/** The kernel's tables for a list of classes. */
export interface CompiledProbes {
  probes: PathProbe[];
  /** (b0 << 8 | b1) values that start a segment probe */
  bigrams: Set<number>;
}

export function compileProbes(classes: readonly PathClass[]): CompiledProbes {
  const merged = new Map<string, { kind: ProbeKind; text: Buffer; exact: boolean; complete: boolean }>();
  for (const cls of classes) {
    for (const pattern of cls.patterns) {
      const p = probeOf(pattern);
      const key = `${p.kind}:${p.text.toString('latin1')}`;
      const prev = merged.get(key);
      if (!prev) {
        merged.set(key, p);
      } else {
        // The same bytes from two patterns: exact only if both are, complete only if both are
        // (and, when no longer exact, the complete one was not exact either).
        const exact = prev.exact && p.exact;
        const complete = prev.complete && p.complete && (exact || (!prev.exact && !p.exact));
        merged.set(key, { ...prev, exact, complete });
      }
    }
  }
  const list = [...merged.values()];
  const probes: PathProbe[] = list.map((p, id) => {
    let flags = (p.exact ? ProbeFlag.EXACT : 0) | (p.complete ? ProbeFlag.COMPLETE : 0);
    // An LPM lookup returns only the longest match: an exact prefix that fails by length hides
    // a shorter (non-exact) prefix, which the kernel is told about.
    if (p.kind === 'prefix' && p.exact) {
      const shorter = list.some(
        (q) => q !== p && q.kind === 'prefix' && !q.exact && q.text.length < p.text.length && p.text.subarray(0, q.text.length).equals(q.text),
      );
      if (shorter) flags |= ProbeFlag.SHORTER;
    }
    return { kind: p.kind, text: p.text, flags, id };
  });
  const bigrams = new Set<number>();
  for (const p of probes) {
    if (p.kind !== 'segment') continue;
    if (p.text.length >= 2) bigrams.add((p.text[0]! << 8) | p.text[1]!);
    else for (let b = 0; b < 256; b++) bigrams.add((p.text[0]! << 8) | b);
  }
  return { probes, bigrams };
}

function globToRegExp(pattern: string): RegExp {
  const body = globParts(pattern)
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** Exact matching of paths against the classes, first class wins. */
export class PathMatcher {
  private readonly compiled: Array<{ name: string; res: RegExp[] }>;

  constructor(classes: readonly PathClass[]) {
    for (const cls of classes) cls.patterns.forEach(validate);
    this.compiled = classes.map((c) => ({ name: c.name, res: c.patterns.map(globToRegExp) }));
  }

  /** The class of `p` (absolute; normalised here), or undefined. */
  classify(p: string): string | undefined {
    const candidates = p.startsWith('/') ? [path.posix.normalize(p), p] : [p];
    for (const { name, res } of this.compiled) {
      for (const c of candidates) if (res.some((re) => re.test(c))) return name;
    }
    return undefined;
  }
}
