/**
 * Ingest benchmark: sensor → gRPC (mTLS) → collector → embedded ClickHouse, on this machine.
 *
 *   npx tsx bench/ingest.bench.ts [--processes N] [--runs N] [--recording FILE] [--save-recording FILE]
 *                                 [--detector on|off] [--fact-fold-s 0,600] [--throughput-only]
 *   (root: the live sensor loads eBPF; --recording replays that file instead of recording a new
 *   storm, to compare code changes on the same input; --save-recording keeps the one recorded;
 *   --detector off measures the collector without the detector it runs by default; --fact-fold-s
 *   lists fold windows (server/collector/factFold.ts; 0: every fact stored) that the throughput
 *   runs take in turn, so that folding is compared with storing every fact in the same invocation;
 *   --throughput-only skips steps 3 and 4)
 *
 * 1. Records a real load with the live sensor (root, eBPF): a posix_spawn storm of /bin/true
 *    (fork + exec + exit per process), written with --record.
 * 2. Throughput, --runs times: replays that recording at full speed (--speed max --shift-to-now)
 *    into a collector storing to a fresh embedded ClickHouse directory; reports sustained events/s
 *    from the first to the last stored unit (and from the collector's start), checks that every
 *    recorded event is stored exactly once, and splits the CPU time used meanwhile by thread
 *    (Linux /proc): the collector's JavaScript thread (gRPC, protobuf decode, validation, unit
 *    bookkeeping, row encoding), the engine's threads (chDB: inserts on libuv threads and its own
 *    pool, background merges), and the replaying sensor process.
 * 3. Delay: with the live sensor and the collector running and the storm going on in the
 *    background, starts marked processes and measures the time until each is queryable through
 *    the repository the API uses (searchProcesses): p50 / p95.
 * 4. Costs per event, each part alone on the recorded events: protobuf decode, canonical rows,
 *    RowBinary encoding (JavaScript), and the engine's insert of the encoded units.
 *
 * Prints one JSON object. Not a test: no assertions on time. Figures go to docs/BENCHMARKS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeDb, openDb, type Db } from '../db/client';
import { rowBinaryEncoder } from '../db/encoding';
import { runInsert, selectRows } from '../db/query';
import { searchProcesses } from '../db/repositories/processes';
import { processEventRow } from '../db/repositories/sensorStream';
import { processEvents } from '../db/schema/tables';
import { getCollectorState, startCollector, stopCollector } from '../server/collector/collector';
import { silentLogger } from '../sensor/src/log';
import { EventBatch } from '../sensor/gen/soc/sensor/v1/sensor';
import { DEFAULT_FACT_FOLD } from '../server/collector/factFold';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    recording: { type: 'string' },
    'save-recording': { type: 'string' },
    detector: { type: 'string', default: 'on' },
    'fact-fold-s': { type: 'string', default: String(DEFAULT_FACT_FOLD.windowMs / 1000) },
    'throughput-only': { type: 'boolean', default: false },
  },
});
const FOLD_WINDOWS_S = values['fact-fold-s'].split(',').map((v) => Number(v.trim()));
if (FOLD_WINDOWS_S.some((w) => !Number.isInteger(w) || w < 0)) throw new Error(`--fact-fold-s: whole seconds ≥ 0, comma-separated (got ${values['fact-fold-s']})`);
const PROCESSES = Number(values.processes);
const RUNS = Math.max(1, Number(values.runs));
const repo = path.resolve(import.meta.dirname, '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-ingest-bench-'));
const tsx = path.join(repo, 'node_modules/.bin/tsx');
const children: ChildProcess[] = [];

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startSensor(name: string, args: string[], port: number): Promise<ChildProcess> {
  const log = path.join(work, `${name}.log`);
  // `node --import tsx` rather than the tsx binary: the sensor is then this child itself, whose
  // CPU time /proc reports.
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', 'sensor/src/main.ts', '--listen', `localhost:${port}`, '--name', name,
      '--tls-ca', `${work}/certs/ca.crt`, '--tls-cert', `${work}/certs/sensor.crt`, '--tls-key', `${work}/certs/sensor.key`,
      ...args,
    ],
    { cwd: repo, stdio: ['ignore', fs.openSync(log, 'w'), fs.openSync(log, 'a')] },
  );
  children.push(child);
  for (let i = 0; i < 200; i++) {
    if (fs.readFileSync(log, 'utf8').includes('"sensor ready"')) return child;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`sensor ${name} did not start:\n${fs.readFileSync(log, 'utf8')}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function storedEvents(db: Db): Promise<{ rows: number; seqs: number; units: number }> {
  const rows = await selectRows<{ rows: string; seqs: string; units: string }>(db, {
    sql: `SELECT count() AS rows, uniqExact(epoch, seq) AS seqs, (SELECT count() FROM sensor_batches) AS units FROM process_events`,
    tag: 'bench',
  });
  return { rows: Number(rows[0]!.rows), seqs: Number(rows[0]!.seqs), units: Number(rows[0]!.units) };
}

/**
 * CPU milliseconds per thread group of a process: 'js' is the main thread; chDB's threads are
 * named (MergeMutate…, ThreadPool…); libuv workers (where chDB runs each query) and V8's helper
 * threads are all called "node".
 */
