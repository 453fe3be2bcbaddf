/**
 * The user-space half of first-seen facts: configuration of the kernel side (facts_config and
 * the path prefilter tables), a second first-seen filter (so only first occurrences leave the
 * sensor even when a kernel LRU evicted an entry), and the periodic activity counters.
 */
import { FactKind, type ActivityCounters, type Event, type Fact } from '../../gen/soc/sensor/v1/sensor';
import { countersAt } from './decode';
import { EXEC_COUNTERS, EXEC_KEY, FACTS_CONFIG, FactsEnabled, PATH_FILTER, PATH_PROBE, PATH_PROBE_KEY, PATH_PROBE_MAX } from './layout';
import { compileProbes, DEFAULT_PATH_CLASSES, PathMatcher, type PathClass, type ProbeKind } from './paths';

/** `KernelEventSource` options for first-seen facts. Everything defaults to on. */
export interface FactsOptions {
  /** syscall first-seen bitmap (switchable at run time: setSyscallBitmap) */
  syscalls?: boolean;
  /** io_uring opcodes and ring creation */
  ioUring?: boolean;
  /** remote endpoints (connect, addressed send, inbound accept) */
  endpoints?: boolean;
  /**
   * inbound endpoints (default: as `endpoints`): each accepted TCP connection, for the image
   * that accepts it on that port (listen/accept calls noted by the sys_enter and io_uring
   * submission programs, sockops once per connection; nothing per read). The facts also need
   * `endpoints`; without them the connections are still counted (`accepts`).
   */
  inbound?: boolean;
  /** opens of sensitive path classes */
  files?: boolean;
  /** sensitive path classes (default DEFAULT_PATH_CLASSES) */
  pathClasses?: PathClass[];
  /** ActivityCounters period in ms (default 10 000; 0: no counters) */
  countersIntervalMs?: number;
}

export interface ResolvedFactsOptions {
  syscalls: boolean;
  ioUring: boolean;
  endpoints: boolean;
  inbound: boolean;
  files: boolean;
  pathClasses: PathClass[];
  countersIntervalMs: number;
}

export const DEFAULT_COUNTERS_INTERVAL_MS = 10_000;
/** A thread adds its counts to its image's after this many events ... */
export const COUNTER_BATCH = 256;
/** ... or once its last addition is this old (checked every 32 events). */
export const COUNTER_FLUSH_NS = 1_000_000_000n;

export function resolveFactsOptions(o: FactsOptions | undefined): ResolvedFactsOptions {
  return {
    syscalls: o?.syscalls ?? true,
    ioUring: o?.ioUring ?? true,
    endpoints: o?.endpoints ?? true,
    inbound: o?.inbound ?? o?.endpoints ?? true,
    files: o?.files ?? true,
    pathClasses: o?.pathClasses ?? DEFAULT_PATH_CLASSES.map((c) => ({ name: c.name, patterns: [...c.patterns] })),
    countersIntervalMs: o?.countersIntervalMs ?? DEFAULT_COUNTERS_INTERVAL_MS,
  };
}

/** Inbound endpoints are watched: switched on, and their facts or their count wanted. */
export function inboundActive(o: ResolvedFactsOptions): boolean {
  return o.inbound && (o.endpoints || o.countersIntervalMs > 0);
}

/** struct soc_facts_config for these options (the syscall bit from `syscalls`). */
export function encodeFactsConfig(o: ResolvedFactsOptions, syscalls: boolean): Buffer {
  const b = Buffer.alloc(FACTS_CONFIG.size);
  const enabled =
    (syscalls ? FactsEnabled.SYSCALLS : 0) |
    (o.ioUring ? FactsEnabled.IO_URING : 0) |
    (o.endpoints ? FactsEnabled.ENDPOINTS : 0) |
    (o.files ? FactsEnabled.FILES : 0) |
    (o.countersIntervalMs > 0 ? FactsEnabled.COUNTERS : 0) |
    (inboundActive(o) ? FactsEnabled.INBOUND : 0);
  b.writeUInt32LE(enabled, FACTS_CONFIG.fields.enabled);
  b.writeUInt32LE(COUNTER_BATCH, FACTS_CONFIG.fields.counter_batch);
  b.writeBigUInt64LE(COUNTER_FLUSH_NS, FACTS_CONFIG.fields.counter_flush_ns);
  return b;
}

/** Map names of the prefilter tries. */
export const PROBE_MAPS: Record<ProbeKind, string> = {
  prefix: 'path_prefixes',
  suffix: 'path_suffixes',
  segment: 'path_segments',
};

export interface ProbeTables {
  /** [map, key, value] to insert */
  entries: Array<[string, Buffer, Buffer]>;
  /** the path_filter value (struct soc_path_filter) */
  filter: Buffer;
}

