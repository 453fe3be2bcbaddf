import { createHash, randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { Db } from '../../db/client';
import { parseExecId } from '../../db/ids';
import { probeSetName, zoomStatusName, zoomTargetOf, type ZoomTargetKind } from '../../db/repositories/evidence';
import type { IndicatorRecord } from '../../db/repositories/indicators';
import { getInvestigation, upsertInvestigation, type InvestigationRecord } from '../../db/repositories/investigations';
import { getZoom, insertZoomOrder, sensorOfExec, sensorOfNode, upsertZoomState, type ZoomOrderRecord } from '../../db/repositories/zooms';
import { nowNs } from '../../db/time';
import { ProbeSet, ZoomStatus, type Zoom, type ZoomRequest, type ZoomTarget } from '../../sensor/gen/soc/sensor/v1/sensor';
import { createLogger, type Logger } from '../../sensor/src/log';
import { audit, type AuditActor } from '../auth/audit';
import { liveZoomControls, type SensorZoomControl, type ZoomControls } from './control';
import { getZoomDirectory, type ZoomDirectory } from './directory';
import { grpcName, refusalToTrpc } from './errors';
import { autoZoomFor, zoomPolicy, ZoomPolicyError, type ProbeName, type ZoomPolicy } from './policy';
import { toZoomView, type ZoomView } from './views';

/**
 * The zoom service: turns an indicator (automatically, by the policy) or an analyst's order into
 * a ZoomIn to the sensor of the node concerned, and records everything about it.
 *
 *   order     target → the sensor that watches it (exec id: the sensor that delivered the image;
 *             cgroup: the sensor of the node) → ZoomIn over the collector's mTLS link → the
 *             sensor's answer: the zoom (stored as its first lifecycle row) or its refusal (an
 *             API error with the sensor's message, server/zoom/errors.ts)
 *   recorded  one zoom_orders row per order (who, when, why, target, probes, TTL, budget, sensor,
 *             outcome), the zoom's lifecycle in `zooms` (this answer, then the ZoomState events
 *             the collector stores from the stream), one audit event per order and per cancel
 *   auto      an indicator just stored whose kind × severity the policy zooms on: the zoom is
 *             ordered on the indicator's process, in the indicator's investigation (created, or
 *             reused: its id derives from the indicator's). Indicators of a process already
 *             being zoomed join that zoom's investigation instead of ordering another.
 *
 * The ZoomIn is sent first and recorded right after (in parallel): an automatic zoom's probes are
 * attached within milliseconds of the indicator being stored (docs/BENCHMARKS.md). What the cockpit
 * could not record of an order the sensor accepted is still in the stream (the ZoomState names the
 * requester, the reason and the investigation); an order whose audit event cannot be written is
 * cancelled at once and reported as unavailable.
 */

export interface ManualOrderInput {
  execId?: string;
  cgroup?: { node: string; path: string };
  probes: ProbeName[];
  ttlSeconds: number;
  maxEvents?: number;
  reason: string;
  investigationId?: string;
}

export interface ZoomServiceDeps {
  controls: ZoomControls;
  policy: () => ZoomPolicy;
  directory: ZoomDirectory;
  now: () => bigint;
  log: Logger;
}

/** What an automatic order did with one indicator. */
export type AutoOutcome =
  | { outcome: 'skipped'; why: string }
  | { outcome: 'joined'; investigationId: string }
  | { outcome: 'ordered'; investigationId: string; zoom: ZoomView }
  | { outcome: 'refused'; investigationId: string; error: string };

interface OrderSpec {
  trigger: 'manual' | 'auto';
  actor: AuditActor;
  source: string;
  sensor: string;
  control: SensorZoomControl;
  node: string;
  target: ZoomTarget;
  probes: ProbeName[];
  ttlSeconds: number;
  maxEvents: number;
  reason: string;
  investigationId: string;
  indicatorId: string;
  /** auto: when the indicator was stored (the order's time) */
  atNs?: bigint;
  /** the investigation a refusal is recorded under (a manual order's new investigation is only made when the zoom is) */
  refusedInvestigationId?: string;
}

const POLICY_ACTOR: AuditActor = { type: 'system', id: 'zoom-policy', name: 'zoom policy', role: '' };
const NS_PER_S = 1_000_000_000n;

/** Investigation ids: 24 hex digits; an automatic one derives from its indicator (created once, reused). */
export function investigationIdFor(indicatorId: string): string {
  return createHash('sha256').update(`investigation\u0000${indicatorId}`).digest('hex').slice(0, 24);
}

const newId = (bytes: number) => randomBytes(bytes).toString('hex');

export class ZoomService {
  private lastVersion = 0n;
  /** exec id → the investigation its current automatic zoom belongs to, until the zoom's end */
  private readonly autoByExec = new Map<string, { investigationId: string; until: bigint }>();
  /** investigations this process wrote (so a joining indicator need not read storage) */
  private readonly recent = new Map<string, InvestigationRecord>();

  constructor(private readonly deps: ZoomServiceDeps) {}

  private policy(): ZoomPolicy {
    try {
      return this.deps.policy();
    } catch (err) {
      if (err instanceof ZoomPolicyError) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `zoom policy unavailable: ${err.message}` });
      throw err;
    }
  }

  private version(): string {
    const now = this.deps.now();
    this.lastVersion = now > this.lastVersion ? now : this.lastVersion + 1n;
    return this.lastVersion.toString();
  }

  // --- manual orders ---------------------------------------------------------------------------

  /**
   * An analyst's order (input already validated against the policy's bounds). Resolves the target
   * to its sensor; unknown targets, exited processes and nodes without a configured sensor are
   * refused here (404/503), recorded and audited like the sensor's own refusals.
   */
  async order(db: Db, actor: AuditActor, source: string, input: ManualOrderInput): Promise<{ zoom: ZoomView; investigationId: string }> {
    const policy = this.policy();
    const existing = input.investigationId ? await getInvestigation(db, input.investigationId) : null;
    if (input.investigationId && !existing) throw new TRPCError({ code: 'NOT_FOUND', message: `no investigation ${input.investigationId}` });
    const maxEvents = input.maxEvents ?? policy.manual.maxEvents;
    let node: string;
    let target: ZoomTarget;
    let title: string;
    let execId = '';
    const base = { trigger: 'manual' as const, actor, source, probes: input.probes, ttlSeconds: input.ttlSeconds, maxEvents, reason: input.reason, indicatorId: '' };
    const investigationId = existing?.id ?? newId(12);
    const refuse = async (sensor: string, code: TRPCError['code'], message: string, kind: ZoomTargetKind, value: string): Promise<never> => {
      const error = new TRPCError({ code, message });
      await this.recordRefusal(db, { ...base, sensor, node, investigationId: existing?.id ?? '', targetKind: kind, target: value }, error);
      throw error;
    };
    let sensor: string | null;
    if (input.execId) {
      execId = input.execId;
      node = parseExecId(execId)!.node;
      target = { target: { $case: 'execId', value: execId } };
      const stored = await sensorOfExec(db, node, execId);
      if (!stored) return refuse('', 'NOT_FOUND', `no process with exec id ${execId} (nothing stored for it)`, 'exec_id', execId);
      if (stored.exited) {
        return refuse(stored.sensor, 'NOT_FOUND', `process ${execId} (${stored.binary}) has exited: there is nothing left to zoom on`, 'exec_id', execId);
      }
      sensor = stored.sensor;
      title = `Zoom on ${basename(stored.binary)} [${stored.pid}] on ${node}`;
    } else {
      node = input.cgroup!.node;
      target = { target: { $case: 'cgroup', value: { path: input.cgroup!.path, id: '0' } } };
      sensor = this.deps.controls.sensorOfNode(node) ?? (await sensorOfNode(db, node));
      if (!sensor) return refuse('', 'NOT_FOUND', `no sensor is known for node ${node}`, 'cgroup', input.cgroup!.path);
      title = `Zoom on cgroup ${input.cgroup!.path} on ${node}`;
    }
    const control = this.deps.controls.forSensor(sensor);
    if (!control) {
      return refuse(sensor, 'NOT_FOUND', `sensor ${sensor} (node ${node}) is not configured in this cockpit (SENSORS): no way to reach it`, zoomTargetOf({ target }).kind, zoomTargetOf({ target }).value);
    }
    const zoom = await this.place(db, { ...base, sensor, control, node, target, investigationId, refusedInvestigationId: existing?.id ?? '' }, policy);
    const at = this.deps.now().toString();
    const investigation: InvestigationRecord = existing
      ? { ...existing, updatedAtNs: at, rowVersion: this.version() }
      : {
          id: investigationId,
          title,
          status: 'open',
          trigger: 'manual',
          createdAtNs: at,
          updatedAtNs: at,
          createdBy: actor.name,
          indicatorIds: [],
          node,
          workload: '',
          execId,
          rowVersion: this.version(),
        };
    await upsertInvestigation(db, investigation);
    this.recent.set(investigation.id, investigation);
    return { zoom, investigationId };
  }

  // --- cancel ------------------------------------------------------------------------------------

  /** Ends a zoom at once (the sensor stops its probes before answering); audited. */
  async cancel(db: Db, actor: AuditActor, source: string, zoomId: string, reason: string): Promise<ZoomView> {
    const since = (this.deps.now() - 400n * 86_400n * NS_PER_S).toString();
    const stored = await getZoom(db, zoomId, since);
    if (!stored) throw new TRPCError({ code: 'NOT_FOUND', message: `no zoom ${zoomId}` });
    const control = this.deps.controls.forSensor(stored.sensor);
    const detail = { sensor: stored.sensor, node: stored.node, investigationId: stored.investigationId, reason, statusBefore: stored.status };
    const target = { type: 'zoom', id: zoomId };
    if (!control) {
      const message = `sensor ${stored.sensor} (node ${stored.node}) is not configured in this cockpit (SENSORS): no way to reach it`;
      await audit(db, { action: 'zooms.cancel', outcome: 'failure', actor, source, target, detail: { ...detail, error: message } });
      throw new TRPCError({ code: 'NOT_FOUND', message });
    }
    let zoom: Zoom;
    try {
      zoom = await control.cancelZoom({ zoomId, requestedBy: requester(actor), reason });
    } catch (err) {
      const error = refusalToTrpc(err, stored.sensor);
      await audit(db, { action: 'zooms.cancel', outcome: 'failure', actor, source, target, detail: { ...detail, error: error.message, code: error.code } });
      throw error;
    }
    await Promise.all([
      upsertZoomState(db, zoom, { source: 'cancel', sensor: stored.sensor, node: stored.node, observedNs: this.deps.now().toString() }),
      audit(db, { action: 'zooms.cancel', actor, source, target, detail: { ...detail, statusAfter: zoomStatusName(zoom.status), endedAtNs: zoom.endedAtNs } }),
    ]);
    const fresh = await getZoom(db, zoomId, since);
    return toZoomView(fresh ?? stored, undefined, this.deps.now());
  }

  // --- automatic orders --------------------------------------------------------------------------

  /**
   * Indicators the detector just stored: each one the policy zooms on is ordered (in the
   * background: the detector does not wait). Returns when every order was placed and recorded.
   */
  onIndicators(db: Db, records: readonly IndicatorRecord[], storedAtNs = this.deps.now()): Promise<AutoOutcome[]> {
    // Decided synchronously, in order, so that indicators of one process in one batch group.
    const pending = records.map((r) => this.autoZoom(db, r, storedAtNs));
    return Promise.all(pending.map((p) => p.catch((err: unknown): AutoOutcome => ({ outcome: 'skipped', why: (err as Error).message }))));
  }

  /** One indicator (see onIndicators). The decision and the reservation run before the first await. */
  autoZoom(db: Db, indicator: IndicatorRecord, storedAtNs: bigint): Promise<AutoOutcome> {
    let policy: ZoomPolicy;
    try {
      policy = this.deps.policy();
    } catch (err) {
      this.deps.log.warn('automatic zoom skipped: no valid zoom policy', { indicator: indicator.id, error: (err as Error).message });
      return Promise.resolve({ outcome: 'skipped', why: (err as Error).message });
    }
    const decision = autoZoomFor(policy, indicator);
    if (!decision.zoom) return Promise.resolve({ outcome: 'skipped', why: decision.why });
    const rule = decision.zoom;
    const now = this.deps.now();
    const current = this.autoByExec.get(indicator.execId);
    if (current && current.until > now) {
      return this.join(db, current.investigationId, indicator).then(() => ({ outcome: 'joined', investigationId: current.investigationId }) as AutoOutcome);
    }
    const investigationId = investigationIdFor(indicator.id);
    // Reserved now: indicators of the same process arriving meanwhile join this investigation.
    this.autoByExec.set(indicator.execId, { investigationId, until: now + BigInt(rule.ttlSeconds) * NS_PER_S });
    if (this.autoByExec.size > 10_000) this.autoByExec.delete(this.autoByExec.keys().next().value!);
    return this.autoOrder(db, indicator, investigationId, rule, policy, storedAtNs);
  }

  private async autoOrder(
    db: Db,
    indicator: IndicatorRecord,
    investigationId: string,
    rule: { probes: ProbeName[]; ttlSeconds: number; maxEvents: number },
    policy: ZoomPolicy,
    storedAtNs: bigint,
  ): Promise<AutoOutcome> {
    const node = indicator.node;
    const sensor = this.deps.controls.sensorOfNode(node) ?? (await sensorOfNode(db, node));
    const control = sensor ? this.deps.controls.forSensor(sensor) : null;
    const reason = `${indicator.severity} indicator ${indicator.id}: ${indicator.sentence}`.slice(0, 1000);
    const base = {
      trigger: 'auto' as const,
      actor: POLICY_ACTOR,
      source: '',
      sensor: sensor ?? '',
      node,
      probes: rule.probes,
      ttlSeconds: rule.ttlSeconds,
      maxEvents: rule.maxEvents,
      reason,
      investigationId,
      indicatorId: indicator.id,
      atNs: storedAtNs,
    };
    const target: ZoomTarget = { target: { $case: 'execId', value: indicator.execId } };
    const investigation = this.ensureAutoInvestigation(db, indicator, investigationId);
    try {
      if (!sensor || !control) {
        const error = new TRPCError({ code: 'NOT_FOUND', message: sensor ? `sensor ${sensor} of node ${node} is not configured in this cockpit` : `no sensor is known for node ${node}` });
        await this.recordRefusal(db, { ...base, targetKind: 'exec_id', target: indicator.execId }, error);
        throw error;
      }
      const zoom = await this.place(db, { ...base, sensor, control, target }, policy);
      await investigation;
      const ends = zoom.expiresAtNs ? BigInt(zoom.expiresAtNs) : this.deps.now();
      this.autoByExec.set(indicator.execId, { investigationId, until: ends });
      this.deps.log.info('automatic zoom', {
        indicator: indicator.id,
        zoom: zoom.id,
        status: zoom.status,
        execId: indicator.execId,
        probes: rule.probes,
        ttlSeconds: rule.ttlSeconds,
        attachMs: zoom.attachMs,
        storedToStartedMs: zoom.startedAtNs ? Number(BigInt(zoom.startedAtNs) - storedAtNs) / 1e6 : null,
      });
      return { outcome: 'ordered', investigationId, zoom };
    } catch (err) {
      await investigation.catch(() => undefined);
      if (this.autoByExec.get(indicator.execId)?.investigationId === investigationId) this.autoByExec.delete(indicator.execId);
      const message = (err as Error).message;
      this.deps.log.warn('automatic zoom refused', { indicator: indicator.id, execId: indicator.execId, error: message });
      return { outcome: 'refused', investigationId, error: message };
    }
  }

  /** The indicator's investigation: created once (its id derives from the indicator). */
  private async ensureAutoInvestigation(db: Db, indicator: IndicatorRecord, id: string): Promise<void> {
    const known = this.recent.get(id) ?? (await getInvestigation(db, id));
    if (known) return;
    const at = this.deps.now().toString();
    const record: InvestigationRecord = {
      id,
      title: indicatorTitle(indicator),
      status: 'open',
      trigger: 'auto',
      createdAtNs: at,
      updatedAtNs: at,
      createdBy: POLICY_ACTOR.name,
      indicatorIds: [indicator.id],
      node: indicator.node,
      workload: indicator.workload,
      execId: indicator.execId,
      rowVersion: this.version(),
    };
    await upsertInvestigation(db, record);
    this.recent.set(id, record);
    if (this.recent.size > 1000) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Another indicator of a process being zoomed: it joins the zoom's investigation. */
  private async join(db: Db, investigationId: string, indicator: IndicatorRecord): Promise<void> {
    let record = this.recent.get(investigationId) ?? (await getInvestigation(db, investigationId));
    for (let i = 0; !record && i < 20; i++) {
      // The investigation is being written by the order that reserved it.
      await new Promise((r) => setTimeout(r, 50));
      record = this.recent.get(investigationId) ?? null;
    }
    if (!record || record.indicatorIds.includes(indicator.id)) return;
    const updated: InvestigationRecord = { ...record, indicatorIds: [...record.indicatorIds, indicator.id], updatedAtNs: this.deps.now().toString(), rowVersion: this.version() };
    this.recent.set(investigationId, updated);
    await upsertInvestigation(db, updated);
    this.deps.log.info('indicator joined a zoomed investigation', { indicator: indicator.id, investigation: investigationId });
  }

  // --- placing an order ----------------------------------------------------------------------------

  /** Sends the order, then records it (zoom row, order row, audit); a refusal is recorded and thrown. */
  private async place(db: Db, spec: OrderSpec, policy: ZoomPolicy): Promise<ZoomView> {
    const request: ZoomRequest = {
      target: spec.target,
      probes: spec.probes.map(probeSet),
      ttlS: spec.ttlSeconds,
      maxEvents: String(spec.maxEvents),
      payloadPrefixBytes: policy.payloadPrefixBytes,
      maxEventsPerS: policy.maxEventsPerSecond,
      investigationId: spec.investigationId,
      requestedBy: spec.trigger === 'auto' ? `zoom policy (indicator ${spec.indicatorId})` : requester(spec.actor),
      reason: spec.reason,
    };
    const orderedAt = spec.atNs ?? this.deps.now();
    const t0 = process.hrtime.bigint();
    let zoom: Zoom;
    try {
      zoom = await spec.control.zoomIn(request);
    } catch (err) {
      const error = refusalToTrpc(err, spec.sensor);
      const code = (err as { code?: number }).code;
      const investigationId = spec.refusedInvestigationId ?? spec.investigationId;
      await this.recordRefusal(db, { ...spec, ...targetFields(spec.target), investigationId, atNs: orderedAt }, error, grpcName(code));
      throw error;
    }
    const roundTripNs = process.hrtime.bigint() - t0;
    this.deps.directory.remember(zoom.id, spec.investigationId);
    const target = targetFields(spec.target);
    const order = this.orderRecord({ ...spec, ...target, atNs: orderedAt }, { outcome: 'accepted', errorCode: '', error: zoom.error, zoomId: zoom.id, roundTripNs: roundTripNs.toString() });
    const observed = this.deps.now().toString();
    const auditDetail = auditDetailOf(order, { zoomStatus: zoomStatusName(zoom.status), attachNs: zoom.attachNs, startedAtNs: zoom.startedAtNs });
    try {
      await Promise.all([
        upsertZoomState(db, zoom, { source: 'order', sensor: spec.sensor, node: spec.node, observedNs: observed }),
        insertZoomOrder(db, order),
        audit(db, {
          action: 'zooms.order',
          outcome: zoom.status === ZoomStatus.ZOOM_STATUS_FAILED ? 'failure' : 'success',
          actor: spec.actor,
          source: spec.source,
          target: { type: target.targetKind === 'cgroup' ? 'cgroup' : 'process', id: target.target },
          detail: auditDetail,
          atNs: orderedAt,
        }),
      ]);
    } catch (err) {
      // Not recorded: the zoom must not run unrecorded. Cancel it at once, then say why.
      await spec.control.cancelZoom({ zoomId: zoom.id, requestedBy: 'cockpit', reason: 'the order could not be recorded' }).catch(() => undefined);
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `zoom ${zoom.id} was cancelled: the order could not be recorded (${(err as Error).message})`, cause: err });
    }
    return toZoomView(
      {
        zoomId: zoom.id,
        sensor: spec.sensor,
        node: spec.node,
        investigationId: zoom.investigationId,
        status: zoomStatusName(zoom.status),
        reason: zoom.reason,
        error: zoom.error,
        targetKind: target.targetKind,
        target: target.target,
        targetTgids: zoom.targetTgids,
        probes: zoom.probes.map(probeSetName),
        ttlSeconds: zoom.ttlS,
        maxEvents: zoom.maxEvents,
        maxEventsPerSecond: zoom.maxEventsPerS,
        payloadPrefixBytes: zoom.payloadPrefixBytes,
        orderedAtNs: zoom.orderedAtNs,
        startedAtNs: zoom.startedAtNs,
        expiresAtNs: zoom.expiresAtNs,
        endedAtNs: zoom.endedAtNs,
        eventsEmitted: zoom.eventsEmitted,
        eventsDropped: zoom.eventsDropped,
        droppedRate: zoom.droppedRate,
        droppedBudget: zoom.droppedBudget,
        droppedRing: zoom.droppedRing,
        fingerprints: zoom.fingerprints,
        attachNs: zoom.attachNs,
        requestedBy: zoom.requestedBy,
        clientSubject: zoom.clientSubject,
        orderReason: zoom.orderReason,
        observedAtNs: observed,
      },
      order,
      this.deps.now(),
    );
  }

  private orderRecord(
    spec: Omit<OrderSpec, 'control' | 'target'> & { targetKind: ZoomTargetKind; target: string },
    outcome: Pick<ZoomOrderRecord, 'outcome' | 'errorCode' | 'error' | 'zoomId' | 'roundTripNs'>,
  ): ZoomOrderRecord {
    const policy = safePolicy(this.deps.policy);
    return {
      orderId: newId(8),
      tsNs: (spec.atNs ?? this.deps.now()).toString(),
      trigger: spec.trigger,
      actorType: spec.actor.type,
      actorId: spec.actor.id,
      actorName: spec.actor.name,
      actorRole: spec.actor.role,
      reason: spec.reason,
      indicatorId: spec.indicatorId,
      investigationId: spec.investigationId,
      sensor: spec.sensor,
      node: spec.node,
      targetKind: spec.targetKind,
      target: spec.target,
      probes: [...spec.probes],
      ttlSeconds: spec.ttlSeconds,
      maxEvents: String(spec.maxEvents),
      maxEventsPerSecond: policy?.maxEventsPerSecond ?? 0,
      payloadPrefixBytes: policy?.payloadPrefixBytes ?? 0,
      ...outcome,
    };
  }

  /** A refused order: its row and its audit event (the refusal itself is the caller's to throw). */
  private async recordRefusal(
    db: Db,
    spec: Omit<OrderSpec, 'control' | 'target'> & { targetKind: ZoomTargetKind; target: string },
    error: TRPCError,
    grpcCode?: string,
  ): Promise<void> {
    const order = this.orderRecord(spec, { outcome: 'refused', errorCode: error.code, error: error.message, zoomId: '', roundTripNs: '0' });
    await Promise.all([
      insertZoomOrder(db, order),
      audit(db, {
        action: 'zooms.order',
        outcome: 'failure',
        actor: spec.actor,
        source: spec.source,
        target: { type: spec.targetKind === 'cgroup' ? 'cgroup' : 'process', id: spec.target },
        detail: auditDetailOf(order, { error: error.message, code: error.code, ...(grpcCode ? { grpc: grpcCode } : {}) }),
        atNs: BigInt(order.tsNs),
      }),
    ]);
  }
}

