import type { Db } from '../client';
import { selectRows } from '../query';
import { nsToClickHouse } from '../time';
import type { SensorGapKind } from './sensorStream';

/** What the cockpit knows about one sensor from storage: last status and stream health. */
export interface StoredSensorSummary {
  sensor: string;
  node: string;
  mode: string;
  epoch: string;
  kernelRelease: string;
  btfAvailable: boolean;
  version: string;
  observedAtNs: string;
  startedAtNs: string;
  uptimeNs: string;
  eventsTotal: string;
  lastSeq: string;
  droppedKernel: string;
  droppedUser: string;
  /** The full last SensorStatus message (programs and all). */
  statusJson: string;
}

export async function listStoredSensors(db: Db): Promise<StoredSensorSummary[]> {
  return selectRows<StoredSensorSummary>(db, {
    sql: `SELECT
            sensor,
            argMax(node, observed_at) AS node,
            argMax(mode, observed_at) AS mode,
            argMax(epoch, observed_at) AS epoch,
            argMax(kernel_release, observed_at) AS kernelRelease,
            argMax(btf_available, observed_at) AS btfAvailable,
            argMax(version, observed_at) AS version,
            toUnixTimestamp64Nano(max(observed_at)) AS observedAtNs,
            toUnixTimestamp64Nano(argMax(started_at, observed_at)) AS startedAtNs,
            argMax(uptime_ns, observed_at) AS uptimeNs,
            argMax(events_total, observed_at) AS eventsTotal,
            argMax(last_seq, observed_at) AS lastSeq,
            argMax(dropped_kernel, observed_at) AS droppedKernel,
            argMax(dropped_user, observed_at) AS droppedUser,
            argMax(status_json, observed_at) AS statusJson
          FROM sensor_status
          WHERE observed_at >= now64(9) - INTERVAL 30 DAY
          GROUP BY sensor
          ORDER BY sensor`,
    tag: 'sensors.list',
  });
}

export interface StreamHealth {
  sensor: string;
  epochs: number;
  batches: string;
  events: string;
  lastEpoch: string;
  lastSeq: string;
  lastReceivedNs: string;
}

/** Per sensor: what was stored from its streams in the window. */
export async function getStreamHealth(db: Db, window: { fromNs: string; toNs: string }): Promise<StreamHealth[]> {
  return selectRows<StreamHealth>(db, {
    sql: `SELECT
            sensor,
            uniqExact(epoch) AS epochs,
            count() AS batches,
            sum(events) AS events,
            argMax(epoch, received_at) AS lastEpoch,
            argMax(last_seq, received_at) AS lastSeq,
            toUnixTimestamp64Nano(max(received_at)) AS lastReceivedNs
          FROM sensor_batches
          WHERE received_at >= {from:DateTime64(9, 'UTC')} AND received_at <= {to:DateTime64(9, 'UTC')}
          GROUP BY sensor`,
    params: { from: nsToClickHouse(window.fromNs), to: nsToClickHouse(window.toNs) },
    tag: 'sensors.stream_health',
  });
}

export interface GapRecord {
  sensor: string;
  epoch: string;
  tsNs: string;
  kind: SensorGapKind;
  fromSeq: string;
  toSeq: string;
  count: string;
  detail: string;
}

/** Gaps and drops of sensors in a time window, newest first. */
export async function listGaps(
  db: Db,
  query: { sensor?: string; fromNs: string; toNs: string; limit: number },
): Promise<GapRecord[]> {
  const filters = ['ts >= {from:DateTime64(9, \'UTC\')}', 'ts <= {to:DateTime64(9, \'UTC\')}'];
  const params: Record<string, unknown> = { from: nsToClickHouse(query.fromNs), to: nsToClickHouse(query.toNs), limit: query.limit };
  if (query.sensor) {
    filters.push('sensor = {sensor:String}');
    params.sensor = query.sensor;
  }
  return selectRows<GapRecord>(db, {
    sql: `SELECT sensor, epoch, toUnixTimestamp64Nano(ts) AS tsNs, toString(kind) AS kind,
                 from_seq AS fromSeq, to_seq AS toSeq, count, detail
          FROM sensor_gaps
          WHERE ${filters.join(' AND ')}
          ORDER BY ts DESC
          LIMIT {limit:UInt32}`,
    params,
    tag: 'sensors.gaps',
  });
}

/**
 * The latest event time each sensor's stored stream reached (received since `sinceNs`): how far a
 * sensor is known to have been watching. A replay that ran out, or a sensor that went away, stops
 * here; a live sensor keeps moving it.
 */
export async function observedUntil(db: Db, sensors: readonly string[], sinceNs: string): Promise<Map<string, string>> {
  if (sensors.length === 0) return new Map();
  const rows = await selectRows<{ sensor: string; untilNs: string }>(db, {
    sql: `SELECT toString(sensor) AS sensor, toString(toUnixTimestamp64Nano(max(max_ts))) AS untilNs
          FROM sensor_batches
          WHERE sensor IN {sensors:Array(String)} AND received_at >= {since:DateTime64(9, 'UTC')}
          GROUP BY sensor`,
    params: { sensors: [...sensors], since: nsToClickHouse(sinceNs) },
    tag: 'sensors.observed_until',
  });
  return new Map(rows.map((r) => [r.sensor, r.untilNs]));
}
