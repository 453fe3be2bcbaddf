/**
 * The kernel half of zoom-in control: which programs each probe set needs, attaching them on
 * demand (reference-counted across zooms: a program is attached while at least one zoom needs
 * it), and the maps that target and bound zooms (sensor/bpf/zoom.bpf.c).
 *
 * Order of operations, so that a zoom never emits outside its bounds:
 *  start: counters zeroed -> limits written (active) -> targets written -> programs attached;
 *  end:   limits inactive (the kernel stops at the next event) -> targets removed -> programs
 *         released (detached when no other zoom needs them).
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { NativeSensor } from './addon';
import {
  ZOOM_CONFIG,
  ZOOM_COUNTERS,
  ZOOM_LIMITS,
  ZOOM_SLOTS,
  ZOOM_TARGET,
  ZoomFamily,
  ZoomProbe,
  ZoomTargetFlag,
} from './layout';

/** Programs per probe set. `core` runs for every zoom (children, exits). */
export const ZOOM_PROGRAMS = {
  core: ['zoom_fork', 'zoom_exit'],
  ioUring: ['zoom_uring_submit', 'zoom_uring_complete'],
  network: [
    'zoom_uring_submit', // marks io_uring CONNECTs so the connect hook can tell the route
    'zoom_connect4',
    'zoom_connect6',
    'zoom_tcp_send',
    'zoom_send_len',
    'zoom_recv_len',
    'zoom_sock_state',
  ],
  files: [
    'zoom_uring_submit',
    'zoom_uring_complete',
    'zoom_openat_e',
    'zoom_openat_x',
    'zoom_read_e',
    'zoom_read_x',
    'zoom_write_e',
    'zoom_write_x',
    'zoom_pread_e',
    'zoom_pread_x',
    'zoom_pwrite_e',
    'zoom_pwrite_x',
    'zoom_close_e',
  ],
  code: ['zoom_mmap_e', 'zoom_mmap_x'],
  children: [] as string[],
} as const;

export const ALL_ZOOM_PROGRAMS: string[] = [...new Set(Object.values(ZOOM_PROGRAMS).flat())];

/** The programs a probe mask (ZoomProbe bits) needs, core included. */
export function programsFor(probes: number): string[] {
  const set = new Set<string>(ZOOM_PROGRAMS.core);
  const add = (names: readonly string[]) => names.forEach((n) => set.add(n));
  if (probes & ZoomProbe.IO_URING) add(ZOOM_PROGRAMS.ioUring);
  if (probes & ZoomProbe.NETWORK) add(ZOOM_PROGRAMS.network);
  if (probes & ZoomProbe.FILES) add(ZOOM_PROGRAMS.files);
  if (probes & ZoomProbe.CODE) add(ZOOM_PROGRAMS.code);
  return [...set];
}

/** What the kernel says about one zoom slot. */
export interface ZoomSlotCounters {
  used: bigint;
  droppedRate: bigint;
  droppedBudget: bigint;
  droppedRing: bigint;
  /** records written, per family (ZoomFamily) */
  emitted: bigint[];
}

/** The kernel-side description of a zoom's targets. */
export interface ZoomTargetValue {
  zoomNo: number;
  slot: number;
  probes: number;
  prefixLen: number;
  followChildren: boolean;
}

export function encodeZoomTarget(t: ZoomTargetValue): Buffer {
  const b = Buffer.alloc(ZOOM_TARGET.size);
  const F = ZOOM_TARGET.fields;
  b.writeUInt32LE(t.zoomNo, F.zoom_no);
  b.writeUInt16LE(t.slot, F.slot);
  b.writeUInt16LE(t.probes, F.probes);
  b.writeUInt16LE(t.prefixLen, F.prefix_len);
  b.writeUInt16LE(t.followChildren ? ZoomTargetFlag.FOLLOW_CHILDREN : 0, F.flags);
  return b;
}

export function encodeZoomLimits(zoomNo: number, active: boolean, budget: bigint, rate: number): Buffer {
  const b = Buffer.alloc(ZOOM_LIMITS.size);
  const F = ZOOM_LIMITS.fields;
  b.writeUInt32LE(zoomNo, F.zoom_no);
  b.writeUInt32LE(active ? 1 : 0, F.active);
  b.writeBigUInt64LE(budget, F.budget);
  b.writeUInt32LE(rate, F.rate);
  return b;
}

