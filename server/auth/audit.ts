import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client';
import { insertAuditRecords, type AuditActorType, type AuditOutcome } from '../../db/repositories/audit';
import { nowNs } from '../../db/time';
import type { Principal } from './principal';

export type { AuditOutcome, AuditActorType };

/** Who did it. */
export interface AuditActor {
  type: AuditActorType;
  /** User id, token id, "uid:<n>" for the CLI, '' when anonymous. */
  id: string;
  /** Email, token name, the CLI's operating-system user, or the email typed at a failed sign-in. */
  name: string;
  role: string;
}

/**
 * One audit event. Actions are "<feature>.<verb>" (auth.sign_in, authz.denied, zooms.order,
 * zooms.cancel, verdicts.set, exports.create, tokens.create, users.set_role, …).
 */
export interface AuditEvent {
  action: string;
  /** Defaults to success. */
  outcome?: AuditOutcome;
  actor: AuditActor;
  /** Client address as the cockpit saw it ('' when local). */
  source?: string;
  target?: { type: string; id: string };
  /** Action-specific facts (never secrets: no passwords, tokens or session ids). */
  detail?: Record<string, unknown>;
  /** When; defaults to now (nanoseconds). */
  atNs?: bigint;
}

const MAX_DETAIL_CHARS = 8192;

/**
 * Appends an event to the audit log (append-only, ClickHouse `audit_log`). Throws when it cannot
 * be written: callers recording an action they are about to take (a zoom order, an export) must
 * not take it unrecorded; callers recording something that already happened (a denial) may log
 * the failure and carry on.
 */
export async function audit(db: Db, event: AuditEvent): Promise<void> {
  let detail = JSON.stringify(event.detail ?? {});
  if (detail.length > MAX_DETAIL_CHARS) detail = JSON.stringify({ truncated: true, head: detail.slice(0, MAX_DETAIL_CHARS - 64) });
  await insertAuditRecords(db, [
    {
      tsNs: (event.atNs ?? nowNs()).toString(),
      eventId: randomUUID(),
      action: event.action,
      outcome: event.outcome ?? 'success',
      actorType: event.actor.type,
      actorId: event.actor.id,
      actorName: event.actor.name.slice(0, 320),
      actorRole: event.actor.role,
      sourceAddress: (event.source ?? '').slice(0, 256),
      targetType: event.target?.type ?? '',
      targetId: event.target?.id ?? '',
      detail,
    },
  ]);
}

/** Like audit(), for events that already happened: a failure to record is logged, not thrown. */
export async function auditQuietly(db: Db | null, event: AuditEvent): Promise<void> {
  try {
    if (!db) throw new Error('storage unavailable');
    await audit(db, event);
  } catch (error) {
    console.error(`[audit] could not record ${event.action} (${event.outcome ?? 'success'}):`, error instanceof Error ? error.message : error);
  }
}

export function actorOf(principal: Principal): AuditActor {
  return { type: principal.kind, id: principal.id, name: principal.name, role: principal.role };
}

export const ANONYMOUS: AuditActor = { type: 'anonymous', id: '', name: '', role: '' };
