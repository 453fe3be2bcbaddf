import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * The reference attack as processes: the command-and-control listener in a network namespace at
 * an internal-looking address, the victim service and its steady traffic in cgroups of their own
 * (one subtree, so a sensor can be scoped to it), the implant built from source, and the upgrade
 * that loads it. Used by the runner (`npm run scenario`, e2e/scenario/run.ts) and by the live e2e
 * test (e2e/scenario.spec.ts). Needs root (cgroups, network namespaces).
 */

const HERE = path.dirname(new URL(import.meta.url).pathname);

/** Where the C2 lives: a /30 between this host and the namespace (see netns.sh). */
export const C2 = { namespace: 'soc-c2', hostCidr: '10.203.0.1/30', nsCidr: '10.203.0.2/30', address: '10.203.0.2', port: 9443 } as const;

/** The service map naming the C2's address like one more internal service (SERVICE_MAP_FILE). */
export const SERVICE_MAP_FILE = path.join(HERE, 'service-map.yaml');
/** The name it gives the C2 (what the investigation must show). */
export const C2_SERVICE_NAME = 'ledger-sync.payments';

/** Beacon period the implant is configured with (the truth is what the C2 logs). */
export const DEFAULT_BEACON_PERIOD_MS = 2000;

export interface ScenarioOptions {
  /** Working directory for logs, the token, the data file and the built implant. */
  dir: string;
  /** cgroup v2 path of the scenario's subtree (e.g. /soc-scenario-1234): victim, traffic and c2 below it. */
  cgroup: string;
  victimPort: number;
  beaconPeriodMs?: number;
  /** How often the traffic generator calls the victim (default 200 ms). */
  trafficIntervalMs?: number;
  log?: (line: string) => void;
}

export interface C2Frame {
  atMs: number;
  bytes: number;
  magic: string;
  seq: number;
  tokenBytes: number;
}

/** Why the scenario cannot run here (null: it can). eBPF itself is the caller's to probe. */
export function scenarioPrerequisites(): string | null {
  if (process.getuid?.() !== 0) return 'the scenario needs root (cgroups, a network namespace for the C2, eBPF)';
  if (!cgroup2Root()) return 'no cgroup v2 hierarchy is mounted';
  for (const [tool, why] of [['ip', 'iproute2, for the C2 namespace'], ['gcc', 'gcc, to build the implant']] as const) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is missing (${why}): run scripts/bootstrap.sh as root`;
    }
  }
  if (!fs.existsSync('/usr/include/liburing.h')) return 'liburing-dev is missing (the implant uses liburing): run scripts/bootstrap.sh as root';
  if (!fs.existsSync(path.join(nodeInclude(), 'node_api.h'))) return `Node's headers are missing (${nodeInclude()}/node_api.h), needed to build the implant`;
  return null;
}

function nodeInclude(): string {
  return path.resolve(process.execPath, '../../include/node');
}

export function cgroup2Root(): string | null {
  try {
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
    const line = mounts.split('\n').find((l) => l.split(' ')[2] === 'cgroup2');
    return line ? line.split(' ')[1]! : null;
  } catch {
    return null;
  }
}

/** Builds the implant (a Node-API module in C) once per source version; returns the .node path. */
export function buildImplant(): string {
  const source = path.join(HERE, 'implant', 'implant.c');
  const hash = createHash('sha256').update(fs.readFileSync(source)).digest('hex').slice(0, 12);
  const out = path.join(os.tmpdir(), `soc-scenario-implant-${hash}.node`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('gcc', ['-O2', '-g', '-shared', '-fPIC', `-I${nodeInclude()}`, '-o', tmp, source, '-luring', '-lpthread'], { stdio: 'pipe' });
    fs.renameSync(tmp, out);
  }
  return out;
}

