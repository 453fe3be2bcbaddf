/**
 * Detection: fact → indicator. How long from a process doing something its completed profile
 * does not allow to the indicator being listable through the API (indicators.list), with the
 * live sensor, the collector, embedded storage and the detector — the whole path.
 *
 *   npx tsx bench/indicator-latency.bench.ts [--samples 40] [--poll-ms 5] [--iterations 500000]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN) and `make -C sensor` (test programs).
 *
 * Method: a workload in a cgroup of its own runs a steady loop of syscall_loop (the same image
 * behaviour again and again) until its profile completes (3 s / 2 s learning window). Then, one
 * sample at a time, it runs `syscall_loop --syscall <nr> --iterations 1` with a syscall it never
 * made (a different harmless one per sample, so each sample is a new indicator, not a fold).
 * The start of a sample is the fact's own time — when the kernel saw the syscall (the
 * indicator's first-seen time, the sensor's wall clock on this same host); its end is when
 * indicators.list first returns the indicator (polled every --poll-ms through the tRPC caller, so
 * each poll is the full query a page or script runs). Samples are spaced 300–700 ms apart.
 * Prints JSON: p50/p95/max in ms, the samples, and where the time goes on average.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestDb } from '../db/testing';
import { probeKernel } from '../sensor/src/kernel/source';
import { silentLogger } from '../sensor/src/log';
import { syscallName } from '../sensor/src/kernel/syscalls';
import { freePort, startSensorProcess, waitFor } from '../sensor/src/testing/process';
import { Launcher } from '../sensor/src/testing/launcher';
import { steadyLoop, TestCgroups } from '../sensor/src/testing/workloads';
import { ensureCerts } from '../sensor/src/tls/certs';
import { getCollectorState, getDetector, startCollector, stopCollector } from '../server/collector/collector';
import { createCaller } from '../server/trpc/root';
import { testContext } from '../server/trpc/testing';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const SAMPLES = arg('samples', 40);
const POLL_MS = arg('poll-ms', 5);
const ITERATIONS = arg('iterations', 500_000);
const SYSCALL_LOOP = path.resolve(import.meta.dirname, '../sensor/build/syscall_loop');
const S = 1_000_000_000n;

/**
 * Syscalls that are harmless with all arguments 0 (they fail with EFAULT/EINVAL or do nothing
 * lasting) and that syscall_loop's steady run never makes.
 */
