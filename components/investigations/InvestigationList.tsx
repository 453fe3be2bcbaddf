'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs, formatNsPrecise } from '../format/time';
import type { InvestigationSummary } from './api';
import { investigationHref } from '../zoom/zoomState';
import { verdictOf, verdictTone } from './format';

/** The list asks again this often: a zoom's state and new investigations show up without a reload. */
const LIST_REFRESH_MS = 5_000;

/** Investigations, newest change first: status, workload, node, verdict and zoom state; each links to its page. */
export function InvestigationList() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const status = params.get('status') === 'open' || params.get('status') === 'closed' ? (params.get('status') as 'open' | 'closed') : null;
  const list = useQuery(trpc.investigations.list.queryOptions(status ? { status } : undefined, { refetchInterval: LIST_REFRESH_MS }));
  return (
    <section aria-labelledby="investigations-title">
      <h1 id="investigations-title">Investigations</h1>
      <form className="search-form" aria-label="Filter investigations" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => router.push(e.target.value ? `${pathname}?status=${e.target.value}` : pathname)}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="closed">closed</option>
          </select>
        </label>
      </form>
      {list.isPending ? (
        <LoadingState>Loading investigations…</LoadingState>
      ) : list.isError ? (
        <ErrorState error={list.error} what="investigations" />
      ) : list.data.investigations.length === 0 ? (
        <EmptyState>No investigation in the last 30 days. One opens when the zoom policy or an analyst zooms in on an indicator.</EmptyState>
      ) : (
        <>
          <p className="result-summary">
            {list.data.investigations.length}
            {list.data.truncated ? ' (newest, limit reached)' : ''} investigation{list.data.investigations.length === 1 ? '' : 's'} in the last 30 days, newest change first.{' '}
            <span className="muted">Updates every {LIST_REFRESH_MS / 1000} s.</span>
          </p>
          <InvestigationTable investigations={list.data.investigations} />
        </>
      )}
    </section>
  );
}

export function InvestigationTable({ investigations, label = 'Investigations' }: { investigations: readonly InvestigationSummary[]; label?: string }) {
  return (
    <div className="table-scroll">
      <table className="data-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Updated (UTC)</th>
            <th scope="col">Investigation</th>
            <th scope="col">Status</th>
            <th scope="col">Workload</th>
            <th scope="col">Node</th>
            <th scope="col">Verdict</th>
            <th scope="col">Zoom</th>
          </tr>
        </thead>
        <tbody>
          {investigations.map((i) => {
            const verdict = verdictOf(i.verdict);
            return (
              <tr key={i.id} data-investigation-id={i.id}>
                <td className="mono nowrap">
                  <time title={formatNsPrecise(i.updatedAtNs)}>{formatNs(i.updatedAtNs)}</time>
                </td>
                <td>
                  <Link href={investigationHref(i.id)}>{i.title || i.id}</Link>
                  <div className="muted small">{i.trigger === 'auto' ? 'opened by the zoom policy' : `opened by ${i.createdBy}`}</div>
                </td>
                <td>
                  <span className={`badge badge--${i.status === 'open' ? 'info' : 'muted'}`}>{i.status}</span>
                </td>
                <td className="mono">{i.workload}</td>
                <td className="mono">{i.node}</td>
                <td>
                  <span className={`badge badge--${verdictTone(verdict?.value ?? null)}`} title={verdict ? `${verdict.reason} — ${verdict.by}` : 'no verdict yet'}>
                    {verdict?.value ?? 'none'}
                  </span>
                </td>
                <td className="nowrap">
                  {i.activeZooms > 0 ? <span className="badge badge--info">{i.activeZooms} active</span> : <span className="muted">ended</span>} <span className="muted small">({i.zooms} total)</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
