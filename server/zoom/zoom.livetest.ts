/**
 * The issue's live test, cockpit side: the real sensor (eBPF) → gRPC/mTLS → collector → chDB →
 * detector → zoom service → tRPC, with sensor/build/uring_beacon (io_uring only: open + read a
 * token file, connect, a length-prefixed binary frame every interval) as the workload.
 *
 *  - a responder zooms on the beacon's process (exec id) through zooms.order; investigations.network
 *    shows the destination with the service map's name, a period within 10 % of 1 s and the binary
 *    format with its reason; investigations.files the token read through io_uring with its bytes;
 *    investigations.code the language C with the build id and the sha256 of the binary; an
 *    identical untargeted twin leaves no evidence row at all;
 *  - zooms.cancel takes effect at once (zooms.list: cancelled; the sensor's Status: no zoom program
 *    attached; no evidence after the end); TTL expiry and an exhausted budget show in zooms.list;
 *    an order sent with an untrusted certificate is refused as a TLS failure;
 *  - automatic: a workload with a completed baseline starts io_uring → a high indicator → its
 *    investigation → a zoom ordered by the policy, active (the latency is printed).
 *
 * Workloads run through an orphaned Launcher: this process hosts the collector, so the sensor marks
 * it (and its descendants) own, and own processes are never zoom targets.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client';
import type { IndicatorRecord } from '../../db/repositories/indicators';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { nowNs } from '../../db/time';
import { StatusRequest, type SensorClient, type SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../../sensor/src/grpc/client';
import { probeKernel } from '../../sensor/src/kernel/source';
import { silentLogger } from '../../sensor/src/log';
import { Launcher } from '../../sensor/src/testing/launcher';
import { freePort, startSensorProcess, waitFor, type SensorProcess } from '../../sensor/src/testing/process';
import { cgroup2Root, steadyLoop, TestCgroups } from '../../sensor/src/testing/workloads';
import { ensureCerts, type CertResult } from '../../sensor/src/tls/certs';
import { readTlsMaterial } from '../../sensor/src/tls/material';
import { getCollectorState, startCollector, stopCollector } from '../collector/collector';
import { createCaller } from '../trpc/root';
import { testContext } from '../trpc/testing';
import { clientZoomControl, liveZoomControls } from './control';
import { getZoomDirectory } from './directory';
import { DEFAULT_ZOOM_POLICY } from './policy';
import { ZoomService, type AutoOutcome } from './service';
import { storedExecId } from './testing';

const BUILD = path.resolve(import.meta.dirname, '../../sensor/build');
const BEACON = path.join(BUILD, 'uring_beacon');
const SYSCALL_LOOP = path.join(BUILD, 'syscall_loop');
const probe = probeKernel();
const missing = [BEACON, SYSCALL_LOOP].find((p) => !existsSync(p));
const skipReason = !probe.ok ? probe.reason : missing ? `test program missing: ${missing} (make -C sensor test-programs)` : !cgroup2Root() ? 'no cgroup2 mount' : '';
if (skipReason) console.warn(`cockpit zoom live tests skipped: ${skipReason}`);

const S = 1_000_000_000n;
const SENSOR = 'zoom-live';
const TOKEN = 'eyJhbGciOi.not-a-real-token\n';
const PAYLOAD = 'exfil:t0ken-bytes';
const WINDOW = { minNs: 4n * S, quietNs: 3n * S, maxNs: 60n * S };

/** Automatic zooms only for this test's workloads: other processes of the host raise indicators too. */
class TestWorkloadZooms extends ZoomService {
  readonly outcomes: Array<{ indicator: IndicatorRecord; outcome: AutoOutcome; storedAtNs: bigint }> = [];
  constructor(private readonly prefix: () => string) {
    super({ controls: liveZoomControls, policy: () => DEFAULT_ZOOM_POLICY, directory: getZoomDirectory(), now: nowNs, log: silentLogger });
  }
  override async onIndicators(db: Db, records: readonly IndicatorRecord[], storedAtNs?: bigint): Promise<AutoOutcome[]> {
    const mine = records.filter((r) => r.workload.startsWith(this.prefix()));
    const outcomes = await super.onIndicators(db, mine, storedAtNs);
    mine.forEach((indicator, i) => this.outcomes.push({ indicator, outcome: outcomes[i]!, storedAtNs: storedAtNs ?? 0n }));
    return outcomes;
  }
}

