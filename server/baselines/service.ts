import type { Db } from '../../db/client';
import {
  countEntriesByWorkload,
  getDocument,
  insertDocument,
  insertEntries,
  insertProfiles,
  listDocumentWorkloads,
  listEntries,
  listProfiles,
  WORKLOAD_PROFILE,
  type CompletedBy,
  type EntryKind,
  type EntrySource,
  type ProfileRecord,
} from '../../db/repositories/baselines';
import { countIndicatorsByWorkload, getIndicator, listIndicators, upsertIndicators } from '../../db/repositories/indicators';
import { getDetector } from '../collector/collector';
import { learningWindowFromEnv, type LearningWindow } from '../detection/config';
import { learningProgress } from '../detection/learning';
import { Profile, ProfileSet } from '../detection/profiles';
import { toIndicatorView, type IndicatorView } from '../indicators/views';
import { allowEntry, BaselineChangeError, importContainer, type BaselineWrites } from './changes';
import { applicationProfileToObject, parseApplicationProfile, serializeApplicationProfile } from './kubescape';
import { containersToImport, exportDocument, exportOrder } from './mapping';

/**
 * The baselines feature: what the API shows of profiles, and the changes analysts make (allow,
 * import). Reads come from storage. Changes go through the detector when it runs in this process
 * (so it never works on a stale profile: the change is applied to its own state, in its order, and
 * written at once); otherwise the workload is loaded from storage, changed with the same code and
 * written, and a detector in another process picks it up within its sync period.
 */

export interface WorkloadSummary {
  workload: string;
  kind: string;
  namespace: string;
  name: string;
  container: string;
  /** learning while any of its profiles learns */
  status: 'learning' | 'completed';
  profileCount: number;
  learningProfiles: number;
  /** distinct entries over its profiles */
  entryCount: number;
  startedAtNs: string;
  /** when the last of its profiles completed (null while learning) */
  completedAtNs: string | null;
  updatedAtNs: string;
  imported: boolean;
  indicators: { open: number; total: number };
}

export interface EntryView {
  kind: EntryKind;
  value: string;
  source: EntrySource;
  detail: Record<string, unknown>;
  tsNs: string;
  profileVersion: number;
  node: string;
  execId: string;
  actor: string;
  reason: string;
  indicatorId: string;
}

export interface ProfileView {
  /** an absolute path, or '*' for the workload-level profile (executables started, imported entries) */
  executable: string;
  status: 'learning' | 'completed';
  version: number;
  startedAtNs: string;
  lastNewAtNs: string;
  completedAtNs: string | null;
  completedBy: CompletedBy;
  window: { minNs: string; quietNs: string; maxNs: string };
  progress: { fraction: number; expectedEndNs: string; expectedBy: 'window' | 'max'; minRemainingNs: string; quietRemainingNs: string };
  entries: EntryView[];
}

export interface BaselineView extends Omit<WorkloadSummary, 'indicators'> {
  /** the cockpit's learning window now (a profile keeps the window it started with) */
  window: { minNs: string; quietNs: string; maxNs: string };
  importedDocument: { container: string; importedAtNs: string; actor: string } | null;
  profiles: ProfileView[];
  /** indicators this workload produced in the last 30 days, newest first (at most 200) */
  indicators: IndicatorView[];
}

const DAY_NS = 86_400_000_000_000n;

function windowView(w: LearningWindow): { minNs: string; quietNs: string; maxNs: string } {
  return { minNs: w.minNs.toString(), quietNs: w.quietNs.toString(), maxNs: w.maxNs.toString() };
}

function summarize(workload: string, profiles: readonly ProfileRecord[], entries: number, imported: boolean, indicators: { open: number; total: number }): WorkloadSummary {
  const star = profiles.find((p) => p.executable === WORKLOAD_PROFILE) ?? profiles[0]!;
  const learning = profiles.filter((p) => p.status === 'learning').length;
  const min = (xs: string[]) => xs.reduce((a, b) => (BigInt(b) < BigInt(a) ? b : a));
  const max = (xs: string[]) => xs.reduce((a, b) => (BigInt(b) > BigInt(a) ? b : a));
  return {
    workload,
    kind: star.workloadKind,
    namespace: star.workloadNamespace,
    name: star.workloadName,
    container: star.workloadContainer,
    status: learning > 0 ? 'learning' : 'completed',
    profileCount: profiles.length,
    learningProfiles: learning,
    entryCount: entries,
    startedAtNs: min(profiles.map((p) => p.startedAtNs)),
    completedAtNs: learning > 0 ? null : max(profiles.map((p) => p.completedAtNs)),
    updatedAtNs: max(profiles.map((p) => p.updatedAtNs)),
    imported,
    indicators,
  };
}