export function decodeZoomCounters(values: Buffer, index: number): ZoomSlotCounters {
  const off = index * ZOOM_COUNTERS.size;
  const F = ZOOM_COUNTERS.fields;
  const u = (f: number) => values.readBigUInt64LE(off + f);
  const emitted: bigint[] = [];
  for (let i = 0; i < ZoomFamily.MAX; i++) emitted.push(u(F.emitted + 8 * i));
  return { used: u(F.used), droppedRate: u(F.dropped_rate), droppedBudget: u(F.dropped_budget), droppedRing: u(F.dropped_ring), emitted };
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

/** An attach that failed: which program and why. */
export class ZoomAttachError extends Error {
  constructor(readonly program: string, readonly reason: string) {
    super(`cannot attach ${program}: ${reason}`);
    this.name = 'ZoomAttachError';
  }
}

/**
 * Classic tracepoints (syscalls:*) are resolved through tracefs. Hosts that do not mount it (a
 * minimal container host) get it mounted at its usual place; returns why not when that fails.
 */
export function ensureTracefs(): string | undefined {
  if (existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events')) return undefined;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { stdio: 'ignore' });
  } catch (e) {
    return `tracefs is not mounted and mounting it at /sys/kernel/tracing failed (${(e as Error).message.split('\n')[0]}): the file and code probe sets (syscall tracepoints) cannot attach`;
  }
  return existsSync('/sys/kernel/tracing/events') ? undefined : 'tracefs mounted but has no events directory';
}

export class ZoomKernel {
  /** program -> zooms needing it */
  private readonly refs = new Map<string, number>();
  private cgroupLevels = new Map<number, number>(); // level -> targets at that level

  constructor(private readonly sensor: NativeSensor, private readonly unavailable: Map<string, string>) {}

  /** Programs the loaded object lacks or the kernel refused, with the reason. */
  missing(programs: string[]): Array<{ program: string; reason: string }> {
    return programs.filter((p) => this.unavailable.has(p)).map((p) => ({ program: p, reason: this.unavailable.get(p)! }));
  }

  /** Attaches what is not attached yet; on failure releases what this call attached and throws. */
  acquire(programs: string[]): void {
    const done: string[] = [];
    try {
      for (const name of programs) {
        const n = this.refs.get(name) ?? 0;
        if (n === 0) {
          const st = this.sensor.attachProgram(name);
          if (!st.attached) throw new ZoomAttachError(name, st.error);
        }
        this.refs.set(name, n + 1);
        done.push(name);
      }
    } catch (e) {
      this.release(done);
      if (e instanceof ZoomAttachError) throw e;
      throw new ZoomAttachError(programs[done.length] ?? '?', (e as Error).message);
    }
  }

  /** Drops one reference per program; detaches those no zoom needs any more. */
  release(programs: string[]): void {
    for (const name of programs) {
      const n = this.refs.get(name) ?? 0;
      if (n <= 1) {
        this.refs.delete(name);
        if (n === 1) this.sensor.detachProgram(name);
      } else {
        this.refs.set(name, n - 1);
      }
    }
  }

  attachedPrograms(): string[] {
    return [...this.refs.keys()];
  }

  /** Zeroes the slot's counters and arms its limits (before any target points at it). */
  startSlot(slot: number, zoomNo: number, budget: bigint, rate: number): void {
    this.sensor.mapUpdate('zoom_counters', u32(slot), Buffer.alloc(ZOOM_COUNTERS.size));
    this.sensor.mapUpdate('zoom_limits', u32(slot), encodeZoomLimits(zoomNo, true, budget, rate));
  }

  /** The slot emits nothing from the next event on (cancel, expiry, exhaustion). */
  stopSlot(slot: number, zoomNo: number): void {
    this.sensor.mapUpdate('zoom_limits', u32(slot), encodeZoomLimits(zoomNo, false, 0n, 0));
  }

  /** Lowers (or raises) a running slot's budget: user space spends budget too (fingerprints). */
  setBudget(slot: number, zoomNo: number, budget: bigint, rate: number): void {
    this.sensor.mapUpdate('zoom_limits', u32(slot), encodeZoomLimits(zoomNo, true, budget, rate));
  }

  addTgid(tgid: number, value: ZoomTargetValue): void {
    this.sensor.mapUpdate('zoom_targets', u32(tgid), encodeZoomTarget(value));
  }

  removeTgid(tgid: number): void {
    this.sensor.mapDelete('zoom_targets', u32(tgid));
  }

  /** tgid -> zoom number of every targeted process (children the kernel added included). */
  targets(): Map<number, number> {
    const dump = this.sensor.mapDump('zoom_targets');
    const out = new Map<number, number>();
    for (let i = 0; i < dump.count; i++) {
      out.set(dump.keys.readUInt32LE(i * 4), dump.values.readUInt32LE(i * ZOOM_TARGET.size + ZOOM_TARGET.fields.zoom_no));
    }
    return out;
  }

  addCgroup(id: bigint, level: number, value: ZoomTargetValue): void {
    this.sensor.mapUpdate('zoom_cgroups', u64(id), encodeZoomTarget(value));
    this.cgroupLevels.set(level, (this.cgroupLevels.get(level) ?? 0) + 1);
    this.writeConfig();
  }

  removeCgroup(id: bigint, level: number): void {
    this.sensor.mapDelete('zoom_cgroups', u64(id));
    const n = (this.cgroupLevels.get(level) ?? 0) - 1;
    if (n <= 0) this.cgroupLevels.delete(level);
    else this.cgroupLevels.set(level, n);
    this.writeConfig();
  }

  private writeConfig(): void {
    let mask = 0;
    for (const level of this.cgroupLevels.keys()) if (level < 16) mask |= 1 << level;
    const b = Buffer.alloc(ZOOM_CONFIG.size);
    b.writeUInt32LE(mask >>> 0, ZOOM_CONFIG.fields.cgroup_levels);
    this.sensor.mapUpdate('zoom_config', u32(0), b);
  }

  /** Counters of every slot. */
  counters(): ZoomSlotCounters[] {
    const dump = this.sensor.mapDump('zoom_counters');
    const out: ZoomSlotCounters[] = [];
    for (let i = 0; i < Math.min(dump.count, ZOOM_SLOTS); i++) out.push(decodeZoomCounters(dump.values, i));
    return out;
  }
}
