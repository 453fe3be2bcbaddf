'use client';

import { keepPreviousData, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { basename } from '../format/process';
import { formatNs } from '../format/time';
import { AncestryBody } from './AncestryPanel';
import { EvidenceBody, SelectedRow } from './EvidencePanel';
import { CodeBody, FilesBody } from './FilesCodePanels';
import { InvestigationHeader } from './InvestigationHeader';
import { NetworkBody } from './NetworkPanel';
import { NotesBody } from './NotesPanel';
import { Panel, QueryBody } from './Panel';
import { TimelineBody } from './TimelinePanel';
import { useViewState } from './useViewState';
import { narrowingInput, PANEL_LABELS, PANELS, stepPanel, viewHref, type PanelName } from './viewState';
import { ZoomsBody } from './ZoomsPanel';

/** While a zoom runs the evidence grows: the page asks again this often. */
const LIVE_REFRESH_MS = 3_000;

/** What each zoom-evidence panel loads, and what it means when it is empty. */
const ZOOM_EVIDENCE = {
  network: { loading: 'network destinations', what: 'network evidence is collected', probes: 'the NETWORK or IO_URING probes', none: 'No connection' },
  files: { loading: 'file access', what: 'file access is collected', probes: 'the FILES or IO_URING probes', none: 'No file access' },
  code: { loading: 'code fingerprints', what: 'code is fingerprinted', probes: 'the CODE probe', none: 'No code fingerprint' },
} as const;

/**
 * A panel of evidence that only zooms collect (wide: its tables hold paths and hashes): empty says
 * whether no zoom has run yet (so there cannot be any) or nothing is in the range.
 */
function ZoomEvidencePanel<T, E>({
  name,
  active,
  query,
  zooms,
  isEmpty,
  children,
}: {
  name: keyof typeof ZOOM_EVIDENCE;
  active: boolean;
  query: UseQueryResult<T, E>;
  zooms: number;
  isEmpty: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  const e = ZOOM_EVIDENCE[name];
  const empty = zooms === 0 ? `No zoom has run: ${e.what} only while a zoom with ${e.probes} runs.` : `${e.none} in this range for this process.`;
  return (
    <Panel name={name} active={active} span="wide">
      <QueryBody query={query} loading={`Loading ${e.loading}…`} what={name} isEmpty={isEmpty} empty={empty}>
        {children}
      </QueryBody>
    </Panel>
  );
}

export interface InvestigationPermissions {
  canOrderZoom: boolean;
  canVerdict: boolean;
  canNote: boolean;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/**
 * One investigation on one page: every panel reads the same view state (time range, focused
 * process, selected row) from the URL and is backed by one investigations.* procedure.
 */
export function InvestigationView({ id, permissions }: { id: string; permissions: InvestigationPermissions }) {
  const trpc = useTRPC();
  const { state, ignored, update } = useViewState();
  const narrowing = narrowingInput(state);
  const detail = useQuery({
    ...trpc.investigations.get.queryOptions({ id }),
    refetchInterval: (q) => (q.state.data?.zoomList.some((z) => z.status === 'active' || z.status === 'ordered') ? LIVE_REFRESH_MS : false),
  });
  const live = detail.data?.activeZooms ? LIVE_REFRESH_MS : false;
  const keep = { placeholderData: keepPreviousData, refetchInterval: live } as const;
  const timeline = useQuery({ ...trpc.investigations.timeline.queryOptions({ id, ...narrowing }), ...keep });
  const ancestry = useQuery({ ...trpc.investigations.ancestry.queryOptions({ id, ...(state.exec ? { execId: state.exec } : {}) }), placeholderData: keepPreviousData });
  const network = useQuery({ ...trpc.investigations.network.queryOptions({ id, ...narrowing }), ...keep });
  const files = useQuery({ ...trpc.investigations.files.queryOptions({ id, ...narrowing }), ...keep });
  const code = useQuery({ ...trpc.investigations.code.queryOptions({ id, ...narrowing }), ...keep });
  const tree = useQuery({ ...trpc.investigations.evidenceTree.queryOptions({ id }), refetchInterval: live });
  const event = useQuery({ ...trpc.investigations.event.queryOptions({ id, ref: state.row ?? '' }), enabled: state.row !== null });

  const focusPanel = useCallback(
    (panel: PanelName) => {
      const element = document.getElementById(`panel-${panel}`);
      element?.focus({ preventScroll: true });
      element?.scrollIntoView({ block: 'start', behavior: 'auto' });
      if (state.panel !== panel) update({ panel }, 'replace');
    },
    [state.panel, update],
  );

  // The URL's panel is where the page opens (a permalink to the network panel lands there).
  const scrolled = useRef(false);
  useEffect(() => {
    if (scrolled.current || !detail.data || !state.panel) return;
    scrolled.current = true;
    document.getElementById(`panel-${state.panel}`)?.scrollIntoView({ block: 'start' });
  }, [detail.data, state.panel]);

  const [copied, setCopied] = useState<string | null>(null);
  const copyLink = useCallback(async () => {
    const href = `${window.location.origin}${viewHref(id, state)}`;
    try {
      await navigator.clipboard.writeText(href);
      setCopied('Link copied');
    } catch {
      // No clipboard permission (an embedded browser): the link is selectable in the field.
      (document.getElementById('permalink') as HTMLInputElement | null)?.select();
      setCopied('Select and copy the link in the field');
    }
  }, [id, state]);

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.altKey || e.ctrlKey || e.metaKey || isTyping(e.target)) return;
      const digit = Number(e.key);
      if (Number.isInteger(digit) && digit >= 1 && digit <= PANELS.length) {
        e.preventDefault();
        focusPanel(PANELS[digit - 1]!);
      } else if (e.key === ']' || e.key === '[') {
        e.preventDefault();
        focusPanel(stepPanel(state.panel, e.key === ']' ? 1 : -1));
      } else if (e.key === 'c') {
        e.preventDefault();
        void copyLink();
      } else if (e.key === 'w') {
        e.preventDefault();
        update({ from: null, to: null });
      } else if (e.key === 'Escape' && state.row !== null) {
        update({ row: null });
      }
    }
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [focusPanel, copyLink, update, state.panel, state.row]);

  if (detail.isPending) return <LoadingState>Loading investigation {id}…</LoadingState>;
  if (detail.isError) return <ErrorState error={detail.error} what={`investigation ${id}`} />;
  const d = detail.data;
  const shownRange = timeline.data?.window ?? (state.from && state.to ? { fromNs: state.from, toNs: state.to } : null);
  const focus = ancestry.data?.chain.at(-1);
  const processLabel = focus ? `${basename(focus.binary)} [${focus.pid}]` : `process [${d.execId.split(':')[3] ?? '?'}]`;
  const cursorNs = state.row !== null && event.data ? event.data.tsNs : null;
  const active = (name: PanelName) => state.panel === name;

  return (
    <article className="inv-page" aria-labelledby="investigation-title">
      <InvestigationHeader detail={d} fetchedAtMs={detail.dataUpdatedAt} canOrderZoom={permissions.canOrderZoom} onVerdict={() => focusPanel('notes')} />
      <div className="inv-toolbar" role="toolbar" aria-label="View">
        <label className="inv-toolbar__link">
          Permalink
          <input id="permalink" readOnly value={viewHref(id, state)} data-testid="permalink" onFocus={(e) => e.currentTarget.select()} />
        </label>
        <button type="button" onClick={() => void copyLink()} title="c">
          Copy link
        </button>
        <span role="status" className="small muted">
          {copied}
        </span>
        {state.exec !== null && (
          <span className="inv-focus" data-testid="focus-banner">
            Focused on <code>{state.exec}</code>{' '}
            <button type="button" className="button--small" onClick={() => update({ exec: null })}>
              Back to the indicator&apos;s process
            </button>
          </span>
        )}
        <details className="inv-shortcuts">
          <summary>Keyboard</summary>
          <ul className="small" aria-label="Keyboard shortcuts">
            {PANELS.map((p, i) => (
              <li key={p}>
                <kbd>{i + 1}</kbd> {PANEL_LABELS[p]}
              </li>
            ))}
            <li>
              <kbd>[</kbd> / <kbd>]</kbd> previous / next panel
            </li>
            <li>
              <kbd>c</kbd> copy the link
            </li>
            <li>
              <kbd>w</kbd> whole investigation (undo the range)
            </li>
            <li>
              <kbd>Esc</kbd> clear the selected row
            </li>
            <li>
              <kbd>Tab</kbd> moves through each panel&apos;s controls in page order
            </li>
          </ul>
        </details>
      </div>
      {ignored.length > 0 && (
        <p className="state state--empty" role="status" data-testid="ignored-params">
          Parts of the link were ignored: {ignored.join('; ')}.
        </p>
      )}
      <div className="inv-grid">
        <Panel name="timeline" active={active('timeline')} span="full">
          <QueryBody query={timeline} loading="Loading the timeline (process, io_uring, network, files, zooms, gaps)…" what="timeline">
            {(t) => <TimelineBody timeline={t} state={state} cursorNs={cursorNs} onRange={(r) => update(r)} onRow={(ref) => update({ row: ref })} />}
          </QueryBody>
        </Panel>
        <Panel name="ancestry" active={active('ancestry')}>
          <QueryBody
            query={ancestry}
            loading="Loading the process ancestry…"
            what="ancestry"
            isEmpty={(a) => a.chain.length === 0}
            empty={`Nothing is stored of process ${state.exec ?? d.execId}: its exec happened before the sensor watched, or outside the retention.`}
          >
            {(a) => <AncestryBody ancestry={a} onFocus={(execId) => update({ exec: execId === a.indicatorExecId ? null : execId })} />}
          </QueryBody>
        </Panel>
        <ZoomEvidencePanel name="network" active={active('network')} query={network} zooms={d.zooms} isEmpty={(n) => n.destinations.length === 0}>
          {(n) => (
            <NetworkBody
              id={id}
              network={n}
              state={state}
              processLabel={processLabel}
              fromNs={shownRange?.fromNs ?? n.destinations[0]!.firstNs}
              toNs={shownRange?.toNs ?? n.destinations[0]!.lastNs}
              cursorNs={cursorNs}
              onSelectRow={(ref) => update({ row: ref, panel: 'network' })}
            />
          )}
        </ZoomEvidencePanel>
        <ZoomEvidencePanel name="files" active={active('files')} query={files} zooms={d.zooms} isEmpty={(f) => f.files.length === 0}>
          {(f) => <FilesBody files={f} />}
        </ZoomEvidencePanel>
        <ZoomEvidencePanel name="code" active={active('code')} query={code} zooms={d.zooms} isEmpty={(c) => c.modules.length === 0}>
          {(c) => <CodeBody code={c} />}
        </ZoomEvidencePanel>
        <Panel name="evidence" active={active('evidence')}>
          <QueryBody query={tree} loading="Loading the evidence tree…" what="evidence tree">
            {(t) => <EvidenceBody id={id} tree={t} state={state} onSelectRow={(ref) => update({ row: ref, panel: 'evidence' })} />}
          </QueryBody>
        </Panel>
        <Panel name="notes" active={active('notes')}>
          <NotesBody detail={d} canVerdict={permissions.canVerdict} canNote={permissions.canNote} />
        </Panel>
        <Panel name="zooms" active={active('zooms')}>
          <ZoomsBody zooms={d.zoomList} window={d.window} />
        </Panel>
      </div>
      {state.row !== null && (
        // After the panels and sticky to the bottom of the window: visible wherever the row was picked.
        <div className="inv-selected-dock">
          <QueryBody query={event} loading="Resolving the selected row…" what={`row ${state.row}`}>
            {(e) => <SelectedRow event={e} onClear={() => update({ row: null })} />}
          </QueryBody>
        </div>
      )}
      <p className="muted small">
        Evidence counts: {d.evidence.ioUringOps} io_uring operations, {d.evidence.socketEvents} socket events, {d.evidence.fileAccesses} file accesses, {d.evidence.codeFingerprints} code fingerprints
        {d.window && (
          <>
            {' '}
            collected from {formatNs(d.window.startNs)} to {formatNs(d.window.endNs)}
          </>
        )}
        .
      </p>
    </article>
  );
}
