import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { probeKernel } from '../../sensor/src/kernel/source';
import { silentLogger } from '../../sensor/src/log';
import { freePort, startSensorProcess, waitFor } from '../../sensor/src/testing/process';
import { ensureCerts } from '../../sensor/src/tls/certs';
import { getCollectorState, startCollector, stopCollector } from './collector';

// End to end on this node: the real sensor (live eBPF) → gRPC/mTLS → collector → embedded chDB.
const probe = probeKernel();
if (!probe.ok) console.warn(`collector.livetest skipped: ${probe.reason}`);


describe.skipIf(!probe.ok)('live sensor → collector → storage', () => {
  let dir: string;
  let sensor: ChildProcess;
  let testDb: Awaited<ReturnType<typeof openTestDb>>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'soc-live-collector-'));
    const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    Object.assign(process.env, certs.cockpitEnv);
    testDb = await openTestDb();
    const port = await freePort();
    sensor = (
      await startSensorProcess({ kind: 'cli', runner: 'tsx', args: ['--listen', `localhost:${port}`, '--name', 'live-e2e'], env: certs.sensorEnv })
    ).child;
    startCollector({ sensors: `live-e2e=localhost:${port}`, db: testDb.db, statusIntervalMs: 500, logger: silentLogger });
  }, 90_000);

  afterAll(async () => {
    await stopCollector();
    if (sensor?.exitCode === null) sensor.kill('SIGTERM');
    await testDb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores the process chain of a command run on this node, with parent links', async () => {
    const child = spawn('sh', ['-c', 'sh -c "exec sleep 1"'], { stdio: 'ignore' });
    const outerPid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));

    type Row = { exec_id: string; parent_exec_id: string; pid: number; ppid: number; argv: string[]; kind: string };
    const chain = async () =>
      selectRows<Row>(testDb.db, {
        sql: `SELECT exec_id, parent_exec_id, pid, ppid, argv, toString(kind) AS kind FROM process_events
              WHERE sensor = 'live-e2e' AND kind = 'exec'
                AND (pid = {outer:UInt32} OR ppid = {outer:UInt32} OR has(argv, 'exec sleep 1') OR argv = ['sleep', '1'])
              ORDER BY seq`,
        params: { outer: outerPid },
        tag: 'test',
      });
    let rows: Row[] = [];
    await waitFor('the sleep exec stored', async () => {
      rows = await chain();
      return rows.some((r) => r.argv.join(' ') === 'sleep 1' && r.parent_exec_id !== '');
    });
    const outer = rows.find((r) => r.pid === outerPid && r.argv.join(' ') === 'sh -c sh -c "exec sleep 1"');
    const inner = rows.find((r) => r.argv.join(' ') === 'sh -c exec sleep 1' && r.parent_exec_id === outer?.exec_id);
    const sleep = rows.find((r) => r.argv.join(' ') === 'sleep 1' && r.parent_exec_id === inner?.exec_id);
    expect(outer, JSON.stringify(rows)).toBeDefined();
    expect(outer!.ppid).toBe(process.pid);
    expect(inner, JSON.stringify(rows)).toBeDefined();
    expect(sleep, JSON.stringify(rows)).toBeDefined();
    expect(sleep!.pid).toBe(inner!.pid);

    const link = getCollectorState().sensors[0]!;
    expect(link).toMatchObject({ name: 'live-e2e', connected: true, rejectedBatches: 0 });
    expect(link.sensorStatus?.mode).toBe('live');
    const [gaps] = await selectRows<{ n: string }>(testDb.db, {
      sql: "SELECT count() AS n FROM sensor_gaps WHERE sensor = 'live-e2e' AND kind IN ('seq_gap', 'rejected_batch', 'restart')",
      tag: 'test',
    });
    expect(gaps!.n).toBe('0');
  }, 60_000);
});
