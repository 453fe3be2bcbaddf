import { CodeKind, EvidenceVia, FileOp, ProbeSet, SocketOp, ZoomStatus, type CancelZoomRequest, type Event, type Zoom, type ZoomRequest } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { waitFor } from '../../sensor/src/testing/process';
import type { SensorZoomControl } from './control';

/**
 * Zoom-in events shaped like the real sensor's (field for field what sensor/src/zoom emits, as the
 * live test checks), for storage and API tests: they test the cockpit over real storage, not the
 * sensor. The scenario is uring_beacon's: through io_uring, open and read a token, connect, then
 * a length-prefixed binary frame every `intervalMs`.
 */

/** Frame i of uring_beacon: BE32 length of the rest, "BCN1", BE32 i, text. */
export function beaconFrame(i: number, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('BCN1'), Buffer.alloc(4), Buffer.from(text)]);
  body.writeUInt32BE(i, 4);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export interface BeaconScenario {
  node: string;
  execId: string;
  pid: number;
  zoomId: string;
  investigationId: string;
  t0Ns: bigint;
  tokenPath: string;
  token: string;
  binary: string;
  destination: { address: string; port: number };
  frames: number;
  intervalMs: number;
  payload: string;
  /** the zoom's end (default: expired after the last frame) */
  end?: { status: ZoomStatus; reason: string };
}

export function zoomMessage(s: BeaconScenario, status: ZoomStatus, fields: Partial<Zoom> = {}): Zoom {
  return {
    id: s.zoomId,
    status,
    reason: status === ZoomStatus.ZOOM_STATUS_ORDERED ? 'ordered' : status === ZoomStatus.ZOOM_STATUS_ACTIVE ? 'probes attached' : 'TTL of 60 s ran out',
    error: '',
    target: { target: { $case: 'execId', value: s.execId } },
    targetTgids: [s.pid],
    probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE],
    ttlS: 60,
    maxEvents: '5000',
    maxEventsPerS: 1000,
    payloadPrefixBytes: 64,
    orderedAtNs: s.t0Ns.toString(),
    startedAtNs: status === ZoomStatus.ZOOM_STATUS_ORDERED ? '0' : (s.t0Ns + 2_000_000n).toString(),
    expiresAtNs: status === ZoomStatus.ZOOM_STATUS_ORDERED ? '0' : (s.t0Ns + 2_000_000n + 60_000_000_000n).toString(),
    endedAtNs: '0',
    eventsEmitted: '0',
    eventsDropped: '0',
    droppedRate: '0',
    droppedBudget: '0',
    droppedRing: '0',
    attachNs: status === ZoomStatus.ZOOM_STATUS_ORDERED ? '0' : '1800000',
    investigationId: s.investigationId,
    requestedBy: 'analyst@test.invalid (responder)',
    clientSubject: 'CN=soc-cockpit',
    orderReason: 'io_uring_setup first seen',
    programs: ['zoom_submit', 'zoom_complete'],
    fingerprints: '0',
    ...fields,
  };
}

