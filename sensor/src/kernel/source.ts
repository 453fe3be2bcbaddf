/**
 * KernelEventSource: the always-on stream of this node, from real eBPF — process lifecycle and
 * first-seen facts.
 *
 * start() loads sensor/build/process.bpf.o through the addon, configures the facts programs
 * (facts_config, the sensitive-path prefilter, own tgids), attaches exec/fork/exit and the facts
 * programs, then seeds the processes that were already running (seeded exec events are
 * delivered first, then the live events that arrived meanwhile, in order). Events are complete
 * proto `Event`s (node, exec id, pid, tid, wall-clock ns, own, body) with seq "0": the sensor
 * service numbers them.
 *
 * Facts: the kernel reports first occurrences per image (see sensor/bpf/facts.bpf.c); here file
 * candidates are matched exactly against the path classes, a second first-seen filter drops
 * the repeats a kernel LRU eviction can cause, and the per-image counters are read every
 * `countersIntervalMs` and turned into ActivityCounters of what is new. The facts programs are
 * optional: one this kernel lacks or rejects is listed in status() with the reason.
 *
 * Nothing is lost silently: ring-buffer reservations that failed in the kernel and batches the
 * addon could not queue toward JavaScript are counted (status(), takeDroppedDelta()).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { ContainerIdentity, Event, ProgramStatus } from '../../gen/soc/sensor/v1/sensor';
import { CgroupResolver } from '../identity/cgroup';
import { containerFromCgroupPath } from '../identity/container';
import { WorkloadTracker } from '../identity/tracker';
import { descendantsOf } from '../procfs/tree';
import { seedProcesses, type SeedStats } from '../procfs/seed';
import { addonPath, bpfObjectPath, loadAddon, type NativeAddon, type NativeProgramStatus, type NativeSensor } from './addon';
import { RecordDecoder } from './decode';
import {
  CountersTracker,
  compilePathClasses,
  encodeFactsConfig,
  FirstSeenFilter,
  inboundActive,
  resolveFactsOptions,
  type FactsOptions,
  type ProbeTables,
  type ResolvedFactsOptions,
} from './facts';
import { KernelError } from './layout';
import type { PathMatcher } from './paths';
import { ALL_ZOOM_PROGRAMS, ensureTracefs, ZoomKernel } from './zoom';

export type KernelProbe = { ok: true } | { ok: false; reason: string };

const BTF_PATH = '/sys/kernel/btf/vmlinux';
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Programs the source cannot work without (all of process.bpf.c's default set). */
const REQUIRED_PROGRAMS = ['on_exec', 'on_fork', 'on_exit', 'seed_tasks'];
const SEED_ITERATOR = 'seed_tasks';

/**
 * The programs of facts.bpf.c, by what needs them. All optional: one the kernel lacks or
 * rejects is listed in the status with the reason, the rest runs.
 */
export const FACT_PROGRAMS = {
  /** the syscall bitmap, open(2) family and syscall counts */
  sysEnter: ['facts_sys_enter'],
  /** io_uring opcodes, ring creation, io_uring opens and the io_uring route of connects */
  ioUring: ['facts_iouring_submit', 'facts_iouring_create'],
  /** outbound endpoints (cgroup hooks: connect, addressed send; syscalls and io_uring) */
  endpoints: ['facts_connect4', 'facts_connect6', 'facts_sendmsg4', 'facts_sendmsg6'],
  /**
   * inbound endpoints: sockops reports connections for the image that accepts on their port
   * (accept calls are seen by the sys_enter and io_uring submission programs)
   */
  inbound: ['facts_sockops'],
} as const;
const ALL_FACT_PROGRAMS: string[] = Object.values(FACT_PROGRAMS).flat();
/** Why facts_sys_enter is not loaded or not attached: nothing it serves is on. */
const SYS_ENTER_OFF = 'syscall, file and inbound endpoint facts and counters are off';

