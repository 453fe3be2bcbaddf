import { createHash } from 'node:crypto';
import type { Db } from '../../db/client';
import { parseExecId } from '../../db/ids';
import { countInvestigationEvidence, loadInvestigationEvidence, type StoredEvidence } from '../../db/repositories/evidence';
import { getInvestigation, type InvestigationRecord } from '../../db/repositories/investigations';
import { observedUntil } from '../../db/repositories/sensors';
import { listZoomOrders, listZooms } from '../../db/repositories/zooms';
import { analyzeInvestigation, createFileClassifier, type InvestigationAnalysis, type InvestigationEvidence } from '../analyzers';
import { toZoomViews, type ZoomView } from '../zoom/views';
import { InvestigationNotFoundError } from './errors';
import { toInvestigationEvidence } from './evidence';
import { evidenceRows, type EvidenceRowIndex } from './evidenceRows';
import { getServiceMap } from './serviceMap';

/**
 * One investigation's evidence, analysed: its scope (record, zooms, their active window, where
 * evidence is read), the evidence rows loaded from storage and the analyzers' answer over them,
 * kept while the evidence is unchanged, and narrowed on demand (a brushed time range, a focused
 * process). The page's views are built from this (views.ts); an ended investigation's are also
 * stored (storedAnalysis.ts).
 *
 * Evidence is read in the investigation's zoom window (first order to last end, or now), and the
 * beaconing analysis is told the zooms' active window, so a train of contacts that stopped before
 * the zoom ended is told from one still running.
 */

const NS_PER_S = 1_000_000_000n;

