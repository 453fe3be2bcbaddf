import type { Db } from '../../db/client';
import { parseExecId } from '../../db/ids';
import { countInvestigationEvidence, loadInvestigationEvidence } from '../../db/repositories/evidence';
import { getIndicator } from '../../db/repositories/indicators';
import { getInvestigation, listInvestigations, zoomSummaries, type InvestigationRecord } from '../../db/repositories/investigations';
import { listZoomOrders, listZooms } from '../../db/repositories/zooms';
import {
  analyzeInvestigation,
  createFileClassifier,
  fileAccessesFromIoUring,
  FORMAT_LABELS,
  languageName,
  languagesDiffer,
  type Finding,
  type FindingKind,
  type InvestigationAnalysis,
  type InvestigationEvidence,
  type Language,
} from '../analyzers';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import { toZoomViews, type ZoomView } from '../zoom/views';
import { toInvestigationEvidence } from './evidence';
import { getServiceMap } from './serviceMap';

/**
 * Investigations for the API: what one groups (its indicators, its zooms with their lifecycle),
 * and the analyzers' answers over its stored evidence — per destination, per file, per module of
 * code — each with the findings (and their reasons) that rest on it.
 *
 * Evidence is read in the investigation's zoom window (first order to last end, or now), and the
 * beaconing analysis is told the zooms' active window, so a train of contacts that stopped before
 * the zoom ended is told from one still running.
 */

const NS_PER_S = 1_000_000_000n;
/** Zooms and orders are kept 400 days: an investigation's are read over that span. */
const ZOOM_LOOKBACK_NS = 400n * 86_400n * NS_PER_S;

export interface InvestigationSummaryView {
  id: string;
  title: string;
  status: 'open' | 'closed';
  trigger: 'manual' | 'auto';
  createdAtNs: string;
  updatedAtNs: string;
  createdBy: string;
  indicatorIds: string[];
  node: string;
  workload: string;
  execId: string;
  zooms: number;
  activeZooms: number;
}

export interface InvestigationDetailView extends InvestigationSummaryView {
  verdict: InvestigationRecord['verdict'];
  indicators: IndicatorView[];
  zooms: number;
  zoomList: ZoomView[];
  /** the zooms' active window (the beaconing analysis's observation window); null before any zoom started */
  window: { startNs: string; endNs: string } | null;
  evidence: { ioUringOps: number; socketEvents: number; fileAccesses: number; codeFingerprints: number };
  findings: Finding[];
}

export interface DestinationView {
  address: string;
  port: number;
  protocol: string;
  /** the internal service (service map), null when no entry covers it */
  service: string | null;
  serviceReason: string;
  contacts: number;
  firstNs: string;
  lastNs: string;
  intervalMedianMs: number | null;
  jitter: number | null;
  bytesOut: number;
  bytesIn: number;
  bytesOutPerContact: number;
  bytesInPerContact: number;
  periodic: { status: string; periodMs: number | null; confidence: number; reason: string };
  /** the captured prefixes' format (length_prefixed, tls_client_hello, http1_request, …), null when nothing was captured */
  payloadFormat: string | null;
  payloadFormatLabel: string | null;
  payloadReason: string | null;
  viaIoUringOnly: boolean;
  findingIds: string[];
}

export interface NetworkView {
  window: { startNs: string; endNs: string } | null;
  destinations: DestinationView[];
  findings: Finding[];
}

export interface FileRowView {
  path: string;
  /** sensitive file class, null for an ordinary file */
  class: string | null;
  classReason: string | null;
  op: 'open' | 'read' | 'write';
  viaIoUring: boolean;
  count: number;
  bytes: number;
  firstNs: string;
  lastNs: string;
}

export interface FilesView {
  files: FileRowView[];
  findings: Finding[];
}

export interface CodeModuleView {
  path: string;
  kind: 'executable' | 'shared_object' | 'native_module';
  language: Language;
  languageName: string;
  runtime: string | null;
  buildId: string | null;
  sha256: string | null;
  evidence: string[];
  differsFromWorkload: boolean;
  execId: string;
  firstSeenNs: string;
}

