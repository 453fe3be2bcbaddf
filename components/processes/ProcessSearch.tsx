'use client';

import { skipToken, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState, type FormEvent } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs, nsToInputValue, parseTimeToNs } from '../format/time';
import { ProcessTable } from './ProcessTable';
import {
  LIMIT_CHOICES,
  parseSearchState,
  RANGE_PRESETS,
  searchStateToQuery,
  toSearchInput,
  type RangeKey,
  type SearchState,
} from './searchState';

/** Reads the form into a state; custom times typed in the UTC inputs become ISO text for the URL. */
function stateFromForm(form: HTMLFormElement): SearchState {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const range = text('range') as RangeKey;
  const isoOrEmpty = (value: string) => (value ? `${value.length === 16 ? `${value}:00` : value}Z` : '');
  return {
    node: text('node'),
    binary: text('binary'),
    pid: text('pid'),
    range,
    from: range === 'custom' ? isoOrEmpty(text('from')) : '',
    to: range === 'custom' ? isoOrEmpty(text('to')) : '',
    limit: Number(text('limit')),
  };
}

/** A custom time from the URL as the value of a UTC datetime input. */
function inputValue(text: string): string {
  const ns = parseTimeToNs(text);
  return ns ? nsToInputValue(ns) : '';
}

export function ProcessSearch() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const query = params.toString();
  const state = useMemo(() => parseSearchState(new URLSearchParams(query)), [query]);
  // The range picked in the form, until the URL changes (then the URL's range shows again).
  const [picked, setPicked] = useState<{ query: string; range: RangeKey } | null>(null);
  const range = picked?.query === query ? picked.range : state.range;
  const [refreshes, setRefreshes] = useState(0);

  // A preset is resolved against "now" once per URL (and per repeated Search), not per render:
  // a new window on every render would be a new query on every render.
  const resolved = useMemo(() => toSearchInput(state, Date.now()), [state, refreshes]);
  const input = 'input' in resolved ? resolved.input : null;

  const search = useQuery(trpc.processes.search.queryOptions(input ?? skipToken));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const next = searchStateToQuery(stateFromForm(event.currentTarget));
    if (next === query) setRefreshes((n) => n + 1);
    else router.push(next ? `${pathname}?${next}` : pathname);
  }

  const exactWindowHref = input
    ? `${pathname}?${searchStateToQuery({ ...state, range: 'custom', from: input.from, to: input.to })}`
    : null;

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Processes</h1>
      {/* Keyed by the URL: back/forward and links reset the fields to what the URL says. */}
      <form key={query} className="search-form" onSubmit={submit} aria-label="Process search">
        <label>
          Node
          <input name="node" defaultValue={state.node} placeholder="any node" maxLength={253} spellCheck={false} />
        </label>
        <label>
          Binary / command
          <input name="binary" defaultValue={state.binary} placeholder="e.g. sleep or /usr/bin/" maxLength={256} spellCheck={false} />
        </label>
        <label className="search-form__narrow">
          PID
          <input name="pid" defaultValue={state.pid} inputMode="numeric" placeholder="any" maxLength={7} />
        </label>
        <label>
          Time range
          <select name="range" defaultValue={state.range} onChange={(e) => setPicked({ query, range: e.target.value as RangeKey })}>
            {Object.entries(RANGE_PRESETS).map(([key, preset]) => (
              <option key={key} value={key}>
                {preset.label}
              </option>
            ))}
            <option value="custom">Custom (UTC)</option>
          </select>
        </label>
        {range === 'custom' && (
          <>
            <label>
              From (UTC)
              <input name="from" type="datetime-local" step={1} defaultValue={inputValue(state.from)} required />
            </label>
            <label>
              To (UTC)
              <input name="to" type="datetime-local" step={1} defaultValue={inputValue(state.to)} required />
            </label>
          </>
        )}
        <label className="search-form__narrow">
          Limit
          <select name="limit" defaultValue={state.limit}>
            {LIMIT_CHOICES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>

      {'problem' in resolved ? (
        <div className="state state--error" role="alert">
          {resolved.problem}
        </div>
      ) : search.isPending ? (
        <LoadingState>Searching processes…</LoadingState>
      ) : search.isError ? (
        <ErrorState error={search.error} what="process search" />
      ) : (
        <>
          <p className="result-summary" aria-live="polite">
            {search.data.processes.length === 0
              ? 'No process'
              : `${search.data.processes.length}${search.data.truncated ? ' (newest, limit reached)' : ''} process image${search.data.processes.length === 1 ? '' : 's'}`}{' '}
            started between {formatNs(input!.from)} and {formatNs(input!.to)} UTC.{' '}
            {exactWindowHref && state.range !== 'custom' && <Link href={exactWindowHref}>Permalink to this exact window</Link>}
            {search.isFetching && <span className="muted"> Refreshing…</span>}
          </p>
          {search.data.processes.length === 0 ? (
            <EmptyState>Nothing matches. Widen the time range or remove a filter.</EmptyState>
          ) : (
            <ProcessTable processes={search.data.processes} />
          )}
          {search.data.truncated && (
            <p className="muted">Only the newest {search.data.limit} are shown: narrow the search or raise the limit.</p>
          )}
        </>
      )}
    </section>
  );
}
