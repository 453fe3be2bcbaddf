import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/client';
import { getInvestigation } from '../../db/repositories/investigations';
import { insertNote, insertVerdict, type NoteRecord, type VerdictRecord } from '../../db/repositories/investigationVerdicts';
import type { Verdict } from '../../db/schema/investigation';
import type { AuditActor, AuditEvent } from '../auth/audit';
import { InvestigationNotFoundError } from './errors';

/**
 * Verdicts and notes: who reached which verdict, when and why; notes in the order they were
 * written. Each is stored, then audited (investigations.verdict, investigations.note) — the audit
 * event names the investigation and carries the verdict and its reason (a note's length, not its
 * text: notes may quote evidence, the audit log is for who did what).
 */

export interface VerdictView {
  value: Verdict;
  reason: string;
  /** who: the user's email (or the token's name) */
  by: string;
  atNs: string;
}

export interface NoteView {
  id: string;
  author: string;
  atNs: string;
  text: string;
}

export const verdictView = (v: VerdictRecord): VerdictView => ({ value: v.verdict, reason: v.reason, by: v.by.name, atNs: v.atNs });
export const noteView = (n: NoteRecord): NoteView => ({ id: n.noteId, author: n.by.name, atNs: n.atNs, text: n.text });

type Audit = (event: Omit<AuditEvent, 'actor' | 'source'>) => Promise<void>;

const newId = () => randomBytes(12).toString('hex');

export async function setVerdict(
  db: Db,
  who: { actor: AuditActor; audit: Audit; nowNs: bigint },
  input: { id: string; verdict: Verdict; reason: string },
): Promise<VerdictView> {
  if (!(await getInvestigation(db, input.id))) throw new InvestigationNotFoundError(input.id);
  const record: VerdictRecord = {
    investigationId: input.id,
    verdictId: newId(),
    atNs: who.nowNs.toString(),
    verdict: input.verdict,
    reason: input.reason,
    by: who.actor,
  };
  await insertVerdict(db, record);
  await who.audit({
    action: 'investigations.verdict',
    target: { type: 'investigation', id: input.id },
    detail: { verdictId: record.verdictId, verdict: input.verdict, reason: input.reason },
    atNs: who.nowNs,
  });
  return verdictView(record);
}

export async function addNote(db: Db, who: { actor: AuditActor; audit: Audit; nowNs: bigint }, input: { id: string; text: string }): Promise<NoteView> {
  if (!(await getInvestigation(db, input.id))) throw new InvestigationNotFoundError(input.id);
  const record: NoteRecord = { investigationId: input.id, noteId: newId(), atNs: who.nowNs.toString(), text: input.text, by: who.actor };
  await insertNote(db, record);
  await who.audit({
    action: 'investigations.note',
    target: { type: 'investigation', id: input.id },
    detail: { noteId: record.noteId, chars: input.text.length },
    atNs: who.nowNs,
  });
  return noteView(record);
}
