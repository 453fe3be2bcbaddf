/**
 * The investigation page's whole view state lives in the URL, so a link pasted into a ticket opens
 * the same view: `/investigations/<id>?from=<ns>&to=<ns>&exec=<execId>&panel=<name>&row=<ref>`.
 *
 * Parsing never throws: a hand-edited or truncated link opens the page with what is valid and
 * drops the rest (the page says what it ignored), rather than an error page.
 */

/** The panels in page order; the keyboard shortcuts 1–8 follow this order. */
export const PANELS = ['timeline', 'ancestry', 'network', 'files', 'code', 'evidence', 'notes', 'zooms'] as const;
export type PanelName = (typeof PANELS)[number];

export const PANEL_LABELS: Record<PanelName, string> = {
  timeline: 'Timeline',
  ancestry: 'Ancestry',
  network: 'Network',
  files: 'Files and cache',
  code: 'Code',
  evidence: 'Evidence',
  notes: 'Notes and verdict',
  zooms: 'Zooms',
};

export interface ViewState {
  /** the time range every panel shows (ns decimal strings); null: the whole investigation */
  from: string | null;
  to: string | null;
  /** the process every panel focuses on; null: the indicator's process (the API default) */
  exec: string | null;
  panel: PanelName | null;
  /** the selected evidence row (an opaque ref resolved by investigations.event) */
  row: string | null;
}

export const EMPTY_VIEW: ViewState = { from: null, to: null, exec: null, panel: null, row: null };

const NS_TEXT = /^\d{1,19}$/;
const MAX_NS = 9_223_372_036_854_775_807n;
/** node:boot:start_ns:pid:exec_count (db/ids.ts) */
const EXEC_ID = /^[A-Za-z0-9._-]{1,253}:[0-9a-f]{8}:\d{1,20}:\d{1,10}:\d{1,20}$/;
/** refs are opaque but URL-safe: base64url-ish and a few separators */
const REF = /^[A-Za-z0-9._~:-]{1,2048}$/;

function nsOrNull(text: string | null): string | null {
  if (text === null || !NS_TEXT.test(text)) return null;
  const value = BigInt(text);
  return value > MAX_NS ? null : value.toString();
}

function isPanel(value: string | null): value is PanelName {
  return value !== null && (PANELS as readonly string[]).includes(value);
}

export interface ParsedView {
  state: ViewState;
  /** parameters present in the URL but not usable, with why (shown on the page) */
  ignored: string[];
}

export function parseViewState(params: URLSearchParams): ParsedView {
  const ignored: string[] = [];
  const raw = (name: string) => {
    const v = params.get(name);
    return v === null || v === '' ? null : v;
  };
  let from = nsOrNull(raw('from'));
  let to = nsOrNull(raw('to'));
  if (raw('from') !== null && from === null) ignored.push('from: not a nanosecond timestamp');
  if (raw('to') !== null && to === null) ignored.push('to: not a nanosecond timestamp');
  if (from !== null && to !== null && BigInt(to) < BigInt(from)) {
    ignored.push('from/to: the range ends before it starts');
    from = null;
    to = null;
  }
  const execText = raw('exec');
  const exec = execText !== null && execText.length <= 320 && EXEC_ID.test(execText) ? execText : null;
  if (execText !== null && exec === null) ignored.push('exec: not an exec id (node:boot:start_ns:pid:exec_count)');
  const panelText = raw('panel');
  const panel = isPanel(panelText) ? panelText : null;
  if (panelText !== null && panel === null) ignored.push(`panel: one of ${PANELS.join(', ')}`);
  const rowText = raw('row');
  const row = rowText !== null && REF.test(rowText) ? rowText : null;
  if (rowText !== null && row === null) ignored.push('row: not an evidence reference');
  return { state: { from, to, exec, panel, row }, ignored };
}

/** The query string of a state (without "?"), in a fixed order so equal states give equal links. */
export function viewStateToQuery(state: ViewState): string {
  const params = new URLSearchParams();
  if (state.from !== null) params.set('from', state.from);
  if (state.to !== null) params.set('to', state.to);
  if (state.exec !== null) params.set('exec', state.exec);
  if (state.panel !== null) params.set('panel', state.panel);
  if (state.row !== null) params.set('row', state.row);
  return params.toString();
}

export function viewHref(id: string, state: ViewState): string {
  const query = viewStateToQuery(state);
  return `/investigations/${encodeURIComponent(id)}${query ? `?${query}` : ''}`;
}

/** The procedures' narrowing inputs (from/to/execId) of a state; absent fields mean "everything". */
export function narrowingInput(state: ViewState): { from?: string; to?: string; execId?: string } {
  return {
    ...(state.from !== null ? { from: state.from } : {}),
    ...(state.to !== null ? { to: state.to } : {}),
    ...(state.exec !== null ? { execId: state.exec } : {}),
  };
}

/**
 * A brushed range in chart milliseconds back to nanoseconds. Chart axes are JS numbers (ms);
 * the ends are widened to whole milliseconds so an event exactly at an edge stays inside.
 */
export function brushToRange(startMs: number, endMs: number): { from: string; to: string } | null {
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) return null;
  const [a, b] = startMs <= endMs ? [startMs, endMs] : [endMs, startMs];
  if (a < 0) return null;
  const from = BigInt(Math.floor(a)) * 1_000_000n;
  const to = BigInt(Math.ceil(b)) * 1_000_000n + 999_999n;
  return { from: from.toString(), to: to.toString() };
}

/** The next or previous panel for the "]" / "[" shortcuts (wrapping around). */
export function stepPanel(current: PanelName | null, step: 1 | -1, visible: readonly PanelName[] = PANELS): PanelName {
  const list = visible.length > 0 ? visible : PANELS;
  const index = current === null ? -1 : list.indexOf(current);
  if (index === -1) return step === 1 ? list[0]! : list[list.length - 1]!;
  return list[(index + step + list.length) % list.length]!;
}
