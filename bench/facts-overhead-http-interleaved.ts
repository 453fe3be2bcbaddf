/**
 * The always-on sensor's HTTP overhead, measured in short alternating windows of one long load.
 *
 *   taskset -c 1 npx tsx bench/facts-overhead-http-interleaved.ts [--blocks 30] [--window-ms 1000]
 *         [--guard-ms 200] [--states off,on] [--detach all|sys_enter] [--floor] [--service hello|victim]
 *         [--facts '{"files":false}']
 *
 * Why: the round-based HTTP phase (facts-overhead.bench.ts) restarts wrk and the sensor every
 * round, seconds apart, and on a shared host the other load drifts by ±4–10 % between rounds — more
 * than the effect measured. Here one wrk run loads the server the whole time and the sensor stays
 * started (everything on, the product's default); only its state changes, window by window, in
 * mirrored blocks (off-on-on-off, or off-cfg0-on-on-cfg0-off with three states), so a linear drift
 * cancels within each block. States:
 *   off   the programs detached (see --detach);
 *   cfg0  attached, facts_config switched off: facts_sys_enter returns at its first test — the
 *         price of any sys_enter hook, measured on the sensor's own object;
 *   on    attached, everything on;
 *   on-X  attached, everything on but fact X (files, counters, syscalls, inbound...): its share.
 * Each window's request rate is read from the server's written bytes (/proc/PID/io: all
 * responses have the same size) and its CPU from schedstat, without touching the server. Each
 * block gives, per state, the loss against its off windows; printed over the blocks: median, mean,
 * standard error and 95 % interval of the loss and of the server's CPU per request, and the
 * sensor process's own CPU.
 *
 * --detach all (default) detaches every program the sensor attached: "off" is the sensor's process
 * idle with nothing in the kernel, the closest to "no sensor" without restarting it (its user
 * space, one poll a 100 ms, keeps running in both states and is reported apart). --detach sys_enter
 * detaches only facts_sys_enter, the one program that runs per request. --floor toggles the floor
 * sensor of bench/floor.ts instead (facts_sys_enter alone, configured off), state on meaning
 * attached.
 *
 * --service picks the HTTP service (bench/http-load.ts): hello (default, the worst case) or the
 * reference attack's victim, a JSON API.
 *
 * Server on CPU 0, wrk (1 thread, 32 connections) on CPU 1; run this process on CPU 1 too
 * (taskset, as above). Asserts nothing; figures go to docs/BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { KernelEventSource, probeKernel } from '../sensor/src/kernel/source';
import type { NativeSensor } from '../sensor/src/kernel/addon';
import type { FactsOptions } from '../sensor/src/kernel/facts';
import { FACTS_CONFIG, FactsEnabled } from '../sensor/src/kernel/layout';
import { startSysEnterFloor } from './floor';
import { cpuNs, freePort, HTTP_SERVICES, median, schedStat, startHttpServer, writtenBytes, type HttpService } from './http-load';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '30' },
    'window-ms': { type: 'string', default: '1000' },
    /** after each switch, left out of the window: the attach/detach itself and its wake-ups */
    'guard-ms': { type: 'string', default: '200' },
    states: { type: 'string', default: 'off,on' },
    detach: { type: 'string', default: 'all' },
    /** FactsOptions as JSON for the sensor (default: the product's defaults, everything on) */
    facts: { type: 'string' },
    /** hello or victim (bench/http-load.ts) */
    service: { type: 'string', default: 'hello' },
    /** instead of the sensor: the floor sensor of bench/floor.ts, attached (on) or detached (off) */
    floor: { type: 'boolean', default: false },
  },
});
const SERVICE = values.service as HttpService;
if (!HTTP_SERVICES.includes(SERVICE)) throw new Error(`--service is one of ${HTTP_SERVICES.join(', ')}`);
const BLOCKS = Number(values.blocks);
const WINDOW_MS = Number(values['window-ms']);
const GUARD_MS = Number(values['guard-ms']);
/** off, cfg0, on, or on-X: on with fact X switched off in facts_config (X: a FactsEnabled name). */
type State = string;
const STATES = values.states.split(',');
const without = (state: State): number => (state.startsWith('on-') ? ((FactsEnabled as Record<string, number>)[state.slice(3).toUpperCase()] ?? 0) : 0);
if (STATES[0] !== 'off' || STATES.some((s) => !['off', 'cfg0', 'on'].includes(s) && !without(s)) || new Set(STATES).size !== STATES.length) {
  throw new Error(`--states: off first, then any of cfg0, on, on-X (X one of ${Object.keys(FactsEnabled).join(', ').toLowerCase()})`);
}
if (values.floor && STATES.some((s) => s !== 'off' && s !== 'on')) throw new Error('--floor has states off and on only');
if (values.detach !== 'all' && values.detach !== 'sys_enter') throw new Error('--detach is all or sys_enter');
/** One block: the states, then the same in reverse. */
const BLOCK: State[] = [...STATES, ...[...STATES].reverse()];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;

