/**
 * The indicator inbox lives in the URL, so a filtered inbox is a permalink:
 *   /indicators?range=24h&severity=high&workload=k8s/shop/checkout-api/api&kind=syscall
 * The window is "the last <range>" up to a day ahead of when the page resolved it: new
 * indicators keep arriving in it while the inbox refreshes itself.
 */

export const INBOX_RANGES = {
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '24h': { label: 'Last 24 h', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
} as const;
export type InboxRange = keyof typeof INBOX_RANGES;
export const DEFAULT_INBOX_RANGE: InboxRange = '24h';
export const INBOX_KINDS = ['syscall', 'io_uring_op', 'exec', 'endpoint', 'file'] as const;
export const INBOX_SEVERITIES = ['low', 'medium', 'high'] as const;
export const INBOX_LIMIT = 200;
const AHEAD_MS = 86_400_000;

export interface InboxState {
  range: InboxRange;
  node: string;
  workload: string;
  kind: (typeof INBOX_KINDS)[number] | '';
  severity: (typeof INBOX_SEVERITIES)[number] | '';
}

const oneOf = <T extends string>(values: readonly T[], v: string | null): T | '' => (v !== null && (values as readonly string[]).includes(v) ? (v as T) : '');

export function parseInboxState(params: URLSearchParams): InboxState {
  const range = params.get('range');
  return {
    range: range !== null && Object.hasOwn(INBOX_RANGES, range) ? (range as InboxRange) : DEFAULT_INBOX_RANGE,
    node: params.get('node')?.trim() ?? '',
    workload: params.get('workload')?.trim() ?? '',
    kind: oneOf(INBOX_KINDS, params.get('kind')),
    severity: oneOf(INBOX_SEVERITIES, params.get('severity')),
  };
}

/** The query string of a state, defaults left out. */
export function inboxStateToQuery(s: InboxState): string {
  const p = new URLSearchParams();
  if (s.range !== DEFAULT_INBOX_RANGE) p.set('range', s.range);
  if (s.severity) p.set('severity', s.severity);
  if (s.kind) p.set('kind', s.kind);
  if (s.workload) p.set('workload', s.workload);
  if (s.node) p.set('node', s.node);
  return p.toString();
}

/** The input of indicators.list for a state resolved at `nowMs`. */
export function toInboxInput(s: InboxState, nowMs: number) {
  return {
    from: (BigInt(Math.trunc(nowMs - INBOX_RANGES[s.range].ms)) * 1_000_000n).toString(),
    to: (BigInt(Math.trunc(nowMs + AHEAD_MS)) * 1_000_000n).toString(),
    ...(s.node ? { node: s.node } : {}),
    ...(s.workload ? { workload: s.workload } : {}),
    ...(s.kind ? { kind: s.kind } : {}),
    ...(s.severity ? { severity: s.severity } : {}),
    limit: INBOX_LIMIT,
  };
}

/** /baselines/<workload key>, each segment encoded (keys hold slashes; the route is a catch-all). */
export function baselineHref(workload: string): string {
  return `/baselines/${workload.split('/').map(encodeURIComponent).join('/')}`;
}

/** The workload key back from the catch-all route's segments. */
export function workloadFromSegments(segments: readonly string[]): string {
  return segments
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

export function indicatorHref(id: string): string {
  return `/indicators/${encodeURIComponent(id)}`;
}

export const KIND_LABELS: Record<string, string> = {
  syscall: 'syscall',
  io_uring_op: 'io_uring op',
  exec: 'exec',
  endpoint: 'endpoint',
  file: 'file',
  http_endpoint: 'HTTP endpoint',
};

export function severityTone(severity: string): 'bad' | 'warn' | 'muted' {
  return severity === 'high' ? 'bad' : severity === 'medium' ? 'warn' : 'muted';
}
