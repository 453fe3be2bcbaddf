import type { Db } from '../../db/client';
import { getIndicator } from '../../db/repositories/indicators';
import { listInvestigations, zoomSummaries, type InvestigationRecord } from '../../db/repositories/investigations';
import { currentVerdicts, listNotes, type VerdictRecord } from '../../db/repositories/investigationVerdicts';
import type { Finding } from '../analyzers';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import type { ZoomView } from '../zoom/views';
import { analyseNarrowed, type Narrowing } from './analysis';
import { analysisViews } from './storedAnalysis';
import { noteView, verdictView, type NoteView, type VerdictView } from './verdicts';
import { codeView, filesView, networkView, type CodeView, type FilesView, type NetworkView } from './views';

/**
 * Investigations for the API: what one groups (its indicators, its zooms with their lifecycle),
 * and the analyzers' answers over its stored evidence — per destination, per file, per module of
 * code — each with the findings (and their reasons) that rest on it.
 *
 * The whole investigation's views come from storedAnalysis.ts (kept, stored once settled, or
 * analysed now); a narrowed view (a brushed range, a focused process) from the analysis narrowed
 * on demand (analysis.ts). views.ts builds both alike.
 */

const NS_PER_S = 1_000_000_000n;
/** Zooms and orders are kept 400 days: an investigation's are read over that span. */
const ZOOM_LOOKBACK_NS = 400n * 86_400n * NS_PER_S;

/** An investigation as the API lists it: its stored record (without the row version), its zoom counts and current verdict. */
export interface InvestigationSummaryView extends Omit<InvestigationRecord, 'rowVersion'> {
  zooms: number;
  activeZooms: number;
  /** the analysts' current verdict (investigations.setVerdict), null before any */
  verdict: VerdictView | null;
}

export interface InvestigationDetailView extends InvestigationSummaryView {
  /** analysts' notes, oldest first */
  notes: NoteView[];
  indicators: IndicatorView[];
  zooms: number;
  zoomList: ZoomView[];
  /** the zooms' active window (the beaconing analysis's observation window); null before any zoom started */
  window: { startNs: string; endNs: string } | null;
  evidence: { ioUringOps: number; socketEvents: number; fileAccesses: number; codeFingerprints: number };
  findings: Finding[];
}

export { InvestigationNotFoundError, NotFoundError } from './errors';
export type { Narrowing } from './analysis';

// --- list and get ---------------------------------------------------------------------------------

function summaryOf(r: InvestigationRecord, zooms: { zooms: number; active: number } | undefined, verdict: VerdictRecord | undefined): InvestigationSummaryView {
  const { rowVersion: _version, ...record } = r;
  return { ...record, zooms: zooms?.zooms ?? 0, activeZooms: zooms?.active ?? 0, verdict: verdict ? verdictView(verdict) : null };
}

export async function listInvestigationViews(
  db: Db,
  query: { fromNs: string; toNs: string; status?: 'open' | 'closed'; indicatorId?: string; limit: number },
): Promise<InvestigationSummaryView[]> {
  const records = await listInvestigations(db, query);
  const since = (BigInt(query.fromNs) > ZOOM_LOOKBACK_NS ? BigInt(query.fromNs) - ZOOM_LOOKBACK_NS : 0n).toString();
  const ids = records.map((r) => r.id);
  const [zooms, verdicts] = await Promise.all([zoomSummaries(db, ids, since), currentVerdicts(db, ids)]);
  return records.map((r) => summaryOf(r, zooms.get(r.id), verdicts.get(r.id)));
}

export async function investigationDetail(db: Db, id: string, nowNs: bigint): Promise<InvestigationDetailView> {
  const v = await analysisViews(db, id, nowNs);
  const [indicators, verdicts, notes] = await Promise.all([
    Promise.all(v.record.indicatorIds.slice(0, 50).map((i) => getIndicator(db, i))),
    currentVerdicts(db, [id]),
    listNotes(db, id),
  ]);
  const active = v.zooms.filter((z) => z.status === 'active').length;
  return {
    ...summaryOf(v.record, { zooms: v.zooms.filter((z) => z.status !== 'refused').length, active }, verdicts.get(id)),
    notes: notes.map(noteView),
    indicators: indicators.filter((x) => x !== null).map(toIndicatorView),
    zoomList: v.zooms,
    window: v.window,
    evidence: v.counts,
    findings: v.views.findings,
  };
}

// --- network, files, code: the whole investigation's views, or narrowed ---------------------------

const whole = (n: Narrowing) => n.fromNs === undefined && n.toNs === undefined && n.execId === undefined;

export async function investigationNetwork(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<NetworkView> {
  if (whole(narrowing)) return (await analysisViews(db, id, nowNs)).views.network;
  return networkView(await analyseNarrowed(db, id, nowNs, narrowing));
}

export async function investigationFiles(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<FilesView> {
  if (whole(narrowing)) return (await analysisViews(db, id, nowNs)).views.files;
  return filesView(await analyseNarrowed(db, id, nowNs, narrowing));
}

export async function investigationCode(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<CodeView> {
  if (whole(narrowing)) return (await analysisViews(db, id, nowNs)).views.code;
  return codeView(await analyseNarrowed(db, id, nowNs, narrowing));
}
