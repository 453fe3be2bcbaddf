/**
 * Zoom-in through the cockpit: indicator stored → zoom probes attached on the sensor.
 *
 *   npx tsx bench/zoom-indicator-attached.bench.ts [--runs 30] [--gap-ms 250]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN) and `make -C sensor`. Real parts only: the
 * sensor CLI as a child process (live eBPF), the collector's gRPC/mTLS link to it, embedded chDB,
 * the zoom service with the default policy.
 *
 * Per run, on a process of its own (a `sleep` started through an orphaned Launcher, its exec
 * stored by the collector from the live stream):
 *   baseline  a bare ZoomIn over mTLS from a plain gRPC client (target: the tgid), then its
 *             cancel — what the sensor alone needs for an order;
 *   cockpit   a high-severity io_uring indicator on that process is stored with the repository
 *             the detector writes through (upsertIndicators), then handed to the zoom service the
 *             way the collector hands it over (onIndicators(db, records, storedAtNs)): policy →
 *             the indicator's investigation → ZoomIn on the collector's link → the sensor attaches
 *             → the order, the zoom and the audit event recorded. Measured:
 *               storedToAttached  storedAtNs → Zoom.started_at_ns (the sensor's wall clock when its
 *                                 programs were attached and filtering; same host, same clock);
 *               storedToRecorded  storedAtNs → onIndicators resolved (the zoom active and recorded);
 *               sensorAttach      Zoom.attach_ns (order received → attached, inside the sensor).
 *   The zoom is then cancelled through the service. The indicator is the bench's own record (the
 *   detector's part, fact → indicator, is bench/indicator-latency.bench.ts); everything after it is
 *   the product's code path.
 * Prints JSON: p50/p95/max of each, and the ratio of the cockpit's stored→attached to the bare
 * ZoomIn round trip of the same runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { selectRows } from '../db/query';
import { upsertIndicators, type IndicatorRecord } from '../db/repositories/indicators';
import { openTestDb } from '../db/testing';
import { nowNs } from '../db/time';
import { ProbeSet, ZoomStatus, type SensorClient, type Zoom, type ZoomRequest } from '../sensor/gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../sensor/src/grpc/client';
import { probeKernel } from '../sensor/src/kernel/source';
import { silentLogger } from '../sensor/src/log';
import { Launcher } from '../sensor/src/testing/launcher';
import { freePort, startSensorProcess, waitFor } from '../sensor/src/testing/process';
import { ensureCerts } from '../sensor/src/tls/certs';
import { readTlsMaterial } from '../sensor/src/tls/material';
import { getCollectorState, startCollector, stopCollector } from '../server/collector/collector';
import { liveZoomControls } from '../server/zoom/control';
import { getZoomDirectory } from '../server/zoom/directory';
import { DEFAULT_ZOOM_POLICY } from '../server/zoom/policy';
import { ZoomService } from '../server/zoom/service';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = arg('runs', 30);
const GAP_MS = arg('gap-ms', 250);
const SENSOR = 'zoom-indicator-bench';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const summary = (ms: number[]) => ({ p50: round(pct(ms, 50)), p95: round(pct(ms, 95)), max: round(Math.max(...ms)), n: ms.length });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function unary<Req, Res>(client: SensorClient, method: 'zoomIn' | 'cancelZoom', req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as (r: Req, cb: (err: ServiceError | null, res: Res) => void) => unknown).call(client, req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A high-severity indicator of the reference attack's first step, as the detector stores one. */
function indicatorOn(execId: string, node: string, binary: string): IndicatorRecord {
  const now = nowNs().toString();
  return {
    id: randomBytes(12).toString('hex'),
    tsNs: now,
    lastSeenNs: now,
    count: '1',
    node,
    execId,
    lastExecId: execId,
    execIds: [execId],
    workload: 'bench/zoom-indicator-attached',
    workloadKind: 'cgroup',
    executable: binary,
    kind: 'syscall',
    value: 'io_uring_setup',
    severity: 'high',
    deviation: true,
    rules: ['io_uring-first-use'],
    profileVersion: 1,
    profileStatus: 'completed',
    sentence: `First syscall io_uring_setup by ${path.basename(binary)} (benchmark)`,
    explanation: '{}',
    state: 'open',
    updatedAtNs: now,
    rowVersion: now,
  };
}

