'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState } from '@/components/ui/states';
import { KIND_LABELS } from './inboxState';

type Kind = 'syscall' | 'io_uring_op' | 'exec' | 'endpoint' | 'file';
const KINDS: Kind[] = ['syscall', 'io_uring_op', 'exec', 'endpoint', 'file'];

/**
 * Allows an entry in a workload's baseline, with a reason (analysts; audited). Prefilled from an
 * indicator, or free (a kind and value typed in, on the baseline page).
 */
export function AllowForm(props: { workload: string; executables: string[]; executable?: string; kind?: Kind; value?: string; indicatorId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const allow = useMutation(
    trpc.baselines.allow.mutationOptions({
      onSuccess: (r) => {
        setDone(`Allowed ${KIND_LABELS[r.kind]} ${r.value} for ${r.executable === '*' ? 'the whole workload' : r.executable}: profile version ${r.version}.`);
        void queryClient.invalidateQueries({ queryKey: trpc.baselines.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.indicators.pathKey() });
      },
    }),
  );
  const fixed = props.kind !== undefined && props.value !== undefined;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    setDone(null);
    allow.mutate({
      workload: props.workload,
      executable: text('executable') || '*',
      kind: (fixed ? props.kind : text('kind')) as Kind,
      value: fixed ? props.value! : text('value'),
      reason: text('reason'),
      ...(props.indicatorId ? { indicatorId: props.indicatorId } : {}),
    });
  }

  return (
    <form className="search-form allow-form" onSubmit={submit} aria-label="Allow an entry">
      {fixed ? (
        <p className="allow-form__what">
          Allow {KIND_LABELS[props.kind!]} <code>{props.value}</code>
        </p>
      ) : (
        <>
          <label>
            Kind
            <select name="kind" defaultValue="syscall">
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABELS[k]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Value
            <input name="value" required maxLength={4096} placeholder="e.g. io_uring_setup" spellCheck={false} />
          </label>
        </>
      )}
      <label>
        For
        <select name="executable" defaultValue={props.executable ?? '*'}>
          {props.executables.map((e) => (
            <option key={e} value={e}>
              {e === '*' ? 'every executable of the workload' : e}
            </option>
          ))}
        </select>
      </label>
      <label className="allow-form__reason">
        Reason (kept with the entry and in the audit log)
        <input name="reason" required minLength={3} maxLength={1000} placeholder="why this is normal" />
      </label>
      <button type="submit" disabled={allow.isPending}>
        Allow
      </button>
      {done && (
        <p className="allow-form__done" role="status">
          {done}
        </p>
      )}
      {allow.error && <ErrorState error={allow.error} what="nothing was allowed" />}
    </form>
  );
}
