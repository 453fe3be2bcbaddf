import type { CompletedBy, ProfileStatus } from '../../db/repositories/baselines';
import type { LearningWindow } from './config';

/**
 * The learning state machine of one profile (pure; times are detector-clock nanoseconds):
 *
 *   learning ──(min elapsed AND nothing new for `quiet`)──> completed   completedBy 'window'
 *   learning ──(max elapsed)─────────────────────────────> completed   completedBy 'max'
 *   learning ──(an import makes the workload's baseline)──> completed   completedBy 'import'
 *
 * Versions: 1 while learning; +1 at completion; +1 for every later change (an allowed entry, an
 * import). An indicator names the version it was compared against.
 */
export interface LearningState {
  status: ProfileStatus;
  version: number;
  startedAtNs: bigint;
  lastNewAtNs: bigint;
  /** 0 while learning */
  completedAtNs: bigint;
  completedBy: CompletedBy;
  /** the window this profile learns under (recorded when it started) */
  window: LearningWindow;
}

export function startLearning(atNs: bigint, window: LearningWindow): LearningState {
  return { status: 'learning', version: 1, startedAtNs: atNs, lastNewAtNs: atNs, completedAtNs: 0n, completedBy: 'none', window };
}

/** Something new was learned at `atNs`. */
export function learnedAt(state: LearningState, atNs: bigint): LearningState {
  if (state.status !== 'learning' || atNs <= state.lastNewAtNs) return state;
  return { ...state, lastNewAtNs: atNs };
}

/**
 * When the window closes, as it stands: the later of (start + min) and (last new + quiet), but
 * no later than start + max.
 */
export function windowEndNs(state: LearningState): { atNs: bigint; by: 'window' | 'max' } {
  const { minNs, quietNs, maxNs } = state.window;
  const byWindow = maxOf(state.startedAtNs + minNs, state.lastNewAtNs + quietNs);
  const byMax = state.startedAtNs + maxNs;
  return byWindow <= byMax ? { atNs: byWindow, by: 'window' } : { atNs: byMax, by: 'max' };
}

/** Whether a learning profile is due to complete at `nowNs` (and how), or null. */
export function dueCompletion(state: LearningState, nowNs: bigint): { atNs: bigint; by: 'window' | 'max' } | null {
  if (state.status !== 'learning') return null;
  const end = windowEndNs(state);
  return nowNs >= end.atNs ? end : null;
}

/** Completes a profile at `atNs` (the moment its window closed). */
export function completeAt(state: LearningState, atNs: bigint, by: CompletedBy): LearningState {
  if (state.status === 'completed') return state;
  return { ...state, status: 'completed', version: state.version + 1, completedAtNs: atNs, completedBy: by };
}

/** A later change to a profile's entries (allow, import): a new version. */
export function nextVersion(state: LearningState): LearningState {
  return { ...state, version: state.version + 1 };
}

export interface LearningProgress {
  /** 0..1: how far the window is, by the time it would close if nothing new came */
  fraction: number;
  elapsedNs: bigint;
  /** when it completes if nothing new is learned (or when it completed) */
  expectedEndNs: bigint;
  expectedBy: 'window' | 'max';
  minRemainingNs: bigint;
  quietRemainingNs: bigint;
  maxRemainingNs: bigint;
}

export function learningProgress(state: LearningState, nowNs: bigint): LearningProgress {
  if (state.status === 'completed') {
    return {
      fraction: 1,
      elapsedNs: state.completedAtNs - state.startedAtNs,
      expectedEndNs: state.completedAtNs,
      expectedBy: state.completedBy === 'max' ? 'max' : 'window',
      minRemainingNs: 0n,
      quietRemainingNs: 0n,
      maxRemainingNs: 0n,
    };
  }
  const end = windowEndNs(state);
  const elapsed = maxOf(0n, nowNs - state.startedAtNs);
  const total = maxOf(1n, end.atNs - state.startedAtNs);
  return {
    fraction: Math.min(1, Number((elapsed * 1000n) / total) / 1000),
    elapsedNs: elapsed,
    expectedEndNs: end.atNs,
    expectedBy: end.by,
    minRemainingNs: maxOf(0n, state.startedAtNs + state.window.minNs - nowNs),
    quietRemainingNs: maxOf(0n, state.lastNewAtNs + state.window.quietNs - nowNs),
    maxRemainingNs: maxOf(0n, state.startedAtNs + state.window.maxNs - nowNs),
  };
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