/** Why the kernel source cannot start here, or ok. Checks what can be checked without loading. */
export function probeKernel(): KernelProbe {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `not Linux (platform ${process.platform}): the eBPF sensor needs a Linux kernel with BTF` };
  }
  if (!existsSync(BTF_PATH)) {
    return {
      ok: false,
      reason: `no kernel BTF: ${BTF_PATH} is missing (kernel ${os.release()} built without CONFIG_DEBUG_INFO_BTF); CO-RE programs cannot be relocated`,
    };
  }
  let capEff: bigint | undefined;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) capEff = BigInt(`0x${m[1]}`);
  } catch {
    /* reported below */
  }
  if (capEff === undefined) return { ok: false, reason: 'cannot read effective capabilities from /proc/self/status' };
  const has = (cap: bigint) => ((capEff! >> cap) & 1n) === 1n;
  if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
    const missing = [!has(CAP_BPF) && 'CAP_BPF', !has(CAP_PERFMON) && 'CAP_PERFMON'].filter(Boolean).join(' and ');
    return {
      ok: false,
      reason: `missing capabilities: ${missing} (or CAP_SYS_ADMIN) are needed to load eBPF programs; running as uid ${process.getuid?.()} with CapEff=0x${capEff.toString(16)}`,
    };
  }
  for (const p of [addonPath(), bpfObjectPath()]) {
    if (!existsSync(p)) return { ok: false, reason: `sensor not built: ${p} is missing (run \`make -C sensor\`)` };
  }
  return { ok: true };
}

/** start() failed: `reason` says exactly why (capability, BTF, verifier message, ...). */
export class KernelLoadError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'KernelLoadError';
  }
}

/**
 * The consumer's poll interval. Each wake-up of an always-on sensor is a context switch on some
 * core of a busy node: at 10 ms (100 a second) a pinned loopback HTTP service lost 8–9 % of its
 * throughput with every fact switched off, at 100 ms 1 % (bench/facts-overhead-http-breakdown.ts,
 * docs/BENCHMARKS.md). 100 ms adds at most 90 ms before a record is read, well inside the 1 s
 * action → indicator budget.
 */
export const DEFAULT_POLL_MS = 100;

export interface KernelSourceOptions {
  /** node name: first part of every exec id */
  node: string;
  /** ring buffer size in bytes (power of two, multiple of the page size); default 64 MiB */
  ringBufferBytes?: number;
  /**
   * How often the consumer thread wakes to drain the ring buffer when no backlog woke it (ms,
   * default DEFAULT_POLL_MS). Records wait at most this long in the ring; a backlog of
   * wakeup_bytes wakes it at once (bulk stays fast).
   */
  pollMs?: number;
  /** receives every batch of decoded events, in order */
  onEvents: (events: Event[]) => void;
  /** tgids besides this process that belong to the sensor */
  ownPids?: number[];
  /** first-seen facts and activity counters (default: everything on) */
  facts?: FactsOptions;
  /** cgroup v2 mount point the socket programs attach to (default: from /proc/self/mountinfo) */
  cgroupRoot?: string;
  /** Puts the workload on execs, facts and counters (default: a WorkloadTracker reading this host). */
  workloads?: Pick<WorkloadTracker, 'stamp'>;
  /**
   * Zoom number -> Zoom.id, for the evidence records of zoom-in programs (the zoom manager
   * owns the numbering). Records of unknown zooms are dropped.
   */
  zoomIds?: (zoomNo: number) => string | undefined;
}

/** What the user-space half of the facts did (for status and tests). */
export interface FactsStats {
  /** facts the user-space first-seen filter dropped as repeats */
  repeats: number;
  /** file candidates of the kernel prefilter that matched no class exactly */
  rejectedCandidates: number;
  /** kernel degradations by name (layout.KernelError), summed over CPUs */
  kernelErrors: Record<string, string>;
  /** the syscall bitmap is on */
  syscallBitmap: boolean;
}

export interface KernelSourceStatus {
  kernelRelease: string;
  btfAvailable: boolean;
  programs: ProgramStatus[];
  /** ring-buffer reservations that failed in the kernel (all ops) */
  droppedKernel: string;
  /** records in batches the addon could not queue toward JavaScript */
  droppedUser: string;
  /** events delivered through onEvents */
  eventsTotal: string;
  bootId: string;
}

/** boot_id as in /proc/sys/kernel/random/boot_id, and its 8-hex-char form used in exec ids. */
export function readBootId(): { bootId: string; boot: string } {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return { bootId, boot: bootId.replace(/-/g, '').slice(0, 8) };
}

