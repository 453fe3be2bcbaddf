'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { Explanation } from '@/server/detection/explain';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { processHref } from '../format/process';
import { formatDurationNs, formatNs, formatNsPrecise } from '../format/time';
import { AllowForm } from './AllowForm';
import { baselineHref, KIND_LABELS, severityTone } from './inboxState';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

const COMPLETED_BY: Record<string, string> = {
  window: 'after its minimum, once nothing new was learned for the quiet period',
  max: 'at its maximum length',
  import: 'by an imported baseline',
  none: '',
};

/** One indicator: why it fired (the sentence, then the data behind it), the process, the baseline. */
export function IndicatorDetail({ id, canAllow }: { id: string; canAllow: boolean }) {
  const trpc = useTRPC();
  const indicator = useQuery(trpc.indicators.get.queryOptions({ id }));
  if (indicator.isPending) return <LoadingState>Loading indicator…</LoadingState>;
  if (indicator.isError) return <ErrorState error={indicator.error} what={`indicator ${id}`} />;
  const i = indicator.data;
  // Stored JSON: an explanation from another writer or an older version may lack parts; then the
  // data behind the sentence is left out rather than failing the page.
  const raw = i.explanation as Partial<Explanation> | null;
  const x = raw?.profile && raw.fact && Array.isArray(raw.nearest) ? (raw as Explanation) : null;
  const p = x?.profile;
  return (
    <article aria-labelledby="indicator-title">
      <header className="page-header">
        <h1 id="indicator-title">
          {KIND_LABELS[i.kind]} <span className="mono">{i.value}</span> in <span className="mono">{i.workload}</span>
        </h1>
        <span className={`badge badge--${severityTone(i.severity)}`}>{i.severity}</span>
        {i.state === 'allowed' && <span className="badge badge--ok">allowed</span>}
      </header>
      <p className="why" data-testid="indicator-why">
        {i.sentence}
      </p>
      <dl className="facts" aria-label="Indicator">
        <Fact label="First seen">
          <time className="mono" title={`${i.tsNs} ns`}>
            {formatNsPrecise(i.tsNs)}
          </time>{' '}
          on {i.node}
        </Fact>
        <Fact label="Process">
          <Link href={processHref(i.execId)} className="mono">
            {i.execId}
          </Link>
        </Fact>
        <Fact label="Repeats">
          {i.count} image{i.count === '1' ? '' : 's'} in this workload, last at{' '}
          <time className="mono" title={formatNsPrecise(i.lastSeenNs)}>
            {formatNs(i.lastSeenNs)}
          </time>
          {i.lastExecId !== i.execId && (
            <>
              {' '}
              (<Link href={processHref(i.lastExecId)}>last process</Link>)
            </>
          )}
        </Fact>
        <Fact label="Compared against">
          <Link href={baselineHref(i.workload)}>baseline of {i.workload}</Link>, profile of <code>{i.executable === '*' ? 'the whole workload (executables started)' : i.executable}</code>, version {i.profileVersion} (
          {i.profileStatus})
        </Fact>
        <Fact label="Outside the profile">{i.deviation ? 'yes: the profile was completed and does not allow it' : 'no: the profile was still learning; a known-bad rule fired'}</Fact>
        {i.rules.length > 0 && (
          <Fact label="Known-bad rules">
            <ul className="plain-list">
              {(x?.rules ?? i.rules.map((r) => ({ ...r, reason: '' }))).map((r) => (
                <li key={r.id}>
                  <strong>{r.title}</strong> <span className="muted">({r.id})</span>
                  {r.reason && <>: {r.reason}</>}
                </li>
              ))}
            </ul>
          </Fact>
        )}
      </dl>
      {p && (
        <section aria-labelledby="window-title">
          <h2 id="window-title">Learning window</h2>
          <dl className="facts" aria-label="Learning window">
            <Fact label="Learned from">
              <time className="mono">{formatNsPrecise(p.startedAtNs)}</time>
            </Fact>
            <Fact label="Last new entry">
              <time className="mono">{formatNsPrecise(p.lastNewAtNs)}</time>
            </Fact>
            <Fact label="Completed">
              {p.status === 'completed' ? (
                <>
                  <time className="mono">{formatNsPrecise(p.completedAtNs)}</time> — {COMPLETED_BY[p.completedBy]} (
                  {formatDurationNs(BigInt(p.completedAtNs) - BigInt(p.startedAtNs))} of learning)
                </>
              ) : (
                'not yet: still learning'
              )}
            </Fact>
            <Fact label="Window">
              at least {formatDurationNs(p.window.minNs)}, then {formatDurationNs(p.window.quietNs)} with nothing new, at most {formatDurationNs(p.window.maxNs)}
            </Fact>
            <Fact label="Entries">
              {p.entries} in the profile (with the workload-wide ones), {p.entriesOfKind} of kind {KIND_LABELS[i.kind]}
            </Fact>
          </dl>
        </section>
      )}
      {x && (
        <section aria-labelledby="nearest-title">
          <h2 id="nearest-title">Nearest allowed entries</h2>
          {x.nearest.length === 0 ? (
            <p className="muted">Nothing similar is allowed in this profile.</p>
          ) : (
            <table className="data-table" aria-label="Nearest allowed entries">
              <thead>
                <tr>
                  <th scope="col">Entry</th>
                  <th scope="col">Why it is near</th>
                  <th scope="col">Source</th>
                  <th scope="col">Profile</th>
                </tr>
              </thead>
              <tbody>
                {x.nearest.map((n) => (
                  <tr key={`${n.kind}:${n.value}`}>
                    <td className="mono">
                      {KIND_LABELS[n.kind]} {n.value}
                    </td>
                    <td>
                      {n.reason} <span className="muted">({Math.round(n.similarity * 100)}%)</span>
                    </td>
                    <td>
                      {n.source}
                      {n.actor && (
                        <span className="muted">
                          {' '}
                          by {n.actor}
                          {n.why && `: ${n.why}`}
                        </span>
                      )}
                    </td>
                    <td className="mono">{n.executable === '*' ? 'workload' : n.executable}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {Object.keys(x.fact.detail).length > 0 && (
            <p className="muted small">
              What was seen: <code>{JSON.stringify(x.fact.detail)}</code>
            </p>
          )}
        </section>
      )}
      {canAllow && i.state === 'open' && (
        <section aria-labelledby="allow-title">
          <h2 id="allow-title">Make it normal</h2>
          <p className="muted">Allowing adds the entry to the baseline (a new profile version): the same behaviour raises nothing afterwards. Say why.</p>
          <AllowForm workload={i.workload} executables={i.executable === '*' ? ['*'] : [i.executable, '*']} executable={i.executable} kind={i.kind} value={i.value} indicatorId={i.id} />
        </section>
      )}
    </article>
  );
}
