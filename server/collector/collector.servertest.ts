import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { getInvestigation, upsertInvestigation } from '../../db/repositories/investigations';
import { openTestDb } from '../../db/testing';
import { nowNs } from '../../db/time';
import { ProbeSet } from '../../sensor/gen/soc/sensor/v1/sensor';
import { silentLogger } from '../../sensor/src/log';
import { startRecorder } from '../../sensor/src/recording';
import { Journal } from '../../sensor/src/stream/journal';
import { freePort, startSensorProcess, waitFor as waitUntil } from '../../sensor/src/testing/process';
import { syntheticEvents } from '../../sensor/src/testing/synthetic';
import { ensureCerts, type CertResult } from '../../sensor/src/tls/certs';
import { liveZoomControls } from '../zoom/control';
import { ZoomDirectory } from '../zoom/directory';
import { zoomPolicy } from '../zoom/policy';
import { investigationIdFor, ZoomService } from '../zoom/service';
import { adoptedInvestigationId } from './adoption';
import { getCollectorState, startCollector, stopCollector, type StartCollectorOptions } from './collector';
import { failingDb as failingStorage, firstSeqOf } from './testing';

// The collector against real storage (embedded chDB) and real sensor processes over mTLS: the
// fixture sensor (real journal + gRPC server, synthetic events: a transport test) and the real
// sensor CLI in replay mode. Each test uses its own sensor name, so they share one database.

let dir: string;
let certs: CertResult;
let testDb: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;
const children = new Set<ChildProcess>();

/** The fixture sensor (real journal and gRPC server, synthetic events) or the real sensor CLI. */
async function startSensor(kind: 'fixture' | 'cli', args: string[]) {
  const sensor = await startSensorProcess({ kind, args, env: certs.sensorEnv, echo: !!process.env.TEST_VERBOSE });
  children.add(sensor.child);
  void sensor.exited.then(() => children.delete(sensor.child));
  return sensor;
}
const startFixture = (args: string[]) => startSensor('fixture', args);
const startSensorCli = (args: string[]) => startSensor('cli', args);

function collect(sensors: string, options: Partial<StartCollectorOptions> = {}) {
  const logger = process.env.TEST_VERBOSE ? undefined : silentLogger;
  startCollector({ sensors, db, statusIntervalMs: 200, backoffInitialMs: 50, backoffMaxMs: 500, logger, ...options });
}

function link(name: string) {
  const state = getCollectorState().sensors.find((s) => s.name === name);
  if (!state) throw new Error(`no link ${name}`);
  return state;
}

function waitFor(what: string, condition: () => boolean | Promise<boolean>) {
  return waitUntil(what, condition, { timeoutMs: 45_000, context: () => JSON.stringify(getCollectorState()) });
}

async function eventStats(sensor: string, epoch?: string) {
  const [row] = await selectRows<{ rows: string; seqs: string; minSeq: string; maxSeq: string }>(db, {
    sql: `SELECT count() AS rows, uniqExact(epoch, seq) AS seqs, min(seq) AS minSeq, max(seq) AS maxSeq
          FROM process_events WHERE sensor = {sensor:String} AND ({epoch:String} = '' OR epoch = {epoch:String})`,
    params: { sensor, epoch: epoch ?? '' },
    tag: 'test',
  });
  return { rows: Number(row!.rows), seqs: Number(row!.seqs), minSeq: Number(row!.minSeq), maxSeq: Number(row!.maxSeq) };
}

async function batchRows(sensor: string): Promise<number> {
  const [row] = await selectRows<{ n: string }>(db, {
    sql: 'SELECT count() AS n FROM sensor_batches WHERE sensor = {sensor:String}',
    params: { sensor },
    tag: 'test',
  });
  return Number(row!.n);
}

async function gaps(sensor: string) {
  return selectRows<{ epoch: string; kind: string; from_seq: string; to_seq: string; count: string; detail: string }>(db, {
    sql: `SELECT epoch, toString(kind) AS kind, from_seq, to_seq, count, detail FROM sensor_gaps
          WHERE sensor = {sensor:String} ORDER BY ts`,
    params: { sensor },
    tag: 'test',
  });
}

interface UnitRow {
  epoch: string;
  first: number;
  last: number;
  events: number;
  processRows: number;
}

