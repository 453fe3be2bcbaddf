/**
 * The sensor's own bounds on zoom orders. Whoever sends an order (a policy in the cockpit, an
 * analyst, a stolen client certificate), the sensor refuses what exceeds them: probe sets it
 * does not allow, a TTL, budget, rate or payload prefix above its maxima, more concurrent zooms
 * than it runs. Refusals carry the gRPC code and a message naming the limit.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ProbeSet, type ZoomRequest } from '../../gen/soc/sensor/v1/sensor';
import { ZOOM_PREFIX_MAX, ZOOM_SLOTS, ZoomProbe } from '../kernel/layout';

export interface ZoomPolicy {
  /** probe sets orders may ask for */
  allowedProbes: ProbeSet[];
  maxTtlS: number;
  defaultTtlS: number;
  maxEvents: number;
  defaultMaxEvents: number;
  maxEventsPerS: number;
  defaultEventsPerS: number;
  maxPayloadPrefixBytes: number;
  defaultPayloadPrefixBytes: number;
  /** zooms running at once (at most the kernel's slots) */
  maxConcurrent: number;
  /** ended zooms kept for ListZooms / Status */
  keepEnded: number;
}

export const ALL_PROBE_SETS: ProbeSet[] = [
  ProbeSet.PROBE_SET_IO_URING,
  ProbeSet.PROBE_SET_NETWORK,
  ProbeSet.PROBE_SET_FILES,
  ProbeSet.PROBE_SET_CODE,
  ProbeSet.PROBE_SET_CHILDREN,
];

export const DEFAULT_ZOOM_POLICY: ZoomPolicy = {
  allowedProbes: ALL_PROBE_SETS,
  maxTtlS: 600,
  defaultTtlS: 60,
  maxEvents: 1_000_000,
  defaultMaxEvents: 10_000,
  maxEventsPerS: 10_000,
  defaultEventsPerS: 1_000,
  maxPayloadPrefixBytes: ZOOM_PREFIX_MAX,
  defaultPayloadPrefixBytes: 64,
  maxConcurrent: 8,
  keepEnded: 64,
};

/** Probe set names as orders and messages show them ("IO_URING"). */
export function probeName(p: ProbeSet): string {
  return ProbeSet[p]?.replace(/^PROBE_SET_/, '') ?? `PROBE_SET_${p}`;
}

/** Parses "IO_URING,NETWORK" (case-insensitive) into probe sets; throws on an unknown name. */
export function parseProbeList(text: string): ProbeSet[] {
  return text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean)
    .map((name) => {
      const p = ALL_PROBE_SETS.find((x) => probeName(x) === name);
      if (p === undefined) throw new Error(`unknown probe set "${name}" (known: ${ALL_PROBE_SETS.map(probeName).join(', ')})`);
      return p;
    });
}

/** The kernel's probe mask bit of a probe set. */
export function probeBit(p: ProbeSet): number {
  switch (p) {
    case ProbeSet.PROBE_SET_IO_URING:
      return ZoomProbe.IO_URING;
    case ProbeSet.PROBE_SET_NETWORK:
      return ZoomProbe.NETWORK;
    case ProbeSet.PROBE_SET_FILES:
      return ZoomProbe.FILES;
    case ProbeSet.PROBE_SET_CODE:
      return ZoomProbe.CODE;
    case ProbeSet.PROBE_SET_CHILDREN:
      return ZoomProbe.CHILDREN;
    default:
      return 0;
  }
}

/** An order the sensor refuses: the gRPC status code and why. */
export class ZoomOrderError extends Error {
  constructor(readonly code: GrpcStatus, message: string) {
    super(message);
    this.name = 'ZoomOrderError';
  }
}

/** An order with every default applied and every bound checked. */
export interface CheckedOrder {
  probes: ProbeSet[];
  mask: number;
  ttlS: number;
  maxEvents: number;
  maxEventsPerS: number;
  payloadPrefixBytes: number;
}

