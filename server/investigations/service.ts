import type { Db } from '../../db/client';
import { parseExecId } from '../../db/ids';
import { countInvestigationEvidence, loadInvestigationEvidence } from '../../db/repositories/evidence';
import { getIndicator } from '../../db/repositories/indicators';
import { getInvestigation, listInvestigations, zoomSummaries, type InvestigationRecord } from '../../db/repositories/investigations';
import { currentVerdicts, listNotes } from '../../db/repositories/investigationVerdicts';
import { observedUntil } from '../../db/repositories/sensors';
import { listZoomOrders, listZooms } from '../../db/repositories/zooms';
import {
  analyzeInvestigation,
  createFileClassifier,
  fileAccessesFromIoUring,
  FORMAT_LABELS,
  languageName,
  isSystemLibrary,
  languagesDiffer,
  type Finding,
  type FindingKind,
  type InvestigationAnalysis,
  type InvestigationEvidence,
  type Language,
} from '../analyzers';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import { toZoomViews, type ZoomView } from '../zoom/views';
import { InvestigationNotFoundError } from './errors';
import { toInvestigationEvidence } from './evidence';
import { evidenceRows, type EvidenceRowIndex, type EvidenceRowInfo } from './evidenceRows';
import { noteView, verdictView, type NoteView, type VerdictView } from './verdicts';
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

/** An investigation as the API lists it: its stored record (without the row version) and its zoom counts. */
export interface InvestigationSummaryView extends Omit<InvestigationRecord, 'rowVersion'> {
  zooms: number;
  activeZooms: number;
}

export interface InvestigationDetailView extends InvestigationSummaryView {
  /** the analysts' current verdict (investigations.setVerdict), null before any */
  verdict: VerdictView | null;
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
  /** contact start times (at most MAX_CONTACTS, the first ones): the contact timeline */
  contactsNs: string[];
  /** intervals between consecutive contact starts (ms, same cap): the interval histogram */
  intervalsMs: number[];
  /** captured payload prefixes towards it (at most MAX_PREFIXES, the first ones) */
  prefixes: PayloadPrefixView[];
}

export interface PayloadPrefixView {
  tsNs: string;
  ref: string;
  /** bytes the send carried (the prefix is at most the zoom's payload_prefix_bytes of them) */
  bytes: number;
  hex: string;
  /** printable ASCII, '.' for every other byte */
  ascii: string;
}