/** The events of one zoom on the beacon, in stream order (seq '0': the batch numbers them). */
export function beaconZoomEvents(s: BeaconScenario): Event[] {
  const ms = (offset: number) => (s.t0Ns + BigInt(Math.round(offset * 1e6))).toString();
  const base = (offset: number, tid = s.pid): Pick<Event, 'seq' | 'tsNs' | 'node' | 'execId' | 'pid' | 'tid' | 'zoomId'> => ({
    seq: '0',
    tsNs: ms(offset),
    node: s.node,
    execId: s.execId,
    pid: s.pid,
    tid,
    zoomId: s.zoomId,
  });
  const dest = s.destination;
  const events: Event[] = [
    { ...base(0), body: { $case: 'zoomState', value: { zoom: zoomMessage(s, ZoomStatus.ZOOM_STATUS_ORDERED) } } },
    { ...base(2), body: { $case: 'zoomState', value: { zoom: zoomMessage(s, ZoomStatus.ZOOM_STATUS_ACTIVE) } } },
    {
      ...base(5),
      body: {
        $case: 'code',
        value: {
          path: s.binary,
          kind: CodeKind.CODE_KIND_EXECUTABLE,
          language: 'C',
          runtime: '',
          evidence: ['no C++ runtime, no Rust or Go markers: C'],
          buildId: '3f0c1d2e4b5a69788796a5b4c3d2e1f001122334',
          sha256: 'a'.repeat(64),
          size: '17000',
          mappedAtNs: ms(2),
          goVersion: '',
          goModule: '',
          mapAddress: '0',
          error: '',
          cached: false,
        },
      },
    },
  ];
  const ioUring = (offset: number, fields: Partial<Extract<Event['body'], { $case: 'ioUringOp' }>['value']>): Event => ({
    ...base(offset),
    body: {
      $case: 'ioUringOp',
      value: {
        opcode: 'NOP',
        opcodeNumber: 0,
        fd: -1,
        fixedFile: false,
        path: '',
        address: '',
        port: 0,
        localAddress: '',
        localPort: 0,
        socketCookie: '0',
        result: '0',
        length: '0',
        bytes: '0',
        payloadPrefix: Buffer.alloc(0),
        userData: '0',
        submitNs: ms(offset - 0.05),
        completeNs: ms(offset),
        sqpoll: false,
        ioWorker: false,
        submitTid: s.pid,
        openFlags: 0,
        pathTruncated: false,
        completed: true,
        ...fields,
      },
    },
  });
  const file = (offset: number, op: FileOp, bytes: number, fd: number, result: number): Event => ({
    ...base(offset),
    body: { $case: 'fileAccess', value: { op, path: s.tokenPath, flags: op === FileOp.FILE_OP_OPEN ? 0o2000000 : 0, bytes: String(bytes), via: EvidenceVia.EVIDENCE_VIA_IO_URING, fd, result: String(result), pathTruncated: false } },
  });
  const socket = (offset: number, op: SocketOp, bytes: number, payload: Buffer, extra: { old?: string; neu?: string } = {}): Event => ({
    ...base(offset),
    body: {
      $case: 'socket',
      value: {
        op,
        socketCookie: '4097',
        address: dest.address,
        port: dest.port,
        localAddress: '127.0.0.1',
        localPort: 40000,
        protocol: 'tcp',
        bytes: String(bytes),
        payloadPrefix: payload,
        via: EvidenceVia.EVIDENCE_VIA_IO_URING,
        oldState: extra.old ?? '',
        newState: extra.neu ?? '',
      },
    },
  });
  const token = Buffer.from(s.token);
  events.push(
    ioUring(10, { opcode: 'OPENAT', opcodeNumber: 18, fd: -100, path: s.tokenPath, result: '5', userData: '1', openFlags: 0o2000000 }),
    file(10.01, FileOp.FILE_OP_OPEN, 0, 5, 5),
    ioUring(11, { opcode: 'READ', opcodeNumber: 22, fd: 5, path: s.tokenPath, result: String(token.length), length: '4096', bytes: String(token.length), payloadPrefix: token.subarray(0, 64), userData: '2' }),
    file(11.01, FileOp.FILE_OP_READ, token.length, 5, token.length),
    ioUring(12, { opcode: 'CLOSE', opcodeNumber: 19, fd: 5, path: s.tokenPath, userData: '3' }),
    file(12.01, FileOp.FILE_OP_CLOSE, 0, 5, 0),
    ioUring(99, { opcode: 'CONNECT', opcodeNumber: 16, fd: 6, address: dest.address, port: dest.port, userData: '4' }),
    socket(99.01, SocketOp.SOCKET_OP_CONNECT, 0, Buffer.alloc(0)),
    socket(99.3, SocketOp.SOCKET_OP_STATE, 0, Buffer.alloc(0), { old: 'SYN_SENT', neu: 'ESTABLISHED' }),
  );
  for (let i = 0; i < s.frames; i++) {
    const at = 100 + i * s.intervalMs;
    const f = beaconFrame(i, s.payload);
    events.push(
      ioUring(at, { opcode: 'SEND', opcodeNumber: 26, fd: 6, address: dest.address, port: dest.port, result: String(f.length), length: String(f.length), bytes: String(f.length), payloadPrefix: f.subarray(0, 64), userData: String(5 + i) }),
      socket(at + 0.01, SocketOp.SOCKET_OP_SEND, f.length, f.subarray(0, 64)),
    );
  }
  const endAt = 100 + s.frames * s.intervalMs;
  const end = s.end ?? { status: ZoomStatus.ZOOM_STATUS_EXPIRED, reason: 'TTL of 60 s ran out' };
  events.push({
    ...base(endAt),
    body: {
      $case: 'zoomState',
      value: { zoom: zoomMessage(s, end.status, { reason: end.reason, endedAtNs: ms(endAt), eventsEmitted: String(events.length - 2), fingerprints: '1' }) },
    },
  });
  return events;
}

