import type { Db } from '../client';
import type { CanonicalRow } from '../encoding';
import { insertBuilder, insertRows, prepareInsert, runInsert, selectRows, type InsertBuilder, type PreparedInsert } from '../query';
import { activityCounters, factsCurrent, processEventsCurrent, sensorBatchFoldColumns } from '../schema/detection';
import { sensorGaps, sensorStatus } from '../schema/tables';
import { codeFingerprints, fileAccesses, ioUringOps, sensorBatchesWithEvidence, socketEvents, zooms } from '../schema/zoom';
import { codeFingerprintRow, fileAccessRow, ioUringOpRow, socketEventRow, zoomRow } from './evidence';
import { nsToClickHouse } from '../time';
import type { Event, EventBatch, Fact, SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * The ingest path of sensor streams, stored in **units**: consecutive batches of one sensor epoch
 * that the collector stores together (server/collector/link.ts decides the boundaries). Exactly
 * once in storage, through crashes at any point and re-reads with other arrival timing:
 *
 * 1. The unit's row in `sensor_batches` is written FIRST. It is the intent: the seq range
 *    [first, last] and what is known about it (events, rows per table, gap, drops).
 * 2. Then the data inserts (process_events, facts, activity_counters, the zoom-in evidence tables,
 *    zooms, sensor_gaps), every one of them carrying the unit's dedup token
 *    `${sensor}:${epoch}:${first}-${last}`; ClickHouse drops a second copy of an insert with a
 *    token it has seen (the tables' dedup window). The intent counts the rows of each data table,
 *    so a verification can count them back (zoom state rows excepted: `zooms` is a
 *    ReplacingMergeTree whose versions collapse, so they are counted but not verified — they are
 *    idempotent by themselves, the same state written twice is one row).
 *
 * Evidence rows are tagged with their zoom (Event.zoom_id) and, mapped when the unit is built, the
 * zoom's investigation: from the zoom's own ZoomState events, which precede its evidence in the
 * stream, or — for a zoom whose state was in an earlier unit — from what storage holds
 * (`ZoomInvestigations`, loaded by the collector before its first unit).
 * 3. Units are stored one after the other, so only the newest recorded unit of a sensor can be
 *    incomplete. A collector (re)starting resumes *before* it and forms its first unit exactly
 *    [first, last] again — same token, so whatever was stored already is dropped and whatever
 *    was not is stored. A re-read from the beginning reproduces every recorded unit's boundaries.
 * 4. When the newest unit cannot be redone (the sensor restarted, or no longer holds those seqs),
 *    the collector counts what was stored of it (countUnitRows) and records the shortfall as a
 *    `unit_shortfall` gap.
 *
 * 5. Repeated facts are folded at storage (server/collector/factFold.ts, through FactAdmission):
 *    a fact is stored the first time its (workload, executable, kind, key) is seen within a fold
 *    window, repeats are counted in the unit's record (`facts_folded`). The fold's state follows
 *    from what storage holds before a seq (factFoldHistory), so a redone unit folds the same way.
 *
 * All SQL of the path lives here; rows are canonical (db/encoding.ts) and inserted through
 * db/query.ts (RowBinary files when embedded, JSONEachRow for a server).
 */

export type SensorGapKind =
  | 'seq_gap'
  | 'restart'
  | 'kernel_drop'
  | 'user_drop'
  | 'stream_error'
  | 'rejected_batch'
  | 'unit_shortfall';

export interface SensorGap {
  sensor: string;
  epoch: string;
  kind: SensorGapKind;
  fromSeq: string;
  toSeq: string;
  count: string;
  tsNs: string;
  detail: string;
}

/** A unit as recorded in sensor_batches (the intent). Seqs, counts and times as decimal strings. */
export interface StreamUnit {
  sensor: string;
  epoch: string;
  firstSeq: string;
  lastSeq: string;
  /** Events in the unit (last − first + 1: a unit never spans a gap). */
  events: number;
  /** Rows the unit writes to process_events (exec, fork, exit events). */
  processRows: number;
  /** Rows the unit writes to facts and to activity_counters. */
  factRows: number;
  /** Facts of the unit not stored: repeats within the fold window (not part of the verified counts). */
  factsFolded: number;
  counterRows: number;
  /** Rows the unit writes to the four evidence tables (io_uring_ops, socket_events, file_accesses, code_fingerprints). */
  evidenceRows: number;
  /** Zoom state rows the unit writes to zooms (counted, not verified: see the module comment). */
  zoomRows: number;
  /** Seqs before first_seq were asked for but not held (`missing` of them), or a new epoch began. */
  gap: boolean;
  missing: string;
  dropped: string;
  droppedKernel: string;
  droppedUser: string;
  /** The first and last events' times; min/max over all of them (bounds for countUnitRows). */
  firstTsNs: string;
  lastTsNs: string;
  minTsNs: string;
  maxTsNs: string;
  receivedAtNs: string;
}

export function unitToken(unit: Pick<StreamUnit, 'sensor' | 'epoch' | 'firstSeq' | 'lastSeq'>): string {
  return `${unit.sensor}:${unit.epoch}:${unit.firstSeq}-${unit.lastSeq}`;
}

type Body = NonNullable<Event['body']>;
type BodyOf<C extends Body['$case']> = Extract<Body, { $case: C }>['value'];

/**
 * Maps one proto event to its canonical process_events row; null for event kinds stored
 * elsewhere. Every row has every key (undefined = the column's default), so rows share one shape
 * and the generated encoder reads them at full speed.
 */
export function processEventRow(event: Event, sensor: string, epoch: string): CanonicalRow | null {
  const body = event.body;
  if (!body) return null;
  let exec: BodyOf<'exec'> | undefined;
  let fork: BodyOf<'fork'> | undefined;
  let exit: BodyOf<'exit'> | undefined;
  if (body.$case === 'exec') exec = body.value;
  else if (body.$case === 'fork') fork = body.value;
  else if (body.$case === 'exit') exit = body.value;
  else return null;
  const container = exec?.container;
  const workload = exec?.workload;
  return {
    node: event.node,
    sensor,
    epoch,
    seq: event.seq,
    ts: event.tsNs,
    kind: body.$case,
    exec_id: event.execId,
    parent_exec_id: exec?.parentExecId,
    pid: event.pid,
    tid: event.tid,
    ppid: exec ? exec.ppid : fork?.parentPid,
    uid: exec?.uid,
    gid: exec?.gid,
    auid: exec?.auid,
    binary: exec?.binary,
    argv: exec?.argv,
    argv_truncated: exec?.argvTruncated,
    cwd: exec?.cwd,
    comm: exec?.comm,
    cgroup_id: exec?.cgroupId,
    cgroup_path: exec?.cgroupPath,
    container_runtime: container?.runtime,
    container_id: container?.containerId,
    pod_uid: container?.podUid,
    pod_name: container?.podName || workload?.podName,
    pod_namespace: container?.namespace || workload?.namespace,
    seeded: exec?.seeded,
    // exec: when the image started (seeded processes started before the sensor); else the event.
    start_ts: exec && exec.startNs !== '0' ? exec.startNs : event.tsNs,
    child_pid: fork?.childPid,
    exit_code: exit?.exitCode,
    exit_signal: exit?.signal,
    workload: workload?.key,
    workload_kind: workload?.kind,
    workload_namespace: workload?.namespace,
    workload_name: workload?.name,
    workload_container: workload?.container,
    workload_name_source: workload?.nameSource,
  };
}

/** Enum names by proto number (the tables' Enum8 values use the same numbers). */
export const FACT_KINDS: readonly string[] = ['unspecified', 'syscall', 'io_uring_op', 'io_uring_setup', 'endpoint', 'file'];
const VIAS: readonly string[] = ['unspecified', 'syscall', 'io_uring'];
const DIRECTIONS: readonly string[] = ['unspecified', 'outbound', 'inbound'];

/** A fact event's canonical `facts` row; `binary`: its image's executable ('' unknown). */
export function factRow(event: Event, fact: BodyOf<'fact'>, sensor: string, epoch: string, binary = ''): CanonicalRow {
  return {
    node: event.node,
    sensor,
    epoch,
    seq: event.seq,
    ts: event.tsNs,
    exec_id: event.execId,
    pid: event.pid,
    tid: event.tid,
    own: event.own === true,
    workload: fact.workload,
    kind: FACT_KINDS[fact.kind] ?? 'unspecified',
    name: fact.name,
    number: fact.number,
    via: VIAS[fact.via] ?? 'unspecified',
    abi: fact.abi,
    address: fact.address,
    port: fact.port,
    protocol: fact.protocol,
    direction: DIRECTIONS[fact.direction] ?? 'unspecified',
    path: fact.path,
    path_class: fact.pathClass,
    open_flags: fact.openFlags,
    path_relative: fact.pathRelative,
    ring_flags: fact.ringFlags,
    sqpoll: fact.sqpoll,
    sq_entries: fact.sqEntries,
    cq_entries: fact.cqEntries,
    ring_flag_names: fact.ringFlagNames,
    fd: fact.fd,
    binary,
  };
}

/** What a fold key is made of: a fact as the sensor sent it (enum numbers) or as stored (names). */
export interface FactFoldKeyParts {
  workload: string;
  /** the image's executable; '' unknown (then the image itself is the key's executable) */
  binary: string;
  execId: string;
  kind: number | string;
  name: string;
  abi: string;
  direction: number | string;
  via: number | string;
  path: string;
}

/** The key repeats of one fact share: same workload, executable, kind and what the fact names. */
export function factFoldKeyOf(p: FactFoldKeyParts): string {
  const kind = typeof p.kind === 'number' ? (FACT_KINDS[p.kind] ?? 'unspecified') : p.kind;
  const direction = typeof p.direction === 'number' ? (DIRECTIONS[p.direction] ?? 'unspecified') : p.direction;
  const via = typeof p.via === 'number' ? (VIAS[p.via] ?? 'unspecified') : p.via;
  return `${p.workload}\u001f${p.binary || '#' + p.execId}\u001f${kind}\u001f${p.name}\u001f${p.abi}\u001f${direction}\u001f${via}\u001f${p.path}`;
}

/**
 * Which facts a unit stores (server/collector/factFold.ts folds repeats). Told every exec event
 * before the facts that follow it; must decide from the stream alone (see factFoldHistory).
 */
export interface FactAdmission {
  exec(execId: string, binary: string): void;
  /** The image's executable, '' when its exec event is not known. */
  binaryOf(execId: string): string;
  /** true: store the fact; false: it repeats a stored one (counted as folded). */
  admit(event: Event, fact: Fact, binary: string): boolean;
}

/** An activity-counters event's canonical `activity_counters` row. */
export function counterRow(event: Event, c: BodyOf<'counters'>, sensor: string, epoch: string): CanonicalRow {
  return {
    node: event.node,
    sensor,
    epoch,
    seq: event.seq,
    ts: event.tsNs,
    since_ts: c.sinceNs !== '0' ? c.sinceNs : event.tsNs,
    exec_id: event.execId,
    pid: event.pid,
    own: event.own === true,
    workload: c.workload,
    syscalls: c.syscalls,
    io_uring_submissions: c.ioUringSubmissions,
    io_uring_setups: c.ioUringSetups,
    connects: c.connects,
    sends_addressed: c.sendsAddressed,
    accepts: c.accepts,
    opens: c.opens,
    sensitive_opens: c.sensitiveOpens,
    final: c.final,
  };
}

/** The gaps and drops a unit's record describes (stored with the unit's token). */
export function unitGaps(unit: StreamUnit): SensorGap[] {
  const gaps: SensorGap[] = [];
  const base = { sensor: unit.sensor, epoch: unit.epoch, tsNs: unit.firstTsNs };
  // gap with nothing missing is the first batch of a new epoch: the collector records the restart.
  if (unit.gap && unit.missing !== '0') {
    const first = BigInt(unit.firstSeq);
    const missing = BigInt(unit.missing);
    gaps.push({
      ...base,
      kind: 'seq_gap',
      fromSeq: (first - missing > 0n ? first - missing : 0n).toString(),
      toSeq: (first > 0n ? first - 1n : 0n).toString(),
      count: unit.missing,
      detail: `the sensor no longer held ${unit.missing} event(s) before seq ${unit.firstSeq}`,
    });
  }
  const range = { fromSeq: unit.firstSeq, toSeq: unit.lastSeq };
  if (unit.droppedKernel !== '0') {
    gaps.push({ ...base, ...range, kind: 'kernel_drop', count: unit.droppedKernel, detail: `${unit.droppedKernel} event(s) lost in the kernel ring buffer` });
  }
  if (unit.droppedUser !== '0') {
    gaps.push({ ...base, ...range, kind: 'user_drop', count: unit.droppedUser, detail: `${unit.droppedUser} event(s) the sensor could not queue` });
  }
  const otherDrops = BigInt(unit.dropped) - BigInt(unit.droppedKernel) - BigInt(unit.droppedUser);
  if (otherDrops > 0n) {
    gaps.push({ ...base, ...range, kind: 'user_drop', count: otherDrops.toString(), detail: `${otherDrops} event(s) dropped by the sensor` });
  }
  return gaps;
}

function gapRow(gap: SensorGap): CanonicalRow {
  return {
    sensor: gap.sensor,
    epoch: gap.epoch,
    ts: gap.tsNs,
    kind: gap.kind,
    from_seq: gap.fromSeq,
    to_seq: gap.toSeq,
    count: gap.count,
    detail: gap.detail,
  };
}

function unitRow(unit: StreamUnit): CanonicalRow {
  return {
    sensor: unit.sensor,
    epoch: unit.epoch,
    first_seq: unit.firstSeq,
    last_seq: unit.lastSeq,
    events: unit.events,
    process_rows: unit.processRows,
    fact_rows: unit.factRows,
    facts_folded: unit.factsFolded,
    counter_rows: unit.counterRows,
    evidence_rows: unit.evidenceRows,
    zoom_rows: unit.zoomRows,
    gap: unit.gap,
    missing: unit.missing,
    dropped: unit.dropped,
    dropped_kernel: unit.droppedKernel,
    dropped_user: unit.droppedUser,
    first_ts: unit.firstTsNs,
    last_ts: unit.lastTsNs,
    min_ts: unit.minTsNs,
    max_ts: unit.maxTsNs,
    received_at: unit.receivedAtNs,
  };
}

/** sensor_batches as migrations 0002, 0004, 0005 and 0007 left it: a unit's record. */
const sensorBatchesRecord = { ...sensorBatchesWithEvidence, columns: [...sensorBatchesWithEvidence.columns, ...sensorBatchFoldColumns] };

/** A unit encoded for storage: the intent, then the data inserts. */
export interface PreparedUnit {
  unit: StreamUnit;
  token: string;
  intent: PreparedInsert;
  data: { tag: string; insert: PreparedInsert }[];
}

/** What a unit's events say about it (the rest of its record comes from the stream). */
export type UnitContents = Pick<
  StreamUnit,
  'events' | 'processRows' | 'factRows' | 'factsFolded' | 'counterRows' | 'evidenceRows' | 'zoomRows' | 'firstTsNs' | 'lastTsNs' | 'minTsNs' | 'maxTsNs'
>;

/**
 * Which investigation a zoom's evidence belongs to. The unit builder tells it every zoom state it
 * sees (they carry the investigation the order named) and asks it for every evidence row.
 */
export interface ZoomInvestigationLookup {
  investigationOf(zoomId: string): string;
  remember(zoomId: string, investigationId: string): void;
}

/** A lookup that knows only the zoom states it was told about (tests, one-off stores). */
export function localZoomLookup(): ZoomInvestigationLookup {
  const known = new Map<string, string>();
  return { investigationOf: (id) => known.get(id) ?? '', remember: (id, inv) => void known.set(id, inv) };
}

/** The counts a unit's record must match (what was encoded), as one comparable string. */
export function unitRowCounts(u: Pick<StreamUnit, 'processRows' | 'factRows' | 'counterRows' | 'evidenceRows' | 'zoomRows'>): string {
  return `${u.processRows}/${u.factRows}/${u.counterRows}/${u.evidenceRows}/${u.zoomRows}`;
}

/**
 * The data of one unit, encoded as its events arrive (CPU only, no storage): decoded events are
 * dropped right after, instead of being held — with their rows — until the unit closes.
 */
export class UnitBuilder {
  private readonly rows: InsertBuilder;
  private readonly factRows: InsertBuilder;
  private readonly counterRows: InsertBuilder;
  /** Zoom-in evidence (rare: only inside zooms) and zoom state rows. */
  private readonly ioUringRows: InsertBuilder;
  private readonly socketRows: InsertBuilder;
  private readonly fileRows: InsertBuilder;
  private readonly codeRows: InsertBuilder;
  private readonly zoomRows: InsertBuilder;
  private readonly zoomLookup: ZoomInvestigationLookup;
  private readonly fold: FactAdmission | undefined;
  private folded = 0;
  private events = 0;
  private firstTs = '';
  private lastTs = '';
  private minTs = '';
  private maxTs = '';

  constructor(
    private readonly db: Db,
    readonly sensor: string,
    readonly epoch: string,
    expectedEvents?: number,
    zoomLookup?: ZoomInvestigationLookup,
    fold?: FactAdmission,
  ) {
    this.fold = fold;
    this.rows = insertBuilder(db, { table: processEventsCurrent, expectedRows: expectedEvents });
    // Facts and counters are few next to lifecycle events once workloads are warm.
    this.factRows = insertBuilder(db, { table: factsCurrent, expectedRows: 64 });
    this.counterRows = insertBuilder(db, { table: activityCounters, expectedRows: 64 });
    this.ioUringRows = insertBuilder(db, { table: ioUringOps, expectedRows: 4 });
    this.socketRows = insertBuilder(db, { table: socketEvents, expectedRows: 4 });
    this.fileRows = insertBuilder(db, { table: fileAccesses, expectedRows: 4 });
    this.codeRows = insertBuilder(db, { table: codeFingerprints, expectedRows: 4 });
    this.zoomRows = insertBuilder(db, { table: zooms, expectedRows: 4 });
    this.zoomLookup = zoomLookup ?? localZoomLookup();
  }

  /** Adds events (in seq order, following the ones added before). */
  add(events: readonly Event[]): void {
    for (const event of events) {
      const ts = event.tsNs;
      if (this.events === 0) this.firstTs = this.minTs = this.maxTs = ts;
      else if (nsLess(ts, this.minTs)) this.minTs = ts;
      else if (nsLess(this.maxTs, ts)) this.maxTs = ts;
      this.lastTs = ts;
      this.events++;
      const body = event.body;
      if (body?.$case === 'fact') this.addFact(event, body.value);
      else if (body?.$case === 'counters') this.counterRows.add(counterRow(event, body.value, this.sensor, this.epoch));
      else if (event.zoomId !== undefined && body && body.$case !== 'exec' && body.$case !== 'fork' && body.$case !== 'exit') this.addZoomEvent(event, body);
      else {
        const row = processEventRow(event, this.sensor, this.epoch);
        if (row) this.rows.add(row);
        if (body?.$case === 'exec') this.fold?.exec(event.execId, body.value.binary);
      }
    }
  }

  private addFact(event: Event, fact: Fact): void {
    const fold = this.fold;
    if (!fold) {
      this.factRows.add(factRow(event, fact, this.sensor, this.epoch));
      return;
    }
    const binary = fold.binaryOf(event.execId);
    if (fold.admit(event, fact, binary)) this.factRows.add(factRow(event, fact, this.sensor, this.epoch, binary));
    else this.folded++;
  }

  /** Evidence (tagged with its zoom's investigation) and zoom states. */
  private addZoomEvent(event: Event, body: Body): void {
    const zoomId = event.zoomId!;
    if (body.$case === 'zoomState') {
      const zoom = body.value.zoom;
      if (!zoom) return;
      const id = zoom.id || zoomId;
      this.zoomLookup.remember(id, zoom.investigationId);
      // The lookup's answer wins: a state that names no investigation keeps its order's, and a
      // zoom adopted from a recording (server/collector/adoption.ts) is stored under the cockpit's.
      const investigationId = this.zoomLookup.investigationOf(id) || zoom.investigationId;
      this.zoomRows.add(zoomRow({ ...zoom, id, investigationId }, { source: 'stream', sensor: this.sensor, node: event.node, observedNs: event.tsNs, epoch: this.epoch, seq: event.seq }));
      return;
    }
    const investigation = this.zoomLookup.investigationOf(zoomId);
    if (body.$case === 'ioUringOp') this.ioUringRows.add(ioUringOpRow(event, body.value, this.sensor, this.epoch, investigation));
    else if (body.$case === 'socket') this.socketRows.add(socketEventRow(event, body.value, this.sensor, this.epoch, investigation));
    else if (body.$case === 'fileAccess') this.fileRows.add(fileAccessRow(event, body.value, this.sensor, this.epoch, investigation));
    else if (body.$case === 'code') this.codeRows.add(codeFingerprintRow(event, body.value, this.sensor, this.epoch, investigation));
  }

  private evidenceRowCount(): number {
    return this.ioUringRows.rows + this.socketRows.rows + this.fileRows.rows + this.codeRows.rows;
  }

  contents(): UnitContents {
    return {
      events: this.events,
      processRows: this.rows.rows,
      factRows: this.factRows.rows,
      factsFolded: this.folded,
      counterRows: this.counterRows.rows,
      evidenceRows: this.evidenceRowCount(),
      zoomRows: this.zoomRows.rows,
      firstTsNs: this.firstTs,
      lastTsNs: this.lastTs,
      minTsNs: this.minTs,
      maxTsNs: this.maxTs,
    };
  }

  /**
   * The unit ready to store, under `unit`'s record: the intent (sensor_batches), its events
   * (process_events, facts, activity_counters, the evidence tables, zooms) and the gaps it
   * describes (sensor_gaps). The record must count the rows encoded here: it is what a later
   * verification counts against.
   */
  prepare(unit: StreamUnit): PreparedUnit {
    const encoded = unitRowCounts(this.contents());
    if (unitRowCounts(unit) !== encoded || unit.sensor !== this.sensor || unit.epoch !== this.epoch) {
      throw new Error(`unit ${unitToken(unit)} records ${unitRowCounts(unit)} process/fact/counter/evidence/zoom rows, ${encoded} were encoded`);
    }
    return {
      unit,
      token: unitToken(unit),
      intent: prepareInsert(this.db, { table: sensorBatchesRecord, rows: [unitRow(unit)] }),
      data: [
        { tag: 'ingest:process_events', insert: this.rows.finish() },
        { tag: 'ingest:facts', insert: this.factRows.finish() },
        { tag: 'ingest:activity_counters', insert: this.counterRows.finish() },
        { tag: 'ingest:io_uring_ops', insert: this.ioUringRows.finish() },
        { tag: 'ingest:socket_events', insert: this.socketRows.finish() },
        { tag: 'ingest:file_accesses', insert: this.fileRows.finish() },
        { tag: 'ingest:code_fingerprints', insert: this.codeRows.finish() },
        { tag: 'ingest:zooms', insert: this.zoomRows.finish() },
        { tag: 'ingest:sensor_gaps', insert: prepareInsert(this.db, { table: sensorGaps, rows: unitGaps(unit).map(gapRow) }) },
      ],
    };
  }
}

/** Stores a prepared unit: the intent row first, then the data, all with the unit's token. */
export async function storePreparedUnit(db: Db, prepared: PreparedUnit): Promise<void> {
  await runInsert(db, prepared.intent, { tag: 'ingest:sensor_batches', dedupToken: prepared.token });
  for (const { tag, insert } of prepared.data) await runInsert(db, insert, { tag, dedupToken: prepared.token });
}

/** Stores one batch as a unit of its own, idempotently (see the module comment). */
export async function storeEventBatch(db: Db, batch: EventBatch, receivedAtNs: bigint, zoomLookup?: ZoomInvestigationLookup): Promise<void> {
  const builder = new UnitBuilder(db, batch.sensor, batch.epoch, batch.events.length, zoomLookup);
  builder.add(batch.events);
  const contents = builder.contents();
  const received = receivedAtNs.toString();
  const unit: StreamUnit = {
    sensor: batch.sensor,
    epoch: batch.epoch,
    firstSeq: batch.firstSeq,
    lastSeq: batch.lastSeq,
    gap: batch.gap,
    missing: batch.missing,
    dropped: batch.dropped,
    droppedKernel: batch.droppedKernel,
    droppedUser: batch.droppedUser,
    receivedAtNs: received,
    ...contents,
    ...(contents.events === 0 ? { firstTsNs: received, lastTsNs: received, minTsNs: received, maxTsNs: received } : {}),
  };
  await storePreparedUnit(db, builder.prepare(unit));
}

/** Decimal nanosecond strings compared as numbers (no BigInt). */
export function nsLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/**
 * Records a gap the collector itself observed (restart, stream error, rejected batch, shortfall).
 * Idempotent: the dedup token is `token` when given (what identifies the observation, e.g. which
 * epoch followed which), else derived from the gap's fields.
 */
export async function recordSensorGap(db: Db, gap: SensorGap, token?: string): Promise<void> {
  await insertRows(db, {
    table: sensorGaps,
    rows: [gapRow(gap)],
    tag: 'ingest:sensor_gaps',
    dedupToken: token ?? `${gap.sensor}:${gap.epoch}:${gap.kind}:${gap.fromSeq}-${gap.toSeq}:${gap.tsNs}`,
  });
}

const UNIT_COLUMNS = `sensor, epoch, first_seq AS firstSeq, last_seq AS lastSeq, events, process_rows AS processRows,
  fact_rows AS factRows, facts_folded AS factsFolded, counter_rows AS counterRows, evidence_rows AS evidenceRows, zoom_rows AS zoomRows,
  gap, missing, dropped, dropped_kernel AS droppedKernel, dropped_user AS droppedUser,
  toString(toUnixTimestamp64Nano(first_ts)) AS firstTsNs, toString(toUnixTimestamp64Nano(last_ts)) AS lastTsNs,
  toString(toUnixTimestamp64Nano(min_ts)) AS minTsNs, toString(toUnixTimestamp64Nano(max_ts)) AS maxTsNs,
  toString(toUnixTimestamp64Nano(received_at)) AS receivedAtNs`;

interface UnitRowOut extends Omit<StreamUnit, 'events' | 'processRows' | 'factRows' | 'factsFolded' | 'counterRows' | 'evidenceRows' | 'zoomRows' | 'gap'> {
  events: number | string;
  processRows: number | string;
  factRows: number | string;
  factsFolded: number | string;
  counterRows: number | string;
  evidenceRows: number | string;
  zoomRows: number | string;
  gap: boolean | number;
}

function toUnit(row: UnitRowOut): StreamUnit {
  return {
    ...row,
    events: Number(row.events),
    processRows: Number(row.processRows),
    factRows: Number(row.factRows),
    factsFolded: Number(row.factsFolded),
    counterRows: Number(row.counterRows),
    evidenceRows: Number(row.evidenceRows),
    zoomRows: Number(row.zoomRows),
    gap: Boolean(row.gap),
  };
}

/**
 * Where to resume a sensor's stream: its newest epoch and the newest unit recorded in it (which
 * may be incomplete: the collector resumes before it and redoes it). lastSeq: its last seq.
 */
export async function getResumePoint(db: Db, sensor: string): Promise<{ epoch: string; lastSeq: string; unit: StreamUnit } | null> {
  const rows = await selectRows<UnitRowOut>(db, {
    sql: `SELECT ${UNIT_COLUMNS}
          FROM sensor_batches
          WHERE sensor = {sensor:String}
            AND epoch = (SELECT argMax(epoch, received_at) FROM sensor_batches WHERE sensor = {sensor:String})
          ORDER BY last_seq DESC, first_seq DESC
          LIMIT 1`,
    params: { sensor },
    tag: 'ingest:resume_point',
  });
  const unit = rows[0] ? toUnit(rows[0]) : null;
  return unit ? { epoch: unit.epoch, lastSeq: unit.lastSeq, unit } : null;
}

/** The units recorded for a sensor epoch that end at or after `fromSeq`, in seq order. */
export async function listUnits(db: Db, sensor: string, epoch: string, fromSeq: string): Promise<StreamUnit[]> {
  const rows = await selectRows<UnitRowOut>(db, {
    sql: `SELECT ${UNIT_COLUMNS}
          FROM sensor_batches
          WHERE sensor = {sensor:String} AND epoch = {epoch:String} AND last_seq >= {from:UInt64}
          ORDER BY first_seq, last_seq
          LIMIT 1 BY first_seq, last_seq`,
    params: { sensor, epoch, from: fromSeq },
    tag: 'ingest:list_units',
  });
  return rows.map(toUnit);
}

/** Rows a unit records across its data tables (what countUnitRows counts back; zoom state rows are not verified). */
export function unitDataRows(unit: Pick<StreamUnit, 'processRows' | 'factRows' | 'counterRows' | 'evidenceRows'>): number {
  return unit.processRows + unit.factRows + unit.counterRows + unit.evidenceRows;
}

/**
 * How many rows of a unit's seq range are stored in its data tables (process_events, facts,
 * activity_counters and the evidence tables: one row per seq at most), bounded by its times.
 */
export async function countUnitRows(db: Db, unit: StreamUnit): Promise<number> {
  const where = `sensor = {sensor:String} AND epoch = {epoch:String}
              AND seq BETWEEN {first:UInt64} AND {last:UInt64}
              AND ts BETWEEN {minTs:DateTime64(9, 'UTC')} AND {maxTs:DateTime64(9, 'UTC')}`;
  const rows = await selectRows<{ n: string }>(db, {
    sql: `SELECT count() AS n FROM (
            SELECT DISTINCT seq FROM process_events WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM facts WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM activity_counters WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM io_uring_ops WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM socket_events WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM file_accesses WHERE ${where}
            UNION DISTINCT SELECT DISTINCT seq FROM code_fingerprints WHERE ${where})`,
    params: {
      sensor: unit.sensor,
      epoch: unit.epoch,
      first: unit.firstSeq,
      last: unit.lastSeq,
      minTs: nsToClickHouse(unit.minTsNs),
      maxTs: nsToClickHouse(unit.maxTsNs),
    },
    tag: 'ingest:count_unit_rows',
  });
  return Number(rows[0]?.n ?? 0);
}

/** What the fact fold's state before a seq follows from (server/collector/factFold.ts). */
export interface FactFoldHistory {
  /** The newest time among the epoch's stored facts before the seq (null: none stored). */
  watermarkNs: string | null;
  /** Stored facts from just before the watermark's window starts, in seq order. */
  facts: (FactFoldKeyParts & { seq: string; tsNs: string })[];
  /** The newest `maxExecs` images by their exec event, oldest first. */
  execs: { execId: string; binary: string }[];
}

/**
 * The stored rows a fact fold is rebuilt from, for `sensor`'s `epoch` before `beforeSeq`: the
 * watermark; the facts stored since `windowStartNs(watermark)` less `slackNs` (the caller
 * picks those of the watermark's window); the images' executables.
 */
export async function factFoldHistory(
  db: Db,
  q: { sensor: string; epoch: string; beforeSeq: string; maxExecs: number; windowStartNs: (watermarkNs: string) => bigint; slackNs: bigint },
): Promise<FactFoldHistory> {
  const scope = 'sensor = {sensor:String} AND epoch = {epoch:String} AND seq < {before:UInt64}';
  const params = { sensor: q.sensor, epoch: q.epoch, before: q.beforeSeq };
  const execs = await selectRows<{ execId: string; binary: string }>(db, {
    sql: `SELECT execId, execBinary AS binary FROM (
            SELECT exec_id AS execId, argMax(binary, seq) AS execBinary, max(seq) AS lastSeq
            FROM process_events WHERE ${scope} AND kind = 'exec'
            GROUP BY exec_id ORDER BY lastSeq DESC LIMIT {maxExecs:UInt32})
          ORDER BY lastSeq`,
    params: { ...params, maxExecs: q.maxExecs },
    tag: 'ingest:fold_execs',
  });
  const mark = await selectRows<{ n: string; wm: string }>(db, {
    sql: `SELECT count() AS n, toString(toUnixTimestamp64Nano(max(ts))) AS wm FROM facts WHERE ${scope}`,
    params,
    tag: 'ingest:fold_watermark',
  });
  if (Number(mark[0]?.n ?? 0) === 0) return { watermarkNs: null, facts: [], execs };
  const watermarkNs = mark[0]!.wm;
  const since = q.windowStartNs(watermarkNs) - q.slackNs;
  // Aliases differ from column names: ClickHouse would read an alias named like a column in WHERE.
  const facts = await selectRows<FactFoldKeyParts & { seq: string; tsNs: string }>(db, {
    sql: `SELECT seqText AS seq, tsNs, workload, binary, execId, kindName AS kind, name, abi, directionName AS direction, viaName AS via, path FROM (
            SELECT seq AS factSeq, toString(seq) AS seqText, toString(toUnixTimestamp64Nano(ts)) AS tsNs, workload, binary, exec_id AS execId,
                   toString(kind) AS kindName, name, abi, toString(direction) AS directionName, toString(via) AS viaName, path
            FROM facts
            WHERE ${scope} AND seq >= (SELECT min(seq) FROM facts WHERE ${scope} AND ts >= {since:DateTime64(9, 'UTC')})
            ORDER BY factSeq
            LIMIT 1 BY factSeq)`,
    params: { ...params, since: nsToClickHouse(since > 0n ? since.toString() : '0') },
    tag: 'ingest:fold_facts',
  });
  return { watermarkNs, facts, execs };
}

export async function recordSensorStatus(db: Db, status: SensorStatus, observedAtNs: bigint): Promise<void> {
  await insertRows(db, {
    table: sensorStatus,
    rows: [
      {
        sensor: status.sensor,
        observed_at: observedAtNs.toString(),
        epoch: status.epoch,
        node: status.node,
        mode: status.mode,
        kernel_release: status.kernelRelease,
        btf_available: status.btfAvailable,
        version: status.version,
        events_total: status.eventsTotal,
        last_seq: status.lastSeq,
        dropped_kernel: status.droppedKernel,
        dropped_user: status.droppedUser,
        uptime_ns: status.uptimeNs,
        started_at: status.startedAtNs,
        status_json: JSON.stringify(status),
      },
    ],
    tag: 'collector:sensor_status',
  });
}

// --- zooms adopted from recordings (server/collector/adoption.ts) ---------------------------------

/**
 * The newest open investigation about one process (node + exec id) created since `sinceNs`: where
 * a replayed zoom's evidence goes when the investigation it names is not this cockpit's.
 */
export async function findOpenInvestigationOf(db: Db, node: string, execId: string, sinceNs: string): Promise<string | null> {
  const rows = await selectRows<{ id: string }>(db, {
    sql: `SELECT id FROM investigations FINAL
          WHERE node = {node:String} AND exec_id = {execId:String} AND status = 'open'
            AND created_at >= {since:DateTime64(9, 'UTC')}
          ORDER BY created_at DESC, id
          LIMIT 1`,
    params: { node, execId, since: nsToClickHouse(sinceNs) },
    tag: 'collector:adoption_investigation',
  });
  return rows[0]?.id ?? null;
}
