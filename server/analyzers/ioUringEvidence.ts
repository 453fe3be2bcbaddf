/**
 * io_uring requests seen as the socket and file operations they are.
 *
 * A request submitted through io_uring never shows up as its own syscall, but it connects,
 * sends and reads all the same. The socket and file probes usually report it too (with
 * `via: 'io_uring'`); when they did not (a zoom that ordered only the io_uring probe), these
 * helpers derive the missing socket events and file accesses from the io_uring requests, so
 * beaconing, payload and sensitive-file analysis see everything:
 *   - network opcodes with a peer address become socket events;
 *   - OPENAT/OPENAT2 with a path become opens, and READ/WRITE on the fd an OPENAT returned (per
 *     process, until CLOSE) become reads and writes of that path.
 * A request already reported by the other probe (same process, operation and peer or path,
 * within 1 ms) is not repeated. Registered ("fixed") files are not followed: their index is not
 * an fd.
 */
import { destinationKey } from './beaconing';
import { parseNs } from './time';
import type { FileAccess, FileOp, IoUringOp, SocketEvent, SocketOp } from './types';

const SOCKET_OPCODES: Record<string, SocketOp> = {
  CONNECT: 'connect', ACCEPT: 'accept', SEND: 'send', SENDMSG: 'send', SEND_ZC: 'send', SENDMSG_ZC: 'send', RECV: 'recv', RECVMSG: 'recv',
};
const OPEN_OPCODES = new Set(['OPENAT', 'OPENAT2']);
const FILE_IO_OPCODES: Record<string, FileOp> = { READ: 'read', READV: 'read', READ_FIXED: 'read', WRITE: 'write', WRITEV: 'write', WRITE_FIXED: 'write' };

const OTHER_FILE_OPCODES = new Set([
  'CLOSE', 'STATX', 'FSYNC', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT', 'SYMLINKAT', 'LINKAT', 'FTRUNCATE', 'FALLOCATE',
  'FADVISE', 'SPLICE', 'TEE', 'SYNC_FILE_RANGE', 'GETXATTR', 'FGETXATTR', 'SETXATTR', 'FSETXATTR',
]);

/** Network, file or other: how an opcode is reported. */
export function opcodeCategory(opcode: string): 'network' | 'file' | 'other' {
  if (SOCKET_OPCODES[opcode] || opcode === 'SOCKET' || opcode === 'SHUTDOWN' || opcode === 'BIND' || opcode === 'LISTEN') return 'network';
  if (OPEN_OPCODES.has(opcode) || FILE_IO_OPCODES[opcode] || OTHER_FILE_OPCODES.has(opcode)) return 'file';
  return 'other';
}

const SAME_REQUEST_NS = 1_000_000n;

/**
 * The times of the events another probe reported, by what they did (process, operation, peer or
 * path): "was this request reported within 1 ms" is a binary search, not a scan of every event
 * (a budget-sized zoom holds tens of thousands of each).
 */
class ReportedTimes {
  private readonly byKey = new Map<string, bigint[]>();

  constructor(events: Iterable<{ key: string; ts: string }>) {
    for (const e of events) {
      const times = this.byKey.get(e.key);
      if (times) times.push(parseNs(e.ts));
      else this.byKey.set(e.key, [parseNs(e.ts)]);
    }
    for (const times of this.byKey.values()) times.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  near(key: string, ts: string): boolean {
    const times = this.byKey.get(key);
    if (!times) return false;
    const t = parseNs(ts);
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t - SAME_REQUEST_NS) lo = mid + 1;
      else hi = mid;
    }
    return lo < times.length && times[lo]! <= t + SAME_REQUEST_NS;
  }
}

const socketKey = (execId: string, op: string, destination: string) => `${execId}\u0000${op}\u0000${destination}`;
const fileKey = (execId: string, op: string, path: string) => `${execId}\u0000${op}\u0000${path}`;

/** Socket events for io_uring network requests the socket probe did not report. */
export function socketEventsFromIoUring(ops: readonly IoUringOp[], sockets: readonly SocketEvent[]): SocketEvent[] {
  const reported = new ReportedTimes(
    sockets.filter((s) => s.via === 'io_uring').map((s) => ({ key: socketKey(s.execId, s.op, destinationKey(s.remote.address, s.remote.port, s.protocol)), ts: s.ts })),
  );
  const out: SocketEvent[] = [];
  for (const op of ops) {
    const kind = SOCKET_OPCODES[op.opcode];
    if (!kind || !op.remote) continue;
    const protocol = op.protocol ?? 'tcp';
    const key = destinationKey(op.remote.address, op.remote.port, protocol);
    if (reported.near(socketKey(op.execId, kind, key), op.ts)) continue;
    const bytes = kind === 'send' || kind === 'recv' ? (op.bytes ?? Math.max(op.result, 0)) : 0;
    out.push({
      id: op.id, ts: op.ts, execId: op.execId, op: kind, protocol, remote: op.remote, bytes, via: 'io_uring', result: op.result,
      ...(op.payloadPrefix ? { payloadPrefix: op.payloadPrefix } : {}),
      ...(op.origin ? { origin: op.origin } : {}),
    });
  }
  return out;
}

/** The path each io_uring request works on: its own path, or the path its fd was opened with. */
export function ioUringPaths(ops: readonly IoUringOp[]): Map<string, string> {
  // Times parsed once, not in the comparator (a budget-sized zoom sorts 40 000 requests).
  const sorted = ops.map((op) => ({ op, t: parseNs(op.ts) })).sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  const fds = new Map<string, string>(); // `${execId}:${fd}` -> path
  const paths = new Map<string, string>(); // op id -> path
  for (const { op } of sorted) {
    if (op.path) paths.set(op.id, op.path);
    if (OPEN_OPCODES.has(op.opcode) && op.path && op.result >= 0) fds.set(`${op.execId}:${op.result}`, op.path);
    else if (op.fd !== undefined && !op.path) {
      const path = fds.get(`${op.execId}:${op.fd}`);
      if (path) paths.set(op.id, path);
      if (op.opcode === 'CLOSE') fds.delete(`${op.execId}:${op.fd}`);
    }
  }
  return paths;
}

/** File accesses for io_uring opens, reads and writes the file probe did not report. */
export function fileAccessesFromIoUring(ops: readonly IoUringOp[], files: readonly FileAccess[]): FileAccess[] {
  const paths = ioUringPaths(ops);
  const reported = new ReportedTimes(files.filter((f) => f.via === 'io_uring').map((f) => ({ key: fileKey(f.execId, f.op, f.path), ts: f.ts })));
  const out: FileAccess[] = [];
  for (const op of ops) {
    const kind: FileOp | undefined = OPEN_OPCODES.has(op.opcode) ? 'open' : FILE_IO_OPCODES[op.opcode];
    const path = paths.get(op.id);
    if (!kind || !path) continue;
    if (reported.near(fileKey(op.execId, kind, path), op.ts)) continue;
    out.push({
      id: op.id, ts: op.ts, execId: op.execId, path, op: kind, via: 'io_uring', result: op.result,
      ...(kind !== 'open' ? { bytes: op.bytes ?? Math.max(op.result, 0) } : {}),
      ...(op.origin ? { origin: op.origin } : {}),
    });
  }
  return out;
}
