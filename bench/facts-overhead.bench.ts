/**
 * Always-on sensor overhead: what the first-seen facts cost the workloads they watch.
 *
 *   npx tsx bench/facts-overhead.bench.ts [--rounds 5] [--iterations 2000000] [--http-seconds 4]
 *                                         [--skip-syscalls] [--skip-opens] [--skip-http] [--no-pin]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN), `make -C sensor` (with test-programs)
 * and wrk. Prints one JSON object per phase.
 *
 *  syscalls  sensor/build/syscall_loop (getppid in a loop, time per call measured inside the
 *            program) in four modes, alternated round by round (the order rotates) so drift and
 *            noise hit every mode alike:
 *              none   no sensor loaded;
 *              floor  the sensor object loaded, facts_sys_enter attached but configured off
 *                     (the price of any sys_enter hook: every syscall takes the slow path);
 *              off    KernelEventSource with the syscall bitmap switched off at run time
 *                     (the hook still serves file facts and counters);
 *              on     KernelEventSource with everything on (bitmap, files, counters).
 *            Reported: ns per call (median of the round medians) and the ratio to none.
 *  opens     open+close pairs (syscall_loop --open) of an ordinary absolute path, a relative
 *            one and a sensitive one, without and with the sensor, alternated: the cost of the
 *            path checks of file facts.
 *  http      an HTTP service on loopback (node:http, one process, "ok" responses) under wrk
 *            (1 thread, 32 connections; server on CPU 0, wrk on CPU 1 unless --no-pin), with and
 *            without the sensor (everything on),
 *            alternated (the order flips every round); requests/s per run, the loss of the
 *            medians and the median of the per-round (paired) losses, and the server's CPU time
 *            per request (its threads' schedstat) and the server's + wrk's CPU per request (what
 *            the two cores spend per request: under saturation, the throughput loss to expect
 *            once other load is out of the picture). On a shared machine all swing with other
 *            load, so `accounted` adds the overhead from counts: the server's syscalls per
 *            request (from the sensor's own counters) x the extra ns per syscall of the syscall
 *            phase, plus every other facts program's run time per request, host-wide
 *            (kernel.bpf_stats_enabled, in one extra run: an upper bound), as a share of the
 *            server's CPU per request.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSysEnterFloor } from './floor';
import { cpuNs, freePort, median, startHttpServer } from './http-load';
import { KernelEventSource, probeKernel } from '../sensor/src/kernel/source';
import type { Event } from '../sensor/gen/soc/sensor/v1/sensor';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const ROUNDS = arg('rounds', 5);
const ITERATIONS = arg('iterations', 2_000_000);
const HTTP_SECONDS = arg('http-seconds', 4);
/**
 * The HTTP phase pins the server to CPU 0 and wrk to CPU 1 (unless --no-pin, or one CPU): the
 * budget is the service's throughput loss, and with both on both cores the load generator's own
 * hooked syscalls and TCP reads slow it down too — a cost a real service's clients, on other hosts,
 * do not put on it. Pinned, the server is the bottleneck (wrk needs about half its CPU per request).
 */
const PIN = os.cpus().length >= 2 && !flag('no-pin');
/** HTTP phase: how long the sensor runs before each loaded run (its start-up facts reported). */
const SETTLE_MS = arg('settle-ms', 2000);
const SYSCALL_LOOP = path.resolve(import.meta.dirname, '../sensor/build/syscall_loop');

const round2 = (x: number) => Math.round(x * 100) / 100;

/** ns per getppid call, median of 3 runs of the loop. */
function loopNs(): number {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(SYSCALL_LOOP, ['--iterations', String(ITERATIONS)], { encoding: 'utf8' });
    runs.push((JSON.parse(out) as { ns_per_call: number }).ns_per_call);
  }
  return median(runs);
}

async function withSource<T>(f: (src: KernelEventSource, events: Event[]) => Promise<T>, countersIntervalMs?: number): Promise<T> {
  const events: Event[] = [];
  const src = new KernelEventSource({ node: 'bench', onEvents: (evs) => events.push(...evs), facts: { countersIntervalMs } });
  await src.start();
  try {
    return await f(src, events);
  } finally {
    await src.stop();
  }
}

