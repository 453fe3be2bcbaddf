import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { silentLogger } from '../../sensor/src/log';
import { startRecorder } from '../../sensor/src/recording';
import { Journal } from '../../sensor/src/stream/journal';
import { freePort, startSensorProcess, waitFor as waitUntil } from '../../sensor/src/testing/process';
import { syntheticEvents } from '../../sensor/src/testing/synthetic';
import { ensureCerts, type CertResult } from '../../sensor/src/tls/certs';
import { getCollectorState, startCollector, stopCollector, type StartCollectorOptions } from './collector';

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
    expect(link('fx-a')).toMatchObject({ connected: true, epoch: sensor.epoch, rejectedBatches: 0 });
    await waitFor('status stored', async () => {
      const rows = await selectRows<{ mode: string }>(db, { sql: "SELECT mode FROM sensor_status WHERE sensor = 'fx-a'", tag: 'test' });
      return rows[0]?.mode === 'fixture';
    });
    await stopCollector();

    // From scratch: the whole stream again, same batch boundaries, same dedup tokens.
    collect(`fx-a=localhost:${sensor.port}`, { resume: 'beginning' });
    await waitFor('the same 2000 events received again', () => link('fx-a').eventsStored === 2000);
    expect(await eventStats('fx-a')).toEqual({ rows: 2000, seqs: 2000, minSeq: 1, maxSeq: 2000 });
    expect(await batchRows('fx-a')).toBe(batches);
    await stopCollector();

    // Normal restart: resumes after what is stored, then takes new events.
    collect(`fx-a=localhost:${sensor.port}`);
    await waitFor('connected', () => link('fx-a').connected);
    sensor.child.stdin!.write('append 100\n');
    await waitFor('2100 stored', () => link('fx-a').lastStoredSeq === '2100');
    expect(link('fx-a').eventsStored).toBe(100);
    expect(await eventStats('fx-a')).toEqual({ rows: 2100, seqs: 2100, minSeq: 1, maxSeq: 2100 });
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
      rawInsert: async (params) => {
        if (stalled) await gate;
        return db.rawInsert!(params);
      },
    };
    const sensor = await startFixture(['--name', 'fx-d', '--events', '5000', '--per-tick', '500', '--tick-ms', '2']);
    collect(`fx-d=localhost:${sensor.port}`, { db: stalledDb, queueBatches: 4 });
    await waitFor('stream paused by a full queue', () => link('fx-d').paused);
    await new Promise((r) => setTimeout(r, 500));
    expect(link('fx-d').queueDepth).toBeLessThanOrEqual(4);
    expect(link('fx-d').batchesStored).toBe(0);
    stalled = false;
    release();
    await waitFor('5000 stored', () => link('fx-d').lastStoredSeq === '5000');
    expect(await eventStats('fx-d')).toEqual({ rows: 5000, seqs: 5000, minSeq: 1, maxSeq: 5000 });
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
