/**
 * The live test: the real sensor (eBPF) → gRPC/mTLS → collector → chDB → detector → tRPC.
 *
 * Two workloads, each in a cgroup of its own (`cgroup/<path>`), run the same steady loop. With
 * short learning windows both profiles complete; then the first calls io_uring_setup (syscall
 * 425, through the same executable) → exactly one indicator naming that syscall, with the exec id
 * of the image that made it, its workload, and an explanation listing the learning window; the
 * second stays quiet. io_uring opcodes done through a ring (no syscall of their own) arrive as
 * facts and are stored. The sensor's own activity and the cockpit's (this test process hosts the
 * collector: the sensor marks it own when it watches) never raise an indicator.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExecId } from '../../db/ids';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { probeKernel } from '../../sensor/src/kernel/source';
import { silentLogger } from '../../sensor/src/log';
import { Launcher } from '../../sensor/src/testing/launcher';
import { freePort, startSensorProcess, waitFor, type SensorProcess } from '../../sensor/src/testing/process';
import { cgroup2Root, steadyLoop, TestCgroups } from '../../sensor/src/testing/workloads';
import { ensureCerts } from '../../sensor/src/tls/certs';
import { getCollectorState, getDetector, startCollector, stopCollector } from '../collector/collector';
import { createCaller } from '../trpc/root';
import { testContext } from '../trpc/testing';
import type { Explanation } from './explain';

const BUILD = path.resolve(import.meta.dirname, '../../sensor/build');
const SYSCALL_LOOP = path.join(BUILD, 'syscall_loop');
const URING_PROBE = path.join(BUILD, 'uring_probe');
const probe = probeKernel();
const missing = [SYSCALL_LOOP, URING_PROBE].find((p) => !existsSync(p));
const skipReason = !probe.ok ? probe.reason : missing ? `test program missing: ${missing} (make -C sensor test-programs)` : !cgroup2Root() ? 'no cgroup2 mount' : '';
if (skipReason) console.warn(`detection live test skipped: ${skipReason}`);

const S = 1_000_000_000n;
/** Short learning windows: at least 4 s, complete after 3 quiet seconds, at most a minute. */
const WINDOW = { minNs: 4n * S, quietNs: 3n * S, maxNs: 60n * S };

