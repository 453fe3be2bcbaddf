/**
 * Investigation page queries on a large dataset: p95 of every panel's procedure, through the real
 * service functions the tRPC procedures call, on embedded ClickHouse (chDB).
 *
 *   npx tsx bench/dataset/generate.ts [--path DIR] [--events 100000000]     (once: the dataset)
 *   npx tsx bench/investigation-queries.bench.ts [--path DIR] [--runs 30] [--warmup 3] [--only warm|cold]
 *
 * First, what the cockpit's analysis keeper does once a zoom ended (server/investigations/
 * analysisKeeper.ts): each investigation's analysis is computed and stored (timed: the cost of a
 * first view that came before the keeper did); an analysis stored by an earlier run is current
 * and kept. Then, for each investigation the generator made (bench/dataset/signal.ts: a
 * budget-sized zoom, a medium and a small one, among the noise), each panel is called `runs`
 * times, twice over:
 * - cold: everything kept in memory forgotten first (the first view after a cockpit start: the
 *   analysis views are read from storage, not kept);
 * - warm: the analysis kept from an earlier view (it is kept while the evidence is unchanged; the
 *   storage queries all run again, and the 250 ms sharing between panels is waited out).
 * Then the analysis panels brushed to the middle tenth of the zooms' window, and the whole page,
 * cold and warm: every panel at once, as the browser asks, until the last answers.
 *
 * Baselines measured in the same run: the engine's round trip (`SELECT 1`) and each panel on the
 * small investigation, so the figures read as ratios too. Prints one JSON object; asserts nothing.
 * Figures go to docs/BENCHMARKS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeDb, openDb, type Db } from '../db/client';
import { selectRows } from '../db/query';
import { investigationAncestry } from '../server/investigations/ancestry';
import { investigationEvidenceTree } from '../server/investigations/evidenceTree';
import { latestInvestigationAnalysis } from '../db/repositories/investigationAnalyses';
import { forgetAnalyses, investigationScope } from '../server/investigations/analysis';
import { storeAnalysis } from '../server/investigations/storedAnalysis';
import { investigationCode, investigationDetail, investigationFiles, investigationNetwork } from '../server/investigations/service';
import { investigationTimeline } from '../server/investigations/timeline';
import { DEFAULT_DATASET_PATH, MANIFEST } from './dataset/manifest';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: DEFAULT_DATASET_PATH },
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    /** measure only warm or only cold calls */
    only: { type: 'string' },
  },
});
const dir = path.resolve(values.path!);
const RUNS = Math.max(1, Number(values.runs));
const WARMUP = Math.max(0, Number(values.warmup));
/** Longer than the services' shared-analysis window (server/investigations/service.ts). */
const COLD_GAP_MS = 260;

interface Manifest {
  investigations: Array<{ id: string; label: string; execId: string; evidenceEvents: number }>;
  tables: Record<string, { rows: number; bytes: number }>;
  generationSeconds: number;
}

const now = () => BigInt(Date.now()) * 1_000_000n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Panel = (db: Db, id: string) => Promise<unknown>;

/** The page's panels, each the service function its procedure calls (with the page's first inputs). */
const PANELS: Record<string, Panel> = {
  get: (db, id) => investigationDetail(db, id, now()),
  timeline: (db, id) => investigationTimeline(db, id, now()),
  ancestry: (db, id) => investigationAncestry(db, id),
  network: (db, id) => investigationNetwork(db, id, now()),
  files: (db, id) => investigationFiles(db, id, now()),
  code: (db, id) => investigationCode(db, id, now()),
  evidenceTree: (db, id) => investigationEvidenceTree(db, id, now()),
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(percentile(s, 50)), p95: r(percentile(s, 95)), max: r(s.at(-1) ?? NaN), n: s.length };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await work();
  return performance.now() - t;
}