/** Every workload with a baseline, learning ones first, then by name. */
export async function listBaselines(db: Db, nowNs: bigint): Promise<WorkloadSummary[]> {
  const [profiles, entryCounts, documents, indicators] = await Promise.all([
    listProfiles(db),
    countEntriesByWorkload(db),
    listDocumentWorkloads(db),
    countIndicatorsByWorkload(db, (nowNs - 30n * DAY_NS).toString()),
  ]);
  const byWorkload = new Map<string, ProfileRecord[]>();
  for (const p of profiles) byWorkload.set(p.workload, [...(byWorkload.get(p.workload) ?? []), p]);
  const imported = new Set(documents);
  return [...byWorkload.entries()]
    .map(([w, ps]) => summarize(w, ps, entryCounts.get(w) ?? 0, imported.has(w), indicators.get(w) ?? { open: 0, total: 0 }))
    .sort((a, b) => (a.status === b.status ? a.workload.localeCompare(b.workload) : a.status === 'learning' ? -1 : 1));
}

/** One workload: its profiles with entries and learning windows, and the indicators it produced. */
export async function getBaseline(db: Db, workload: string, nowNs: bigint): Promise<BaselineView | null> {
  const [profiles, entries, document] = await Promise.all([listProfiles(db, { workload }), listEntries(db, { workload }), getDocument(db, workload)]);
  if (profiles.length === 0) return null;
  const indicators = await listIndicators(db, { fromNs: (nowNs - 30n * DAY_NS).toString(), toNs: nowNs.toString(), workload, limit: 200 });
  const distinct = new Set(entries.map((e) => `${e.kind}\u0000${e.value}`));
  const { indicators: _counts, ...summary } = summarize(workload, profiles, distinct.size, document !== null, { open: 0, total: 0 });
  void _counts;
  const views: ProfileView[] = profiles
    .map((record) => {
      const state = Profile.fromRecord(record).state;
      const progress = learningProgress(state, nowNs);
      return {
        executable: record.executable,
        status: record.status,
        version: record.version,
        startedAtNs: record.startedAtNs,
        lastNewAtNs: record.lastNewAtNs,
        completedAtNs: record.status === 'completed' ? record.completedAtNs : null,
        completedBy: record.completedBy,
        window: { minNs: record.minLearningNs, quietNs: record.quietNs, maxNs: record.maxLearningNs },
        progress: {
          fraction: progress.fraction,
          expectedEndNs: progress.expectedEndNs.toString(),
          expectedBy: progress.expectedBy,
          minRemainingNs: progress.minRemainingNs.toString(),
          quietRemainingNs: progress.quietRemainingNs.toString(),
        },
        entries: entries
          .filter((e) => e.executable === record.executable)
          .map((e) => ({
            kind: e.kind,
            value: e.value,
            source: e.source,
            detail: parseJson(e.detail),
            tsNs: e.tsNs,
            profileVersion: e.profileVersion,
            node: e.node,
            execId: e.execId,
            actor: e.actor,
            reason: e.reason,
            indicatorId: e.indicatorId,
          })),
      };
    })
    .sort((a, b) => (a.executable === WORKLOAD_PROFILE ? -1 : b.executable === WORKLOAD_PROFILE ? 1 : a.executable.localeCompare(b.executable)));
  return {
    ...summary,
    window: windowView(getDetector()?.window ?? learningWindowFromEnv()),
    importedDocument: document ? { container: document.container, importedAtNs: document.importedAtNs, actor: document.actor } : null,
    profiles: views,
    indicators: indicators.map(toIndicatorView),
  };
}

/** A workload's baseline as a Kubescape ApplicationProfile (YAML), or null when there is none. */
export async function exportBaseline(db: Db, workload: string): Promise<{ yaml: string; filename: string } | null> {
  const set = new ProfileSet();
  const [profiles, entries, document] = await Promise.all([listProfiles(db, { workload }), listEntries(db, { workload }), getDocument(db, workload)]);
  if (profiles.length === 0) return null;
  set.load(profiles, entries);
  const ordered = exportOrder(set.profilesOf(workload));
  const doc = exportDocument({ workload, info: ordered[0]!.info, profiles: ordered, document });
  return { yaml: serializeApplicationProfile(doc), filename: `${doc.name}.yaml` };
}

/** Applies a change to the detector's state (in its order) or to the workloads loaded from storage. */
async function change<T>(db: Db, workloads: readonly string[], nowNs: bigint, apply: (set: ProfileSet) => { result: T; writes: BaselineWrites }): Promise<T> {
  const detector = getDetector();
  if (detector) {
    return detector.run(async () => {
      const { result, writes } = apply(detector.profiles);
      detector.touch(writes.profiles, writes.entries);
      await detector.flushNow();
      return result;
    });
  }
  const set = new ProfileSet();
  const [profiles, entries, documents] = await Promise.all([listProfiles(db), listEntries(db, { workloads }), listDocumentWorkloads(db)]);
  set.load(
    profiles.filter((p) => workloads.includes(p.workload)),
    entries,
    documents.filter((w) => workloads.includes(w)),
  );
  const { result, writes } = apply(set);
  if (writes.entries.length > 0) await insertEntries(db, writes.entries);
  let version = nowNs;
  if (writes.profiles.length > 0) await insertProfiles(db, writes.profiles.map((p) => p.toRecord(nowNs, version++)));
  return result;
}