async function main(): Promise<void> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-zoom-indicator-bench-'));
  // This process hosts the collector, so the sensor marks it own: targets must not descend from it.
  const launcher = new Launcher({ orphan: true });
  const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  Object.assign(process.env, certs.cockpitEnv);
  const testDb = await openTestDb();
  const port = await freePort();
  const sensor = await startSensorProcess({ kind: 'cli', runner: 'node', args: ['--listen', `localhost:${port}`, '--name', SENSOR, '--zoom-max-concurrent', '8'], env: certs.sensorEnv });
  const bare = createSensorClient(`localhost:${port}`, readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }));
  const zooms = new ZoomService({ controls: liveZoomControls, policy: () => DEFAULT_ZOOM_POLICY, directory: getZoomDirectory(), now: nowNs, log: silentLogger });
  startCollector({ sensors: `${SENSOR}=localhost:${port}`, db: testDb.db, logger: silentLogger, detector: false, zooms });
  const node = os.hostname();
  const pids: number[] = [];
  try {
    await waitFor('the collector connected', () => getCollectorState().sensors[0]?.connected === true && liveZoomControls.sensorOfNode(node) === SENSOR, { timeoutMs: 30_000 });
    const sleepers = await Promise.all(Array.from({ length: RUNS }, () => launcher.run(['sleep', '3600'], { timeoutMs: 3_600_000 }).pid));
    pids.push(...sleepers);
    const execIds = new Map<number, { execId: string; binary: string }>();
    await waitFor(
      `the ${RUNS} sleepers' execs stored`,
      async () => {
        const rows = await selectRows<{ pid: number; exec_id: string; binary: string }>(testDb.db, {
          sql: `SELECT pid, exec_id, binary FROM process_events WHERE sensor = {s:String} AND kind = 'exec' AND pid IN {pids:Array(UInt32)} AND binary LIKE '%/sleep'`,
          params: { s: SENSOR, pids: sleepers },
          tag: 'bench',
        });
        for (const r of rows) execIds.set(Number(r.pid), { execId: r.exec_id, binary: r.binary });
        return execIds.size === RUNS;
      },
      { timeoutMs: 60_000 },
    );
    // One order and cancel of each kind before measuring (first use of the programs, JIT, TLS session).
    const warm = await unary<ZoomRequest, Zoom>(bare, 'zoomIn', bareRequest(sleepers[0]!));
    await unary(bare, 'cancelZoom', { zoomId: warm.id, requestedBy: 'bench', reason: 'warm-up' });

    const bareRoundTrip: number[] = [];
    const bareAttach: number[] = [];
    const storedToAttached: number[] = [];
    const storedToRecorded: number[] = [];
    const sensorAttach: number[] = [];
    const probeSets = DEFAULT_ZOOM_POLICY.rules.find((r) => r.kind === '*' && r.severity === 'high')!.probes;
    for (const pid of sleepers) {
      const { execId, binary } = execIds.get(pid)!;
      const t0 = process.hrtime.bigint();
      const direct = await unary<ZoomRequest, Zoom>(bare, 'zoomIn', bareRequest(pid, probeSets.map((p) => ProbeSet[`PROBE_SET_${p}`])));
      bareRoundTrip.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (direct.status !== ZoomStatus.ZOOM_STATUS_ACTIVE) throw new Error(`bare zoom ${direct.id}: ${direct.reason} ${direct.error}`);
      bareAttach.push(Number(direct.attachNs) / 1e6);
      await unary(bare, 'cancelZoom', { zoomId: direct.id, requestedBy: 'bench', reason: 'baseline done' });
      await sleep(GAP_MS);

      const indicator = indicatorOn(execId, node, binary);
      await upsertIndicators(testDb.db, [indicator]);
      const storedAtNs = nowNs();
      const [outcome] = await zooms.onIndicators(testDb.db, [indicator], storedAtNs);
      const recordedAtNs = nowNs();
      if (outcome?.outcome !== 'ordered') throw new Error(`indicator ${indicator.id}: ${JSON.stringify(outcome)}`);
      if (outcome.zoom.status !== 'active') throw new Error(`zoom ${outcome.zoom.id}: ${outcome.zoom.status} ${outcome.zoom.reason}`);
      storedToAttached.push(Number(BigInt(outcome.zoom.startedAtNs!) - storedAtNs) / 1e6);
      storedToRecorded.push(Number(recordedAtNs - storedAtNs) / 1e6);
      sensorAttach.push(outcome.zoom.attachMs!);
      await zooms.cancel(testDb.db, { type: 'system', id: 'bench', name: 'bench', role: '' }, '', outcome.zoom.id, 'benchmark run done');
      await sleep(GAP_MS);
    }
    const [orders] = await selectRows<{ n: string }>(testDb.db, { sql: `SELECT count() AS n FROM zoom_orders WHERE trigger = 'auto' AND outcome = 'accepted'`, params: {}, tag: 'bench' });
    const [investigations] = await selectRows<{ n: string }>(testDb.db, { sql: `SELECT uniqExact(id) AS n FROM investigations WHERE trigger = 'auto' AND created_by = 'zoom policy'`, params: {}, tag: 'bench' });
    const p50Ratio = pct(storedToAttached, 50) / pct(bareRoundTrip, 50);
    console.log(
      JSON.stringify({
        bench: 'zoom-indicator-attached',
        runs: RUNS,
        gapMs: GAP_MS,
        probes: probeSets,
        cockpit: { storedToAttachedMs: summary(storedToAttached), storedToRecordedMs: summary(storedToRecorded), sensorAttachMs: summary(sensorAttach) },
        baseline: { bareZoomInRoundTripMs: summary(bareRoundTrip), bareSensorAttachMs: summary(bareAttach) },
        ratio: { storedToAttachedP50OverBareRoundTripP50: round(p50Ratio, 2), storedToAttachedP95OverBareRoundTripP95: round(pct(storedToAttached, 95) / pct(bareRoundTrip, 95), 2) },
        recorded: { autoOrdersAccepted: Number(orders!.n), autoInvestigations: Number(investigations!.n) },
        budgetMs: 100,
        withinBudgetP95: pct(storedToAttached, 95) <= 100,
      }),
    );
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended already
      }
    }
    await stopCollector();
    bare.close();
    sensor.child.kill('SIGTERM');
    await sensor.exited;
    launcher.close();
    await testDb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function bareRequest(pid: number, probes: ProbeSet[] = [ProbeSet.PROBE_SET_NETWORK]): ZoomRequest {
  return {
    target: { target: { $case: 'tgid', value: { pid, followChildren: false } } },
    probes,
    ttlS: 60,
    maxEvents: '50000',
    payloadPrefixBytes: DEFAULT_ZOOM_POLICY.payloadPrefixBytes,
    maxEventsPerS: 0,
    investigationId: 'bench',
    requestedBy: 'zoom-indicator-attached.bench',
    reason: 'baseline: a bare ZoomIn',
  };
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
