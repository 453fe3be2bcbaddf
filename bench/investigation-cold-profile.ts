/**
 * Where the first (cold) view of an investigation spends its time: each stage of the analysis
 * path (server/investigations/service.ts `analyseNow`) timed on its own, on the benchmark dataset.
 *
 *   npx tsx bench/investigation-cold-profile.ts [--path DIR] [--id INVESTIGATION] [--runs 5]
 *
 * Stages: the investigation's scope (record, zooms, window), the evidence counts, the evidence
 * SELECTs (the four tables at once, the engine and the decoding of their answers; the service runs
 * them beside the counts when nothing is kept), the conversion to the analyzers' input, the
 * analyzers, the row index (built on first use). Defaults to the dataset's first (largest)
 * investigation. Prints one JSON object of medians (ms); asserts nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeDb, openDb } from '../db/client';
import { countInvestigationEvidence, loadInvestigationEvidence } from '../db/repositories/evidence';
import { parseExecId } from '../db/ids';
import { analyzeInvestigation, createFileClassifier } from '../server/analyzers';
import { toInvestigationEvidence } from '../server/investigations/evidence';
import { evidenceRows } from '../server/investigations/evidenceRows';
import { investigationScope } from '../server/investigations/analysis';
import { getServiceMap } from '../server/investigations/serviceMap';
import { DEFAULT_DATASET_PATH, MANIFEST } from './dataset/manifest';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: DEFAULT_DATASET_PATH },
    id: { type: 'string' },
    runs: { type: 'string', default: '5' },
  },
});
const dir = path.resolve(values.path!);
const RUNS = Math.max(1, Number(values.runs));

const now = () => BigInt(Date.now()) * 1_000_000n;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as { investigations: Array<{ id: string }> };
  const id = values.id ?? manifest.investigations[0]!.id;
  const db = await openDb({ mode: 'embedded', chdbPath: dir, database: 'default' });
  const samples = new Map<string, number[]>();
  const time = async <T>(stage: string, work: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const out = await work();
    const list = samples.get(stage) ?? [];
    list.push(performance.now() - t);
    samples.set(stage, list);
    return out;
  };
  let rows = 0;
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      const total = performance.now();
      const { record, window, range } = await time('scope', () => investigationScope(db, id, now()));
      if (!range) throw new Error(`investigation ${id} has no evidence range`);
      await time('counts', () => countInvestigationEvidence(db, { investigationId: id, ...range }));
      const stored = await time('load (4 tables at once)', () => loadInvestigationEvidence(db, { investigationId: id, ...range }));
      rows = stored.ioUring.length + stored.sockets.length + stored.files.length + stored.code.length;
      const pid = parseExecId(record.execId)?.pid;
      const evidence = await time('convert', () =>
        toInvestigationEvidence(stored, { ...(window ? { window } : {}), process: { execId: record.execId, ...(pid !== undefined ? { pid } : {}) } }),
      );
      await time('analyse', () => analyzeInvestigation(evidence, { serviceMap: getServiceMap().map, fileClassifier: createFileClassifier() }));
      // The index is built on first use (network, evidence tree): force it here.
      await time('row index', () => evidenceRows(stored).tsNs(''));
      (samples.get('total') ?? samples.set('total', []).get('total')!).push(performance.now() - total);
      if (i === 0) samples.clear(); // the first run warms the engine's caches and the JIT
    }
    const medians = Object.fromEntries([...samples].map(([stage, xs]) => [stage, Math.round(median(xs) * 10) / 10]));
    console.log(JSON.stringify({ id, evidenceRows: rows, runs: RUNS, medianMs: medians }, null, 2));
  } finally {
    await closeDb(db);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
