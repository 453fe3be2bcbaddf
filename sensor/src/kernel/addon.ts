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
  setOwnTgids(tgids: number[]): void;
  stats(): NativeStats;
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
