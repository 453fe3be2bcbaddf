import type { Db } from '../client';
import { RowBinaryReader, type CanonicalRow } from '../encoding';
import { selectRowBinary, selectRows } from '../query';
import { nsToClickHouse } from '../time';
import { ProbeSet, ZoomStatus, type Event, type Zoom } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * Zoom-in evidence and zoom state rows (db/schema/zoom.ts): the canonical rows the collector's
 * units write (see sensorStream.ts: evidence is stored inside the unit that carries it), and the
 * reads of one investigation's evidence.
 */

type Body = NonNullable<Event['body']>;
type BodyOf<C extends Body['$case']> = Extract<Body, { $case: C }>['value'];

/** Enum names by proto number (the tables' Enum8 values use the same numbers). */
const SOCKET_OPS: readonly string[] = ['unspecified', 'connect', 'accept', 'send', 'recv', 'state'];
const FILE_OPS: readonly string[] = ['unspecified', 'open', 'read', 'write', 'close'];
const CODE_KINDS: readonly string[] = ['unspecified', 'executable', 'shared_object', 'native_module', 'jit'];
const VIAS: readonly string[] = ['unspecified', 'syscall', 'io_uring'];

const port = (p: number) => (p >= 0 && p <= 0xffff ? p : 0);
const u32 = (v: number) => (Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : 0);
const i32 = (v: number) => (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff ? v : 0);

function common(event: Event, sensor: string, epoch: string, investigationId: string): Record<string, unknown> {
  return {
    investigation_id: investigationId,
    zoom_id: event.zoomId ?? '',
    ts: event.tsNs,
    node: event.node,
    sensor,
    epoch,
    seq: event.seq,
    exec_id: event.execId,
    pid: event.pid,
    tid: event.tid,
    own: event.own === true,
  };
}

export function ioUringOpRow(event: Event, op: BodyOf<'ioUringOp'>, sensor: string, epoch: string, investigationId: string): CanonicalRow {
  return {
    ...common(event, sensor, epoch, investigationId),
    opcode: op.opcode,
    opcode_number: u32(op.opcodeNumber),
    fd: i32(op.fd),
    fixed_file: op.fixedFile,
    path: op.path,
    address: op.address,
    port: port(op.port),
    local_address: op.localAddress,
    local_port: port(op.localPort),
    socket_cookie: op.socketCookie,
    result: op.result,
    length: op.length,
    bytes: op.bytes,
    payload_prefix: op.payloadPrefix,
    user_data: op.userData,
    submit_ts: op.submitNs,
    complete_ts: op.completeNs,
    sqpoll: op.sqpoll,
    io_worker: op.ioWorker,
    submit_tid: u32(op.submitTid),
    open_flags: u32(op.openFlags),
    path_truncated: op.pathTruncated,
    completed: op.completed,
  };
}

export function socketEventRow(event: Event, s: BodyOf<'socket'>, sensor: string, epoch: string, investigationId: string): CanonicalRow {
  return {
    ...common(event, sensor, epoch, investigationId),
    op: SOCKET_OPS[s.op] ?? 'unspecified',
    socket_cookie: s.socketCookie,
    address: s.address,
    port: port(s.port),
    local_address: s.localAddress,
    local_port: port(s.localPort),
    protocol: s.protocol,
    bytes: s.bytes,
    payload_prefix: s.payloadPrefix,
    via: VIAS[s.via] ?? 'unspecified',
    old_state: s.oldState,
    new_state: s.newState,
  };
}

export function fileAccessRow(event: Event, f: BodyOf<'fileAccess'>, sensor: string, epoch: string, investigationId: string): CanonicalRow {
  return {
    ...common(event, sensor, epoch, investigationId),
    op: FILE_OPS[f.op] ?? 'unspecified',
    path: f.path,
    flags: u32(f.flags),
    bytes: f.bytes,
    via: VIAS[f.via] ?? 'unspecified',
    fd: i32(f.fd),
    result: f.result,
    path_truncated: f.pathTruncated,
  };
}

export function codeFingerprintRow(event: Event, c: BodyOf<'code'>, sensor: string, epoch: string, investigationId: string): CanonicalRow {
  return {
    ...common(event, sensor, epoch, investigationId),
    path: c.path,
    kind: CODE_KINDS[c.kind] ?? 'unspecified',
    language: c.language,
    runtime: c.runtime,
    evidence: c.evidence,
    build_id: c.buildId,
    sha256: c.sha256,
    size: c.size,
    mapped_at: c.mappedAtNs,
    go_version: c.goVersion,
    go_module: c.goModule,
    map_address: c.mapAddress,
    error: c.error,
    cached: c.cached,
  };
}

