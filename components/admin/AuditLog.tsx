'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo, useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatNsPrecise } from '../format/time';

const RANGES = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
type Range = keyof typeof RANGES;
const OUTCOMES = ['success', 'failure', 'denied'] as const;

interface Filters {
  range: Range;
  action: string;
  outcome: string;
  actor: string;
  text: string;
  at: number;
}

/** The audit log, newest first, with filters (time range, action, outcome, actor, free text). */
export function AuditLog() {
  const trpc = useTRPC();
  const [filters, setFilters] = useState<Filters>({ range: '24h', action: '', outcome: '', actor: '', text: '', at: Date.now() });
  const input = useMemo(() => {
    const to = BigInt(filters.at) * 1_000_000n;
    const from = to - BigInt(RANGES[filters.range]) * 1_000_000n;
    return {
      from: from.toString(),
      to: to.toString(),
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.outcome ? { outcome: filters.outcome as (typeof OUTCOMES)[number] } : {}),
      ...(filters.actor ? { actor: filters.actor } : {}),
      ...(filters.text ? { text: filters.text } : {}),
      limit: 500,
    };
  }, [filters]);
  const events = useQuery(trpc.audit.list.queryOptions(input));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    setFilters({ range: text('range') as Range, action: text('action'), outcome: text('outcome'), actor: text('actor'), text: text('text'), at: Date.now() });
  }

  return (
    <>
      <form className="search-form" onSubmit={onSubmit} aria-label="Filter the audit log">
        <label>
          Time range
          <select name="range" defaultValue={filters.range}>
            {Object.keys(RANGES).map((r) => (
              <option key={r} value={r}>
                last {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <input name="action" placeholder="auth.sign_in or auth." maxLength={65} />
        </label>
        <label>
          Outcome
          <select name="outcome" defaultValue="">
            <option value="">any</option>
            {OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          Actor
          <input name="actor" maxLength={200} />
        </label>
        <label>
          Text
          <input name="text" maxLength={200} />
        </label>
        <button type="submit">Search</button>
      </form>
      {events.isPending ? (
        <LoadingState>Loading the audit log…</LoadingState>
      ) : events.error ? (
        <ErrorState error={events.error} what="audit log" />
      ) : events.data.events.length === 0 ? (
        <EmptyState>No audit events match.</EmptyState>
      ) : (
        <div className="table-scroll">
          <p className="result-summary">
            {events.data.events.length} events, newest first{events.data.truncated ? ` (the first ${events.data.limit}: narrow the filters)` : ''}.
          </p>
          <table className="data-table" aria-label="Audit events">
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Role</th>
                <th scope="col">Source</th>
                <th scope="col">Target</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((e) => (
                <tr key={e.eventId} data-action={e.action}>
                  <td className="mono nowrap">{formatNsPrecise(e.tsNs)}</td>
                  <td className="mono">{e.action}</td>
                  <td>
                    <span className={`badge ${e.outcome === 'success' ? 'badge--ok' : e.outcome === 'denied' ? 'badge--warn' : 'badge--bad'}`}>{e.outcome}</span>
                  </td>
                  <td>
                    {e.actorType}
                    {e.actorName ? `: ${e.actorName}` : ''}
                  </td>
                  <td>{e.actorRole}</td>
                  <td className="mono">{e.sourceAddress}</td>
                  <td className="mono">{e.targetType ? `${e.targetType} ${e.targetId}` : ''}</td>
                  <td className="mono small clamp" title={JSON.stringify(e.detail)}>
                    {JSON.stringify(e.detail)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