/**
 * A stand-in for a sensor's zoom control in API tests: accepts orders (ACTIVE, numbered zooms) or
 * refuses them with the gRPC error `refuse` returns; remembers orders and cancels. Live tests use
 * the real sensor over mTLS instead.
 */
export function fakeZoomControl(sensor: string, options: { refuse?: (req: ZoomRequest) => { code: number; details: string } | null; nowNs?: () => bigint } = {}) {
  const now = options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  const zooms = new Map<string, Zoom>();
  const orders: ZoomRequest[] = [];
  const cancels: CancelZoomRequest[] = [];
  let n = 0;
  const control: SensorZoomControl = {
    sensor,
    async zoomIn(req) {
      orders.push(req);
      const refusal = options.refuse?.(req);
      if (refusal) throw Object.assign(new Error(`${refusal.code}: ${refusal.details}`), refusal);
      const t = now();
      const zoom: Zoom = {
        id: `z-fake${sensor.replace(/[^a-z0-9]/gi, '')}-${++n}`,
        status: ZoomStatus.ZOOM_STATUS_ACTIVE,
        reason: 'probes attached',
        error: '',
        target: req.target,
        targetTgids: [4242],
        probes: req.probes,
        ttlS: req.ttlS,
        maxEvents: req.maxEvents,
        maxEventsPerS: req.maxEventsPerS || 1000,
        payloadPrefixBytes: req.payloadPrefixBytes || 64,
        orderedAtNs: t.toString(),
        startedAtNs: (t + 1_000_000n).toString(),
        expiresAtNs: (t + 1_000_000n + BigInt(req.ttlS) * 1_000_000_000n).toString(),
        endedAtNs: '0',
        eventsEmitted: '0',
        eventsDropped: '0',
        droppedRate: '0',
        droppedBudget: '0',
        droppedRing: '0',
        attachNs: '1000000',
        investigationId: req.investigationId,
        requestedBy: req.requestedBy,
        clientSubject: 'CN=soc-cockpit',
        orderReason: req.reason,
        programs: [],
        fingerprints: '0',
      };
      zooms.set(zoom.id, zoom);
      return { ...zoom };
    },
    async cancelZoom(req) {
      cancels.push(req);
      const zoom = zooms.get(req.zoomId);
      if (!zoom) throw Object.assign(new Error(`no zoom ${req.zoomId}`), { code: 5, details: `no zoom ${req.zoomId} on this sensor` });
      if (zoom.status === ZoomStatus.ZOOM_STATUS_ACTIVE) {
        zoom.status = ZoomStatus.ZOOM_STATUS_CANCELLED;
        zoom.reason = `cancelled by ${req.requestedBy}${req.reason ? `: ${req.reason}` : ''}`;
        zoom.endedAtNs = now().toString();
      }
      return { ...zoom };
    },
    async listZooms() {
      return { zooms: [...zooms.values()] };
    },
  };
  return { control, zooms, orders, cancels };
}

/**
 * The exec id the collector stored for a process a live test or bench started (waits for it: the
 * stream is asynchronous). Zoom orders name their target by exec id.
 */
export async function storedExecId(db: Db, sensor: string, pid: number, binary: string): Promise<string> {
  let execId = '';
  await waitFor(`the exec of pid ${pid} stored`, async () => {
    const rows = await selectRows<{ exec_id: string }>(db, {
      sql: `SELECT exec_id FROM process_events WHERE sensor = {s:String} AND kind = 'exec' AND pid = {pid:UInt32} AND binary = {b:String} ORDER BY ts DESC LIMIT 1`,
      params: { s: sensor, pid, b: binary },
      tag: 'test',
    });
    execId = rows[0]?.exec_id ?? '';
    return execId !== '';
  });
  return execId;
}
