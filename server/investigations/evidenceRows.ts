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
  /** captured payload prefix (hex, upper case), '' when none */
  payloadHex: string;
  /** the same prefix as ASCII, '.' for every byte that is not printable */
  payloadAscii: string;
}

const num = (v: string) => (Number.isFinite(Number(v)) ? Number(v) : 0);
const withBytes = (text: string, bytes: number) => (bytes > 0 ? `${text} · ${bytes} B` : text);
const hexOf = (payload: Uint8Array) => Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex').toUpperCase();
const asciiOf = (payload: Uint8Array) => String.fromCharCode(...Array.from(payload, (b) => (b >= 0x20 && b < 0x7f ? b : 0x2e)));

type Stored =
  | { table: 'io_uring_ops'; row: StoredEvidence['ioUring'][number] }
  | { table: 'socket_events'; row: StoredEvidence['sockets'][number] }
  | { table: 'file_accesses'; row: StoredEvidence['files'][number] }
  | { table: 'code_fingerprints'; row: StoredEvidence['code'][number] };

function infoOf({ table, row: r }: Stored): EvidenceRowInfo {
  const info = (summary: string, bytes: number, payload?: Uint8Array): EvidenceRowInfo => ({
    ref: evidenceRef(table, r),
    table,
    tsNs: r.tsNs,
    execId: r.execId,
    summary,
    bytes,
    payloadHex: payload ? hexOf(payload) : '',
    payloadAscii: payload ? asciiOf(payload) : '',
  });
  switch (table) {
    case 'io_uring_ops': {
      const o = r as StoredEvidence['ioUring'][number];
      const target = o.path || (o.address ? `${o.address}:${o.port}` : `fd ${o.fd}`);
      const result = o.result.startsWith('-') ? ` → error ${o.result}` : '';
      return info(withBytes(`io_uring ${o.opcode} ${target}`, num(o.bytes)) + result, num(o.bytes), o.payload);
    }
    case 'socket_events': {
      const s = r as StoredEvidence['sockets'][number];
      return info(withBytes(`${s.op} ${s.address}:${s.port}/${s.protocol}`, num(s.bytes)) + (s.via === 'io_uring' ? ' (io_uring)' : ''), num(s.bytes), s.payload);
    }
    case 'file_accesses': {
      const f = r as StoredEvidence['files'][number];
      return info(withBytes(`${f.op} ${f.path}`, num(f.bytes)) + (f.via === 'io_uring' ? ' (io_uring)' : ''), num(f.bytes));
    }
    case 'code_fingerprints': {
      const c = r as StoredEvidence['code'][number];
      return info(`${c.kind.replace('_', ' ')} ${c.path} (${c.language || 'unknown language'}${c.buildId ? `, build id ${c.buildId}` : ''})`, 0);
    }
  }
}

/**
 * The rows by id, indexed on first use and described only when asked for: a budget-sized zoom
 * holds 40 000+ rows, of which a panel shows a few hundred at most.
 */
export class EvidenceRowIndex {
  private byId: Map<string, Stored> | null = null;
  private readonly described = new Map<string, EvidenceRowInfo>();

  constructor(private readonly stored: StoredEvidence) {}

  private index(): Map<string, Stored> {
    if (this.byId) return this.byId;
    const byId = new Map<string, Stored>();
    for (const row of this.stored.ioUring) byId.set(evidenceRowId(row), { table: 'io_uring_ops', row });
    for (const row of this.stored.sockets) byId.set(evidenceRowId(row), { table: 'socket_events', row });
    for (const row of this.stored.files) byId.set(evidenceRowId(row), { table: 'file_accesses', row });
    for (const row of this.stored.code) byId.set(evidenceRowId(row), { table: 'code_fingerprints', row });
    return (this.byId = byId);
  }

  /** The row's time (ns), without describing it; undefined for an id not read. */
  tsNs(id: string): string | undefined {
    return this.index().get(id)?.row.tsNs;
  }

  /** Whether the row carries a captured payload prefix. */
  hasPayload(id: string): boolean {
    const s = this.index().get(id);
    return s !== undefined && (s.table === 'io_uring_ops' || s.table === 'socket_events') && s.row.payload.length > 0;
  }

  get(id: string): EvidenceRowInfo | undefined {
    const known = this.described.get(id);
    if (known) return known;
    const stored = this.index().get(id);
    if (!stored) return undefined;
    const info = infoOf(stored);
    this.described.set(id, info);
    return info;
  }
}

export function evidenceRows(stored: StoredEvidence): EvidenceRowIndex {
  return new EvidenceRowIndex(stored);
}