/** Narrowing of the panels (brushing a time range, focusing a process on the page). */
export interface Narrowing {
  fromNs?: string;
  toNs?: string;
  execId?: string;
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

/** Where an investigation's evidence lies and what reads it: no evidence rows yet. */
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

export type EvidenceCounts = Awaited<ReturnType<typeof countInvestigationEvidence>>;
const NO_EVIDENCE: EvidenceCounts = { ioUringOps: 0, socketEvents: 0, fileAccesses: 0, codeFingerprints: 0 };

/** Evidence rows per table in the scope's range (one cheap query: what the analysis key rests on). */
export function countEvidence(db: Db, scope: InvestigationScope): Promise<EvidenceCounts> {
  return scope.range ? countInvestigationEvidence(db, { investigationId: scope.record.id, ...scope.range }) : Promise.resolve(NO_EVIDENCE);
}

function loadEvidence(db: Db, scope: InvestigationScope): Promise<StoredEvidence> {
  return scope.range
    ? loadInvestigationEvidence(db, { investigationId: scope.record.id, ...scope.range })
    : Promise.resolve({ ioUring: [], sockets: [], files: [], code: [], truncated: false });
}

/**
 * What an analysis's output is a function of, as a short hash: the investigation's row version and
 * process, the evidence range (it moves while a zoom is active), the rows per evidence table in it
 * (evidence is append-only, so a late row changes a count), the service map in force and
 * ANALYSIS_FORMAT. Two analyses with the same key are the same analysis.
 */
export function analysisKey(scope: InvestigationScope, counts: EvidenceCounts): string {
  const parts = [ANALYSIS_FORMAT, scope.record.rowVersion, scope.record.execId, scope.range, counts, serviceMapKey()];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/**
 * Bump when the analyzers or the views built from them answer differently for the same evidence:
 * stored analyses with the old format are then computed again instead of being served.
 */
const ANALYSIS_FORMAT = 1;

const serviceMapKeys = new WeakMap<object, string>();

/** A hash of the service map's entries (the only analyzer configuration an operator changes). */
function serviceMapKey(): string {
  const { map, state } = getServiceMap();
  let key = serviceMapKeys.get(map);
  if (key === undefined) {
    key = createHash('sha256').update(JSON.stringify(state.entries)).digest('hex').slice(0, 16);
    serviceMapKeys.set(map, key);
  }
  return key;
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

/**
 * Calls that arrive within SHARE_MS of each other share one answer: the page asks for every panel
 * at once. Shared while it runs, and for SHARE_MS after it finished; a failure is not kept.
 */
const SHARE_MS = 250;

export function sharedRecently<T>(table: WeakMap<Db, Map<string, { at: number; result: Promise<T> }>>, db: Db, id: string, run: () => Promise<T>): Promise<T> {
  let perDb = table.get(db);
  if (!perDb) table.set(db, (perDb = new Map()));
  const cached = perDb.get(id);
  if (cached && Date.now() - cached.at < SHARE_MS) return cached.result;
  const result = run();
  const entry = { at: Number.POSITIVE_INFINITY, result };
  perDb.set(id, entry);
  result.then(
    () => void (entry.at = Date.now()),
    () => perDb.delete(id),
  );
  for (const [key, e] of perDb) if (Date.now() - e.at >= SHARE_MS) perDb.delete(key);
  return result;
}

const analyses = new WeakMap<Db, Map<string, { at: number; result: Promise<Analysed> }>>();

/** Loads an investigation, its zooms and evidence, and runs the analyzers (shared by calls at once). */
export function analyse(db: Db, id: string, nowNs: bigint): Promise<Analysed> {
  return sharedRecently(analyses, db, id, () => analyseNow(db, id, nowNs));
}

/**
 * Analyses kept across requests while their evidence has not changed (the same analysis key): an
 * ended zoom's evidence never changes, and a budget-sized zoom's analysis costs far more than the
 * page's budget.
 */
const MEMO_SIZE = 16;
const memo = new WeakMap<Db, Map<string, { key: string; analysed: Analysed }>>();

/** Hooks run by forgetAnalyses (the stored-analysis layer keeps views of its own). */
const forgetters = new Set<(db: Db) => void>();

export function onForgetAnalyses(forget: (db: Db) => void): void {
  forgetters.add(forget);
}

/** Forgets every analysis kept in memory for `db` (evidence changed behind the services' back: benchmarks). */
export function forgetAnalyses(db: Db): void {
  memo.delete(db);
  analyses.delete(db);
  for (const forget of forgetters) forget(db);
}

/** The analysis kept in memory for this key, if any (most recently used last). */
function keptAnalysis(db: Db, id: string, key: string): Analysed | null {
  const perDb = memo.get(db);
  const known = perDb?.get(id);
  if (!perDb || !known || known.key !== key) return null;
  perDb.delete(id);
  perDb.set(id, known);
  return known.analysed;
}

async function analyseNow(db: Db, id: string, nowNs: bigint): Promise<Analysed> {
  const scope = await investigationScope(db, id, nowNs);
  const known = memo.get(db)?.get(id);
  // Nothing kept: the evidence is read whatever the counts say, so both queries run at once.
  const loading = known ? null : loadEvidence(db, scope);
  loading?.catch(() => {}); // awaited below; a failed count must not leave it unhandled
  const counts = await countEvidence(db, scope);
  const key = analysisKey(scope, counts);
  const kept = keptAnalysis(db, id, key);
  if (kept) return { ...kept, record: scope.record, zooms: scope.zooms };
  return analyseEvidence(db, scope, counts, key, await (loading ?? loadEvidence(db, scope)));
}

/** Analyses the scope's evidence (read now unless given) and keeps the analysis under `key`. */
export async function analyseScope(db: Db, scope: InvestigationScope, counts: EvidenceCounts, key: string): Promise<Analysed> {
  return keptAnalysis(db, scope.record.id, key) ?? analyseEvidence(db, scope, counts, key, await loadEvidence(db, scope));
}

/** The analysis of `stored` rows of the scope's investigation, the beaconing window being `window`. */
function analysedFrom(scope: InvestigationScope, counts: EvidenceCounts, window: Analysed['window'], stored: StoredEvidence): Analysed {
  const { record } = scope;
  const pid = parseExecId(record.execId)?.pid;
  const evidence = toInvestigationEvidence(stored, {
    ...(window ? { window } : {}),
    ...(record.execId ? { process: { execId: record.execId, ...(pid !== undefined ? { pid } : {}) } } : {}),
  });
  return {
    record,
    zooms: scope.zooms,
    window,
    range: scope.range,
    counts,
    evidence,
    analysis: analyzeInvestigation(evidence, analyzerConfig()),
    rows: evidenceRows(stored),
    truncated: stored.truncated,
    narrowed: new Map(),
  };
}

function analyseEvidence(db: Db, scope: InvestigationScope, counts: EvidenceCounts, key: string, stored: StoredEvidence): Analysed {
  const analysed = analysedFrom(scope, counts, scope.window, stored);
  let perDb = memo.get(db);
  if (!perDb) memo.set(db, (perDb = new Map()));
  perDb.delete(scope.record.id);
  perDb.set(scope.record.id, { key, analysed });
  while (perDb.size > MEMO_SIZE) perDb.delete(perDb.keys().next().value!);
  return analysed;
}

const inRange = (ts: string, from: bigint | null, to: bigint | null) => (from === null || BigInt(ts) >= from) && (to === null || BigInt(ts) <= to);

const isWhole = (n: Narrowing) => n.fromNs === undefined && n.toNs === undefined && n.execId === undefined;
const narrowingKey = (n: Narrowing) => JSON.stringify([n.fromNs, n.toNs, n.execId]);

/** The beaconing window clipped to a narrowed range. */
function clippedWindow(window: Analysed['window'], from: bigint | null, to: bigint | null): Analysed['window'] {
  if (!window) return null;
  const start = from !== null && from > BigInt(window.startNs) ? from : BigInt(window.startNs);
  const end = to !== null && to < BigInt(window.endNs) ? to : BigInt(window.endNs);
  return { startNs: start.toString(), endNs: (end < start ? start : end).toString() };
}

const analyzerConfig = () => ({ serviceMap: getServiceMap().map, fileClassifier: createFileClassifier() });

/**
 * The analysis over the part of the evidence the page narrowed to (a time range, one process),
 * the beaconing window clipped to it; the whole analysis when nothing is narrowed.
 */
function narrowAnalysis(a: Analysed, narrowing: Narrowing = {}): Analysed {
  if (isWhole(narrowing)) return a;
  const { fromNs, toNs, execId } = narrowing;
  const key = narrowingKey(narrowing);
  const known = a.narrowed.get(key);
  if (known) return known;
  const from = fromNs !== undefined ? BigInt(fromNs) : null;
  const to = toNs !== undefined ? BigInt(toNs) : null;
  const keep = <T extends { ts?: string; execId: string }>(rows: readonly T[]) =>
    rows.filter((r) => (execId === undefined || r.execId === execId) && (r.ts === undefined || inRange(r.ts, from, to)));
  const window = clippedWindow(a.window, from, to);
  const evidence: InvestigationEvidence = {
    ...a.evidence,
    sockets: keep(a.evidence.sockets),
    ioUring: keep(a.evidence.ioUring),
    files: keep(a.evidence.files),
    code: keep(a.evidence.code),
    ...(window ? { window } : {}),
  };
  const narrowed: Analysed = { ...a, window, evidence, analysis: analyzeInvestigation(evidence, analyzerConfig()), narrowed: new Map() };
  if (a.narrowed.size >= MEMO_SIZE) a.narrowed.delete(a.narrowed.keys().next().value!);
  a.narrowed.set(key, narrowed);
  return narrowed;
}

const narrowedShared = new WeakMap<Db, Map<string, { at: number; result: Promise<Analysed> }>>();
/** Narrowed analyses read from storage (no whole analysis kept), by analysis key and narrowing. */
const narrowedKept = new WeakMap<Db, Map<string, Analysed>>();
onForgetAnalyses((db) => {
  narrowedShared.delete(db);
  narrowedKept.delete(db);
});

/**
 * A narrowed analysis (shared by the panels that ask at once). When the whole analysis is kept
 * it is narrowed in memory; otherwise only the narrowed rows are read from storage — a brushed
 * tenth of a budget-sized zoom is a tenth of its rows, and a permalink to a range or a process
 * does not wait for the whole investigation. Both give the same answer: narrowing keeps the rows
 * in the range (and of the process) and clips the beaconing window, before any analysis.
 */
export function analyseNarrowed(db: Db, id: string, nowNs: bigint, narrowing: Narrowing): Promise<Analysed> {
  if (isWhole(narrowing)) return analyse(db, id, nowNs);
  return sharedRecently(narrowedShared, db, `${id}\u0000${narrowingKey(narrowing)}`, () => analyseNarrowedNow(db, id, nowNs, narrowing));
}

async function analyseNarrowedNow(db: Db, id: string, nowNs: bigint, narrowing: Narrowing): Promise<Analysed> {
  const scope = await investigationScope(db, id, nowNs);
  const counts = await countEvidence(db, scope);
  const key = analysisKey(scope, counts);
  const whole = keptAnalysis(db, id, key);
  if (whole) return narrowAnalysis({ ...whole, record: scope.record, zooms: scope.zooms }, narrowing);
  let perDb = narrowedKept.get(db);
  if (!perDb) narrowedKept.set(db, (perDb = new Map()));
  const memoKey = `${id}\u0000${key}\u0000${narrowingKey(narrowing)}`;
  const known = perDb.get(memoKey);
  if (known) return { ...known, record: scope.record, zooms: scope.zooms };
  const from = narrowing.fromNs !== undefined ? BigInt(narrowing.fromNs) : null;
  const to = narrowing.toNs !== undefined ? BigInt(narrowing.toNs) : null;
  // The evidence range, narrowed: nothing to read when the two do not meet.
  let range: { fromNs: string; toNs: string } | null = null;
  if (scope.range) {
    const lo = from !== null && from > BigInt(scope.range.fromNs) ? from : BigInt(scope.range.fromNs);
    const hi = to !== null && to < BigInt(scope.range.toNs) ? to : BigInt(scope.range.toNs);
    if (lo <= hi) range = { fromNs: lo.toString(), toNs: hi.toString() };
  }
  const stored: StoredEvidence = range
    ? await loadInvestigationEvidence(db, { investigationId: id, ...range, ...(narrowing.execId !== undefined ? { execId: narrowing.execId } : {}) })
    : { ioUring: [], sockets: [], files: [], code: [], truncated: false };
  const analysed = analysedFrom(scope, counts, clippedWindow(scope.window, from, to), stored);
  perDb.set(memoKey, analysed);
  while (perDb.size > MEMO_SIZE) perDb.delete(perDb.keys().next().value!);
  return analysed;
}