const MAX_TEXT = { investigationId: 128, requestedBy: 256, reason: 1024 } as const;

/** Checks an order against the policy; throws ZoomOrderError (INVALID_ARGUMENT, PERMISSION_DENIED). */
export function checkOrder(req: ZoomRequest, policy: ZoomPolicy): CheckedOrder {
  const invalid = (msg: string) => new ZoomOrderError(GrpcStatus.INVALID_ARGUMENT, msg);
  if (!req.target?.target) throw invalid('target required: exec_id, tgid or cgroup');
  if (req.probes.length === 0) throw invalid(`at least one probe set required (${ALL_PROBE_SETS.map(probeName).join(', ')})`);
  for (const p of req.probes) {
    if (!ALL_PROBE_SETS.includes(p)) throw invalid(`unknown probe set ${p}`);
  }
  // Following a pid's children is the CHILDREN probe set, whichever way the order says it.
  const t = req.target.target;
  const follow = t.$case === 'tgid' && t.value.followChildren;
  const probes = [...new Set(follow ? [...req.probes, ProbeSet.PROBE_SET_CHILDREN] : req.probes)];
  const refused = probes.filter((p) => !policy.allowedProbes.includes(p));
  if (refused.length > 0) {
    throw new ZoomOrderError(
      GrpcStatus.PERMISSION_DENIED,
      `probe set ${refused.map(probeName).join(', ')} not allowed by this sensor's policy (allowed: ${policy.allowedProbes.map(probeName).join(', ') || 'none'})`,
    );
  }
  const bound = (what: string, value: number, max: number, unit = '') => {
    if (value > max) throw invalid(`${what} ${value}${unit} exceeds this sensor's maximum of ${max}${unit}`);
  };
  bound('ttl_s', req.ttlS, policy.maxTtlS, ' s');
  const maxEvents = Number(req.maxEvents || '0');
  if (!Number.isSafeInteger(maxEvents)) throw invalid(`max_events out of range: ${req.maxEvents}`);
  bound('max_events', maxEvents, policy.maxEvents);
  bound('max_events_per_s', req.maxEventsPerS, policy.maxEventsPerS);
  bound('payload_prefix_bytes', req.payloadPrefixBytes, Math.min(policy.maxPayloadPrefixBytes, ZOOM_PREFIX_MAX));
  for (const [field, max] of Object.entries(MAX_TEXT)) {
    const v = req[field as keyof typeof MAX_TEXT];
    if (v.length > max) throw invalid(`${field} longer than ${max} characters`);
  }
  const ttlS = req.ttlS || policy.defaultTtlS;
  return {
    probes,
    mask: probes.reduce((m, p) => m | probeBit(p), 0),
    ttlS: Math.min(ttlS, policy.maxTtlS),
    maxEvents: maxEvents || Math.min(policy.defaultMaxEvents, policy.maxEvents),
    maxEventsPerS: req.maxEventsPerS || Math.min(policy.defaultEventsPerS, policy.maxEventsPerS),
    payloadPrefixBytes: req.payloadPrefixBytes || Math.min(policy.defaultPayloadPrefixBytes, policy.maxPayloadPrefixBytes),
  };
}

/** Validates a policy (sensor options); throws with what is wrong. */
export function checkPolicy(p: ZoomPolicy): void {
  if (p.maxConcurrent < 1 || p.maxConcurrent > ZOOM_SLOTS) throw new Error(`zoom maxConcurrent must be 1..${ZOOM_SLOTS}`);
  if (p.maxPayloadPrefixBytes > ZOOM_PREFIX_MAX) throw new Error(`zoom payload prefix at most ${ZOOM_PREFIX_MAX} bytes`);
  if (p.defaultTtlS < 1 || p.maxTtlS < 1) throw new Error('zoom TTLs must be >= 1 s');
}