/** The kernel tables for a list of classes (suffix probes are stored reversed). */
/** Entries of each prefilter trie (PATH_TRIE_ENTRIES in facts.bpf.c). */
export const PROBE_TABLE_MAX = 256;

export function encodeProbeTables(classes: readonly PathClass[]): ProbeTables {
  const { probes, bigrams } = compileProbes(classes);
  for (const kind of Object.keys(PROBE_MAPS) as ProbeKind[]) {
    const n = probes.filter((p) => p.kind === kind).length;
    if (n > PROBE_TABLE_MAX) throw new Error(`${n} ${kind} probes: the kernel table holds ${PROBE_TABLE_MAX}`);
  }
  const entries: Array<[string, Buffer, Buffer]> = [];
  for (const p of probes) {
    const key = Buffer.alloc(PATH_PROBE_KEY.size);
    const text = p.kind === 'suffix' ? Buffer.from(p.text).reverse() : p.text;
    key.writeUInt32LE(text.length * 8, PATH_PROBE_KEY.fields.prefixlen);
    text.copy(key, PATH_PROBE_KEY.fields.data, 0, PATH_PROBE_MAX);
    const value = Buffer.alloc(PATH_PROBE.size);
    value.writeUInt32LE(p.flags, PATH_PROBE.fields.flags);
    value.writeUInt16LE(p.id & 0xffff, PATH_PROBE.fields.id);
    value.writeUInt16LE(p.text.length, PATH_PROBE.fields.len);
    entries.push([PROBE_MAPS[p.kind], key, value]);
  }
  const filter = Buffer.alloc(PATH_FILTER.size);
  const setBit = (field: number, bit: number) => {
    const at = field + (bit >> 6) * 8;
    filter.writeBigUInt64LE(filter.readBigUInt64LE(at) | (1n << BigInt(bit & 63)), at);
  };
  for (const bg of bigrams) {
    setBit(PATH_FILTER.fields.first_bytes, bg >> 8);
    setBit(PATH_FILTER.fields.bigrams, bg);
  }
  const longest = (kind: ProbeKind) => Math.max(0, ...probes.filter((p) => p.kind === kind).map((p) => Math.min(p.text.length, PATH_PROBE_MAX)));
  filter.writeUInt32LE(longest('prefix'), PATH_FILTER.fields.prefix_max);
  filter.writeUInt32LE(longest('suffix'), PATH_FILTER.fields.suffix_max);
  filter.writeUInt32LE(probes.filter((p) => p.kind === 'segment').length, PATH_FILTER.fields.segments);
  return { entries, filter };
}

/**
 * A list of path classes as the sensor uses it: the exact matcher (user space) and the prefilter
 * tables (kernel). Throws with the reason when a pattern is invalid or the tables would overflow.
 */
export function compilePathClasses(classes: readonly PathClass[]): { matcher: PathMatcher; probes: ProbeTables } {
  return { matcher: new PathMatcher(classes), probes: encodeProbeTables(classes) };
}

/** The dedup key of a fact within its image. */
export function factKey(f: Fact): string {
  switch (f.kind) {
    case FactKind.FACT_KIND_SYSCALL:
      return `s:${f.abi}:${f.number}`;
    case FactKind.FACT_KIND_IO_URING_OP:
      return `o:${f.number}`;
    case FactKind.FACT_KIND_IO_URING_SETUP:
      return `r:${f.ringFlags}`;
    case FactKind.FACT_KIND_ENDPOINT:
      return `e:${f.direction}:${f.via}:${f.protocol}:${f.address}:${f.port}`;
    case FactKind.FACT_KIND_FILE:
      return `f:${f.via}:${f.openFlags & 3}:${f.path}`;
    default:
      return `?:${f.name}`;
  }
}

/**
 * First-seen facts per image in user space, bounded. The kernel already dedups; this catches
 * the repeats a kernel LRU eviction can cause. Images are forgotten when they end (their final
 * counters) or, beyond `maxFacts`, oldest image first — after which a repeat can pass again,
 * never a first occurrence be lost.
 */
export class FirstSeenFilter {
  private readonly byExec = new Map<string, Set<string>>();
  private size = 0;
  /** facts dropped as repeats */
  repeats = 0;

  constructor(private readonly maxFacts = 262_144) {}

  /** True the first time (execId, fact) is seen. */
  admit(execId: string, fact: Fact): boolean {
    const key = factKey(fact);
    let seen = this.byExec.get(execId);
    if (seen?.has(key)) {
      this.repeats++;
      return false;
    }
    if (!seen) {
      seen = new Set();
      this.byExec.set(execId, seen);
    }
    seen.add(key);
    this.size++;
    while (this.size > this.maxFacts) {
      const oldest = this.byExec.keys().next().value as string;
      this.forget(oldest);
    }
    return true;
  }

