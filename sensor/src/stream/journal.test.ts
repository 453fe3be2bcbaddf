import { describe, expect, it } from 'vitest';
import { Event, EventBatch } from '../../gen/soc/sensor/v1/sensor';
import { syntheticEvents } from '../testing/synthetic';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Journal, encodeBatch, newEpoch, writerLength, type SubscribeOptions } from './journal';

/** Reads `n` batches, failing instead of hanging when they do not come. */
async function take(journal: Journal, options: SubscribeOptions, n: number, timeoutMs = 2000): Promise<EventBatch[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const out: EventBatch[] = [];
  try {
    for await (const batch of journal.subscribe({ ...options, signal: abort.signal })) {
      out.push(batch);
      if (out.length === n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  if (out.length < n) throw new Error(`got ${out.length} of ${n} batches`);
  return out;
}

const range = (b: EventBatch) => `${b.firstSeq}-${b.lastSeq}`;
const seqs = (b: EventBatch) => b.events.map((e) => Number(e.seq));

function journal(options: Partial<ConstructorParameters<typeof Journal>[0]> = {}) {
  return new Journal({ sensor: 'node-a', maxBatchDelayMs: 0, ...options });
}

describe('Journal: seqs and batches', () => {
  it('assigns seq 1, 2, 3… and names sensor and epoch in every batch', async () => {
    const j = journal();
    j.append(syntheticEvents(5));
    j.flush();
    const [batch] = await take(j, {}, 1);
    expect(batch).toMatchObject({ sensor: 'node-a', epoch: j.epoch, firstSeq: '1', lastSeq: '5', gap: false, missing: '0' });
    expect(seqs(batch!)).toEqual([1, 2, 3, 4, 5]);
    expect(j.stats()).toMatchObject({ lastSeq: 5, oldestHeldSeq: 1, eventsTotal: 5 });
  });

  it('seals batches by count and by time', async () => {
    const j = journal({ maxBatchEvents: 4, maxBatchDelayMs: 15 });
    j.append(syntheticEvents(10));
    // 1-4 and 5-8 are sealed by count; 9-10 by the 15 ms timer, without a flush.
    const batches = await take(j, {}, 3);
    expect(batches.map(range)).toEqual(['1-4', '5-8', '9-10']);
  });

  it('seals by encoded bytes so one message stays bounded (soft limit: at most one event over)', async () => {
    const j = journal({ maxBatchBytes: 400 });
    j.append(syntheticEvents(12));
    j.flush();
    const batches = await take(j, {}, 2);
    for (const b of batches) expect(EventBatch.encode(b).finish().length).toBeLessThan(400 + 250);
    expect(Number(batches[0]!.lastSeq)).toBeLessThan(12);
  });

  it('encodes batches exactly like the generated encoder', () => {
    const events = syntheticEvents(3).map((e, i) => ({ ...e, seq: String(i + 7) }));
    const header = { sensor: 's', epoch: 'e', firstSeq: 7, lastSeq: 9, gap: true, missing: 6, droppedKernel: 2, droppedUser: 1 };
    const bytes = encodeBatch(
      header,
      events.map((e) => Event.encode(e).finish()),
    );
    expect(EventBatch.decode(bytes)).toEqual({
      sensor: 's',
      epoch: 'e',
      firstSeq: '7',
      lastSeq: '9',
      gap: true,
      missing: '6',
      dropped: '3',
      droppedKernel: '2',
      droppedUser: '1',
      events,
    });
  });

  it('can read how many bytes a BinaryWriter holds (the journal relies on it)', () => {
    const w = new BinaryWriter();
    w.string('abc');
    expect(writerLength(w)).toBe(4);
    w.finish();
    expect(writerLength(w)).toBe(0);
  });

  it('makes time-ordered unique epochs', () => {
    const a = newEpoch(1_000);
    const b = newEpoch(2_000);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    expect(newEpoch(1_000)).not.toBe(a);
  });
});

describe('Journal: resume', () => {
  it('resumes after sinceSeq in the same epoch, with the same batch boundaries as before', async () => {
    const j = journal({ maxBatchEvents: 4 });
    j.append(syntheticEvents(12));
    const first = await take(j, {}, 3);
    expect(first.map(range)).toEqual(['1-4', '5-8', '9-12']);
    const resumed = await take(j, { epoch: j.epoch, sinceSeq: '4' }, 2);
    expect(resumed.map(range)).toEqual(['5-8', '9-12']);
    expect(resumed[0]!.gap).toBe(false);
    expect(EventBatch.encode(resumed[0]!).finish()).toEqual(EventBatch.encode(first[1]!).finish());
  });

  it('resumes in the middle of a batch at the next seq', async () => {
    const j = journal({ maxBatchEvents: 4 });
    j.append(syntheticEvents(8));
    const [b] = await take(j, { epoch: j.epoch, sinceSeq: 2 }, 1);
    expect(range(b!)).toBe('3-4');
    expect(b!.gap).toBe(false);
  });

  it('cuts smaller client batches on a grid anchored in the sealed batch', async () => {
    const j = journal();
    j.append(syntheticEvents(10));
    j.flush();
    expect((await take(j, { maxBatchEvents: 4 }, 3)).map(range)).toEqual(['1-4', '5-8', '9-10']);
    expect((await take(j, { epoch: j.epoch, sinceSeq: 5, maxBatchEvents: 4 }, 2)).map(range)).toEqual(['6-8', '9-10']);
  });

  it('waits for new events after the newest seq and delivers them when sealed', async () => {
    const j = journal();
    j.append(syntheticEvents(3));
    j.flush();
    const pending = take(j, { epoch: j.epoch, sinceSeq: 3 }, 1);
    setTimeout(() => {
      j.append(syntheticEvents(2, { fromIndex: 3 }));
      j.flush();
    }, 20);
    expect((await pending).map(range)).toEqual(['4-5']);
  });
});

describe('Journal: gaps and restarts', () => {
  it('flags a gap with the number of seqs no longer held', async () => {
    const j = journal({ maxBatchEvents: 4, retainEvents: 8 });
    j.append(syntheticEvents(20));
    expect(j.stats()).toMatchObject({ oldestHeldSeq: 13, heldEvents: 8 });
    const [b1, b2] = await take(j, { epoch: j.epoch, sinceSeq: 5 }, 2);
    expect(b1).toMatchObject({ firstSeq: '13', lastSeq: '16', gap: true, missing: '7' });
    expect(b2).toMatchObject({ firstSeq: '17', gap: false, missing: '0' });
  });

  it('bounds retention by bytes too', () => {
    const j = journal({ maxBatchEvents: 10, retainBytes: 8_000 });
    j.append(syntheticEvents(1000));
    const stats = j.stats();
    expect(stats.heldBytes).toBeLessThanOrEqual(8_000);
    expect(stats.oldestHeldSeq).toBeGreaterThan(900);
  });

  it('starts a client of another epoch at the oldest held event, flagged as a restart', async () => {
    const j = journal();
    j.append(syntheticEvents(3));
    j.flush();
    const [b] = await take(j, { epoch: 'an-older-epoch', sinceSeq: 999 }, 1);
    expect(b).toMatchObject({ firstSeq: '1', lastSeq: '3', gap: true, missing: '0', epoch: j.epoch });
  });

  it('starts a new client (no epoch) at the oldest held event, gap only if seq 1 is gone', async () => {
    const j = journal({ maxBatchEvents: 4, retainEvents: 4 });
    j.append(syntheticEvents(4));
    expect((await take(j, { epoch: '' }, 1))[0]).toMatchObject({ firstSeq: '1', gap: false, missing: '0' });
    j.append(syntheticEvents(8, { fromIndex: 4 }));
    expect((await take(j, { epoch: '' }, 1))[0]).toMatchObject({ firstSeq: '9', gap: true, missing: '8' });
    expect((await take(j, { epoch: 'old' }, 1))[0]).toMatchObject({ firstSeq: '9', gap: true, missing: '8' });
  });

  it('keeps a slow subscriber from holding memory: it reads the window and gets a gap', async () => {
    const j = journal({ maxBatchEvents: 100, retainEvents: 1000 });
    const slow = j.subscribe({ epoch: j.epoch, sinceSeq: 0 });
    j.append(syntheticEvents(200));
    const first = await slow.next();
    expect(first.value).toMatchObject({ firstSeq: '1', lastSeq: '100' });
    for (let i = 0; i < 100; i++) j.append(syntheticEvents(100, { fromIndex: 200 + i * 100 }));
    expect(j.stats().heldEvents).toBeLessThanOrEqual(1000);
    const next = await slow.next();
    expect(next.value).toMatchObject({ gap: true, firstSeq: String(j.stats().oldestHeldSeq) });
    expect(Number((next.value as EventBatch).missing)).toBe(j.stats().oldestHeldSeq - 101);
    await slow.return();
  });

  it('serves holes between appended batches (replay) as gaps', async () => {
    const j = journal({ epoch: 'recorded' });
    const batch = (first: number, n: number) => ({
      ...EventBatch.fromPartial({}),
      sensor: 'node-a',
      epoch: 'recorded',
      firstSeq: String(first),
      lastSeq: String(first + n - 1),
      events: syntheticEvents(n).map((e, i) => ({ ...e, seq: String(first + i) })),
    });
    j.appendBatch(batch(3, 2));
    j.appendBatch(batch(10, 3));
    const batches = await take(j, { epoch: 'recorded', sinceSeq: 0 }, 2);
    expect(batches[0]).toMatchObject({ firstSeq: '3', lastSeq: '4', gap: true, missing: '2' });
    expect(batches[1]).toMatchObject({ firstSeq: '10', lastSeq: '12', gap: true, missing: '5' });
    expect(seqs(batches[1]!)).toEqual([10, 11, 12]);
    expect(() => j.appendBatch(batch(11, 1))).toThrow(/does not follow/);
  });
});

describe('Journal: drops in-band', () => {
  it('carries drops reported while a batch was open, and later ones in the next batch', async () => {
    const j = journal();
    j.append(syntheticEvents(2));
    j.reportDrops({ kernel: 3n });
    j.append(syntheticEvents(2, { fromIndex: 2 }));
    j.flush();
    j.reportDrops({ kernel: 1, user: 2 }); // idle: goes with the next batch
    j.append(syntheticEvents(1, { fromIndex: 4 }));
    j.flush();
    j.append(syntheticEvents(1, { fromIndex: 5 }));
    j.flush();
    const [a, b, c] = await take(j, {}, 3);
    expect(a).toMatchObject({ lastSeq: '4', dropped: '3', droppedKernel: '3', droppedUser: '0' });
    expect(b).toMatchObject({ firstSeq: '5', dropped: '3', droppedKernel: '1', droppedUser: '2' });
    expect(c).toMatchObject({ firstSeq: '6', dropped: '0' });
    expect(j.stats()).toMatchObject({ droppedKernel: 4, droppedUser: 2 });
  });

  it('gives the same drops again on a resend, and only once per batch when cut smaller', async () => {
    const j = journal();
    j.reportDrops({ kernel: 5 });
    j.append(syntheticEvents(6));
    j.flush();
    const cut = await take(j, { maxBatchEvents: 4 }, 2);
    expect(cut.map((b) => b.droppedKernel)).toEqual(['5', '0']);
    const again = await take(j, { epoch: j.epoch, sinceSeq: 0 }, 1);
    expect(again[0]!.droppedKernel).toBe('5');
  });

  it('adds the drops of evicted batches to the gap batch that skips them', async () => {
    const j = journal({ maxBatchEvents: 2, retainEvents: 2 });
    j.append(syntheticEvents(2));
    j.reportDrops({ kernel: 4 });
    j.append(syntheticEvents(2, { fromIndex: 2 })); // batch 3-4 carries 4, then is evicted
    j.reportDrops({ user: 1 });
    j.append(syntheticEvents(2, { fromIndex: 4 })); // batch 5-6 carries 1
    const [b] = await take(j, { epoch: j.epoch, sinceSeq: 2 }, 1);
    expect(b).toMatchObject({ firstSeq: '5', gap: true, missing: '2', droppedKernel: '4', droppedUser: '1', dropped: '5' });
    const [c] = await take(j, { epoch: j.epoch, sinceSeq: 4 }, 1);
    expect(c).toMatchObject({ firstSeq: '5', gap: false, droppedKernel: '0', droppedUser: '1' });
  });
});

describe('Journal: ending', () => {
  it('drains held batches to subscribers on close, then ends them', async () => {
    const j = journal();
    j.append(syntheticEvents(3));
    j.close();
    const got: EventBatch[] = [];
    for await (const b of j.subscribe({})) got.push(b);
    expect(got.map(range)).toEqual(['1-3']);
    expect(() => j.append(syntheticEvents(1))).toThrow(/closed/);
  });

  it('ends a waiting subscription when its signal aborts', async () => {
    const j = journal();
    const abort = new AbortController();
    const it = j.subscribe({ signal: abort.signal });
    const pending = it.next();
    setTimeout(() => abort.abort(), 10);
    expect((await pending).done).toBe(true);
    expect(j.stats().subscribers).toBe(0);
  });
});