function safePolicy(policy: () => ZoomPolicy): ZoomPolicy | null {
  try {
    return policy();
  } catch {
    return null;
  }
}

function auditDetailOf(order: ZoomOrderRecord, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    orderId: order.orderId,
    trigger: order.trigger,
    sensor: order.sensor,
    node: order.node,
    target: { kind: order.targetKind, value: order.target },
    probes: order.probes,
    ttlSeconds: order.ttlSeconds,
    maxEvents: order.maxEvents,
    reason: order.reason,
    investigationId: order.investigationId,
    indicatorId: order.indicatorId,
    zoomId: order.zoomId,
    ...extra,
  };
}

function targetFields(target: ZoomTarget): { targetKind: ZoomTargetKind; target: string } {
  const t = zoomTargetOf({ target });
  return { targetKind: t.kind, target: t.value };
}

function probeSet(name: ProbeName): ProbeSet {
  return ProbeSet[`PROBE_SET_${name}` as keyof typeof ProbeSet] as ProbeSet;
}

function requester(actor: AuditActor): string {
  return `${actor.name}${actor.role ? ` (${actor.role})` : ''}`;
}

function basename(path: string): string {
  return path.split('/').pop() || path;
}

function indicatorTitle(i: IndicatorRecord): string {
  const who = i.executable && i.executable !== '*' ? ` by ${basename(i.executable)}` : '';
  const what = i.kind === 'exec' ? `exec ${i.value}` : `${i.kind.replace('_', ' ')} ${i.value}`;
  return `${what}${who} in ${i.workload}`;
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.zoomService');
type GlobalWithService = typeof globalThis & { [GLOBAL_KEY]?: ZoomService };

/** The process's zoom service: the collector's links (or clients of its own), the policy in force. */
export function getZoomService(): ZoomService {
  const g = globalThis as GlobalWithService;
  return (g[GLOBAL_KEY] ??= new ZoomService({
    controls: liveZoomControls,
    policy: () => zoomPolicy(),
    directory: getZoomDirectory(),
    now: nowNs,
    log: createLogger('zoom'),
  }));
}