export class KernelEventSource {
  private sensor: NativeSensor | undefined;
  private decoder: RecordDecoder | undefined;
  private readonly cgroups = new CgroupResolver();
  private readonly identityById = new Map<string, { path: string; container: ContainerIdentity }>();
  private bootId = '';
  private eventsTotal = 0n;
  private lastDrops = { kernel: 0n, user: 0n };
  private finalStatus: { programs: ProgramStatus[]; kernel: bigint; user: bigint } | undefined;
  /** live events held back while seeding, so seeded execs go out first */
  private pending: Event[][] | undefined;
  private stopping: Promise<void> | undefined;
  private readonly facts: ResolvedFactsOptions | undefined;
  private readonly firstSeen = new FirstSeenFilter();
  private readonly workloads: Pick<WorkloadTracker, 'stamp'>;
  private counters: CountersTracker | undefined;
  private countersTimer: NodeJS.Timeout | undefined;
  private syscallBitmap = false;
  private addon: NativeAddon | undefined;
  private wallOffsetNs = 0n;
  private zoomKernel: ZoomKernel | undefined;
  /** zoom programs this kernel lacks or refused, with the reason */
  private readonly zoomUnavailable = new Map<string, string>();
  /** why zoom-in is limited or unavailable on this host ('' when fully available) */
  zoomNote = '';
  /** what seeding found (for logs and tests) */
  seedStats: SeedStats | undefined;

  constructor(private readonly opts: KernelSourceOptions) {
    this.facts = resolveFactsOptions(opts.facts);
    this.workloads = opts.workloads ?? new WorkloadTracker();
  }

  async start(): Promise<void> {
    if (this.sensor) throw new KernelLoadError('kernel event source already started');
    const probe = probeKernel();
    if (!probe.ok) throw new KernelLoadError(probe.reason);

    const addon = loadAddon();
    this.addon = addon;
    const { bootId, boot } = readBootId();
    this.bootId = bootId;
    const facts = this.facts!;
    let matcher: PathMatcher;
    let probes: ProbeTables;
    try {
      ({ matcher, probes } = compilePathClasses(facts.pathClasses));
    } catch (e) {
      throw new KernelLoadError(`invalid path classes: ${(e as Error).message}`);
    }
    this.wallOffsetNs = addon.clockOffsetNs();
    const decoder = new RecordDecoder({
      node: this.opts.node,
      boot,
      wallOffsetNs: this.wallOffsetNs,
      cgroup: (id, leaf) => this.cgroupIdentity(id, leaf),
      classifyPath: (p) => matcher.classify(p),
      zoomId: (n) => this.opts.zoomIds?.(n),
    });
    this.decoder = decoder;

    const tracefs = ensureTracefs();
    let sensor: NativeSensor;
    try {
      sensor = new addon.Sensor(bpfObjectPath(), {
        ringBufferBytes: this.opts.ringBufferBytes,
        pollMs: this.opts.pollMs ?? DEFAULT_POLL_MS,
        // Zoom programs load now (verified once) and attach only while a zoom needs them.
        optionalPrograms: [...ALL_FACT_PROGRAMS, ...ALL_ZOOM_PROGRAMS],
        deferredPrograms: ALL_ZOOM_PROGRAMS,
        disablePrograms: this.disabledFactPrograms(),
        // A fresh secret per load: nobody can craft two paths with the same dedup hash.
        rodata: { path_hash_seed: randomBytes(8).readBigUInt64LE() },
        cgroupRoot: this.opts.cgroupRoot ?? this.cgroups.root,
      });
    } catch (e) {
      throw new KernelLoadError((e as Error).message); // invalid options, e.g. the ring size
    }
    try {
      sensor.load();
      // Before attach: the programs find their configuration and own marks from their first run.
      sensor.setOwnTgids([process.pid, ...(this.opts.ownPids ?? [])]);
      this.syscallBitmap = facts.syscalls;
      sensor.mapUpdate('facts_config', u32(0), encodeFactsConfig(facts, this.syscallBitmap));
      for (const [map, key, value] of probes.entries) sensor.mapUpdate(map, key, value);
      sensor.mapUpdate('path_filter', u32(0), probes.filter);
    } catch (e) {
      await sensor.stop().catch(() => undefined);
      throw new KernelLoadError((e as Error).message);
    }
    const programs = sensor.attach();
    const failed = REQUIRED_PROGRAMS.map((name) => programs.find((p) => p.name === name))
      .filter((p) => !p || !p.attached)
      .map((p) => (p ? `${p.name} (${p.attachType}): ${p.error}` : 'missing program'));
    if (failed.length > 0) {
      await sensor.stop();
      throw new KernelLoadError(`cannot attach BPF programs: ${failed.join('; ')}`);
    }
    this.sensor = sensor;
    if (!this.sysEnterNeeded()) sensor.detachProgram(FACT_PROGRAMS.sysEnter[0]);
    const unavailable = this.zoomUnavailable;
    for (const p of programs) {
      if (ALL_ZOOM_PROGRAMS.includes(p.name) && p.error.startsWith('not loaded')) unavailable.set(p.name, p.error);
    }
    for (const name of ALL_ZOOM_PROGRAMS) {
      if (!programs.some((p) => p.name === name)) unavailable.set(name, 'not in the BPF object');
    }
    this.zoomKernel = new ZoomKernel(sensor, unavailable);
    this.zoomNote = [
      tracefs ?? '',
      unavailable.size ? `zoom programs unavailable: ${[...unavailable.keys()].join(', ')}` : '',
    ].filter(Boolean).join('; ');

    this.pending = [];
    sensor.start((batch) => this.onBatch(batch));
    try {
      const records = sensor.runIterator(SEED_ITERATOR);
      await sensor.flush(); // every live record since attach is now in `pending`
      if (this.stopping) return; // stopped while seeding: stop() delivered what was held
      const live = this.pending ?? [];
      const skipPids = new Set<number>();
      for (const events of live) {
        for (const ev of events) {
          if (ev.body?.$case === 'exec') skipPids.add(ev.pid);
          else if (ev.body?.$case === 'fork') skipPids.add(ev.body.value.childPid);
        }
      }
      const seeded = seedProcesses({ records, decoder, skipPids });
      this.seedStats = seeded.stats;
      this.pending = undefined;
      this.deliver(seeded.events);
      for (const events of live) this.deliver(events);
    } catch (e) {
      await this.stop();
      throw new KernelLoadError(`seeding failed: ${(e as Error).message}`);
    }
    if (facts.countersIntervalMs > 0) {
      this.counters = new CountersTracker(this.nowWallNs());
      this.countersTimer = setInterval(() => this.readCounters(), facts.countersIntervalMs);
      this.countersTimer.unref();
    }
  }

