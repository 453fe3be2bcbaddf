import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ProbeSet, type ZoomRequest } from '../../gen/soc/sensor/v1/sensor';
import { ZoomProbe } from '../kernel/layout';
import { checkOrder, DEFAULT_ZOOM_POLICY, parseProbeList, ZoomOrderError, type ZoomPolicy } from './policy';

const order = (o: Partial<ZoomRequest>): ZoomRequest => ({
  target: { target: { $case: 'tgid', value: { pid: 42, followChildren: false } } },
  probes: [ProbeSet.PROBE_SET_NETWORK],
  ttlS: 0,
  maxEvents: '0',
  payloadPrefixBytes: 0,
  maxEventsPerS: 0,
  investigationId: '',
  requestedBy: '',
  reason: '',
  ...o,
});

function refusal(req: ZoomRequest, policy: ZoomPolicy = DEFAULT_ZOOM_POLICY): [number, string] {
  try {
    checkOrder(req, policy);
  } catch (e) {
    expect(e).toBeInstanceOf(ZoomOrderError);
    return [(e as ZoomOrderError).code, (e as Error).message];
  }
  throw new Error('accepted');
}

describe('zoom order bounds', () => {
  it('applies the defaults and builds the kernel probe mask', () => {
    expect(checkOrder(order({ probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_CODE, ProbeSet.PROBE_SET_IO_URING] }), DEFAULT_ZOOM_POLICY)).toEqual({
      probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_CODE],
      mask: ZoomProbe.IO_URING | ZoomProbe.CODE,
      ttlS: 60,
      maxEvents: 10_000,
      maxEventsPerS: 1_000,
      payloadPrefixBytes: 64,
    });
  });

  it('refuses what exceeds the policy, naming the limit', () => {
    expect(refusal(order({ ttlS: 601 }))).toEqual([GrpcStatus.INVALID_ARGUMENT, "ttl_s 601 s exceeds this sensor's maximum of 600 s"]);
    expect(refusal(order({ maxEvents: '2000000' }))).toEqual([GrpcStatus.INVALID_ARGUMENT, "max_events 2000000 exceeds this sensor's maximum of 1000000"]);
    expect(refusal(order({ maxEventsPerS: 10_001 }))).toEqual([GrpcStatus.INVALID_ARGUMENT, "max_events_per_s 10001 exceeds this sensor's maximum of 10000"]);
    expect(refusal(order({ payloadPrefixBytes: 257 }))).toEqual([GrpcStatus.INVALID_ARGUMENT, "payload_prefix_bytes 257 exceeds this sensor's maximum of 256"]);
    expect(refusal(order({ maxEvents: '1e99' }))[0]).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(refusal(order({ reason: 'x'.repeat(1025) }))).toEqual([GrpcStatus.INVALID_ARGUMENT, 'reason longer than 1024 characters']);
    expect(refusal(order({ target: undefined }))).toEqual([GrpcStatus.INVALID_ARGUMENT, 'target required: exec_id, tgid or cgroup']);
    expect(refusal(order({ probes: [] }))[0]).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(refusal(order({ probes: [99 as ProbeSet] }))).toEqual([GrpcStatus.INVALID_ARGUMENT, 'unknown probe set 99']);
  });

  it('refuses probe sets the policy does not allow; following children is the CHILDREN set', () => {
    const policy = { ...DEFAULT_ZOOM_POLICY, allowedProbes: parseProbeList('network, files') };
    expect(refusal(order({ probes: [ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE] }), policy)).toEqual([
      GrpcStatus.PERMISSION_DENIED,
      "probe set CODE not allowed by this sensor's policy (allowed: NETWORK, FILES)",
    ]);
    const follow = order({ target: { target: { $case: 'tgid', value: { pid: 42, followChildren: true } } } });
    expect(refusal(follow, policy)[1]).toMatch(/^probe set CHILDREN not allowed/);
    expect(checkOrder(follow, DEFAULT_ZOOM_POLICY).probes).toEqual([ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_CHILDREN]);
    expect(() => parseProbeList('network,bogus')).toThrow(/unknown probe set "BOGUS"/);
    expect(parseProbeList('')).toEqual([]);
  });
});
