/**
 * Zoom-in: order -> probes attached, and what attached zoom probes cost processes nobody zoomed.
 *
 *   npx tsx bench/zoom-attach.bench.ts [--zooms 40] [--rounds 7] [--iterations 2000000]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN) and `make -C sensor` (with the test
 * programs). Runs the sensor CLI as a child process (live eBPF, mTLS) and prints one JSON object
 * per phase.
 *
 *  attach   a target (sensor/build/uring_beacon, a frame every 5 ms through io_uring) runs; the
 *           bench orders ZoomIn over gRPC, waits for the first evidence event on its Watch
 *           stream, cancels, pauses --gap-ms (default 250) and does it again (--zooms times per
 *           probe mix). Per zoom:
 *             sensor    order received -> programs attached and filtering (Zoom.attach_ns,
 *                       measured inside the sensor),
 *             rpc       the ZoomIn round trip as the client sees it (mTLS, localhost),
 *             evidence  ZoomIn sent -> first evidence event received on the stream (includes
 *                       the beacon's next send, <= 5 ms, and the ring buffer / journal batching);
 *           p50 / p95 / max of each, for NETWORK alone and for every probe set.
 *  miss     sensor/build/syscall_loop (time per call measured inside the program) with the
 *           sensor running and no zoom, or a zoom of one probe set (or all) on another process
 *           (modes rotate round by round): getppid (no zoom program hooks it, but any syscall
 *           tracepoint puts the syscall entry and exit of every task on the slow path) and
 *           openat + close pairs (hooked: sys_enter/exit_openat and sys_enter_close run and miss
 *           the target map). Ratio to no zoom.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import {
  ProbeSet,
  WatchRequest,
  ZoomStatus,
  type Event,
  type SensorClient,
  type Zoom,
  type ZoomRequest,
} from '../sensor/gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../sensor/src/grpc/client';
import { probeKernel } from '../sensor/src/kernel/source';
import { Launcher } from '../sensor/src/testing/launcher';
import { freePort, startSensorProcess, waitFor } from '../sensor/src/testing/process';
import { ensureCerts } from '../sensor/src/tls/certs';
import { readTlsMaterial } from '../sensor/src/tls/material';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const ZOOMS = arg('zooms', 40);
const ROUNDS = arg('rounds', 7);
const ITERATIONS = arg('iterations', 2_000_000);
/** pause between a cancel and the next order (orders do not come back to back in practice) */
const GAP_MS = arg('gap-ms', 250);
const BUILD = path.resolve(import.meta.dirname, '../sensor/build');
const BEACON = path.join(BUILD, 'uring_beacon');
const SYSCALL_LOOP = path.join(BUILD, 'syscall_loop');

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const median = (xs: number[]) => pct(xs, 50);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const summary = (ms: number[]) => ({ p50: round(pct(ms, 50)), p95: round(pct(ms, 95)), max: round(Math.max(...ms)), n: ms.length });

