'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState, type FormEvent } from 'react';
import type { Explanation } from '@/server/detection/explain';
import { useTRPC } from '@/components/trpc/react';
import { describeError } from '@/components/ui/states';
import { baselineHref, indicatorHref, KIND_LABELS, severityTone } from '../detection/inboxState';
import { processHref } from '../format/process';
import { formatNs, formatNsPrecise } from '../format/time';
import type { InvestigationDetail } from './api';
import { formatRemaining, remainingMsNow, zoomStatusTone } from '../zoom/zoomState';
import { verdictOf, verdictTone } from './format';
import { MutationError } from './Panel';

type ZoomItem = InvestigationDetail['zoomList'][number];

/**
 * The top of the page: the indicator and why it fired (the baseline entries it was compared
 * with), where (workload, node, process), when (first and last seen), the status and verdict,
 * and the zoom state with its remaining TTL, "zoom again" and "cancel" for those who may.
 */
export function InvestigationHeader({
  detail,
  fetchedAtMs,
  canOrderZoom,
  onVerdict,
}: {
  detail: InvestigationDetail;
  fetchedAtMs: number;
  canOrderZoom: boolean;
  /** moves to the verdict form (the notes panel) */
  onVerdict: () => void;
}) {
  const indicator = detail.indicators[0] ?? null;
  const verdict = verdictOf(detail.verdict);
  return (
    <header className="inv-header" aria-labelledby="investigation-title">
      <div className="page-header">
        <h1 id="investigation-title">
          {indicator ? (
            <>
              {KIND_LABELS[indicator.kind] ?? indicator.kind} <span className="mono">{indicator.value}</span> in <span className="mono">{detail.workload}</span>
            </>
          ) : (
            detail.title
          )}
        </h1>
        {indicator && (
          <span className={`badge badge--${severityTone(indicator.severity)}`} data-testid="investigation-severity">
            {indicator.severity}
          </span>
        )}
        <span className={`badge badge--${detail.status === 'open' ? 'info' : 'muted'}`} data-testid="investigation-status">
          {detail.status}
        </span>
        <span className={`badge badge--${verdictTone(verdict?.value ?? null)}`} data-testid="investigation-verdict">
          {verdict ? verdict.value : 'no verdict'}
        </span>
        <button type="button" className="button--small" onClick={onVerdict} title="7: notes and verdict">
          {verdict ? 'Change verdict…' : 'Set verdict…'}
        </button>
      </div>
      <div className="inv-header__grid">
        <dl className="facts facts--compact inv-header__facts" aria-label="Investigation">
          <dt>Workload</dt>
          <dd className="mono">
            <Link href={baselineHref(detail.workload)}>{detail.workload}</Link>
          </dd>
          <dt>Node</dt>
          <dd className="mono" data-testid="investigation-node">
            {detail.node}
          </dd>
          <dt>Process</dt>
          <dd className="mono">
            <Link href={processHref(detail.execId)}>{detail.execId}</Link>
          </dd>
          {indicator && (
            <>
              <dt>First seen</dt>
              <dd>
                <time className="mono" title={formatNsPrecise(indicator.tsNs)}>
                  {formatNs(indicator.tsNs)}
                </time>
              </dd>
              <dt>Last seen</dt>
              <dd>
                <time className="mono" title={formatNsPrecise(indicator.lastSeenNs)}>
                  {formatNs(indicator.lastSeenNs)}
                </time>{' '}
                <span className="muted">({indicator.count} image{indicator.count === '1' ? '' : 's'})</span>
              </dd>
            </>
          )}
          <dt>Opened</dt>
          <dd>
            <time className="mono">{formatNs(detail.createdAtNs)}</time> <span className="muted">({detail.trigger === 'auto' ? 'by the zoom policy' : `by ${detail.createdBy}`})</span>
          </dd>
          {verdict && (
            <>
              <dt>Verdict</dt>
              <dd data-testid="header-verdict">
                <strong>{verdict.value}</strong>
                {verdict.by && <> by {verdict.by}</>}
                {verdict.atNs && (
                  <>
                    {' '}
                    at <time className="mono">{formatNs(verdict.atNs)}</time>
                  </>
                )}
              </dd>
            </>
          )}
        </dl>
        {indicator && <WhyItFired indicatorId={indicator.id} sentence={indicator.sentence} />}
        <ZoomState detail={detail} fetchedAtMs={fetchedAtMs} canOrderZoom={canOrderZoom} />
      </div>
      {detail.indicators.length > 1 && (
        <p className="muted small">
          Also grouped here:{' '}
          {detail.indicators.slice(1).map((i) => (
            <Link key={i.id} href={indicatorHref(i.id)} className="inv-chip">
              {KIND_LABELS[i.kind] ?? i.kind} {i.value}
            </Link>
          ))}
        </p>
      )}
    </header>
  );
}

