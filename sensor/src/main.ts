import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { startSensorServer, type SensorBackend, type SensorServerHandle, type TlsMaterial } from './grpc/server';
import { LiveSensor } from './live';
import { createLogger } from './log';
import { CgroupScope } from './scope';
import { ReplaySensor, readRecording, RecordingError, startRecorder, type Recorder } from './recording';
import { readTlsMaterial, tlsPathsFromEnv, type TlsPaths } from './tls/material';
import { SENSOR_VERSION } from './version';
import { DEFAULT_ZOOM_POLICY, parseProbeList, type ZoomPolicy } from './zoom/policy';
import { inboundActive, resolveFactsOptions, type FactsOptions } from './kernel/facts';
import { factsOff, FactsFlagError, readPathClasses } from './kernel/factsFlags';

const USAGE = `Usage: npm run sensor -- [options]

  --listen HOST:PORT        where to serve gRPC (default localhost:50051; 0.0.0.0:PORT for remote cockpits)
  --name NAME               sensor name in every batch (default: this host's name)
  --tls-ca F --tls-cert F --tls-key F
                            mTLS files (or env SENSOR_TLS_CA / SENSOR_TLS_CERT / SENSOR_TLS_KEY);
                            create them with: npm run certs -- --out DIR
  --record FILE             live mode: also write every batch sent to FILE (a recording)
  --replay FILE             serve a recording instead of the kernel
  --speed N|max             replay pacing: N times the recorded pace (default 1), max = no pacing
  --shift-to-now            replay: rebase timestamps so the recording ends now (new epoch)
  --scope-cgroup PATH       live: report only process images of this cgroup v2 subtree
                            (e.g. /kubepods.slice/...); everything else is left out, also of --record
  --ring-buffer-mib N       live: kernel ring buffer size
  --retain-events N         events held for resume (default 262144)
  --retain-mib N            approximate memory held for resume (default 128)
  --zoom-probes LIST        live: probe sets zoom orders may ask for (default all:
                            IO_URING,NETWORK,FILES,CODE,CHILDREN; "" allows none)
  --zoom-max-ttl-s N        live: longest zoom (default 600 s)
  --zoom-max-events N       live: largest event budget of one zoom (default 1000000)
  --zoom-max-rate N         live: highest events/s of one zoom (default 10000)
  --zoom-max-concurrent N   live: zooms at once (default 8, at most 16)
  --facts-off LIST          live: first-seen facts to switch off, comma-separated, of syscalls,
                            io_uring, endpoints, inbound, files, counters (default: all on). With
                            syscalls, files, counters and inbound off no program runs per syscall
  --counters-interval-s N   live: activity counters period (default 10)
  --path-classes FILE       live: sensitive path classes, JSON [{"name": .., "patterns": [..]}]
                            (default: service-account tokens, shadow, cloud credentials, keys,
                            kube config)

Live mode needs eBPF (root or CAP_BPF+CAP_PERFMON); when it cannot load, the sensor says why and
exits with status 1. SIGTERM/SIGINT detach and exit 0. Zoom orders (ZoomIn) are bounded by the
--zoom-* limits whoever sends them; zooms end with the sensor process.`;

const log = createLogger('sensor');

interface Args {
  listen: string;
  /** Unset: the host's name live, the recorded name in replay. */
  name?: string;
  tls: TlsPaths | null;
  record?: string;
  replay?: string;
  speed: number;
  shiftToNow: boolean;
  scopeCgroup?: string;
  ringBufferBytes?: number;
  retainEvents?: number;
  retainBytes?: number;
  zoomPolicy: ZoomPolicy;
  facts: FactsOptions;
}