/** A started piece of the scenario. */
interface Piece {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * The running scenario. `stop()` ends every process it started, removes its cgroups and the C2's
 * namespace (also when called twice, or after a failed start).
 */
export class Scenario {
  readonly tokenPath: string;
  readonly implantPath: string;
  readonly victimCgroup: string;
  readonly trafficCgroup: string;
  readonly c2Cgroup: string;
  readonly beaconPeriodMs: number;
  private readonly pieces: Piece[] = [];
  private readonly root: string;
  private readonly app: string;
  private readonly c2Log: string;
  private readonly log: (line: string) => void;
  private stopped = false;

  constructor(private readonly opts: ScenarioOptions) {
    const root = cgroup2Root();
    if (!root) throw new Error('no cgroup v2 hierarchy is mounted');
    this.root = root;
    this.log = opts.log ?? (() => undefined);
    this.beaconPeriodMs = opts.beaconPeriodMs ?? DEFAULT_BEACON_PERIOD_MS;
    this.victimCgroup = `${opts.cgroup}/victim`;
    this.trafficCgroup = `${opts.cgroup}/traffic`;
    this.c2Cgroup = `${opts.cgroup}/c2`;
    // A projected-token-like path: what the implant steals (any **/serviceaccount/token is one).
    this.tokenPath = path.join(opts.dir, 'secrets', 'kubernetes.io', 'serviceaccount', 'token');
    this.c2Log = path.join(opts.dir, 'c2.log');
    // The pieces run from a copy in the working directory, so that no path of the checkout ends up
    // in what the sensor records (argv, mapped files).
    this.app = path.join(opts.dir, 'app');
    fs.mkdirSync(this.app, { recursive: true });
    for (const file of ['victim/server.mjs', 'victim/traffic.mjs', 'c2/listener.mjs']) fs.copyFileSync(path.join(HERE, file), path.join(this.app, path.basename(file)));
    this.implantPath = path.join(this.app, 'fasthash.node');
    fs.copyFileSync(buildImplant(), this.implantPath);
  }

  /** Starts the C2 listener in its namespace (and waits until it listens). */
  async startC2(): Promise<void> {
    for (const cg of [this.opts.cgroup, this.victimCgroup, this.trafficCgroup, this.c2Cgroup]) fs.mkdirSync(this.root + cg, { recursive: true });
    execFileSync('bash', [path.join(HERE, 'netns.sh'), 'up', C2.namespace, C2.hostCidr, C2.nsCidr], { stdio: 'pipe' });
    this.start('c2', this.c2Cgroup, ['ip', 'netns', 'exec', C2.namespace, process.execPath, path.join(this.app, 'listener.mjs')], { C2_LISTEN: `${C2.address}:${C2.port}` }, this.c2Log);
    await waitForLine(this.c2Log, /"c2 listening"/, 10_000);
  }

  /** Starts the victim (release 1.0) and its steady traffic. */
  async startVictim(): Promise<void> {
    fs.mkdirSync(path.dirname(this.tokenPath), { recursive: true });
    // A service-account-style token: a JWT's shape (header.payload.signature), nothing valid.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'RS256', kid: 'scenario' })}.${b64({ iss: 'https://kubernetes.default.svc', sub: 'system:serviceaccount:shop:inventory', aud: ['https://kubernetes.default.svc'] })}.${'c2NlbmFyaW8'.repeat(8)}`;
    fs.writeFileSync(this.tokenPath, token, { mode: 0o600 });
    const data = path.join(this.opts.dir, 'inventory.json');
    fs.writeFileSync(data, JSON.stringify([
      { id: 'sku-1', name: 'espresso beans', stock: 12 },
      { id: 'sku-2', name: 'milk frother', stock: 3 },
    ]));
    const victimLog = path.join(this.opts.dir, 'victim.log');
    // Started the way a container starts an app: an entrypoint shell that runs node (so the
    // victim's ancestry has its own parent inside the scope: sh → node).
    this.start('victim', this.victimCgroup, ['/bin/sh', '-c', `${process.execPath} "$@"; exit $?`, 'victim-entrypoint', path.join(this.app, 'server.mjs')], {
      VICTIM_PORT: String(this.opts.victimPort),
      VICTIM_DATA: data,
      VICTIM_RELEASE: '1.0',
      VICTIM_NATIVE_MODULE: this.implantPath,
      SOC_IMPLANT_TOKEN: this.tokenPath,
      SOC_IMPLANT_C2: `${C2.address}:${C2.port}`,
      SOC_IMPLANT_PERIOD: String(this.beaconPeriodMs),
    }, victimLog);
    await waitForLine(victimLog, /"victim listening"/, 10_000);
    this.start('traffic', this.trafficCgroup, [process.execPath, path.join(this.app, 'traffic.mjs')], {
      VICTIM_PORT: String(this.opts.victimPort),
      TRAFFIC_INTERVAL_MS: String(this.opts.trafficIntervalMs ?? 200),
    }, path.join(this.opts.dir, 'traffic.log'));
  }

