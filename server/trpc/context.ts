import { getDb, type Db } from '../../db/client';
import { nowNs } from '../../db/time';
import { configuredSensorsFromEnv, type ConfiguredSensor } from '../sensors/config';
import { getLiveSensorSource, type LiveSensorSource } from '../sensors/live';

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
  /** Request headers (authentication will read its session or token from here). */
  headers: Headers;
}

/** The context of an HTTP request (route handler) or a server component (server-side caller). */
export async function createTRPCContext(opts: { headers: Headers }): Promise<TRPCContext> {
  return {
    getDb,
    configuredSensors: () => configuredSensorsFromEnv(),
    liveSensors: getLiveSensorSource,
    now: nowNs,
    headers: opts.headers,
  };
}