describe.skipIf(skipReason !== '')(`detection, live (${skipReason || 'real sensor'})`, () => {
  let dir: string;
  let sensor: SensorProcess;
  let launcher: Launcher;
  let cgroups: TestCgroups;
  let testDb: Awaited<ReturnType<typeof openTestDb>>;
  let api: ReturnType<typeof createCaller>;
  let modeFile: string;
  const loops: number[] = [];

  const indicators = async (workload?: string) =>
    (await api.indicators.list({ from: ((BigInt(Date.now()) - 600_000n) * 1_000_000n).toString(), to: ((BigInt(Date.now()) + 60_000n) * 1_000_000n).toString(), workload, limit: 1000 })).indicators;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'soc-detect-live-'));
    modeFile = path.join(dir, 'mode-a');
    writeFileSync(modeFile, 'steady\n');
    // Before the sensor: the cgroups (so its resolver knows them), and the launcher (its shell is
    // no descendant of this process, which the sensor will mark own when the collector watches).
    cgroups = new TestCgroups('soc-detect');
    cgroups.create(['wl-a', 'wl-b', 'wl-c']);
    launcher = new Launcher({ orphan: true });
    const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    Object.assign(process.env, certs.cockpitEnv);
    testDb = await openTestDb();
    api = createCaller(testContext({ db: testDb.db, as: 'viewer' }));
    const port = await freePort();
    sensor = await startSensorProcess({ kind: 'cli', args: ['--listen', `localhost:${port}`, '--name', 'detect-live'], env: certs.sensorEnv, echo: !!process.env.TEST_VERBOSE });
    startCollector({
      sensors: `detect-live=localhost:${port}`,
      db: testDb.db,
      statusIntervalMs: 500,
      logger: process.env.TEST_VERBOSE ? undefined : silentLogger,
      detector: { window: WINDOW, tickMs: 250, graceMs: 500, syncMs: 0 },
    });
    await waitFor('the collector connected', () => getCollectorState().sensors[0]?.connected === true, { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    for (const pid of loops) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    cgroups?.remove();
    launcher?.close();
    await stopCollector();
    if (sensor?.child.exitCode === null) sensor.child.kill('SIGTERM');
    await sensor?.exited;
    await testDb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('learns two workloads; an io_uring_setup in the first raises exactly one explained indicator; the second stays quiet', async () => {
    for (const [name, mode] of [['wl-a', modeFile], ['wl-b', undefined]] as const) {
      const launched = launcher.run(steadyLoop({ procsFile: cgroups.procs(name), syscallLoop: SYSCALL_LOOP, modeFile: mode }), { timeoutMs: 600_000 });
      loops.push(await launched.pid);
    }
    const A = cgroups.workload('wl-a');
    const B = cgroups.workload('wl-b');
    // Both profiles (the workload's executables, the shell, syscall_loop) complete.
    for (const workload of [A, B]) {
      await waitFor(
        `${workload} completed`,
        async () => {
          const view = await api.baselines.get({ workload }).catch(() => null);
          return !!view && view.status === 'completed' && view.profiles.length === 3;
        },
        { timeoutMs: 40_000, context: () => JSON.stringify(getDetector()?.stats) },
      );
    }
    const learned = await api.baselines.get({ workload: A });
    // Order-free: where the checkout lives decides how SYSCALL_LOOP's path sorts.
    expect(learned.profiles.map((p) => p.executable).sort()).toEqual(['*', '/usr/bin/dash', SYSCALL_LOOP].sort());
    const loopProfile = learned.profiles.find((p) => p.executable === SYSCALL_LOOP)!;
    expect(loopProfile.entries.map((e) => e.value)).toContain('getppid');
    expect(loopProfile.entries.map((e) => e.value)).not.toContain('io_uring_setup');
    expect(await indicators(A)).toEqual([]);

    // The first workload calls io_uring_setup once (syscall 425, the same executable).
    const triggeredAt = BigInt(Date.now()) * 1_000_000n;
    writeFileSync(modeFile, 'evil-1\n');
    let found: Awaited<ReturnType<typeof indicators>> = [];
    await waitFor('the indicator', async () => (found = await indicators(A)).length > 0, { timeoutMs: 20_000 });
    // Give anything else a moment to show up: there must be nothing else.
    await new Promise((r) => setTimeout(r, 1500));
    found = await indicators(A);
    expect(found.map((i) => [i.kind, i.value])).toEqual([['syscall', 'io_uring_setup']]);
    const indicator = found[0]!;
    expect(indicator).toMatchObject({ workload: A, executable: SYSCALL_LOOP, count: '1', deviation: true, severity: 'high', profileStatus: 'completed', rules: [{ id: 'io_uring-first-use' }] });
    expect(BigInt(indicator.tsNs)).toBeGreaterThanOrEqual(triggeredAt);
    // The exec id is the image that made the call: syscall_loop --syscall 425, in wl-a.
    const [exec] = await selectRows<{ exec_id: string; argv: string[]; workload: string }>(testDb.db, {
      sql: `SELECT exec_id, argv, workload FROM process_events WHERE kind = 'exec' AND exec_id = {id:String}`,
      params: { id: indicator.execId },
      tag: 'test',
    });
    expect(exec).toMatchObject({ argv: [SYSCALL_LOOP, '--syscall', '425', '--iterations', '1'], workload: A });
    // The explanation names the learning window, as data and in the sentence.
    const detail = await api.indicators.get({ id: indicator.id });
    const x = detail.explanation as Explanation;
    expect(x.profile).toMatchObject({ workload: A, executable: SYSCALL_LOOP, status: 'completed', completedBy: 'window', window: { minNs: '4000000000', quietNs: '3000000000', maxNs: '60000000000' } });
    expect(BigInt(x.profile.completedAtNs) - BigInt(x.profile.startedAtNs)).toBeGreaterThanOrEqual(4n * S);
    expect(BigInt(x.profile.completedAtNs)).toBeLessThan(BigInt(indicator.tsNs));
    expect(x.profile.entriesOfKind).toBe(loopProfile.entries.filter((e) => e.kind === 'syscall').length);
    expect(indicator.sentence).toMatch(/First syscall io_uring_setup by syscall_loop in cgroup\/soc-detect-[^ ]+\/wl-a: its profile \(v2, learned \d{4}-\d\d-\d\d \d\d:\d\d:\d\d–\d\d:\d\d:\d\d UTC, completed after 3 s with nothing new\) allows \d+ syscalls, not this one\./);
    // The second workload stayed quiet.
    expect(await indicators(B)).toEqual([]);
    expect((await api.baselines.get({ workload: B })).status).toBe('completed');
  }, 90_000);

  it('stores io_uring opcodes done through a ring (no syscalls of their own) as facts', async () => {
    const target = path.join(dir, 'payload.txt');
    writeFileSync(target, 'hello through the ring\n');
    const server = net.createServer((c) => c.resume().on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const run = launcher.run(['sh', '-c', `echo $$ > '${cgroups.procs('wl-c')}' && exec "$0" "$@"`, URING_PROBE, '--open', target, '--connect', `127.0.0.1:${port}`, '--send', 'beacon']);
      const done = await run.done;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const pid = await run.pid;
      type Row = { exec_id: string; kind: string; name: string; via: string; workload: string };
      let rows: Row[] = [];
      await waitFor('io_uring facts stored', async () => {
        rows = await selectRows<Row>(testDb.db, {
          sql: `SELECT exec_id, toString(kind) AS kind, name, toString(via) AS via, workload FROM facts WHERE pid = {pid:UInt32} AND sensor = 'detect-live'`,
          params: { pid },
          tag: 'test',
        });
        return ['OPENAT', 'READ', 'CONNECT', 'SEND'].every((op) => rows.some((r) => r.kind === 'io_uring_op' && r.name === op));
      });
      const ops = rows.filter((r) => r.kind === 'io_uring_op');
      expect(ops.every((r) => r.workload === cgroups.workload('wl-c') && r.via === 'io_uring')).toBe(true);
      expect(rows.some((r) => r.kind === 'io_uring_setup')).toBe(true);
      // Through the ring only: the probe never made these syscalls itself (openat it does make:
      // the dynamic loader opens its libraries).
      for (const name of ['connect', 'sendto', 'sendmsg']) {
        expect(rows.some((r) => r.kind === 'syscall' && r.name === name && r.exec_id === ops[0]!.exec_id), name).toBe(false);
      }
      expect(rows.some((r) => r.kind === 'endpoint' && r.name === `127.0.0.1:${port}/tcp` && r.via === 'io_uring')).toBe(true);
      // A workload that never used io_uring: the known-bad rule fires, even while it is learning.
      await waitFor('the io_uring rule', async () => (await indicators(cgroups.workload('wl-c'))).some((i) => i.rules.some((r) => r.id === 'io_uring-first-use')));
      const [first] = (await indicators(cgroups.workload('wl-c'))).filter((i) => i.rules.length > 0);
      expect(first).toMatchObject({ profileStatus: 'learning', deviation: false, severity: 'high' });
    } finally {
      server.close();
    }
  }, 60_000);

  it('never raises an indicator for the sensor’s or the cockpit’s own activity, and marks the cockpit’s facts own', async () => {
    // Something new for this process (the cockpit: it hosts the collector) after it connected.
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => net.connect(port, '127.0.0.1').on('close', () => resolve()).on('error', () => resolve()).resume());
    server.close();
    type Row = { own: boolean; name: string };
    await waitFor('the cockpit’s endpoint fact', async () => {
      const rows = await selectRows<Row>(testDb.db, {
        sql: `SELECT own, name FROM facts WHERE pid = {pid:UInt32} AND toString(kind) = 'endpoint' AND name = {name:String}`,
        params: { pid: process.pid, name: `127.0.0.1:${port}/tcp` },
        tag: 'test',
      });
      return rows.length > 0 && rows.every((r) => r.own);
    });
    const [sensorFacts] = await selectRows<{ total: string; own: string }>(testDb.db, {
      sql: `SELECT count() AS total, countIf(own) AS own FROM facts WHERE pid = {pid:UInt32}`,
      params: { pid: sensor.child.pid },
      tag: 'test',
    });
    expect(Number(sensorFacts!.total)).toBeGreaterThan(0);
    expect(sensorFacts!.own).toBe(sensorFacts!.total);
    const ownPids = new Set([process.pid, sensor.child.pid]);
    const all = await indicators();
    expect(all.filter((i) => ownPids.has(parseExecId(i.execId)?.pid ?? -1))).toEqual([]);
    expect(getDetector()!.stats.ownSkipped).toBeGreaterThan(0);
  }, 60_000);
});
