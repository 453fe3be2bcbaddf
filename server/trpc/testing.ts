import type { Db } from '../../db/client';
import { authConfigFromEnv } from '../auth/config';
import type { AuthOutcome, Principal } from '../auth/principal';
import type { Role } from '../auth/roles';
import { EventBatch, type Event, type SensorStatus, type Workload } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { ConfiguredSensor } from '../sensors/config';
import { noLiveSensors, type LiveSensorSource } from '../sensors/live';
import type { TRPCContext } from './context';
import { DEFAULT_ZOOM_POLICY, type ZoomPolicy } from '../zoom/policy';
import { getZoomService, type ZoomService } from '../zoom/service';

/**
 * Builders for API tests: a context with injected storage and sensors, and sensor events shaped
 * like the real sensor's (they test the API over real storage, not the sensor).
 */

/** A signed-in user of the given role, as a session would resolve it (for createCaller tests). */
export function testPrincipal(role: Role): Principal {
  return {
    kind: 'user',
    id: `test-${role}`,
    name: `${role}@test.invalid`,
    role,
    session: { idHash: `test-session-${role}`, createdAtNs: '0', expiresAtNs: '9000000000000000000', method: 'password' },
  };
}

/**
 * A context with injected storage, sensors and caller. `as` signs the caller in with a role
 * (or pass a full `principal`, or an `auth` outcome); with none of them the caller is anonymous
 * and every procedure answers UNAUTHORIZED.
 */
export function testContext(options: {
  db?: Db;
  getDb?: () => Promise<Db>;
  configured?: readonly ConfiguredSensor[];
  live?: LiveSensorSource;
  nowNs?: bigint;
  as?: Role;
  principal?: Principal;
  auth?: AuthOutcome;
  /** the zoom service (default: the process's, over the collector's links) */
  zooms?: ZoomService;
  zoomPolicy?: ZoomPolicy;
}): TRPCContext {
  const principal = options.principal ?? (options.as ? testPrincipal(options.as) : null);
  const outcome: AuthOutcome = options.auth ?? (principal ? { ok: true, principal } : { ok: false, failure: 'missing' });
  return {
    getDb: options.getDb ?? (async () => {
      if (!options.db) throw new Error('this test gave no database');
      return options.db;
    }),
    configuredSensors: () => options.configured ?? [],
    liveSensors: async () => options.live ?? noLiveSensors,
    now: () => options.nowNs ?? BigInt(Date.now()) * 1_000_000n,
    headers: new Headers(),
    source: '',
    authenticate: async () => outcome,
    authConfig: () => authConfigFromEnv({}),
    zooms: () => options.zooms ?? getZoomService(),
    zoomPolicy: () => options.zoomPolicy ?? DEFAULT_ZOOM_POLICY,
  };
}

/** A node's events relative to `t0Ns` (recent, so the tables' 30-day TTL keeps them). */
export function eventFactory(node: string, t0Ns: bigint) {
  const ns = (offsetMs: number) => (t0Ns + BigInt(offsetMs) * 1_000_000n + 123n).toString();
  return {
    ns,
    exec(
      execId: string,
      parentExecId: string,
      pid: number,
      ppid: number,
      atMs: number,
      binary: string,
      argv: string[],
      extra: { uid?: number; seeded?: boolean; containerId?: string; cgroupPath?: string; workload?: Workload } = {},
    ): Event {
      return {
        seq: '0',
        tsNs: ns(atMs),
        node,
        execId,
        pid,
        tid: pid,
        body: {
          $case: 'exec',
          value: {
            parentExecId,
            ppid,
            uid: extra.uid ?? 1000,
            gid: 1000,
            auid: 1000,
            binary,
            argv,
            argvTruncated: false,
            cwd: '/home/analyst',
            comm: binary.split('/').at(-1)!,
            cgroupId: '4242',
            cgroupPath: extra.cgroupPath ?? (extra.containerId ? `/system.slice/docker-${extra.containerId}.scope` : '/user.slice'),
            container: { runtime: extra.containerId ? 'docker' : '', containerId: extra.containerId ?? '', podUid: '', podName: '', namespace: '' },
            seeded: extra.seeded ?? false,
            startNs: ns(atMs),
            workload: extra.workload,
          },
        },
      };
    },
    fork(execId: string, childPid: number, parentPid: number, atMs: number): Event {
      return { seq: '0', tsNs: ns(atMs), node, execId, pid: childPid, tid: childPid, body: { $case: 'fork', value: { childPid, parentPid } } };
    },
    exit(execId: string, pid: number, atMs: number, exitCode: number, signal = 0): Event {
      return { seq: '0', tsNs: ns(atMs), node, execId, pid, tid: pid, body: { $case: 'exit', value: { exitCode, signal } } };
    },
  };
}

/** A batch of consecutive sequence numbers from `firstSeq`. */
export function eventBatch(sensor: string, epoch: string, firstSeq: number, events: Event[], extra: Partial<EventBatch> = {}): EventBatch {
  return EventBatch.fromPartial({
    sensor,
    epoch,
    firstSeq: String(firstSeq),
    lastSeq: String(firstSeq + Math.max(events.length, 1) - 1),
    events: events.map((e, i) => ({ ...e, seq: String(firstSeq + i) })),
    ...extra,
  });
}

export function sensorStatus(fields: Partial<SensorStatus> & Pick<SensorStatus, 'sensor' | 'mode'>): SensorStatus {
  return {
    node: 'node-a',
    epoch: 'epoch-1',
    kernelRelease: '6.18.0-test',
    btfAvailable: true,
    programs: [],
    eventsTotal: '0',
    lastSeq: '0',
    oldestHeldSeq: '0',
    droppedKernel: '0',
    droppedUser: '0',
    uptimeNs: '0',
    // Not 0: storage cannot parse DateTime64 text for tiny epoch values (see the report).
    startedAtNs: '1700000000000000000',
    version: '0.1.0',
    recording: '',
    zooms: [],
    zoomProgramsAttached: 0,
    zoomNote: '',
    ...fields,
  };
}
