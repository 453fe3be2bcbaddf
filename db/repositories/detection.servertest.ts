import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityCounters, Direction, FactKind, FactVia, type Event, type Workload } from '../../sensor/gen/soc/sensor/v1/sensor';
import { emptyFact } from '../../sensor/src/kernel/decode';
import { Detector } from '../../server/detection/detector';
import { storageStore } from '../../server/detection/store';
import { inputs } from '../../server/detection/testing';
import { eventBatch, eventFactory } from '../../server/trpc/testing';
import type { Db } from '../client';
import { selectRows } from '../query';
import { openTestDb } from '../testing';
import { countBaselineRows, getDocument, insertDocument, insertEntries, insertProfiles, listDocumentWorkloads, listEntries, listProfiles, type EntryRecord, type ProfileRecord } from './baselines';
import { getIndicator, listIndicators, upsertIndicators, type IndicatorRecord } from './indicators';
import { getProcess } from './processes';
import { countUnitRows, storeEventBatch, storePreparedUnit, UnitBuilder, unitToken, type StreamUnit } from './sensorStream';

// Storage round trips of the detection tables on the real embedded engine: facts and counters
// stored inside the collector's units (same token, counted by the intent, exactly once), the
// workload on process events, profiles, entries, documents and folding indicators.
const NODE = 'node-a';
const S = 1_000_000_000n;
const T0 = BigInt(Math.floor(Date.now() / 1000) - 600) * S;
const ev = eventFactory(NODE, T0);
const WORKLOAD: Workload = { key: 'cgroup/soc-test/wl-a', kind: 'cgroup', namespace: '', name: 'soc-test/wl-a', container: '', nameSource: 'cgroup', podName: '' };
const EXEC = `${NODE}:0a1b2c3d:1000:100:1`;

function fact(execId: string, atMs: number, fields: Partial<ReturnType<typeof emptyFact>>, own = false): Event {
  return { seq: '0', tsNs: ev.ns(atMs), node: NODE, execId, pid: 100, tid: 101, ...(own ? { own: true } : {}), body: { $case: 'fact', value: { ...emptyFact(), workload: WORKLOAD.key, ...fields } } };
}
function counters(execId: string, atMs: number): Event {
  return { seq: '0', tsNs: ev.ns(atMs), node: NODE, execId, pid: 100, tid: 100, body: { $case: 'counters', value: ActivityCounters.fromPartial({ sinceNs: ev.ns(atMs - 1000), syscalls: '12345678901', opens: '7', workload: WORKLOAD.key, final: true }) } };
}

const unitEvents = () => [
  ev.exec(EXEC, '', 100, 1, 0, '/opt/soc/syscall_loop', ['syscall_loop'], { cgroupPath: '/soc-test/wl-a', workload: WORKLOAD }),
  fact(EXEC, 1, { kind: FactKind.FACT_KIND_SYSCALL, name: 'io_uring_setup', number: 425, via: FactVia.FACT_VIA_SYSCALL, abi: 'x86_64' }),
  fact(EXEC, 2, { kind: FactKind.FACT_KIND_IO_URING_OP, name: 'OPENAT', number: 18, via: FactVia.FACT_VIA_IO_URING, ringFlags: 2, sqpoll: true, ringFlagNames: ['SQPOLL'], fd: -100 }),
  fact(EXEC, 3, { kind: FactKind.FACT_KIND_ENDPOINT, name: '10.0.0.7:4444/tcp', address: '10.0.0.7', port: 4444, protocol: 'tcp', direction: Direction.DIRECTION_OUTBOUND, via: FactVia.FACT_VIA_IO_URING }),
  fact(EXEC, 4, { kind: FactKind.FACT_KIND_FILE, name: 'service_account_token', path: '/var/run/secrets/kubernetes.io/serviceaccount/token', pathClass: 'service_account_token', openFlags: 0o2000000, via: FactVia.FACT_VIA_IO_URING }, true),
  counters(EXEC, 5),
  ev.exit(EXEC, 100, 6, 0),
];