class UsageError extends Error {}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: 'localhost:50051' },
      name: { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      record: { type: 'string' },
      replay: { type: 'string' },
      speed: { type: 'string' },
      'shift-to-now': { type: 'boolean', default: false },
      'scope-cgroup': { type: 'string' },
      'ring-buffer-mib': { type: 'string' },
      'retain-events': { type: 'string' },
      'retain-mib': { type: 'string' },
      'zoom-probes': { type: 'string' },
      'zoom-max-ttl-s': { type: 'string' },
      'zoom-max-events': { type: 'string' },
      'zoom-max-rate': { type: 'string' },
      'zoom-max-concurrent': { type: 'string' },
      'facts-off': { type: 'string' },
      'counters-interval-s': { type: 'string' },
      'path-classes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(values.listen)) {
    throw new UsageError(`--listen must be HOST:PORT, got "${values.listen}"`);
  }
  if (values.record && values.replay) throw new UsageError('--record and --replay exclude each other');
  if (!values.replay && (values.speed || values['shift-to-now'])) throw new UsageError('--speed and --shift-to-now need --replay');
  if (values.replay && values['scope-cgroup']) throw new UsageError('--scope-cgroup applies to live mode only');
  if (values['scope-cgroup'] !== undefined && !values['scope-cgroup'].startsWith('/')) {
    throw new UsageError(`--scope-cgroup must be an absolute cgroup v2 path, got "${values['scope-cgroup']}"`);
  }
  const flagTls = [values['tls-ca'], values['tls-cert'], values['tls-key']];
  let tls: TlsPaths | null;
  if (flagTls.some(Boolean)) {
    if (!flagTls.every(Boolean)) throw new UsageError('--tls-ca, --tls-cert and --tls-key go together');
    tls = { ca: values['tls-ca']!, cert: values['tls-cert']!, key: values['tls-key']! };
  } else {
    tls = tlsPathsFromEnv('SENSOR_TLS');
  }
  const zoomPolicy: ZoomPolicy = { ...DEFAULT_ZOOM_POLICY };
  if (values['zoom-probes'] !== undefined) {
    try {
      zoomPolicy.allowedProbes = parseProbeList(values['zoom-probes']);
    } catch (e) {
      throw new UsageError(`--zoom-probes: ${(e as Error).message}`);
    }
  }
  zoomPolicy.maxTtlS = count(values['zoom-max-ttl-s'], '--zoom-max-ttl-s') ?? zoomPolicy.maxTtlS;
  zoomPolicy.defaultTtlS = Math.min(zoomPolicy.defaultTtlS, zoomPolicy.maxTtlS);
  zoomPolicy.maxEvents = count(values['zoom-max-events'], '--zoom-max-events') ?? zoomPolicy.maxEvents;
  zoomPolicy.maxEventsPerS = count(values['zoom-max-rate'], '--zoom-max-rate') ?? zoomPolicy.maxEventsPerS;
  zoomPolicy.maxConcurrent = count(values['zoom-max-concurrent'], '--zoom-max-concurrent') ?? zoomPolicy.maxConcurrent;
  if (zoomPolicy.maxConcurrent > 16) throw new UsageError('--zoom-max-concurrent is at most 16');
  let facts: FactsOptions;
  try {
    facts = factsOff(values['facts-off'] ?? '');
    if (values['path-classes'] !== undefined) facts.pathClasses = readPathClasses(values['path-classes']);
  } catch (e) {
    if (e instanceof FactsFlagError) throw new UsageError(e.message);
    throw e;
  }
  const countersS = count(values['counters-interval-s'], '--counters-interval-s');
  if (countersS !== undefined) {
    if (facts.countersIntervalMs === 0) throw new UsageError('--counters-interval-s with counters in --facts-off');
    facts.countersIntervalMs = countersS * 1000;
  }
  if (values.replay && (values['facts-off'] !== undefined || countersS !== undefined || facts.pathClasses)) {
    throw new UsageError('--facts-off, --counters-interval-s and --path-classes apply to live mode only');
  }
  const speed = values.speed === undefined ? 1 : values.speed === 'max' ? Infinity : Number(values.speed);
  if (!(speed > 0)) throw new UsageError(`--speed must be a number > 0 or "max", got "${values.speed}"`);
  return {
    listen: values.listen,
    name: values.name,
    tls,
    record: values.record,
    replay: values.replay,
    speed,
    shiftToNow: values['shift-to-now'],
    scopeCgroup: values['scope-cgroup'],
    ringBufferBytes: mib(values['ring-buffer-mib'], '--ring-buffer-mib'),
    retainEvents: count(values['retain-events'], '--retain-events'),
    retainBytes: mib(values['retain-mib'], '--retain-mib'),
    zoomPolicy,
    facts,
  };
}

