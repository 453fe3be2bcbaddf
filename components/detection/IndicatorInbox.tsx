'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo, type FormEvent } from 'react';
import type { IndicatorView } from '@/server/indicators/views';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { basename, processHref } from '../format/process';
import { formatNs, formatNsPrecise } from '../format/time';
import {
  baselineHref,
  INBOX_KINDS,
  INBOX_RANGES,
  INBOX_SEVERITIES,
  inboxStateToQuery,
  indicatorHref,
  KIND_LABELS,
  parseInboxState,
  severityTone,
  toInboxInput,
  type InboxState,
} from './inboxState';

/** The inbox asks again this often: new indicators show up without a reload. */
export const INBOX_REFRESH_MS = 2_000;

/** Indicators, newest first, with filters in the URL; each row says why it fired and links to the process. */
export function IndicatorInbox() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const query = params.toString();
  const state = useMemo(() => parseInboxState(new URLSearchParams(query)), [query]);
  // Resolved once per URL: the key stays the same while the inbox refreshes itself.
  const input = useMemo(() => toInboxInput(state, Date.now()), [state]);
  const list = useQuery(trpc.indicators.list.queryOptions(input, { refetchInterval: INBOX_REFRESH_MS }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const next = inboxStateToQuery({
      range: text('range') as InboxState['range'],
      severity: text('severity') as InboxState['severity'],
      kind: text('kind') as InboxState['kind'],
      workload: text('workload'),
      node: text('node'),
    });
    router.push(next ? `${pathname}?${next}` : pathname);
  }

  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Indicators</h1>
      <form key={query} className="search-form" onSubmit={submit} aria-label="Filter indicators">
        <label>
          Time range
          <select name="range" defaultValue={state.range}>
            {Object.entries(INBOX_RANGES).map(([key, r]) => (
              <option key={key} value={key}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select name="severity" defaultValue={state.severity}>
            <option value="">any</option>
            {INBOX_SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s} and above
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" defaultValue={state.kind}>
            <option value="">any</option>
            {INBOX_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workload
          <input name="workload" defaultValue={state.workload} placeholder="e.g. k8s/shop/checkout-api/api" maxLength={1024} spellCheck={false} />
        </label>
        <label>
          Node
          <input name="node" defaultValue={state.node} placeholder="any node" maxLength={253} spellCheck={false} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {list.isPending ? (
        <LoadingState>Loading indicators…</LoadingState>
      ) : list.isError ? (
        <ErrorState error={list.error} what="indicators" />
      ) : (
        <>
          <p className="result-summary" aria-live="polite">
            {list.data.indicators.length === 0
              ? 'No indicator'
              : `${list.data.indicators.length}${list.data.truncated ? ' (newest, limit reached)' : ''} indicator${list.data.indicators.length === 1 ? '' : 's'}`}{' '}
            in the {INBOX_RANGES[state.range].label.toLowerCase()}, newest first. <span className="muted">Updates every {INBOX_REFRESH_MS / 1000} s.</span>
          </p>
          {list.data.indicators.length === 0 ? (
            <EmptyState>Nothing stepped outside its baseline. Widen the time range or remove a filter.</EmptyState>
          ) : (
            <IndicatorTable indicators={list.data.indicators} />
          )}
        </>
      )}
    </section>
  );
}

/** One row per indicator, and under it the sentence that says why (visible without clicking). */
export function IndicatorTable({ indicators, label = 'Indicators' }: { indicators: readonly IndicatorView[]; label?: string }) {
  return (
    <div className="table-scroll">
      <table className="data-table indicator-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Severity</th>
            <th scope="col">Workload</th>
            <th scope="col">Process</th>
            <th scope="col">Kind</th>
            <th scope="col">Value</th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col">Last seen (UTC)</th>
          </tr>
        </thead>
        {indicators.map((i) => (
          <tbody key={i.id} className="indicator-row" data-indicator-id={i.id}>
            <tr>
              <td className="mono nowrap">
                <Link href={indicatorHref(i.id)} title={`Open indicator ${i.id} (${formatNsPrecise(i.tsNs)})`}>
                  {formatNs(i.tsNs)}
                </Link>
              </td>
              <td>
                <span className={`badge badge--${severityTone(i.severity)}`}>{i.severity}</span>
                {i.state === 'allowed' && <span className="tag">allowed</span>}
              </td>
              <td className="mono">
                <Link href={baselineHref(i.workload)} title="Open the workload's baseline">
                  {i.workload}
                </Link>
              </td>
              <td className="mono">
                <Link href={processHref(i.execId)} title={`Open process ${i.execId}`} data-testid="indicator-process">
                  {basename(i.executable === '*' ? i.value : i.executable)} [{i.execId.split(':')[3]}]
                </Link>
              </td>
              <td>{KIND_LABELS[i.kind] ?? i.kind}</td>
              <td className="mono">{i.value}</td>
              <td className="mono num">{i.count}</td>
              <td className="mono nowrap">
                <time title={formatNsPrecise(i.lastSeenNs)}>{formatNs(i.lastSeenNs)}</time>
              </td>
            </tr>
            <tr className="indicator-why">
              <td colSpan={8}>
                <span className="muted">Why: </span>
                <span data-testid="indicator-why">{i.sentence}</span>
              </td>
            </tr>
          </tbody>
        ))}
      </table>
    </div>
  );
}
