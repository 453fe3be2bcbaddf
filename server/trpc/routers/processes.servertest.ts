import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEventBatch } from '../../../db/repositories/sensorStream';
import { openTestDb } from '../../../db/testing';
import { createCaller } from '../root';
import { eventBatch, eventFactory, testContext } from '../testing';

// The processes API over a real embedded ClickHouse: the chain an analyst investigates
// (init → sh -c '…' → sh -c 'exec sleep …' → sleep), stored the way the collector stores it.
const NODE = 'node-a';
const T0 = BigInt(Math.floor(Date.now() / 1000) - 3600) * 1_000_000_000n;
const ev = eventFactory(NODE, T0);
const id = (pid: number, start: number, count: number) => `${NODE}:0a1b2c3d:${start}:${pid}:${count}`;

const INIT = id(1, 10, 1);
const OUTER = id(100, 1000, 1); // sh -c 'sh -c "exec sleep 2.4242"'
const INNER = id(101, 1005, 2); // forked from OUTER, exec'd sh -c 'exec sleep 2.4242'
const SLEEP = id(101, 1005, 3); // INNER exec'd sleep: same pid, next image
const ORPHAN = id(300, 3000, 1); // its parent was never recorded
const UNKNOWN = id(999, 9999, 9);

describe('processes router', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;
  let api: ReturnType<typeof createCaller>;

  beforeAll(async () => {
    t = await openTestDb();
    api = createCaller(testContext({ db: t.db, as: 'viewer' }));
    await storeEventBatch(
      t.db,
      eventBatch('sensor-a', 'e1', 1, [
        ev.exec(INIT, '', 1, 0, 0, '/sbin/init', ['/sbin/init'], { uid: 0, seeded: true }),
        ev.exec(OUTER, INIT, 100, 1, 10, '/usr/bin/sh', ['sh', '-c', 'sh -c "exec sleep 2.4242"']),
        ev.fork(OUTER, 101, 100, 14),
        ev.exec(INNER, OUTER, 101, 100, 15, '/usr/bin/sh', ['sh', '-c', 'exec sleep 2.4242']),
        ev.exec(SLEEP, INNER, 101, 100, 16, '/usr/bin/sleep', ['sleep', '2.4242'], {
          containerId: '3f9a1c2b7d4e5f60',
          workload: { key: 'container/docker/3f9a1c2b7d4e5f60', kind: 'container', namespace: '', name: '3f9a1c2b7d4e5f60', container: '', nameSource: 'cgroup', podName: '' },
        }),
        ev.fork(OUTER, 102, 100, 17),
        ev.exit(OUTER, 102, 18, 0, 9),
        ev.exit(SLEEP, 101, 2440, 0),
        ev.exit(OUTER, 100, 2441, 0),
        ev.exec(ORPHAN, id(299, 2999, 1), 300, 299, 3000, '/usr/bin/curl', ['curl', '-s', 'http://10.0.0.7/x']),
      ]),
      T0,
    );
  });
  afterAll(async () => t?.close());

  const window = () => ({ from: T0.toString(), to: ev.ns(60_000) });

  it('searches by binary and returns full process views', async () => {
    const result = await api.processes.search({ ...window(), binary: 'sleep' });
    expect(result).toMatchObject({ limit: 100, truncated: false });
    expect(result.processes).toHaveLength(1);
    expect(result.processes[0]).toEqual({
      execId: SLEEP,
      parentExecId: INNER,
      node: NODE,
      pid: 101,
      ppid: 100,
      uid: 1000,
      gid: 1000,
      binary: '/usr/bin/sleep',
      argv: ['sleep', '2.4242'],
      cwd: '/home/analyst',
      comm: 'sleep',
      cgroupId: '4242',
      cgroupPath: '/system.slice/docker-3f9a1c2b7d4e5f60.scope',
      container: { runtime: 'docker', containerId: '3f9a1c2b7d4e5f60', podUid: '', podName: '', namespace: '' },
      workload: { key: 'container/docker/3f9a1c2b7d4e5f60', kind: 'container', namespace: '', name: '3f9a1c2b7d4e5f60', container: '' },
      seeded: false,
      startNs: ev.ns(16),
      firstSeenNs: ev.ns(16),
      lastSeenNs: ev.ns(2440),
      exited: true,
      exitNs: ev.ns(2440),
      exitCode: 0,
      exitSignal: 0,
    });
  });

  it('filters by pid and node, newest first, and reports truncation at the limit', async () => {
    const byPid = await api.processes.search({ ...window(), pid: 101 });
    expect(byPid.processes.map((p) => p.execId)).toEqual([SLEEP, INNER]);
    expect((await api.processes.search({ ...window(), node: 'node-b' })).processes).toEqual([]);
    const limited = await api.processes.search({ ...window(), limit: 2 });
    expect(limited.truncated).toBe(true);
    expect(limited.processes.map((p) => p.execId)).toEqual([ORPHAN, SLEEP]);
  });

  it('gets one process with nanosecond times and its exit', async () => {
    const outer = await api.processes.get({ execId: OUTER });
    expect(outer).toMatchObject({ binary: '/usr/bin/sh', argv: ['sh', '-c', 'sh -c "exec sleep 2.4242"'], startNs: ev.ns(10), exitNs: ev.ns(2441), exitCode: 0 });
    const init = await api.processes.get({ execId: INIT });
    expect(init).toMatchObject({ seeded: true, uid: 0, exited: false, exitNs: null, exitCode: null, exitSignal: null });
  });

  it('returns the ancestry from the process to its root, and why it ends', async () => {
    const ancestry = await api.processes.ancestry({ execId: SLEEP });
    expect(ancestry.end).toBe('root');
    expect(ancestry.chain.map((p) => [p.execId, p.binary, p.argv])).toEqual([
      [SLEEP, '/usr/bin/sleep', ['sleep', '2.4242']],
      [INNER, '/usr/bin/sh', ['sh', '-c', 'exec sleep 2.4242']],
      [OUTER, '/usr/bin/sh', ['sh', '-c', 'sh -c "exec sleep 2.4242"']],
      [INIT, '/sbin/init', ['/sbin/init']],
    ]);
    expect(ancestry.chain[0]).toMatchObject({ pid: 101, startNs: ev.ns(16), exited: true, exitNs: ev.ns(2440), exitCode: 0 });
    expect(await api.processes.ancestry({ execId: ORPHAN })).toMatchObject({ end: 'parent_not_recorded', chain: [{ execId: ORPHAN }] });
  });

  it('lists exec’d children and forked pids with their exits', async () => {
    const outer = await api.processes.children({ execId: OUTER });
    expect(outer.children.map((c) => [c.execId, c.argv])).toEqual([[INNER, ['sh', '-c', 'exec sleep 2.4242']]]);
    expect(outer.forks).toEqual([
      { pid: 101, parentPid: 100, forkNs: ev.ns(14), exited: false, exitNs: null, exitCode: null, exitSignal: null },
      { pid: 102, parentPid: 100, forkNs: ev.ns(17), exited: true, exitNs: ev.ns(18), exitCode: 0, exitSignal: 9 },
    ]);
    expect(await api.processes.children({ execId: SLEEP })).toEqual({ children: [], forks: [] });
  });

  it.each(['get', 'ancestry', 'children'] as const)('answers NOT_FOUND for an unknown exec id (%s)', async (procedure) => {
    const error = await api.processes[procedure]({ execId: UNKNOWN }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: `no process with exec id ${UNKNOWN}` });
  });

  it.each([
    ['to before from', { from: '2000', to: '1000' }, 'to', 'must not be before from'],
    ['a window over 31 days', { from: '0', to: (32n * 86_400_000_000_000n).toString() }, 'from', 'the window from..to may span at most 31 days'],
    ['a limit over 1000', { ...{ from: '0', to: '1' }, limit: 5000 }, 'limit', 'at most 1000'],
    ['seconds instead of nanoseconds', { from: '1.5', to: '2' }, 'from', 'must be nanoseconds since the Unix epoch, as a decimal string'],
    ['an overlong binary', { from: '0', to: '1', binary: 'x'.repeat(257) }, 'binary', 'at most 256 characters'],
    ['an unknown field', { from: '0', to: '1', frm: '0' }, '', 'Unrecognized key: "frm"'],
  ])('rejects %s with BAD_REQUEST naming the field', async (_case, input, path, message) => {
    const error = await api.processes.search(input as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    const issues = ((error as TRPCError).cause as unknown as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    expect(issues.map((i) => [i.path.join('.'), i.message])).toContainEqual([path, message]);
  });

  it('rejects a malformed exec id before touching storage', async () => {
    const noStorage = createCaller(
      testContext({ as: 'viewer', getDb: () => Promise.reject(new Error('storage must not be opened for invalid input')) }),
    );
    await expect(noStorage.processes.get({ execId: 'not-an-exec-id' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