export interface CodeView {
  workload: { executable: string; language: Language; languageName: string; runtime: string | null } | null;
  modules: CodeModuleView[];
  provenance: { language: Language; differs: boolean; commonness: string; reason: string } | null;
  findings: Finding[];
}

export class InvestigationNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`no investigation ${id}`);
  }
}

// --- list and get ---------------------------------------------------------------------------------

function summaryOf(r: InvestigationRecord, zooms: { zooms: number; active: number } | undefined): InvestigationSummaryView {
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    trigger: r.trigger,
    createdAtNs: r.createdAtNs,
    updatedAtNs: r.updatedAtNs,
    createdBy: r.createdBy,
    indicatorIds: r.indicatorIds,
    node: r.node,
    workload: r.workload,
    execId: r.execId,
    zooms: zooms?.zooms ?? 0,
    activeZooms: zooms?.active ?? 0,
  };
}

export async function listInvestigationViews(
  db: Db,
  query: { fromNs: string; toNs: string; status?: 'open' | 'closed'; indicatorId?: string; limit: number },
): Promise<InvestigationSummaryView[]> {
  const records = await listInvestigations(db, query);
  const since = (BigInt(query.fromNs) > ZOOM_LOOKBACK_NS ? BigInt(query.fromNs) - ZOOM_LOOKBACK_NS : 0n).toString();
  const zooms = await zoomSummaries(db, records.map((r) => r.id), since);
  return records.map((r) => summaryOf(r, zooms.get(r.id)));
}

async function investigationZooms(db: Db, record: InvestigationRecord, nowNs: bigint): Promise<ZoomView[]> {
  // Zooms are ordered with (or after) their investigation; a minute of slack for clocks.
  const created = BigInt(record.createdAtNs);
  const from = created > 60n * NS_PER_S ? created - 60n * NS_PER_S : 0n;
  const query = { fromNs: from.toString(), toNs: (nowNs + 3600n * NS_PER_S).toString(), investigationId: record.id, limit: 1000 };
  const [zooms, orders] = await Promise.all([listZooms(db, query), listZoomOrders(db, query)]);
  return toZoomViews(zooms, orders, nowNs);
}

/** The zooms' active window: first start to last end (an active zoom: now, at most its expiry). */
export function zoomWindow(zooms: readonly ZoomView[], nowNs: bigint): { startNs: string; endNs: string } | null {
  let start: bigint | null = null;
  let end: bigint | null = null;
  for (const z of zooms) {
    if (!z.startedAtNs) continue;
    const s = BigInt(z.startedAtNs);
    const e = z.endedAtNs ? BigInt(z.endedAtNs) : z.expiresAtNs && BigInt(z.expiresAtNs) < nowNs ? BigInt(z.expiresAtNs) : nowNs;
    if (start === null || s < start) start = s;
    if (end === null || e > end) end = e;
  }
  return start === null || end === null ? null : { startNs: start.toString(), endNs: (end < start ? start : end).toString() };
}

/** Where evidence is read: from the first order to a minute after the window's end. */
function evidenceRange(zooms: readonly ZoomView[], window: { startNs: string; endNs: string } | null): { fromNs: string; toNs: string } | null {
  if (!window || zooms.length === 0) return null;
  const ordered = zooms.reduce((min, z) => (BigInt(z.orderedAtNs) < min ? BigInt(z.orderedAtNs) : min), BigInt(window.startNs));
  return { fromNs: (ordered - NS_PER_S).toString(), toNs: (BigInt(window.endNs) + 60n * NS_PER_S).toString() };
}

interface Analysed {
  record: InvestigationRecord;
  zooms: ZoomView[];
  window: { startNs: string; endNs: string } | null;
  evidence: InvestigationEvidence;
  analysis: InvestigationAnalysis;
  truncated: boolean;
}

/** The page asks for the detail, network, files and code views at once: they share one analysis. */
const ANALYSIS_TTL_MS = 250;
const analyses = new WeakMap<Db, Map<string, { at: number; result: Promise<Analysed> }>>();

