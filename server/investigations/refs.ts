/**
 * Row references (`ref`) of the investigation page: an opaque, URL-safe string naming one stored
 * row, so a link to a single event (`?row=<ref>`) resolves whatever the page's filters are.
 *
 * `<kind>-<base64url of the row's key fields, newline-separated>`. The key fields are what the
 * tables are ordered by, so resolving a ref is a primary-key lookup:
 * - evidence (io_uring_ops, socket_events, file_accesses, code_fingerprints): the row's time, its
 *   zoom and sequence number (a zoom belongs to one sensor epoch, whose seqs are unique);
 * - process_events: node, exec id, time and the sensor stream's epoch and seq;
 * - facts: the same as process_events;
 * - sensor_gaps: sensor, epoch, time and the first missing seq;
 * - zooms: the zoom id.
 */

const EVIDENCE_REF_TABLES = ['io_uring_ops', 'socket_events', 'file_accesses', 'code_fingerprints'] as const;
export type EvidenceTable = (typeof EVIDENCE_REF_TABLES)[number];
export type RefTable = EvidenceTable | 'process_events' | 'facts' | 'sensor_gaps' | 'zooms';

export type RowRef =
  | { table: EvidenceTable; tsNs: string; zoomId: string; seq: string }
  | { table: 'process_events' | 'facts'; node: string; execId: string; tsNs: string; epoch: string; seq: string }
  | { table: 'sensor_gaps'; sensor: string; epoch: string; tsNs: string; fromSeq: string }
  | { table: 'zooms'; zoomId: string };

const CODES: Record<RefTable, string> = {
  io_uring_ops: 'u',
  socket_events: 's',
  file_accesses: 'f',
  code_fingerprints: 'c',
  process_events: 'p',
  facts: 'x',
  sensor_gaps: 'g',
  zooms: 'z',
};
const TABLES = new Map(Object.entries(CODES).map(([table, code]) => [code, table as RefTable]));

const DIGITS = /^\d{1,20}$/;
const MAX_REF_CHARS = 2048;

function fieldsOf(ref: RowRef): string[] {
  switch (ref.table) {
    case 'process_events':
    case 'facts':
      return [ref.node, ref.execId, ref.tsNs, ref.epoch, ref.seq];
    case 'sensor_gaps':
      return [ref.sensor, ref.epoch, ref.tsNs, ref.fromSeq];
    case 'zooms':
      return [ref.zoomId];
    default:
      return [ref.tsNs, ref.zoomId, ref.seq];
  }
}

export function encodeRef(ref: RowRef): string {
  return `${CODES[ref.table]}-${Buffer.from(fieldsOf(ref).join('\n'), 'utf8').toString('base64url')}`;
}

/** The row a ref names, or null when it is not a ref this module made (never throws). */
export function decodeRef(text: string): RowRef | null {
  if (text.length > MAX_REF_CHARS) return null;
  const m = /^([a-z])-([A-Za-z0-9_-]+)$/.exec(text);
  const table = m ? TABLES.get(m[1]!) : undefined;
  if (!m || !table) return null;
  const f = Buffer.from(m[2]!, 'base64url').toString('utf8').split('\n');
  const digits = (...values: (string | undefined)[]) => values.every((v) => v !== undefined && DIGITS.test(v));
  switch (table) {
    case 'process_events':
    case 'facts': {
      const [node, execId, tsNs, epoch, seq] = f;
      return f.length === 5 && node && execId && digits(tsNs, seq) ? { table, node, execId, tsNs: tsNs!, epoch: epoch!, seq: seq! } : null;
    }
    case 'sensor_gaps': {
      const [sensor, epoch, tsNs, fromSeq] = f;
      return f.length === 4 && sensor && digits(tsNs, fromSeq) ? { table, sensor, epoch: epoch!, tsNs: tsNs!, fromSeq: fromSeq! } : null;
    }
    case 'zooms':
      return f.length === 1 && f[0] ? { table, zoomId: f[0] } : null;
    default: {
      const [tsNs, zoomId, seq] = f;
      return f.length === 3 && zoomId && digits(tsNs, seq) ? { table, tsNs: tsNs!, zoomId, seq: seq! } : null;
    }
  }
}

/** The ref of an evidence row as the analyzers name it (`<zoom id>:<seq>`, see evidence.ts), given its table and time. */
export function evidenceRef(table: EvidenceTable, row: { tsNs: string; zoomId: string; seq: string }): string {
  return encodeRef({ table, tsNs: row.tsNs, zoomId: row.zoomId, seq: row.seq });
}
