import { msToNsString, parseTimeToNs } from '../format/time';

/**
 * The process search lives in the URL, so a search is a permalink. Presets are relative to the
 * moment the page resolves them ("last hour"); `range=custom` with `from`/`to` is an exact window.
 *
 *   /?binary=sleep&range=1h
 *   /?node=web-1&pid=4242&range=custom&from=2026-11-22T10:00:00Z&to=1763809023123456789
 */

export const RANGE_PRESETS = {
  '15m': { label: 'Last 15 min', ms: 15 * 60_000 },
  '1h': { label: 'Last hour', ms: 60 * 60_000 },
  '6h': { label: 'Last 6 h', ms: 6 * 60 * 60_000 },
  '24h': { label: 'Last 24 h', ms: 24 * 60 * 60_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 24 * 60 * 60_000 },
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export type RangeKey = RangePreset | 'custom';

export const DEFAULT_RANGE: RangePreset = '1h';
export const DEFAULT_LIMIT = 100;
export const LIMIT_CHOICES = [50, 100, 250, 500, 1000] as const;

export interface SearchState {
  node: string;
  binary: string;
  /** Kept as text: the form shows what was typed, validation says what is wrong with it. */
  pid: string;
  range: RangeKey;
  /** For `custom`: ns or ISO text as found in the URL. */
  from: string;
  to: string;
  limit: number;
}

function isPreset(value: string | null): value is RangePreset {
  return value !== null && Object.hasOwn(RANGE_PRESETS, value);
}

export function parseSearchState(params: URLSearchParams): SearchState {
  const range = params.get('range');
  const limit = Number(params.get('limit'));
  return {
    node: params.get('node')?.trim() ?? '',
    binary: params.get('binary') ?? '',
    pid: params.get('pid')?.trim() ?? '',
    range: range === 'custom' || isPreset(range) ? range : DEFAULT_RANGE,
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    limit: (LIMIT_CHOICES as readonly number[]).includes(limit) ? limit : DEFAULT_LIMIT,
  };
}

/** The query string of a state, without defaults (short permalinks). */
export function searchStateToQuery(state: SearchState): string {
  const params = new URLSearchParams();
  if (state.node) params.set('node', state.node);
  if (state.binary) params.set('binary', state.binary);
  if (state.pid) params.set('pid', state.pid);
  if (state.range !== DEFAULT_RANGE) params.set('range', state.range);
  if (state.range === 'custom') {
    if (state.from) params.set('from', state.from);
    if (state.to) params.set('to', state.to);
  }
  if (state.limit !== DEFAULT_LIMIT) params.set('limit', String(state.limit));
  return params.toString();
}

/** The input of `processes.search` (field names match ZSearchProcessesInputSchema). */
export interface SearchInput {
  node?: string;
  binary?: string;
  pid?: number;
  from: string;
  to: string;
  limit: number;
}

/**
 * Resolves a state at `nowMs` into the API input, or says in words what is wrong with it. Only
 * what the form can get wrong is checked here; the API validates everything again.
 */
export function toSearchInput(state: SearchState, nowMs: number): { input: SearchInput } | { problem: string } {
  let from: string | null;
  let to: string | null;
  if (state.range === 'custom') {
    from = parseTimeToNs(state.from);
    to = parseTimeToNs(state.to);
    if (!from) return { problem: 'Custom range: "from" is not a time (use YYYY-MM-DDTHH:MM:SS UTC or nanoseconds).' };
    if (!to) return { problem: 'Custom range: "to" is not a time (use YYYY-MM-DDTHH:MM:SS UTC or nanoseconds).' };
    if (BigInt(to) < BigInt(from)) return { problem: 'Custom range: "to" is before "from".' };
  } else {
    to = msToNsString(nowMs);
    from = msToNsString(nowMs - RANGE_PRESETS[state.range].ms);
  }
  let pid: number | undefined;
  if (state.pid !== '') {
    if (!/^\d{1,7}$/.test(state.pid)) return { problem: `PID "${state.pid}" is not a process id.` };
    pid = Number(state.pid);
  }
  return {
    input: {
      ...(state.node ? { node: state.node } : {}),
      ...(state.binary ? { binary: state.binary } : {}),
      ...(pid !== undefined ? { pid } : {}),
      from,
      to,
      limit: state.limit,
    },
  };
}