function count(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

function mib(value: string | undefined, flag: string): number | undefined {
  const n = count(value, flag);
  return n === undefined ? undefined : n * 1024 * 1024;
}

/** The pids whose activity is the sensor's own: this process and the tsx wrapper that runs it. */
function ownPids(): number[] {
  const pids = [process.pid];
  try {
    const parent = readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8');
    if (parent.includes('tsx')) pids.push(process.ppid);
  } catch {
    // no /proc: only ourselves
  }
  return pids;
}

async function main(): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!args.tls) {
    log.error('cannot start: TLS required', {
      reason: 'no --tls-ca/--tls-cert/--tls-key and no SENSOR_TLS_CA/SENSOR_TLS_CERT/SENSOR_TLS_KEY; create them with npm run certs -- --out DIR',
    });
    return 2;
  }
  const tlsPaths = args.tls;
  const readTls = () => {
    try {
      return readTlsMaterial(tlsPaths);
    } catch (err) {
      log.error('cannot start: TLS files unreadable', { reason: (err as Error).message });
      return null;
    }
  };
  let tls: TlsMaterial | null = null;
  const journal = { retainEvents: args.retainEvents, retainBytes: args.retainBytes };

  let backend: SensorBackend;
  let stopBackend: () => Promise<void>;
  let recorder: Recorder | null = null;

  if (args.replay) {
    let recording;
    try {
      recording = await readRecording(args.replay);
    } catch (err) {
      log.error('cannot replay', { file: args.replay, reason: (err as Error).message });
      return err instanceof RecordingError ? 1 : 2;
    }
    tls = readTls();
    if (!tls) return 2;
    const replay = new ReplaySensor({
      recording,
      name: args.name,
      speed: args.speed,
      shiftToNow: args.shiftToNow,
      logger: log,
    });
    backend = replay;
    void replay.start();
    stopBackend = async () => replay.stop();
  } else {
    const { probeKernel, KernelEventSource } = await import('./kernel/source');
    const probe = probeKernel();
    if (!probe.ok) {
      log.error('cannot start: eBPF unavailable', { reason: probe.reason });
      return 1;
    }
    tls = readTls();
    if (!tls) return 2;
    const node = os.hostname();
    const own = ownPids();
    const live = new LiveSensor({
      name: args.name ?? node,
      node,
      journal,
      logger: log,
      scope: args.scopeCgroup ? new CgroupScope(args.scopeCgroup) : undefined,
      zoomPolicy: args.zoomPolicy,
      ownPids: own,
      createSource: (onEvents, hooks) =>
        new KernelEventSource({ node, ringBufferBytes: args.ringBufferBytes, onEvents, ownPids: own, zoomIds: hooks.zoomIds, facts: args.facts }),
    });
    if (args.record) {
      live.recordingNote = `recording to ${args.record}`;
    }
    if (args.scopeCgroup) log.info('scope', { cgroup: args.scopeCgroup });
    const facts = resolveFactsOptions(args.facts);
    log.info('first-seen facts', {
      syscalls: facts.syscalls,
      ioUring: facts.ioUring,
      endpoints: facts.endpoints,
      inbound: inboundActive(facts),
      files: facts.files,
      countersIntervalS: facts.countersIntervalMs / 1000,
      pathClasses: facts.pathClasses.map((c) => c.name),
    });
    try {
      await live.start();
    } catch (err) {
      log.error('cannot start: eBPF programs did not load', { reason: (err as Error).message });
      await live.stop().catch(() => {});
      return 1;
    }
    if (args.record) {
      const st = live.status();
      recorder = startRecorder({
        file: args.record,
        journal: live.journal,
        node,
        kernelRelease: st.kernelRelease,
        startedAtNs: st.startedAtNs,
        logger: log,
      });
      const file = args.record;
      recorder.done().catch((err: unknown) => {
        // The sensor keeps serving; Status tells the cockpit the recording stopped.
        live.recordingNote = `recording to ${file} FAILED: ${(err as Error).message}`;
      });
    }
    backend = live;
    stopBackend = () => live.stop();
  }

  let server: SensorServerHandle;
  try {
    server = await startSensorServer({ backend, listen: args.listen, tls, logger: log });
  } catch (err) {
    log.error('cannot listen', { listen: args.listen, reason: (err as Error).message });
    await stopBackend();
    return 1;
  }
  const status = backend.status();
  log.info('sensor ready', { version: SENSOR_VERSION, sensor: status.sensor, epoch: status.epoch, mode: status.mode, port: server.port });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      void (async () => {
        try {
          await stopBackend();
          await recorder?.done().catch(() => {});
          await server.close();
          resolve(0);
        } catch (err) {
          log.error('shutdown failed', { error: (err as Error).message });
          resolve(1);
        }
      })();
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.error('fatal', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
