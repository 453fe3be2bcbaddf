'use client';

import Link from 'next/link';
import { formatArgv, processHref } from '../format/process';
import { formatNs, formatNsPrecise } from '../format/time';
import type { AncestryView, ProcessNodeView } from './api';

function containerOf(p: ProcessNodeView): string {
  if (p.pod) return `pod ${p.pod}${p.container ? ` (${p.container.slice(0, 12)})` : ''}`;
  return p.container ? `container ${p.container.slice(0, 12)}` : 'host';
}

function exitOf(p: ProcessNodeView): string {
  if (p.exitNs === null) return 'running';
  return `exited ${p.exitCode ?? ''}`.trim();
}

/** Which process every panel focuses on, which one raised the indicator, and how to focus another. */
type ItemContext = { focusExecId: string; indicatorExecId: string; onFocus: (execId: string) => void };

/**
 * One process: binary, argv, user, container; a button that focuses every panel on it. The
 * focused process and the indicator's process are marked (they may differ after a selection).
 */
function ProcessItem({ p, role, focusExecId, indicatorExecId, onFocus }: ItemContext & { p: ProcessNodeView; role: 'chain' | 'sibling' | 'child' }) {
  const focused = p.execId === focusExecId;
  const isIndicator = p.execId === indicatorExecId;
  return (
    <li className={`inv-proc inv-proc--${role}${focused ? ' inv-proc--focus' : ''}`} data-exec-id={p.execId} aria-current={focused ? 'true' : undefined}>
      <div className="inv-proc__line">
        <button type="button" className="button--link mono inv-proc__binary" onClick={() => onFocus(p.execId)} title={`Focus every panel on ${p.execId}`} disabled={focused}>
          {p.binary}
        </button>{' '}
        <span className="muted small">
          pid {p.pid} · {p.user || `uid ${p.uid}`} · {containerOf(p)} · {exitOf(p)}
        </span>
        {isIndicator && <span className="tag tag--alert">indicator</span>}
        {focused && <span className="tag">focused</span>}{' '}
        <Link href={processHref(p.execId)} className="small" title="Open the process page">
          process
        </Link>
      </div>
      <code className="inv-proc__argv" title={formatArgv(p.argv)}>
        {formatArgv(p.argv)}
      </code>
      <div className="muted small">
        started <time title={formatNsPrecise(p.startNs)}>{formatNs(p.startNs)}</time>
        {p.cwd && <> in {p.cwd}</>} on {p.node}
      </div>
    </li>
  );
}

function ProcessGroup({ title, none, processes, role, ...common }: ItemContext & { title: string; none: string; processes: readonly ProcessNodeView[]; role: 'sibling' | 'child' }) {
  return (
    <>
      <h3>
        {title} ({processes.length})
      </h3>
      {processes.length === 0 ? (
        <p className="muted small">{none}</p>
      ) : (
        <ul className="inv-proclist" aria-label={title}>
          {processes.map((p) => (
            <ProcessItem key={p.execId} p={p} role={role} {...common} />
          ))}
        </ul>
      )}
    </>
  );
}

/** The chain from the root to the focused process, then its siblings and children. */
export function AncestryBody({ ancestry, onFocus }: { ancestry: AncestryView; onFocus: (execId: string) => void }) {
  const common = { focusExecId: ancestry.focusExecId, indicatorExecId: ancestry.indicatorExecId, onFocus };
  return (
    <>
      <ol className="inv-chain" aria-label="Ancestry, root first">
        {ancestry.chain.map((p) => (
          <ProcessItem key={p.execId} p={p} role="chain" {...common} />
        ))}
      </ol>
      <ProcessGroup title="Children" none="It started no process." processes={ancestry.children} role="child" {...common} />
      <ProcessGroup title="Siblings" none="Its parent started nothing else." processes={ancestry.siblings} role="sibling" {...common} />
    </>
  );
}
