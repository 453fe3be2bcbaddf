'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState, type ChangeEvent, type FormEvent } from 'react';
import type { EntryView, ProfileView } from '@/server/baselines/service';
import { useTRPC, useTRPCClient } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { formatDurationNs, formatNs, formatNsPrecise } from '../format/time';
import { AllowForm } from './AllowForm';
import { IndicatorTable } from './IndicatorInbox';
import { baselineHref, KIND_LABELS } from './inboxState';

/** Learning profiles change every few seconds; completed ones rarely. */
const REFRESH_MS = 3_000;

function StatusBadge({ status }: { status: 'learning' | 'completed' }) {
  return <span className={`badge ${status === 'completed' ? 'badge--ok' : 'badge--info'}`}>{status}</span>;
}

/** Every workload with a baseline. */
export function BaselineList({ canWrite }: { canWrite: boolean }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.baselines.list.queryOptions(undefined, { refetchInterval: REFRESH_MS }));
  return (
    <section aria-labelledby="baselines-title">
      <h1 id="baselines-title">Baselines</h1>
      <p className="muted">
        What each workload normally does, learned per executable (or imported). A fact outside a completed profile becomes an indicator.
      </p>
      {canWrite && <ImportForm />}
      {list.isPending ? (
        <LoadingState>Loading baselines…</LoadingState>
      ) : list.isError ? (
        <ErrorState error={list.error} what="baselines" />
      ) : list.data.workloads.length === 0 ? (
        <EmptyState>No baseline yet: profiles start learning when a sensor reports a workload’s first facts.</EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="data-table" aria-label="Workloads">
            <thead>
              <tr>
                <th scope="col">Workload</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Profiles
                </th>
                <th scope="col" className="num">
                  Entries
                </th>
                <th scope="col">Learning since (UTC)</th>
                <th scope="col">Completed (UTC)</th>
                <th scope="col" className="num">
                  Open indicators
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.workloads.map((w) => (
                <tr key={w.workload} data-workload={w.workload}>
                  <td className="mono">
                    <Link href={baselineHref(w.workload)}>{w.workload}</Link>
                    {w.imported && <span className="tag">imported</span>}
                  </td>
                  <td>
                    <StatusBadge status={w.status} />
                    {w.status === 'learning' && (
                      <span className="muted small">
                        {' '}
                        {w.learningProfiles} of {w.profileCount}
                      </span>
                    )}
                  </td>
                  <td className="num">{w.profileCount}</td>
                  <td className="num">{w.entryCount}</td>
                  <td className="mono nowrap">{formatNs(w.startedAtNs)}</td>
                  <td className="mono nowrap">{w.completedAtNs ? formatNs(w.completedAtNs) : '—'}</td>
                  <td className={`num${w.indicators.open > 0 ? ' bad' : ''}`}>{w.indicators.open}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Import a Kubescape ApplicationProfile (analysts): pasted or from a file. */
function ImportForm({ workload }: { workload?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const importing = useMutation(
    trpc.baselines.import.mutationOptions({
      onSuccess: (r) => {
        setDone(`Imported into ${r.workloads.map((w) => `${w.workload} (${w.entries} entries)`).join(', ')}.`);
        setText('');
        void queryClient.invalidateQueries({ queryKey: trpc.baselines.pathKey() });
      },
    }),
  );
  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.currentTarget.files?.[0];
    if (file) setText(await file.text());
  }
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setDone(null);
    importing.mutate({ yaml: text, ...(workload ? { workload } : {}) });
  }
  return (
    <details className="import-form">
      <summary>Import a Kubescape ApplicationProfile{workload ? ' into this workload' : ''}</summary>
      <form onSubmit={submit} aria-label="Import an ApplicationProfile">
        <label>
          YAML file <input type="file" accept=".yaml,.yml,.json,application/yaml" onChange={onFile} />
        </label>
        <label>
          or paste it
          <textarea name="yaml" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} placeholder="apiVersion: spdx.softwarecomposition.kubescape.io/v1beta1" />
        </label>
        <button type="submit" disabled={importing.isPending || text.trim() === ''}>
          Import
        </button>
        {done && <p role="status">{done}</p>}
        {importing.error && <ErrorState error={importing.error} what="nothing was imported" />}
      </form>
    </details>
  );
}

/** Downloads the workload's baseline as an ApplicationProfile. */
function ExportButton({ workload }: { workload: string }) {
  const client = useTRPCClient();
  const [error, setError] = useState<unknown>(null);
  async function download() {
    setError(null);
    try {
      const { yaml, filename } = await client.baselines.export.query({ workload });
      const url = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <button type="button" onClick={download}>
        Export as ApplicationProfile
      </button>
      {error !== null && <ErrorState error={error} what="export" />}
    </>
  );
}

function progressText(p: ProfileView): string {
  if (p.status === 'completed') {
    const by = p.completedBy === 'import' ? 'by an import' : p.completedBy === 'max' ? 'at the maximum length' : 'after the minimum, once nothing new came for the quiet period';
    return `completed ${by}`;
  }
  const parts = [];
  if (p.progress.minRemainingNs !== '0') parts.push(`at least ${formatDurationNs(p.progress.minRemainingNs)} more`);
  if (p.progress.quietRemainingNs !== '0') parts.push(`${formatDurationNs(p.progress.quietRemainingNs)} of quiet to go`);
  return `learning: ${parts.join(', ') || 'completing now'} (by ${formatNs(p.progress.expectedEndNs)} if nothing new)`;
}

function groupByKind(entries: readonly EntryView[]): Array<[string, EntryView[]]> {
  const groups = new Map<string, EntryView[]>();
  for (const e of entries) groups.set(e.kind, [...(groups.get(e.kind) ?? []), e]);
  const order = ['exec', 'syscall', 'io_uring_op', 'endpoint', 'file', 'http_endpoint'];
  return [...groups.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
}

/** Where an entry came from, for its tooltip. */
function entryTitle(e: EntryView): string {
  if (e.source === 'learned') return `learned: first seen ${formatNsPrecise(e.tsNs)}${e.execId ? ` in ${e.execId}` : ''} (version ${e.profileVersion})`;
  if (e.source === 'allowed') return `allowed by ${e.actor} at ${formatNsPrecise(e.tsNs)}: ${e.reason} (version ${e.profileVersion})`;
  return `imported by ${e.actor} at ${formatNsPrecise(e.tsNs)}${Object.keys(e.detail).length ? ` ${JSON.stringify(e.detail)}` : ''}`;
}

function EntryList({ entries }: { entries: readonly EntryView[] }) {
  if (entries.length === 0) return <p className="muted">No entries yet.</p>;
  return (
    <div className="entry-groups">
      {groupByKind(entries).map(([kind, list]) => (
        <div key={kind} className="entry-group" data-kind={kind}>
          <h4>
            {KIND_LABELS[kind] ?? kind} <span className="muted">({list.length})</span>
          </h4>
          <ul className="entry-list" aria-label={`${KIND_LABELS[kind] ?? kind} entries`}>
            {list.map((e, n) => (
              <li key={`${e.value}:${n}`} className={`entry entry--${e.source}`} data-source={e.source} title={entryTitle(e)}>
                <code>{e.value}</code>
                {e.source !== 'learned' && <span className={`tag tag--${e.source}`}>{e.source}</span>}
                {e.source === 'allowed' && (
                  <span className="muted small">
                    {' '}
                    “{e.reason}” — {e.actor}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

/** One workload: status, learning window with progress, entries by kind and source, its indicators. */
export function BaselineDetail({ workload, canWrite }: { workload: string; canWrite: boolean }) {
  const trpc = useTRPC();
  const view = useQuery(trpc.baselines.get.queryOptions({ workload }, { refetchInterval: REFRESH_MS }));
  if (view.isPending) return <LoadingState>Loading baseline…</LoadingState>;
  if (view.isError) return <ErrorState error={view.error} what={`baseline of ${workload}`} />;
  const b = view.data;
  return (
    <article aria-labelledby="baseline-title">
      <header className="page-header">
        <h1 id="baseline-title">
          Baseline of <span className="mono">{b.workload}</span>
        </h1>
        <span data-testid="baseline-status">
          <StatusBadge status={b.status} />
        </span>
        {b.imported && <span className="badge badge--muted">imported</span>}
        <ExportButton workload={b.workload} />
      </header>
      <dl className="facts" aria-label="Workload">
        <dt>Kind</dt>
        <dd>
          {b.kind}
          {b.namespace && ` · namespace ${b.namespace}`}
          {b.name && ` · ${b.name}`}
          {b.container && ` · container ${b.container}`}
        </dd>
        <dt>Learning window</dt>
        <dd>
          at least {formatDurationNs(b.window.minNs)}, then {formatDurationNs(b.window.quietNs)} with nothing new, at most {formatDurationNs(b.window.maxNs)}{' '}
          <span className="muted">(each profile keeps the window it started with)</span>
        </dd>
        <dt>Learning since</dt>
        <dd className="mono">{formatNsPrecise(b.startedAtNs)}</dd>
        <dt>Completed</dt>
        <dd className="mono">{b.completedAtNs ? formatNsPrecise(b.completedAtNs) : '— (still learning)'}</dd>
        {b.importedDocument && (
          <>
            <dt>Imported</dt>
            <dd>
              container <code>{b.importedDocument.container}</code> by {b.importedDocument.actor} at {formatNs(b.importedDocument.importedAtNs)}: the import is
              authoritative (executables it does not name start completed and empty)
            </dd>
          </>
        )}
      </dl>
      <section aria-labelledby="profiles-title">
        <h2 id="profiles-title">Profiles</h2>
        {b.profiles.map((p) => (
          <section key={p.executable} className="card profile" aria-label={`Profile ${p.executable}`} data-executable={p.executable}>
            <header className="card__header">
              <h3 className="mono">{p.executable === '*' ? 'Workload (executables started, imported entries)' : p.executable}</h3>
              <StatusBadge status={p.status} />
              <span className="muted small">version {p.version}</span>
            </header>
            <div className="progress" role="progressbar" aria-label={`Learning progress of ${p.executable}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(p.progress.fraction * 100)}>
              <div className="progress__bar" style={{ width: `${Math.round(p.progress.fraction * 100)}%` }} />
            </div>
            <p className="small">
              {progressText(p)} · learned from <time className="mono">{formatNs(p.startedAtNs)}</time>
              {p.completedAtNs && (
                <>
                  {' '}
                  to <time className="mono">{formatNs(p.completedAtNs)}</time>
                </>
              )}{' '}
              · last new entry <time className="mono">{formatNs(p.lastNewAtNs)}</time>
            </p>
            <EntryList entries={p.entries} />
          </section>
        ))}
      </section>
      {canWrite && (
        <section aria-labelledby="allow-title">
          <h2 id="allow-title">Allow an entry</h2>
          <AllowForm workload={b.workload} executables={b.profiles.map((p) => p.executable)} />
          <ImportForm workload={b.workload} />
        </section>
      )}
      <section aria-labelledby="produced-title">
        <h2 id="produced-title">Indicators it produced (30 days)</h2>
        {b.indicators.length === 0 ? <EmptyState>None.</EmptyState> : <IndicatorTable indicators={b.indicators} label="Indicators of this workload" />}
      </section>
    </article>
  );
}
