import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { baselineDocuments, baselineEntries, baselineProfiles } from '../schema/detection';

/**
 * Baseline profiles, their entries and imported documents (db/schema/detection.ts). Profiles are
 * ReplacingMergeTree rows read with FINAL (the newest row_version wins); entries are append-only
 * and a repeated (kind, value, detail, source) is the same entry — readers deduplicate.
 */

export type EntryKind = 'syscall' | 'io_uring_op' | 'exec' | 'endpoint' | 'file' | 'http_endpoint';
export type EntrySource = 'learned' | 'imported' | 'allowed';
export type ProfileStatus = 'learning' | 'completed';
export type CompletedBy = 'none' | 'window' | 'max' | 'import';

/** The workload-level profile's executable: entries that hold for every executable of the workload. */
export const WORKLOAD_PROFILE = '*';

export interface ProfileRecord {
  workload: string;
  executable: string;
  workloadKind: string;
  workloadNamespace: string;
  workloadName: string;
  workloadContainer: string;
  status: ProfileStatus;
  version: number;
  startedAtNs: string;
  lastNewAtNs: string;
  completedAtNs: string;
  completedBy: CompletedBy;
  minLearningNs: string;
  quietNs: string;
  maxLearningNs: string;
  entries: number;
  updatedAtNs: string;
  rowVersion: string;
}

export interface EntryRecord {
  workload: string;
  executable: string;
  kind: EntryKind;
  value: string;
  /** JSON object text ('{}' when nothing more). */
  detail: string;
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

export interface DocumentRecord {
  workload: string;
  container: string;
  /** The whole ApplicationProfile as imported, JSON. */
  document: string;
  importedAtNs: string;
  actor: string;
  rowVersion: string;
}

export async function insertProfiles(db: Db, profiles: readonly ProfileRecord[]): Promise<void> {
  await insertRows(db, {
    table: baselineProfiles,
    rows: profiles.map((p) => ({
      workload: p.workload,
      executable: p.executable,
      workload_kind: p.workloadKind,
      workload_namespace: p.workloadNamespace,
      workload_name: p.workloadName,
      workload_container: p.workloadContainer,
      status: p.status,
      version: p.version,
      started_at: p.startedAtNs,
      last_new_at: p.lastNewAtNs,
      completed_at: p.completedAtNs,
      completed_by: p.completedBy,
      min_learning_ns: p.minLearningNs,
      quiet_ns: p.quietNs,
      max_learning_ns: p.maxLearningNs,
      entries: p.entries,
      updated_at: p.updatedAtNs,
      row_version: p.rowVersion,
    })),
    tag: 'baselines.write_profiles',
  });
}

/** Appends entries; `dedupToken` makes a retried insert of the same entries count once. */
export async function insertEntries(db: Db, entries: readonly EntryRecord[], dedupToken?: string): Promise<void> {
  await insertRows(db, {
    table: baselineEntries,
    rows: entries.map((e) => ({
      workload: e.workload,
      executable: e.executable,
      kind: e.kind,
      value: e.value,
      detail: e.detail,
      source: e.source,
      ts: e.tsNs,
      profile_version: e.profileVersion,
      position: e.position,
      node: e.node,
      exec_id: e.execId,
      actor: e.actor,
      reason: e.reason,
      indicator_id: e.indicatorId,
    })),
    tag: 'baselines.write_entries',
    dedupToken,
  });
}

export async function insertDocument(db: Db, doc: DocumentRecord): Promise<void> {
  await insertRows(db, {
    table: baselineDocuments,
    rows: [
      {
        workload: doc.workload,
        container: doc.container,
        document: doc.document,
        imported_at: doc.importedAtNs,
        actor: doc.actor,
        row_version: doc.rowVersion,
      },
    ],
    tag: 'baselines.write_document',
  });
}

const PROFILE_COLUMNS = `workload, executable,
  toString(workload_kind) AS workloadKind, toString(workload_namespace) AS workloadNamespace,
  workload_name AS workloadName, workload_container AS workloadContainer,
  toString(status) AS status, version,
  toString(toUnixTimestamp64Nano(started_at)) AS startedAtNs,
  toString(toUnixTimestamp64Nano(last_new_at)) AS lastNewAtNs,
  toString(toUnixTimestamp64Nano(completed_at)) AS completedAtNs,
  toString(completed_by) AS completedBy,
  toString(min_learning_ns) AS minLearningNs, toString(quiet_ns) AS quietNs, toString(max_learning_ns) AS maxLearningNs,
  entries, toString(toUnixTimestamp64Nano(updated_at)) AS updatedAtNs, toString(row_version) AS rowVersion`;

function toProfile(row: ProfileRecord): ProfileRecord {
  return { ...row, version: Number(row.version), entries: Number(row.entries) };
}

/** Current profiles: all of them, those of one workload, or those changed after `updatedAfterNs`. */
export async function listProfiles(db: Db, filter: { workload?: string; updatedAfterNs?: string } = {}): Promise<ProfileRecord[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.workload !== undefined) {
    where.push('workload = {workload:String}');
    params.workload = filter.workload;
  }
  if (filter.updatedAfterNs !== undefined) {
    where.push('row_version > {after:UInt64}');
    params.after = filter.updatedAfterNs;
  }
  const rows = await selectRows<ProfileRecord>(db, {
    sql: `SELECT ${PROFILE_COLUMNS} FROM baseline_profiles FINAL
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY workload, executable`,
    params,
    tag: 'baselines.profiles',
  });
  return rows.map(toProfile);
}