  /**
   * Turns the syscall first-seen bitmap on or off at run time (no reload). Off, the sys_enter
   * program only looks at the open(2) family (file facts) and counts; with file facts and
   * counters off too it is detached, and syscalls cost nothing again.
   */
  setSyscallBitmap(enabled: boolean): void {
    const sensor = this.sensor;
    if (!sensor || this.stopping) throw new Error('kernel event source not running');
    this.syscallBitmap = enabled;
    if (this.sysEnterNeeded()) {
      const st = sensor.attachProgram(FACT_PROGRAMS.sysEnter[0]);
      if (!st.attached) throw new Error(`cannot attach ${st.name}: ${st.error}`);
    }
    sensor.mapUpdate('facts_config', u32(0), encodeFactsConfig(this.facts!, enabled));
    if (!this.sysEnterNeeded()) sensor.detachProgram(FACT_PROGRAMS.sysEnter[0]);
  }

  /** cgroup v2 mount point (cgroup zoom targets are paths below it). */
  get cgroupRoot(): string | undefined {
    return this.opts.cgroupRoot ?? this.cgroups.root;
  }

  /** A cgroup id -> its path below the root. */
  cgroupPath(id: string): string | undefined {
    return this.cgroups.resolve(id);
  }

  /** Zoom-in control of the loaded object (undefined before start and after stop). */
  zoom(): ZoomKernel | undefined {
    return this.sensor && !this.stopping ? this.zoomKernel : undefined;
  }

  /** Resolves once every record the kernel wrote before the call has been delivered. */
  async flush(): Promise<void> {
    if (this.sensor && !this.stopping) await this.sensor.flush();
  }

  /** CLOCK_BOOTTIME now in wall-clock ns (the clock evidence timestamps use). */
  nowNs(): string {
    return this.addon ? this.nowWallNs() : String(BigInt(Date.now()) * 1_000_000n);
  }

