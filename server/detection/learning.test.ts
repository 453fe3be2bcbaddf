import { describe, expect, it } from 'vitest';
import { DetectorClock } from './clock';
import { DEFAULT_LEARNING_WINDOW, learningWindowFromEnv, parseDuration, type LearningWindow } from './config';
import { completeAt, dueCompletion, learnedAt, learningProgress, nextVersion, startLearning, windowEndNs } from './learning';

const S = 1_000_000_000n;
const T0 = 1_800_000_000n * S;
const WINDOW: LearningWindow = { minNs: 60n * S, quietNs: 20n * S, maxNs: 600n * S };

describe('learning window state machine', () => {
  it('completes after the minimum once nothing new came for the quiet period', () => {
    let s = startLearning(T0, WINDOW);
    expect(s).toMatchObject({ status: 'learning', version: 1, completedBy: 'none' });
    s = learnedAt(s, T0 + 10n * S);
    expect(dueCompletion(s, T0 + 59n * S)).toBeNull(); // minimum not reached
    expect(dueCompletion(s, T0 + 60n * S)).toEqual({ atNs: T0 + 60n * S, by: 'window' });
  });

  it('waits for the quiet period after the last new entry, even past the minimum', () => {
    let s = startLearning(T0, WINDOW);
    s = learnedAt(s, T0 + 55n * S);
    expect(dueCompletion(s, T0 + 60n * S)).toBeNull();
    expect(dueCompletion(s, T0 + 74n * S)).toBeNull();
    expect(dueCompletion(s, T0 + 75n * S)).toEqual({ atNs: T0 + 75n * S, by: 'window' });
    // Learning again restarts the quiet period.
    s = learnedAt(s, T0 + 74n * S);
    expect(dueCompletion(s, T0 + 75n * S)).toBeNull();
    expect(windowEndNs(s)).toEqual({ atNs: T0 + 94n * S, by: 'window' });
  });

  it('closes at the maximum for a profile that keeps learning', () => {
    let s = startLearning(T0, WINDOW);
    for (let t = 0n; t < 600n; t += 10n) s = learnedAt(s, T0 + t * S);
    expect(dueCompletion(s, T0 + 599n * S)).toBeNull();
    expect(dueCompletion(s, T0 + 600n * S)).toEqual({ atNs: T0 + 600n * S, by: 'max' });
  });

  it('versions: 1 while learning, +1 at completion and at each later change; completion is final', () => {
    let s = startLearning(T0, WINDOW);
    s = completeAt(s, T0 + 60n * S, 'window');
    expect(s).toMatchObject({ status: 'completed', version: 2, completedAtNs: T0 + 60n * S, completedBy: 'window' });
    expect(completeAt(s, T0 + 99n * S, 'max')).toBe(s);
    expect(learnedAt(s, T0 + 99n * S)).toBe(s);
    expect(dueCompletion(s, T0 + 999n * S)).toBeNull();
    expect(nextVersion(s).version).toBe(3);
  });

  it('reports progress for the page', () => {
    const s = learnedAt(startLearning(T0, WINDOW), T0 + 50n * S);
    const p = learningProgress(s, T0 + 35n * S);
    expect(p).toMatchObject({ expectedEndNs: T0 + 70n * S, expectedBy: 'window', minRemainingNs: 25n * S, quietRemainingNs: 35n * S, maxRemainingNs: 565n * S });
    expect(p.fraction).toBeCloseTo(0.5, 2);
    expect(learningProgress(completeAt(s, T0 + 70n * S, 'window'), T0 + 999n * S)).toMatchObject({ fraction: 1, expectedEndNs: T0 + 70n * S });
  });
});

describe('learning window configuration', () => {
  it('has Kubescape-like defaults', () => {
    expect(learningWindowFromEnv({})).toEqual(DEFAULT_LEARNING_WINDOW);
    expect(DEFAULT_LEARNING_WINDOW).toEqual({ minNs: 600n * S, quietNs: 300n * S, maxNs: 86_400n * S });
  });

  it('reads durations from the environment', () => {
    expect(learningWindowFromEnv({ BASELINE_MIN_LEARNING: '4s', BASELINE_QUIET: '2500ms', BASELINE_MAX_LEARNING: '1.5m' })).toEqual({ minNs: 4n * S, quietNs: 2_500_000_000n, maxNs: 90n * S });
    expect(parseDuration('90')).toBe(90n * S);
    expect(parseDuration('2d')).toBe(172_800n * S);
    expect(parseDuration('ten minutes')).toBeNull();
  });

  it('refuses what cannot work, saying which variable', () => {
    expect(() => learningWindowFromEnv({ BASELINE_QUIET: 'soon' })).toThrow(/BASELINE_QUIET: not a duration/);
    expect(() => learningWindowFromEnv({ BASELINE_QUIET: '0s' })).toThrow(/BASELINE_QUIET must be more than 0/);
    expect(() => learningWindowFromEnv({ BASELINE_MIN_LEARNING: '2h', BASELINE_MAX_LEARNING: '1h' })).toThrow(/BASELINE_MAX_LEARNING/);
  });
});

describe('detector clock', () => {
  it('follows event time and advances in real time between events, never backwards', () => {
    let wall = 5_000n * S;
    const clock = new DetectorClock(() => wall);
    expect(clock.now()).toBe(5_000n * S); // no event yet: the wall clock
    clock.observe(1_000n * S); // a backlog: events an hour old
    expect(clock.now()).toBe(5_000n * S); // never backwards from what it said
    const fresh = new DetectorClock(() => wall);
    fresh.observe(1_000n * S);
    expect(fresh.now()).toBe(1_000n * S);
    wall += 3n * S;
    expect(fresh.now()).toBe(1_003n * S);
    fresh.observe(1_001n * S); // older than the watermark: ignored
    expect(fresh.now()).toBe(1_003n * S);
    fresh.observe(1_010n * S);
    expect(fresh.now()).toBe(1_010n * S);
  });
});