async function units(sensor: string): Promise<UnitRow[]> {
  const rows = await selectRows<{ epoch: string; first: string; last: string; events: number; processRows: number }>(db, {
    sql: `SELECT epoch, first_seq AS first, last_seq AS last, events, process_rows AS processRows
          FROM sensor_batches WHERE sensor = {sensor:String} ORDER BY received_at, first_seq`,
    params: { sensor },
    tag: 'test',
  });
  return rows.map((r) => ({ epoch: r.epoch, first: Number(r.first), last: Number(r.last), events: Number(r.events), processRows: Number(r.processRows) }));
}

/**
 * The unit protocol's invariants, from storage: units of one epoch never overlap, each unit's
 * range holds exactly its recorded rows (one per seq, none twice), and no stored row lies outside
 * a unit. Returns the units.
 */
async function expectUnitsConsistent(sensor: string, options: { incomplete?: string } = {}): Promise<UnitRow[]> {
  const all = await units(sensor);
  const perSeq = await selectRows<{ epoch: string; seq: string; n: string }>(db, {
    sql: `SELECT epoch, seq, count() AS n FROM process_events WHERE sensor = {sensor:String} GROUP BY epoch, seq`,
    params: { sensor },
    tag: 'test',
  });
  const stored = new Map(perSeq.map((r) => [`${r.epoch}:${r.seq}`, Number(r.n)]));
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
  const covered = new Set<string>();
  const byEpoch = new Map<string, UnitRow[]>();
  for (const unit of all) {
    byEpoch.set(unit.epoch, [...(byEpoch.get(unit.epoch) ?? []), unit]);
    expect(unit.events).toBe(unit.last - unit.first + 1);
    let present = 0;
    for (let seq = unit.first; seq <= unit.last; seq++) {
      const key = `${unit.epoch}:${seq}`;
      expect(covered.has(key)).toBe(false);
      covered.add(key);
      if (stored.has(key)) present++;
    }
    if (`${unit.epoch}:${unit.first}-${unit.last}` !== options.incomplete) expect(present).toBe(unit.processRows);
  }
  for (const key of stored.keys()) expect(covered.has(key)).toBe(true);
  for (const list of byEpoch.values()) {
    const sorted = [...list].sort((a, b) => a.first - b.first);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.first).toBeGreaterThan(sorted[i - 1]!.last);
  }
  return all;
}

/** Storage whose inserts into `table` fail for the units `fails` picks (see ./testing). */
const failingDb = (mode: 'before' | 'after', fails: (token: string) => boolean, table?: string) => failingStorage(db, mode, fails, table);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-collector-test-'));
  certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  Object.assign(process.env, certs.cockpitEnv);
  testDb = await openTestDb();
  db = testDb.db;
});

afterEach(async () => {
  await stopCollector();
  for (const child of children) child.kill('SIGKILL');
});

