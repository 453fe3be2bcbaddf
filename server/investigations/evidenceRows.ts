import type { StoredEvidence } from '../../db/repositories/evidence';
import { evidenceRowId } from './evidence';
import { evidenceRef, type EvidenceTable } from './refs';

/**
 * Every evidence row of an investigation, by the analyzers' row id (`<zoom id>:<seq>`): what the
 * page shows of a row that supports a finding (its ref, table, time, process and a one-line
 * summary) and, for sends, the captured payload prefix.
 */
export interface EvidenceRowInfo {
  ref: string;
  table: EvidenceTable;
  tsNs: string;
  execId: string;
  summary: string;
  /** bytes the operation moved (0 when none or not applicable) */
  bytes: number;
  /** captured payload prefix (hex), '' when none */
  payloadHex: string;
}

const num = (v: string) => (Number.isFinite(Number(v)) ? Number(v) : 0);
const withBytes = (text: string, bytes: number) => (bytes > 0 ? `${text} · ${bytes} B` : text);

export function evidenceRows(stored: StoredEvidence): Map<string, EvidenceRowInfo> {
  const rows = new Map<string, EvidenceRowInfo>();
  const put = (table: EvidenceTable, r: { tsNs: string; zoomId: string; seq: string; execId: string }, summary: string, bytes: number, payloadHex: string) =>
    rows.set(evidenceRowId(r), { ref: evidenceRef(table, r), table, tsNs: r.tsNs, execId: r.execId, summary, bytes, payloadHex });
  for (const r of stored.ioUring) {
    const target = r.path || (r.address ? `${r.address}:${r.port}` : `fd ${r.fd}`);
    const result = r.result.startsWith('-') ? ` → error ${r.result}` : '';
    put('io_uring_ops', r, withBytes(`io_uring ${r.opcode} ${target}`, num(r.bytes)) + result, num(r.bytes), r.payloadHex);
  }
  for (const r of stored.sockets) {
    put('socket_events', r, withBytes(`${r.op} ${r.address}:${r.port}/${r.protocol}`, num(r.bytes)) + (r.via === 'io_uring' ? ' (io_uring)' : ''), num(r.bytes), r.payloadHex);
  }
  for (const r of stored.files) {
    put('file_accesses', r, withBytes(`${r.op} ${r.path}`, num(r.bytes)) + (r.via === 'io_uring' ? ' (io_uring)' : ''), num(r.bytes), '');
  }
  for (const r of stored.code) {
    put('code_fingerprints', r, `${r.kind.replace('_', ' ')} ${r.path} (${r.language || 'unknown language'}${r.buildId ? `, build id ${r.buildId}` : ''})`, 0, '');
  }
  return rows;
}
