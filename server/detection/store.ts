import type { Db } from '../../db/client';
import {
  insertEntries,
  insertProfiles,
  listDocumentWorkloads,
  listEntries,
  listProfiles,
  type EntryRecord,
  type ProfileRecord,
} from '../../db/repositories/baselines';
import { listIndicatorsSeenSince, upsertIndicators, type IndicatorRecord } from '../../db/repositories/indicators';
import { getProcesses } from '../../db/repositories/processes';
import type { WorkloadInfo } from './inputs';

/** What the detector knows about an image it did not see exec (looked up in storage). */
export interface ExecRecordForDetection {
  node: string;
  binary: string;
  workload: WorkloadInfo | null;
  parentExecId: string;
  seeded: boolean;
}

/** Where the detector's state lives (storage in the cockpit; memory in unit tests). */
export interface DetectorStore {
  load(indicatorsSinceNs: string): Promise<{ profiles: ProfileRecord[]; entries: EntryRecord[]; importedWorkloads: string[]; indicators: IndicatorRecord[] }>;
  loadWorkload(workload: string): Promise<{ profiles: ProfileRecord[]; entries: EntryRecord[]; imported: boolean }>;
  changedProfiles(afterRowVersion: string): Promise<ProfileRecord[]>;
  lookupExecs(execIds: string[]): Promise<Map<string, ExecRecordForDetection>>;
  /** Entries (with a dedup token), then profiles, then indicators. */
  write(w: { entries: EntryRecord[]; entriesToken: string; profiles: ProfileRecord[]; indicators: IndicatorRecord[] }): Promise<void>;
}

/** The detector's state in ClickHouse (db/repositories). */
export function storageStore(db: () => Promise<Db>): DetectorStore {
  return {
    async load(since) {
      const d = await db();
      const [profiles, entries, importedWorkloads, indicators] = await Promise.all([listProfiles(d), listEntries(d), listDocumentWorkloads(d), listIndicatorsSeenSince(d, since)]);
      return { profiles, entries, importedWorkloads, indicators };
    },
    async loadWorkload(workload) {
      const d = await db();
      const [profiles, entries, documents] = await Promise.all([listProfiles(d, { workload }), listEntries(d, { workload }), listDocumentWorkloads(d)]);
      return { profiles, entries, imported: documents.includes(workload) };
    },
    async changedProfiles(after) {
      return listProfiles(await db(), { updatedAfterNs: after });
    },
    async lookupExecs(execIds) {
      const found = await getProcesses(await db(), execIds);
      const out = new Map<string, ExecRecordForDetection>();
      for (const [id, p] of found) {
        out.set(id, { node: p.node, binary: p.binary, workload: p.workload.key ? { ...p.workload } : null, parentExecId: p.parentExecId, seeded: p.seeded });
      }
      return out;
    },
    async write(w) {
      const d = await db();
      if (w.entries.length > 0) await insertEntries(d, w.entries, w.entriesToken);
      if (w.profiles.length > 0) await insertProfiles(d, w.profiles);
      if (w.indicators.length > 0) await upsertIndicators(d, w.indicators);
    },
  };
}