/**
 * Loads an investigation, its zooms and evidence, and runs the analyzers (shared by the calls
 * that arrive within 250 ms of each other: the page asks for four views at once).
 */
export function analyse(db: Db, id: string, nowNs: bigint): Promise<Analysed> {
  let perDb = analyses.get(db);
  if (!perDb) analyses.set(db, (perDb = new Map()));
  const cached = perDb.get(id);
  if (cached && Date.now() - cached.at < ANALYSIS_TTL_MS) return cached.result;
  const result = analyseNow(db, id, nowNs);
  // Shared while it runs, and for ANALYSIS_TTL_MS after it finished.
  const entry = { at: Number.POSITIVE_INFINITY, result };
  perDb.set(id, entry);
  result.then(
    () => void (entry.at = Date.now()),
    () => perDb.delete(id),
  );
  for (const [key, entry] of perDb) if (Date.now() - entry.at >= ANALYSIS_TTL_MS) perDb.delete(key);
  return result;
}

async function analyseNow(db: Db, id: string, nowNs: bigint): Promise<Analysed> {
  const record = await getInvestigation(db, id);
  if (!record) throw new InvestigationNotFoundError(id);
  const zooms = await investigationZooms(db, record, nowNs);
  const window = zoomWindow(zooms, nowNs);
  const range = evidenceRange(zooms, window);
  const stored = range
    ? await loadInvestigationEvidence(db, { investigationId: id, ...range })
    : { ioUring: [], sockets: [], files: [], code: [], truncated: false };
  const pid = parseExecId(record.execId)?.pid;
  const evidence = toInvestigationEvidence(stored, {
    ...(window ? { window } : {}),
    ...(record.execId ? { process: { execId: record.execId, ...(pid !== undefined ? { pid } : {}) } } : {}),
  });
  const analysis = analyzeInvestigation(evidence, { serviceMap: getServiceMap().map, fileClassifier: createFileClassifier() });
  return { record, zooms, window, evidence, analysis, truncated: stored.truncated };
}

export async function investigationDetail(db: Db, id: string, nowNs: bigint): Promise<InvestigationDetailView> {
  const a = await analyse(db, id, nowNs);
  const indicators = (await Promise.all(a.record.indicatorIds.slice(0, 50).map((i) => getIndicator(db, i)))).filter((x) => x !== null);
  const active = a.zooms.filter((z) => z.status === 'active').length;
  const evidence = a.window
    ? await countInvestigationEvidence(db, { investigationId: id, ...evidenceRange(a.zooms, a.window)! })
    : { ioUringOps: 0, socketEvents: 0, fileAccesses: 0, codeFingerprints: 0 };
  return {
    ...summaryOf(a.record, { zooms: a.zooms.filter((z) => z.status !== 'refused').length, active }),
    verdict: a.record.verdict,
    indicators: indicators.map(toIndicatorView),
    zoomList: a.zooms,
    window: a.window,
    evidence,
    findings: a.analysis.findings,
  };
}

// --- the three analysis views ---------------------------------------------------------------------

const NETWORK_FINDINGS: ReadonlySet<FindingKind> = new Set(['network_destination', 'beaconing', 'payload_format']);

export async function investigationNetwork(db: Db, id: string, nowNs: bigint): Promise<NetworkView> {
  const a = await analyse(db, id, nowNs);
  const findings = a.analysis.findings.filter((f) => NETWORK_FINDINGS.has(f.kind));
  const destinations = a.analysis.destinations.map((d): DestinationView => {
    const p = d.pattern;
    return {
      address: p.destination.address,
      port: p.destination.port,
      protocol: p.destination.protocol,
      service: d.service.match?.name ?? null,
      serviceReason: d.service.reason,
      contacts: p.contacts.length,
      firstNs: p.firstNs,
      lastNs: p.lastNs,
      intervalMedianMs: p.intervalMedianMs,
      jitter: p.jitter,
      bytesOut: p.bytesOut,
      bytesIn: p.bytesIn,
      bytesOutPerContact: p.bytesOutPerContactMedian,
      bytesInPerContact: p.bytesInPerContactMedian,
      periodic: { status: p.verdict.status, periodMs: p.verdict.periodMs, confidence: p.verdict.confidence, reason: p.verdict.reason },
      payloadFormat: d.payload?.format ?? null,
      payloadFormatLabel: d.payload ? FORMAT_LABELS[d.payload.format] : null,
      payloadReason: d.payload?.reason ?? null,
      viaIoUringOnly: d.viaIoUringOnly,
      findingIds: findings.filter((f) => f.subject === d.key).map((f) => f.id),
    };
  });
  return { window: a.window, destinations, findings };
}

