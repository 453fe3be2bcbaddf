import {
  WORKLOAD_PROFILE,
  type EntryKind,
  type EntryRecord,
  type EntrySource,
  type ProfileRecord,
} from '../../db/repositories/baselines';
import type { LearningWindow } from './config';
import { completeAt, nextVersion, startLearning, type LearningState } from './learning';
import type { WorkloadInfo } from './inputs';

/**
 * Baseline profiles in memory: per workload, one profile per executable plus the workload-level
 * profile '*' (the executables started in the workload, and entries imported for the whole
 * container). A fact of executable E in workload W is allowed when (W, E) or (W, '*') has its
 * (kind, value). The detector keeps every profile here, loaded from storage at start and written
 * back on every change; the baselines API applies its changes through the same functions.
 */

export interface Entry {
  kind: EntryKind;
  value: string;
  detail: Record<string, unknown>;
  source: EntrySource;
  tsNs: string;
  profileVersion: number;
  position: number;
  node: string;
  execId: string;
  actor: string;
  reason: string;
  indicatorId: string;
}

/** The key of (kind, value) in a profile. */
export const entryKey = (kind: string, value: string) => `${kind}\u0000${value}`;
const keyOf = entryKey;

export class Profile {
  info: Omit<WorkloadInfo, 'key'>;
  state: LearningState;
  /** by (kind, value): the entries (sources and details) that allow it */
  private readonly byValue = new Map<string, Entry[]>();

  constructor(
    readonly workload: string,
    readonly executable: string,
    info: Omit<WorkloadInfo, 'key'>,
    state: LearningState,
  ) {
    this.info = info;
    this.state = state;
  }

  has(kind: EntryKind, value: string): boolean {
    return this.byValue.has(keyOf(kind, value));
  }

  /** has() with the key already made (entryKey). */
  hasKey(key: string): boolean {
    return this.byValue.has(key);
  }

  entriesFor(kind: EntryKind, value: string): Entry[] {
    return this.byValue.get(keyOf(kind, value)) ?? [];
  }

  /** Adds an entry; false when the same (kind, value, detail, source) is already there. */
  add(entry: Entry): boolean {
    const key = keyOf(entry.kind, entry.value);
    const list = this.byValue.get(key);
    const detail = JSON.stringify(entry.detail);
    if (list?.some((e) => e.source === entry.source && JSON.stringify(e.detail) === detail)) return false;
    if (list) list.push(entry);
    else this.byValue.set(key, [entry]);
    return true;
  }

  /** Every entry, in the order they were added (imported ones in their document's order). */
  entries(): Entry[] {
    return [...this.byValue.values()].flat();
  }

  /** Distinct (kind, value) pairs: what the profile allows. */
  size(): number {
    return this.byValue.size;
  }

  /** Distinct values of one kind. */
  valuesOf(kind: EntryKind): string[] {
    const out: string[] = [];
    for (const list of this.byValue.values()) if (list[0]!.kind === kind) out.push(list[0]!.value);
    return out;
  }

  usesIoUring(): boolean {
    for (const list of this.byValue.values()) {
      const e = list[0]!;
      if (e.kind === 'io_uring_op' || (e.kind === 'syscall' && e.value.startsWith('io_uring_'))) return true;
    }
    return false;
  }

  toRecord(updatedAtNs: bigint, rowVersion: bigint): ProfileRecord {
    const s = this.state;
    return {
      workload: this.workload,
      executable: this.executable,
      workloadKind: this.info.kind,
      workloadNamespace: this.info.namespace,
      workloadName: this.info.name,
      workloadContainer: this.info.container,
      status: s.status,
      version: s.version,
      startedAtNs: s.startedAtNs.toString(),
      lastNewAtNs: s.lastNewAtNs.toString(),
      completedAtNs: s.completedAtNs.toString(),
      completedBy: s.completedBy,
      minLearningNs: s.window.minNs.toString(),
      quietNs: s.window.quietNs.toString(),
      maxLearningNs: s.window.maxNs.toString(),
      entries: this.size(),
      updatedAtNs: updatedAtNs.toString(),
      rowVersion: rowVersion.toString(),
    };
  }

  static fromRecord(r: ProfileRecord): Profile {
    return new Profile(
      r.workload,
      r.executable,
      { kind: r.workloadKind, namespace: r.workloadNamespace, name: r.workloadName, container: r.workloadContainer },
      {
        status: r.status,
        version: r.version,
        startedAtNs: BigInt(r.startedAtNs),
        lastNewAtNs: BigInt(r.lastNewAtNs),
        completedAtNs: BigInt(r.completedAtNs),
        completedBy: r.completedBy,
        window: { minNs: BigInt(r.minLearningNs), quietNs: BigInt(r.quietNs), maxNs: BigInt(r.maxLearningNs) },
      },
    );
  }
}

