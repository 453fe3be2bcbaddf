import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZoomStatus } from '../../sensor/gen/soc/sensor/v1/sensor';
import { eventBatch } from '../../server/trpc/testing';
import { ZoomDirectory } from '../../server/zoom/directory';
import { beaconFrame, beaconZoomEvents, zoomMessage, type BeaconScenario } from '../../server/zoom/testing';
import type { Db } from '../client';
import { selectRows } from '../query';
import { openTestDb } from '../testing';
import { loadInvestigationEvidence } from './evidence';
import { countUnitRows, getResumePoint, storeEventBatch, unitDataRows } from './sensorStream';
import { getZoom, listZooms, upsertZoomState } from './zooms';

// Zoom-in evidence on the real embedded engine: stored inside the collector's units (the unit's
// token, counted by its intent, exactly once), each row tagged with its zoom and — mapped when
// stored, also across units and restarts — the zoom's investigation; zoom lifecycles whose newest
// state wins whatever order the rows arrive in; the reads of one investigation's evidence.
const NODE = 'node-z';
const S = 1_000_000_000n;
const T0 = BigInt(Math.floor(Date.now() / 1000) - 300) * S;
const EXEC = `${NODE}:0a1b2c3d:1000:4242:1`;

const scenario = (over: Partial<BeaconScenario> = {}): BeaconScenario => ({
  node: NODE,
  execId: EXEC,
  pid: 4242,
  zoomId: 'z-0123456789abcdef-1',
  investigationId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  t0Ns: T0,
  tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  token: 'eyJhbGciOi.not-a-real-token\n',
  binary: '/opt/test/uring_beacon',
  destination: { address: '10.0.3.7', port: 4444 },
  frames: 6,
  intervalMs: 1000,
  payload: 'exfil:t0ken-bytes',
  ...over,
});