/** Runs f with the floor sensor (bench/floor.ts): facts_sys_enter attached, configured off. */
async function withFloor<T>(f: () => T): Promise<T> {
  const sensor = startSysEnterFloor();
  try {
    return f();
  } finally {
    await sensor.stop();
  }
}

/** on - none of the syscall phase: what one syscall costs more with the sensor (hot path). */
let hookedSyscallNs: number | undefined;

async function syscalls(): Promise<Record<string, unknown>> {
  const modes = ['none', 'floor', 'off', 'on'] as const;
  const results: Record<(typeof modes)[number], number[]> = { none: [], floor: [], off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = [...modes.slice(r % modes.length), ...modes.slice(0, r % modes.length)];
    for (const mode of order) {
      if (mode === 'none') results.none.push(loopNs());
      else if (mode === 'floor') results.floor.push(await withFloor(loopNs));
      else
        results[mode].push(
          await withSource(async (src) => {
            if (mode === 'off') src.setSyscallBitmap(false);
            return loopNs();
          }),
        );
    }
  }
  const none = median(results.none);
  hookedSyscallNs = median(results.on) - none;
  const summary = Object.fromEntries(
    modes.map((m) => [m, { nsPerCall: round2(median(results[m])), ratio: round2(median(results[m]) / none), runs: results[m].map(round2) }]),
  );
  return { phase: 'syscalls', syscall: 'getppid', iterations: ITERATIONS, rounds: ROUNDS, ...summary };
}

/** ns per open+close of `file` (relative to `cwd`), median of 3 runs. */
function openNs(file: string, cwd: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(SYSCALL_LOOP, ['--open', file, '--iterations', String(Math.round(ITERATIONS / 4))], { encoding: 'utf8', cwd });
    runs.push((JSON.parse(out) as { ns_per_call: number }).ns_per_call);
  }
  return median(runs);
}

/**
 * The open(2) family's path checks: open+close pairs of an ordinary absolute path, of a relative
 * one (the kernel walks the cwd to make it absolute before matching) and of a sensitive path
 * (reported once, then deduplicated), with no sensor and with everything on.
 */
async function opens(): Promise<Record<string, unknown>> {
  const cases = [
    { name: 'absolute /etc/hostname', file: '/etc/hostname', cwd: '/' },
    { name: 'relative hostname (cwd /etc)', file: 'hostname', cwd: '/etc' },
    { name: 'sensitive /etc/shadow', file: '/etc/shadow', cwd: '/' },
  ];
  const out: Record<string, unknown> = { phase: 'opens', iterations: Math.round(ITERATIONS / 4), rounds: ROUNDS };
  for (const c of cases) {
    const none: number[] = [];
    const on: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const measureOn = () => withSource(async () => openNs(c.file, c.cwd));
      if (r % 2 === 0) {
        none.push(openNs(c.file, c.cwd));
        on.push(await measureOn());
      } else {
        on.push(await measureOn());
        none.push(openNs(c.file, c.cwd));
      }
    }
    out[c.name] = { noneNs: round2(median(none)), onNs: round2(median(on)), extraNs: round2(median(on) - median(none)), ratio: round2(median(on) / median(none)) };
  }
  return out;
}

interface HttpRun {
  reqPerSec: number;
  requests: number;
  /** server CPU time per request, µs: what the service pays, whatever else runs on the host */
  serverCpuUsPerReq: number;
  /** server + wrk CPU time per request, µs: what the two cores spend on one request */
  totalCpuUsPerReq: number;
}