afterAll(async () => {
  await testDb?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('collector', () => {
  it('stores every batch in order, and a collector re-reading them from scratch stores nothing twice', async () => {
    const sensor = await startFixture(['--name', 'fx-a', '--events', '2000']);
    collect(`fx-a=localhost:${sensor.port}`);
    await waitFor('2000 events stored', () => link('fx-a').lastStoredSeq === '2000');
    expect(await eventStats('fx-a')).toEqual({ rows: 2000, seqs: 2000, minSeq: 1, maxSeq: 2000 });
    const batches = await batchRows('fx-a');
    expect(link('fx-a').batchesStored).toBeGreaterThanOrEqual(link('fx-a').unitsStored);
    expect(link('fx-a')).toMatchObject({ connected: true, epoch: sensor.epoch, rejectedBatches: 0 });
    await waitFor('status stored', async () => {
      const rows = await selectRows<{ mode: string }>(db, { sql: "SELECT mode FROM sensor_status WHERE sensor = 'fx-a'", tag: 'test' });
      return rows[0]?.mode === 'fixture';
    });
    await stopCollector();

    // From scratch: the whole stream again; the recorded units are formed again with the same
    // boundaries and dedup tokens (arrival timing differs: everything is there at once now).
    collect(`fx-a=localhost:${sensor.port}`, { resume: 'beginning' });
    await waitFor('the same 2000 events received again', () => link('fx-a').eventsStored === 2000);
    expect(await eventStats('fx-a')).toEqual({ rows: 2000, seqs: 2000, minSeq: 1, maxSeq: 2000 });
    expect(await batchRows('fx-a')).toBe(batches);
    await stopCollector();

    // Normal restart: resumes just before the newest unit (formed again, deduplicated), then
    // takes new events.
    const newest = (await units('fx-a')).sort((a, b) => b.last - a.last)[0]!;
    expect(newest.last).toBe(2000);
    collect(`fx-a=localhost:${sensor.port}`);
    await waitFor('connected and the newest unit formed again', () => link('fx-a').connected && link('fx-a').eventsStored === newest.events);
    sensor.child.stdin!.write('append 100\n');
    await waitFor('2100 stored', () => link('fx-a').lastStoredSeq === '2100');
    expect(link('fx-a').eventsStored).toBe(newest.events + 100);
    expect(await eventStats('fx-a')).toEqual({ rows: 2100, seqs: 2100, minSeq: 1, maxSeq: 2100 });
    await expectUnitsConsistent('fx-a');
  });

  it('loses nothing it received when the sensor is killed mid-stream, and records the restart', async () => {
    const first = await startFixture(['--name', 'fx-b', '--events', '20000', '--per-tick', '50', '--tick-ms', '5']);
    collect(`fx-b=localhost:${first.port}`);
    await waitFor('a status of the first epoch', () => link('fx-b').sensorStatus?.epoch === first.epoch);
    await waitFor('some events stored', () => Number(link('fx-b').lastStoredSeq ?? 0) >= 1000);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor('link down', () => !link('fx-b').connected);

    const second = await startFixture(['--name', 'fx-b', '--listen', `localhost:${first.port}`, '--events', '500']);
    expect(second.epoch).not.toBe(first.epoch);
    await waitFor('second epoch stored', () => link('fx-b').epoch === second.epoch && link('fx-b').lastStoredSeq === '500');

    // Everything received was stored: of the first epoch, contiguous from seq 1; nothing doubled.
    const state = link('fx-b');
    expect(state.eventsStored).toBe(state.eventsReceived);
    const storedOfFirst = state.eventsReceived - 500;
    expect(storedOfFirst).toBeGreaterThanOrEqual(1000);
    expect(storedOfFirst).toBeLessThan(20000);
    expect(await eventStats('fx-b', first.epoch)).toEqual({ rows: storedOfFirst, seqs: storedOfFirst, minSeq: 1, maxSeq: storedOfFirst });
    expect(await eventStats('fx-b', second.epoch)).toEqual({ rows: 500, seqs: 500, minSeq: 1, maxSeq: 500 });
    const restart = (await gaps('fx-b')).filter((g) => g.kind === 'restart');
    expect(restart).toHaveLength(1);
    expect(restart[0]).toMatchObject({ epoch: first.epoch, from_seq: String(storedOfFirst + 1) });
    // What the first epoch had reported in Status but never delivered (the sensor kept producing).
    const lost = Number(restart[0]!.count);
    expect(Number(restart[0]!.to_seq)).toBe(storedOfFirst + lost);
    expect(restart[0]!.detail).toContain(second.epoch);
    expect(link('fx-b').reconnects).toBeGreaterThan(0);
    await expectUnitsConsistent('fx-b');
  });

  it('records an inconsistent batch as rejected and goes on with the stream', async () => {
    const sensor = await startFixture(['--name', 'fx-c', '--events', '1000', '--bad-after', '300']);
    collect(`fx-c=localhost:${sensor.port}`);
    await waitFor('1000 stored', () => link('fx-c').lastStoredSeq === '1000');
    expect(link('fx-c').rejectedBatches).toBe(1);
    expect(await eventStats('fx-c')).toEqual({ rows: 1000, seqs: 1000, minSeq: 1, maxSeq: 1000 });
    const rejected = (await gaps('fx-c')).filter((g) => g.kind === 'rejected_batch');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.detail).toMatch(/does not match 2 event/);
  });

  it('stores nothing from a sensor that names itself differently, and says why', async () => {
    const sensor = await startFixture(['--name', 'fx-e', '--events', '100']);
    collect(`not-fx-e=localhost:${sensor.port}`);
    await waitFor('a reconnect after the mismatch', () => link('not-fx-e').reconnects >= 2);
    expect(link('not-fx-e').lastError).toMatch(/calls itself "fx-e", configured as "not-fx-e"/);
    expect(link('not-fx-e').batchesStored).toBe(0);
    expect(await eventStats('fx-e')).toMatchObject({ rows: 0 });
    expect(await eventStats('not-fx-e')).toMatchObject({ rows: 0 });
  });

  it('applies backpressure when storage stalls, with a bounded queue, and catches up after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let stalled = true;
    const stalledDb: Db = {
      ...db,
      rawExec: async (sql) => {
        if (stalled) await gate;
        return db.rawExec!(sql);
      },
    };
    const sensor = await startFixture(['--name', 'fx-d', '--events', '5000', '--per-tick', '500', '--tick-ms', '2']);
    // Memory held: 4 queued batches, one unit being filled (≤ 256 events), one closed unit waiting
    // for the one being stored.
    collect(`fx-d=localhost:${sensor.port}`, { db: stalledDb, queueBatches: 4, unitMaxEvents: 256 });
    await waitFor('stream paused by a full queue', () => link('fx-d').paused);
    await new Promise((r) => setTimeout(r, 500));
    expect(link('fx-d').queueDepth).toBeLessThanOrEqual(4);
    expect(link('fx-d').eventsReceived).toBeLessThan(5000);
    expect(link('fx-d').batchesStored).toBe(0);
    stalled = false;
    release();
    await waitFor('5000 stored', () => link('fx-d').lastStoredSeq === '5000');
    expect(await eventStats('fx-d')).toEqual({ rows: 5000, seqs: 5000, minSeq: 1, maxSeq: 5000 });
    expect((await expectUnitsConsistent('fx-d')).every((u) => u.events <= 256)).toBe(true);
  });
});

