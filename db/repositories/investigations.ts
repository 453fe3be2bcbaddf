import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { investigations } from '../schema/zoom';
import { nsToClickHouse } from '../time';

/**
 * Investigations (db/schema/zoom.ts): a ReplacingMergeTree keyed by id; every change is a new row
 * version, reads use FINAL. Created by the zoom service (an automatic zoom on an indicator, or an
 * analyst's manual order). Verdicts live in investigation_verdicts (investigationVerdicts.ts),
 * not on this row: the zoom service rewrites rows from copies it read earlier, which would undo a
 * verdict set in between. The row's own verdict columns (from migration 0005) are written empty.
 */

export interface InvestigationRecord {
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
  rowVersion: string;
}

export async function upsertInvestigation(db: Db, r: InvestigationRecord): Promise<void> {
  await insertRows(db, {
    table: investigations,
    rows: [
      {
        id: r.id,
        title: r.title,
        status: r.status,
        trigger: r.trigger,
        created_at: r.createdAtNs,
        updated_at: r.updatedAtNs,
        created_by: r.createdBy,
        indicator_ids: r.indicatorIds,
        node: r.node,
        workload: r.workload,
        exec_id: r.execId,
        verdict: 'none',
        verdict_by: '',
        verdict_at: '0',
        verdict_note: '',
        row_version: r.rowVersion,
      },
    ],
    tag: 'investigations.write',
  });
}

const COLUMNS = `id, title, toString(status) AS status, toString(trigger) AS trigger,
  toString(toUnixTimestamp64Nano(created_at)) AS createdAtNs, toString(toUnixTimestamp64Nano(updated_at)) AS updatedAtNs,
  created_by AS createdBy, indicator_ids AS indicatorIds, toString(node) AS node, workload, exec_id AS execId,
  toString(row_version) AS rowVersion`;

export async function getInvestigation(db: Db, id: string): Promise<InvestigationRecord | null> {
  const rows = await selectRows<InvestigationRecord>(db, {
    sql: `SELECT ${COLUMNS} FROM investigations FINAL WHERE id = {id:String} LIMIT 1`,
    params: { id },
    tag: 'investigations.get',
  });
  return rows[0] ?? null;
}

/** Investigations updated in [from, to] (optionally those naming an indicator), newest first. */
export async function listInvestigations(
  db: Db,
  query: { fromNs: string; toNs: string; status?: 'open' | 'closed'; indicatorId?: string; limit: number },
): Promise<InvestigationRecord[]> {
  return selectRows<InvestigationRecord>(db, {
    sql: `SELECT ${COLUMNS} FROM investigations FINAL
          WHERE updated_at BETWEEN {from:DateTime64(9, 'UTC')} AND {to:DateTime64(9, 'UTC')}
            AND ({status:String} = '' OR toString(status) = {status:String})
            AND ({indicator:String} = '' OR has(indicator_ids, {indicator:String}))
          ORDER BY updated_at DESC, id
          LIMIT {limit:UInt32}`,
    params: {
      from: nsToClickHouse(query.fromNs),
      to: nsToClickHouse(query.toNs),
      status: query.status ?? '',
      indicator: query.indicatorId ?? '',
      limit: query.limit,
    },
    tag: 'investigations.list',
  });
}

/** Per investigation: its zooms, how many are active now, and its first and last zoom times. */
export async function zoomSummaries(
  db: Db,
  ids: readonly string[],
  sinceNs: string,
): Promise<Map<string, { zooms: number; active: number; lastOrderedNs: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await selectRows<{ id: string; zooms: string; active: string; lastOrderedNs: string }>(db, {
    sql: `SELECT investigation_id AS id, count() AS zooms, countIf(status IN ('ordered', 'active') AND expires_at > now64(9)) AS active,
                 toString(toUnixTimestamp64Nano(max(ordered_at))) AS lastOrderedNs
          FROM zooms FINAL
          WHERE investigation_id IN {ids:Array(String)} AND ordered_at >= {since:DateTime64(9, 'UTC')}
          GROUP BY investigation_id`,
    params: { ids, since: nsToClickHouse(sinceNs) },
    tag: 'investigations.zoom_summaries',
  });
  return new Map(rows.map((r) => [r.id, { zooms: Number(r.zooms), active: Number(r.active), lastOrderedNs: r.lastOrderedNs }]));
}