function wrk(port: number, serverPid: number): HttpRun {
  const cpu0 = cpuNs(serverPid);
  // bash's `time` reports the CPU time of wrk (user + system) on stderr.
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='cpu %U %S'; time ${PIN ? 'taskset -c 1 ' : ''}wrk -t1 -c32 -d${HTTP_SECONDS}s http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const cpu1 = cpuNs(serverPid);
  const out = r.stdout;
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const t = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m || !total || !t) throw new Error(`unexpected wrk output:\n${out}\n${r.stderr}`);
  const requests = Number(total[1]);
  const serverUs = (cpu1 - cpu0) / 1000;
  const wrkUs = (Number(t[1]) + Number(t[2])) * 1e6;
  return { reqPerSec: Number(m[1]), requests, serverCpuUsPerReq: serverUs / requests, totalCpuUsPerReq: (serverUs + wrkUs) / requests };
}

interface Accounting {
  requests: number;
  serverSyscalls: number;
  sysEnterRuns: number;
  otherRuns: number;
  otherNs: number;
}

/**
 * One more run with the sensor and kernel.bpf_stats_enabled on (it adds clock reads to every
 * program run, so the throughput rounds run without it): how many syscalls the server makes per
 * request (the sensor's own ActivityCounters of the server image), how often the sys_enter program
 * runs per request (the server's and wrk's syscalls), and what every other program costs.
 */
async function accountingRun(port: number, pid: number): Promise<Accounting> {
  const statsFile = '/proc/sys/kernel/bpf_stats_enabled';
  const statsBefore = readFileSync(statsFile, 'utf8').trim();
  writeFileSync(statsFile, '1');
  try {
    return await withSource(async (src, evs) => {
      const before = src.programRunStats();
      const v = wrk(port, pid);
      const after = src.programRunStats();
      await new Promise((res) => setTimeout(res, 700)); // one more counters period
      const delta = (name: string, k: 'runTimeNs' | 'runCount') =>
        Number(after.find((p) => p.name === name)![k] - before.find((p) => p.name === name)![k]);
      return {
        requests: v.requests,
        serverSyscalls: evs
          .filter((e) => e.pid === pid && e.body?.$case === 'counters')
          .reduce((a, e) => a + Number((e.body as { value: { syscalls: string } }).value.syscalls), 0),
        sysEnterRuns: delta('facts_sys_enter', 'runCount'),
        otherRuns: after.filter((p) => p.name !== 'facts_sys_enter').reduce((a, p) => a + delta(p.name, 'runCount'), 0),
        otherNs: after.filter((p) => p.name !== 'facts_sys_enter').reduce((a, p) => a + delta(p.name, 'runTimeNs'), 0),
      };
    }, 500);
  } finally {
    writeFileSync(statsFile, statsBefore);
  }
}

/**
 * The overhead the server pays per request, from what was counted rather than from throughput
 * (which other load on a shared machine swings by ±15 %): its syscalls per request times the
 * extra cost of one syscall on the hot path ("on" − "none" of the syscall phase), plus the run
 * time of every other program per request, host-wide (the lifecycle of whatever else runs on
 * the host, a connection's sockops: an upper bound of the server's share; none of them runs
 * per request or per read).
 */
function account(a: Accounting, serverCpuUsPerReq: number): Record<string, number | string> {
  const syscallsPerReq = a.serverSyscalls / a.requests;
  const perSyscall = hookedSyscallNs ?? NaN;
  const otherPerReq = a.otherNs / a.requests;
  const nsPerReq = syscallsPerReq * perSyscall + otherPerReq;
  return {
    serverSyscallsPerRequest: round2(syscallsPerReq),
    hookedSyscallExtraNs: round2(perSyscall),
    sysEnterRunsPerRequestHostWide: round2(a.sysEnterRuns / a.requests),
    otherProgramRunsPerRequestHostWide: round2(a.otherRuns / a.requests),
    overheadNsPerRequest: round2(nsPerReq),
    serverCpuNsPerRequest: Math.round(serverCpuUsPerReq * 1000),
    overheadPercentOfServerCpu: round2((nsPerReq / (serverCpuUsPerReq * 1000)) * 100),
    otherProgramsNsPerRequestHostWide: round2(otherPerReq),
    note: Number.isNaN(perSyscall) ? 'run the syscalls phase too for the per-syscall cost' : 'accounted from kernel counts',
  };
}

