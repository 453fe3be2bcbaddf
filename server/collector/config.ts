import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_FACT_FOLD, type FactFoldOptions } from './factFold';

/**
 * Collector configuration from the environment.
 *   SENSORS                       name=host:port[,name2=host:port…]  (required to run a collector)
 *   COLLECTOR_STATUS_INTERVAL_MS  how often each sensor's Status is polled and stored (10 000)
 *   COLLECTOR_QUEUE_BATCHES       batches held between a stream and the inserts (16): when full,
 *                                 the stream is paused and the sensor sees backpressure
 *   COLLECTOR_UNIT_MAX_EVENTS     consecutive batches are stored together as one unit of up to this
 *                                 many events (65 536) …
 *   COLLECTOR_UNIT_MAX_MS         … or this many ms after its first batch arrived (100); sooner
 *                                 when storage is idle and nothing is queued
 *   COLLECTOR_BACKOFF_MAX_MS      cap of the reconnect backoff (30 000)
 *   COLLECTOR_FACT_FOLD_S         a fact is stored the first time its (workload, executable, kind,
 *                                 key) is seen in a window of this many seconds (600); repeats are
 *                                 counted, not stored (factFold.ts); 0: every fact is stored
 *   COLLECTOR_FACT_FOLD_KEYS      distinct facts remembered per window and sensor (100 000)
 * TLS: COCKPIT_TLS_CA, COCKPIT_TLS_CERT, COCKPIT_TLS_KEY (paths; read at every dial, so rotated
 * files are picked up on the next reconnect).
 */

export interface SensorEndpoint {
  /** The sensor's name: must match the `sensor` field of its batches. */
  name: string;
  host: string;
  port: number;
  /** host:port as dialled ([v6]:port for IPv6). */
  address: string;
}

export interface CollectorTuning {
  statusIntervalMs: number;
  queueBatches: number;
  unitMaxEvents: number;
  unitMaxDelayMs: number;
  backoffMaxMs: number;
  factFold: FactFoldOptions;
}

export interface CollectorConfig extends CollectorTuning {
  sensors: SensorEndpoint[];
}

export class CollectorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CollectorConfigError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const endpointSchema = z
  .string()
  .trim()
  .regex(/^[^=]+=.+:\d+$/, 'expected name=host:port')
  .transform((entry, ctx): SensorEndpoint => {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq).trim();
    const hostPort = entry.slice(eq + 1).trim();
    const colon = hostPort.lastIndexOf(':');
    let host = hostPort.slice(0, colon);
    const port = Number(hostPort.slice(colon + 1));
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    if (!NAME.test(name)) ctx.addIssue({ code: 'custom', message: `sensor name "${name}" must be 1-63 of A-Z a-z 0-9 . _ -` });
    if (!HOSTNAME.test(host) && isIP(host) === 0) ctx.addIssue({ code: 'custom', message: `"${host}" is not a host name or IP address` });
    if (!Number.isInteger(port) || port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `port ${port} out of range` });
    return { name, host, port, address: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
  });

const sensorsSchema = z
  .string()
  .transform((value) => value.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(endpointSchema).min(1, 'no sensor listed'))
  .superRefine((sensors, ctx) => {
    const seen = new Set<string>();
    for (const s of sensors) {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `sensor "${s.name}" listed twice` });
      seen.add(s.name);
    }
  });

/** Parses SENSORS; the error names the entry and what is wrong with it. */
export function parseSensors(value: string): SensorEndpoint[] {
  const parsed = sensorsSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  const problems = parsed.error.issues.map((issue) => {
    const index = typeof issue.path[0] === 'number' ? issue.path[0] : null;
    return index !== null ? `entry ${index + 1} "${entries[index]}": ${issue.message}` : issue.message;
  });
  throw new CollectorConfigError(`SENSORS=${JSON.stringify(value)} is invalid: ${problems.join('; ')} (format: name=host:port,name2=host:port)`);
}

const intFromEnv = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).optional().default(fallback);

const envSchema = z.object({
  COLLECTOR_STATUS_INTERVAL_MS: intFromEnv(10_000, 100, 3_600_000),
  COLLECTOR_QUEUE_BATCHES: intFromEnv(16, 1, 1024),
  COLLECTOR_UNIT_MAX_EVENTS: intFromEnv(65_536, 1, 1_048_576),
  COLLECTOR_UNIT_MAX_MS: intFromEnv(100, 0, 60_000),
  COLLECTOR_BACKOFF_MAX_MS: intFromEnv(30_000, 100, 600_000),
  COLLECTOR_FACT_FOLD_S: intFromEnv(DEFAULT_FACT_FOLD.windowMs / 1000, 0, 86_400),
  COLLECTOR_FACT_FOLD_KEYS: intFromEnv(DEFAULT_FACT_FOLD.maxKeys, 1, 10_000_000),
});

/** The COLLECTOR_* knobs (defaults when unset). */
export function collectorTuningFromEnv(env: Record<string, string | undefined> = process.env): CollectorTuning {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new CollectorConfigError(
      `invalid collector configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return {
    statusIntervalMs: parsed.data.COLLECTOR_STATUS_INTERVAL_MS,
    queueBatches: parsed.data.COLLECTOR_QUEUE_BATCHES,
    unitMaxEvents: parsed.data.COLLECTOR_UNIT_MAX_EVENTS,
    unitMaxDelayMs: parsed.data.COLLECTOR_UNIT_MAX_MS,
    backoffMaxMs: parsed.data.COLLECTOR_BACKOFF_MAX_MS,
    factFold: { ...DEFAULT_FACT_FOLD, windowMs: parsed.data.COLLECTOR_FACT_FOLD_S * 1000, maxKeys: parsed.data.COLLECTOR_FACT_FOLD_KEYS },
  };
}

export function collectorConfigFromEnv(env: Record<string, string | undefined> = process.env): CollectorConfig {
  if (!env.SENSORS) throw new CollectorConfigError('SENSORS is not set (format: name=host:port,name2=host:port)');
  return { sensors: parseSensors(env.SENSORS), ...collectorTuningFromEnv(env) };
}
