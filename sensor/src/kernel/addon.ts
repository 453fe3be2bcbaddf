/**
 * Loads the native addon (sensor/build/soc_sensor.node, built by `make -C sensor`) and types it.
 *
 * Paths resolve relative to this file, so the sensor runs from any working directory:
 *   SOC_SENSOR_ADDON       overrides the addon path
 *   SOC_SENSOR_BPF_OBJECT  overrides the BPF object path
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(here, '../../build');

export function addonPath(): string {
  return process.env.SOC_SENSOR_ADDON || path.join(buildDir, 'soc_sensor.node');
}

export function bpfObjectPath(): string {
  return process.env.SOC_SENSOR_BPF_OBJECT || path.join(buildDir, 'process.bpf.o');
}

/** Options fixed at construction (before load). */
export interface NativeSensorOptions {
  /** ring buffer size: a power of two, multiple of the page size (default: the object's, 64 MiB) */
  ringBufferBytes?: number;
  /** backlog (bytes) at which the BPF side wakes the reader (default 256 KiB) */
  wakeupBytes?: number;
  /** cut a batch at this size (default 256 KiB, min 64 KiB) */
  batchBytes?: number;
  /** ... or at this age in ms (default 20) */
  batchMs?: number;
  /** ring buffer poll timeout in ms; records are consumed after every timeout (default 10) */
  pollMs?: number;
  /** batches queued toward JavaScript before new ones are dropped and counted (default 64) */
  maxQueuedBatches?: number;
  /** opt-in programs (section names starting with '?') to load, e.g. 'bench_sys_enter' */
  enablePrograms?: string[];
  /** tgid the benchmark program reports */
  benchTgid?: number;
  /** programs not to load, with the reason their status gives */
  disablePrograms?: Record<string, string>;
  /** programs whose rejection by the verifier must not fail the load: retried without them */
  optionalPrograms?: string[];
  /** programs attach() loads but leaves detached (attachProgram() attaches them on demand) */
  deferredPrograms?: string[];
  /** map sizes (bpf_map__set_max_entries) */
  maxEntries?: Record<string, number>;
  /** cgroup v2 mount point cgroup/* and sockops programs attach to (default /sys/fs/cgroup) */
  cgroupRoot?: string;
  /** read-only variables (u32/u64) set before load */
  rodata?: Record<string, number | bigint>;
}

export interface NativeProgramStatus {
  name: string;
  attachType: string;
  attached: boolean;
  error: string;
}

export interface NativeStats {
  /** ring-buffer reservations that failed in the kernel, summed over CPUs, indexed by op */
  kernelDropsByOp: bigint[];
  /** kernel-side degradations (layout.KernelError), summed over CPUs */
  kernelErrors: bigint[];
  recordsRead: bigint;
  bytesRead: bigint;
  malformedRecords: bigint;
  recordsDelivered: bigint;
  bytesDelivered: bigint;
  batchesDelivered: bigint;
  /** batches (and their records) dropped because JavaScript was too slow */
  userDroppedBatches: bigint;
  userDroppedRecords: bigint;
  userDroppedBytes: bigint;
  queuedBatches: number;
  pollErrors: bigint;
  running: boolean;
}

/** One BPF object: load -> attach -> [runIterator] -> start -> ... -> stop. */
export interface NativeSensor {
  /** Opens, configures and loads the object. Throws with libbpf's message, errno, verifier log. */
  load(): void;
  /** Attaches every loaded program; per-program failures are in the statuses, not thrown. */
  attach(): NativeProgramStatus[];
  programs(): NativeProgramStatus[];
  /** Runs an attached iter/* program; returns the records it wrote. */
  runIterator(program: string): Buffer;
  /** Starts the reader thread; onBatch gets concatenated raw records. */
  start(onBatch: (batch: Buffer, records: number) => void): void;
  /** Resolves once everything read before the call has gone through onBatch. */
  flush(): Promise<void>;
  /** Replaces the own tgids (the sensor's processes). */
  setOwnTgids(tgids: number[]): void;
  /** Adds own tgids (e.g. the cockpit's) to those already set. */
  addOwnTgids(tgids: number[]): void;
  /** Attaches one loaded program again (no reload); the status says whether it worked. */
  attachProgram(name: string): NativeProgramStatus;
  /** Detaches one program; its maps and state stay. */
  detachProgram(name: string): void;
  mapInfo(name: string): { keySize: number; valueSize: number };
  /** bpf_map_update_elem with raw bytes (sizes checked); flags BPF_ANY (0) by default. */
  mapUpdate(name: string, key: Buffer, value: Buffer, flags?: number): void;
  /** false when the key was not there */
  mapDelete(name: string, key: Buffer): boolean;
  /** Every entry of a non-per-CPU map: keys and values concatenated, in the same order. */
  mapDump(name: string): { count: number; keys: Buffer; values: Buffer };
  stats(): NativeStats;
  /** Kernel id and run statistics of each loaded program (counted while kernel.bpf_stats_enabled = 1). */
  runStats(): Array<{ name: string; id: number; runTimeNs: bigint; runCount: bigint }>;
  /** Detaches all programs, delivers what is left, closes. onBatch is not called afterwards. */
  stop(): Promise<void>;
}

export interface NativeAddon {
  Sensor: new (objectPath: string, options?: NativeSensorOptions) => NativeSensor;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME in ns */
  clockOffsetNs(): bigint;
  /** CLOCK_BOOTTIME now, ns */
  bootTimeNs(): bigint;
  libbpfVersion(): string;
  opMax: number;
}

let cached: NativeAddon | undefined;

/** Loads the addon once; throws with the path and the fix when it is not built. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const p = addonPath();
  if (!existsSync(p)) {
    throw new Error(`sensor addon not built: ${p} is missing (run \`make -C sensor\`)`);
  }
  const require = createRequire(import.meta.url);
  cached = require(p) as NativeAddon;
  return cached;
}