  /**
   * Marks processes as the sensor's own (e.g. the cockpit on this node): their events and
   * their descendants' carry own = true. Processes they already forked are marked too.
   */
  markOwn(tgids: number[]): void {
    const sensor = this.sensor;
    if (!sensor || this.stopping) throw new Error('kernel event source not running');
    const all = new Set<number>(tgids);
    for (const t of descendantsOf(tgids)) all.add(t);
    sensor.addOwnTgids([...all]);
  }

  /**
   * Time spent in each loaded program and how often it ran (bpf_prog_info). The kernel counts
   * only while kernel.bpf_stats_enabled = 1 (it costs a clock read per run): for measurements.
   */
  programRunStats(): Array<{ name: string; id: number; runTimeNs: bigint; runCount: bigint }> {
    return this.sensor && !this.stopping ? this.sensor.runStats() : [];
  }

  factsStats(): FactsStats {
    const errors = this.sensor && !this.stopping ? this.sensor.stats().kernelErrors : [];
    const kernelErrors: Record<string, string> = {};
    for (const [name, index] of Object.entries(KernelError)) {
      if (name !== 'MAX') kernelErrors[name] = (errors[index] ?? 0n).toString();
    }
    return {
      repeats: this.firstSeen.repeats,
      rejectedCandidates: this.decoder?.stats.rejected ?? 0,
      kernelErrors,
      syscallBitmap: this.syscallBitmap,
    };
  }

  /** Programs configured off (not loaded at all). */
  private disabledFactPrograms(): Record<string, string> {
    const f = this.facts!;
    const off: Record<string, string> = {};
    const counting = f.countersIntervalMs > 0;
    const disable = (names: readonly string[], why: string) => names.forEach((n) => (off[n] = why));
    if (!this.sysEnterNeeded(f.syscalls)) disable(FACT_PROGRAMS.sysEnter, SYS_ENTER_OFF);
    if (!f.ioUring && !f.files && !f.endpoints && !counting) disable(FACT_PROGRAMS.ioUring, 'io_uring, file and endpoint facts and counters are off');
    if (!f.endpoints && !counting) disable(FACT_PROGRAMS.endpoints, 'endpoint facts and counters are off');
    if (!inboundActive(f)) disable(FACT_PROGRAMS.inbound, 'inbound endpoint facts are off');
    return off;
  }

  /**
   * The addon's program list, each not-attached program marked when that is on purpose: a fact
   * switched off by the settings, or a zoom program waiting for a zoom (loaded and verified,
   * attached while one needs it). What failed to load or attach stays unmarked.
   */
  private withPurpose(programs: NativeProgramStatus[]): ProgramStatus[] {
    const off = this.disabledFactPrograms();
    // Also detached at run time (setSyscallBitmap) once nothing needs it.
    if (!this.sysEnterNeeded()) off[FACT_PROGRAMS.sysEnter[0]] ??= SYS_ENTER_OFF;
    return programs.map((p) => {
      if (p.attached) return { ...p, onPurpose: false };
      if (off[p.name] !== undefined) return { ...p, error: p.error || off[p.name]!, onPurpose: true };
      if (ALL_ZOOM_PROGRAMS.includes(p.name) && !this.zoomUnavailable.has(p.name)) return { ...p, onPurpose: true };
      return { ...p, onPurpose: false };
    });
  }

  /** Whether facts_sys_enter has work, with the syscall bitmap on or off (default: as it is now). */
  private sysEnterNeeded(syscallBitmap = this.syscallBitmap): boolean {
    const f = this.facts!;
    return syscallBitmap || f.files || f.countersIntervalMs > 0 || inboundActive(f);
  }

  private nowWallNs(): string {
    return (this.addon!.bootTimeNs() + this.wallOffsetNs).toString();
  }

  /** One periodic read of the per-image counters. */
  private readCounters(final = false): void {
    const sensor = this.sensor;
    if (!sensor || !this.counters || !this.decoder || (this.stopping && !final)) return;
    const dump = sensor.mapDump('exec_counters');
    const events = this.counters.read(dump.keys, dump.values, dump.count, this.nowWallNs(), (b, o) => this.decoder!.execIdAt(b, o), this.opts.node);
    if (this.pending) this.pending.push(events);
    else this.deliver(events);
  }

