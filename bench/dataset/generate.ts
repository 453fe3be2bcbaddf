/**
 * Builds the investigation benchmark's dataset in a chDB data directory of its own (never the
 * cockpit's ./data):
 *
 *   npx tsx bench/dataset/generate.ts [--path /tmp/soc-bench-investigations] [--events 100000000]
 *        [--nodes 50] [--days 7] [--investigations 2000] [--force]
 *
 * - noise, generated inside ClickHouse (bench/dataset/noise.ts): `--events` rows over
 *   process_events, facts and the four evidence tables, on `--nodes` nodes over `--days` days,
 *   with `--investigations` noisy investigations (indicator, investigation, zoom, evidence);
 * - signal, written through the collector's path (bench/dataset/signal.ts): three investigations
 *   of the reference attack, from a budget-sized zoom to a short one.
 *
 * Prints the investigations to open and writes them to `<path>/investigation-bench.json` (read
 * by bench/investigation-queries.bench.ts). Point a cockpit at the directory to time the page:
 * `CHDB_PATH=<path> npm start`, then /investigations/<id>.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeDb, openDb } from '../../db/client';
import { selectRows } from '../../db/query';
import { DEFAULT_DATASET_PATH, MANIFEST } from './manifest';
import { generateNoise, Layout, type Shape } from './noise';
import { generateSignal } from './signal';


const { values } = parseArgs({
  options: {
    path: { type: 'string', default: DEFAULT_DATASET_PATH },
    events: { type: 'string', default: '100000000' },
    nodes: { type: 'string', default: '50' },
    days: { type: 'string', default: '7' },
    investigations: { type: 'string', default: '2000' },
    force: { type: 'boolean', default: false },
  },
});

const dir = path.resolve(values.path!);
const positive = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0 (got ${v})`);
  return n;
};
const shape: Shape = {
  events: positive('events', values.events),
  nodes: Math.max(1, positive('nodes', values.nodes)),
  days: Math.min(25, Math.max(1, positive('days', values.days))), // inside the event tables' 30-day TTL
  investigations: Math.max(1, positive('investigations', values.investigations)),
  endNs: (BigInt(Date.now()) / 1000n) * 1_000_000_000n,
};

async function main(): Promise<void> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    if (!values.force) throw new Error(`${dir} is not empty: pass --force to replace it, or another --path`);
    if (fs.existsSync(path.join(dir, 'status')) && !fs.existsSync(path.join(dir, MANIFEST))) {
      throw new Error(`${dir} holds a chDB directory that this generator did not make: refusing to remove it`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const log = (line: string) => console.error(`[dataset] ${line}`);
  const started = Date.now();
  const db = await openDb({ mode: 'embedded', chdbPath: dir, database: 'default' });
  try {
    const layout = new Layout(shape);
    log(`${shape.events.toLocaleString('en')} events on ${shape.nodes} nodes over ${shape.days} days, ${shape.investigations} noisy investigations, in ${dir}`);
    await generateNoise(db, shape, log);
    const noiseSeconds = (Date.now() - started) / 1000;
    const signal = await generateSignal(db, layout, log);
    const counts = await selectRows<{ table: string; rows: string; bytes: string; parts: string }>(db, {
      sql: `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts FROM system.parts
            WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table`,
      tag: 'bench.dataset.count',
    });
    const generationSeconds = (Date.now() - started) / 1000;
    const manifest = {
      shape: { ...shape, endNs: shape.endNs.toString() },
      generatedAt: new Date().toISOString(),
      generationSeconds,
      noiseSeconds,
      tables: Object.fromEntries(counts.map((c) => [c.table, { rows: Number(c.rows), bytes: Number(c.bytes), parts: Number(c.parts) }])),
      investigations: signal,
    };
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
    await closeDb(db);
    const du = execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split(/\s/)[0];
    const eventRows = ['process_events', 'facts', 'io_uring_ops', 'socket_events', 'file_accesses', 'code_fingerprints'].reduce((n, t) => n + (manifest.tables[t]?.rows ?? 0), 0);
    console.log(JSON.stringify({ path: dir, eventRows, diskBytes: Number(du), generationSeconds, investigations: signal.map((s) => ({ id: s.id, label: s.label })) }, null, 2));
    for (const s of signal) log(`open: /investigations/${s.id}  (${s.label})`);
  } catch (err) {
    await closeDb(db).catch(() => {});
    throw err;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
