/**
 * `npm run scenario` — the reference attack on this machine, end to end, in a few minutes:
 *
 *   1. a cockpit of its own (production build in .next-scenario, embedded storage and
 *      certificates in a temporary directory, the scenario's service map, short learning windows)
 *      and the live eBPF sensor, scoped to the scenario's cgroup subtree;
 *   2. the C2 listener in a network namespace at 10.203.0.2:9443 ("ledger-sync.payments" in the
 *      service map), the victim service and its steady traffic in cgroups of their own;
 *   3. waits for the victim's baseline to complete (baselines API), applies the malicious update
 *      (POST /admin/upgrade: the victim loads the io_uring implant), waits for the io_uring
 *      indicator, its investigation and zoom, and enough beacons to measure their period;
 *   4. prints the investigation's permalink and an account to sign in with, and keeps everything
 *      running until Ctrl-C — then stops and removes all it started.
 *
 *   npm run scenario [-- --port 3300] [--record FILE] [--period-ms 2000] [--learning 8s --quiet 4s] [--skip-build]
 *
 * --record FILE: the sensor also records (only the scenario's processes: --scope-cgroup) and the
 * run ends once the evidence shows the beacon period; the recording is moved to FILE. That is how
 * e2e/fixtures/recordings/io-uring-exfiltration.socrec is made; next to it, FILE with .truth.json
 * instead of .socrec holds what the C2 received (the truth the e2e test compares the cockpit's
 * measurements with).
 * --skip-build: use the existing build in .next-scenario as it is.
 *
 * The API is read with a token (role analyst) made by the CLI through the cockpit's admin socket
 * (the cockpit holds the embedded data directory: chDB allows one process per directory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CockpitApi, tokenSend, type BaselineSummary, type DestinationSummary, type IndicatorSummary, type InvestigationSummary } from './api';
import { runTsx, stop, type Started } from '../support/processes';
import { C2, C2_SERVICE_NAME, DEFAULT_BEACON_PERIOD_MS, freePort, Scenario, scenarioPrerequisites, SERVICE_MAP_FILE } from './harness';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const NEXT = path.join(ROOT, 'node_modules', '.bin', 'next');
const DIST_DIR = '.next-scenario';

const say = (line: string) => console.log(`[scenario] ${line}`);

interface Args {
  port: number;
  record: string | null;
  periodMs: number;
  learning: string;
  quiet: string;
  skipBuild: boolean;
}

function parse(): Args {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3300' },
      record: { type: 'string' },
      'period-ms': { type: 'string', default: String(DEFAULT_BEACON_PERIOD_MS) },
      learning: { type: 'string', default: '8s' },
      quiet: { type: 'string', default: '4s' },
      'skip-build': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  const periodMs = Number(values['period-ms']);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${values.port}`);
  if (!Number.isInteger(periodMs) || periodMs < 200 || periodMs > 60_000) throw new Error('--period-ms must be 200..60000');
  if (values.record && !values.record.endsWith('.socrec')) throw new Error('--record FILE must end with .socrec');
  return { port, record: values.record ? path.resolve(values.record) : null, periodMs, learning: values.learning, quiet: values.quiet, skipBuild: values['skip-build'] };
}

const children: Started[] = [];

function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  children.push({ name, child, output: () => tail(logFile) });
  return child;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined>, hint: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last})` : ''}${hint()}`);
}

function tail(file: string, lines = 15): string {
  if (!fs.existsSync(file)) return '';
  return `\n--- ${file} ---\n${fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')}`;
}

/** The cockpit build in .next-scenario, rebuilt when a source is newer than it. */
async function ensureBuild(logs: string): Promise<void> {
  const buildId = path.join(ROOT, DIST_DIR, 'BUILD_ID');
  const built = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  const newer = (dir: string): boolean =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).some((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return e.name !== 'node_modules' && newer(rel);
      return /\.(tsx?|css|json)$/.test(e.name) && fs.statSync(path.join(ROOT, rel)).mtimeMs > built;
    });
  if (built && !['app', 'components', 'server', 'db'].some(newer)) return;
  say(`building the cockpit into ${DIST_DIR} (next build, about a minute)`);
  const log = path.join(logs, 'build.log');
  const child = startChild('next build', NEXT, ['build'], { ...process.env, NEXT_DIST_DIR: DIST_DIR }, log);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`next build failed${tail(log, 40)}`);
}