  /** The malicious update: the running victim loads release 1.1's native module. */
  async upgrade(): Promise<{ release: string }> {
    const response = await fetch(`http://127.0.0.1:${this.opts.victimPort}/admin/upgrade`, { method: 'POST' });
    if (!response.ok) throw new Error(`upgrade failed: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as { release: string };
  }

  /** The frames the C2 received so far (the truth the cockpit's measurements are compared with). */
  frames(): C2Frame[] {
    if (!fs.existsSync(this.c2Log)) return [];
    return fs
      .readFileSync(this.c2Log, 'utf8')
      .split('\n')
      .flatMap((line) => {
        try {
          const parsed = JSON.parse(line) as { msg?: string } & C2Frame;
          return parsed.msg === 'frame' ? [parsed] : [];
        } catch {
          return [];
        }
      });
  }

  /** The median interval between received frames (ms), null with fewer than two. */
  truePeriodMs(): number | null {
    const at = this.frames().map((f) => f.atMs);
    const gaps = at.slice(1).map((t, i) => t - at[i]!).sort((a, b) => a - b);
    return gaps.length === 0 ? null : gaps[Math.floor(gaps.length / 2)]!;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.pieces.map(async (piece) => {
        piece.child.kill('SIGTERM');
        const timer = setTimeout(() => piece.child.kill('SIGKILL'), 3000);
        await piece.exited;
        clearTimeout(timer);
      }),
    );
    // Anything still in the subtree (nothing should be) is killed, then the cgroups go.
    for (const cg of [this.victimCgroup, this.trafficCgroup, this.c2Cgroup, this.opts.cgroup]) {
      const dir = this.root + cg;
      if (!fs.existsSync(dir)) continue;
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      } catch {
        // cgroup.kill needs 5.14+; the processes were ended above anyway.
      }
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    try {
      execFileSync('bash', [path.join(HERE, 'netns.sh'), 'down', C2.namespace], { stdio: 'pipe' });
    } catch (err) {
      this.log(`could not remove the C2 namespace: ${(err as Error).message}`);
    }
  }

  /**
   * Starts `argv` inside `cgroup` (a mover shell puts itself there, then execs the command, so the
   * command's exec already carries the cgroup), from / (no path of the caller's in its cwd).
   */
  private start(name: string, cgroup: string, argv: string[], env: Record<string, string>, logFile: string): void {
    const out = fs.openSync(logFile, 'a');
    const child = spawn('bash', ['-c', 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"', 'mover', this.root + cgroup, ...argv], {
      cwd: '/',
      // Only what the piece needs (no cockpit or test settings leak into the workload).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } as unknown as NodeJS.ProcessEnv,
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    void exited.then((code) => {
      if (!this.stopped) this.log(`${name} exited (${code}) — see ${logFile}`);
    });
    this.pieces.push({ name, child, exited });
  }
}

async function waitForLine(file: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && pattern.test(fs.readFileSync(file, 'utf8'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${pattern} in ${file}:\n${fs.existsSync(file) ? fs.readFileSync(file, 'utf8').slice(-2000) : '(no output)'}`);
}

/** A free TCP port on 127.0.0.1 (for the victim, which listens there). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