/**
 * Entries of every profile, or of one workload's, each once (a repeated insert of the same entry
 * is folded), oldest first; imported entries in their document's order.
 */
export async function listEntries(db: Db, filter: { workload?: string; workloads?: readonly string[] } = {}): Promise<EntryRecord[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.workload !== undefined) {
    where.push('workload = {workload:String}');
    params.workload = filter.workload;
  }
  if (filter.workloads !== undefined) {
    where.push('workload IN {workloads:Array(String)}');
    params.workloads = filter.workloads;
  }
  const rows = await selectRows<EntryRecord>(db, {
    sql: `SELECT workload, executable, toString(kind) AS kind, value, detail, toString(source) AS source,
                 toString(toUnixTimestamp64Nano(min(ts))) AS tsNs, min(profile_version) AS profileVersion,
                 min(position) AS position, argMin(node, ts) AS node, argMin(exec_id, ts) AS execId,
                 argMin(actor, ts) AS actor, argMin(reason, ts) AS reason, argMin(indicator_id, ts) AS indicatorId
          FROM baseline_entries
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          GROUP BY workload, executable, kind, value, detail, source
          ORDER BY workload, executable, source = 'imported' DESC, position, min(ts), kind, value`,
    params,
    tag: 'baselines.entries',
  });
  return rows.map((r) => ({ ...r, profileVersion: Number(r.profileVersion), position: Number(r.position) }));
}

export async function getDocument(db: Db, workload: string): Promise<DocumentRecord | null> {
  const rows = await selectRows<DocumentRecord>(db, {
    sql: `SELECT workload, container, document, toString(toUnixTimestamp64Nano(imported_at)) AS importedAtNs, actor,
                 toString(row_version) AS rowVersion
          FROM baseline_documents FINAL WHERE workload = {workload:String}`,
    params: { workload },
    tag: 'baselines.document',
  });
  return rows[0] ?? null;
}

/** Row counts of the baseline tables (tests check that a refused import changed nothing). */
export async function countBaselineRows(db: Db): Promise<{ profiles: number; entries: number; documents: number }> {
  const [row] = await selectRows<{ profiles: string; entries: string; documents: string }>(db, {
    sql: `SELECT (SELECT count() FROM baseline_profiles) AS profiles, (SELECT count() FROM baseline_entries) AS entries,
                 (SELECT count() FROM baseline_documents) AS documents`,
    tag: 'baselines.count',
  });
  return { profiles: Number(row!.profiles), entries: Number(row!.entries), documents: Number(row!.documents) };
}

/** Workloads that have an imported document. */
export async function listDocumentWorkloads(db: Db): Promise<string[]> {
  const rows = await selectRows<{ workload: string }>(db, { sql: 'SELECT DISTINCT workload FROM baseline_documents', tag: 'baselines.documents' });
  return rows.map((r) => r.workload);
}

/** Distinct (kind, value) entries per workload (the baselines list). */
export async function countEntriesByWorkload(db: Db): Promise<Map<string, number>> {
  const rows = await selectRows<{ workload: string; n: string }>(db, {
    sql: 'SELECT workload, uniqExact(kind, value) AS n FROM baseline_entries GROUP BY workload',
    tag: 'baselines.entry_counts',
  });
  return new Map(rows.map((r) => [r.workload, Number(r.n)]));
}
