import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../sensor/gen/soc/sensor/v1/sensor';
import { syntheticEvents } from '../../sensor/src/testing/synthetic';
import { checkBatch } from './validate';

function batch(overrides: Partial<EventBatch> = {}, count = 3, first = 5): EventBatch {
  const events = syntheticEvents(count).map((e, i) => ({ ...e, seq: String(first + i) }));
  return {
    ...EventBatch.fromPartial({}),
    sensor: 'node-a',
    epoch: 'epoch-1',
    firstSeq: String(first),
    lastSeq: String(first + count - 1),
    events,
    ...overrides,
  };
}

describe('checkBatch', () => {
  it('accepts a consistent batch', () => {
    expect(checkBatch(batch(), 'node-a')).toEqual({ ok: true });
    expect(checkBatch(batch({ gap: true, missing: '4', dropped: '3', droppedKernel: '2', droppedUser: '1' }), 'node-a')).toEqual({ ok: true });
  });

  it('treats another sensor name as a configuration error, not a bad batch', () => {
    expect(checkBatch(batch(), 'node-b')).toEqual({ ok: false, fatal: true, reason: expect.stringMatching(/calls itself "node-a"/) });
  });

  it.each([
    ['a seq range that does not match the events', batch({ lastSeq: '9' }), /5-9 does not match 3 event/],
    ['no epoch', batch({ epoch: '' }), /epoch/],
    ['seq 0', batch({}, 1, 0), /out of bounds/],
    ['an event without exec id', (() => { const b = batch(); b.events[1]!.execId = ''; return b; })(), /event 1 .*no exec id/],
    ['an event without body', (() => { const b = batch(); b.events[2]!.body = undefined; return b; })(), /event 2 .*no body/],
    ['an event with the wrong seq', (() => { const b = batch(); b.events[1]!.seq = '42'; return b; })(), /expected seq 6/],
    ['missing without gap', batch({ missing: '3' }), /without the gap flag/],
    // Storage keeps nanoseconds as Int64 (DateTime64(9)): past the year 2262 cannot be stored.
    ['a time past what storage can hold', (() => { const b = batch(); b.events[1]!.tsNs = '9223372036854775808'; return b; })(), /event 1 .*out of range/],
    ['an exec start past what storage can hold', (() => { const b = batch(); const body = b.events[0]!.body; if (body?.$case === 'exec') body.value.startNs = '18446744073709551615'; return b; })(), /event 0 .*start time/],
    ['dropped below its parts', batch({ dropped: '1', droppedKernel: '2' }), /dropped 1 is less/],
  ])('rejects %s', (_what, b, reason) => {
    const verdict = checkBatch(b, 'node-a');
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.fatal).toBe(false);
      expect(verdict.reason).toMatch(reason);
    }
  });
});