export function entryToRecord(p: Pick<Profile, 'workload' | 'executable'>, e: Entry): EntryRecord {
  return { workload: p.workload, executable: p.executable, ...e, detail: JSON.stringify(e.detail) };
}

export function entryFromRecord(r: EntryRecord): Entry {
  let detail: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.detail || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) detail = parsed as Record<string, unknown>;
  } catch {
    // an unreadable detail is shown as none
  }
  return {
    kind: r.kind,
    value: r.value,
    detail,
    source: r.source,
    tsNs: r.tsNs,
    profileVersion: r.profileVersion,
    position: r.position,
    node: r.node,
    execId: r.execId,
    actor: r.actor,
    reason: r.reason,
    indicatorId: r.indicatorId,
  };
}

/** Every profile, by workload then executable. */
export class ProfileSet {
  private readonly byWorkload = new Map<string, Map<string, Profile>>();
  /** Workloads whose baseline an import made authoritative (new executables start completed). */
  readonly imported = new Set<string>();

  get(workload: string, executable: string): Profile | undefined {
    return this.byWorkload.get(workload)?.get(executable);
  }

  /** The workload's profiles ('*' first). */
  profilesOf(workload: string): Profile[] {
    const map = this.byWorkload.get(workload);
    if (!map) return [];
    return [...map.values()].sort((a, b) => (a.executable === WORKLOAD_PROFILE ? -1 : b.executable === WORKLOAD_PROFILE ? 1 : a.executable.localeCompare(b.executable)));
  }

  workloads(): string[] {
    return [...this.byWorkload.keys()];
  }

  all(): Profile[] {
    return [...this.byWorkload.values()].flatMap((m) => [...m.values()]);
  }

  put(profile: Profile): void {
    let map = this.byWorkload.get(profile.workload);
    if (!map) this.byWorkload.set(profile.workload, (map = new Map()));
    map.set(profile.executable, profile);
  }

  /** Forgets a workload (before it is loaded again from storage). */
  drop(workload: string): void {
    this.byWorkload.delete(workload);
    this.imported.delete(workload);
  }

  /**
   * The profile of (workload, executable), created when missing: learning from `atNs`, or —
   * when an import made the workload's baseline authoritative — completed and empty, at the
   * workload profile's version.
   */
  ensure(workload: string, executable: string, info: Omit<WorkloadInfo, 'key'>, atNs: bigint, window: LearningWindow): { profile: Profile; created: boolean } {
    const existing = this.get(workload, executable);
    if (existing) return { profile: existing, created: false };
    let state = startLearning(atNs, window);
    const star = this.get(workload, WORKLOAD_PROFILE);
    if (this.imported.has(workload) && star?.state.status === 'completed') {
      state = { ...completeAt(state, atNs, 'import'), version: star.state.version };
    }
    const profile = new Profile(workload, executable, info, state);
    this.put(profile);
    return { profile, created: true };
  }

  /** Whether any profile of the workload has an io_uring entry (learned, imported or allowed). */
  workloadUsesIoUring(workload: string): boolean {
    return this.profilesOf(workload).some((p) => p.usesIoUring());
  }

  /** Whether (W, E) or (W, '*') allows (kind, value) (no allocation: on every fact). */
  allows(workload: string, executable: string, kind: EntryKind, value: string, key = entryKey(kind, value)): boolean {
    const map = this.byWorkload.get(workload);
    if (!map) return false;
    if (map.get(executable)?.hasKey(key)) return true;
    return executable !== WORKLOAD_PROFILE && map.get(WORKLOAD_PROFILE)?.hasKey(key) === true;
  }

  /** The entries that allow (kind, value) for executable E of workload W: (W, E)'s, then (W, '*')'s. */
  allowing(workload: string, executable: string, kind: EntryKind, value: string): Entry[] {
    const own = this.get(workload, executable)?.entriesFor(kind, value) ?? [];
    const star = executable === WORKLOAD_PROFILE ? [] : (this.get(workload, WORKLOAD_PROFILE)?.entriesFor(kind, value) ?? []);
    return [...own, ...star];
  }

  /** Loads stored profiles and entries (entries of unknown profiles are dropped). */
  load(profiles: readonly ProfileRecord[], entries: readonly EntryRecord[], importedWorkloads: Iterable<string> = []): void {
    for (const r of profiles) this.put(Profile.fromRecord(r));
    for (const r of entries) this.get(r.workload, r.executable)?.add(entryFromRecord(r));
    for (const w of importedWorkloads) this.imported.add(w);
  }
}

/** A change to a profile's entries after the fact (allow, import): a new version. */
export function bumpVersion(profile: Profile): void {
  profile.state = nextVersion(profile.state);
}