// --- zoom state rows --------------------------------------------------------------------------

export type ZoomStatusName = 'ordered' | 'active' | 'expired' | 'cancelled' | 'exhausted' | 'failed';
export const ZOOM_STATUS_NAMES: readonly ZoomStatusName[] = ['ordered', 'active', 'expired', 'cancelled', 'exhausted', 'failed'];
export const ENDED_STATUSES: ReadonlySet<ZoomStatusName> = new Set(['expired', 'cancelled', 'exhausted', 'failed']);

export function zoomStatusName(status: ZoomStatus): ZoomStatusName {
  switch (status) {
    case ZoomStatus.ZOOM_STATUS_ACTIVE:
      return 'active';
    case ZoomStatus.ZOOM_STATUS_EXPIRED:
      return 'expired';
    case ZoomStatus.ZOOM_STATUS_CANCELLED:
      return 'cancelled';
    case ZoomStatus.ZOOM_STATUS_EXHAUSTED:
      return 'exhausted';
    case ZoomStatus.ZOOM_STATUS_FAILED:
      return 'failed';
    default:
      return 'ordered';
  }
}

/** "IO_URING" for PROBE_SET_IO_URING. */
export function probeSetName(p: ProbeSet): string {
  return ProbeSet[p]?.replace(/^PROBE_SET_/, '') ?? `PROBE_SET_${p}`;
}

export type ZoomTargetKind = 'exec_id' | 'pid' | 'cgroup';

export function zoomTargetOf(zoom: Pick<Zoom, 'target'>): { kind: ZoomTargetKind; value: string } {
  const t = zoom.target?.target;
  if (t?.$case === 'tgid') return { kind: 'pid', value: String(t.value.pid) };
  if (t?.$case === 'cgroup') return { kind: 'cgroup', value: t.value.path || `id:${t.value.id}` };
  return { kind: 'exec_id', value: t?.$case === 'execId' ? t.value : '' };
}

const RANK_SHIFT = 1n << 62n;

/**
 * The row version of a zoom state: the state's rank first (ordered < active < ended: a zoom
 * never goes back), then when it was observed (ns), so a later snapshot of the same state wins.
 */
export function zoomRowVersion(status: ZoomStatusName, observedNs: string | bigint): string {
  const rank = status === 'ordered' ? 0n : status === 'active' ? 1n : 2n;
  const observed = BigInt(observedNs) % RANK_SHIFT;
  return (rank * RANK_SHIFT + observed).toString();
}

export interface ZoomRowSource {
  source: 'order' | 'stream' | 'cancel';
  sensor: string;
  node: string;
  observedNs: string;
  epoch?: string;
  seq?: string;
}

/** A zoom's canonical `zooms` row (from an order's or a cancel's response, or a ZoomState event). */
export function zoomRow(zoom: Zoom, src: ZoomRowSource): CanonicalRow {
  const status = zoomStatusName(zoom.status);
  const target = zoomTargetOf(zoom);
  return {
    zoom_id: zoom.id,
    sensor: src.sensor,
    node: src.node,
    investigation_id: zoom.investigationId,
    status,
    reason: zoom.reason,
    error: zoom.error,
    target_kind: target.kind,
    target: target.value,
    target_tgids: zoom.targetTgids.filter((t) => Number.isInteger(t) && t >= 0 && t <= 0xffffffff),
    probes: zoom.probes.map(probeSetName),
    ttl_s: u32(zoom.ttlS),
    max_events: zoom.maxEvents,
    max_events_per_s: u32(zoom.maxEventsPerS),
    payload_prefix_bytes: u32(zoom.payloadPrefixBytes),
    ordered_at: zoom.orderedAtNs,
    started_at: zoom.startedAtNs,
    expires_at: zoom.expiresAtNs,
    ended_at: zoom.endedAtNs,
    events_emitted: zoom.eventsEmitted,
    events_dropped: zoom.eventsDropped,
    dropped_rate: zoom.droppedRate,
    dropped_budget: zoom.droppedBudget,
    dropped_ring: zoom.droppedRing,
    fingerprints: zoom.fingerprints,
    attach_ns: zoom.attachNs,
    requested_by: zoom.requestedBy,
    client_subject: zoom.clientSubject,
    order_reason: zoom.orderReason,
    source: src.source,
    epoch: src.epoch ?? '',
    seq: src.seq ?? '0',
    observed_at: src.observedNs,
    row_version: zoomRowVersion(status, src.observedNs),
  };
}

