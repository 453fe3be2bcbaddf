import type { Db } from '../../db/client';
import { factFoldHistory, factFoldKeyOf, type FactAdmission, type FactFoldHistory } from '../../db/repositories/sensorStream';
import type { Event, Fact } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * Folds repeated facts at storage. The sensors report first-seen facts per process *image*, so a
 * workload that starts the same short-lived executable every few seconds reports the same dozens
 * of facts for every image. Storage keeps a fact the first time its (workload, executable, kind,
 * key) is seen within a fold window and counts the repeats (sensor_batches.facts_folded) instead
 * of storing them. The node is implicit: one fold per sensor link, and a sensor watches one node.
 *
 * Who is unaffected, and why: the detector (baseline learning, its quiet period, indicators)
 * picks facts from the stream before storage (server/collector/link.ts, UnitObserver), and a
 * profile entry is a (workload, executable, kind, value): its first occurrence is always stored.
 * Who sees fewer rows: readers of one image's stored facts (an investigation's timeline), for
 * images whose facts repeat another image's of the same executable in the same window.
 *
 * Exactly once through collector crashes: a unit that is redone must encode the same rows, so the
 * fold's state at any seq must follow from storage alone. It does, because it is a function of the
 * rows stored before that seq in the sensor epoch (the fold restarts with each epoch):
 * - windows are tumbling and read from the stream's own times: window = floor(ts / windowNs); the
 *   current window is the newest among facts seen, and the first fact of a newer window is always
 *   stored (the window's state starts empty), so it is the newest window among *stored* facts;
 * - the window's keys are those of the facts stored since the first stored fact of that window
 *   (any fact stored is either a new key or one the full key set could not take), the first
 *   `maxKeys` of them in seq order: a full set takes no more keys, it does not evict (eviction by
 *   recency would depend on folded repeats that storage does not hold);
 * - an image's executable comes from its exec event: the last `maxExecs` distinct images by their
 *   exec event's seq (process_events holds every exec event).
 * The collector keeps the fold in memory while the stream is continuous, and rebuilds it from
 * storage (FactFold.fromHistory) when a unit starts anywhere else: at (re)connect, after a unit
 * was dropped, at a gap.
 */

export interface FactFoldOptions {
  /** Window length in ms (0: no folding, every fact stored). */
  windowMs: number;
  /** Distinct keys remembered per window (a bound on memory; beyond it, facts are stored). */
  maxKeys: number;
  /** Images whose executable is remembered. */
  maxExecs: number;
}

export const DEFAULT_FACT_FOLD: FactFoldOptions = { windowMs: 600_000, maxKeys: 100_000, maxExecs: 65_536 };

/** Rows fetched around a window's start: Number(ts) may round a time by up to 128 ns across it. */
export const WINDOW_SLACK_NS = 1_000_000n;

/** The fold of `sensor`'s `epoch` as it was right before `firstSeq`, rebuilt from storage. */
export async function loadFactFold(db: Db, opts: FactFoldOptions, sensor: string, epoch: string, firstSeq: number): Promise<FactFold> {
  const probe = new FactFold(opts, epoch, firstSeq);
  const history = await factFoldHistory(db, {
    sensor,
    epoch,
    beforeSeq: String(firstSeq),
    maxExecs: opts.maxExecs,
    windowStartNs: (ts) => probe.windowStartNs(ts),
    slackNs: WINDOW_SLACK_NS,
  });
  return FactFold.fromHistory(opts, epoch, firstSeq, history);
}

export class FactFold implements FactAdmission {
  private readonly windowNs: number;
  private window = -Infinity;
  private readonly keys = new Set<string>();
  private readonly execs = new Map<string, string>();
  /** Facts folded since the fold was made (statistics). */
  folded = 0;
  /** The seq the fold expects next: the stream is continuous while units start there. */
  nextSeq: number;

  constructor(
    private readonly opts: FactFoldOptions,
    readonly epoch: string,
    firstSeq: number,
  ) {
    this.windowNs = opts.windowMs * 1_000_000;
    this.nextSeq = firstSeq;
  }

  /** The fold as it was before `firstSeq` of `epoch`, from what storage holds (sensorStream.ts). */
  static fromHistory(opts: FactFoldOptions, epoch: string, firstSeq: number, history: FactFoldHistory): FactFold {
    const fold = new FactFold(opts, epoch, firstSeq);
    for (const exec of history.execs) fold.exec(exec.execId, exec.binary);
    if (history.facts.length === 0 || history.watermarkNs === null) return fold;
    fold.window = fold.windowOf(history.watermarkNs);
    let inWindow = false;
    for (const row of history.facts) {
      if (!inWindow) {
        if (fold.windowOf(row.tsNs) !== fold.window) continue;
        inWindow = true;
      }
      if (fold.keys.size < opts.maxKeys) fold.keys.add(factFoldKeyOf(row));
    }
    return fold;
  }

  /** Where the window of a time starts (ns). */
  windowStartNs(tsNs: string): bigint {
    return BigInt(this.windowOf(tsNs)) * BigInt(this.windowNs);
  }

  /** The window a time (decimal ns) falls in. Number(ts) rounds the same way every time. */
  windowOf(tsNs: string): number {
    return Math.floor(Number(tsNs) / this.windowNs);
  }

  /** The window of the first fact stored and folded (null before any). */
  get currentWindow(): number | null {
    return this.window === -Infinity ? null : this.window;
  }

  exec(execId: string, binary: string): void {
    const execs = this.execs;
    execs.delete(execId);
    execs.set(execId, binary);
    if (execs.size > this.opts.maxExecs) execs.delete(execs.keys().next().value!);
  }

  binaryOf(execId: string): string {
    return this.execs.get(execId) ?? '';
  }

  admit(event: Event, fact: Fact, binary: string): boolean {
    const window = this.windowOf(event.tsNs);
    if (window > this.window) {
      this.window = window;
      this.keys.clear();
    }
    const key = factFoldKeyOf({ workload: fact.workload, binary, execId: event.execId, kind: fact.kind, name: fact.name, abi: fact.abi, direction: fact.direction, via: fact.via, path: fact.path });
    if (this.keys.has(key)) {
      this.folded++;
      return false;
    }
    if (this.keys.size < this.opts.maxKeys) this.keys.add(key);
    return true;
  }
}
