import type { ServiceError } from '@grpc/grpc-js';
import type { CancelZoomRequest, ListZoomsRequest, ListZoomsResponse, SensorClient, Zoom, ZoomRequest } from '../../sensor/gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../../sensor/src/grpc/client';
import { readTlsMaterial, tlsPathsFromEnv } from '../../sensor/src/tls/material';
import { configuredSensorsFromEnv } from '../sensors/config';

/**
 * How the zoom service reaches sensors: ZoomIn / CancelZoom / ListZooms over the same mTLS
 * client the collector streams with (one link per sensor, server/collector/link.ts), or — in a
 * web process whose collector runs elsewhere (`npm run collector`) — a client of its own per
 * configured sensor (SENSORS, COCKPIT_TLS_*). Every call rejects with the gRPC error (a
 * ServiceError), which server/zoom/errors.ts turns into the API's.
 */
export interface SensorZoomControl {
  readonly sensor: string;
  zoomIn(request: ZoomRequest): Promise<Zoom>;
  cancelZoom(request: CancelZoomRequest): Promise<Zoom>;
  listZooms(request: ListZoomsRequest): Promise<ListZoomsResponse>;
}

export interface ZoomControls {
  /** The control of a sensor; null when this cockpit is not configured with it. */
  forSensor(sensor: string): SensorZoomControl | null;
  /** The sensor that watches a node, when this process knows it now (from the links' Status); else null. */
  sensorOfNode(node: string): string | null;
}

/** What a collector link offers (SensorLink): registered here so this module never imports the collector. */
export interface LinkControl extends SensorZoomControl {
  readonly node: string | null;
}

const LINKS_KEY = Symbol.for('soc.cockpit.zoomLinks');
type GlobalWithLinks = typeof globalThis & { [LINKS_KEY]?: Map<string, LinkControl> };

/** The collector registers its links (and unregisters them when it stops). */
export function registerLinkControls(links: readonly LinkControl[]): () => void {
  const g = globalThis as GlobalWithLinks;
  const map = (g[LINKS_KEY] ??= new Map());
  for (const link of links) map.set(link.sensor, link);
  return () => {
    for (const link of links) if (map.get(link.sensor) === link) map.delete(link.sensor);
  };
}

function registeredLinks(): Map<string, LinkControl> {
  return (globalThis as GlobalWithLinks)[LINKS_KEY] ?? new Map();
}

const DEADLINE_MS = 5_000;

/** A control over a client of its own (no collector in this process; tests with other certificates). */
export function clientZoomControl(sensor: string, client: SensorClient): SensorZoomControl {
  const call =
    <Req, Res>(method: 'zoomIn' | 'cancelZoom' | 'listZooms') =>
    (request: Req) =>
      new Promise<Res>((resolve, reject) => {
        // grpc-js accepts (request, options, callback) when the metadata is left out.
        const fn = client[method] as unknown as (req: Req, opts: { deadline: number }, cb: (e: ServiceError | null, r: Res) => void) => unknown;
        fn.call(client, request, { deadline: Date.now() + DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res)));
      });
  return {
    sensor,
    zoomIn: call<ZoomRequest, Zoom>('zoomIn'),
    cancelZoom: call<CancelZoomRequest, Zoom>('cancelZoom'),
    listZooms: call<ListZoomsRequest, ListZoomsResponse>('listZooms'),
  };
}

const direct = new Map<string, { address: string; control: SensorZoomControl; client: SensorClient }>();

/**
 * The controls of this process: the collector's links when one runs here, else clients of its
 * own for the sensors in SENSORS (TLS material read when a client is made).
 */
export const liveZoomControls: ZoomControls = {
  forSensor(sensor) {
    const link = registeredLinks().get(sensor);
    if (link) return link;
    const configured = configuredSensorsFromEnv().find((s) => s.name === sensor);
    if (!configured) return null;
    const cached = direct.get(sensor);
    if (cached && cached.address === configured.address) return cached.control;
    cached?.client.close();
    const paths = tlsPathsFromEnv('COCKPIT_TLS');
    if (!paths) {
      return failingControl(sensor, 'mTLS not configured: set COCKPIT_TLS_CA, COCKPIT_TLS_CERT and COCKPIT_TLS_KEY (npm run certs)');
    }
    let client: SensorClient;
    try {
      client = createSensorClient(configured.address, readTlsMaterial(paths));
    } catch (err) {
      return failingControl(sensor, (err as Error).message);
    }
    const control = clientZoomControl(sensor, client);
    direct.set(sensor, { address: configured.address, control, client });
    return control;
  },
  sensorOfNode(node) {
    for (const link of registeredLinks().values()) if (link.node === node) return link.sensor;
    return null;
  },
};

/** A control whose every call fails as UNAVAILABLE with `why` (misconfigured TLS, say). */
function failingControl(sensor: string, why: string): SensorZoomControl {
  const fail = () => Promise.reject(Object.assign(new Error(why), { code: 14, details: why }));
  return { sensor, zoomIn: fail, cancelZoom: fail, listZooms: fail };
}
