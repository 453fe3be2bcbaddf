'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useState, type FormEvent } from 'react';
import type { ZoomPolicy } from '@/server/zoom/policy';
import type { ZoomView } from '@/server/zoom/views';
import { useTRPC } from '@/components/trpc/react';
import { describeError, EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatNs, formatNsPrecise } from '../format/time';
import { anyLive, formatRemaining, investigationHref, orderErrorTitle, remainingMsNow, statusBadgeClass, zoomsOfProcess } from './zoomState';

const PROBE_HELP: Record<string, string> = {
  IO_URING: 'io_uring submissions with their completions (opcode, fd, path or address, result, bytes)',
  NETWORK: 'connects, sends and receives with byte counts and payload prefixes',
  FILES: 'opens, reads and writes with paths and byte counts (syscalls or io_uring)',
  CODE: 'fingerprints of the executable and every executable mapping (language, build id, sha256)',
  CHILDREN: 'follow the processes it starts',
};

/** Polling while a zoom can still change by itself (its TTL, its budget, the sensor's end state). */
const LIVE_REFETCH_MS = 2_000;

/**
 * Zoom-ins on one process: an order form (responders and above; others are told why not) and the
 * process's zooms with their state, remaining TTL, a cancel button and their investigation.
 */
export function ZoomPanel({ execId, canOrder, exited }: { execId: string; canOrder: boolean; exited: boolean }) {
  const trpc = useTRPC();
  const list = useQuery({
    ...trpc.zooms.list.queryOptions({ execId, limit: 1000 }),
    refetchInterval: (q) => (q.state.data && anyLive(q.state.data.zooms) ? LIVE_REFETCH_MS : false),
  });
  const zooms = list.data ? zoomsOfProcess(list.data.zooms, execId) : [];
  return (
    <section aria-labelledby="zoom-title" className="zoom-panel">
      <h2 id="zoom-title">Zoom in</h2>
      <p className="muted">
        Targeted probes on this process only, for a limited time and event budget, enforced by the node&apos;s sensor. Every order is audited with its reason.
      </p>
      {!canOrder ? (
        <p className="state state--empty" data-testid="zoom-unavailable">
          Ordering a zoom-in needs the scope <code>zooms:order</code> (role responder or admin); you can see the zooms below but not order or cancel them.
        </p>
      ) : exited ? (
        <p className="state state--empty" data-testid="zoom-unavailable">
          This process has exited: there is nothing left to zoom on.
        </p>
      ) : (
        <ZoomOrderForm execId={execId} />
      )}
      {list.isPending ? (
        <LoadingState>Loading zooms…</LoadingState>
      ) : list.isError ? (
        <ErrorState error={list.error} what="zooms of this process" />
      ) : zooms.length === 0 ? (
        <EmptyState>No zoom on this process yet.</EmptyState>
      ) : (
        <ZoomTable zooms={zooms} fetchedAtMs={list.dataUpdatedAt} canCancel={canOrder} />
      )}
    </section>
  );
}

function ZoomOrderForm({ execId }: { execId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const policy = useQuery(trpc.zooms.policy.queryOptions());
  const [ordered, setOrdered] = useState<{ zoom: ZoomView; investigationId: string } | null>(null);
  const order = useMutation(
    trpc.zooms.order.mutationOptions({
      onSuccess: (result) => {
        setOrdered(result);
        void queryClient.invalidateQueries({ queryKey: trpc.zooms.pathKey() });
      },
      // A refused order is recorded too: it shows in the list.
      onError: () => void queryClient.invalidateQueries({ queryKey: trpc.zooms.pathKey() }),
    }),
  );

  if (policy.isPending) return <LoadingState>Loading the zoom policy…</LoadingState>;
  if (policy.isError) return <ErrorState error={policy.error} what="the zoom policy (orders are not possible without it)" />;
  const p = policy.data;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setOrdered(null);
    order.mutate({
      execId,
      probes: data.getAll('probes').map(String) as ZoomPolicy['allowedProbes'],
      ttlSeconds: Number(data.get('ttlSeconds')),
      reason: String(data.get('reason') ?? '').trim(),
    });
  }

  return (
    <form className="search-form zoom-form" onSubmit={submit} aria-label="Order a zoom-in">
      <fieldset className="zoom-form__probes">
        <legend>Probe sets</legend>
        {(['IO_URING', 'NETWORK', 'FILES', 'CODE', 'CHILDREN'] as const).map((name) => {
          const allowed = p.allowedProbes.includes(name);
          return (
            <label key={name} title={allowed ? PROBE_HELP[name] : "not allowed by the cockpit's zoom policy"}>
              <input type="checkbox" name="probes" value={name} defaultChecked={allowed && p.manual.probes.includes(name)} disabled={!allowed} />
              <span className="mono">{name}</span>
            </label>
          );
        })}
      </fieldset>
      <label className="search-form__narrow">
        TTL (s, at most {p.maxTtlSeconds})
        <input name="ttlSeconds" type="number" required min={1} max={p.maxTtlSeconds} step={1} defaultValue={p.manual.ttlSeconds} />
      </label>
      <label className="zoom-form__reason">
        Reason (required; kept with the order and in the audit log)
        <input name="reason" required minLength={3} maxLength={1000} placeholder="why this process, now" />
      </label>
      <button type="submit" disabled={order.isPending}>
        {order.isPending ? 'Ordering…' : 'Zoom in'}
      </button>
      <p className="zoom-form__budget muted">
        Event budget {p.manual.maxEvents.toLocaleString('en')} events; payload prefixes of {p.payloadPrefixBytes} bytes.
      </p>
      {ordered && (
        <p className="zoom-form__done" role="status">
          Zoom <code>{ordered.zoom.id}</code> is {ordered.zoom.status}
          {ordered.zoom.attachMs !== null && ` (probes attached in ${ordered.zoom.attachMs.toFixed(1)} ms on the sensor)`}. Evidence goes to{' '}
          <Link href={investigationHref(ordered.investigationId)}>investigation {ordered.investigationId}</Link>.
        </p>
      )}
      {order.error && <OrderError error={order.error} />}
    </form>
  );
}

