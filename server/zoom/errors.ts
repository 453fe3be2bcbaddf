import { status as GrpcStatus } from '@grpc/grpc-js';
import { TRPCError } from '@trpc/server';

/**
 * A sensor's refusal (a gRPC status with the sensor's message) → the API's error. The sensor's
 * message is kept verbatim: it names the limit or the target ("ttl_s 601 s exceeds this sensor's
 * maximum of 600 s"). Unreachable sensors and TLS failures are 503: the order may be retried once
 * the link is back, or once the certificates are fixed (the message says which).
 *
 * | gRPC                 | API                       |
 * | -------------------- | ------------------------- |
 * | NOT_FOUND            | 404 NOT_FOUND             |
 * | PERMISSION_DENIED    | 403 FORBIDDEN             |
 * | INVALID_ARGUMENT     | 400 BAD_REQUEST           |
 * | ALREADY_EXISTS       | 409 CONFLICT              |
 * | RESOURCE_EXHAUSTED   | 409 CONFLICT              |
 * | FAILED_PRECONDITION  | 409 CONFLICT              |
 * | UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, UNAUTHENTICATED, TLS failures | 503 SERVICE_UNAVAILABLE |
 * | anything else        | 503 SERVICE_UNAVAILABLE   |
 */

export type RefusalCode = 'BAD_REQUEST' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'SERVICE_UNAVAILABLE';

interface GrpcLike {
  code?: number;
  details?: string;
  message?: string;
}

const TLS_FAILURE = /certificate|handshake|\bSSL\b|\bTLS\b|self[- ]signed|unknown ca|alert/i;

/** The API code of a gRPC refusal. */
export function refusalCode(err: GrpcLike): RefusalCode {
  switch (err.code) {
    case GrpcStatus.NOT_FOUND:
      return 'NOT_FOUND';
    case GrpcStatus.PERMISSION_DENIED:
      return 'FORBIDDEN';
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 'BAD_REQUEST';
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ABORTED:
      return 'CONFLICT';
    default:
      return 'SERVICE_UNAVAILABLE';
  }
}

/** The refusal in words, prefixed with who refused. */
export function refusalMessage(err: GrpcLike, sensor: string): string {
  const details = (err.details || err.message || 'no reason given').replace(/^\d+ [A-Z_]+: /, '');
  if (err.code === GrpcStatus.UNAVAILABLE && TLS_FAILURE.test(details)) {
    return `sensor ${sensor} cannot be reached over mutual TLS: ${details} (check that the sensor and the cockpit trust each other's certificates: COCKPIT_TLS_*, SENSOR_TLS_*)`;
  }
  if (err.code === GrpcStatus.UNAVAILABLE && /^not connected to sensor /.test(details)) return `sensor ${sensor} is unavailable: ${details}`;
  if (err.code === GrpcStatus.UNAVAILABLE) {
    // grpc-js reports a TLS handshake the sensor refused (an untrusted client certificate) as a
    // failed connection, like a sensor that is down: say both.
    return `sensor ${sensor} cannot be reached: ${details} (the sensor is down, or refused this cockpit's certificate: check that both sides trust the same CA, COCKPIT_TLS_* and SENSOR_TLS_*)`;
  }
  if (err.code === GrpcStatus.DEADLINE_EXCEEDED) return `sensor ${sensor} did not answer in time: ${details}`;
  if (err.code === GrpcStatus.UNAUTHENTICATED) return `sensor ${sensor} does not accept this cockpit's certificate: ${details}`;
  if (refusalCode(err) === 'SERVICE_UNAVAILABLE') return `sensor ${sensor} failed the call (${grpcName(err.code)}): ${details}`;
  return `sensor ${sensor} refused: ${details}`;
}

export function grpcName(code: number | undefined): string {
  return code === undefined ? 'UNKNOWN' : (GrpcStatus[code] ?? `code ${code}`);
}

/** The TRPCError an order's or a cancel's refusal becomes. */
export function refusalToTrpc(err: unknown, sensor: string): TRPCError {
  const e = (err ?? {}) as GrpcLike;
  return new TRPCError({ code: refusalCode(e), message: refusalMessage(e, sensor) });
}