describe('zoom-in storage', () => {
  let t: Awaited<ReturnType<typeof openTestDb>>;
  let db: Db;
  beforeAll(async () => {
    t = await openTestDb();
    db = t.db;
  });
  afterAll(async () => t?.close());

  async function count(table: string, where: string): Promise<number> {
    const [row] = await selectRows<{ n: string }>(db, { sql: `SELECT count() AS n FROM ${table} WHERE ${where}`, tag: 'test' });
    return Number(row!.n);
  }

  it('stores evidence inside the unit, counted by its intent, once however often the unit is stored', async () => {
    const s = scenario();
    const events = beaconZoomEvents(s);
    const batch = eventBatch('zs-a', 'e1', 1, events);
    await storeEventBatch(db, batch, T0);
    await storeEventBatch(db, batch, T0); // a retried unit: same token, nothing doubled
    const resume = await getResumePoint(db, 'zs-a');
    // 4 + 6 io_uring requests, 3 file accesses, 2 + 6 socket events, 1 fingerprint; 3 zoom states
    expect(resume!.unit).toMatchObject({ processRows: 0, factRows: 0, counterRows: 0, evidenceRows: 10 + 3 + 8 + 1, zoomRows: 3 });
    expect(unitDataRows(resume!.unit)).toBe(22);
    expect(await countUnitRows(db, resume!.unit)).toBe(22);
    const where = "sensor = 'zs-a'";
    expect(await count('io_uring_ops', where)).toBe(10);
    expect(await count('file_accesses', where)).toBe(3);
    expect(await count('socket_events', where)).toBe(8);
    expect(await count('code_fingerprints', where)).toBe(1);
    // Every row carries its zoom and, mapped from the zoom's first state, its investigation.
    for (const table of ['io_uring_ops', 'file_accesses', 'socket_events', 'code_fingerprints']) {
      expect(await count(table, `${where} AND (zoom_id != {z:String} OR investigation_id != {i:String})`.replace('{z:String}', `'${s.zoomId}'`).replace('{i:String}', `'${s.investigationId}'`))).toBe(0);
    }
    // Field by field: results (negative too), payload bytes exact, enums, times.
    const [read] = await selectRows<Record<string, unknown>>(db, {
      sql: `SELECT opcode, fd, path, toString(result) AS result, toString(bytes) AS bytes, arrayStringConcat(arrayMap(b -> hex(b), payload_prefix)) AS payload,
                   toString(toUnixTimestamp64Nano(submit_ts)) AS submit, completed, exec_id AS execId, pid
            FROM io_uring_ops WHERE ${where} AND opcode = 'READ'`,
      tag: 'test',
    });
    expect(read).toEqual({
      opcode: 'READ', fd: 5, path: s.tokenPath, result: String(s.token.length), bytes: String(s.token.length),
      payload: Buffer.from(s.token).toString('hex').toUpperCase(), submit: (T0 + 10_950_000n).toString(), completed: true, execId: EXEC, pid: 4242,
    });
    const sends = await selectRows<{ payload: string; bytes: string; via: string }>(db, {
      sql: `SELECT arrayStringConcat(arrayMap(b -> hex(b), payload_prefix)) AS payload, toString(bytes) AS bytes, toString(via) AS via
            FROM socket_events WHERE ${where} AND op = 'send' ORDER BY ts`,
      tag: 'test',
    });
    expect(sends.map((r) => r.payload)).toEqual(Array.from({ length: 6 }, (_, i) => beaconFrame(i, s.payload).toString('hex').toUpperCase()));
    expect(sends.every((r) => r.via === 'io_uring' && r.bytes === String(beaconFrame(0, s.payload).length))).toBe(true);
    // The lifecycle: ordered → active → expired, the newest state current.
    const zoom = await getZoom(db, s.zoomId, '0');
    expect(zoom).toMatchObject({ status: 'expired', reason: 'TTL of 60 s ran out', investigationId: s.investigationId, targetKind: 'exec_id', target: EXEC, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], sensor: 'zs-a', attachNs: '1800000' });
  });

  it('maps evidence to its investigation across units and a collector restart (the map is in storage)', async () => {
    const s = scenario({ zoomId: 'z-0123456789abcdef-2', investigationId: 'bbbbbbbbbbbbbbbbbbbbbbbb' });
    const events = beaconZoomEvents(s);
    const split = 5; // the zoom's states in the first unit, most evidence in later ones
    await storeEventBatch(db, eventBatch('zs-b', 'e1', 1, events.slice(0, split)), T0, new ZoomDirectory());
    // A restarted collector: a fresh directory that knows only what storage holds.
    const restarted = new ZoomDirectory();
    await restarted.ready(db);
    expect(restarted.investigationOf(s.zoomId)).toBe(s.investigationId);
    await storeEventBatch(db, eventBatch('zs-b', 'e1', 1 + split, events.slice(split)), T0, restarted);
    const rows = await selectRows<{ inv: string; n: string }>(db, {
      sql: `SELECT investigation_id AS inv, count() AS n FROM (
              SELECT investigation_id FROM io_uring_ops WHERE sensor = 'zs-b' UNION ALL SELECT investigation_id FROM socket_events WHERE sensor = 'zs-b'
              UNION ALL SELECT investigation_id FROM file_accesses WHERE sensor = 'zs-b' UNION ALL SELECT investigation_id FROM code_fingerprints WHERE sensor = 'zs-b')
            GROUP BY inv`,
      tag: 'test',
    });
    expect(rows).toEqual([{ inv: s.investigationId, n: '22' }]);
    // Without anything known about the zoom (no state seen, nothing stored), evidence is still kept, untagged.
    await storeEventBatch(db, eventBatch('zs-b2', 'e1', 1, events.slice(split, split + 2)), T0, new ZoomDirectory());
    expect(await count('io_uring_ops', "sensor = 'zs-b2' AND investigation_id = '' AND zoom_id = 'z-0123456789abcdef-2'")).toBe(1);
  });

  it('keeps the newest lifecycle state whatever order the rows arrive in', async () => {
    const s = scenario({ zoomId: 'z-0123456789abcdef-3', investigationId: 'cccccccccccccccccccccccc' });
    const ended = zoomMessage(s, ZoomStatus.ZOOM_STATUS_CANCELLED, { reason: 'cancelled by test', endedAtNs: (T0 + 5n * S).toString(), eventsEmitted: '12' });
    await upsertZoomState(db, ended, { source: 'cancel', sensor: 'zs-c', node: NODE, observedNs: (T0 + 5n * S).toString() });
    // The order's answer (active) is written after the cancel's (a slow writer): still cancelled.
    await upsertZoomState(db, zoomMessage(s, ZoomStatus.ZOOM_STATUS_ACTIVE), { source: 'order', sensor: 'zs-c', node: NODE, observedNs: (T0 + 9n * S).toString() });
    expect(await getZoom(db, s.zoomId, '0')).toMatchObject({ status: 'cancelled', reason: 'cancelled by test', eventsEmitted: '12' });
    const listed = await listZooms(db, { fromNs: (T0 - S).toString(), toNs: (T0 + 60n * S).toString(), investigationId: s.investigationId, limit: 10 });
    expect(listed.map((z) => [z.zoomId, z.status])).toEqual([[s.zoomId, 'cancelled']]);
  });

  it('reads one investigation’s evidence in its window, and nothing of another', async () => {
    const evidence = await loadInvestigationEvidence(db, { investigationId: 'aaaaaaaaaaaaaaaaaaaaaaaa', fromNs: (T0 - S).toString(), toNs: (T0 + 60n * S).toString() });
    expect([evidence.ioUring.length, evidence.sockets.length, evidence.files.length, evidence.code.length, evidence.truncated]).toEqual([10, 8, 3, 1, false]);
    expect(evidence.ioUring.map((r) => r.opcode)).toEqual(['OPENAT', 'READ', 'CLOSE', 'CONNECT', 'SEND', 'SEND', 'SEND', 'SEND', 'SEND', 'SEND']);
    expect(evidence.files.map((f) => [f.op, f.via, f.bytes])).toEqual([
      ['open', 'io_uring', '0'],
      ['read', 'io_uring', '28'],
      ['close', 'io_uring', '0'],
    ]);
    expect(evidence.code[0]).toMatchObject({ kind: 'executable', language: 'C', buildId: '3f0c1d2e4b5a69788796a5b4c3d2e1f001122334' });
    const outside = await loadInvestigationEvidence(db, { investigationId: 'aaaaaaaaaaaaaaaaaaaaaaaa', fromNs: (T0 + 600n * S).toString(), toNs: (T0 + 700n * S).toString() });
    expect(outside.sockets).toEqual([]);
    const other = await loadInvestigationEvidence(db, { investigationId: 'dddddddddddddddddddddddd', fromNs: '0', toNs: (T0 + 700n * S).toString() });
    expect(other.ioUring).toEqual([]);
  });
});
