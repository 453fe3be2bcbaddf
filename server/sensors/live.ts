import type { SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { SensorLinkState } from '../collector/collector';

/**
 * What the collector knows right now about its connection to one sensor. Mirrors the collector's
 * per-sensor state; everything here is in-memory and lost on restart (storage has the history).
 */
export interface LiveSensorConnection {
  name: string;
  address: string;
  connected: boolean;
  /** Epoch of the stream currently (or last) read, null before the first batch. */
  epoch: string | null;
  /** Last sequence number stored from that epoch, null before the first batch. */
  lastStoredSeq: string | null;
  lastError: string | null;
  reconnects: number;
}

/**
 * The live side of the sensors feature. Storage answers "what happened"; this answers "what is
 * happening": the collector's connections, and a fresh Status from a sensor.
 */
export interface LiveSensorSource {
  /** Connections of the collector in this process; empty when no collector runs here. */
  connections(): LiveSensorConnection[];
  /** Asks the sensor for its Status now; null when it cannot be reached within `timeoutMs`. */
  status(name: string, timeoutMs: number): Promise<SensorStatus | null>;
}

/** Used while no collector runs in this process: every answer comes from storage instead. */
export const noLiveSensors: LiveSensorSource = {
  connections: () => [],
  status: async () => null,
};

/** The collector's per-link snapshot, reduced to what the sensors view needs. */
export function toLiveSensorConnection(link: SensorLinkState): LiveSensorConnection {
  return {
    name: link.name,
    address: link.address,
    connected: link.connected,
    epoch: link.epoch,
    lastStoredSeq: link.lastStoredSeq,
    lastError: link.lastError,
    reconnects: link.reconnects,
  };
}

/**
 * THE place where the collector's live state plugs into the web API. The collector runs in this
 * process (started from instrumentation.ts when SENSORS is set) and keeps its state on
 * globalThis, so this reads the same links whichever bundle imports it. With no collector running,
 * `connections()` is empty and every answer comes from storage.
 *
 * `status()` answers null: the collector polls each sensor's Status on an interval and stores it,
 * which the service reads. When the collector offers an on-demand Status call, return it here and
 * the page shows a status "asked just now" instead of "as last stored".
 */
export async function getLiveSensorSource(): Promise<LiveSensorSource> {
  // Imported on first use: the collector pulls in gRPC, which nothing else needs at import time.
  const { getCollectorState } = await import('../collector/collector');
  return {
    connections: () => getCollectorState().sensors.map(toLiveSensorConnection),
    status: async () => null,
  };
}
