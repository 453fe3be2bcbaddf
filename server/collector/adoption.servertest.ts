import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { getInvestigation, upsertInvestigation, type InvestigationRecord } from '../../db/repositories/investigations';
import { openTestDb } from '../../db/testing';
import { nowNs } from '../../db/time';
import type { Event } from '../../sensor/gen/soc/sensor/v1/sensor';
import { silentLogger } from '../../sensor/src/log';
import { syntheticZoomEvents } from '../../sensor/src/testing/synthetic';
import { ZoomDirectory } from '../zoom/directory';
import { adoptedInvestigationId, ZoomAdoption } from './adoption';

// How the collector settles the investigation of a zoom it did not order (a replayed recording's),
// against real storage (embedded chDB). The collector-level path (units, a crash, a restart) is in
// collector.servertest.ts.

let testDb: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;

beforeAll(async () => {
  testDb = await openTestDb();
  db = testDb.db;
});

afterAll(async () => {
  await testDb?.close();
});

/** The first state of a zoom on `node`'s synthetic process, naming `named` (recent times). */
function zoomState(node: string, zoomId: string, named: string): { event: Event; execId: string } {
  const [event] = syntheticZoomEvents(1, { node, zoomId, investigationId: named, baseTsNs: nowNs() - 60_000_000_000n });
  const execId = event!.execId;
  return { event: { ...event!, seq: '1' }, execId };
}

function investigation(id: string, node: string, execId: string, fields: Partial<InvestigationRecord> = {}): InvestigationRecord {
  const at = nowNs().toString();
  return {
    id, title: `test ${id}`, status: 'open', trigger: 'auto', createdAtNs: at, updatedAtNs: at, createdBy: 'zoom policy',
    indicatorIds: ['ind-1'], node, workload: 'cgroup/test', execId, rowVersion: at,
    ...fields,
  };
}

async function storedZoomInvestigation(zoomId: string): Promise<string | undefined> {
  const rows = await selectRows<{ inv: string }>(db, {
    sql: 'SELECT investigation_id AS inv FROM zooms FINAL WHERE zoom_id = {z:String}',
    params: { z: zoomId },
    tag: 'test',
  });
  return rows[0]?.inv;
}

function adoption(sensor: string, directory = new ZoomDirectory(), graceMs = 300) {
  return { directory, adoption: new ZoomAdoption({ sensor, lookup: directory, log: silentLogger, graceMs, pollMs: 20 }) };
}

describe('adopting the zooms of a replayed recording', () => {
  it('joins the cockpit\'s own open investigation of the same node and target exec id', async () => {
    const { event, execId } = zoomState('node-join', 'z-join', 'recorded0000000000000001');
    await upsertInvestigation(db, investigation('own000000000000000000001', 'node-join', execId));
    // Another node's investigation of an exec id with the same text is not it.
    await upsertInvestigation(db, investigation('other00000000000000000001', 'node-else', execId));
    const { adoption: a, directory } = adoption('s-join');
    await a.ready(db);
    expect(a.unsettled([event])).toHaveLength(1);
    let stored = 0;
    await a.settle(db, event, 'epoch-1', async () => void stored++);
    expect(stored).toBe(1);
    expect(a.investigationOf('z-join')).toBe('own000000000000000000001');
    // The zoom's later states keep naming the recording's investigation: they do not win.
    a.remember('z-join', 'recorded0000000000000001');
    expect(a.investigationOf('z-join')).toBe('own000000000000000000001');
    expect(a.unsettled([event])).toHaveLength(0);
    // Stored before the unit: a restarted collector's directory maps the zoom the same way.
    expect(await storedZoomInvestigation('z-join')).toBe('own000000000000000000001');
    const restarted = adoption('s-join');
    await restarted.adoption.ready(db);
    expect(restarted.adoption.unsettled([event])).toHaveLength(1);
    await restarted.adoption.settle(db, event, 'epoch-1', async () => {
      throw new Error('a known adoption needs no wait');
    });
    expect(restarted.adoption.investigationOf('z-join')).toBe('own000000000000000000001');
    expect(directory).not.toBe(restarted.directory);
  });

  it('waits for the investigation the detector is still making, then joins it', async () => {
    const { event, execId } = zoomState('node-late', 'z-late', 'recorded0000000000000002');
    const { adoption: a } = adoption('s-late', new ZoomDirectory(), 5_000);
    await a.ready(db);
    const late = new Promise<void>((resolve) => setTimeout(() => void upsertInvestigation(db, investigation('own000000000000000000002', 'node-late', execId)).then(resolve), 400));
    await a.settle(db, event, 'epoch-1', async () => undefined);
    await late;
    expect(a.investigationOf('z-late')).toBe('own000000000000000000002');
    expect(await storedZoomInvestigation('z-late')).toBe('own000000000000000000002');
  });

  it('makes a new investigation, saying it came from a recording, when the cockpit has none', async () => {
    const { event, execId } = zoomState('node-new', 'z-new', 'recorded0000000000000003');
    // A closed investigation of the target is not joined.
    await upsertInvestigation(db, investigation('closed0000000000000000003', 'node-new', execId, { status: 'closed' }));
    const { adoption: a } = adoption('s-new');
    await a.ready(db);
    await a.settle(db, event, 'epoch-1', async () => undefined);
    const id = adoptedInvestigationId('s-new', 'z-new');
    expect(a.investigationOf('z-new')).toBe(id);
    const made = await getInvestigation(db, id);
    expect(made).toMatchObject({ id, status: 'open', node: 'node-new', execId, createdBy: 'recording replayed by sensor s-new', indicatorIds: [] });
    expect(made!.title).toContain('from a recording; its investigation there: recorded0000000000000003');
    expect(await storedZoomInvestigation('z-new')).toBe(id);
  });

  it('keeps the named investigation when it is this cockpit\'s (a live order whose answer is still in flight)', async () => {
    const { event, execId } = zoomState('node-own', 'z-own', 'own000000000000000000004');
    await upsertInvestigation(db, investigation('own000000000000000000004', 'node-own', execId));
    const { adoption: a, directory } = adoption('s-own');
    await a.ready(db);
    await a.settle(db, event, 'epoch-1', async () => undefined);
    expect(a.investigationOf('z-own')).toBe('own000000000000000000004');
    expect(directory.investigationOf('z-own')).toBe('own000000000000000000004');
    // Nothing was adopted: no row written ahead of the unit.
    expect(await storedZoomInvestigation('z-own')).toBeUndefined();
    // Known by the directory (the zoom service remembered its answer): nothing to settle at all.
    const other = adoption('s-own2');
    other.directory.remember('z-own', 'own000000000000000000004');
    expect(other.adoption.unsettled([event])).toHaveLength(0);
  });
});
