import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBatch, type Event } from '../../sensor/gen/soc/sensor/v1/sensor';
import { selectRows } from '../query';
import { openTestDb } from '../testing';
import { getAncestry, getChildren, getForks, getProcess, searchProcesses } from './processes';
import { getResumePoint, recordSensorGap, storeEventBatch } from './sensorStream';
import { listGaps } from './sensors';

// Repository round trips on the real embedded engine. The events are built here (they test the
// storage mapping, not the sensor); the live sensor tests cover real kernel events.
const NODE = 'node-a';
const BOOT = '0a1b2c3d';
// Recent, so the tables' TTL (30 days) keeps the rows.
const T0 = BigInt(Math.floor(Date.now() / 1000) - 3600) * 1_000_000_000n;
const ns = (offsetMs: number) => (T0 + BigInt(offsetMs) * 1_000_000n + 123n).toString();
const execId = (pid: number, startOffset: number, count: number) => `${NODE}:${BOOT}:${1000 + startOffset}:${pid}:${count}`;

const A = execId(100, 0, 1); // outer sh
const B = execId(101, 5, 2); // forked child of A, exec'd inner sh
const C = execId(101, 5, 3); // inner sh exec'd sleep (same pid, re-keyed)

function exec(id: string, parent: string, pid: number, ppid: number, at: number, binary: string, argv: string[], seeded = false): Event {
  return {
    seq: '0', tsNs: ns(at), node: NODE, execId: id, pid, tid: pid,
    body: {
      $case: 'exec',
      value: {
        parentExecId: parent, ppid, uid: 1000, gid: 1000, auid: 1000, binary, argv, argvTruncated: false, cwd: '/home/u',
        comm: binary.split('/').at(-1)!, cgroupId: '4242', cgroupPath: '/system.slice/docker-abc.scope',
        container: { runtime: 'docker', containerId: 'abc', podUid: '', podName: '', namespace: '' },
        seeded, startNs: ns(at), workload: undefined,
      },
    },
  };
}
const fork = (id: string, child: number, parent: number, at: number): Event => ({
  seq: '0', tsNs: ns(at), node: NODE, execId: id, pid: child, tid: child, body: { $case: 'fork', value: { childPid: child, parentPid: parent } },
});
const exit = (id: string, pid: number, at: number, code: number, signal = 0): Event => ({
  seq: '0', tsNs: ns(at), node: NODE, execId: id, pid, tid: pid, body: { $case: 'exit', value: { exitCode: code, signal } },
});

function batch(epoch: string, firstSeq: number, events: Event[], extra: Partial<EventBatch> = {}): EventBatch {
  const numbered = events.map((e, i) => ({ ...e, seq: String(firstSeq + i) }));
  return EventBatch.fromPartial({
    sensor: 'sensor-a', epoch, firstSeq: String(firstSeq), lastSeq: String(firstSeq + events.length - 1), events: numbered, ...extra,
  });
}