describe('collector units: exactly once through crashes and re-reads', () => {
  it('redoes a unit whose intent was recorded but whose data insert never happened (crash in between)', async () => {
    const sensor = await startFixture(['--name', 'fx-f', '--events', '3000', '--per-tick', '100', '--tick-ms', '5']);
    const failing = failingDb('before', (token) => firstSeqOf(token) > 1000);
    collect(`fx-f=localhost:${sensor.port}`, { db: failing.db, unitMaxEvents: 300, unitEager: false, unitMaxDelayMs: 20 });
    await waitFor('a data insert failing', () => failing.hits.length > 0 && /storage: store unit/.test(link('fx-f').lastError ?? ''));
    await stopCollector(); // the "crash": the unit's intent row is there, its events are not
    const token = failing.hits[0]!;
    const incomplete = token.slice('fx-f:'.length);
    const recorded = await units('fx-f');
    const newest = recorded.sort((a, b) => b.last - a.last)[0]!;
    expect(`${newest.epoch}:${newest.first}-${newest.last}`).toBe(incomplete);
    expect((await eventStats('fx-f')).maxSeq).toBe(newest.first - 1);
    await expectUnitsConsistent('fx-f', { incomplete });

    // Restarted with other unit limits: the first unit is exactly the recorded one again.
    collect(`fx-f=localhost:${sensor.port}`, { unitMaxEvents: 5000, unitMaxDelayMs: 200 });
    await waitFor('3000 stored', () => link('fx-f').lastStoredSeq === '3000');
    expect(await eventStats('fx-f')).toEqual({ rows: 3000, seqs: 3000, minSeq: 1, maxSeq: 3000 });
    const after = await expectUnitsConsistent('fx-f');
    expect(after.filter((u) => u.first === newest.first)).toEqual([newest]);
    expect((await gaps('fx-f')).filter((g) => g.kind === 'unit_shortfall')).toEqual([]);
  });

  it('stores nothing twice when the collector died right after a data insert', async () => {
    const sensor = await startFixture(['--name', 'fx-g', '--events', '3000', '--per-tick', '100', '--tick-ms', '5']);
    const failing = failingDb('after', (token) => firstSeqOf(token) > 1000);
    collect(`fx-g=localhost:${sensor.port}`, { db: failing.db, unitMaxEvents: 300, unitEager: false, unitMaxDelayMs: 20 });
    await waitFor('a data insert failing after it stored', () => failing.hits.length > 1);
    await stopCollector();
    const newest = (await units('fx-g')).sort((a, b) => b.last - a.last)[0]!;
    // The retries were deduplicated: the unit's rows are there once.
    expect(await eventStats('fx-g')).toEqual({ rows: newest.last, seqs: newest.last, minSeq: 1, maxSeq: newest.last });

    collect(`fx-g=localhost:${sensor.port}`, { unitMaxEvents: 64, unitEager: true });
    await waitFor('3000 stored', () => link('fx-g').lastStoredSeq === '3000');
    expect(await eventStats('fx-g')).toEqual({ rows: 3000, seqs: 3000, minSeq: 1, maxSeq: 3000 });
    const after = await expectUnitsConsistent('fx-g');
    expect(after.filter((u) => u.first === newest.first)).toEqual([newest]);
  });

  it('records the shortfall of an incomplete unit it can no longer redo (the sensor restarted meanwhile)', async () => {
    const first = await startFixture(['--name', 'fx-h', '--events', '2000', '--per-tick', '100', '--tick-ms', '5']);
    const failing = failingDb('before', (token) => firstSeqOf(token) > 600);
    collect(`fx-h=localhost:${first.port}`, { db: failing.db, unitMaxEvents: 300, unitEager: false, unitMaxDelayMs: 20 });
    await waitFor('a data insert failing', () => failing.hits.length > 0 && /storage: store unit/.test(link('fx-h').lastError ?? ''));
    await stopCollector();
    const lost = (await units('fx-h')).sort((a, b) => b.last - a.last)[0]!;
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startFixture(['--name', 'fx-h', '--listen', `localhost:${first.port}`, '--events', '200']);
    collect(`fx-h=localhost:${second.port}`);
    await waitFor('second epoch stored', () => link('fx-h').epoch === second.epoch && link('fx-h').lastStoredSeq === '200');
    const recorded = await gaps('fx-h');
    expect(recorded.filter((g) => g.kind === 'unit_shortfall')).toEqual([
      expect.objectContaining({ epoch: first.epoch, from_seq: String(lost.first), to_seq: String(lost.last), count: String(lost.processRows) }),
    ]);
    expect(recorded.filter((g) => g.kind === 'restart')).toEqual([expect.objectContaining({ epoch: first.epoch, from_seq: String(lost.last + 1) })]);
    expect(await eventStats('fx-h', first.epoch)).toMatchObject({ rows: lost.first - 1, maxSeq: lost.first - 1 });
    expect(await eventStats('fx-h', second.epoch)).toEqual({ rows: 200, seqs: 200, minSeq: 1, maxSeq: 200 });
    await expectUnitsConsistent('fx-h', { incomplete: `${lost.epoch}:${lost.first}-${lost.last}` });
  });

  it('re-reads from the beginning with other arrival timing and stores nothing twice', async () => {
    const sensor = await startFixture(['--name', 'fx-i', '--events', '4000', '--per-tick', '64', '--tick-ms', '5']);
    // Part of the stream, in small units formed by time…
    collect(`fx-i=localhost:${sensor.port}`, { unitMaxEvents: 500, unitEager: false, unitMaxDelayMs: 15 });
    await waitFor('some stored', () => Number(link('fx-i').lastStoredSeq ?? 0) >= 1500);
    await stopCollector();
    const before = await units('fx-i');
    const storedBefore = Math.max(...before.map((u) => u.last));
    expect(storedBefore).toBeLessThan(4000);
    // Consecutive sensor batches (64 events each) were stored together.
    expect(before.some((u) => u.events > 64)).toBe(true);
    // …then everything again from the beginning, all at once, in large eager units.
    await waitFor('the sensor has appended everything', () => sensor.lines.some((l) => l.includes('"appended":4000')));
    collect(`fx-i=localhost:${sensor.port}`, { resume: 'beginning', unitMaxEvents: 16384, unitEager: true, unitMaxDelayMs: 1000 });
    await waitFor('4000 stored', () => link('fx-i').lastStoredSeq === '4000');
    expect(link('fx-i').eventsStored).toBe(4000);
    expect(await eventStats('fx-i')).toEqual({ rows: 4000, seqs: 4000, minSeq: 1, maxSeq: 4000 });
    const after = await expectUnitsConsistent('fx-i');
    // The units recorded first were formed again exactly; the rest are new and larger.
    const key = (u: UnitRow) => `${u.first}-${u.last}`;
    expect(after.filter((u) => u.last <= storedBefore).map(key)).toEqual(before.map(key));
  });

  it('never lets a unit span two epochs', async () => {
    const first = await startFixture(['--name', 'fx-j', '--events', '20000', '--per-tick', '50', '--tick-ms', '5']);
    // Units as large and slow as possible: a unit would have every chance to swallow a restart.
    collect(`fx-j=localhost:${first.port}`, { unitMaxEvents: 100_000, unitEager: false, unitMaxDelayMs: 60_000 });
    await waitFor('some events received', () => link('fx-j').eventsReceived >= 1000);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor('link down', () => !link('fx-j').connected);
    const ofFirst = link('fx-j').eventsReceived;
    const second = await startFixture(['--name', 'fx-j', '--listen', `localhost:${first.port}`, '--events', '300']);
    await waitFor('the second epoch received', () => link('fx-j').eventsReceived >= ofFirst + 300);
    expect(link('fx-j').epoch).toBe(first.epoch); // nothing of the second stored yet: its unit is open
    await stopCollector(); // the open unit of the second epoch is dropped, not stored
    collect(`fx-j=localhost:${second.port}`, { unitMaxEvents: 100_000, unitEager: false, unitMaxDelayMs: 50 });
    await waitFor('300 of the second epoch stored', () => link('fx-j').lastStoredSeq === '300' && link('fx-j').epoch === second.epoch);
    const all = await expectUnitsConsistent('fx-j');
    expect(new Set(all.map((u) => u.epoch))).toEqual(new Set([first.epoch, second.epoch]));
    const firstEpoch = all.filter((u) => u.epoch === first.epoch);
    expect(firstEpoch).toHaveLength(1); // the whole first stream, closed when it ended
    expect(await eventStats('fx-j', first.epoch)).toMatchObject({ rows: firstEpoch[0]!.events, minSeq: 1 });
    expect(await eventStats('fx-j', second.epoch)).toEqual({ rows: 300, seqs: 300, minSeq: 1, maxSeq: 300 });
    // Seen by both collectors, recorded once.
    expect((await gaps('fx-j')).filter((g) => g.kind === 'restart')).toHaveLength(1);
  });
});

