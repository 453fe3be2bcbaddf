import { credentials, makeGenericClientConstructor, type ChannelOptions, type Client, type ClientReadableStream, type Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { SensorClient, SensorService, type SensorStatus, type StatusRequest, type WatchRequest } from '../../gen/soc/sensor/v1/sensor';
import type { TlsMaterial } from './server';

export const DEFAULT_MAX_RECEIVE_BYTES = 64 << 20;

function channelOptions(maxReceiveBytes: number): ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxReceiveBytes,
    // Notices a sensor that vanished without closing the connection.
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Our own reconnect loop (with jitter) decides when to dial again.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5_000,
  };
}

/**
 * A Sensor client over mTLS. Dial a DNS name the sensor's certificate carries (`localhost`, the
 * node's host name), not an IP: Node warns about IPs as TLS server names.
 */
export function createSensorClient(
  address: string,
  tls: TlsMaterial,
  options: { maxReceiveBytes?: number } = {},
): SensorClient {
  return new SensorClient(address, credentials.createSsl(tls.ca, tls.key, tls.cert), channelOptions(options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES));
}

/**
 * The same client, except that Watch hands out each batch as its protobuf bytes (decode them with
 * `EventBatch.decode`): a consumer that queues batches then holds one buffer per batch instead of
 * an object graph per event, and decodes right before use (the collector does, see
 * server/collector/link.ts: objects that die young cost the garbage collector little).
 */
export interface WireSensorClient extends Client, Pick<SensorClient, 'zoomIn' | 'cancelZoom' | 'listZooms'> {
  watch(request: WatchRequest, options?: Partial<CallOptions>): ClientReadableStream<Buffer>;
  status(
    request: StatusRequest,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: SensorStatus) => void,
  ): unknown;
}

const WireSensorService = {
  ...SensorService,
  watch: { ...SensorService.watch, responseDeserialize: (bytes: Buffer): Buffer => bytes },
};
const WireSensorClientConstructor = makeGenericClientConstructor(WireSensorService, 'soc.sensor.v1.Sensor') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createSsl>,
  options?: ChannelOptions,
) => WireSensorClient;

export function createWireSensorClient(
  address: string,
  tls: TlsMaterial,
  options: { maxReceiveBytes?: number } = {},
): WireSensorClient {
  return new WireSensorClientConstructor(address, credentials.createSsl(tls.ca, tls.key, tls.cert), channelOptions(options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES));
}
