import { getDb, type Db } from '../../db/client';
import { nowNs } from '../../db/time';
import { authenticateHeaders } from '../auth/authenticate';
import { authConfig, type AuthConfig } from '../auth/config';
import type { AuthOutcome } from '../auth/principal';
import { sourceAddress } from '../http/request';
import { configuredSensorsFromEnv, type ConfiguredSensor } from '../sensors/config';
import { getLiveSensorSource, type LiveSensorSource } from '../sensors/live';
import { zoomPolicy, type ZoomPolicy } from '../zoom/policy';
import { getZoomService, type ZoomService } from '../zoom/service';

/**
 * What every procedure can reach. Dependencies are functions, resolved on first use: a request
 * that fails validation never opens storage, and tests inject a test database and fake sensors
 * (`createCaller({ getDb: async () => testDb, ... })`).
 */
export interface TRPCContext {
  /** The storage handle; rejects with StorageUnavailableError when storage cannot be opened. */
  getDb: () => Promise<Db>;
  /** The sensors this cockpit is configured to watch (env SENSORS). */
  configuredSensors: () => readonly ConfiguredSensor[];
  /** The collector's live view of the sensors (empty when no collector runs in this process). */
  liveSensors: () => Promise<LiveSensorSource>;
  /** Wall clock in nanoseconds; injectable so tests can pin "now". */
  now: () => bigint;
  /** Request headers. */
  headers: Headers;
  /** The client's address as the cockpit sees it (audit log); '' for in-process callers. */
  source: string;
  /**
   * Who is calling: the API token (`Authorization: Bearer`) or the session cookie, resolved once
   * per request. The procedure guard (init.ts) calls it; procedures read `ctx.principal`.
   */
  authenticate: () => Promise<AuthOutcome>;
  /** Session, token and lockout settings. */
  authConfig: () => AuthConfig;
  /** The zoom service (orders and cancels reach sensors through it); tests inject their own. */
  zooms: () => ZoomService;
  /** The zoom policy in force (throws ZoomPolicyError when its file is invalid). */
  zoomPolicy: () => ZoomPolicy;
}

/** The context of an HTTP request (route handler) or a server component (server-side caller). */
export async function createTRPCContext(opts: { headers: Headers }): Promise<TRPCContext> {
  const source = sourceAddress(opts.headers);
  let outcome: Promise<AuthOutcome> | undefined;
  return {
    getDb,
    configuredSensors: () => configuredSensorsFromEnv(),
    liveSensors: getLiveSensorSource,
    now: nowNs,
    headers: opts.headers,
    source,
    authenticate: () =>
      (outcome ??= getDb().then((db) => authenticateHeaders(opts.headers, { db, now: nowNs, config: authConfig() }, source))),
    authConfig,
    zooms: getZoomService,
    zoomPolicy: () => zoomPolicy(),
  };
}
