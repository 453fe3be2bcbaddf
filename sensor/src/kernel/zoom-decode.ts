/**
 * Zoom-in records (sensor/bpf/zoom.bpf.c, layouts in layout.ts) -> evidence `Event`s.
 *
 * One io_uring record becomes an IoUringOp when the zoom asked for io_uring, and also a
 * FileAccess (via io_uring) when it asked for files and the opcode works on files: the kernel
 * writes the record once (one unit of budget), the sensor derives what each probe set shows.
 * An executable-mapping record becomes a CodeFingerprint without a verdict (sha256 empty): the
 * zoom manager completes it (sensor/src/code) before it enters the stream.
 */
import {
  CodeKind,
  EvidenceVia,
  FileOp,
  SocketOp,
  type CodeFingerprint,
  type Event,
  type FileAccess,
  type IoUringOp,
  type SocketEvent,
} from '../../gen/soc/sensor/v1/sensor';
import { formatAddress, protocolName } from './decode';
import { IORING_SETUP_SQPOLL, iouringOpName } from './iouring';
import {
  FileOpCode,
  HEADER,
  Op,
  SockOp,
  Via,
  ZOOM_EXEC_MAP_EVENT,
  ZOOM_FILE_EVENT,
  ZOOM_IOURING_EVENT,
  ZOOM_REF,
  ZOOM_SOCKET_EVENT,
  ZoomFileFlag,
  ZoomMapFlag,
  ZoomProbe,
  ZoomUringFlag,
} from './layout';

/** What the zoom decoder needs from the record decoder. */
export interface ZoomDecodeHost {
  /** Boot-time ns -> wall-clock ns (decimal string). */
  wall(bootNs: bigint): string;
  /** The exec id of the key at `off`. */
  execIdAt(buf: Buffer, off: number): string;
  node: string;
  /** Zoom number (kernel) -> Zoom.id; undefined: unknown zoom (record dropped). */
  zoomId(zoomNo: number): string | undefined;
}

const H_KTIME = HEADER.fields.ktime_ns;
const H_FLAGS = HEADER.fields.flags;
const H_TGID = HEADER.fields.tgid;
const H_TID = HEADER.fields.tid;

/** TCP states (include/net/tcp_states.h). */
const TCP_STATES = [
  '',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'BOUND_INACTIVE',
];

export function tcpStateName(s: number): string {
  return TCP_STATES[s] || `STATE_${s}`;
}

const FILE_OPCODES: Record<string, FileOp> = {
  OPENAT: FileOp.FILE_OP_OPEN,
  OPENAT2: FileOp.FILE_OP_OPEN,
  READ: FileOp.FILE_OP_READ,
  READV: FileOp.FILE_OP_READ,
  READ_FIXED: FileOp.FILE_OP_READ,
  WRITE: FileOp.FILE_OP_WRITE,
  WRITEV: FileOp.FILE_OP_WRITE,
  WRITE_FIXED: FileOp.FILE_OP_WRITE,
  CLOSE: FileOp.FILE_OP_CLOSE,
};

/** Opcodes whose positive result is a byte count. */
const DATA_OPCODES = new Set([
  'READ', 'READV', 'READ_FIXED', 'WRITE', 'WRITEV', 'WRITE_FIXED', 'SEND', 'SEND_ZC', 'SENDMSG',
  'SENDMSG_ZC', 'RECV', 'RECVMSG', 'READ_MULTISHOT', 'SPLICE', 'TEE',
]);

const SOCKET_OPS: Record<number, SocketOp> = {
  [SockOp.CONNECT]: SocketOp.SOCKET_OP_CONNECT,
  [SockOp.ACCEPT]: SocketOp.SOCKET_OP_ACCEPT,
  [SockOp.SEND]: SocketOp.SOCKET_OP_SEND,
  [SockOp.RECV]: SocketOp.SOCKET_OP_RECV,
  [SockOp.STATE]: SocketOp.SOCKET_OP_STATE,
};

const FILE_OPS: Record<number, FileOp> = {
  [FileOpCode.OPEN]: FileOp.FILE_OP_OPEN,
  [FileOpCode.READ]: FileOp.FILE_OP_READ,
  [FileOpCode.WRITE]: FileOp.FILE_OP_WRITE,
  [FileOpCode.CLOSE]: FileOp.FILE_OP_CLOSE,
};

function via(v: number): EvidenceVia {
  return v === Via.IO_URING ? EvidenceVia.EVIDENCE_VIA_IO_URING : v === Via.SYSCALL ? EvidenceVia.EVIDENCE_VIA_SYSCALL : EvidenceVia.EVIDENCE_VIA_UNSPECIFIED;
}