function threadCpu(pid: number): Record<string, number> {
  const tick = 1000 / 100; // USER_HZ
  const out: Record<string, number> = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const group = Number(tid) === pid ? 'js' : /^MergeMutate/.test(comm) ? 'merges' : comm === 'node' || /^libuv/.test(comm) ? 'libuv+v8' : 'engine';
      out[group] = (out[group] ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

function cpuDiff(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = Math.round(v - (before[k] ?? 0));
  return out;
}

/**
 * Events in a recording, counted in a child process (see throughputRun): all of them, and the
 * process lifecycle events among them (what process_events stores; the sensor may send other
 * kinds too).
 */
function countRecorded(file: string): { events: number; processEvents: number; batches: number } {
  const code = `import(${JSON.stringify(path.join(repo, 'sensor/src/recording.ts'))}).then(async (m) => {
    const r = await m.readRecording(${JSON.stringify(file)});
    const events = r.batches.flatMap((b) => b.events);
    const processEvents = events.filter((e) => ['exec', 'fork', 'exit'].includes(e.body?.$case)).length;
    console.log(JSON.stringify({ events: events.length, processEvents, batches: r.batches.length }));
  })`;
  return JSON.parse(execFileSync(tsx, ['--eval', code], { cwd: repo }).toString().trim());
}

/**
 * One replay into a fresh directory. Nothing else in this process holds decoded events: a
 * recording decoded and kept here made V8 tenure every decoded event of the collector too, and
 * doubled its garbage collection time (this process is the cockpit's stand-in).
 */
async function throughputRun(run: number, recordFile: string, recorded: number, recordedProcessEvents: number) {
  const db = await openDb({ mode: 'embedded', chdbPath: `${work}/chdb-throughput-${run}`, database: 'default' });
  const port = 50162 + run * 10;
  const replay = await startSensor(`bench-replay-${run}`, ['--replay', recordFile, '--speed', 'max', '--shift-to-now', '--retain-events', '4000000', '--retain-mib', '2048'], port);
  const cpuBefore = threadCpu(process.pid);
  const sensorBefore = threadCpu(replay.pid!);
  const started = performance.now();
  const foldS = FOLD_WINDOWS_S[run % FOLD_WINDOWS_S.length]!;
  startCollector({
    sensors: `bench-replay-${run}=localhost:${port}`, db, statusIntervalMs: 60_000, logger: silentLogger, detector: values.detector !== 'off',
    factFold: { ...DEFAULT_FACT_FOLD, windowMs: foldS * 1000 },
  });
  let firstStoredAt = 0;
  for (;;) {
    const link = getCollectorState().sensors[0]!;
    if (!firstStoredAt && link.eventsStored > 0) firstStoredAt = performance.now();
    if (link.eventsStored >= recorded) break;
    if (performance.now() - started > 600_000) throw new Error(`stalled at ${link.eventsStored}/${recorded}: ${link.lastError}`);
    await sleep(5);
  }
  const finishedAt = performance.now();
  const cpu = cpuDiff(cpuBefore, threadCpu(process.pid));
  const sensorCpu = cpuDiff(sensorBefore, threadCpu(replay.pid!));
  const link = getCollectorState().sensors[0]!;
  await stopCollector();
  await stopChild(replay);
  const stored = await storedEvents(db);
  const [facts] = await selectRows<{ n: string }>(db, { sql: 'SELECT toString(count()) AS n FROM facts', tag: 'bench' });
  await closeDb(db);
  const seconds = (finishedAt - firstStoredAt) / 1000;
  return {
    factFoldS: foldS,
    factsStored: Number(facts!.n),
    factsFolded: link.factsFolded,
    storedEvents: stored.rows,
    lost: recordedProcessEvents - stored.seqs,
    duplicated: stored.rows - stored.seqs,
    units: stored.units,
    batchesPerUnit: +(link.batchesStored / Math.max(1, link.unitsStored)).toFixed(1),
    seconds: +seconds.toFixed(2),
    eventsPerSecond: Math.round(recorded / seconds),
    eventsPerSecondFromStart: Math.round(recorded / ((finishedAt - started) / 1000)),
    cpuMs: { collector: cpu, sensor: sensorCpu.js ?? 0 },
  };
}

/**
 * Each part of the path alone over the recorded events, batch by batch as the collector does (so
 * that nothing survives long enough to cost the garbage collector more than it does there), in
 * µs of CPU per event: protobuf decode per stream event, canonical rows and RowBinary encoding per
 * process row, and the engine's insert of the encoded rows in 16 384-row units per process row
 * (insert threads only, the background merges that follow are not counted).
 */
async function partCosts(recordFile: string) {
  const { readFile } = await import('node:fs/promises');
  const { parseRecording } = await import('../sensor/src/recording');
  // The batches' wire bytes, re-encoded from the recording (then the decoded copy is dropped).
  const wire = parseRecording(recordFile, await readFile(recordFile)).batches.map((b) => Buffer.from(EventBatch.encode(b).finish()));
  const encoder = rowBinaryEncoder(processEvents);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let events = 0;
  let rows = 0;
  const pass = (withRows: boolean, withEncode: boolean): Buffer[] => {
    const bodies: Buffer[] = [];
    let sink = encoder.sink(16_384);
    events = 0;
    rows = 0;
    for (const bytes of wire) {
      const batch = EventBatch.decode(bytes);
      events += batch.events.length;
      if (!withRows) continue;
      for (const event of batch.events) {
        const row = processEventRow(event, 'bench', batch.epoch);
        if (!row) continue;
        rows++;
        if (!withEncode) continue;
        sink.add(row);
        if (sink.rows === 16_384) {
          bodies.push(sink.finish());
          sink = encoder.sink(16_384);
        }
      }
    }
    if (sink.rows > 0) bodies.push(sink.finish());
    return bodies;
  };
  const best = { decode: Infinity, decodeRows: Infinity, all: Infinity };
  let bodies: Buffer[] = [];
  for (let round = 0; round < 5; round++) {
    let t = cpu();
    pass(false, false);
    best.decode = Math.min(best.decode, cpu() - t);
    t = cpu();
    pass(true, false);
    best.decodeRows = Math.min(best.decodeRows, cpu() - t);
    t = cpu();
    bodies = pass(true, true);
    best.all = Math.min(best.all, cpu() - t);
  }
  const db = await openDb({ mode: 'embedded', chdbPath: `${work}/chdb-parts`, database: 'default' });
  let engine = Infinity;
  for (let round = 0; round < 3; round++) {
    await db.client.command({ query: 'TRUNCATE TABLE process_events' });
    const before = threadCpu(process.pid);
    let k = 0;
    for (const body of bodies) {
      await runInsert(
        db,
        { table: processEvents, format: 'RowBinary', columns: encoder.columns, structure: encoder.structure, rows: 1, body },
        { tag: 'bench', dedupToken: `parts:${round}:${k++}` },
      );
    }
    const used = cpuDiff(before, threadCpu(process.pid));
    engine = Math.min(engine, (used['libuv+v8'] ?? 0) + (used.engine ?? 0));
  }
  await closeDb(db);
  const per = (ms: number, n: number) => +((ms * 1000) / n).toFixed(2);
  return {
    events,
    processRows: rows,
    usPerStreamEvent: { protobufDecode: per(best.decode, events) },
    usPerProcessRow: {
      canonicalRow: per(Math.max(0, best.decodeRows - best.decode), rows),
      rowBinaryEncode: per(Math.max(0, best.all - best.decodeRows), rows),
      engineInsert16k: per(engine, rows),
    },
  };
}

async function main() {
  execFileSync('gcc', ['-O2', '-o', `${work}/spawn_storm`, path.join(repo, 'bench/programs/spawn_storm.c')]);
  execFileSync(tsx, ['sensor/src/certs-cli.ts', '--out', `${work}/certs`], { cwd: repo });
  process.env.COCKPIT_TLS_CA = `${work}/certs/ca.crt`;
  process.env.COCKPIT_TLS_CERT = `${work}/certs/cockpit.crt`;
  process.env.COCKPIT_TLS_KEY = `${work}/certs/cockpit.key`;

  // 1. Record a real load (or take the one given).
  let recordFile = `${work}/storm.socrec`;
  let stormSeconds = NaN;
  if (values.recording) {
    recordFile = path.resolve(values.recording);
  } else {
    const recorder = await startSensor('bench-recorder', ['--record', recordFile, '--retain-events', '4000000', '--retain-mib', '2048'], 50161);
    const t0 = performance.now();
    execFileSync(`${work}/spawn_storm`, [String(PROCESSES), '2']);
    stormSeconds = (performance.now() - t0) / 1000;
    await sleep(500);
    await stopChild(recorder);
    if (values['save-recording']) fs.copyFileSync(recordFile, path.resolve(values['save-recording']));
  }
  const recording = countRecorded(recordFile);
  const recorded = recording.events;

  // 2. Throughput: replay at full speed into a fresh embedded ClickHouse, a few times.
  const runs: Awaited<ReturnType<typeof throughputRun>>[] = [];
  for (let run = 0; run < RUNS; run++) {
    runs.push(await throughputRun(run, recordFile, recorded, recording.processEvents));
    console.error(JSON.stringify({ run, ...runs.at(-1) }));
  }

  const rates = runs.map((r) => r.eventsPerSecond);
  const byFold = Object.fromEntries(
    FOLD_WINDOWS_S.map((w) => {
      const of = runs.filter((r) => r.factFoldS === w).map((r) => r.eventsPerSecond);
      return [`${w}s`, { min: Math.min(...of), max: Math.max(...of), runs: of.length }];
    }),
  );
  const summary = {
    machine: { cpus: os.cpus().length, kernel: os.release(), loadAverage: os.loadavg().map((l) => +l.toFixed(2)) },
    recording: {
      processes: values.recording ? null : PROCESSES,
      file: values.recording ? path.basename(recordFile) : null,
      events: recorded,
      processEvents: recording.processEvents,
      batches: recording.batches,
      eventsPerBatch: +(recorded / recording.batches).toFixed(1),
      stormSeconds: Number.isNaN(stormSeconds) ? null : +stormSeconds.toFixed(2),
      recordedEventsPerSecond: Number.isNaN(stormSeconds) ? null : Math.round(recorded / stormSeconds),
    },
    throughput: { eventsPerSecond: { min: Math.min(...rates), max: Math.max(...rates) }, byFactFold: byFold, runs },
  };
  if (values['throughput-only']) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }

  // 3. Delay: live sensor → collector → queryable, with the storm in the background.
  const liveDb = await openDb({ mode: 'embedded', chdbPath: `${work}/chdb-delay`, database: 'default' });
  const live = await startSensor('bench-live', [], 50163);
  startCollector({ sensors: 'bench-live=localhost:50163', db: liveDb, statusIntervalMs: 60_000, logger: silentLogger });
  while (!getCollectorState().sensors[0]!.connected) await sleep(50);
  const background = spawn(`${work}/spawn_storm`, [String(Math.min(PROCESSES, 20000)), '1'], { stdio: 'ignore' });
  children.push(background);
  const delays: number[] = [];
  for (let i = 0; i < 60; i++) {
    const marker = `${4242 + i}.${process.pid}`;
    const spawnedAt = performance.now();
    const fromNs = ((BigInt(Date.now()) - 5000n) * 1_000_000n).toString();
    const child = spawn('/bin/sleep', [`0.${marker.replace('.', '')}`], { stdio: 'ignore' });
    children.push(child);
    for (;;) {
      const toNs = ((BigInt(Date.now()) + 5000n) * 1_000_000n).toString();
      const found = await searchProcesses(liveDb, { binary: 'sleep', pid: child.pid, fromNs, toNs, limit: 5 });
      if (found.length > 0) break;
      if (performance.now() - spawnedAt > 30_000) throw new Error('a marked process never became queryable');
      await sleep(5);
    }
    delays.push(performance.now() - spawnedAt);
    await sleep(100);
  }
  background.kill('SIGKILL');
  await stopCollector();
  await stopChild(live);
  await closeDb(liveDb);

  // 4. The parts alone (last: it decodes the whole recording in this process).
  const parts = await partCosts(recordFile);

  delays.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        ...summary,
        delayToQueryableMs: { samples: delays.length, p50: +percentile(delays, 50).toFixed(1), p95: +percentile(delays, 95).toFixed(1), max: +delays.at(-1)!.toFixed(1) },
        parts,
      },
      null,
      2,
    ),
  );
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });
