/**
 * KernelEventSource: the always-on process lifecycle stream of this node, from real eBPF.
 *
 * start() loads sensor/build/process.bpf.o through the addon, attaches exec/fork/exit, then seeds
 * the processes that were already running (seeded exec events are delivered first, then the
 * live events that arrived meanwhile, in order). Events are complete proto `Event`s (node, exec
 * id, pid, tid, wall-clock ns, body) with seq "0": the sensor service numbers them.
 *
 * Nothing is lost silently: ring-buffer reservations that failed in the kernel and batches the
 * addon could not queue toward JavaScript are counted (status(), takeDroppedDelta()).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { ContainerIdentity, Event, ProgramStatus } from '../../gen/soc/sensor/v1/sensor';
import { CgroupResolver } from '../identity/cgroup';
import { containerFromCgroupPath } from '../identity/container';
import { seedProcesses, type SeedStats } from '../procfs/seed';
import { addonPath, bpfObjectPath, loadAddon, type NativeSensor } from './addon';
import { RecordDecoder } from './decode';

export type KernelProbe = { ok: true } | { ok: false; reason: string };

const BTF_PATH = '/sys/kernel/btf/vmlinux';
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Programs the source cannot work without (all of process.bpf.c's default set). */
const REQUIRED_PROGRAMS = ['on_exec', 'on_fork', 'on_exit', 'seed_tasks'];
const SEED_ITERATOR = 'seed_tasks';

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

export interface KernelSourceOptions {
  /** node name: first part of every exec id */
  node: string;
  /** ring buffer size in bytes (power of two, multiple of the page size); default 64 MiB */
  ringBufferBytes?: number;
  /** receives every batch of decoded events, in order */
  onEvents: (events: Event[]) => void;
  /** tgids besides this process that belong to the sensor */
  ownPids?: number[];
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
  /** what seeding found (for logs and tests) */
  seedStats: SeedStats | undefined;

  constructor(private readonly opts: KernelSourceOptions) {}

  async start(): Promise<void> {
    if (this.sensor) throw new KernelLoadError('kernel event source already started');
    const probe = probeKernel();
    if (!probe.ok) throw new KernelLoadError(probe.reason);

    const addon = loadAddon();
    const { bootId, boot } = readBootId();
    this.bootId = bootId;
    const decoder = new RecordDecoder({
      node: this.opts.node,
      boot,
      wallOffsetNs: addon.clockOffsetNs(),
      cgroup: (id, leaf) => this.cgroupIdentity(id, leaf),
    });
    this.decoder = decoder;

    let sensor: NativeSensor;
    try {
      sensor = new addon.Sensor(bpfObjectPath(), { ringBufferBytes: this.opts.ringBufferBytes });
    } catch (e) {
      throw new KernelLoadError((e as Error).message); // invalid options, e.g. the ring size
    }
    try {
      sensor.load();
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
    sensor.setOwnTgids([process.pid, ...(this.opts.ownPids ?? [])]);

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
  }

  /** Detaches everything; delivers what the ring buffer still held. Safe to call twice. */
  stop(): Promise<void> {
    if (!this.stopping) {
      const sensor = this.sensor;
      this.stopping = (async () => {
        if (!sensor) return;
        await sensor.stop();
        const s = sensor.stats();
        this.finalStatus = {
          programs: sensor.programs(),
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
      programs: this.finalStatus?.programs ?? this.sensor?.programs() ?? [],
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
    if (events.length === 0) return;
    this.eventsTotal += BigInt(events.length);
    this.opts.onEvents(events);
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

function safeBootId(): string {
  try {
    return readBootId().bootId;
  } catch {
    return '';
  }
}