// --- reads ------------------------------------------------------------------------------------

/**
 * Rows of one investigation's evidence, with the columns the investigation page reads (64-bit
 * values and times as decimal strings, payload prefixes as bytes).
 */
export interface StoredEvidenceBase {
  zoomId: string;
  tsNs: string;
  seq: string;
  execId: string;
  own: boolean;
}

export interface StoredIoUringOp extends StoredEvidenceBase {
  opcode: string;
  fd: number;
  path: string;
  address: string;
  port: number;
  result: string;
  bytes: string;
  /** the captured payload prefix, empty when none */
  payload: Uint8Array;
}

export interface StoredSocketEvent extends StoredEvidenceBase {
  op: 'unspecified' | 'connect' | 'accept' | 'send' | 'recv' | 'state';
  socketCookie: string;
  address: string;
  port: number;
  localAddress: string;
  localPort: number;
  protocol: string;
  bytes: string;
  /** the captured payload prefix, empty when none */
  payload: Uint8Array;
  via: 'unspecified' | 'syscall' | 'io_uring';
}

export interface StoredFileAccess extends StoredEvidenceBase {
  op: 'unspecified' | 'open' | 'read' | 'write' | 'close';
  path: string;
  bytes: string;
  via: 'unspecified' | 'syscall' | 'io_uring';
  result: string;
}

export interface StoredCodeFingerprint extends StoredEvidenceBase {
  path: string;
  kind: 'unspecified' | 'executable' | 'shared_object' | 'native_module' | 'jit';
  language: string;
  runtime: string;
  evidence: string[];
  buildId: string;
  sha256: string;
}

export interface StoredEvidence {
  ioUring: StoredIoUringOp[];
  sockets: StoredSocketEvent[];
  files: StoredFileAccess[];
  code: StoredCodeFingerprint[];
  /** a table held more rows than `limit` in the window: the rest was left out */
  truncated: boolean;
}

// Read as RowBinary (a budget-sized zoom is 40 000+ rows: as JSON, parsing them cost more than the
// query), so each SELECT's columns are decoded in the order written here: keep the two in step.
const BASE = 'zoom_id, toUnixTimestamp64Nano(ts), seq, exec_id, own';
const WHERE = `investigation_id = {id:String} AND ts BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}`;
/** Loads only: optionally one process image's rows (a panel focused on a process). */
const EXEC = `AND ({exec:String} = '' OR exec_id = {exec:String})`;

/** An Enum8 value by its number (the tables use the proto's numbers: see the *_OPS lists above). */
function enumName<T extends string>(names: readonly string[], value: number): T {
  return (names[value] ?? 'unspecified') as T;
}

/**
 * Every row of a RowBinary answer: the columns every table starts with (BASE), then the table's
 * own, read by `rest`. Each table builds its row as one object literal rather than spreading the
 * base into it: V8 builds such spread objects through a slow path (measured: 40 000 rows decoded
 * in ~0.35 s instead of ~0.04 s).
 */
function readAll<T extends StoredEvidenceBase>(buf: Buffer, rest: (base: StoredEvidenceBase, r: RowBinaryReader) => T): T[] {
  const r = new RowBinaryReader(buf);
  const rows: T[] = [];
  while (!r.done) rows.push(rest({ zoomId: r.string(), tsNs: r.i64(), seq: r.u64(), execId: r.string(), own: r.bool() }, r));
  return rows;
}

/**
 * One investigation's evidence in a time window (its zooms' active windows, or the part of them a
 * panel is narrowed to), optionally of one process image, each table in time order, at most
 * `limit` rows each (a zoom's budget bounds them far below the default).
 */
