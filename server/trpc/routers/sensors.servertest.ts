import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSensorStatus, storeEventBatch } from '../../../db/repositories/sensorStream';
import { openTestDb } from '../../../db/testing';
import type { LiveSensorSource } from '../../sensors/live';
import { createCaller } from '../root';
import { eventBatch, eventFactory, sensorStatus, testContext } from '../testing';

// The sensors API over real storage: stored status and stream health, gaps, the configured list,
// and the collector's live state merged on top (a fake here; the collector has its own tests).
const NOW = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n;
const T0 = NOW - 600n * 1_000_000_000n;
const ev = eventFactory('node-a', T0);
const configured = [
  { name: 'local', address: 'localhost:50051' },
  { name: 'replay', address: 'localhost:50052' },
  { name: 'silent', address: 'localhost:50053' },
];

const localStatus = sensorStatus({
  sensor: 'local',
  mode: 'live',
  epoch: 'epoch-live',
  programs: [
    { name: 'handle_exec', attachType: 'tp_btf', attached: true, error: '', onPurpose: false },
    { name: 'trace_kprobe', attachType: 'kprobe', attached: false, error: 'kprobes not supported by this kernel', onPurpose: false },
    { name: 'zoom_uring_submit', attachType: 'tp_btf', attached: false, error: 'loaded, attached on demand', onPurpose: true },
  ],
  eventsTotal: '42',
  lastSeq: '42',
  droppedKernel: '2',
  droppedUser: '0',
  startedAtNs: T0.toString(),
  uptimeNs: '600000000000',
});

describe('sensors router', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;

  beforeAll(async () => {
    t = await openTestDb();
    await recordSensorStatus(t.db, localStatus, NOW - 5_000_000_000n);
    await recordSensorStatus(t.db, sensorStatus({ sensor: 'replay', mode: 'replay', epoch: 'epoch-replay', recording: 'process-chain.socrec', startedAtNs: T0.toString() }), NOW - 4_000_000_000n);
    await storeEventBatch(
      t.db,
      eventBatch('local', 'epoch-live', 1, [ev.exec('node-a:0a1b2c3d:1:100:1', '', 100, 1, 0, '/usr/bin/true', ['true'])]),
      NOW - 3_000_000_000n,
    );
    await storeEventBatch(
      t.db,
      eventBatch('local', 'epoch-live', 40, [ev.exit('node-a:0a1b2c3d:1:100:1', 100, 5, 0)], { gap: true, missing: '38', dropped: '2', droppedKernel: '2' }),
      NOW - 2_000_000_000n,
    );
  });
  afterAll(async () => t?.close());

  const live: LiveSensorSource = {
    connections: () => [
      { name: 'local', address: 'localhost:50051', connected: true, epoch: 'epoch-live', lastStoredSeq: '40', lastError: null, reconnects: 2 },
      { name: 'replay', address: 'localhost:50052', connected: false, epoch: null, lastStoredSeq: null, lastError: 'connection refused', reconnects: 5 },
    ],
    status: async () => null,
  };

  it('lists configured sensors in order with stored status, stream health and live connection', async () => {
    const api = createCaller(testContext({ as: 'viewer', db: t.db, configured, live, nowNs: NOW }));
    const { sensors } = await api.sensors.list();
    expect(sensors.map((s) => s.name)).toEqual(['local', 'replay', 'silent']);

    const [local, replay, silent] = sensors;
    expect(local).toMatchObject({
      address: 'localhost:50051',
      configured: true,
      connection: { state: 'connected', lastError: null, reconnects: 2 },
      lastStoredSeq: '40',
      stream: { lastEpoch: 'epoch-live', lastStoredSeq: '40', batches: '2', events: '2', epochs: 1, lastReceivedNs: (NOW - 2_000_000_000n).toString() },
      window: { fromNs: (NOW - 24n * 3_600_000_000_000n).toString(), toNs: NOW.toString() },
    });
    expect(local!.status).toEqual({
      source: 'stored',
      observedAtNs: (NOW - 5_000_000_000n).toString(),
      node: 'node-a',
      mode: 'live',
      epoch: 'epoch-live',
      kernelRelease: '6.18.0-test',
      btfAvailable: true,
      version: '0.1.0',
      programs: localStatus.programs,
      programsAttached: 1,
      eventsTotal: '42',
      lastSeq: '42',
      droppedKernel: '2',
      droppedUser: '0',
      uptimeNs: '600000000000',
      startedAtNs: T0.toString(),
      recording: '',
    });
    expect(replay).toMatchObject({
      connection: { state: 'disconnected', lastError: 'connection refused', reconnects: 5 },
      status: { mode: 'replay', programs: [], programsAttached: 0, droppedKernel: '0', droppedUser: '0', recording: 'process-chain.socrec' },
      stream: null,
      lastStoredSeq: null,
    });
    expect(silent).toEqual({
      name: 'silent',
      address: 'localhost:50053',
      configured: true,
      connection: { state: 'unknown', lastError: null, reconnects: null },
      status: null,
      stream: null,
      lastStoredSeq: null,
      window: local!.window,
    });
  });

  it('falls back to storage alone when no collector runs, and lists unconfigured stored sensors after', async () => {
    const api = createCaller(testContext({ as: 'viewer', db: t.db, configured: [configured[2]!], nowNs: NOW }));
    const { sensors } = await api.sensors.list();
    expect(sensors.map((s) => [s.name, s.configured, s.connection.state, s.lastStoredSeq])).toEqual([
      ['silent', true, 'unknown', null],
      ['local', false, 'unknown', '40'],
      ['replay', false, 'unknown', null],
    ]);
  });

  it('shows one sensor with its gaps and drops', async () => {
    const api = createCaller(testContext({ as: 'viewer', db: t.db, configured, live, nowNs: NOW }));
    const local = await api.sensors.status({ name: 'local' });
    expect(local.gapsTruncated).toBe(false);
    // Both were recorded from one batch, at the same instant: compare without order.
    expect(local.gaps.map((g) => [g.kind, g.count, g.fromSeq, g.toSeq, g.epoch, g.tsNs]).sort()).toEqual([
      ['kernel_drop', '2', '40', '40', 'epoch-live', ev.ns(5)],
      ['seq_gap', '38', '2', '39', 'epoch-live', ev.ns(5)],
    ]);
    expect((await api.sensors.status({ name: 'replay' })).gaps).toEqual([]);
  });

  it('prefers a live status over the stored one', async () => {
    const fresh = sensorStatus({ sensor: 'local', mode: 'live', epoch: 'epoch-live', droppedKernel: '7', lastSeq: '99' });
    const api = createCaller(testContext({ as: 'viewer', db: t.db, configured, nowNs: NOW, live: { ...live, status: async (name) => (name === 'local' ? fresh : null) } }));
    const local = await api.sensors.status({ name: 'local' });
    expect(local.status).toMatchObject({ source: 'live', observedAtNs: NOW.toString(), droppedKernel: '7', lastSeq: '99' });
  });

  it('answers NOT_FOUND for a sensor nobody knows, BAD_REQUEST for a malformed name', async () => {
    const api = createCaller(testContext({ as: 'viewer', db: t.db, configured, nowNs: NOW }));
    await expect(api.sensors.status({ name: 'nobody' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no sensor named nobody (not configured, nothing stored)',
    });
    await expect(api.sensors.status({ name: '../etc' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