const HARMLESS = [
  24, 39, 102, 104, 107, 108, 111, 121, 124, 186, 201, 100, 63, 96, 99, 97, 98, 140, 143, 145, 146, 147, 148, 229, 37, 36, 95, 61, 7, 32, 16, 8, 74, 75,
  81, 217, 204, 125, 274, 309, 324, 33, 72, 73, 115, 118, 120, 122, 123, 132, 137, 138, 163, 166, 211, 222, 223, 224, 225, 226, 247, 283, 285, 286, 287,
];

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round1 = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  if (!existsSync(SYSCALL_LOOP)) throw new Error(`${SYSCALL_LOOP} missing: run make -C sensor test-programs`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-bench-detect-'));
  const mode = path.join(dir, 'mode');
  writeFileSync(mode, 'steady\n');
  const cgroups = new TestCgroups('soc-bench');
  cgroups.create(['app']);
  const launcher = new Launcher({ orphan: true });
  const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  Object.assign(process.env, certs.cockpitEnv);
  const testDb = await openTestDb();
  const port = await freePort();
  const sensor = await startSensorProcess({ kind: 'cli', args: ['--listen', `localhost:${port}`, '--name', 'bench'], env: certs.sensorEnv });
  const api = createCaller(testContext({ db: testDb.db, as: 'viewer' }));
  const workload = cgroups.workload('app');
  let loopPid = 0;
  // When the detector raised each indicator (its log line), to split the time.
  const raisedAt = new Map<string, bigint>();
  const logger = {
    ...silentLogger,
    info: (msg: string, fields?: Record<string, unknown>) => {
      if (msg === 'indicator' && fields?.workload === workload) raisedAt.set(String(fields.value), BigInt(Date.now()) * 1_000_000n);
    },
  };
  try {
    startCollector({
      sensors: `bench=localhost:${port}`,
      db: testDb.db,
      logger,
      detector: { window: { minNs: 3n * S, quietNs: 2n * S, maxNs: 60n * S }, tickMs: 250, graceMs: 500, syncMs: 0 },
    });
    await waitFor('connected', () => getCollectorState().sensors[0]?.connected === true, { timeoutMs: 30_000 });
    loopPid = await launcher.run(steadyLoop({ procsFile: cgroups.procs('app'), syscallLoop: SYSCALL_LOOP, modeFile: mode, iterations: ITERATIONS }), { timeoutMs: 3_600_000 }).pid;
    await waitFor(
      'the profile completed',
      async () => {
        const view = await api.baselines.get({ workload }).catch(() => null);
        return !!view && view.status === 'completed' && view.profiles.length === 3;
      },
      { timeoutMs: 60_000 },
    );

    // Only syscalls the profile does not have (syscall_loop itself calls getpid, for one).
    const learned = new Set((await api.baselines.get({ workload })).profiles.flatMap((p) => p.entries.filter((e) => e.kind === 'syscall').map((e) => e.value)));
    const candidates = HARMLESS.filter((nr) => !learned.has(syscallName(nr, 'x86_64')));
    if (candidates.length < SAMPLES) console.error(`only ${candidates.length} syscalls left to sample with`);
    const samples: Array<{ syscall: string; ms: number; raisedMs: number; polls: number }> = [];
    for (const nr of candidates.slice(0, SAMPLES)) {
      const name = syscallName(nr, 'x86_64');
      writeFileSync(mode, `${nr}\n`);
      let polls = 0;
      for (const deadline = Date.now() + 20_000; ; ) {
        polls++;
        const now = BigInt(Date.now()) * 1_000_000n;
        const { indicators } = await api.indicators.list({ from: (now - 600n * S).toString(), to: (now + 60n * S).toString(), workload, kind: 'syscall', limit: 1000 });
        const found = indicators.find((i) => i.value === name);
        if (found) {
          const listedNs = BigInt(Date.now()) * 1_000_000n;
          const raised = raisedAt.get(name) ?? listedNs;
          samples.push({ syscall: name, ms: Number(listedNs - BigInt(found.tsNs)) / 1e6, raisedMs: Number(raised - BigInt(found.tsNs)) / 1e6, polls });
          break;
        }
        if (Date.now() > deadline) throw new Error(`no indicator for ${name} after 20 s`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
    }
    const ms = samples.map((s) => s.ms);
    console.log(
      JSON.stringify(
        {
          bench: 'fact → indicator listable (indicators.list)',
          samples: samples.length,
          p50_ms: round1(percentile(ms, 50)),
          p95_ms: round1(percentile(ms, 95)),
          max_ms: round1(Math.max(...ms)),
          min_ms: round1(Math.min(...ms)),
          // fact → the detector raising it (sensor, stream, unit stored, detector) and raising → listed
          // (the indicator written, the next poll's query answered)
          raised_p50_ms: round1(percentile(samples.map((x) => x.raisedMs), 50)),
          raised_p95_ms: round1(percentile(samples.map((x) => x.raisedMs), 95)),
          written_and_listed_p50_ms: round1(percentile(samples.map((x) => x.ms - x.raisedMs), 50)),
          mean_polls: round1(samples.reduce((a, s) => a + s.polls, 0) / samples.length),
          poll_ms: POLL_MS,
          detector: getDetector()?.stats,
          all_ms: ms.map(round1),
          loadavg: os.loadavg().map(round1),
        },
        null,
        1,
      ),
    );
  } finally {
    if (loopPid) {
      try {
        process.kill(loopPid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    cgroups.remove();
    launcher.close();
    await stopCollector();
    sensor.child.kill('SIGTERM');
    await sensor.exited;
    await testDb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