export async function loadInvestigationEvidence(
  db: Db,
  query: { investigationId: string; fromNs: string; toNs: string; execId?: string; limit?: number },
): Promise<StoredEvidence> {
  const limit = query.limit ?? 200_000;
  const params = { id: query.investigationId, from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs), exec: query.execId ?? '', limit: limit + 1 };
  const [ioUring, sockets, files, code] = await Promise.all([
    selectRowBinary(db, {
      sql: `SELECT ${BASE}, toString(opcode), fd, path, address, port, result, bytes, payload_prefix
            FROM io_uring_ops WHERE ${WHERE} ${EXEC} ORDER BY ts, seq LIMIT {limit:UInt32}`,
      params,
      tag: 'investigations.evidence.io_uring_ops',
    }).then((buf) =>
      readAll(buf, (b, r): StoredIoUringOp => ({
        zoomId: b.zoomId, tsNs: b.tsNs, seq: b.seq, execId: b.execId, own: b.own,
        opcode: r.string(),
        fd: r.i32(),
        path: r.string(),
        address: r.string(),
        port: r.u16(),
        result: r.i64(),
        bytes: r.u64(),
        payload: r.bytes(),
      })),
    ),
    selectRowBinary(db, {
      sql: `SELECT ${BASE}, op, socket_cookie, address, port, local_address, local_port, toString(protocol), bytes, payload_prefix, via
            FROM socket_events WHERE ${WHERE} ${EXEC} ORDER BY ts, seq LIMIT {limit:UInt32}`,
      params,
      tag: 'investigations.evidence.socket_events',
    }).then((buf) =>
      readAll(buf, (b, r): StoredSocketEvent => ({
        zoomId: b.zoomId, tsNs: b.tsNs, seq: b.seq, execId: b.execId, own: b.own,
        op: enumName(SOCKET_OPS, r.i8()),
        socketCookie: r.u64(),
        address: r.string(),
        port: r.u16(),
        localAddress: r.string(),
        localPort: r.u16(),
        protocol: r.string(),
        bytes: r.u64(),
        payload: r.bytes(),
        via: enumName(VIAS, r.i8()),
      })),
    ),
    selectRowBinary(db, {
      sql: `SELECT ${BASE}, op, path, bytes, via, result
            FROM file_accesses WHERE ${WHERE} ${EXEC} ORDER BY ts, seq LIMIT {limit:UInt32}`,
      params,
      tag: 'investigations.evidence.file_accesses',
    }).then((buf) =>
      readAll(buf, (b, r): StoredFileAccess => ({
        zoomId: b.zoomId, tsNs: b.tsNs, seq: b.seq, execId: b.execId, own: b.own,
        op: enumName(FILE_OPS, r.i8()),
        path: r.string(),
        bytes: r.u64(),
        via: enumName(VIAS, r.i8()),
        result: r.i64(),
      })),
    ),
    selectRowBinary(db, {
      sql: `SELECT ${BASE}, path, kind, toString(language), toString(runtime), evidence, build_id, sha256
            FROM code_fingerprints WHERE ${WHERE} ${EXEC} ORDER BY ts, seq LIMIT {limit:UInt32}`,
      params,
      tag: 'investigations.evidence.code_fingerprints',
    }).then((buf) =>
      readAll(buf, (b, r): StoredCodeFingerprint => ({
        zoomId: b.zoomId, tsNs: b.tsNs, seq: b.seq, execId: b.execId, own: b.own,
        path: r.string(),
        kind: enumName(CODE_KINDS, r.i8()),
        language: r.string(),
        runtime: r.string(),
        evidence: r.strings(),
        buildId: r.string(),
        sha256: r.string(),
      })),
    ),
  ]);
  const truncated = [ioUring, sockets, files, code].some((rows) => rows.length > limit);
  const cut = <T>(rows: T[]) => (rows.length > limit ? rows.slice(0, limit) : rows);
  return { ioUring: cut(ioUring), sockets: cut(sockets), files: cut(files), code: cut(code), truncated };
}

/** Evidence rows per table of one investigation in a window (the investigation's summary). */
export async function countInvestigationEvidence(
  db: Db,
  query: { investigationId: string; fromNs: string; toNs: string },
): Promise<{ ioUringOps: number; socketEvents: number; fileAccesses: number; codeFingerprints: number }> {
  const params = { id: query.investigationId, from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs) };
  const [row] = await selectRows<{ u: string; s: string; f: string; c: string }>(db, {
    sql: `SELECT
            (SELECT count() FROM io_uring_ops WHERE ${WHERE}) AS u,
            (SELECT count() FROM socket_events WHERE ${WHERE}) AS s,
            (SELECT count() FROM file_accesses WHERE ${WHERE}) AS f,
            (SELECT count() FROM code_fingerprints WHERE ${WHERE}) AS c`,
    params,
    tag: 'investigations.evidence.count',
  });
  return { ioUringOps: Number(row?.u ?? 0), socketEvents: Number(row?.s ?? 0), fileAccesses: Number(row?.f ?? 0), codeFingerprints: Number(row?.c ?? 0) };
}
