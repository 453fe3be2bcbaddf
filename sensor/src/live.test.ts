import { describe, expect, it } from 'vitest';
import type { Event, EventBatch } from '../gen/soc/sensor/v1/sensor';
import { LiveSensor, type KernelSource } from './live';
import { syntheticEvents } from './testing/synthetic';

// The glue between a kernel source and the journal, with a scripted source (synthetic events):
// seqs, in-band drops and shutdown. The real kernel source is exercised by sensor.livetest.ts.
function scriptedSource(onEvents: (events: Event[]) => void) {
  const drops = { kernel: 0n, user: 0n };
  let taken = { kernel: 0n, user: 0n };
  const source: KernelSource & { emit(n: number, from: number): void; drop(k: bigint, u: bigint): void; stopped: boolean } = {
    stopped: false,
    async start() {
      onEvents(syntheticEvents(3));
    },
    async stop() {
      this.stopped = true;
    },
    status: () => ({
      kernelRelease: '6.0-test',
      btfAvailable: true,
      programs: [{ name: 'on_exec', attachType: 'tp_btf', attached: true, error: '', onPurpose: false }],
      droppedKernel: drops.kernel.toString(),
      droppedUser: drops.user.toString(),
      eventsTotal: '0',
      bootId: 'b',
    }),
    takeDroppedDelta() {
      const delta = { kernel: drops.kernel - taken.kernel, user: drops.user - taken.user };
      taken = { ...drops };
      return delta;
    },
    emit: (n, from) => onEvents(syntheticEvents(n, { fromIndex: from })),
    drop(k, u) {
      drops.kernel += k;
      drops.user += u;
    },
  };
  return source;
}

describe('LiveSensor', () => {
  it('numbers kernel events, carries drops in-band, reports status, and drains on stop', async () => {
    let source!: ReturnType<typeof scriptedSource>;
    const live = new LiveSensor({
      name: 'node-a',
      node: 'node-a',
      journal: { maxBatchDelayMs: 0, maxBatchEvents: 4 },
      createSource: (onEvents) => (source = scriptedSource(onEvents)),
    });
    await live.start();
    live.journal.flush();
    source.drop(5n, 1n);
    source.emit(4, 3);
    await live.stop();
    expect(source.stopped).toBe(true);
    const batches: EventBatch[] = [];
    for await (const b of live.journal.subscribe({})) batches.push(b);
    expect(batches.map((b) => `${b.firstSeq}-${b.lastSeq}`)).toEqual(['1-3', '4-7']);
    expect(batches[1]).toMatchObject({ droppedKernel: '5', droppedUser: '1', dropped: '6' });
    expect(live.status()).toMatchObject({
      sensor: 'node-a',
      mode: 'live',
      epoch: live.journal.epoch,
      lastSeq: '7',
      droppedKernel: '5',
      droppedUser: '1',
      kernelRelease: '6.0-test',
    });
  });
});