describe('collector units with zoom-in evidence', () => {
  const ZOOM = 'z-synthetic-1';
  const INVESTIGATION = 'feedfacefeedfacefeedface';
  const EVIDENCE = ['io_uring_ops', 'socket_events', 'file_accesses'] as const;

  async function evidenceStats(sensor: string) {
    const [row] = await selectRows<{ rows: string; seqs: string; untagged: string }>(db, {
      sql: `SELECT count() AS rows, uniqExact(epoch, seq) AS seqs, countIf(investigation_id != {inv:String} OR zoom_id != {zoom:String}) AS untagged FROM (
              ${EVIDENCE.map((t) => `SELECT epoch, seq, investigation_id, zoom_id FROM ${t} WHERE sensor = {sensor:String}`).join(' UNION ALL ')})`,
      params: { sensor, inv: INVESTIGATION, zoom: ZOOM },
      tag: 'test',
    });
    const [intent] = await selectRows<{ evidence: string; zoomRows: string; events: string }>(db, {
      sql: `SELECT sum(evidence_rows) AS evidence, sum(zoom_rows) AS zoomRows, sum(events) AS events FROM sensor_batches WHERE sensor = {sensor:String}`,
      params: { sensor },
      tag: 'test',
    });
    return { rows: Number(row!.rows), seqs: Number(row!.seqs), untagged: Number(row!.untagged), intentEvidence: Number(intent!.evidence), intentZoomRows: Number(intent!.zoomRows), events: Number(intent!.events) };
  }

  it('stores evidence inside its units exactly once through a crash between inserts, tagged with the investigation after a restart too', async () => {
    // 3000 events: the zoom's first state, then evidence (3 of every 4) and process events.
    // The zoom is this cockpit's: its investigation exists here (else the collector would adopt it).
    await upsertInvestigation(db, {
      id: INVESTIGATION, title: 'transport test', status: 'open', trigger: 'manual', createdAtNs: String(nowNs()), updatedAtNs: String(nowNs()), createdBy: 'test',
      indicatorIds: [], node: 'fx-z', workload: '', execId: '', rowVersion: '1',
    });
    const sensor = await startFixture(['--name', 'fx-z', '--events', '3000', '--per-tick', '100', '--tick-ms', '5', '--zoom', `${ZOOM}:${INVESTIGATION}`]);
    const failing = failingDb('after', (token) => firstSeqOf(token) > 1000, 'socket_events');
    collect(`fx-z=localhost:${sensor.port}`, { db: failing.db, unitMaxEvents: 300, unitEager: false, unitMaxDelayMs: 20, zoomDirectory: new ZoomDirectory() });
    await waitFor('an evidence insert failing after it stored', () => failing.hits.length > 1);
    await stopCollector();
    // A new collector — nothing in memory about the zoom: the mapping comes from storage.
    collect(`fx-z=localhost:${sensor.port}`, { unitMaxEvents: 64, zoomDirectory: new ZoomDirectory() });
    await waitFor('3000 stored', () => link('fx-z').lastStoredSeq === '3000');
    const expected = Array.from({ length: 2999 }, (_, i) => i + 1).filter((index) => index % 4 !== 3).length; // 2249
    const stats = await evidenceStats('fx-z');
    expect(stats).toEqual({ rows: expected, seqs: expected, untagged: 0, intentEvidence: expected, intentZoomRows: 1, events: 3000 });
    expect(await eventStats('fx-z')).toMatchObject({ rows: 3000 - 1 - expected });
    await expectUnitsConsistent('fx-z');
    // The zoom's state is in storage, with its investigation.
    const [zoom] = await selectRows<{ status: string; investigation_id: string }>(db, {
      sql: `SELECT toString(status) AS status, investigation_id FROM zooms FINAL WHERE zoom_id = {z:String}`,
      params: { z: ZOOM },
      tag: 'test',
    });
    expect(zoom).toEqual({ status: 'ordered', investigation_id: INVESTIGATION });
  });
});

