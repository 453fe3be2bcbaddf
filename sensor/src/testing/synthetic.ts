import { EvidenceVia, FileOp, ProbeSet, SocketOp, ZoomStatus, type Event } from '../../gen/soc/sensor/v1/sensor';

/**
 * Synthetic process events for TRANSPORT tests only: they exercise seqs, batches, gaps and
 * storage, not what the sensor observes. Never written into a recording (recordings come from
 * the real sensor's `--record`).
 */
/** Recent timestamps (storage applies TTLs), fixed for the process so repeated calls agree. */
const PROCESS_BASE_TS_NS = (BigInt(Date.now()) - 3_600_000n) * 1_000_000n;

export function syntheticEvents(count: number, options: { node?: string; fromIndex?: number; baseTsNs?: bigint } = {}): Event[] {
  const node = options.node ?? 'synthetic-node';
  const base = options.baseTsNs ?? PROCESS_BASE_TS_NS;
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const index = (options.fromIndex ?? 0) + i;
    const pid = 10_000 + Math.floor(index / 3);
    const tsNs = base + BigInt(index) * 1_000_000n;
    const execId = `${node}:boot:${base + BigInt(pid) * 1_000n}:${pid}:1`;
    const common = { seq: '0', tsNs: String(tsNs), node, execId, pid, tid: pid };
    switch (index % 3) {
      case 0:
        events.push({
          ...common,
          body: {
            $case: 'exec',
            value: {
              parentExecId: `${node}:boot:1:1:1`,
              ppid: 1,
              uid: 0,
              gid: 0,
              auid: 4294967295,
              binary: '/usr/bin/true',
              argv: ['true', `--index=${index}`],
              argvTruncated: false,
              cwd: '/',
              comm: 'true',
              cgroupId: '1',
              cgroupPath: '/synthetic.slice',
              container: undefined,
              seeded: false,
              startNs: String(tsNs),
              workload: undefined,
            },
          },
        });
        break;
      case 1:
        events.push({ ...common, body: { $case: 'fork', value: { childPid: pid + 50_000, parentPid: pid } } });
        break;
      default:
        events.push({ ...common, body: { $case: 'exit', value: { exitCode: 0, signal: 0 } } });
    }
  }
  return events;
}

/**
 * Synthetic zoom-in evidence for TRANSPORT tests (the collector stores it inside its units): the
 * zoom's first state (naming its investigation) at index 0, then, by index % 4, an io_uring SEND,
 * a socket send, a file read (each with the zoom id), or a process exec (the always-on stream
 * goes on meanwhile). Deterministic for an index, so a re-sent batch is the same.
 */
export function syntheticZoomEvents(
  count: number,
  options: { node?: string; fromIndex?: number; baseTsNs?: bigint; zoomId: string; investigationId: string },
): Event[] {
  const node = options.node ?? 'synthetic-node';
  const base = options.baseTsNs ?? PROCESS_BASE_TS_NS;
  const pid = 4242;
  const execId = `${node}:boot:${base}:${pid}:1`;
  const events: Event[] = [];
  for (let i = 0; i < count; i++) {
    const index = (options.fromIndex ?? 0) + i;
    const tsNs = String(base + BigInt(index) * 1_000_000n);
    const common = { seq: '0', tsNs, node, execId, pid, tid: pid };
    const zoomed = { ...common, zoomId: options.zoomId };
    const payload = Buffer.from(`frame-${index}`);
    if (index === 0) {
      events.push({
        ...zoomed,
        body: {
          $case: 'zoomState',
          value: {
            zoom: {
              id: options.zoomId, status: ZoomStatus.ZOOM_STATUS_ORDERED, reason: 'ordered', error: '',
              target: { target: { $case: 'execId', value: execId } }, targetTgids: [pid], probes: [ProbeSet.PROBE_SET_NETWORK],
              ttlS: 60, maxEvents: '100000', maxEventsPerS: 1000, payloadPrefixBytes: 64, orderedAtNs: tsNs, startedAtNs: '0', expiresAtNs: '0',
              endedAtNs: '0', eventsEmitted: '0', eventsDropped: '0', droppedRate: '0', droppedBudget: '0', droppedRing: '0', attachNs: '0',
              investigationId: options.investigationId, requestedBy: 'synthetic', clientSubject: '', orderReason: 'transport test', programs: [], fingerprints: '0',
            },
          },
        },
      });
      continue;
    }
    switch (index % 4) {
      case 0:
        events.push({
          ...zoomed,
          body: {
            $case: 'ioUringOp',
            value: {
              opcode: 'SEND', opcodeNumber: 26, fd: 6, fixedFile: false, path: '', address: '10.0.3.7', port: 4444, localAddress: '', localPort: 0,
              socketCookie: '7', result: String(payload.length), length: String(payload.length), bytes: String(payload.length), payloadPrefix: payload,
              userData: String(index), submitNs: tsNs, completeNs: tsNs, sqpoll: false, ioWorker: false, submitTid: pid, openFlags: 0, pathTruncated: false, completed: true,
            },
          },
        });
        break;
      case 1:
        events.push({
          ...zoomed,
          body: {
            $case: 'socket',
            value: {
              op: SocketOp.SOCKET_OP_SEND, socketCookie: '7', address: '10.0.3.7', port: 4444, localAddress: '10.0.0.2', localPort: 40000, protocol: 'tcp',
              bytes: String(payload.length), payloadPrefix: payload, via: EvidenceVia.EVIDENCE_VIA_IO_URING, oldState: '', newState: '',
            },
          },
        });
        break;
      case 2:
        events.push({
          ...zoomed,
          body: { $case: 'fileAccess', value: { op: FileOp.FILE_OP_READ, path: '/run/secrets/token', flags: 0, bytes: '28', via: EvidenceVia.EVIDENCE_VIA_IO_URING, fd: 5, result: '28', pathTruncated: false } },
        });
        break;
      default:
        events.push(...syntheticEvents(1, { node, fromIndex: index * 3, baseTsNs: base }).map((e) => ({ ...e, tsNs })));
    }
  }
  return events;
}