async function main(): Promise<number> {
  const args = parse();
  // Paths of the checkout (tsx, scripts) are relative to its root, wherever this was started from.
  process.chdir(ROOT);
  const { probeKernel } = await import('../../sensor/src/kernel/source');
  const kernel = probeKernel();
  if (!kernel.ok) {
    say(`eBPF is unavailable here, so the live scenario cannot run: ${kernel.reason}`);
    say('It needs root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN), BTF (/sys/kernel/btf/vmlinux) and the built sensor (scripts/bootstrap.sh).');
    say('Without eBPF, the e2e suite replays the recording of this scenario (e2e/fixtures/recordings/io-uring-exfiltration.socrec).');
    return 1;
  }
  const missing = scenarioPrerequisites();
  if (missing) {
    say(`cannot run: ${missing}`);
    return 1;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-scenario-'));
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs);
  const cgroup = `/soc-scenario-${process.pid}`;
  const scenario = new Scenario({ dir, cgroup, victimPort: await freePort(), beaconPeriodMs: args.periodMs, log: say });
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await scenario.stop();
      for (const entry of [...children].reverse()) await stop(entry);
      // Only the logs stay (storage, certificates and the copies of the pieces go).
      for (const entry of fs.readdirSync(dir)) if (entry !== 'logs') fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
      say(`logs kept in ${logs}`);
    })());
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping everything the scenario started`);
    void cleanup().then(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    if (!args.skipBuild) await ensureBuild(logs);
    const certs = path.join(dir, 'certs');
    await runTsx('sensor/src/certs-cli.ts', ['--out', certs], process.env);
    const tlsArgs = ['--tls-ca', `${certs}/ca.crt`, '--tls-cert', `${certs}/sensor.crt`, '--tls-key', `${certs}/sensor.key`];

    // The sensor, scoped to the scenario's subtree (made now, so the scope exists).
    await scenario.startC2();
    const sensorPort = await freePort();
    const recording = path.join(dir, 'scenario.socrec');
    const sensorLog = path.join(logs, 'sensor.log');
    startChild('sensor', TSX, ['sensor/src/main.ts', '--listen', `localhost:${sensorPort}`, '--name', 'scenario', '--scope-cgroup', cgroup, ...(args.record ? ['--record', recording] : []), ...tlsArgs], process.env, sensorLog);
    await waitFor('the sensor', 30_000, async () => (/"sensor ready"/.test(fs.existsSync(sensorLog) ? fs.readFileSync(sensorLog, 'utf8') : '') ? true : null), () => tail(sensorLog));
    say(`sensor ready (scoped to cgroup ${cgroup}${args.record ? `, recording` : ''})`);

    const cockpitEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NEXT_DIST_DIR: DIST_DIR,
      CHDB_PATH: path.join(dir, 'chdb'),
      SENSORS: `scenario=localhost:${sensorPort}`,
      COCKPIT_TLS_CA: `${certs}/ca.crt`,
      COCKPIT_TLS_CERT: `${certs}/cockpit.crt`,
      COCKPIT_TLS_KEY: `${certs}/cockpit.key`,
      SERVICE_MAP_FILE,
      BASELINE_MIN_LEARNING: args.learning,
      BASELINE_QUIET: args.quiet,
      BASELINE_MAX_LEARNING: '10m',
      COLLECTOR_STATUS_INTERVAL_MS: '1000',
    };
    const cockpitLog = path.join(logs, 'cockpit.log');
    startChild('cockpit', NEXT, ['start', '--port', String(args.port)], cockpitEnv, cockpitLog);
    const base = `http://localhost:${args.port}`;
    await waitFor(`the cockpit on ${base}`, 60_000, async () => ((await fetch(`${base}/login`)).ok ? true : null), () => tail(cockpitLog));
    say(`cockpit on ${base}`);

    const email = `analyst-${process.pid}@scenario.local`;
    const user = JSON.parse((await runTsx('server/auth/cli.ts', ['users', 'create', '--email', email, '--role', 'analyst', '--json'], cockpitEnv)).trim().split('\n').at(-1)!) as { password: string };
    const created = JSON.parse((await runTsx('server/auth/cli.ts', ['tokens', 'create', '--name', `scenario-${process.pid}`, '--role', 'analyst', '--expires', '1d', '--json'], cockpitEnv)).trim().split('\n').at(-1)!) as { token: string };
    const api = new CockpitApi(tokenSend(base, created.token));

    await scenario.startVictim();
    say(`victim running (cgroup ${scenario.victimCgroup}), steady traffic started; learning its baseline (${args.learning} at least, then ${args.quiet} without anything new)`);
    const victimWorkload = `cgroup${scenario.victimCgroup}`;
    await waitFor('the victim\'s baseline to complete', 120_000, async () => {
      const { workloads } = await api.query<{ workloads: BaselineSummary[] }>('baselines.list');
      return workloads.find((w) => w.workload === victimWorkload && w.status === 'completed') ?? null;
    }, () => tail(cockpitLog));
    say('baseline completed; applying the malicious update (POST /admin/upgrade)');
    const upgraded = await scenario.upgrade();
    say(`victim now runs release ${upgraded.release}: the implant beacons every ${args.periodMs} ms to ${C2.address}:${C2.port}`);

    const indicator = await waitFor('the io_uring indicator', 60_000, async () => {
      const now = BigInt(Date.now()) * 1_000_000n;
      const window = { from: String(now - 3_600_000_000_000n), to: String(now + 60_000_000_000n) };
      const { indicators } = await api.query<{ indicators: IndicatorSummary[] }>('indicators.list', { workload: victimWorkload, ...window });
      return indicators.find((i) => i.value === 'io_uring_setup') ?? null;
    }, () => tail(cockpitLog));
    say(`indicator: ${indicator.sentence}`);
    const investigation = await waitFor('its investigation', 30_000, async () => {
      const { investigations } = await api.query<{ investigations: InvestigationSummary[] }>('investigations.list', { indicatorId: indicator.id });
      return investigations.find((i) => i.zooms > 0) ?? null;
    }, () => tail(cockpitLog));
    say(`investigation ${investigation.id}: zoomed in on ${investigation.execId}`);
    // Enough contacts for the beaconing analysis to call the train periodic (it needs ≥ 5), more
    // in a recording so that a replay shows a steady rhythm.
    const beats = args.record ? 10 : 6;
    const destination = await waitFor(`${beats} beacons in the evidence`, beats * args.periodMs + 60_000, async () => {
      const { destinations } = await api.query<{ destinations: DestinationSummary[] }>('investigations.network', { id: investigation.id });
      return destinations.find((d) => d.address === C2.address && d.port === C2.port && d.contacts >= beats && d.intervalMedianMs !== null) ?? null;
    }, () => tail(cockpitLog));
    say(`beaconing to ${destination.service ?? 'an unknown service'} (${C2_SERVICE_NAME} expected): ${destination.contacts} contacts, median interval ${destination.intervalMedianMs} ms (C2 measured ${scenario.truePeriodMs()} ms), payload ${destination.payloadFormat}`);

    if (args.record) {
      // Two more beats so the recording ends with the beacon still running, then close it.
      await new Promise((r) => setTimeout(r, 2 * args.periodMs));
      await scenario.stop();
      const sensor = children.find((c) => c.name === 'sensor')!;
      await stop(sensor);
      fs.mkdirSync(path.dirname(args.record), { recursive: true });
      fs.copyFileSync(recording, args.record);
      const frames = scenario.frames();
      const truth = {
        about: 'what the C2 listener received while the scenario was recorded (npm run scenario -- --record FILE)',
        beaconPeriodMs: args.periodMs,
        c2MedianIntervalMs: scenario.truePeriodMs(),
        frames: frames.length,
        frameBytes: frames[0]?.bytes ?? null,
        magic: frames[0]?.magic ?? null,
        tokenBytes: frames[0]?.tokenBytes ?? null,
        c2: { address: C2.address, port: C2.port, service: C2_SERVICE_NAME },
        victim: { workload: victimWorkload, tokenPath: scenario.tokenPath, implant: scenario.implantPath },
      };
      fs.writeFileSync(args.record.replace(/\.socrec$/, '.truth.json'), JSON.stringify(truth, null, 2) + '\n');
      say(`recorded ${fs.statSync(args.record).size} bytes to ${args.record} (${frames.length} beacons received by the C2, median interval ${truth.c2MedianIntervalMs} ms)`);
      await cleanup();
      return 0;
    }
    say('');
    say(`permalink: ${base}/investigations/${investigation.id}`);
    say(`sign in as ${email} with password ${user.password}`);
    say('Ctrl-C stops the victim, the C2, the sensor and the cockpit and removes what the scenario made.');
    await new Promise<never>(() => undefined);
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
    await cleanup();
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[scenario] ${(err as Error).message}`);
    process.exit(2);
  },
);