describe('collector adopting zooms it did not order (a replayed recording\'s)', () => {
  it('stores their evidence exactly once under an investigation of this cockpit, the same one after a crash and a restart', async () => {
    const zoomId = 'z-recorded-1';
    const named = 'abcabcabcabcabcabcabcabc'; // the recording run's investigation: not in this cockpit
    const sensor = await startFixture(['--name', 'fx-adopt', '--events', '2000', '--per-tick', '100', '--tick-ms', '5', '--zoom', `${zoomId}:${named}`]);
    const failing = failingDb('after', (token) => firstSeqOf(token) > 800, 'file_accesses');
    collect(`fx-adopt=localhost:${sensor.port}`, { db: failing.db, unitMaxEvents: 200, unitEager: false, unitMaxDelayMs: 20, zoomDirectory: new ZoomDirectory(), adoptionGraceMs: 200 });
    await waitFor('an evidence insert failing after it stored', () => failing.hits.length > 1);
    await stopCollector();
    collect(`fx-adopt=localhost:${sensor.port}`, { unitMaxEvents: 64, zoomDirectory: new ZoomDirectory(), adoptionGraceMs: 200 });
    await waitFor('2000 stored', () => link('fx-adopt').lastStoredSeq === '2000');
    const adopted = adoptedInvestigationId('fx-adopt', zoomId);
    const [evidence] = await selectRows<{ rows: string; seqs: string; investigations: string[] }>(db, {
      sql: `SELECT count() AS rows, uniqExact(epoch, seq) AS seqs, groupUniqArray(investigation_id) AS investigations FROM (
              SELECT epoch, seq, investigation_id FROM io_uring_ops WHERE sensor = 'fx-adopt'
              UNION ALL SELECT epoch, seq, investigation_id FROM socket_events WHERE sensor = 'fx-adopt'
              UNION ALL SELECT epoch, seq, investigation_id FROM file_accesses WHERE sensor = 'fx-adopt')`,
      params: {},
      tag: 'test',
    });
    const expected = Array.from({ length: 1999 }, (_, i) => i + 1).filter((index) => index % 4 !== 3).length;
    expect({ rows: Number(evidence!.rows), seqs: Number(evidence!.seqs), investigations: evidence!.investigations }).toEqual({ rows: expected, seqs: expected, investigations: [adopted] });
    const [zoom] = await selectRows<{ investigation_id: string }>(db, {
      sql: 'SELECT investigation_id FROM zooms FINAL WHERE zoom_id = {z:String}',
      params: { z: zoomId },
      tag: 'test',
    });
    expect(zoom).toEqual({ investigation_id: adopted });
    const investigation = await getInvestigation(db, adopted);
    expect(investigation).toMatchObject({ status: 'open', node: 'fx-adopt', createdBy: 'recording replayed by sensor fx-adopt' });
    expect(await getInvestigation(db, named)).toBeNull();
  });
});

