import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { investigationAnalyses } from '../schema/investigation';

/**
 * Stored analyses of ended investigations (db/schema/investigation.ts, migration 0008): one row per
 * investigation and evidence key, the newest kept. The views are opaque JSON here; what they hold
 * and when a stored one may be used is server/investigations/storedAnalysis.ts's business.
 */

export interface StoredAnalysisRecord {
  investigationId: string;
  evidenceKey: string;
  computedAtNs: string;
  computeMs: number;
  evidenceRows: string;
  /** the views, JSON */
  views: string;
}

export async function insertInvestigationAnalysis(db: Db, r: StoredAnalysisRecord): Promise<void> {
  await insertRows(db, {
    table: investigationAnalyses,
    rows: [
      {
        investigation_id: r.investigationId,
        evidence_key: r.evidenceKey,
        computed_at: r.computedAtNs,
        compute_ms: Math.max(0, Math.min(0xffffffff, Math.round(r.computeMs))),
        evidence_rows: r.evidenceRows,
        views: r.views,
      },
    ],
    // A retried insert is stored once. Not the key alone: a row with this key that cannot be read
    // back must be replaceable by a new computation (the table keeps the newest per investigation).
    dedupToken: `analysis:${r.investigationId}:${r.evidenceKey}:${r.computedAtNs}`,
    tag: 'investigations.analysis.write',
  });
}

/** The newest stored analysis of an investigation, whatever its key (null when none). */
export async function latestInvestigationAnalysis(db: Db, investigationId: string): Promise<StoredAnalysisRecord | null> {
  const rows = await selectRows<StoredAnalysisRecord>(db, {
    sql: `SELECT investigation_id AS investigationId, evidence_key AS evidenceKey,
            toString(toUnixTimestamp64Nano(computed_at)) AS computedAtNs, compute_ms AS computeMs,
            toString(evidence_rows) AS evidenceRows, views
          FROM investigation_analyses
          WHERE investigation_id = {id:String}
          ORDER BY computed_at DESC
          LIMIT 1`,
    params: { id: investigationId },
    tag: 'investigations.analysis.read',
  });
  return rows[0] ?? null;
}