/** The sentence, then the profile entries it was compared with (the indicator's explanation). */
function WhyItFired({ indicatorId, sentence }: { indicatorId: string; sentence: string }) {
  const trpc = useTRPC();
  const indicator = useQuery(trpc.indicators.get.queryOptions({ id: indicatorId }));
  // The explanation is stored JSON: one from an older version or another writer may lack parts, and
  // the header must still draw (it then says the entries are not recorded).
  const raw = indicator.data?.explanation as Partial<Explanation> | null | undefined;
  const x = raw?.profile && Array.isArray(raw.nearest) ? (raw as Explanation) : null;
  return (
    <div className="inv-why" data-testid="investigation-why">
      <p className="why">
        {sentence}{' '}
        <Link href={indicatorHref(indicatorId)} className="small">
          indicator
        </Link>
      </p>
      {indicator.isPending ? (
        <p className="muted small">Loading the profile entries it was compared with…</p>
      ) : indicator.isError ? (
        <p className="muted small">The profile entries are unavailable: {describeError(indicator.error).message}</p>
      ) : !x ? (
        <p className="muted small">The indicator does not record which profile entries it was compared with.</p>
      ) : x ? (
        <div className="small">
          <span className="muted">
            Compared with profile v{x.profile.version} of <code>{x.profile.executable === '*' ? 'the workload' : x.profile.executable}</code> ({x.profile.entries} entries,{' '}
            {x.profile.status}); nearest allowed:
          </span>
          {x.nearest.length === 0 ? (
            <span className="muted"> nothing similar is allowed.</span>
          ) : (
            <ul className="inv-nearest" aria-label="Nearest allowed entries">
              {x.nearest.slice(0, 5).map((n) => (
                <li key={`${n.kind}:${n.value}`}>
                  <code>{n.value}</code> <span className="muted">— {n.reason}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}

/**
 * A clock for countdowns. It starts at `start` (when the data was fetched) so the server's HTML
 * and the browser's first render agree (no hydration mismatch), then ticks with the real time.
 */
function useNow(start: number, intervalMs: number, enabled: boolean): number {
  const [now, setNow] = useState(start);
  useEffect(() => {
    if (!enabled) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, enabled]);
  return Math.max(now, start);
}

/** Active zooms with a live countdown; the last zoom's probes and TTL are what "zoom again" orders. */
function ZoomState({ detail, fetchedAtMs, canOrderZoom }: { detail: InvestigationDetail; fetchedAtMs: number; canOrderZoom: boolean }) {
  const active = detail.zoomList.filter((z) => z.status === 'active' || z.status === 'ordered');
  const now = useNow(fetchedAtMs, 1000, active.length > 0);
  const last = detail.zoomList.find((z) => z.status !== 'refused') ?? detail.zoomList[0] ?? null;
  return (
    <div className="inv-zoomstate" aria-label="Zoom state" role="group">
      <p className="inv-zoomstate__summary" data-testid="zoom-state">
        {active.length > 0 ? (
          <>
            <span className="badge badge--info">zooming</span> {active.length} active zoom{active.length === 1 ? '' : 's'}
          </>
        ) : detail.zoomList.length > 0 ? (
          <>
            <span className="badge badge--muted">not zooming</span> {detail.zoomList.length} zoom{detail.zoomList.length === 1 ? '' : 's'}, all ended
          </>
        ) : (
          <>
            <span className="badge badge--muted">not zooming</span> no zoom was ordered
          </>
        )}
      </p>
      <ul className="inv-zoomlist">
        {detail.zoomList.slice(0, 4).map((z) => (
          <ZoomLine key={`${z.id}/${z.orderId ?? ''}`} zoom={z} now={now} fetchedAtMs={fetchedAtMs} canCancel={canOrderZoom} />
        ))}
      </ul>
      {canOrderZoom ? (
        last && <ZoomAgain detail={detail} last={last} />
      ) : (
        <p className="muted small" data-testid="zoom-controls-unavailable">
          Zoom again and cancel need the scope <code>zooms:order</code> (role responder or admin).
        </p>
      )}
    </div>
  );
}

function ZoomLine({ zoom, now, fetchedAtMs, canCancel }: { zoom: ZoomItem; now: number; fetchedAtMs: number; canCancel: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const cancel = useMutation(
    trpc.zooms.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.investigations.pathKey() }),
    }),
  );
  const remaining = remainingMsNow(zoom, fetchedAtMs, now);
  return (
    <li className="small" data-zoom-id={zoom.id}>
      <span className={`badge badge--${zoomStatusTone(zoom.status)}`}>{zoom.status}</span> <span className="mono">{zoom.probes.join(' ')}</span>
      {zoom.status === 'active' && (
        <>
          {' '}
          — <span data-testid="zoom-remaining">{remaining === null ? '—' : formatRemaining(remaining)}</span> left
        </>
      )}
      {zoom.status !== 'active' && zoom.reason && <span className="muted"> — {zoom.reason}</span>}
      {canCancel && zoom.status === 'active' && (
        <>
          {' '}
          <button type="button" className="button--small" disabled={cancel.isPending} onClick={() => cancel.mutate({ zoomId: zoom.id, reason: 'cancelled from the investigation page' })}>
            {cancel.isPending ? 'Cancelling…' : 'Cancel'}
          </button>
        </>
      )}
      <MutationError error={cancel.error} />
    </li>
  );
}

/** Orders the last zoom again (same process, probes and TTL), into this investigation. */
function ZoomAgain({ detail, last }: { detail: InvestigationDetail; last: ZoomItem }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const order = useMutation(
    trpc.zooms.order.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.investigations.pathKey() }),
    }),
  );
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const reason = String(new FormData(form).get('reason') ?? '').trim();
    order.mutate(
      { execId: detail.execId, probes: last.probes as never, ttlSeconds: last.ttlSeconds, reason, investigationId: detail.id },
      { onSuccess: () => form.reset() },
    );
  }
  return (
    <form className="inv-inline-form" onSubmit={submit} aria-label="Zoom again">
      <input name="reason" required minLength={3} maxLength={1000} placeholder="why zoom again (audited)" aria-label="Reason to zoom again" />
      <button type="submit" disabled={order.isPending} title={`${last.probes.join(', ')} for ${last.ttlSeconds} s on ${detail.execId}`}>
        {order.isPending ? 'Ordering…' : 'Zoom again'}
      </button>
      <MutationError error={order.error} />
    </form>
  );
}
