import type { IndicatorKind, IndicatorRecord, Severity } from '../../db/repositories/indicators';
import type { Explanation } from '../detection/explain';
import { RULES } from '../detection/rules';

/**
 * The API shapes of indicators (spelled out, not storage types). Timestamps are nanoseconds as
 * decimal strings; counts are decimal strings (UInt64).
 */
export interface IndicatorView {
  id: string;
  /** first seen */
  tsNs: string;
  lastSeenNs: string;
  /** process images that showed it (repeats in the same workload fold into one indicator) */
  count: string;
  node: string;
  /** the first image that showed it (link: /processes/<execId>) */
  execId: string;
  lastExecId: string;
  workload: string;
  workloadKind: string;
  /** the executable whose profile it was compared against ('*': the workload-level profile) */
  executable: string;
  kind: IndicatorKind;
  value: string;
  severity: Severity;
  /** outside a completed profile (false: only a known-bad rule fired, e.g. while learning) */
  deviation: boolean;
  rules: Array<{ id: string; title: string }>;
  profileVersion: number;
  profileStatus: 'learning' | 'completed';
  /** why, in one sentence */
  sentence: string;
  state: 'open' | 'allowed';
}

export interface IndicatorDetailView extends IndicatorView {
  /** why, as data: the fact, the profile and its learning window, rules, nearest allowed entries */
  explanation: Explanation | null;
  /** images folded into it (at most 64) */
  execIds: string[];
}

const TITLES = new Map(RULES.map((r) => [r.id, r.title]));

export function toIndicatorView(r: IndicatorRecord): IndicatorView {
  return {
    id: r.id,
    tsNs: r.tsNs,
    lastSeenNs: r.lastSeenNs,
    count: r.count,
    node: r.node,
    execId: r.execId,
    lastExecId: r.lastExecId,
    workload: r.workload,
    workloadKind: r.workloadKind,
    executable: r.executable,
    kind: r.kind,
    value: r.value,
    severity: r.severity,
    deviation: r.deviation,
    rules: r.rules.map((id) => ({ id, title: TITLES.get(id) ?? id })),
    profileVersion: r.profileVersion,
    profileStatus: r.profileStatus,
    sentence: r.sentence,
    state: r.state,
  };
}

export function toIndicatorDetail(r: IndicatorRecord): IndicatorDetailView {
  let explanation: Explanation | null = null;
  try {
    explanation = JSON.parse(r.explanation) as Explanation;
  } catch {
    explanation = null;
  }
  return { ...toIndicatorView(r), explanation, execIds: [...r.execIds] };
}
