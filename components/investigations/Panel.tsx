'use client';

import type { UseQueryResult } from '@tanstack/react-query';
import type { MouseEvent, ReactNode } from 'react';
import { describeError, EmptyState, ErrorState, LoadingState } from '@/components/ui/states';
import { PANEL_LABELS, PANELS, type PanelName } from './viewState';

/** How much of the grid a panel takes: one column, two (a whole row on a laptop), or the whole row. */
export type PanelSpan = 'column' | 'wide' | 'full';

/**
 * One panel of the investigation page: a landmark section with its shortcut number in the title,
 * focusable (the keyboard shortcuts move focus here) and marked when it is the URL's panel.
 */
export function Panel({ name, active, actions, children, span = 'column' }: { name: PanelName; active: boolean; actions?: ReactNode; children: ReactNode; span?: PanelSpan }) {
  const number = PANELS.indexOf(name) + 1;
  return (
    <section
      id={`panel-${name}`}
      data-panel={name}
      className={`inv-panel inv-panel--${span}${active ? ' inv-panel--active' : ''}`}
      aria-labelledby={`panel-${name}-title`}
      tabIndex={-1}
    >
      <header className="inv-panel__header">
        <h2 id={`panel-${name}-title`}>
          <kbd className="inv-key" aria-hidden="true">
            {number}
          </kbd>{' '}
          {PANEL_LABELS[name]}
        </h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/**
 * A query's three states in words: loading (what is being gathered), the API's error, or the data.
 * `isEmpty` + `empty` say what an empty answer means for this panel (not just "no data").
 */
export function QueryBody<T, E>({
  query,
  loading,
  what,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T, E>;
  loading: string;
  what: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <LoadingState>{loading}</LoadingState>;
  if (query.isError) return <ErrorState error={query.error} what={what} />;
  if (isEmpty?.(query.data)) return <EmptyState>{empty}</EmptyState>;
  return (
    <>
      {query.isFetching && (
        <p className="inv-refreshing muted small" role="status">
          Updating…
        </p>
      )}
      {children(query.data)}
    </>
  );
}

/**
 * A link to another state of this page: a real href (open in a new tab, copy it), and a plain
 * click changes the view in place (useViewState) instead of loading the page again.
 */
export function ViewLink({ href, onNavigate, className, title, children }: { href: string; onNavigate: () => void; className?: string; title?: string; children: ReactNode }) {
  function click(event: MouseEvent<HTMLAnchorElement>) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    onNavigate();
  }
  return (
    <a href={href} onClick={click} className={className} title={title}>
      {children}
    </a>
  );
}

/** A failed mutation's message from the API, next to the control that sent it. */
export function MutationError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <span className="bad small inv-mutation-error" role="alert">
      {describeError(error).message}
    </span>
  );
}