/** The API's refusal, titled by what it means for an order (the message names the limit or the target). */
function OrderError({ error }: { error: unknown }) {
  const { message, code } = describeError(error);
  return (
    <div className="state state--error zoom-form__error" role="alert" data-error-code={code ?? undefined}>
      <strong>{orderErrorTitle(code)} — no zoom was started</strong>
      <p>{message}</p>
    </div>
  );
}

function ZoomTable({ zooms, fetchedAtMs, canCancel }: { zooms: ZoomView[]; fetchedAtMs: number; canCancel: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The countdown runs on the browser's clock from the fetch; 0 until mounted (same HTML as the server).
  const [nowMs, setNowMs] = useState(0);
  useEffect(() => {
    setNowMs(Date.now());
    const timer = setInterval(() => setNowMs(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const cancel = useMutation(
    trpc.zooms.cancel.mutationOptions({
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.zooms.pathKey() }),
    }),
  );
  return (
    <div className="table-scroll">
      <table className="data-table zoom-table" aria-label="Zooms of this process">
        <thead>
          <tr>
            <th scope="col">Zoom</th>
            <th scope="col">State</th>
            <th scope="col">Probe sets</th>
            <th scope="col">TTL left</th>
            <th scope="col">Events</th>
            <th scope="col">Ordered (UTC)</th>
            <th scope="col">By, why</th>
            <th scope="col">Investigation</th>
            {canCancel && <th scope="col">Action</th>}
          </tr>
        </thead>
        <tbody>
          {zooms.map((z) => {
            const remaining = nowMs === 0 ? z.remainingTtlMs : remainingMsNow(z, fetchedAtMs, nowMs);
            return (
              <tr key={z.id || z.orderId || z.orderedAtNs} data-zoom-id={z.id} data-status={z.status}>
                <td className="mono">{z.id || '—'}</td>
                <td>
                  <span className={`badge ${statusBadgeClass(z.status)}`} data-testid="zoom-status">
                    {z.status}
                  </span>
                  {z.reason && <div className="muted small">{z.reason}</div>}
                </td>
                <td className="mono small">{z.probes.join(' ')}</td>
                <td className="mono num" data-testid="zoom-remaining">
                  {remaining === null ? '—' : formatRemaining(remaining)}
                  <div className="muted small">of {z.ttlSeconds} s</div>
                </td>
                <td className="mono num">
                  {z.eventsEmitted}
                  {z.eventsDropped !== '0' && <div className="muted small">{z.eventsDropped} dropped</div>}
                </td>
                <td className="mono">
                  <time title={formatNsPrecise(z.orderedAtNs)}>{formatNs(z.orderedAtNs)}</time>
                </td>
                <td>
                  {z.requestedBy}
                  <div className="muted small">{z.orderReason}</div>
                </td>
                <td>{z.investigationId ? <Link href={investigationHref(z.investigationId)} className="mono">{z.investigationId}</Link> : '—'}</td>
                {canCancel && (
                  <td>
                    {z.status === 'active' || z.status === 'ordered' ? (
                      <button type="button" disabled={cancel.isPending} onClick={() => cancel.mutate({ zoomId: z.id, reason: 'cancelled from the process page' })}>
                        Cancel
                      </button>
                    ) : null}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {cancel.error && <ErrorState error={cancel.error} what="the zoom was not cancelled" />}
    </div>
  );
}
