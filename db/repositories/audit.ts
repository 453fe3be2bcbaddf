import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { auditLog } from '../schema/auth';
import { nsToClickHouse } from '../time';

/** The audit log (audit_log): append-only. */

export type AuditOutcome = 'success' | 'failure' | 'denied';
export type AuditActorType = 'anonymous' | 'user' | 'token' | 'cli' | 'system';

export interface AuditRecord {
  tsNs: string;
  eventId: string;
  action: string;
  outcome: AuditOutcome;
  actorType: AuditActorType;
  actorId: string;
  actorName: string;
  actorRole: string;
  sourceAddress: string;
  targetType: string;
  targetId: string;
  /** JSON object text. */
  detail: string;
}

export async function insertAuditRecords(db: Db, records: readonly AuditRecord[]): Promise<void> {
  await insertRows(db, {
    table: auditLog,
    rows: records.map((r) => ({
      ts: r.tsNs,
      event_id: r.eventId,
      action: r.action,
      outcome: r.outcome,
      actor_type: r.actorType,
      actor_id: r.actorId,
      actor_name: r.actorName,
      actor_role: r.actorRole,
      source_address: r.sourceAddress,
      target_type: r.targetType,
      target_id: r.targetId,
      detail: r.detail,
    })),
    // Each event once, even if an insert is retried.
    dedupToken: records.map((r) => r.eventId).join(','),
    tag: 'audit.write',
  });
}

export interface AuditQuery {
  fromNs: string;
  toNs: string;
  /** Exact action name, or a prefix ending in "." ("auth."). */
  action?: string;
  outcome?: AuditOutcome;
  /** Matched literally, case-insensitive, as a substring of the actor's name or id. */
  actor?: string;
  /** Matched literally, case-insensitive, as a substring of the target id or the detail. */
  text?: string;
  limit: number;
}

/** Audit events in a time window, newest first. */
export async function listAuditRecords(db: Db, query: AuditQuery): Promise<AuditRecord[]> {
  const filters = [`ts >= {from:DateTime64(9, 'UTC')}`, `ts <= {to:DateTime64(9, 'UTC')}`];
  const params: Record<string, unknown> = { from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs), limit: query.limit };
  if (query.action) {
    if (query.action.endsWith('.')) filters.push('startsWith(action, {action:String})');
    else filters.push('action = {action:String}');
    params.action = query.action;
  }
  if (query.outcome) {
    filters.push('outcome = {outcome:String}');
    params.outcome = query.outcome;
  }
  if (query.actor) {
    filters.push('(positionCaseInsensitiveUTF8(actor_name, {actor:String}) > 0 OR positionCaseInsensitiveUTF8(actor_id, {actor:String}) > 0)');
    params.actor = query.actor;
  }
  if (query.text) {
    filters.push('(positionCaseInsensitiveUTF8(target_id, {text:String}) > 0 OR positionCaseInsensitiveUTF8(detail, {text:String}) > 0)');
    params.text = query.text;
  }
  return selectRows<AuditRecord>(db, {
    sql: `SELECT toString(toUnixTimestamp64Nano(ts)) AS tsNs, event_id AS eventId, action, toString(outcome) AS outcome,
                 toString(actor_type) AS actorType, actor_id AS actorId, actor_name AS actorName, actor_role AS actorRole,
                 source_address AS sourceAddress, target_type AS targetType, target_id AS targetId, detail
          FROM audit_log
          WHERE ${filters.join(' AND ')}
          ORDER BY ts DESC, event_id DESC
          LIMIT {limit:UInt32}`,
    params,
    tag: 'audit.list',
  });
}