async function http(): Promise<Record<string, unknown>> {
  const port = await freePort();
  const { process: server } = await startHttpServer(port, PIN ? 0 : undefined);
  try {
    const pid = server.pid!;
    wrk(port, pid); // warm-up (JIT, connection setup)
    const without: HttpRun[] = [];
    const withSensor: HttpRun[] = [];
    let events = 0;
    const measureWith = () =>
      withSource(async (_src, evs) => {
        // Always-on is the steady state: the host's first-seen facts of the sensor's start are
        // reported before the load begins.
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        const v = wrk(port, pid);
        events += evs.length;
        return v;
      });
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        without.push(wrk(port, pid));
        withSensor.push(await measureWith());
      } else {
        withSensor.push(await measureWith());
        without.push(wrk(port, pid));
      }
    }
    // Each round's pair ran back to back: the median of the per-round losses cancels slow drift
    // (other load on the machine) better than the difference of the medians.
    const pairedLoss = without.map((w, i) => ((w.reqPerSec - withSensor[i]!.reqPerSec) / w.reqPerSec) * 100);
    const pairedCpu = without.map((w, i) => ((withSensor[i]!.serverCpuUsPerReq - w.serverCpuUsPerReq) / w.serverCpuUsPerReq) * 100);
    const pairedTotal = without.map((w, i) => ((withSensor[i]!.totalCpuUsPerReq - w.totalCpuUsPerReq) / w.totalCpuUsPerReq) * 100);
    const total = (xs: HttpRun[]) => median(xs.map((x) => x.totalCpuUsPerReq));
    const rps = (xs: HttpRun[]) => median(xs.map((x) => x.reqPerSec));
    const cpu = (xs: HttpRun[]) => median(xs.map((x) => x.serverCpuUsPerReq));
    return {
      phase: 'http',
      server: 'node:http, one process, "ok"',
      load: `wrk -t1 -c32 -d${HTTP_SECONDS}s`,
      pinned: PIN ? 'server on CPU 0, wrk on CPU 1' : 'no',
      rounds: ROUNDS,
      withoutReqPerSec: without.map((x) => Math.round(x.reqPerSec)),
      withSensorReqPerSec: withSensor.map((x) => Math.round(x.reqPerSec)),
      medianWithout: Math.round(rps(without)),
      medianWith: Math.round(rps(withSensor)),
      lossPercent: round2(((rps(without) - rps(withSensor)) / rps(without)) * 100),
      pairedLossPercent: round2(median(pairedLoss)),
      pairedLossRuns: pairedLoss.map(round2),
      serverCpuUsPerReqWithout: round2(cpu(without)),
      serverCpuUsPerReqWith: round2(cpu(withSensor)),
      serverCpuOverheadPercent: round2(median(pairedCpu)),
      serverCpuOverheadRuns: pairedCpu.map(round2),
      totalCpuUsPerReqWithout: round2(total(without)),
      totalCpuUsPerReqWith: round2(total(withSensor)),
      totalCpuOverheadPercent: round2(median(pairedTotal)),
      totalCpuOverheadRuns: pairedTotal.map(round2),
      sensorEventsDuringRuns: events,
      accounted: account(await accountingRun(port, pid), cpu(without)),
    };
  } finally {
    server.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) {
    console.log(JSON.stringify({ skipped: probe.reason }));
    process.exitCode = 1;
    return;
  }
  if (!existsSync(SYSCALL_LOOP)) throw new Error(`${SYSCALL_LOOP} missing: run make -C sensor test-programs`);
  const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
  console.log(JSON.stringify({ phase: 'env', cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release(), node: process.version }));
  if (!flag('skip-syscalls')) console.log(JSON.stringify(await syscalls()));
  if (!flag('skip-opens')) console.log(JSON.stringify(await opens()));
  if (!flag('skip-http')) {
    if (!hasWrk) console.log(JSON.stringify({ phase: 'http', skipped: 'wrk not installed (apt-get install -y wrk)' }));
    else console.log(JSON.stringify(await http()));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
