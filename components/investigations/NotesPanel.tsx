'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { formatNs, formatNsPrecise } from '../format/time';
import type { InvestigationDetail, VerdictValue } from './api';
import { verdictOf, verdictTone } from './format';
import { MutationError } from './Panel';

const VERDICTS: ReadonlyArray<{ value: VerdictValue; label: string }> = [
  { value: 'malicious', label: 'Malicious' },
  { value: 'benign', label: 'Benign' },
  { value: 'inconclusive', label: 'Inconclusive' },
];

/** The verdict (who, when, why), the form to set it for those who may, and the notes, oldest first. */
export function NotesBody({ detail, canVerdict, canNote }: { detail: InvestigationDetail; canVerdict: boolean; canNote: boolean }) {
  const verdict = verdictOf(detail.verdict);
  const notes = detail.notes;
  return (
    <>
      <div className="inv-verdict" data-testid="verdict">
        {verdict ? (
          <p>
            <span className={`badge badge--${verdictTone(verdict.value)}`} data-testid="verdict-value">
              {verdict.value}
            </span>{' '}
            by <strong data-testid="verdict-by">{verdict.by || 'unknown'}</strong>
            {verdict.atNs && (
              <>
                {' '}
                at{' '}
                <time className="mono" title={formatNsPrecise(verdict.atNs)} data-testid="verdict-at">
                  {formatNs(verdict.atNs)}
                </time>
              </>
            )}
            {verdict.reason && <span className="inv-verdict__reason">: {verdict.reason}</span>}
          </p>
        ) : (
          <p className="muted" data-testid="verdict-none">
            No verdict yet.
          </p>
        )}
      </div>
      {canVerdict ? (
        <VerdictForm id={detail.id} current={verdict?.value ?? null} />
      ) : (
        <p className="muted small" data-testid="verdict-unavailable">
          Setting a verdict needs the scope <code>verdicts:write</code> (role analyst or above).
        </p>
      )}
      <h3>Notes ({notes.length})</h3>
      {notes.length === 0 ? (
        <p className="muted small">No note yet.</p>
      ) : (
        <ol className="inv-notes" aria-label="Notes, oldest first">
          {notes.map((n) => (
            <li key={n.id}>
              <p className="small muted">
                <strong>{n.author}</strong> at <time title={formatNsPrecise(n.atNs)}>{formatNs(n.atNs)}</time>
              </p>
              <p className="inv-notes__text">{n.text}</p>
            </li>
          ))}
        </ol>
      )}
      {canNote ? (
        <NoteForm id={detail.id} />
      ) : (
        <p className="muted small" data-testid="note-unavailable">
          Adding a note needs the scope <code>investigations:write</code> (role analyst or above).
        </p>
      )}
    </>
  );
}

function useInvalidateInvestigation() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.investigations.get.pathKey() });
}

function VerdictForm({ id, current }: { id: string; current: VerdictValue | null }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateInvestigation();
  const mutation = useMutation(trpc.investigations.setVerdict.mutationOptions({ onSuccess: invalidate }));
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    mutation.mutate({ id, verdict: String(data.get('verdict')) as VerdictValue, reason: String(data.get('reason') ?? '').trim() }, { onSuccess: () => form.reset() });
  }
  return (
    <form className="inv-form" onSubmit={submit} aria-label="Set the verdict">
      <fieldset>
        <legend>Verdict</legend>
        {VERDICTS.map((v) => (
          <label key={v.value} className="inv-radio">
            <input type="radio" name="verdict" value={v.value} required defaultChecked={current === v.value} /> {v.label}
          </label>
        ))}
      </fieldset>
      <label>
        Reason (required, recorded with your name)
        <textarea name="reason" required minLength={1} maxLength={2000} rows={2} />
      </label>
      <button type="submit" disabled={mutation.isPending}>
        {mutation.isPending ? 'Saving…' : 'Set verdict'}
      </button>
      <MutationError error={mutation.error} />
    </form>
  );
}

function NoteForm({ id }: { id: string }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateInvestigation();
  const mutation = useMutation(trpc.investigations.addNote.mutationOptions({ onSuccess: invalidate }));
  const [text, setText] = useState('');
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    mutation.mutate({ id, text: text.trim() }, { onSuccess: () => setText('') });
  }
  return (
    <form className="inv-form" onSubmit={submit} aria-label="Add a note">
      <label>
        Note
        <textarea name="text" required maxLength={5000} rows={2} value={text} onChange={(e) => setText(e.target.value)} />
      </label>
      <button type="submit" disabled={mutation.isPending || text.trim() === ''}>
        {mutation.isPending ? 'Adding…' : 'Add note'}
      </button>
      <MutationError error={mutation.error} />
    </form>
  );
}
