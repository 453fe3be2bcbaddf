import { describe, expect, it } from 'vitest';
import { ProbeSet, ZoomStatus, type EventBatch } from '../gen/soc/sensor/v1/sensor';
import { shiftBatch } from './replayShift';

const SHIFT = 1_000_000_000_000n; // 1000 s

function batch(events: EventBatch['events']): EventBatch {
  return { sensor: 's', epoch: 'e', firstSeq: '1', lastSeq: String(events.length), gap: false, missing: '0', dropped: '0', droppedKernel: '0', droppedUser: '0', events };
}

describe('shiftBatch (replay --shift-to-now)', () => {
  it('moves every wall-clock time an event carries, zoom-in times included, and leaves unset times, durations and ids', () => {
    const execId = 'n:0a1b2c3d:1005:101:3';
    const [state, op, code, counters] = shiftBatch(
      batch([
        {
          seq: '1', tsNs: '5000', node: 'n', execId, pid: 101, tid: 101, zoomId: 'z1',
          body: {
            $case: 'zoomState',
            value: {
              zoom: {
                id: 'z1', status: ZoomStatus.ZOOM_STATUS_ACTIVE, reason: '', error: '', target: { target: { $case: 'execId', value: execId } }, targetTgids: [101],
                probes: [ProbeSet.PROBE_SET_IO_URING], ttlS: 60, maxEvents: '10', maxEventsPerS: 10, payloadPrefixBytes: 64, orderedAtNs: '4000', startedAtNs: '4500',
                expiresAtNs: '64500', endedAtNs: '0', eventsEmitted: '0', eventsDropped: '0', droppedRate: '0', droppedBudget: '0', droppedRing: '0', attachNs: '500',
                investigationId: 'i', requestedBy: 'r', clientSubject: 'c', orderReason: 'o', programs: [], fingerprints: '0',
              },
            },
          },
        },
        {
          seq: '2', tsNs: '6000', node: 'n', execId, pid: 101, tid: 101, zoomId: 'z1',
          body: {
            $case: 'ioUringOp',
            value: {
              opcode: 'READ', opcodeNumber: 22, fd: 5, fixedFile: false, path: '/t', address: '', port: 0, localAddress: '', localPort: 0, socketCookie: '0', result: '3',
              length: '3', bytes: '3', payloadPrefix: Buffer.from('abc'), userData: '1', submitNs: '5900', completeNs: '5950', sqpoll: false, ioWorker: false, submitTid: 101,
              openFlags: 0, pathTruncated: false, completed: true,
            },
          },
        },
        {
          seq: '3', tsNs: '7000', node: 'n', execId, pid: 101, tid: 101, zoomId: 'z1',
          body: { $case: 'code', value: { path: '/m.node', kind: 2, language: 'C', runtime: '', evidence: [], buildId: '', sha256: '', size: '1', mappedAtNs: '6900', goVersion: '', goModule: '', mapAddress: '0', error: '', cached: false } },
        },
        {
          seq: '4', tsNs: '8000', node: 'n', execId, pid: 101, tid: 101,
          body: { $case: 'counters', value: { sinceNs: '7000', workload: 'w', syscalls: '1', ioUringSubmissions: '0', ioUringSetups: '0', connects: '0', sendsAddressed: '0', accepts: '0', opens: '0', sensitiveOpens: '0', final: false } },
        },
      ]),
      SHIFT,
    ).events;
    const s = (ns: number) => String(BigInt(ns) + SHIFT);
    expect(state!.tsNs).toBe(s(5000));
    const zoom = state!.body?.$case === 'zoomState' ? state!.body.value.zoom! : null;
    expect(zoom).toMatchObject({ orderedAtNs: s(4000), startedAtNs: s(4500), expiresAtNs: s(64500), endedAtNs: '0', attachNs: '500' });
    expect(zoom!.target).toEqual({ target: { $case: 'execId', value: execId } });
    expect(op!.body?.$case === 'ioUringOp' && [op!.body.value.submitNs, op!.body.value.completeNs]).toEqual([s(5900), s(5950)]);
    expect(code!.body?.$case === 'code' && code!.body.value.mappedAtNs).toBe(s(6900));
    expect(counters!.body?.$case === 'counters' && counters!.body.value.sinceNs).toBe(s(7000));
    expect(counters!.execId).toBe(execId);
  });
});