export interface ImportResult {
  /** the workloads the document's containers were imported into */
  workloads: Array<{ workload: string; container: string; entries: number }>;
}

/**
 * Imports an ApplicationProfile. The document is read in full first: a malformed one, or one of
 * an unknown apiVersion, is refused (ProfileFormatError) before anything is written. `audit` is
 * called before the change is made (an import that cannot be audited is not made).
 */
export async function importBaseline(
  db: Db,
  input: { yaml: string; workload?: string; actor: string; nowNs: bigint },
  audit: (detail: Record<string, unknown>) => Promise<void>,
): Promise<ImportResult> {
  const doc = parseApplicationProfile(input.yaml);
  const containers = containersToImport(doc, input.workload);
  const summary = containers.map((c) => ({ workload: c.workload, container: c.container.name, entries: c.entries.length }));
  await audit({ document: doc.name, namespace: doc.namespace, workloads: summary });
  const documentJson = JSON.stringify(applicationProfileToObject(doc));
  const window = getDetector()?.window ?? learningWindowFromEnv();
  await change(db, containers.map((c) => c.workload), input.nowNs, (set) => {
    const writes: BaselineWrites = { profiles: [], entries: [] };
    for (const c of containers) {
      const w = importContainer(set, c, { atNs: input.nowNs, window, actor: input.actor });
      writes.profiles.push(...w.profiles);
      writes.entries.push(...w.entries);
    }
    return { result: undefined, writes };
  });
  let version = input.nowNs;
  for (const c of containers) {
    await insertDocument(db, { workload: c.workload, container: c.container.name, document: documentJson, importedAtNs: input.nowNs.toString(), actor: input.actor, rowVersion: (version++).toString() });
  }
  return { workloads: summary };
}

export interface AllowResult {
  workload: string;
  executable: string;
  kind: EntryKind;
  value: string;
  /** the profile's new version */
  version: number;
  /** false when the same entry was already allowed */
  added: boolean;
  indicatorId: string | null;
}

/**
 * An analyst allows an entry with a reason (audited before it is made): the profile gets a new
 * version, and the indicator it came from (if any) is marked allowed.
 */
export async function allowBaselineEntry(
  db: Db,
  input: { workload: string; executable: string; kind: Exclude<EntryKind, 'http_endpoint'>; value: string; reason: string; indicatorId?: string; actor: string; nowNs: bigint },
  audit: (detail: Record<string, unknown>) => Promise<void>,
): Promise<AllowResult> {
  const indicator = input.indicatorId ? await getIndicator(db, input.indicatorId) : null;
  if (input.indicatorId && !indicator) throw new BaselineChangeError('NOT_FOUND', `no indicator ${input.indicatorId}`);
  if (indicator && (indicator.workload !== input.workload || indicator.kind !== input.kind || indicator.value !== input.value)) {
    throw new BaselineChangeError('CONFLICT', `indicator ${indicator.id} is about ${indicator.kind} ${indicator.value} in ${indicator.workload}, not what is being allowed`);
  }
  const profiles = await listProfiles(db, { workload: input.workload });
  if (profiles.length === 0) throw new BaselineChangeError('NOT_FOUND', `no baseline for workload ${input.workload}`);
  if (!profiles.some((p) => p.executable === input.executable)) {
    throw new BaselineChangeError('NOT_FOUND', `workload ${input.workload} has no profile for executable ${input.executable} (use "*" for the whole workload)`);
  }
  await audit({ executable: input.executable, kind: input.kind, value: input.value, reason: input.reason, indicatorId: input.indicatorId ?? null });
  const outcome = await change(db, [input.workload], input.nowNs, (set) => {
    const r = allowEntry(set, { ...input, indicatorId: input.indicatorId ?? '', atNs: input.nowNs });
    return { result: { version: r.profile.state.version, added: r.added }, writes: r };
  });
  if (indicator) {
    const detector = getDetector();
    const marked = detector
      ? await detector.run(async () => {
          const r = detector.markAllowed(indicator.id);
          await detector.flushNow();
          return r;
        })
      : null;
    if (!marked) await upsertIndicators(db, [{ ...indicator, state: 'allowed', updatedAtNs: input.nowNs.toString(), rowVersion: maxDecimal(input.nowNs.toString(), (BigInt(indicator.rowVersion) + 1n).toString()) }]);
  }
  return { workload: input.workload, executable: input.executable, kind: input.kind, value: input.value, ...outcome, indicatorId: indicator?.id ?? null };
}

function maxDecimal(a: string, b: string): string {
  return BigInt(a) > BigInt(b) ? a : b;
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
