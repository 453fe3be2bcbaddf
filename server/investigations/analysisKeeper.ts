import type { Db } from '../../db/client';
import { investigationsWithZoomsEnded } from '../../db/repositories/zooms';
import { nowNs as clockNs } from '../../db/time';
import type { Logger } from '../../sensor/src/log';
import { SETTLE_NS, storeAnalysis } from './storedAnalysis';

/**
 * The analysis keeper: once an investigation's zooms have ended (and SETTLE_NS more, for evidence
 * still in flight), it analyses the investigation's evidence once and stores the views
 * (storedAnalysis.ts), so that the analyst's first view reads one row instead of analysing up to a
 * zoom's whole budget of rows. It runs in the cockpit process beside the collector (the process
 * that stores evidence), one investigation at a time, so a burst of ended zooms costs one core at
 * most. Whatever it misses (the cockpit was down when a zoom ended) the first view computes and
 * stores the same way.
 */

const NS_PER_S = 1_000_000_000n;
/** At start, zooms that ended this long ago are looked at too (ended while the cockpit was down). */
const LOOKBACK_NS = 3600n * NS_PER_S;
/** Investigations handled per pass at most (the rest in the next pass). */
const PER_PASS = 50;

export interface KeeperPass {
  /** zoom ends looked at: (fromNs, toNs] */
  fromNs: string;
  toNs: string;
  /** oldest zoom end first */
  results: Array<{ investigationId: string; endedNs: string; outcome: 'stored' | 'current' | 'unsettled' | 'failed'; computeMs: number; evidenceRows: number; error?: string }>;
  /** PER_PASS investigations were found: more may have ended after the last one */
  full: boolean;
}

/** Stores the analysis of every investigation whose zooms ended in (fromNs, toNs]. */
export async function storeSettledAnalyses(db: Db, range: { fromNs: string; toNs: string }, nowNs: bigint): Promise<KeeperPass> {
  const ended = await investigationsWithZoomsEnded(db, { ...range, limit: PER_PASS });
  const results: KeeperPass['results'] = [];
  for (const { investigationId, endedNs } of ended) {
    try {
      results.push({ investigationId, endedNs, ...(await storeAnalysis(db, investigationId, nowNs)) });
    } catch (err) {
      results.push({ investigationId, endedNs, outcome: 'failed', computeMs: 0, evidenceRows: 0, error: (err as Error).message });
    }
  }
  return { ...range, results, full: ended.length >= PER_PASS };
}

export interface AnalysisKeeperOptions {
  db: () => Promise<Db>;
  log: Logger;
  /** how often it looks for ended zooms (default 10 s) */
  intervalMs?: number;
  now?: () => bigint;
}

/** Starts the keeper; returns its stop (waits for the pass under way). */
export function startAnalysisKeeper(options: AnalysisKeeperOptions): () => Promise<void> {
  const now = options.now ?? clockNs;
  const intervalMs = options.intervalMs ?? 10_000;
  let since = now() - LOOKBACK_NS;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();

  const pass = async () => {
    const at = now();
    const until = at - SETTLE_NS;
    if (until <= since) return;
    const db = await options.db();
    const done = await storeSettledAnalyses(db, { fromNs: since.toString(), toNs: until.toString() }, at);
    const failed = done.results.filter((r) => r.outcome === 'failed');
    // The next pass starts after what this one covered: all of it, or up to the last end it handled
    // when it found as many as it handles at once. A failure is not tried again here: the first
    // view of that investigation computes and stores it (and says so in the log if it fails too).
    since = done.full ? BigInt(done.results.at(-1)!.endedNs) : until;
    for (const r of done.results.filter((x) => x.outcome === 'stored')) options.log.info('investigation analysis stored', { investigationId: r.investigationId, computeMs: Math.round(r.computeMs), evidenceRows: r.evidenceRows });
    for (const r of failed) options.log.warn('investigation analysis not stored (its first view will analyse it)', { investigationId: r.investigationId, error: r.error });
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch((err: unknown) => options.log.warn('analysis keeper pass failed (tried again)', { error: (err as Error).message }))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