async function main(): Promise<void> {
  const manifestFile = path.join(dir, MANIFEST);
  if (!fs.existsSync(manifestFile)) throw new Error(`no dataset at ${dir}: run bench/dataset/generate.ts first (or pass --path)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  const db = await openDb({ mode: 'embedded', chdbPath: dir, database: 'default' });
  try {
    // The machine's load, before and after: figures from a shared machine read differently.
    const loadBefore = os.loadavg();
    const roundTrip: number[] = [];
    for (let i = 0; i < RUNS; i++) roundTrip.push(await timed(() => selectRows(db, { sql: 'SELECT 1', tag: 'bench.round_trip' })));
    const floor = summary(roundTrip);

    // The keeper's work after the zooms ended: the analysis computed and stored once.
    const stored: Record<string, { outcome: string; computeMs: number; evidenceRows: number; storeMs: number; viewsBytes: number }> = {};
    for (const inv of manifest.investigations) {
      forgetAnalyses(db);
      let r: Awaited<ReturnType<typeof storeAnalysis>> | undefined;
      const storeMs = await timed(async () => void (r = await storeAnalysis(db, inv.id, now())));
      const row = await latestInvestigationAnalysis(db, inv.id);
      stored[inv.id] = { outcome: r!.outcome, computeMs: Math.round(r!.computeMs), evidenceRows: r!.evidenceRows, storeMs: Math.round(storeMs), viewsBytes: row?.views.length ?? 0 };
      console.error(`[bench] analysis of ${inv.id}: ${JSON.stringify(stored[inv.id])}`);
    }

    /** p50/p95 of `work` over RUNS calls after WARMUP, each after the sharing window (and, cold, with nothing kept). */
    const measure = async (work: () => Promise<unknown>, cold: boolean) => {
      const samples: number[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        await sleep(COLD_GAP_MS);
        if (cold) forgetAnalyses(db);
        const ms = await timed(work);
        if (i >= WARMUP) samples.push(ms);
      }
      return summary(samples);
    };
    // Warm first, for every investigation, then cold: the cold runs' garbage (hundreds of MB for
    // a budget-sized zoom) would otherwise land in the warm figures as collector pauses.
    const results: Record<string, Record<string, { cold?: ReturnType<typeof summary>; warm?: ReturnType<typeof summary> }>> = {};
    // Brushing: the analysis panels narrowed to the middle tenth of the zooms' window (cold: the
    // narrowed rows read from storage; warm: the kept analysis narrowed in memory).
    const brushed = new Map<string, { fromNs: string; toNs: string }>();
    for (const inv of manifest.investigations) {
      const { window } = await investigationScope(db, inv.id, now());
      if (!window) continue;
      const start = BigInt(window.startNs);
      const tenth = (BigInt(window.endNs) - start) / 10n;
      brushed.set(inv.id, { fromNs: (start + 4n * tenth).toString(), toNs: (start + 5n * tenth).toString() });
    }
    const works = (id: string) => {
      const b = brushed.get(id);
      const narrowed = b
        ? [
            ['network (brushed)', () => investigationNetwork(db, id, now(), b)] as const,
            ['files (brushed)', () => investigationFiles(db, id, now(), b)] as const,
            ['code (brushed)', () => investigationCode(db, id, now(), b)] as const,
          ]
        : [];
      return [
        ...Object.entries(PANELS).map(([name, panel]) => [name, () => panel(db, id)] as const),
        ...narrowed,
        ['page (all panels at once)', () => Promise.all(Object.values(PANELS).map((panel) => panel(db, id)))] as const,
      ];
    };
    const phases = (['warm', 'cold'] as const).filter((p) => !values.only || values.only === p);
    for (const phase of phases) {
      for (const inv of manifest.investigations) {
        const perPanel = (results[inv.id] ??= {});
        for (const [name, work] of works(inv.id)) {
          const figures = await measure(work, phase === 'cold');
          perPanel[name] = { ...perPanel[name], [phase]: figures };
          console.error(`[bench] ${phase} ${inv.id} ${name}: p50 ${figures.p50} ms, p95 ${figures.p95} ms`);
        }
      }
    }
    const small = manifest.investigations.at(-1)!.id;
    const ratios = Object.fromEntries(
      manifest.investigations.map((inv) => [
        inv.id,
        Object.fromEntries(
          Object.entries(results[inv.id]!).map(([panel, s]) => [
            panel,
            {
              ...(s.warm ? { warmVsRoundTrip: Math.round(s.warm.p95 / floor.p95) } : {}),
              ...(s.cold ? { coldVsSmallInvestigation: Math.round((s.cold.p95 / results[small]![panel]!.cold!.p95) * 10) / 10 } : {}),
            },
          ]),
        ),
      ]),
    );
    const eventRows = ['process_events', 'facts', 'io_uring_ops', 'socket_events', 'file_accesses', 'code_fingerprints'].reduce((n, t) => n + (manifest.tables[t]?.rows ?? 0), 0);
    console.log(
      JSON.stringify(
        {
          dataset: { path: dir, eventRows, generationSeconds: manifest.generationSeconds },
          runs: RUNS,
          loadAverage: { before: loadBefore, after: os.loadavg(), cores: os.cpus().length },
          roundTripMs: floor,
          storedAnalyses: stored,
          investigations: manifest.investigations.map((i) => ({ id: i.id, label: i.label, evidenceEvents: i.evidenceEvents })),
          latencyMs: results,
          ratios,
        },
        null,
        2,
      ),
    );
  } finally {
    await closeDb(db);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