interface Window {
  state: State;
  /** bytes the server wrote per second (∝ requests per second) */
  bytesPerSec: number;
  /** server CPU ns per byte written (∝ CPU per request) */
  cpuNsPerByte: number;
  /** times the server's threads were scheduled in, per byte (∝ wake-ups per request: batching) */
  runsPerByte: number;
  /** wrk's CPU ns per byte the server wrote (the load generator pays the hook too) */
  wrkCpuNsPerByte: number;
}

function summary(xs: number[]): Record<string, number> {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  const se = sd / Math.sqrt(xs.length);
  return { median: round2(median(xs)), mean: round2(mean), standardError: round2(se), ci95Low: round2(mean - 1.96 * se), ci95High: round2(mean + 1.96 * se) };
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  const port = await freePort();
  const service = await startHttpServer(port, 0, SERVICE);
  const server = service.process;
  const pid = server.pid!;
  const source = values.floor ? null : new KernelEventSource({ node: 'bench', onEvents: () => {}, facts: values.facts ? (JSON.parse(values.facts) as FactsOptions) : undefined });
  let floor: NativeSensor | null = null;
  let load: ReturnType<typeof spawn> | undefined;
  try {
    await source?.start();
    if (values.floor) floor = startSysEnterFloor();
    // The source keeps its addon handle private; the bench needs it only to switch states.
    const sensor = floor ?? (source as unknown as { sensor: NativeSensor }).sensor;
    const programs = sensor
      .programs()
      .filter((p) => p.attached && (values.detach === 'all' || p.name === 'facts_sys_enter'))
      .map((p) => p.name);
    const configOn = sensor.mapDump('facts_config').values;
    let attached = true;
    const enabledOn = configOn.readUInt32LE(FACTS_CONFIG.fields.enabled);
    const setState = (state: State) => {
      if (!floor) {
        const config = Buffer.from(configOn);
        config.writeUInt32LE(state === 'cfg0' ? 0 : enabledOn & ~without(state), FACTS_CONFIG.fields.enabled);
        sensor.mapUpdate('facts_config', Buffer.alloc(4), config);
      }
      if (state === 'off' && attached) for (const name of programs) sensor.detachProgram(name);
      if (state !== 'off' && !attached) {
        for (const name of programs) if (!sensor.attachProgram(name).attached) throw new Error(`cannot attach ${name} again`);
      }
      attached = state !== 'off';
    };

    const seconds = Math.ceil(((BLOCKS * BLOCK.length * (WINDOW_MS + GUARD_MS)) / 1000) * 1.1) + 10;
    const bytes0 = writtenBytes(pid);
    let wrkOut = '';
    load = spawn('taskset', ['-c', '1', 'wrk', '-t1', '-c32', `-d${seconds}s`, service.url]);
    load.stdout!.on('data', (d: Buffer) => (wrkOut += d.toString()));
    const loadDone = new Promise<void>((r) => load!.once('exit', () => r()));
    await sleep(3000); // warm-up under load, everything on (the sensor's start-up facts reported)

    /** What a window is measured from: the server's written bytes and schedstat, wrk's CPU. */
    const sample = (wrkPid: number) => ({ t: process.hrtime.bigint(), bytes: writtenBytes(pid), server: schedStat(pid), wrkCpuNs: cpuNs(wrkPid) });
    const windows: Window[] = [];
    const sensorCpu0 = process.cpuUsage();
    for (let i = 0; i < BLOCKS * BLOCK.length; i++) {
      const state = BLOCK[i % BLOCK.length]!;
      setState(state);
      await sleep(GUARD_MS);
      const a = sample(load.pid!);
      await sleep(WINDOW_MS);
      const b = sample(load.pid!);
      const bytes = b.bytes - a.bytes;
      windows.push({
        state,
        bytesPerSec: (bytes * 1e9) / Number(b.t - a.t),
        cpuNsPerByte: (b.server.cpuNs - a.server.cpuNs) / bytes,
        runsPerByte: (b.server.runs - a.server.runs) / bytes,
        wrkCpuNsPerByte: (b.wrkCpuNs - a.wrkCpuNs) / bytes,
      });
    }
    const sensorCpu = process.cpuUsage(sensorCpu0);
    setState('on');
    load.kill('SIGINT'); // wrk prints its summary on SIGINT
    await loadDone;
    load = undefined;
    const requests = Number(/(\d+) requests in/.exec(wrkOut)?.[1] ?? NaN);
    const bytesPerRequest = (writtenBytes(pid) - bytes0) / requests;

    const elapsedS = (windows.length * (WINDOW_MS + GUARD_MS)) / 1000;
    const byState: Record<string, unknown> = {};
    for (const state of STATES) {
      const own = windows.filter((w) => w.state === state);
      const row: Record<string, unknown> = {
        requestsPerSec: Math.round(median(own.map((w) => w.bytesPerSec / bytesPerRequest))),
        serverCpuUsPerRequest: round2(median(own.map((w) => (w.cpuNsPerByte * bytesPerRequest) / 1000))),
        serverWakeupsPer1000Requests: round2(median(own.map((w) => w.runsPerByte * bytesPerRequest * 1000))),
        wrkCpuUsPerRequest: round2(median(own.map((w) => (w.wrkCpuNsPerByte * bytesPerRequest) / 1000))),
      };
      if (state !== 'off') {
        const loss: number[] = [];
        const cpu: number[] = [];
        for (let b = 0; b < BLOCKS; b++) {
          const block = windows.slice(b * BLOCK.length, (b + 1) * BLOCK.length);
          const off = block.filter((w) => w.state === 'off');
          const it = block.filter((w) => w.state === state);
          const offRate = mean(off.map((w) => w.bytesPerSec));
          const offCpu = mean(off.map((w) => w.cpuNsPerByte));
          loss.push(((offRate - mean(it.map((w) => w.bytesPerSec))) / offRate) * 100);
          cpu.push(((mean(it.map((w) => w.cpuNsPerByte)) - offCpu) / offCpu) * 100);
        }
        row.lossPercent = summary(loss);
        row.serverCpuPerRequestPercent = summary(cpu);
        row.lossPerBlock = loss.map(round2);
      }
      byState[state] = row;
    }
    console.log(
      JSON.stringify({
        service: SERVICE,
        sensor: values.floor ? 'floor (bench/floor.ts)' : `KernelEventSource, ${values.facts ? `facts ${values.facts}` : 'everything on'}`,
        detached: values.detach,
        programs,
        blocks: BLOCKS,
        windowMs: WINDOW_MS,
        states: byState,
        bytesPerResponse: round2(bytesPerRequest),
        sensorProcessCpuPercentOfCore: round2(((sensorCpu.user + sensorCpu.system) / 1e6 / elapsedS) * 100),
      }),
    );
  } finally {
    load?.kill('SIGKILL');
    await source?.stop();
    await floor?.stop();
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
