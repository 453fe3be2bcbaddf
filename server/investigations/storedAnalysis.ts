import type { Db } from '../../db/client';
import { insertInvestigationAnalysis, latestInvestigationAnalysis } from '../../db/repositories/investigationAnalyses';
import { createLogger } from '../../sensor/src/log';
import type { Finding } from '../analyzers';
import {
  analyseScope,
  analysisKey,
  countEvidence,
  investigationScope,
  onForgetAnalyses,
  sharedRecently,
  type EvidenceCounts,
  type InvestigationScope,
} from './analysis';
import { codeView, evidenceFindings, filesView, networkView, type CodeView, type EvidenceFindingView, type FilesView, type NetworkView } from './views';

/**
 * The page's analysis views of a whole investigation (nothing narrowed), and their storage once the
 * investigation has settled.
 *
 * A budget-sized zoom holds 40 000+ evidence rows: reading and analysing them takes longer than a
 * first view may (docs/BENCHMARKS.md). But once every zoom of an investigation has ended, its
 * evidence no longer changes, so the analysis is computed once — by the keeper right after the
 * zooms end (analysisKeeper.ts), or by the first view — and stored (investigation_analyses); every
 * later first view reads one row. Stored views are used only under the analysis key computed now
 * (analysis.ts: row version, evidence range and counts, service map, format), so a late evidence
 * row, a changed service map or a new analyzer version makes them be computed again, never served
 * stale. A stored row that cannot be read back is ignored (and said so in the log): the views are
 * computed again from the evidence, which is never lost.
 */

/** Every view the page draws from the analysis, un-narrowed: what is stored. */
export interface AnalysisViews {
  findings: Finding[];
  network: NetworkView;
  files: FilesView;
  code: CodeView;
  evidence: EvidenceFindingView[];
}

export interface ViewedInvestigation extends InvestigationScope {
  counts: EvidenceCounts;
  views: AnalysisViews;
  /** where the views came from: kept in this process, read from storage, or analysed now */
  source: 'memory' | 'stored' | 'computed';
}

const NS_PER_S = 1_000_000_000n;
/** Evidence of an ended zoom still in flight (sensor flush, collector unit): waited out before storing. */
export const SETTLE_NS = 10n * NS_PER_S;

/** Settled: at least one zoom ran, none is still active or ordered, and the last one ended SETTLE_NS ago. */
function isSettled(scope: InvestigationScope, nowNs: bigint): boolean {
  if (!scope.window || scope.zooms.length === 0) return false;
  if (scope.zooms.some((z) => z.status === 'active' || z.status === 'ordered')) return false;
  return BigInt(scope.window.endNs) + SETTLE_NS <= nowNs;
}

function viewsOf(a: Parameters<typeof networkView>[0]): AnalysisViews {
  return { findings: a.analysis.findings, network: networkView(a), files: filesView(a), code: codeView(a), evidence: evidenceFindings(a) };
}

const log = createLogger('investigations');
const KEPT = 16;
const kept = new WeakMap<Db, Map<string, { key: string; views: AnalysisViews }>>();
const shared = new WeakMap<Db, Map<string, { at: number; result: Promise<ViewedInvestigation> }>>();
onForgetAnalyses((db) => {
  kept.delete(db);
  shared.delete(db);
});

function keep(db: Db, id: string, key: string, views: AnalysisViews): void {
  let perDb = kept.get(db);
  if (!perDb) kept.set(db, (perDb = new Map()));
  perDb.delete(id);
  perDb.set(id, { key, views });
  while (perDb.size > KEPT) perDb.delete(perDb.keys().next().value!);
}

/** The stored views of an investigation with their key; null when none, or when they cannot be read back. */
async function readStored(db: Db, id: string): Promise<{ key: string; views: AnalysisViews } | null> {
  const row = await latestInvestigationAnalysis(db, id);
  if (!row) return null;
  try {
    const views = JSON.parse(row.views) as AnalysisViews;
    if (!views || !Array.isArray(views.findings) || !views.network || !views.files || !views.code || !Array.isArray(views.evidence)) throw new Error('not an analysis');
    return { key: row.evidenceKey, views };
  } catch (err) {
    log.warn('stored analysis unreadable: analysed again', { investigationId: id, error: (err as Error).message });
    return null;
  }
}

