'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useMemo, type ReactNode } from 'react';
import type { AncestryEnd, ChildrenView, ProcessBrief, ProcessView } from '@/server/processes/views';
import { useTRPC } from '@/components/trpc/react';
import { EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { basename, formatArgv, formatContainer, formatExit, formatImageEnd, formatUser, processHref } from '../format/process';
import { formatDurationNs, formatNs, formatNsPrecise } from '../format/time';
import { baselineHref } from '../detection/inboxState';
import { buildProcessTree } from './processTree';
import { ProcessTreeChart } from './ProcessTreeChart';
import { ProcessTreeList } from './ProcessTreeList';
import { ZoomPanel } from '../zoom/ZoomPanel';

const ANCESTRY_END: Record<AncestryEnd, string> = {
  root: 'The chain starts at a process with no recorded parent.',
  parent_not_recorded: 'The chain stops here: the parent of the topmost process was never recorded (older than storage keeps, or before the sensor ran).',
  depth_limit: 'The chain is cut at its maximum depth.',
  cycle: 'The parent links loop back (inconsistent data); the chain stops before repeating.',
};

/**
 * Everything known about one process image: facts, zoom-ins (ordering needs `canOrderZooms`),
 * ancestry, children tree, forked pids.
 */
export function ProcessDetail({ execId, canOrderZooms }: { execId: string; canOrderZooms: boolean }) {
  const trpc = useTRPC();
  const process = useQuery(trpc.processes.get.queryOptions({ execId }));
  const ancestry = useQuery(trpc.processes.ancestry.queryOptions({ execId }));
  const children = useQuery(trpc.processes.children.queryOptions({ execId }));

  if (process.isPending) return <LoadingState>Loading process {execId}…</LoadingState>;
  // A bad or unknown exec id fails all three queries the same way: say it once.
  if (process.isError) return <ErrorState error={process.error} what={`process ${execId}`} />;

  const p = process.data;
  // Exec replaces an image in its pid without an exit event: a child in the same pid ended it.
  const successor = children.data?.children.find((c) => c.pid === p.pid) ?? null;
  const end = formatImageEnd(p, successor);
  return (
    <article aria-labelledby="process-title">
      <header className="page-header">
        <h1 id="process-title">
          <span className="mono">{basename(p.binary) || p.comm}</span> <span className="muted">[{p.pid}]</span> on {p.node}
        </h1>
        <span className={`badge ${p.exited ? (p.exitCode || p.exitSignal ? 'badge--bad' : 'badge--muted') : successor ? 'badge--muted' : 'badge--ok'}`}>{end}</span>
      </header>
      <ProcessFacts p={p} end={end} />

      <ZoomPanel execId={p.execId} canOrder={canOrderZooms} exited={p.exited} />

      <section aria-labelledby="ancestry-title">
        <h2 id="ancestry-title">Ancestry (root → process)</h2>
        {ancestry.isPending ? (
          <LoadingState>Loading ancestry…</LoadingState>
        ) : ancestry.isError ? (
          <ErrorState error={ancestry.error} what="ancestry" />
        ) : (
          <>
            <AncestryChain chain={ancestry.data.chain} selfSuccessor={successor} />
            <p className="muted">{ANCESTRY_END[ancestry.data.end]}</p>
          </>
        )}
      </section>

      <section aria-labelledby="tree-title">
        <h2 id="tree-title">Process tree</h2>
        {ancestry.isPending || children.isPending ? (
          <LoadingState>Loading process tree…</LoadingState>
        ) : ancestry.isError || children.isError ? (
          <ErrorState error={ancestry.error ?? children.error} what="process tree" />
        ) : (
          <TreeSection ancestry={ancestry.data.chain} childrenData={children.data} />
        )}
      </section>

      <section aria-labelledby="forks-title">
        <h2 id="forks-title">Forked pids</h2>
        {children.isPending ? (
          <LoadingState>Loading forks…</LoadingState>
        ) : children.isError ? (
          <ErrorState error={children.error} what="forked pids" />
        ) : children.data.forks.length === 0 ? (
          <EmptyState>This image forked no process that kept running it.</EmptyState>
        ) : (
          <table className="data-table" aria-label="Forked pids">
            <thead>
              <tr>
                <th scope="col">PID</th>
                <th scope="col">Forked (UTC)</th>
                <th scope="col">Exit</th>
              </tr>
            </thead>
            <tbody>
              {children.data.forks.map((f) => (
                <tr key={f.pid}>
                  <td className="mono num">{f.pid}</td>
                  <td className="mono">
                    <time title={formatNsPrecise(f.forkNs)}>{formatNs(f.forkNs)}</time>
                  </td>
                  <td>{formatExit(f)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </article>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Time({ ns }: { ns: string }) {
  return (
    <time className="mono" dateTime={formatNsPrecise(ns)} title={`${ns} ns`}>
      {formatNsPrecise(ns)}
    </time>
  );
}

function ProcessFacts({ p, end }: { p: ProcessView; end: string }) {
  const c = p.container;
  return (
    <dl className="facts" aria-label="Process facts">
      <Fact label="Exec id">
        <code>{p.execId}</code>
      </Fact>
      <Fact label="Binary">
        <code>{p.binary}</code>
      </Fact>
      <Fact label="Arguments">
        <ol className="argv-list" aria-label="argv">
          {p.argv.map((arg, i) => (
            <li key={i}>
              <code>{arg}</code>
            </li>
          ))}
        </ol>
        <code className="muted">{formatArgv(p.argv)}</code>
      </Fact>
      <Fact label="Working directory">
        <code>{p.cwd || '—'}</code>
      </Fact>
      <Fact label="User / group">
        <span className="mono">
          uid {formatUser(p.uid)} · gid {p.gid}
        </span>
      </Fact>
      <Fact label="Parent">
        {p.parentExecId ? (
          <Link href={processHref(p.parentExecId)} className="mono">
            {p.parentExecId}
          </Link>
        ) : (
          'none recorded'
        )}{' '}
        <span className="muted">(ppid {p.ppid})</span>
      </Fact>
      <Fact label="Started">
        <Time ns={p.startNs} />
        {p.seeded && <span className="tag">seeded from /proc: clock-tick precision</span>}
      </Fact>
      <Fact label="Exit">
        {p.exited && p.exitNs ? (
          <>
            {formatExit(p)} at <Time ns={p.exitNs} /> <span className="muted">after {formatDurationNs(BigInt(p.exitNs) - BigInt(p.startNs))}</span>
          </>
        ) : (
          <>
            {end} (last seen <Time ns={p.lastSeenNs} />)
          </>
        )}
      </Fact>
      <Fact label="Container">
        {formatContainer(c)}
        {(c.containerId || c.podUid) && (
          <span className="muted mono">
            {' '}
            {c.containerId && `id ${c.containerId}`} {c.podUid && `pod ${c.podUid}`}
          </span>
        )}
      </Fact>
      <Fact label="Cgroup">
        <code>{p.cgroupPath || '—'}</code> <span className="muted mono">id {p.cgroupId}</span>
      </Fact>
      <Fact label="Workload">
        {p.workload.key ? (
          <>
            <Link href={baselineHref(p.workload.key)} className="mono" title="Open the workload's baseline">
              {p.workload.key}
            </Link>{' '}
            <span className="muted">({p.workload.kind})</span>
          </>
        ) : (
          <span className="muted">not reported by the sensor</span>
        )}
      </Fact>
    </dl>
  );
}

/** Root first, so it reads like a shell history: each line started the next. */
function AncestryChain({ chain, selfSuccessor }: { chain: readonly ProcessBrief[]; selfSuccessor: ProcessBrief | null }) {
  const rootFirst = [...chain].reverse();
  return (
    <ol className="ancestry" aria-label="Ancestry, root first">
      {rootFirst.map((a, i) => {
        const isSelf = i === rootFirst.length - 1;
        return (
          <li key={a.execId} aria-current={isSelf ? 'page' : undefined} data-exec-id={a.execId} className={isSelf ? 'ancestry__self' : undefined}>
            <span className="mono ancestry__binary">
              {isSelf ? a.binary : <Link href={processHref(a.execId)}>{a.binary}</Link>} [{a.pid}]
            </span>{' '}
            <code className="ancestry__argv clamp" title={formatArgv(a.argv)}>
              {formatArgv(a.argv)}
            </code>{' '}
            <span className="muted nowrap">
              <time title={formatNsPrecise(a.startNs)}>{formatNs(a.startNs)}</time> ·{' '}
              {formatImageEnd(a, isSelf ? selfSuccessor : (rootFirst[i + 1] ?? null))}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function TreeSection({ ancestry, childrenData }: { ancestry: readonly ProcessBrief[]; childrenData: ChildrenView }) {
  const root = useMemo(() => buildProcessTree(ancestry, childrenData.children, childrenData.forks), [ancestry, childrenData]);
  if (!root) return <EmptyState>No tree to draw.</EmptyState>;
  const childCount = childrenData.children.length;
  return (
    <>
      <p className="muted">
        Ancestors, this process (highlighted), {childCount} exec&apos;d child{childCount === 1 ? '' : 'ren'} and {childrenData.forks.length} forked pid
        {childrenData.forks.length === 1 ? '' : 's'}. Select a process to open it.
      </p>
      <ProcessTreeChart root={root} />
      <ProcessTreeList root={root} />
    </>
  );
}