describe('process repositories on embedded ClickHouse', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;
  const b1 = batch('e1', 1, [
    exec(A, 'node-a:0a1b2c3d:1:1:0', 100, 1, 0, '/usr/bin/sh', ['sh', '-c', 'sh -c "exec sleep 1"'], true),
    fork(A, 101, 100, 4),
    exec(B, A, 101, 100, 5, '/usr/bin/sh', ['sh', '-c', 'exec sleep 1']),
  ]);
  const b2 = batch('e1', 4, [
    exec(C, B, 101, 100, 6, '/usr/bin/sleep', ['sleep', '1']),
    fork(A, 102, 100, 7),
    exit(A, 102, 8, 0, 9), // a forked child of A dies: A itself goes on
    exit(C, 101, 1006, 0),
    exit(A, 100, 1010, 3),
  ], { droppedKernel: '2', dropped: '2' });

  beforeAll(async () => {
    t = await openTestDb();
    await storeEventBatch(t.db, b1, T0);
    await storeEventBatch(t.db, b2, T0);
  });
  afterAll(async () => t.close());

  it('stores a re-sent batch once (dedup token per sensor/epoch/seq range)', async () => {
    await storeEventBatch(t.db, b1, T0);
    await storeEventBatch(t.db, b2, T0);
    const rows = await selectRows<{ c: string }>(t.db, { sql: 'SELECT count() AS c FROM process_events', tag: 'test' });
    expect(Number(rows[0]!.c)).toBe(8);
    const batches = await selectRows<{ c: string }>(t.db, { sql: 'SELECT count() AS c FROM sensor_batches', tag: 'test' });
    expect(Number(batches[0]!.c)).toBe(2);
  });

  it('keeps nanosecond timestamps exact', async () => {
    const c = await getProcess(t.db, C);
    expect(c?.startNs).toBe(ns(6));
    expect(c?.exitNs).toBe(ns(1006));
  });

  it('returns the ancestry chain from the process to its root', async () => {
    const chain = await getAncestry(t.db, C);
    expect(chain.map((p) => p.execId)).toEqual([C, B, A]);
    expect(chain.map((p) => p.binary)).toEqual(['/usr/bin/sleep', '/usr/bin/sh', '/usr/bin/sh']);
    expect(chain[0]!.argv).toEqual(['sleep', '1']);
    expect(chain[0]!.container).toEqual({ runtime: 'docker', containerId: 'abc', podUid: '', podName: '', namespace: '' });
    expect(chain[2]!.seeded).toBe(true);
  });

  it('ends an image only when the pid that exec’d it exits, not a forked child', async () => {
    const a = await getProcess(t.db, A);
    expect(a).toMatchObject({ exited: true, exitCode: 3, exitNs: ns(1010) });
    const c = await getProcess(t.db, C);
    expect(c).toMatchObject({ exited: true, exitCode: 0, exitSignal: 0 });
    const b = await getProcess(t.db, B);
    expect(b).toMatchObject({ exited: false, exitCode: null, exitNs: null });
  });

  it('lists children and forked pids', async () => {
    expect((await getChildren(t.db, A)).map((p) => p.execId)).toEqual([B]);
    expect((await getChildren(t.db, B)).map((p) => p.execId)).toEqual([C]);
    const forks = await getForks(t.db, A);
    expect(forks.map((f) => [f.pid, f.exited, f.exitSignal])).toEqual([
      [101, false, null],
      [102, true, 9],
    ]);
  });

  it('searches by binary, pid, node and time window, literally', async () => {
    const window = { fromNs: T0.toString(), toNs: ns(60_000), limit: 50 };
    expect((await searchProcesses(t.db, { ...window, binary: 'sleep' })).map((p) => p.execId)).toEqual([C]);
    expect((await searchProcesses(t.db, { ...window, pid: 101 })).map((p) => p.execId).sort()).toEqual([B, C].sort());
    expect(await searchProcesses(t.db, { ...window, node: 'other' })).toEqual([]);
    expect(await searchProcesses(t.db, { ...window, binary: "%' OR 1=1 --" })).toEqual([]);
    expect(await searchProcesses(t.db, { ...window, binary: '_' })).toEqual([]);
    expect(await searchProcesses(t.db, { fromNs: ns(2000), toNs: ns(3000), limit: 50 })).toEqual([]);
  });

  it('records drops and gaps, and resumes from the newest epoch', async () => {
    await storeEventBatch(t.db, batch('e2', 50, [exec(execId(300, 900, 1), A, 300, 100, 2000, '/usr/bin/true', ['true'])], { gap: true, missing: '49' }), T0 + 5n);
    await recordSensorGap(t.db, { sensor: 'sensor-a', epoch: 'e2', kind: 'restart', fromSeq: '5', toSeq: '0', count: '0', tsNs: ns(1999), detail: 'epoch e1 → e2' });
    expect(await getResumePoint(t.db, 'sensor-a')).toMatchObject({
      epoch: 'e2',
      lastSeq: '50',
      unit: { firstSeq: '50', lastSeq: '50', events: 1, processRows: 1, gap: true, missing: '49', receivedAtNs: String(T0 + 5n) },
    });
    expect(await getResumePoint(t.db, 'nobody')).toBeNull();
    const gaps = await listGaps(t.db, { fromNs: T0.toString(), toNs: ns(60_000), limit: 10 });
    expect(gaps.map((g) => [g.kind, g.count, g.fromSeq, g.toSeq])).toEqual([
      ['seq_gap', '49', '1', '49'],
      ['restart', '0', '5', '0'],
      ['kernel_drop', '2', '4', '8'],
    ]);
  });
});