const evidenceRows = (c: EvidenceCounts) => c.ioUringOps + c.socketEvents + c.fileAccesses + c.codeFingerprints;

function insert(db: Db, id: string, key: string, counts: EvidenceCounts, views: AnalysisViews, computeMs: number, nowNs: bigint): Promise<void> {
  return insertInvestigationAnalysis(db, { investigationId: id, evidenceKey: key, computedAtNs: nowNs.toString(), computeMs, evidenceRows: String(evidenceRows(counts)), views: JSON.stringify(views) });
}

/** Analyses the scope now (or takes the analysis kept under `key`) and keeps its views. */
async function compute(db: Db, scope: InvestigationScope, counts: EvidenceCounts, key: string): Promise<{ views: AnalysisViews; computeMs: number }> {
  const started = performance.now();
  const views = viewsOf(await analyseScope(db, scope, counts, key));
  keep(db, scope.record.id, key, views);
  return { views, computeMs: performance.now() - started };
}

async function viewsNow(db: Db, id: string, nowNs: bigint): Promise<ViewedInvestigation> {
  const scope = await investigationScope(db, id, nowNs);
  const settled = isSettled(scope, nowNs);
  const inMemory = kept.get(db)?.get(id);
  // The count and the stored row are read at once: on a first view both are needed.
  const [counts, storedEarly] = await Promise.all([countEvidence(db, scope), settled && !inMemory ? readStored(db, id) : Promise.resolve(null)]);
  const key = analysisKey(scope, counts);
  if (inMemory?.key === key) return { ...scope, counts, views: inMemory.views, source: 'memory' };
  const stored = storedEarly ?? (settled && inMemory ? await readStored(db, id) : null);
  if (stored?.key === key) {
    keep(db, id, key, stored.views);
    return { ...scope, counts, views: stored.views, source: 'stored' };
  }
  const { views, computeMs } = await compute(db, scope, counts, key);
  // Stored in the background: the view does not wait for the write.
  if (settled) insert(db, id, key, counts, views, computeMs, nowNs).catch((err: unknown) => log.warn('analysis not stored (computed again next time)', { investigationId: id, error: (err as Error).message }));
  return { ...scope, counts, views, source: 'computed' };
}

/** The whole investigation's views (shared by the panels that ask at once). */
export function analysisViews(db: Db, id: string, nowNs: bigint): Promise<ViewedInvestigation> {
  return sharedRecently(shared, db, id, () => viewsNow(db, id, nowNs));
}

/**
 * Stores a settled investigation's analysis unless the stored one is current. Returns what it did:
 * 'stored' (stored now, with how long the analysis took), 'current' (the stored one has the current
 * key) or 'unsettled' (a zoom is still running, or ended less than SETTLE_NS ago).
 */
export async function storeAnalysis(db: Db, id: string, nowNs: bigint): Promise<{ outcome: 'stored' | 'current' | 'unsettled'; computeMs: number; evidenceRows: number }> {
  const scope = await investigationScope(db, id, nowNs);
  if (!isSettled(scope, nowNs)) return { outcome: 'unsettled', computeMs: 0, evidenceRows: 0 };
  const [counts, stored] = await Promise.all([countEvidence(db, scope), readStored(db, id)]);
  const key = analysisKey(scope, counts);
  if (stored?.key === key) return { outcome: 'current', computeMs: 0, evidenceRows: evidenceRows(counts) };
  const { views, computeMs } = await compute(db, scope, counts, key);
  await insert(db, id, key, counts, views, computeMs, nowNs);
  return { outcome: 'stored', computeMs, evidenceRows: evidenceRows(counts) };
}
