/**
 * Where the always-on sensor's HTTP overhead comes from: the pinned HTTP phase of
 * facts-overhead.bench.ts, repeated with the sensor in several configurations, alternated round
 * by round, in one run.
 *
 *   taskset -c 1 npx tsx bench/facts-overhead-http-breakdown.ts [--rounds 4] [--seconds 3] [--settle-ms 2000]
 *                                                               [--poll-ms N] [--short]
 *
 * The server (node:http, "ok") runs on CPU 0, wrk (1 thread, 32 connections) on CPU 1; run this
 * process on CPU 1 too (taskset, as above) so the sensor's user space does not share the server's
 * core. Each configuration is started, left to settle (--settle-ms: its first-seen facts of the
 * host reported), then wrk runs. Configurations (KernelEventSource unless said):
 *   none         no sensor;
 *   nothing      every fact switched off: the process lifecycle programs and the sensor's user
 *                space only;
 *   floor        the object loaded by the addon alone, only facts_sys_enter attached and configured
 *                off (it returns at once): the price of any sys_enter hook on this kernel;
 *   syscalls     + the syscall bitmap (the sys_enter hook);
 *   counters     + activity counters only (the sys_enter hook, no bitmap);
 *   inbound      + endpoints with the inbound TCP read hook;
 *   all          everything on (the product's default);
 *   noinbound    everything on but inbound endpoints;
 *   all-poll-1000  everything on, the ring-buffer consumer polling every 1000 ms;
 *   all-alt      everything on, loading the object given by --alt-object (A/B of a BPF change).
 * --short runs none, nothing and all only, --configs a,b,c the ones named; --poll-ms sets the sensor's ring-buffer poll interval.
 * Printed: requests/s (median over rounds, and each round), the server's CPU per request, and the
 * sensor process's own CPU during each wrk run. Asserts nothing; figures go to docs/BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { KernelEventSource, probeKernel } from '../sensor/src/kernel/source';
import { startSysEnterFloor } from './floor';
import { cpuNs, median, startHttpServer } from './http-load';
import type { FactsOptions } from '../sensor/src/kernel/facts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '2000' },
    /** the consumer's poll interval (KernelSourceOptions.pollMs; default: the sensor's) */
    'poll-ms': { type: 'string' },
    /** only none, nothing and all */
    short: { type: 'boolean', default: false },
    /** a comma-separated subset of the configurations, e.g. none,floor,all */
    configs: { type: 'string' },
    /** another build of process.bpf.o: configuration all-alt runs it (A/B of a kernel-side change) */
    'alt-object': { type: 'string' },
  },
});
const POLL_MS = values['poll-ms'] !== undefined ? Number(values['poll-ms']) : undefined;
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const SETTLE_MS = Number(values['settle-ms']);
const PORT = 18099;


function wrk(serverPid: number): { rps: number; serverUsPerReq: number } {
  const c0 = cpuNs(serverPid);
  const r = spawnSync('bash', ['-c', `taskset -c 1 wrk -t1 -c32 -d${SECONDS}s http://127.0.0.1:${PORT}/`], { encoding: 'utf8' });
  const c1 = cpuNs(serverPid);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const n = /(\d+) requests in/.exec(r.stdout);
  if (!rps || !n) throw new Error(`unexpected wrk output:\n${r.stdout}\n${r.stderr}`);
  return { rps: Number(rps[1]), serverUsPerReq: (c1 - c0) / 1000 / Number(n[1]) };
}

const OFF: FactsOptions = { syscalls: false, files: false, countersIntervalMs: 0, ioUring: false, endpoints: false, inbound: false };
/** null: no sensor; 'floor': facts_sys_enter attached alone, configured off. */
type Config = FactsOptions | null | 'floor';
const ALL_CONFIGS: Record<string, Config> = values.short ? { none: null, nothing: OFF, all: {} } : {
  none: null,
  nothing: OFF,
  floor: 'floor',
  syscalls: { ...OFF, syscalls: true },
  counters: { ...OFF, countersIntervalMs: 10_000 },
  inbound: { ...OFF, endpoints: true, inbound: true },
  all: {},
  noinbound: { inbound: false },
  /** everything on, the consumer woken 1 s apart (instead of --poll-ms or the default) */
  'all-poll-1000': {},
  /** everything on, with the object of --alt-object */
  'all-alt': {},
};
const POLL_OVERRIDE: Record<string, number> = { 'all-poll-1000': 1000 };
const CONFIGS: Record<string, Config> = values.configs
  ? Object.fromEntries(values.configs.split(',').map((n) => {
      if (!(n in ALL_CONFIGS)) throw new Error(`unknown configuration ${n} (one of ${Object.keys(ALL_CONFIGS).join(', ')})`);
      return [n, ALL_CONFIGS[n]!];
    }))
  : ALL_CONFIGS;

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  const { process: server } = await startHttpServer(PORT, 0);
  try {
    const pid = server.pid!;
    wrk(pid); // warm-up
    const results: Record<string, { rps: number[]; serverUs: number[]; sensorCpuMs: number[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, facts] of Object.entries(CONFIGS)) {
        const pollMs = POLL_OVERRIDE[name] ?? POLL_MS;
        if (name === 'all-alt') {
          if (!values['alt-object']) throw new Error('all-alt needs --alt-object PATH');
          process.env.SOC_SENSOR_BPF_OBJECT = values['alt-object'];
        } else {
          delete process.env.SOC_SENSOR_BPF_OBJECT;
        }
        const source = facts && facts !== 'floor' ? new KernelEventSource({ node: 'bench', onEvents: () => {}, facts, ...(pollMs !== undefined ? { pollMs } : {}) }) : null;
        await source?.start();
        const floor = facts === 'floor' ? startSysEnterFloor(POLL_MS) : null;
        try {
          await new Promise((r) => setTimeout(r, facts ? SETTLE_MS : 0));
          const cpu0 = process.cpuUsage();
          const v = wrk(pid);
          const cpu = process.cpuUsage(cpu0);
          const r = (results[name] ??= { rps: [], serverUs: [], sensorCpuMs: [] });
          r.rps.push(Math.round(v.rps));
          r.serverUs.push(Math.round(v.serverUsPerReq * 100) / 100);
          r.sensorCpuMs.push(Math.round((cpu.user + cpu.system) / 1000));
        } finally {
          await source?.stop();
          await floor?.stop();
        }
      }
    }
    const base = median(results.none!.rps);
    for (const [name, r] of Object.entries(results)) {
      const rps = median(r.rps);
      console.log(
        JSON.stringify({ config: name, medianReqPerSec: rps, lossPercent: Math.round(((base - rps) / base) * 1000) / 10, serverUsPerReq: median(r.serverUs), runs: r.rps, sensorCpuMsPerRun: r.sensorCpuMs }),
      );
    }
  } finally {
    server.kill('SIGTERM');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