type Call<Req, Res> = (req: Req, cb: (err: ServiceError | null, res: Res) => void) => unknown;
function unary<Req, Res>(client: SensorClient, method: keyof SensorClient, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as Call<Req, Res>).call(client, req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

function zoomRequest(pid: number, probes: ProbeSet[]): ZoomRequest {
  return {
    target: { target: { $case: 'tgid', value: { pid, followChildren: false } } },
    probes,
    ttlS: 60,
    maxEvents: '100000',
    payloadPrefixBytes: 64,
    maxEventsPerS: 0,
    investigationId: 'bench',
    requestedBy: 'zoom-attach.bench',
    reason: 'benchmark',
  };
}

/** ns per call of syscall_loop, median of 3 runs. */
function loopNs(args: string[]): number {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(SYSCALL_LOOP, args, { encoding: 'utf8' });
    runs.push((JSON.parse(out) as { ns_per_call: number }).ns_per_call);
  }
  return median(runs);
}

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-zoom-bench-'));
  const launcher = new Launcher();
  const listener = net.createServer((c) => c.resume().on('error', () => undefined));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const listenPort = (listener.address() as net.AddressInfo).port;
  const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  const port = await freePort();
  const sensor = await startSensorProcess({
    kind: 'cli',
    runner: 'node',
    args: ['--listen', `localhost:${port}`, '--name', 'zoom-bench'],
    env: certs.sensorEnv,
  });
  const client = createSensorClient(`localhost:${port}`, readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }));
  const firstEvidence = new Map<string, bigint>();
  const watch = client.watch(WatchRequest.fromPartial({}));
  watch.on('data', (batch: { events: Event[] }) => {
    const now = process.hrtime.bigint();
    for (const e of batch.events) if (e.zoomId && e.body?.$case !== 'zoomState' && !firstEvidence.has(e.zoomId)) firstEvidence.set(e.zoomId, now);
  });
  watch.on('error', () => undefined);
  try {
    // --- attach ------------------------------------------------------------------------------
    const beacon = launcher.run([BEACON, '--connect', `127.0.0.1:${listenPort}`, '--frames', '1000000', '--interval-ms', '5'], { timeoutMs: 3_600_000 });
    beacon.done.catch(() => undefined);
    const pid = await beacon.pid;
    await new Promise((r) => setTimeout(r, 300));
    const mixes: Array<[string, ProbeSet[]]> = [
      ['NETWORK', [ProbeSet.PROBE_SET_NETWORK]],
      ['all probe sets', [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE, ProbeSet.PROBE_SET_CHILDREN]],
    ];
    for (const [name, probes] of mixes) {
      const sensorMs: number[] = [];
      const rpcMs: number[] = [];
      const evidenceMs: number[] = [];
      let programs = 0;
      for (let i = 0; i < ZOOMS; i++) {
        const t0 = process.hrtime.bigint();
        const zoom = await unary<ZoomRequest, Zoom>(client, 'zoomIn', zoomRequest(pid, probes));
        const t1 = process.hrtime.bigint();
        if (zoom.status !== ZoomStatus.ZOOM_STATUS_ACTIVE) throw new Error(`zoom ${zoom.id}: ${zoom.reason} ${zoom.error}`);
        programs = zoom.programs.length;
        await waitFor(`first evidence of ${zoom.id}`, () => firstEvidence.has(zoom.id), { timeoutMs: 5000 });
        sensorMs.push(Number(zoom.attachNs) / 1e6);
        rpcMs.push(Number(t1 - t0) / 1e6);
        evidenceMs.push(Number(firstEvidence.get(zoom.id)! - t0) / 1e6);
        await unary(client, 'cancelZoom', { zoomId: zoom.id, requestedBy: 'bench', reason: '' });
        await new Promise((r) => setTimeout(r, GAP_MS));
      }
      console.log(JSON.stringify({ phase: 'attach', probes: name, programs, zooms: ZOOMS, gapMs: GAP_MS, sensorAttachMs: summary(sensorMs), zoomInRoundTripMs: summary(rpcMs), orderToFirstEvidenceMs: summary(evidenceMs) }));
    }
    process.kill(pid, 'SIGTERM');

    // --- miss path -----------------------------------------------------------------------------
    const sleeper = launcher.run(['sleep', '3600'], { timeoutMs: 3_600_000 });
    sleeper.done.catch(() => undefined);
    const sleeperPid = await sleeper.pid;
    const cases: Array<[string, string[]]> = [
      ['getppid (not hooked by zoom programs)', ['--iterations', String(ITERATIONS)]],
      ['openat + close of /etc/hostname (hooked: the programs run and miss)', ['--open', '/etc/hostname', '--iterations', String(Math.round(ITERATIONS / 4))]],
    ];
    const modes: Array<[string, ProbeSet[]]> = [
      ['no zoom', []],
      ['IO_URING', [ProbeSet.PROBE_SET_IO_URING]],
      ['NETWORK', [ProbeSet.PROBE_SET_NETWORK]],
      ['FILES', [ProbeSet.PROBE_SET_FILES]],
      ['CODE', [ProbeSet.PROBE_SET_CODE]],
      ['all probe sets', mixes[1]![1]],
    ];
    for (const [name, args] of cases) {
      const runs = new Map<string, number[]>(modes.map(([m]) => [m, []]));
      for (let r = 0; r < ROUNDS; r++) {
        const order = [...modes.slice(r % modes.length), ...modes.slice(0, r % modes.length)];
        for (const [mode, probes] of order) {
          if (probes.length === 0) {
            runs.get(mode)!.push(loopNs(args));
            continue;
          }
          const z = await unary<ZoomRequest, Zoom>(client, 'zoomIn', zoomRequest(sleeperPid, probes));
          runs.get(mode)!.push(loopNs(args));
          await unary(client, 'cancelZoom', { zoomId: z.id, requestedBy: 'bench', reason: '' });
        }
      }
      const base = median(runs.get('no zoom')!);
      console.log(
        JSON.stringify({
          phase: 'miss',
          loop: name,
          rounds: ROUNDS,
          nsPerCall: Object.fromEntries(modes.map(([m]) => [m, round(median(runs.get(m)!))])),
          ratioToNoZoom: Object.fromEntries(modes.map(([m]) => [m, round(median(runs.get(m)!) / base, 3)])),
        }),
      );
    }
    process.kill(sleeperPid, 'SIGTERM');
  } finally {
    client.close();
    sensor.child.kill('SIGTERM');
    await sensor.exited;
    launcher.close();
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