  /** Detaches everything; delivers what the ring buffer still held. Safe to call twice. */
  stop(): Promise<void> {
    if (!this.stopping) {
      const sensor = this.sensor;
      this.stopping = (async () => {
        if (!sensor) return;
        if (this.countersTimer) clearInterval(this.countersTimer);
        this.readCounters(true); // the last period, while the maps are still open
        await sensor.stop();
        const s = sensor.stats();
        this.finalStatus = {
          programs: this.withPurpose(sensor.programs()),
          kernel: s.kernelDropsByOp.reduce((a, b) => a + b, 0n),
          user: s.userDroppedRecords,
        };
        if (this.pending) {
          const held = this.pending;
          this.pending = undefined;
          for (const events of held) this.deliver(events);
        }
      })();
    }
    return this.stopping;
  }

  status(): KernelSourceStatus {
    const drops = this.drops();
    return {
      kernelRelease: os.release(),
      btfAvailable: existsSync(BTF_PATH),
      programs: this.finalStatus?.programs ?? (this.sensor ? this.withPurpose(this.sensor.programs()) : []),
      droppedKernel: drops.kernel.toString(),
      droppedUser: drops.user.toString(),
      eventsTotal: this.eventsTotal.toString(),
      bootId: this.bootId || safeBootId(),
    };
  }

  /** Drops since the last call, for in-band reporting in stream batches. */
  takeDroppedDelta(): { kernel: bigint; user: bigint } {
    const now = this.drops();
    const delta = { kernel: now.kernel - this.lastDrops.kernel, user: now.user - this.lastDrops.user };
    this.lastDrops = now;
    return delta;
  }

  private drops(): { kernel: bigint; user: bigint } {
    if (this.finalStatus) return { kernel: this.finalStatus.kernel, user: this.finalStatus.user };
    if (!this.sensor) return { kernel: 0n, user: 0n };
    const s = this.sensor.stats();
    return { kernel: s.kernelDropsByOp.reduce((a, b) => a + b, 0n), user: s.userDroppedRecords };
  }

  private onBatch(batch: Buffer): void {
    const events = this.decoder!.decode(batch);
    if (events.length === 0) return;
    if (this.pending) this.pending.push(events);
    else this.deliver(events);
  }

  private deliver(events: Event[]): void {
    events = this.admit(events);
    if (events.length === 0) return;
    this.workloads.stamp(events);
    this.eventsTotal += BigInt(events.length);
    this.opts.onEvents(events);
  }

  /** Only first occurrences of facts leave; final counters become what is new since the last read. */
  private admit(events: Event[]): Event[] {
    let out: Event[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      let keep = true;
      const body = ev.body;
      if (body?.$case === 'fact') keep = this.firstSeen.admit(ev.execId, body.value);
      else if (body?.$case === 'counters' && body.value.final) {
        keep = this.counters ? this.counters.final(ev) : false;
        this.firstSeen.forget(ev.execId);
      } else if (body?.$case === 'exit' && imageTgid(ev.execId) === ev.pid) {
        // The process that exec'd the image is gone (a forked child's exit does not end it).
        this.firstSeen.forget(ev.execId);
      }
      if (!keep && !out) out = events.slice(0, i);
      else if (keep && out) out.push(ev);
    }
    return out ?? events;
  }

  /** Path and identity per cgroup id, cached; the leaf name stands in when the path is gone. */
  private cgroupIdentity(id: string, leaf: string): { path: string; container: ContainerIdentity } {
    const cached = this.identityById.get(id);
    if (cached) return { path: cached.path, container: { ...cached.container } };
    const path = this.cgroups.resolve(id);
    const result = {
      path: path ?? '',
      container: containerFromCgroupPath(path ?? (leaf ? `/${leaf}` : '')),
    };
    // Unresolved ids are not cached: a later rescan may find them.
    if (path !== undefined) {
      if (this.identityById.size > 100_000) this.identityById.clear();
      this.identityById.set(id, result);
    }
    return { path: result.path, container: { ...result.container } };
  }
}

/** The tgid part of an exec id ("<node>:<boot>:<start>:<tgid>:<self_exec_id>"). */
function imageTgid(execId: string): number {
  const parts = execId.split(':');
  return Number(parts[parts.length - 2]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function safeBootId(): string {
  try {
    return readBootId().bootId;
  } catch {
    return '';
  }
}