  forget(execId: string): void {
    const seen = this.byExec.get(execId);
    if (!seen) return;
    this.size -= seen.size;
    this.byExec.delete(execId);
  }

  get facts(): number {
    return this.size;
  }
}

const COUNTER_FIELDS = [
  'syscalls',
  'ioUringSubmissions',
  'ioUringSetups',
  'connects',
  'sendsAddressed',
  'accepts',
  'opens',
  'sensitiveOpens',
] as const satisfies ReadonlyArray<keyof ActivityCounters>;

interface TrackedImage {
  last: bigint[];
  lastNs: string;
  /** consecutive reads in which the kernel entry was absent */
  missing: number;
}

/**
 * Turns the kernel's cumulative per-image counters (exec_counters, read every interval, and the
 * final record of an ended image) into ActivityCounters of what happened since the last report.
 * An image absent from a read is kept for one more read: its final record may still be on the
 * way (the kernel deletes the entry before writing it).
 */
export class CountersTracker {
  private readonly images = new Map<string, TrackedImage>();
  /** The last few read times, oldest first (see sinceFor). */
  private readonly readTimes: bigint[] = [];

  constructor(private lastReadNs: string) {
    this.readTimes.push(BigInt(lastReadNs));
  }

  /**
   * One read of exec_counters: `keys`/`values` as mapDump returns them. Returns the events of
   * the images that were active since the previous read.
   */
  read(
    keys: Buffer,
    values: Buffer,
    count: number,
    nowNs: string,
    execIdAt: (buf: Buffer, off: number) => string,
    node: string,
  ): Event[] {
    const out: Event[] = [];
    const present = new Set<string>();
    for (let i = 0; i < count; i++) {
      const kOff = i * EXEC_KEY.size;
      const vOff = i * EXEC_COUNTERS.size;
      const execId = execIdAt(keys, kOff);
      present.add(execId);
      const cumulative = countersAt(values, vOff + EXEC_COUNTERS.fields.counters);
      const own = (values.readUInt32LE(vOff + EXEC_COUNTERS.fields.flags) & (1 << 15)) !== 0;
      const ev = this.delta(execId, cumulative, nowNs, false);
      if (ev) {
        out.push({
          seq: '0',
          tsNs: nowNs,
          node,
          execId,
          pid: keys.readUInt32LE(kOff + EXEC_KEY.fields.tgid),
          tid: 0,
          ...(own ? { own: true } : {}),
          body: { $case: 'counters', value: ev },
        });
      }
    }
    for (const [execId, img] of this.images) {
      if (present.has(execId)) img.missing = 0;
      else if (++img.missing > 1) this.images.delete(execId);
    }
    this.lastReadNs = nowNs;
    this.readTimes.push(BigInt(nowNs));
    if (this.readTimes.length > 8) this.readTimes.shift();
    return out;
  }

  /**
   * The start of a final report's interval. A final record can wait in the ring buffer (up to a
   * poll interval) while a periodic read happens: its counts then go back to the last read
   * before the image ended, not to a read after its own time.
   */
  private sinceFor(sinceNs: string, endNs: string): string {
    const end = BigInt(endNs);
    if (BigInt(sinceNs) <= end) return sinceNs;
    const before = this.readTimes.filter((t) => t <= end).at(-1);
    return (before ?? end).toString();
  }

  /** A final counters event from the kernel (cumulative): rewritten in place to the delta. */
  final(ev: Event): boolean {
    if (ev.body?.$case !== 'counters') return false;
    const delta = this.delta(ev.execId, ev.body.value, ev.tsNs, true);
    this.images.delete(ev.execId);
    if (!delta) return false;
    ev.body.value = delta;
    return true;
  }

  private delta(execId: string, cumulative: ActivityCounters, nowNs: string, final: boolean): ActivityCounters | undefined {
    const now = COUNTER_FIELDS.map((f) => BigInt(cumulative[f]));
    const img = this.images.get(execId);
    let last = img?.last;
    // Values below the last ones: the kernel entry was re-created (a forked child of an ended
    // image): count from zero.
    if (last && now.some((v, i) => v < last![i]!)) last = undefined;
    const d = now.map((v, i) => v - (last?.[i] ?? 0n));
    const sinceNs = final ? this.sinceFor(img?.lastNs ?? this.lastReadNs, nowNs) : (img?.lastNs ?? this.lastReadNs);
    if (!final) this.images.set(execId, { last: now, lastNs: nowNs, missing: 0 });
    if (!final && d.every((v) => v === 0n)) return undefined;
    const out = { sinceNs, final } as ActivityCounters;
    COUNTER_FIELDS.forEach((f, i) => {
      out[f] = d[i]!.toString();
    });
    return out;
  }
}
