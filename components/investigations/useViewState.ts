'use client';

import { usePathname, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { parseViewState, viewStateToQuery, type ViewState } from './viewState';

/**
 * The page's view state, read from and written to the URL (the permalink). Written with the
 * History API, which Next.js's router follows (useSearchParams updates): a brush or a selection
 * changes the URL at once, without a round trip to the server for the page. A new history entry
 * for what changes the data shown (range, focused process, selected row), so Back undoes a brush;
 * a replaced one for moving between panels.
 */
export function useViewState() {
  const pathname = usePathname();
  const params = useSearchParams();
  const query = params.toString();
  const parsed = useMemo(() => parseViewState(new URLSearchParams(query)), [query]);
  const update = useCallback(
    (patch: Partial<ViewState>, mode: 'push' | 'replace' = 'push') => {
      const next = viewStateToQuery({ ...parsed.state, ...patch });
      const href = next ? `${pathname}?${next}` : pathname;
      if (mode === 'push') window.history.pushState(null, '', href);
      else window.history.replaceState(null, '', href);
    },
    [parsed.state, pathname],
  );
  return { state: parsed.state, ignored: parsed.ignored, update };
}