describe.skipIf(skipReason !== '')(`zoom-in through the cockpit, live (${skipReason || 'real sensor'})`, () => {
  let dir: string;
  let certs: CertResult;
  let sensor: SensorProcess;
  let launcher: Launcher;
  let cgroups: TestCgroups;
  let testDb: Awaited<ReturnType<typeof openTestDb>>;
  let listener: net.Server;
  let listenPort: number;
  let tokenPath: string;
  let status: () => Promise<SensorStatus>;
  let sensorClient: SensorClient;
  const zooms = new TestWorkloadZooms(() => `cgroup${cgroups.base}/`);
  const received: Buffer[] = [];
  const api = (role: 'viewer' | 'responder') => createCaller(testContext({ db: testDb.db, as: role, zooms }));

  const execIdOf = (pid: number, binary: string) => storedExecId(testDb.db, SENSOR, pid, binary);

  /** Evidence rows of a process in any of the four tables. */
  async function evidenceOfPid(pid: number): Promise<number> {
    const [row] = await selectRows<{ n: string }>(testDb.db, {
      sql: `SELECT count() AS n FROM (
              SELECT pid FROM io_uring_ops WHERE pid = {pid:UInt32} UNION ALL SELECT pid FROM socket_events WHERE pid = {pid:UInt32}
              UNION ALL SELECT pid FROM file_accesses WHERE pid = {pid:UInt32} UNION ALL SELECT pid FROM code_fingerprints WHERE pid = {pid:UInt32})`,
      params: { pid },
      tag: 'test',
    });
    return Number(row!.n);
  }

  const zoomOf = async (investigationId: string, id: string) => (await api('viewer').zooms.list({ investigationId })).zooms.find((z) => z.id === id);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'soc-zoom-cockpit-'));
    cgroups = new TestCgroups('soc-zoom');
    cgroups.create(['app']);
    launcher = new Launcher({ orphan: true });
    certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    Object.assign(process.env, certs.cockpitEnv);
    tokenPath = path.join(dir, 'serviceaccount', 'token');
    mkdirSync(path.dirname(tokenPath), { recursive: true });
    writeFileSync(tokenPath, TOKEN);
    listener = net.createServer((c) => c.on('data', (d) => received.push(d)).on('error', () => undefined));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenPort = (listener.address() as net.AddressInfo).port;
    // The test's service map: the listener is the "c2-collector" service.
    const serviceMap = path.join(dir, 'services.yaml');
    writeFileSync(serviceMap, `services:\n  - name: c2-collector.ops\n    address: 127.0.0.1\n    port: ${listenPort}\n    protocol: tcp\n`);
    process.env.SERVICE_MAP_FILE = serviceMap;
    testDb = await openTestDb();
    const port = await freePort();
    sensor = await startSensorProcess({ kind: 'cli', args: ['--listen', `localhost:${port}`, '--name', SENSOR, '--zoom-max-concurrent', '8'], env: certs.sensorEnv, echo: !!process.env.TEST_VERBOSE });
    sensorClient = createSensorClient(`localhost:${port}`, readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }));
    status = () => new Promise((resolve, reject) => sensorClient.status(StatusRequest.fromPartial({}), (err: ServiceError | null, res: SensorStatus) => (err ? reject(err) : resolve(res))));
    startCollector({
      sensors: `${SENSOR}=localhost:${port}`,
      db: testDb.db,
      statusIntervalMs: 300,
      logger: process.env.TEST_VERBOSE ? undefined : silentLogger,
      detector: { window: WINDOW, tickMs: 250, graceMs: 500, syncMs: 0 },
      zooms,
    });
    await waitFor('the collector connected and knows the node', () => getCollectorState().sensors[0]?.connected === true && liveZoomControls.sensorOfNode(os.hostname()) === SENSOR, { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    cgroups?.remove();
    launcher?.close();
    await stopCollector();
    sensorClient?.close();
    if (sensor?.child.exitCode === null) sensor.child.kill('SIGTERM');
    await sensor?.exited;
    listener?.close();
    await testDb?.close();
    delete process.env.SERVICE_MAP_FILE;
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  // A failed test must not leave its zoom running into the next one.
  afterEach(async () => {
    for (const z of (await api('viewer').zooms.list()).zooms) if (z.status === 'active') await api('responder').zooms.cancel({ zoomId: z.id }).catch(() => undefined);
  });

  it('zooming on the beacon: the destination with its service name, the period, the binary format, the token read via io_uring, the language C; the twin yields nothing', async () => {
    const argv = [BEACON, '--wait', '--open', tokenPath, '--connect', `127.0.0.1:${listenPort}`, '--frames', '8', '--interval-ms', '1000', '--payload', PAYLOAD];
    const target = launcher.run(argv, { hold: true });
    const twin = launcher.run(argv, { hold: true });
    const [pid, twinPid] = await Promise.all([target.pid, twin.pid]);
    const execId = await execIdOf(pid, BEACON);
    await execIdOf(twinPid, BEACON);

    const { zoom, investigationId } = await api('responder').zooms.order({ execId, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 60, reason: 'io_uring first seen in a web app' });
    expect(zoom).toMatchObject({ status: 'active', sensor: SENSOR, target: { kind: 'exec_id', value: execId }, targetPids: [pid] });
    // The attach time is recorded (its budget is proven in bench/zoom-indicator-attached.bench.ts).
    expect(zoom.attachMs).toBeGreaterThan(0);
    await Promise.all([target.release(), twin.release()]);
    const [done, twinDone] = await Promise.all([target.done, twin.done]);
    expect(JSON.parse(done.stdout)).toMatchObject({ pid, read_bytes: TOKEN.length, frames: 8, errors: [] });
    expect(JSON.parse(twinDone.stdout)).toMatchObject({ frames: 8, errors: [] });
    // Every send stored, then the zoom ended: its window is the observation window.
    await waitFor('8 sends stored', async () => {
      const [r] = await selectRows<{ n: string }>(testDb.db, { sql: `SELECT count() AS n FROM socket_events WHERE investigation_id = {i:String} AND op = 'send'`, params: { i: investigationId }, tag: 'test' });
      return Number(r!.n) >= 8;
    });
    const ended = await api('responder').zooms.cancel({ zoomId: zoom.id, reason: 'the beacon ended' });
    expect(ended.status).toBe('cancelled');

    const network = await api('viewer').investigations.network({ id: investigationId });
    expect(network.destinations).toHaveLength(1);
    const d = network.destinations[0]!;
    expect(d).toMatchObject({ address: '127.0.0.1', port: listenPort, protocol: 'tcp', service: 'c2-collector.ops', contacts: 8, payloadFormat: 'length_prefixed', viaIoUringOnly: true });
    expect(Math.abs(d.intervalMedianMs! - 1000)).toBeLessThan(100);
    expect(d.periodic.status).toBe('periodic');
    expect(d.payloadReason).toMatch(/length/i);
    expect(d.bytesOut).toBe(received.reduce((n, b) => n + b.length, 0) / 2); // the listener got both beacons' frames
    expect(network.findings.find((f) => f.kind === 'beaconing')!.reason).toBeTruthy();

    const files = await api('viewer').investigations.files({ id: investigationId });
    const read = files.files.find((f) => f.path === tokenPath && f.op === 'read');
    expect(read).toMatchObject({ viaIoUring: true, count: 1, bytes: TOKEN.length });
    expect(files.files.find((f) => f.path === tokenPath && f.op === 'open')).toMatchObject({ viaIoUring: true, count: 1 });

    const code = await api('viewer').investigations.code({ id: investigationId });
    const exe = code.modules.find((m) => m.kind === 'executable')!;
    expect(exe).toMatchObject({ path: BEACON, language: 'c', differsFromWorkload: false, sha256: createHash('sha256').update(readFileSync(BEACON)).digest('hex') });
    expect(exe.buildId).toBe(/Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', BEACON], { encoding: 'utf8' }))![1]);
    expect(code.workload).toMatchObject({ executable: BEACON, language: 'c' });

    // The untargeted twin ran the same program at the same time: no evidence row at all.
    expect(await evidenceOfPid(twinPid)).toBe(0);
    expect(await evidenceOfPid(pid)).toBeGreaterThan(20);
  }, 90_000);

  it('a cancel takes effect at once: listed as cancelled, no zoom program attached, nothing stored after its end', async () => {
    const b = launcher.run([BEACON, '--wait', '--connect', `127.0.0.1:${listenPort}`, '--frames', '300', '--interval-ms', '20'], { hold: true });
    const pid = await b.pid;
    const { zoom, investigationId } = await api('responder').zooms.order({ execId: await execIdOf(pid, BEACON), probes: ['NETWORK'], ttlSeconds: 60, reason: 'cancel test' });
    await b.release();
    await waitFor('evidence stored', async () => (await evidenceOfPid(pid)) >= 10);
    const cancelled = await api('responder').zooms.cancel({ zoomId: zoom.id, reason: 'enough' });
    expect(cancelled).toMatchObject({ status: 'cancelled', remainingTtlMs: null });
    expect((await status()).zoomProgramsAttached).toBe(0);
    expect((await zoomOf(investigationId, zoom.id))!.status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 700)); // the beacon keeps sending
    const [last] = await selectRows<{ maxTs: string }>(testDb.db, {
      sql: `SELECT toString(toUnixTimestamp64Nano(max(ts))) AS maxTs FROM socket_events WHERE zoom_id = {z:String}`,
      params: { z: zoom.id },
      tag: 'test',
    });
    expect(BigInt(last!.maxTs)).toBeLessThan(BigInt(cancelled.endedAtNs!));
    process.kill(pid, 'SIGTERM');
  });

  it('TTL expiry and an exhausted budget end zooms by themselves, and zooms.list says so', async () => {
    const sleeper = launcher.run(['sleep', '30']);
    const sleeperPid = await sleeper.pid;
    const ttl = await api('responder').zooms.order({ execId: await execIdOf(sleeperPid, '/usr/bin/sleep'), probes: ['FILES'], ttlSeconds: 1, reason: 'ttl test' });
    const b = launcher.run([BEACON, '--wait', '--connect', `127.0.0.1:${listenPort}`, '--frames', '300', '--interval-ms', '10'], { hold: true });
    const pid = await b.pid;
    const budget = await api('responder').zooms.order({ execId: await execIdOf(pid, BEACON), probes: ['NETWORK'], ttlSeconds: 60, maxEvents: 25, reason: 'budget test' });
    await b.release();
    await waitFor('expired in zooms.list', async () => (await zoomOf(ttl.investigationId, ttl.zoom.id))?.status === 'expired', { timeoutMs: 10_000 });
    expect(await zoomOf(ttl.investigationId, ttl.zoom.id)).toMatchObject({ reason: 'TTL of 1 s ran out', remainingTtlMs: null });
    await waitFor('exhausted in zooms.list', async () => (await zoomOf(budget.investigationId, budget.zoom.id))?.status === 'exhausted', { timeoutMs: 10_000 });
    const exhausted = (await zoomOf(budget.investigationId, budget.zoom.id))!;
    expect(exhausted.reason).toBe('event budget of 25 used up');
    // The budget was reached: events emitted up to it, the rest (if any arrived before the poll
    // ended the zoom) counted as dropped. Whether any were dropped depends on timing.
    expect(Number(exhausted.eventsEmitted)).toBeLessThanOrEqual(25);
    expect(Number(exhausted.eventsEmitted) + Number(exhausted.eventsDropped)).toBeGreaterThanOrEqual(25);
    expect(await evidenceOfPid(pid)).toBeLessThanOrEqual(25);
    expect((await status()).zoomProgramsAttached).toBe(0);
    process.kill(pid, 'SIGTERM');
    process.kill(sleeperPid, 'SIGTERM');
  });

  it('refuses an order sent with a certificate the sensor does not trust, as a TLS failure (503)', async () => {
    const rogue = await ensureCerts({ outDir: path.join(dir, 'rogue-pki') });
    const rogueClient = createSensorClient(`localhost:${sensor.port}`, readTlsMaterial({ ca: certs.files.ca, cert: rogue.files.cockpitCert, key: rogue.files.cockpitKey }));
    const rogueZooms = new ZoomService({
      controls: { forSensor: () => clientZoomControl(SENSOR, rogueClient), sensorOfNode: () => SENSOR },
      policy: () => DEFAULT_ZOOM_POLICY,
      directory: getZoomDirectory(),
      now: nowNs,
      log: silentLogger,
    });
    const sleeper = launcher.run(['sleep', '10']);
    const pid = await sleeper.pid;
    try {
      const rogueApi = createCaller(testContext({ db: testDb.db, as: 'responder', zooms: rogueZooms }));
      await expect(rogueApi.zooms.order({ execId: await execIdOf(pid, '/usr/bin/sleep'), probes: ['NETWORK'], ttlSeconds: 10, reason: 'from a rogue cockpit' })).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        // grpc-js reports a refused TLS handshake as a failed connection: the message says what to check.
        message: expect.stringMatching(new RegExp(`^sensor ${SENSOR} cannot be reached: .*refused this cockpit's certificate`)),
      });
      expect((await status()).zooms.filter((z) => z.orderReason === 'from a rogue cockpit')).toEqual([]);
    } finally {
      rogueClient.close();
      process.kill(pid, 'SIGTERM');
    }
  });

  it('automatic: a workload with a completed baseline starts io_uring → a high indicator → its investigation → a zoom, active', async () => {
    const loop = launcher.run(steadyLoop({ procsFile: cgroups.procs('app'), syscallLoop: SYSCALL_LOOP }), { timeoutMs: 600_000 });
    const loopPid = await loop.pid;
    const workload = cgroups.workload('app');
    try {
      await waitFor(`${workload} completed`, async () => (await api('viewer').baselines.get({ workload }).catch(() => null))?.status === 'completed', { timeoutMs: 40_000 });
      // The "malicious update": the workload now runs a beacon through io_uring.
      const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const beacon = launcher.run(['sh', '-c', `echo $$ > ${q(cgroups.procs('app'))} && exec ${q(BEACON)} --open ${q(tokenPath)} --connect 127.0.0.1:${listenPort} --frames 20 --interval-ms 500`]);
      const beaconPid = await beacon.pid;
      let ordered: (typeof zooms.outcomes)[number] | undefined;
      await waitFor('an automatic zoom', () => (ordered = zooms.outcomes.find((o) => o.outcome.outcome === 'ordered')) !== undefined, {
        timeoutMs: 20_000,
        context: () => JSON.stringify(zooms.outcomes.map((o) => [o.indicator.kind, o.indicator.value, o.indicator.severity, o.outcome])),
      });
      const { indicator, outcome, storedAtNs } = ordered!;
      expect(indicator).toMatchObject({ workload, severity: 'high', executable: BEACON });
      expect(indicator.rules).toContain('io_uring-first-use');
      if (outcome.outcome !== 'ordered') throw new Error('not ordered');
      expect(outcome.zoom).toMatchObject({ status: 'active', trigger: 'auto', indicatorId: indicator.id, targetPids: [beaconPid] });
      const invs = (await api('viewer').investigations.list({ indicatorId: indicator.id })).investigations;
      expect(invs).toEqual([expect.objectContaining({ id: outcome.investigationId, trigger: 'auto', workload, execId: indicator.execId, activeZooms: 1 })]);
      const storedToAttachedMs = Number(BigInt(outcome.zoom.startedAtNs!) - storedAtNs) / 1e6;
      const factToAttachedMs = Number(BigInt(outcome.zoom.startedAtNs!) - BigInt(indicator.tsNs)) / 1e6;
      console.log(`automatic zoom: indicator stored → probes attached ${storedToAttachedMs.toFixed(1)} ms (fact → attached ${factToAttachedMs.toFixed(1)} ms, on the sensor ${outcome.zoom.attachMs} ms)`);
      // Attached after the indicator was stored (the latency budget is a benchmark's, not a test's).
      expect(storedToAttachedMs).toBeGreaterThan(0);
      // Other indicators of the same process joined the investigation instead of zooming again.
      expect(zooms.outcomes.filter((o) => o.indicator.execId === indicator.execId && o.outcome.outcome === 'ordered')).toHaveLength(1);
      await waitFor('the beacon’s sends in the investigation', async () => ((await api('viewer').investigations.network({ id: outcome.investigationId })).destinations[0]?.contacts ?? 0) >= 3, { timeoutMs: 15_000 });
      const network = await api('viewer').investigations.network({ id: outcome.investigationId });
      expect(network.destinations[0]).toMatchObject({ service: 'c2-collector.ops', payloadFormat: 'length_prefixed' });
      process.kill(beaconPid, 'SIGTERM');
    } finally {
      process.kill(loopPid, 'SIGKILL');
    }
  }, 90_000);
});
