/**
 * What the cockpit's analysis keeper (server/investigations/analysisKeeper.ts) does once zooms
 * end, done for the benchmark dataset, whose rows were generated rather than streamed by a
 * collector: the reference investigations' analyses computed and stored (with --all: every
 * investigation's, as the keeper's passes would have over the dataset's week), unless the stored
 * one is current.
 *
 *   npx tsx bench/dataset/store-analyses.ts [--path /tmp/soc-bench-investigations] [--all]
 *
 * Prints one JSON line: what was stored, and the stored analyses' size on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeDb, openDb, type Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { nowNs } from '../../db/time';
import { storeSettledAnalyses } from '../../server/investigations/analysisKeeper';
import { storeAnalysis } from '../../server/investigations/storedAnalysis';
import { DEFAULT_DATASET_PATH, MANIFEST } from './manifest';

/** The stored analyses on disk, merged. */
async function tableSize(db: Db): Promise<{ analyses: number; bytesOnDisk: number }> {
  await db.client.command({ query: 'OPTIMIZE TABLE investigation_analyses FINAL' });
  const [r] = await selectRows<{ rows: string; bytes: string }>(db, {
    sql: `SELECT toString(sum(rows)) AS rows, toString(sum(bytes_on_disk)) AS bytes FROM system.parts WHERE database = currentDatabase() AND table = 'investigation_analyses' AND active`,
    tag: 'bench',
  });
  return { analyses: Number(r?.rows ?? 0), bytesOnDisk: Number(r?.bytes ?? 0) };
}

const { values } = parseArgs({ options: { path: { type: 'string', default: DEFAULT_DATASET_PATH }, all: { type: 'boolean', default: false } } });
const dir = path.resolve(values.path!);

async function main(): Promise<void> {
  const db = await openDb({ mode: 'embedded', chdbPath: dir, database: 'default' });
  try {
    if (!values.all) {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as { investigations: Array<{ id: string }> };
      const results = [];
      for (const inv of manifest.investigations) results.push({ id: inv.id, ...(await storeAnalysis(db, inv.id, nowNs())) });
      console.log(JSON.stringify({ results, ...(await tableSize(db)) }));
      return;
    }
    // Every zoom end up to now, PER_PASS investigations at a time (the keeper's passes).
    let from = '0';
    const to = (nowNs() - 60_000_000_000n).toString();
    let stored = 0;
    let current = 0;
    for (;;) {
      const pass = await storeSettledAnalyses(db, { fromNs: from, toNs: to }, nowNs());
      for (const r of pass.results) {
        if (r.outcome === 'stored') stored++;
        else if (r.outcome === 'current') current++;
        else console.error(JSON.stringify(r));
      }
      if (!pass.full) break;
      from = pass.results.at(-1)!.endedNs;
    }
    console.log(JSON.stringify({ stored, current, ...(await tableSize(db)) }));
  } finally {
    await closeDb(db);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