describe('detection storage', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;
  let db: Db;
  beforeAll(async () => {
    t = await openTestDb();
    db = t.db;
  });
  afterAll(async () => t?.close());

  async function count(table: string, where = '1'): Promise<number> {
    const [row] = await selectRows<{ n: string }>(db, { sql: `SELECT count() AS n FROM ${table} WHERE ${where}`, tag: 'test' });
    return Number(row!.n);
  }

  it('stores facts and counters inside the unit, counted by its intent, once however often it is stored', async () => {
    const batch = eventBatch('sensor-a', 'e1', 1, unitEvents());
    await storeEventBatch(db, batch, T0);
    await storeEventBatch(db, batch, T0); // a retried unit: same token, nothing doubled
    const [unit] = await selectRows<{ process_rows: number; fact_rows: number; counter_rows: number }>(db, {
      sql: "SELECT process_rows, fact_rows, counter_rows FROM sensor_batches WHERE sensor = 'sensor-a'",
      tag: 'test',
    });
    expect(unit).toEqual({ process_rows: 2, fact_rows: 4, counter_rows: 1 });
    expect(await count('facts', "sensor = 'sensor-a'")).toBe(4);
    expect(await count('activity_counters', "sensor = 'sensor-a'")).toBe(1);
    expect(await count('process_events', "sensor = 'sensor-a'")).toBe(2);
    const rows = await selectRows<Record<string, unknown>>(db, {
      sql: `SELECT seq, toString(kind) AS kind, name, toString(via) AS via, own, workload, port, toString(direction) AS direction, path, path_class, open_flags, sqpoll, ring_flag_names, fd
            FROM facts WHERE sensor = 'sensor-a' ORDER BY seq`,
      tag: 'test',
    });
    expect(rows.map((r) => [r.seq, r.kind, r.name, r.via, r.own])).toEqual([
      ['2', 'syscall', 'io_uring_setup', 'syscall', false],
      ['3', 'io_uring_op', 'OPENAT', 'io_uring', false],
      ['4', 'endpoint', '10.0.0.7:4444/tcp', 'io_uring', false],
      ['5', 'file', 'service_account_token', 'io_uring', true],
    ]);
    expect(rows[1]).toMatchObject({ sqpoll: true, ring_flag_names: ['SQPOLL'], fd: -100, workload: WORKLOAD.key });
    expect(rows[2]).toMatchObject({ port: 4444, direction: 'outbound' });
    expect(rows[3]).toMatchObject({ path: '/var/run/secrets/kubernetes.io/serviceaccount/token', path_class: 'service_account_token', open_flags: 0o2000000 });
    const [c] = await selectRows<Record<string, unknown>>(db, { sql: "SELECT syscalls, opens, final, workload FROM activity_counters WHERE sensor = 'sensor-a'", tag: 'test' });
    expect(c).toEqual({ syscalls: '12345678901', opens: '7', final: true, workload: WORKLOAD.key });
  });

  it('keeps exactly once through a crash between the unit’s inserts, and counts every table when verifying', async () => {
    const builder = new UnitBuilder(db, 'sensor-b', 'e1');
    const events = eventBatch('sensor-b', 'e1', 1, unitEvents()).events;
    builder.add(events);
    const contents = builder.contents();
    const unit: StreamUnit = { sensor: 'sensor-b', epoch: 'e1', firstSeq: '1', lastSeq: String(events.length), gap: false, missing: '0', dropped: '0', droppedKernel: '0', droppedUser: '0', receivedAtNs: T0.toString(), ...contents };
    const prepared = builder.prepare(unit);
    // The crash: the intent and the process events are in, the facts and counters are not.
    const [processEvents] = prepared.data;
    await storePreparedUnit(db, { ...prepared, data: [processEvents!] });
    expect(await countUnitRows(db, unit)).toBe(2);
    // The collector forms the same unit again (same token): what is missing is stored, nothing twice.
    const again = new UnitBuilder(db, 'sensor-b', 'e1');
    again.add(eventBatch('sensor-b', 'e1', 1, unitEvents()).events);
    await storePreparedUnit(db, again.prepare(unit));
    expect(await countUnitRows(db, unit)).toBe(7);
    expect(await count('facts', "sensor = 'sensor-b'")).toBe(4);
    expect(await count('process_events', "sensor = 'sensor-b'")).toBe(2);
    expect(unitToken(unit)).toBe('sensor-b:e1:1-7');
  });

  it('stores the exec’s workload on process events and shows it on the process', async () => {
    const p = await getProcess(db, EXEC);
    expect(p?.workload).toEqual({ key: 'cgroup/soc-test/wl-a', kind: 'cgroup', namespace: '', name: 'soc-test/wl-a', container: '' });
  });

  const profile = (over: Partial<ProfileRecord> = {}): ProfileRecord => ({
    workload: 'cgroup/soc-test/wl-a', executable: '/opt/soc/syscall_loop', workloadKind: 'cgroup', workloadNamespace: '', workloadName: 'soc-test/wl-a', workloadContainer: '',
    status: 'learning', version: 1, startedAtNs: T0.toString(), lastNewAtNs: T0.toString(), completedAtNs: '0', completedBy: 'none',
    minLearningNs: '4000000000', quietNs: '3000000000', maxLearningNs: '60000000000', entries: 2, updatedAtNs: T0.toString(), rowVersion: T0.toString(), ...over,
  });
  const entry = (over: Partial<EntryRecord> = {}): EntryRecord => ({
    workload: 'cgroup/soc-test/wl-a', executable: '/opt/soc/syscall_loop', kind: 'syscall', value: 'getppid', detail: '{}', source: 'learned', tsNs: T0.toString(), profileVersion: 1,
    position: 0, node: NODE, execId: EXEC, actor: '', reason: '', indicatorId: '', ...over,
  });

  it('keeps the newest version of a profile, and each entry once', async () => {
    await insertProfiles(db, [profile()]);
    await insertProfiles(db, [profile({ status: 'completed', version: 2, completedAtNs: (T0 + 7n * S).toString(), completedBy: 'window', rowVersion: (T0 + 1n).toString() })]);
    const token = 'detector:test-1';
    await insertEntries(db, [entry(), entry({ value: 'brk', tsNs: (T0 + 1n).toString() })], token);
    await insertEntries(db, [entry(), entry({ value: 'brk', tsNs: (T0 + 1n).toString() })], token); // a retried write
    await insertEntries(db, [entry({ tsNs: (T0 + 5n).toString() })]); // the same entry written again later
    await insertEntries(db, [entry({ kind: 'file', value: '/x/serviceaccount/token', source: 'allowed', actor: 'ana', reason: 'reads its token', indicatorId: 'a'.repeat(24), tsNs: (T0 + 9n).toString(), profileVersion: 3 })]);
    const [p] = await listProfiles(db, { workload: 'cgroup/soc-test/wl-a' });
    expect(p).toMatchObject({ status: 'completed', version: 2, completedBy: 'window', completedAtNs: (T0 + 7n * S).toString(), minLearningNs: '4000000000' });
    expect(await listProfiles(db, { updatedAfterNs: (T0 + 1n).toString() })).toEqual([]);
    const entries = await listEntries(db, { workload: 'cgroup/soc-test/wl-a' });
    expect(entries.map((e) => [e.kind, e.value, e.source, e.tsNs])).toEqual([
      ['syscall', 'getppid', 'learned', T0.toString()],
      ['syscall', 'brk', 'learned', (T0 + 1n).toString()],
      ['file', '/x/serviceaccount/token', 'allowed', (T0 + 9n).toString()],
    ]);
    expect(entries[2]).toMatchObject({ actor: 'ana', reason: 'reads its token', profileVersion: 3 });
    await insertDocument(db, { workload: 'k8s/shop/checkout-api/api', container: 'api', document: '{"a":1}', importedAtNs: T0.toString(), actor: 'ana', rowVersion: '1' });
    await insertDocument(db, { workload: 'k8s/shop/checkout-api/api', container: 'api', document: '{"a":2}', importedAtNs: T0.toString(), actor: 'bo', rowVersion: '2' });
    expect(await getDocument(db, 'k8s/shop/checkout-api/api')).toMatchObject({ document: '{"a":2}', actor: 'bo' });
    expect(await listDocumentWorkloads(db)).toEqual(['k8s/shop/checkout-api/api']);
    expect(await countBaselineRows(db)).toMatchObject({ profiles: 2 });
  });

  const indicator = (over: Partial<IndicatorRecord> = {}): IndicatorRecord => ({
    id: 'b'.repeat(24), tsNs: (T0 + 10n * S).toString(), lastSeenNs: (T0 + 10n * S).toString(), count: '1', node: NODE, execId: EXEC, lastExecId: EXEC, execIds: [EXEC],
    workload: 'cgroup/soc-test/wl-a', workloadKind: 'cgroup', executable: '/opt/soc/syscall_loop', kind: 'syscall', value: 'io_uring_setup', severity: 'high', deviation: true,
    rules: ['io_uring-first-use'], profileVersion: 2, profileStatus: 'completed', sentence: 'why', explanation: '{}', state: 'open', updatedAtNs: T0.toString(), rowVersion: '1', ...over,
  });

  it('folds an indicator in storage: the newest version of each id, listed by window and filters', async () => {
    await upsertIndicators(db, [indicator()]);
    await upsertIndicators(db, [indicator({ count: '3', lastSeenNs: (T0 + 20n * S).toString(), lastExecId: 'x', execIds: [EXEC, 'x', 'y'], rowVersion: '2' })]);
    await upsertIndicators(db, [indicator({ id: 'c'.repeat(24), kind: 'endpoint', value: '10.0.0.7:4444/tcp', severity: 'medium', rules: [], tsNs: (T0 + 30n * S).toString(), lastSeenNs: (T0 + 30n * S).toString() })]);
    const window = { fromNs: T0.toString(), toNs: (T0 + 60n * S).toString(), limit: 10 };
    const all = await listIndicators(db, window);
    expect(all.map((i) => [i.id[0], i.count])).toEqual([['c', '1'], ['b', '3']]);
    expect((await getIndicator(db, 'b'.repeat(24)))!).toMatchObject({ count: '3', execIds: [EXEC, 'x', 'y'], deviation: true, profileVersion: 2, rules: ['io_uring-first-use'] });
    expect((await listIndicators(db, { ...window, severity: 'high' })).map((i) => i.id[0])).toEqual(['b']);
    expect((await listIndicators(db, { ...window, severity: 'medium' })).map((i) => i.id[0])).toEqual(['c', 'b']);
    expect((await listIndicators(db, { ...window, kind: 'endpoint' })).map((i) => i.id[0])).toEqual(['c']);
    expect(await listIndicators(db, { ...window, workload: 'cgroup/other' })).toEqual([]);
    expect(await listIndicators(db, { ...window, node: 'node-b' })).toEqual([]);
    // Active in the window: first seen before its end, last seen after its start.
    expect((await listIndicators(db, { fromNs: (T0 + 15n * S).toString(), toNs: (T0 + 16n * S).toString(), limit: 10 })).map((i) => i.id[0])).toEqual(['b']);
    expect(await getIndicator(db, 'd'.repeat(24))).toBeNull();
  });

  it('runs the detector on storage: state written, loaded again after a restart', async () => {
    const i = inputs(NODE);
    const window = { minNs: 2n * S, quietNs: 1n * S, maxNs: 60n * S };
    const W = 'cgroup/soc-test/wl-c';
    const make = () => new Detector({ store: storageStore(async () => db), window, tickMs: 3_600_000, syncMs: 0 });
    const first = make();
    await first.process([i.exec(`${NODE}:0a1b2c3d:2000:200:1`, '/bin/true', W, T0), i.syscall(`${NODE}:0a1b2c3d:2000:200:1`, 'read', T0)]);
    await first.process([i.exec(`${NODE}:0a1b2c3d:3000:300:1`, '/bin/true', W, T0 + 10n * S), i.syscall(`${NODE}:0a1b2c3d:3000:300:1`, 'ptrace', T0 + 10n * S)]);
    await first.stop();
    const [ind] = await listIndicators(db, { fromNs: T0.toString(), toNs: (T0 + 60n * S).toString(), workload: W, limit: 10 });
    expect(ind).toMatchObject({ kind: 'syscall', value: 'ptrace', deviation: true, profileVersion: 2, count: '1' });
    const second = make();
    await second.start();
    expect(second.profiles.get(W, '/bin/true')!.state).toMatchObject({ status: 'completed', version: 2 });
    // An image of before the restart: looked up in storage (the processes view), and folded.
    await second.process([i.syscall(`${NODE}:0a1b2c3d:3000:300:1`, 'ptrace', T0 + 10n * S)]);
    expect(second.stats.unknownExec).toBe(1); // its exec was never stored (inputs only here)
    await second.stop();
    expect((await getIndicator(db, ind!.id))!.count).toBe('1');
  });
});
