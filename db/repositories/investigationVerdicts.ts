import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { investigationNotes, investigationVerdicts, type Verdict } from '../schema/investigation';

/**
 * Analysts' verdicts and notes on investigations (db/schema/investigation.ts): append-only, one row
 * per verdict or note, each insert deduplicated by the row's id.
 */

export interface Author {
  type: string;
  id: string;
  name: string;
  role: string;
}

export interface VerdictRecord {
  investigationId: string;
  verdictId: string;
  atNs: string;
  verdict: Verdict;
  reason: string;
  by: Author;
}

export interface NoteRecord {
  investigationId: string;
  noteId: string;
  atNs: string;
  text: string;
  by: Author;
}

const actorRow = (a: Author) => ({ actor_type: a.type, actor_id: a.id, actor_name: a.name, actor_role: a.role });
const ACTOR = `actor_type AS byType, actor_id AS byId, actor_name AS byName, toString(actor_role) AS byRole`;
type ActorColumns = { byType: string; byId: string; byName: string; byRole: string };
const authorOf = (r: ActorColumns): Author => ({ type: r.byType, id: r.byId, name: r.byName, role: r.byRole });

export async function insertVerdict(db: Db, v: VerdictRecord): Promise<void> {
  await insertRows(db, {
    table: investigationVerdicts,
    rows: [{ investigation_id: v.investigationId, verdict_id: v.verdictId, ts: v.atNs, verdict: v.verdict, reason: v.reason, ...actorRow(v.by) }],
    dedupToken: `verdict:${v.verdictId}`,
    tag: 'investigations.verdict.write',
  });
}

export async function insertNote(db: Db, n: NoteRecord): Promise<void> {
  await insertRows(db, {
    table: investigationNotes,
    rows: [{ investigation_id: n.investigationId, note_id: n.noteId, ts: n.atNs, text: n.text, ...actorRow(n.by) }],
    dedupToken: `note:${n.noteId}`,
    tag: 'investigations.note.write',
  });
}

/** The current verdict of each investigation asked for (the newest row), absent when none was set. */
export async function currentVerdicts(db: Db, ids: readonly string[]): Promise<Map<string, VerdictRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await selectRows<{ investigationId: string; verdictId: string; atNs: string; verdict: Verdict; reason: string } & ActorColumns>(db, {
    sql: `SELECT investigation_id AS investigationId, verdict_id AS verdictId, toString(toUnixTimestamp64Nano(ts)) AS atNs,
                 toString(verdict) AS verdict, reason, ${ACTOR}
          FROM investigation_verdicts
          WHERE investigation_id IN {ids:Array(String)}
          ORDER BY investigation_id, ts DESC, verdict_id DESC
          LIMIT 1 BY investigation_id`,
    params: { ids },
    tag: 'investigations.verdict.current',
  });
  return new Map(rows.map((r) => [r.investigationId, { investigationId: r.investigationId, verdictId: r.verdictId, atNs: r.atNs, verdict: r.verdict, reason: r.reason, by: authorOf(r) }]));
}

/** Notes of one investigation, oldest first (at most `limit`). */
export async function listNotes(db: Db, investigationId: string, limit = 1000): Promise<NoteRecord[]> {
  const rows = await selectRows<{ noteId: string; atNs: string; text: string } & ActorColumns>(db, {
    sql: `SELECT note_id AS noteId, toString(toUnixTimestamp64Nano(ts)) AS atNs, text, ${ACTOR}
          FROM investigation_notes
          WHERE investigation_id = {id:String}
          ORDER BY ts, note_id
          LIMIT {limit:UInt32}`,
    params: { id: investigationId, limit },
    tag: 'investigations.notes',
  });
  return rows.map((r) => ({ investigationId, noteId: r.noteId, atNs: r.atNs, text: r.text, by: authorOf(r) }));
}
