import { credentials } from '@grpc/grpc-js';
import { SensorClient } from '../../gen/soc/sensor/v1/sensor';
import type { TlsMaterial } from './server';

export const DEFAULT_MAX_RECEIVE_BYTES = 64 << 20;

/**
 * A Sensor client over mTLS. Dial a DNS name the sensor's certificate carries (`localhost`, the
 * node's host name), not an IP: Node warns about IPs as TLS server names.
 */
export function createSensorClient(
  address: string,
  tls: TlsMaterial,
  options: { maxReceiveBytes?: number } = {},
): SensorClient {
  return new SensorClient(address, credentials.createSsl(tls.ca, tls.key, tls.cert), {
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    // Notices a sensor that vanished without closing the connection.
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Our own reconnect loop (with jitter) decides when to dial again.
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5_000,
  });
}
