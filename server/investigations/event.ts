import type { Db } from '../../db/client';
import { getEventRow, type EventRowKey } from '../../db/repositories/investigationEvents';
import { getInvestigation } from '../../db/repositories/investigations';
import { InvestigationNotFoundError, NotFoundError } from './errors';
import { decodeRef, type RefTable } from './refs';

/**
 * One row by its ref (`investigations.event`): what a link to a single event opens, whatever the
 * page's filters are. Evidence and zoom rows must belong to the investigation; process, fact and
 * gap rows are the stream's (the timeline's process and gaps lanes link them).
 */

export interface EventView {
  ref: string;
  table: RefTable;
  tsNs: string;
  execId: string;
  summary: string;
  /** every column of the row as text: times in ns, byte arrays as hex, other arrays as JSON */
  fields: Record<string, string>;
}

const bytes = (f: Record<string, string>) => (f.bytes && f.bytes !== '0' ? ` · ${f.bytes} B` : '');
const viaRing = (f: Record<string, string>) => (f.via === 'io_uring' ? ' (io_uring)' : '');

function summaryOf(table: RefTable, f: Record<string, string>): string {
  switch (table) {
    case 'io_uring_ops':
      return `io_uring ${f.opcode} ${f.path || (f.address ? `${f.address}:${f.port}` : `fd ${f.fd}`)}${bytes(f)}`;
    case 'socket_events':
      return `${f.op} ${f.address}:${f.port}/${f.protocol}${bytes(f)}${viaRing(f)}`;
    case 'file_accesses':
      return `${f.op} ${f.path}${bytes(f)}${viaRing(f)}`;
    case 'code_fingerprints':
      return `${(f.kind ?? '').replace('_', ' ')} ${f.path} (${f.language || 'unknown language'})`;
    case 'process_events':
      return f.kind === 'exec' ? `exec ${f.binary} [${f.pid}]` : f.kind === 'fork' ? `fork [${f.pid}] → ${f.child_pid}` : `exit [${f.pid}] code ${f.exit_code}`;
    case 'facts':
      return `${f.kind} ${f.name}`;
    case 'sensor_gaps':
      return `${f.kind?.replace('_', ' ')}: ${f.count} events lost (sensor ${f.sensor})`;
    case 'zooms':
      return `zoom ${f.zoom_id} on ${f.target_kind} ${f.target} · ${f.status}`;
  }
}

export async function investigationEvent(db: Db, id: string, refText: string): Promise<EventView> {
  if (!(await getInvestigation(db, id))) throw new InvestigationNotFoundError(id);
  const ref = decodeRef(refText);
  if (!ref) throw new NotFoundError(`no row ${refText} (not a ref the investigation page made)`);
  const key: EventRowKey = { investigationId: id, ...ref };
  if (ref.table === 'sensor_gaps') key.seq = ref.fromSeq;
  const fields = await getEventRow(db, ref.table, key);
  if (!fields) throw new NotFoundError(`no row ${refText} in ${ref.table} of investigation ${id}`);
  const tsNs = fields.ts ?? fields.ordered_at ?? '';
  return { ref: refText, table: ref.table, tsNs, execId: fields.exec_id ?? '', summary: summaryOf(ref.table, fields), fields };
}