function address(buf: Buffer, family: number, off: number): string {
  return family === 2 || family === 10 ? formatAddress(family, buf.subarray(off, off + 16)) : '';
}

function bytesAt(buf: Buffer, start: number, len: number): Buffer {
  return Buffer.from(buf.subarray(start, start + len));
}

/**
 * Decodes the zoom record at `off` (op already read, size checked against the buffer) and
 * appends its events to `out`. Returns how many it appended (0: skipped or unknown zoom).
 */
export function decodeZoomRecord(host: ZoomDecodeHost, buf: Buffer, off: number, size: number, op: number, out: Event[]): number {
  const refOff = off + 48;
  const zoomNo = buf.readUInt32LE(refOff + ZOOM_REF.fields.zoom_no);
  const probes = buf.readUInt16LE(refOff + ZOOM_REF.fields.probes);
  const zoomId = host.zoomId(zoomNo);
  if (zoomId === undefined) return 0;
  const flags = buf.readUInt16LE(off + H_FLAGS);
  const envelope = (body: Event['body']): Event => ({
    seq: '0',
    tsNs: host.wall(buf.readBigUInt64LE(off + H_KTIME)),
    node: host.node,
    execId: host.execIdAt(buf, off + 24),
    pid: buf.readUInt32LE(off + H_TGID),
    tid: buf.readUInt32LE(off + H_TID),
    zoomId,
    body,
  });
  switch (op) {
    case Op.ZOOM_IOURING: {
      if (size < ZOOM_IOURING_EVENT.size) return 0;
      const F = ZOOM_IOURING_EVENT.fields;
      const u = decodeIoUring(host, buf, off, size, flags);
      let n = 0;
      if (probes & ZoomProbe.IO_URING) {
        out.push(envelope({ $case: 'ioUringOp', value: u }));
        n++;
      }
      const fileOp = FILE_OPCODES[u.opcode];
      if (probes & ZoomProbe.FILES && fileOp !== undefined && !(flags & ZoomUringFlag.SOCKET)) {
        const res = Number(u.result);
        const file: FileAccess = {
          op: fileOp,
          path: u.path,
          flags: fileOp === FileOp.FILE_OP_OPEN ? u.openFlags : 0,
          bytes: fileOp === FileOp.FILE_OP_READ || fileOp === FileOp.FILE_OP_WRITE ? u.bytes : '0',
          via: EvidenceVia.EVIDENCE_VIA_IO_URING,
          fd: fileOp === FileOp.FILE_OP_OPEN && res >= 0 ? res : buf.readInt32LE(off + F.fd),
          result: u.result,
          pathTruncated: u.pathTruncated,
        };
        out.push(envelope({ $case: 'fileAccess', value: file }));
        n++;
      }
      return n;
    }
    case Op.ZOOM_SOCKET: {
      if (size < ZOOM_SOCKET_EVENT.size) return 0;
      const F = ZOOM_SOCKET_EVENT.fields;
      const family = buf.readUInt16LE(off + F.family);
      const dataLen = Math.min(buf.readUInt16LE(off + F.data_len), 256);
      const sockOp = buf.readUInt8(off + F.op);
      const s: SocketEvent = {
        op: SOCKET_OPS[sockOp] ?? SocketOp.SOCKET_OP_UNSPECIFIED,
        socketCookie: buf.readBigUInt64LE(off + F.cookie).toString(),
        address: address(buf, family, off + F.addr),
        port: buf.readUInt16LE(off + F.port),
        localAddress: sockOp === SockOp.CONNECT ? '' : address(buf, family, off + F.local_addr),
        localPort: buf.readUInt16LE(off + F.local_port),
        protocol: protocolName(buf.readUInt8(off + F.protocol)),
        bytes: buf.readBigUInt64LE(off + F.bytes).toString(),
        payloadPrefix: bytesAt(buf, off + F.data, dataLen),
        via: via(buf.readUInt8(off + F.via)),
        oldState: sockOp === SockOp.STATE ? tcpStateName(buf.readUInt8(off + F.old_state)) : '',
        newState: sockOp === SockOp.STATE ? tcpStateName(buf.readUInt8(off + F.new_state)) : '',
      };
      out.push(envelope({ $case: 'socket', value: s }));
      return 1;
    }
    case Op.ZOOM_FILE: {
      if (size < ZOOM_FILE_EVENT.size) return 0;
      const F = ZOOM_FILE_EVENT.fields;
      const pathLen = Math.min(buf.readUInt16LE(off + F.path_len), size - ZOOM_FILE_EVENT.size);
      const f: FileAccess = {
        op: FILE_OPS[buf.readUInt8(off + F.op)] ?? FileOp.FILE_OP_UNSPECIFIED,
        path: buf.toString('utf8', off + ZOOM_FILE_EVENT.size, off + ZOOM_FILE_EVENT.size + pathLen),
        flags: buf.readUInt32LE(off + F.flags),
        bytes: buf.readBigUInt64LE(off + F.bytes).toString(),
        via: via(buf.readUInt8(off + F.via)),
        fd: buf.readInt32LE(off + F.fd),
        result: buf.readBigInt64LE(off + F.res).toString(),
        pathTruncated: (flags & ZoomFileFlag.PATH_TRUNCATED) !== 0,
      };
      out.push(envelope({ $case: 'fileAccess', value: f }));
      return 1;
    }
    case Op.ZOOM_EXEC_MAP: {
      if (size < ZOOM_EXEC_MAP_EVENT.size) return 0;
      const F = ZOOM_EXEC_MAP_EVENT.fields;
      const pathLen = Math.min(buf.readUInt16LE(off + F.path_len), size - ZOOM_EXEC_MAP_EVENT.size);
      const ino = buf.readBigUInt64LE(off + F.ino);
      const c: CodeFingerprint = {
        path: buf.toString('utf8', off + ZOOM_EXEC_MAP_EVENT.size, off + ZOOM_EXEC_MAP_EVENT.size + pathLen),
        kind: ino === 0n ? CodeKind.CODE_KIND_JIT : CodeKind.CODE_KIND_UNSPECIFIED,
        language: '',
        runtime: '',
        evidence: [],
        buildId: '',
        sha256: '',
        size: buf.readBigUInt64LE(off + F.len).toString(),
        mappedAtNs: host.wall(buf.readBigUInt64LE(off + H_KTIME)),
        goVersion: '',
        goModule: '',
        mapAddress: buf.readBigUInt64LE(off + F.addr).toString(),
        error: flags & ZoomMapFlag.PATH_TRUNCATED ? 'path truncated' : '',
        cached: false,
      };
      out.push(envelope({ $case: 'code', value: c }));
      return 1;
    }
    default:
      return 0;
  }
}

