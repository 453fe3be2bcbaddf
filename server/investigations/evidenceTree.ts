import type { Db } from '../../db/client';
import { getIndicator } from '../../db/repositories/indicators';
import type { FindingKind, Severity } from '../analyzers';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import type { EvidenceTable } from './refs';
import { analyse } from './service';

/**
 * The evidence tree: the investigation's indicators → the analyzers' findings → the stored rows
 * each finding rests on (each with its ref, so every row links to itself).
 */

export interface EvidenceRowView {
  ref: string;
  table: EvidenceTable;
  tsNs: string;
  execId: string;
  summary: string;
}

export interface EvidenceFindingView {
  id: string;
  kind: FindingKind;
  title: string;
  reason: string;
  severity: Severity;
  /** what it is about: a destination, a path, an exec id, a module */
  subject: string;
  /** the first MAX_ROWS_PER_FINDING supporting rows, oldest first */
  rows: EvidenceRowView[];
  /** every supporting row, shown or not */
  rowsTotal: number;
}

export interface EvidenceTreeView {
  indicators: IndicatorView[];
  findings: EvidenceFindingView[];
}

export const MAX_ROWS_PER_FINDING = 100;

export async function investigationEvidenceTree(db: Db, id: string, nowNs: bigint): Promise<EvidenceTreeView> {
  const a = await analyse(db, id, nowNs);
  const indicators = (await Promise.all(a.record.indicatorIds.slice(0, 50).map((i) => getIndicator(db, i)))).filter((x) => x !== null);
  const findings = a.analysis.findings.map((f): EvidenceFindingView => {
    // Oldest first (ties in the finding's order: the sort is stable); only the rows shown are described.
    const rows = f.evidence
      .flatMap((eventId) => {
        const ts = a.rows.tsNs(eventId);
        return ts === undefined ? [] : [{ eventId, ts: BigInt(ts) }];
      })
      .sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0))
      .slice(0, MAX_ROWS_PER_FINDING)
      .map(({ eventId }) => {
        const r = a.rows.get(eventId)!;
        return { ref: r.ref, table: r.table, tsNs: r.tsNs, execId: r.execId, summary: r.summary };
      });
    return { id: f.id, kind: f.kind, title: f.title, reason: f.reason, severity: f.severity, subject: f.subject, rows, rowsTotal: f.evidence.length + f.evidenceOmitted };
  });
  return { indicators: indicators.map(toIndicatorView), findings };
}
