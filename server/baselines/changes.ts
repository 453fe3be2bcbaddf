import { WORKLOAD_PROFILE, type EntryKind, type EntryRecord } from '../../db/repositories/baselines';
import type { LearningWindow } from '../detection/config';
import { completeAt } from '../detection/learning';
import { bumpVersion, entryToRecord, type Entry, type Profile, type ProfileSet } from '../detection/profiles';
import type { ImportedContainer } from './mapping';

/**
 * The changes an analyst makes to baselines, applied to profiles in memory (the detector's, or
 * a workload loaded from storage for the occasion): the same code either way. Each returns what
 * must be written.
 */

export interface BaselineWrites {
  profiles: Profile[];
  entries: EntryRecord[];
}

export class BaselineChangeError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT',
    message: string,
  ) {
    super(message);
    this.name = 'BaselineChangeError';
  }
}

export interface AllowInput {
  workload: string;
  /** '*' (default): for every executable of the workload */
  executable: string;
  kind: Exclude<EntryKind, 'http_endpoint'>;
  value: string;
  reason: string;
  actor: string;
  indicatorId: string;
  atNs: bigint;
}

/** An analyst allows an entry (with a reason): a new version of the profile it goes into. */
export function allowEntry(set: ProfileSet, input: AllowInput): BaselineWrites & { profile: Profile; entry: Entry; added: boolean } {
  const profiles = set.profilesOf(input.workload);
  if (profiles.length === 0) throw new BaselineChangeError('NOT_FOUND', `no baseline for workload ${input.workload}`);
  const profile = set.get(input.workload, input.executable);
  if (!profile) {
    throw new BaselineChangeError('NOT_FOUND', `workload ${input.workload} has no profile for executable ${input.executable} (use "*" for the whole workload)`);
  }
  bumpVersion(profile);
  const entry: Entry = {
    kind: input.kind,
    value: input.value,
    detail: {},
    source: 'allowed',
    tsNs: input.atNs.toString(),
    profileVersion: profile.state.version,
    position: 0,
    node: '',
    execId: '',
    actor: input.actor,
    reason: input.reason,
    indicatorId: input.indicatorId,
  };
  const added = profile.add(entry);
  return { profile, entry, added, profiles: [profile], entries: [entryToRecord(profile, entry)] };
}

/**
 * An imported container becomes its workload's baseline: its entries go into the workload-level
 * profile, which is completed (or gets a new version); every profile of the workload still
 * learning completes with it, and executables first seen later start completed — the import is
 * authoritative, as Kubescape's own profiles are.
 */
export function importContainer(set: ProfileSet, c: ImportedContainer, options: { atNs: bigint; window: LearningWindow; actor: string }): BaselineWrites {
  const { profile: star, created } = set.ensure(c.workload, WORKLOAD_PROFILE, c.info, options.atNs, options.window);
  if (!created) star.info = { ...star.info, ...Object.fromEntries(Object.entries(c.info).filter(([, v]) => v !== '')) };
  set.imported.add(c.workload);
  const written: Profile[] = [star];
  if (star.state.status === 'learning') star.state = completeAt(star.state, options.atNs, 'import');
  else if (!created) bumpVersion(star);
  const entries: EntryRecord[] = [];
  for (const e of c.entries) {
    const entry: Entry = {
      ...e,
      source: 'imported',
      tsNs: options.atNs.toString(),
      profileVersion: star.state.version,
      node: '',
      execId: '',
      actor: options.actor,
      reason: '',
      indicatorId: '',
    };
    if (star.add(entry)) entries.push(entryToRecord(star, entry));
  }
  for (const p of set.profilesOf(c.workload)) {
    if (p === star || p.state.status !== 'learning') continue;
    p.state = completeAt(p.state, options.atNs, 'import');
    written.push(p);
  }
  return { profiles: written, entries };
}