function decodeIoUring(host: ZoomDecodeHost, buf: Buffer, off: number, size: number, flags: number): IoUringOp {
  const F = ZOOM_IOURING_EVENT.fields;
  const opcodeNumber = buf.readUInt8(off + F.opcode);
  const opcode = iouringOpName(opcodeNumber);
  const pathLen = buf.readUInt16LE(off + F.path_len);
  const dataLen = buf.readUInt16LE(off + F.data_len);
  const p0 = off + ZOOM_IOURING_EVENT.size;
  const end = off + size;
  const p1 = Math.min(p0 + pathLen, end);
  const d1 = Math.min(p1 + dataLen, end);
  const family = buf.readUInt16LE(off + F.family);
  const res = buf.readBigInt64LE(off + F.res);
  const isSocket = (flags & ZoomUringFlag.SOCKET) !== 0;
  const completeNs = buf.readBigUInt64LE(off + F.complete_ns);
  return {
    opcode,
    opcodeNumber,
    fd: buf.readInt32LE(off + F.fd),
    fixedFile: (flags & ZoomUringFlag.FIXED_FILE) !== 0,
    path: buf.toString('utf8', p0, p1),
    address: address(buf, family, off + F.addr),
    port: family ? buf.readUInt16LE(off + F.port) : 0,
    localAddress: isSocket ? address(buf, family, off + F.local_addr) : '',
    localPort: isSocket ? buf.readUInt16LE(off + F.local_port) : 0,
    socketCookie: buf.readBigUInt64LE(off + F.sock_cookie).toString(),
    result: res.toString(),
    length: String(buf.readUInt32LE(off + F.len)),
    bytes: DATA_OPCODES.has(opcode) && res > 0n ? res.toString() : '0',
    payloadPrefix: bytesAt(buf, p1, d1 - p1),
    userData: buf.readBigUInt64LE(off + F.user_data).toString(),
    submitNs: host.wall(buf.readBigUInt64LE(off + F.submit_ns)),
    completeNs: completeNs ? host.wall(completeNs) : '0',
    sqpoll: (buf.readUInt32LE(off + F.ring_flags) & IORING_SETUP_SQPOLL) !== 0,
    ioWorker: (flags & ZoomUringFlag.IO_WORKER) !== 0,
    submitTid: buf.readUInt32LE(off + F.submit_tid),
    openFlags: buf.readUInt32LE(off + F.open_flags),
    pathTruncated: (flags & ZoomUringFlag.PATH_TRUNCATED) !== 0,
    completed: (flags & ZoomUringFlag.COMPLETED) !== 0,
  };
}
