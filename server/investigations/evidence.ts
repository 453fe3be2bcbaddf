import type {
  StoredCodeFingerprint,
  StoredEvidence,
  StoredFileAccess,
  StoredIoUringOp,
  StoredSocketEvent,
} from '../../db/repositories/evidence';
import type {
  CodeFingerprint,
  FileAccess,
  InvestigationEvidence,
  IoUringOp,
  Language,
  SocketEvent,
} from '../analyzers/types';

/**
 * Stored evidence (db/repositories/evidence.ts: the sensor's records as ClickHouse rows) → the
 * analyzers' own input types (server/analyzers/types.ts). Pure.
 *
 * - Row ids are `<zoom id>:<seq>`: a zoom belongs to one sensor epoch, whose seqs are unique.
 * - The observer's own rows (the sensor's, the cockpit's) are left out.
 * - What the analyzers have no use for is left out too: TCP state changes, closes, JIT regions
 *   (anonymous executable memory has no file to fingerprint).
 * - Languages are the sensor's words ("C++", "JavaScript", "JVM") mapped to the analyzers' codes;
 *   a runtime is kept only on an executable (on a native module the sensor names the runtime it
 *   plugs into, which is not what the analyzers' `runtime` means).
 */

export function evidenceRowId(row: { zoomId: string; seq: string }): string {
  return `${row.zoomId}:${row.seq}`;
}


const LANGUAGES: Record<string, Language> = {
  go: 'go',
  rust: 'rust',
  'c++': 'cpp',
  cpp: 'cpp',
  c: 'c',
  jvm: 'java',
  java: 'java',
  javascript: 'javascript',
  python: 'python',
  '.net': 'dotnet',
  dotnet: 'dotnet',
  ruby: 'ruby',
  php: 'php',
  zig: 'zig',
};

/** The sensor's language word → the analyzers' code ('unknown' for anything else). */
export function analyzerLanguage(sensorLanguage: string): Language {
  return LANGUAGES[sensorLanguage.trim().toLowerCase()] ?? 'unknown';
}

const via = (v: string) => (v === 'io_uring' ? 'io_uring' : 'syscall') as 'io_uring' | 'syscall';
const num = (v: string) => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

// The two mappers below run once per send of a budget-sized zoom (tens of thousands of rows): optional
// fields are assigned, not spread in (`...(x ? { … } : {})` takes V8's slow object-building path).

export function toSocketEvent(r: StoredSocketEvent): SocketEvent | null {
  if (r.op !== 'connect' && r.op !== 'accept' && r.op !== 'send' && r.op !== 'recv') return null;
  const event: SocketEvent = {
    id: evidenceRowId(r),
    ts: r.tsNs,
    execId: r.execId,
    op: r.op,
    protocol: r.protocol === 'udp' ? 'udp' : 'tcp',
    remote: { address: r.address, port: Number(r.port) },
    bytes: num(r.bytes),
    via: via(r.via),
  };
  if (r.localAddress) event.local = { address: r.localAddress, port: Number(r.localPort) };
  if (r.payload.length > 0) event.payloadPrefix = r.payload;
  if (r.socketCookie && r.socketCookie !== '0') event.socketCookie = r.socketCookie;
  return event;
}

export function toIoUringOp(r: StoredIoUringOp): IoUringOp {
  const op: IoUringOp = { id: evidenceRowId(r), ts: r.tsNs, execId: r.execId, opcode: r.opcode, fd: Number(r.fd), result: num(r.result), bytes: num(r.bytes) };
  if (r.path) op.path = r.path;
  if (r.address) {
    op.remote = { address: r.address, port: Number(r.port) };
    op.protocol = 'tcp';
  }
  if (r.payload.length > 0) op.payloadPrefix = r.payload;
  return op;
}

export function toFileAccess(r: StoredFileAccess): FileAccess | null {
  if (r.op !== 'open' && r.op !== 'read' && r.op !== 'write') return null;
  return {
    id: evidenceRowId(r),
    ts: r.tsNs,
    execId: r.execId,
    path: r.path,
    op: r.op,
    ...(r.op !== 'open' ? { bytes: num(r.bytes) } : {}),
    via: via(r.via),
    result: num(r.result),
  };
}

export function toCodeFingerprint(r: StoredCodeFingerprint): CodeFingerprint | null {
  if (r.kind !== 'executable' && r.kind !== 'shared_object' && r.kind !== 'native_module') return null;
  return {
    id: evidenceRowId(r),
    ts: r.tsNs,
    execId: r.execId,
    path: r.path,
    kind: r.kind,
    language: analyzerLanguage(r.language),
    languageEvidence: r.evidence,
    ...(r.kind === 'executable' && r.runtime ? { runtime: { name: r.runtime } } : {}),
    ...(r.buildId ? { buildId: r.buildId } : {}),
    ...(r.sha256 ? { sha256: r.sha256 } : {}),
  };
}

function defined<T>(x: T | null): x is T {
  return x !== null;
}

/** A whole investigation's stored evidence as the analyzers read it. */
export function toInvestigationEvidence(
  stored: StoredEvidence,
  context: { window?: { startNs: string; endNs: string }; process?: { execId?: string; pid?: number } } = {},
): InvestigationEvidence {
  const mine = <T extends { own: boolean }>(rows: readonly T[]) => rows.filter((r) => !r.own);
  return {
    sockets: mine(stored.sockets).map(toSocketEvent).filter(defined),
    ioUring: mine(stored.ioUring).map(toIoUringOp),
    files: mine(stored.files).map(toFileAccess).filter(defined),
    code: mine(stored.code).map(toCodeFingerprint).filter(defined),
    ...(context.window ? { window: context.window } : {}),
    ...(context.process ? { process: context.process } : {}),
  };
}
