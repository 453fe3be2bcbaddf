/**
 * cgroup id -> cgroup v2 path.
 *
 * The BPF programs report the default-hierarchy cgroup of a process as its kernfs id, which on
 * 64-bit kernels is the inode number of the cgroup's directory. This resolver walks the cgroup2
 * mount once, keeps id -> path, and walks again on a miss (a cgroup created since), at most once
 * per `minRescanMs` so a burst of unknown ids (short-lived cgroups) cannot turn into a burst of
 * directory walks. A cgroup created within `minRescanMs` of the previous walk and already gone
 * at the next one stays unresolved (callers fall back to the leaf name the kernel reports). The mount point is read from /proc/self/mountinfo: it is /sys/fs/cgroup on
 * unified hosts but e.g. /sys/fs/cgroup/unified on hybrid ones.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Default minimum interval between two miss-triggered walks. */
export const DEFAULT_MIN_RESCAN_MS = 250;

export interface CgroupResolverOptions {
  /** cgroup2 mount point (default: found in /proc/self/mountinfo; null: none, resolve nothing) */
  root?: string | null;
  /** minimum interval between two walks triggered by misses (default 250 ms) */
  minRescanMs?: number;
  /** walks stop descending below this depth (default 32) */
  maxDepth?: number;
  /** at most this many cgroups are kept; beyond it the table is rebuilt (default 200 000) */
  maxEntries?: number;
  now?: () => number;
}

export interface CgroupResolverStats {
  entries: number;
  scans: number;
  hits: number;
  misses: number;
}

/** The first cgroup2 mount point in a mountinfo text, undefined when there is none. */
export function findCgroup2Mount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    // "36 25 0:30 / /sys/fs/cgroup rw,nosuid,... shared:9 - cgroup2 cgroup2 rw,..."
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup2') continue;
    const mountPoint = line.slice(0, sep).split(' ')[4];
    if (mountPoint) return unescapeMountinfo(mountPoint);
  }
  return undefined;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export class CgroupResolver {
  readonly root: string | undefined;
  private readonly byId = new Map<string, string>();
  private readonly minRescanMs: number;
  private readonly maxDepth: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private lastScan = -Infinity;
  private readonly counters = { scans: 0, hits: 0, misses: 0 };

  constructor(opts: CgroupResolverOptions = {}) {
    this.minRescanMs = opts.minRescanMs ?? DEFAULT_MIN_RESCAN_MS;
    this.maxDepth = opts.maxDepth ?? 32;
    this.maxEntries = opts.maxEntries ?? 200_000;
    this.now = opts.now ?? Date.now;
    if (opts.root !== undefined) {
      this.root = opts.root ?? undefined;
    } else {
      try {
        this.root = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
      } catch {
        this.root = undefined;
      }
    }
  }

  /** Path below the hierarchy root ("/" for the root cgroup), undefined when unknown. */
  resolve(cgroupId: string): string | undefined {
    const known = this.byId.get(cgroupId);
    if (known !== undefined) {
      this.counters.hits++;
      return known;
    }
    this.counters.misses++;
    if (!this.root || this.now() - this.lastScan < this.minRescanMs) return undefined;
    this.scan();
    return this.byId.get(cgroupId);
  }

  stats(): CgroupResolverStats {
    return { entries: this.byId.size, ...this.counters };
  }

  /** Walks the whole hierarchy and records every directory's inode number. */
  scan(): void {
    if (!this.root) return;
    this.lastScan = this.now();
    this.counters.scans++;
    if (this.byId.size > this.maxEntries) this.byId.clear();
    const stack: Array<{ dir: string; rel: string; depth: number }> = [{ dir: this.root, rel: '/', depth: 0 }];
    while (stack.length > 0) {
      const { dir, rel, depth } = stack.pop()!;
      try {
        this.byId.set(statSync(dir, { bigint: true }).ino.toString(), rel);
      } catch {
        continue; // removed while walking
      }
      if (depth >= this.maxDepth) continue;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.isDirectory()) {
          stack.push({ dir: path.join(dir, e.name), rel: rel === '/' ? `/${e.name}` : `${rel}/${e.name}`, depth: depth + 1 });
        }
      }
    }
  }
}