/** Narrowing of the panels (brushing a time range, focusing a process on the page). */
export interface Narrowing {
  fromNs?: string;
  toNs?: string;
  execId?: string;
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
  /** a system or language-runtime library (never flagged as differing) */
  systemLibrary: boolean;
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

export { InvestigationNotFoundError, NotFoundError } from './errors';

// --- list and get ---------------------------------------------------------------------------------

function summaryOf(r: InvestigationRecord, zooms: { zooms: number; active: number } | undefined): InvestigationSummaryView {
  const { rowVersion: _version, ...record } = r;
  return { ...record, zooms: zooms?.zooms ?? 0, activeZooms: zooms?.active ?? 0 };
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

/**
 * The zooms' active window: first start to last end. A zoom without an end state counts until now
 * (at most its expiry), but never past what its sensor's stream is known to have reached
 * (`observedUntil`): a replay that ran out or a sensor that went away did not watch a silence, so
 * the beaconing analysis must not read one there as "the beacon stopped".
 */
export function zoomWindow(zooms: readonly ZoomView[], nowNs: bigint, observedUntil: ReadonlyMap<string, string> = new Map()): { startNs: string; endNs: string } | null {
  let start: bigint | null = null;
  let end: bigint | null = null;
  for (const z of zooms) {
    if (!z.startedAtNs) continue;
    const s = BigInt(z.startedAtNs);
    let e = z.endedAtNs ? BigInt(z.endedAtNs) : z.expiresAtNs && BigInt(z.expiresAtNs) < nowNs ? BigInt(z.expiresAtNs) : nowNs;
    const watched = observedUntil.get(z.sensor);
    if (!z.endedAtNs && watched !== undefined && BigInt(watched) < e) e = BigInt(watched) > s ? BigInt(watched) : s;
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

export interface Analysed {
  record: InvestigationRecord;
  zooms: ZoomView[];
  window: { startNs: string; endNs: string } | null;
  /** where evidence was read (null before any zoom started) */
  range: { fromNs: string; toNs: string } | null;
  evidence: InvestigationEvidence;
  analysis: InvestigationAnalysis;
  /** evidence rows per table in the range */
  counts: EvidenceCounts;
  /** every evidence row read, by the analyzers' row id: its ref, table, time and summary (described when asked for) */
  rows: EvidenceRowIndex;
  truncated: boolean;
  /** narrowed analyses already made of this one (the page narrows several panels alike at once) */
  narrowed: Map<string, Analysed>;
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

/**
 * Analyses kept across requests while their evidence has not changed: an ended zoom's evidence
 * never changes, and a budget-sized zoom's analysis costs far more than the page's budget. The
 * key is what the analysis read: the investigation's row version, the evidence range (it moves
 * with an active zoom) and the rows per evidence table in it (evidence is append-only).
 */
const MEMO_SIZE = 16;
const memo = new WeakMap<Db, Map<string, { key: string; analysed: Analysed }>>();

type EvidenceCounts = Awaited<ReturnType<typeof countInvestigationEvidence>>;
const NO_EVIDENCE: EvidenceCounts = { ioUringOps: 0, socketEvents: 0, fileAccesses: 0, codeFingerprints: 0 };

/** Forgets every analysis kept for `db` (evidence changed behind the services' back: benchmarks). */
export function forgetAnalyses(db: Db): void {
  memo.delete(db);
  analyses.delete(db);
}

export interface InvestigationScope {
  record: InvestigationRecord;
  zooms: ZoomView[];
  window: { startNs: string; endNs: string } | null;
  range: { fromNs: string; toNs: string } | null;
}

/** An investigation with its zooms, their active window and where its evidence is read (no evidence). */
export async function investigationScope(db: Db, id: string, nowNs: bigint, known?: InvestigationRecord): Promise<InvestigationScope> {
  const record = known ?? (await getInvestigation(db, id));
  if (!record) throw new InvestigationNotFoundError(id);
  const zooms = await investigationZooms(db, record, nowNs);
  const open = zooms.filter((z) => z.startedAtNs && !z.endedAtNs);
  const since = open.reduce((min, z) => (BigInt(z.startedAtNs!) < min ? BigInt(z.startedAtNs!) : min), nowNs) - 3600n * NS_PER_S;
  const watched = await observedUntil(db, [...new Set(open.map((z) => z.sensor))], since.toString());
  const window = zoomWindow(zooms, nowNs, watched);
  return { record, zooms, window, range: evidenceRange(zooms, window) };
}

async function analyseNow(db: Db, id: string, nowNs: bigint): Promise<Analysed> {
  const { record, zooms, window, range } = await investigationScope(db, id, nowNs);
  let perDb = memo.get(db);
  if (!perDb) memo.set(db, (perDb = new Map()));
  const known = perDb.get(id);
  const load = () =>
    range ? loadInvestigationEvidence(db, { investigationId: id, ...range }) : Promise.resolve({ ioUring: [], sockets: [], files: [], code: [], truncated: false });
  // Nothing kept: the evidence is read whatever the counts say, so both queries run at once.
  const loading = known ? null : load();
  loading?.catch(() => {}); // awaited below; a failed count must not leave it unhandled
  const counts = range ? await countInvestigationEvidence(db, { investigationId: id, ...range }) : NO_EVIDENCE;
  const key = JSON.stringify([record.rowVersion, record.execId, range, counts]);
  if (known && known.key === key) {
    // Most recently used last: the first entry is the one to evict.
    perDb.delete(id);
    perDb.set(id, known);
    return { ...known.analysed, record, zooms };
  }
  const stored = await (loading ?? load());
  const pid = parseExecId(record.execId)?.pid;
  const evidence = toInvestigationEvidence(stored, {
    ...(window ? { window } : {}),
    ...(record.execId ? { process: { execId: record.execId, ...(pid !== undefined ? { pid } : {}) } } : {}),
  });
  const analysis = analyzeInvestigation(evidence, { serviceMap: getServiceMap().map, fileClassifier: createFileClassifier() });
  const analysed: Analysed = { record, zooms, window, range, counts, evidence, analysis, rows: evidenceRows(stored), truncated: stored.truncated, narrowed: new Map() };
  perDb.delete(id);
  perDb.set(id, { key, analysed });
  while (perDb.size > MEMO_SIZE) perDb.delete(perDb.keys().next().value!);
  return analysed;
}

const inRange = (ts: string, from: bigint | null, to: bigint | null) => (from === null || BigInt(ts) >= from) && (to === null || BigInt(ts) <= to);

/**
 * The analysis over the part of the evidence the page narrowed to (a time range, one process),
 * the beaconing window clipped to it; the whole analysis when nothing is narrowed.
 */
export function narrowAnalysis(a: Analysed, narrowing: Narrowing = {}): Analysed {
  const { fromNs, toNs, execId } = narrowing;
  if (fromNs === undefined && toNs === undefined && execId === undefined) return a;
  const key = JSON.stringify([fromNs, toNs, execId]);
  const known = a.narrowed.get(key);
  if (known) return known;
  const from = fromNs !== undefined ? BigInt(fromNs) : null;
  const to = toNs !== undefined ? BigInt(toNs) : null;
  const keep = <T extends { ts?: string; execId: string }>(rows: readonly T[]) =>
    rows.filter((r) => (execId === undefined || r.execId === execId) && (r.ts === undefined || inRange(r.ts, from, to)));
  let window = a.window;
  if (window) {
    const start = from !== null && from > BigInt(window.startNs) ? from : BigInt(window.startNs);
    const end = to !== null && to < BigInt(window.endNs) ? to : BigInt(window.endNs);
    window = { startNs: start.toString(), endNs: (end < start ? start : end).toString() };
  }
  const evidence: InvestigationEvidence = {
    ...a.evidence,
    sockets: keep(a.evidence.sockets),
    ioUring: keep(a.evidence.ioUring),
    files: keep(a.evidence.files),
    code: keep(a.evidence.code),
    ...(window ? { window } : {}),
  };
  const analysis = analyzeInvestigation(evidence, { serviceMap: getServiceMap().map, fileClassifier: createFileClassifier() });
  const narrowed: Analysed = { ...a, window, evidence, analysis, narrowed: new Map() };
  if (a.narrowed.size >= MEMO_SIZE) a.narrowed.delete(a.narrowed.keys().next().value!);
  a.narrowed.set(key, narrowed);
  return narrowed;
}

export async function investigationDetail(db: Db, id: string, nowNs: bigint): Promise<InvestigationDetailView> {
  const a = await analyse(db, id, nowNs);
  const indicators = (await Promise.all(a.record.indicatorIds.slice(0, 50).map((i) => getIndicator(db, i)))).filter((x) => x !== null);
  const active = a.zooms.filter((z) => z.status === 'active').length;
  const [verdicts, notes] = await Promise.all([currentVerdicts(db, [id]), listNotes(db, id)]);
  const verdict = verdicts.get(id);
  return {
    ...summaryOf(a.record, { zooms: a.zooms.filter((z) => z.status !== 'refused').length, active }),
    verdict: verdict ? verdictView(verdict) : null,
    notes: notes.map(noteView),
    indicators: indicators.map(toIndicatorView),
    zoomList: a.zooms,
    window: a.window,
    evidence: a.counts,
    findings: a.analysis.findings,
  };
}

// --- the three analysis views ---------------------------------------------------------------------

const NETWORK_FINDINGS: ReadonlySet<FindingKind> = new Set(['network_destination', 'beaconing', 'payload_format']);

/** Contact times and intervals kept per destination (the first ones): enough to draw, bounded. */
const MAX_CONTACTS = 1000;
/** Payload prefixes kept per destination (the first ones). */
const MAX_PREFIXES = 32;

/** The first MAX_PREFIXES rows among `eventIds` that carry a payload prefix (only those are described). */
function firstPrefixes(rows: EvidenceRowIndex, eventIds: readonly string[]): PayloadPrefixView[] {
  const out: PayloadPrefixView[] = [];
  for (const eventId of eventIds) {
    if (out.length >= MAX_PREFIXES) break;
    if (!rows.hasPayload(eventId)) continue;
    const r: EvidenceRowInfo = rows.get(eventId)!;
    out.push({ tsNs: r.tsNs, ref: r.ref, bytes: r.bytes, hex: r.payloadHex, ascii: r.payloadAscii });
  }
  return out;
}

export async function investigationNetwork(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<NetworkView> {
  const a = narrowAnalysis(await analyse(db, id, nowNs), narrowing);
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
      contactsNs: p.contacts.slice(0, MAX_CONTACTS).map((c) => c.startNs),
      intervalsMs: p.contacts.slice(1, MAX_CONTACTS).map((c, i) => Number(BigInt(c.startNs) - BigInt(p.contacts[i]!.startNs)) / 1e6),
      prefixes: firstPrefixes(a.rows, d.payloadEventIds),
    };
  });
  return { window: a.window, destinations, findings };
}

export async function investigationFiles(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<FilesView> {
  const a = narrowAnalysis(await analyse(db, id, nowNs), narrowing);
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

export async function investigationCode(db: Db, id: string, nowNs: bigint, narrowing: Narrowing = {}): Promise<CodeView> {
  const a = narrowAnalysis(await analyse(db, id, nowNs), narrowing);
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
      // System and runtime libraries (libc, libstdc++, libnode…) are the platform, not the workload's
      // code: the same rule the provenance analysis applies.
      systemLibrary: isSystemLibrary(c.path),
      differsFromWorkload: exe ? c !== exe && c.path !== exe.path && !isSystemLibrary(c.path) && languagesDiffer(exe.language, c.language) : false,
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
