import type { Db } from '../../db/client';
import { getIndicator } from '../../db/repositories/indicators';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import { analysisViews } from './storedAnalysis';
import type { EvidenceFindingView } from './views';

/**
 * The evidence tree: the investigation's indicators → the analyzers' findings → the stored rows
 * each finding rests on (each with its ref, so every row links to itself). The findings part is one
 * of the analysis views (views.ts: evidenceFindings), stored with them once the investigation settled.
 */

export interface EvidenceTreeView {
  indicators: IndicatorView[];
  findings: EvidenceFindingView[];
}

export async function investigationEvidenceTree(db: Db, id: string, nowNs: bigint): Promise<EvidenceTreeView> {
  const v = await analysisViews(db, id, nowNs);
  const indicators = (await Promise.all(v.record.indicatorIds.slice(0, 50).map((i) => getIndicator(db, i)))).filter((x) => x !== null);
  return { indicators: indicators.map(toIndicatorView), findings: v.views.evidence };
}