export async function investigationFiles(db: Db, id: string, nowNs: bigint): Promise<FilesView> {
  const a = await analyse(db, id, nowNs);
  const classifier = createFileClassifier();
  const pid = parseExecId(a.record.execId)?.pid;
  // Every file the process touched, sensitive or not: the file probe's rows and the io_uring
  // requests it did not report (the same merge the analyzers make).
  const accesses = [...a.evidence.files, ...fileAccessesFromIoUring(a.evidence.ioUring, a.evidence.files)];
  const rows = new Map<string, FileRowView>();
  for (const f of accesses) {
    const viaIoUring = f.via === 'io_uring';
    const key = `${f.path}\u0000${f.op}\u0000${viaIoUring}`;
    let row = rows.get(key);
    if (!row) {
      const verdict = classifier.classify(f.path, pid !== undefined ? { pid } : {});
      row = { path: f.path, class: verdict ? String(verdict.class) : null, classReason: verdict?.reason ?? null, op: f.op, viaIoUring, count: 0, bytes: 0, firstNs: f.ts, lastNs: f.ts };
      rows.set(key, row);
    }
    row.count++;
    row.bytes += f.op === 'open' ? 0 : Math.max(0, f.bytes ?? 0);
    if (BigInt(f.ts) < BigInt(row.firstNs)) row.firstNs = f.ts;
    if (BigInt(f.ts) > BigInt(row.lastNs)) row.lastNs = f.ts;
  }
  const files = [...rows.values()].sort(
    (x, y) => Number(y.class !== null) - Number(x.class !== null) || x.path.localeCompare(y.path) || x.op.localeCompare(y.op) || Number(x.viaIoUring) - Number(y.viaIoUring),
  );
  return { files, findings: a.analysis.findings.filter((f) => f.kind === 'sensitive_file' || f.kind === 'io_uring_usage') };
}

export async function investigationCode(db: Db, id: string, nowNs: bigint): Promise<CodeView> {
  const a = await analyse(db, id, nowNs);
  const code = a.evidence.code;
  const executables = code.filter((c) => c.kind === 'executable');
  const exe = executables.find((c) => c.execId === a.record.execId) ?? executables[0];
  const seen = new Map<string, CodeModuleView>();
  for (const c of code) {
    const key = `${c.execId}\u0000${c.path}\u0000${c.sha256 ?? ''}`;
    if (seen.has(key)) continue;
    seen.set(key, {
      path: c.path,
      kind: c.kind,
      language: c.language,
      languageName: languageName(c.language),
      runtime: c.runtime?.name ?? null,
      buildId: c.buildId ?? null,
      sha256: c.sha256 ?? null,
      evidence: c.languageEvidence,
      differsFromWorkload: exe ? c !== exe && c.path !== exe.path && languagesDiffer(exe.language, c.language) : false,
      execId: c.execId,
      firstSeenNs: c.ts ?? '',
    });
  }
  const p = a.analysis.provenance;
  return {
    workload: exe ? { executable: exe.path, language: exe.language, languageName: languageName(exe.language), runtime: exe.runtime?.name ?? null } : null,
    modules: [...seen.values()].sort((x, y) => Number(y.kind === 'executable') - Number(x.kind === 'executable') || Number(y.differsFromWorkload) - Number(x.differsFromWorkload) || x.path.localeCompare(y.path)),
    provenance: p ? { language: p.language, differs: p.differs, commonness: p.commonness, reason: p.reason } : null,
    findings: a.analysis.findings.filter((f) => f.kind === 'code_provenance'),
  };
}