describe('collector with the sensor CLI in replay mode', () => {
  it('stores a replayed recording once, and a --shift-to-now replay as a new epoch', async () => {
    // A recording written by the sensor's recorder from a journal of synthetic events (temp file,
    // never committed): it tests the replay transport, not what a sensor observes.
    const file = path.join(dir, 'replay.socrec');
    const journal = new Journal({ sensor: 'rec-a', maxBatchEvents: 100, maxBatchDelayMs: 0 });
    const recorder = startRecorder({ file, journal, node: 'rec-a', kernelRelease: 'test', startedAtNs: '1' });
    journal.append(syntheticEvents(750, { node: 'rec-a' }));
    journal.close();
    await recorder.done();

    const port = await freePort();
    const replay = await startSensorCli(['--replay', file, '--speed', 'max', '--listen', `localhost:${port}`]);
    expect(replay.epoch).toBe(journal.epoch);
    collect(`rec-a=localhost:${port}`);
    await waitFor('750 stored', () => link('rec-a').lastStoredSeq === '750');
    await waitFor('replay status', () => link('rec-a').sensorStatus?.mode === 'replay');
    // A replay has no kernel side: a zoom order is refused, clearly, and recorded as a failed order.
    const refusal = (await liveZoomControls.forSensor('rec-a')!.zoomIn({
      target: { target: { $case: 'execId', value: 'rec-a:boot:1:1:1' } }, probes: [ProbeSet.PROBE_SET_IO_URING], ttlS: 10, maxEvents: '10',
      payloadPrefixBytes: 64, maxEventsPerS: 10, investigationId: '', requestedBy: 'test', reason: 'test',
    }).catch((e: unknown) => e)) as { code?: number; details?: string };
    expect(refusal.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refusal.details).toBe('ZoomIn: this sensor has no kernel side (it serves a recording): zoom-in needs a live sensor');
    const [exec] = await selectRows<{ execId: string; node: string }>(db, {
      sql: `SELECT exec_id AS execId, toString(node) AS node FROM process_events WHERE sensor = 'rec-a' AND kind = 'exec' LIMIT 1`,
      params: {},
      tag: 'test',
    });
    const service = new ZoomService({ controls: liveZoomControls, policy: () => zoomPolicy({}), directory: new ZoomDirectory(), now: nowNs, log: silentLogger });
    const at = nowNs().toString();
    const outcome = await service.autoZoom(db, {
      id: 'ind-replay-1', tsNs: at, lastSeenNs: at, count: '1', node: exec!.node, execId: exec!.execId, lastExecId: exec!.execId, execIds: [exec!.execId],
      workload: 'cgroup/replayed', workloadKind: 'cgroup', executable: '/usr/bin/node', kind: 'syscall', value: 'io_uring_setup', severity: 'high',
      deviation: true, rules: ['io_uring-first-use'], profileVersion: 2, profileStatus: 'completed', sentence: 'test', explanation: '{}', state: 'open',
      updatedAtNs: at, rowVersion: at,
    }, BigInt(at));
    expect(outcome).toMatchObject({ outcome: 'refused', investigationId: investigationIdFor('ind-replay-1') });
    const orders = await selectRows<{ outcome: string; error: string }>(db, {
      sql: `SELECT toString(outcome) AS outcome, error FROM zoom_orders WHERE indicator_id = 'ind-replay-1'`,
      params: {},
      tag: 'test',
    });
    expect(orders).toHaveLength(1);
    expect(orders[0]!.outcome).toBe('refused');
    expect(orders[0]!.error).toMatch(/no kernel side \(it serves a recording\)/);
    await stopCollector();
    collect(`rec-a=localhost:${port}`, { resume: 'beginning' });
    await waitFor('received again', () => link('rec-a').eventsStored === 750);
    expect(await eventStats('rec-a')).toEqual({ rows: 750, seqs: 750, minSeq: 1, maxSeq: 750 });
    replay.child.kill('SIGTERM');
    expect(await replay.exited).toBe(0);
    await waitFor('link down', () => !link('rec-a').connected);

    const shifted = await startSensorCli(['--replay', file, '--speed', 'max', '--shift-to-now', '--listen', `localhost:${port}`]);
    expect(shifted.epoch).not.toBe(journal.epoch);
    await waitFor('shifted epoch stored', () => link('rec-a').epoch === shifted.epoch && link('rec-a').lastStoredSeq === '750');
    expect(await eventStats('rec-a', shifted.epoch)).toMatchObject({ rows: 750, seqs: 750 });
    const [latest] = await selectRows<{ ageS: string }>(db, {
      sql: `SELECT dateDiff('second', max(ts), now64(9)) AS ageS FROM process_events WHERE epoch = {epoch:String}`,
      params: { epoch: shifted.epoch },
      tag: 'test',
    });
    expect(Math.abs(Number(latest!.ageS))).toBeLessThan(120);
    expect((await gaps('rec-a')).some((g) => g.kind === 'restart' && g.epoch === journal.epoch)).toBe(true);
  });
});
