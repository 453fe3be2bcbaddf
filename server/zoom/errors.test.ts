import { status } from '@grpc/grpc-js';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { describe, expect, it } from 'vitest';
import { refusalCode, refusalMessage, refusalToTrpc } from './errors';

// What the sensor says (sensor/src/zoom/policy.ts and manager.ts, as its live test checks) → what
// the API answers: the status that fits, and the sensor's own words.
const refusal = (code: number, details: string) => Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });

describe('sensor refusals → API errors', () => {
  it.each([
    [status.NOT_FOUND, 'no running process has image n:0a1b2c3d:1:2:3 (it ended, or this sensor never saw it)', 'NOT_FOUND', 404],
    [status.PERMISSION_DENIED, "probe set CHILDREN not allowed by this sensor's policy (allowed: IO_URING, NETWORK, FILES, CODE)", 'FORBIDDEN', 403],
    [status.INVALID_ARGUMENT, "ttl_s 601 s exceeds this sensor's maximum of 600 s", 'BAD_REQUEST', 400],
    [status.ALREADY_EXISTS, 'pid 42 is already targeted by zoom z-1-1 (cancel it or wait for it to end)', 'CONFLICT', 409],
    [status.RESOURCE_EXHAUSTED, '3 zooms active: this sensor runs at most 3 at a time', 'CONFLICT', 409],
    [status.FAILED_PRECONDITION, 'no kernel side: this sensor cannot zoom (replay, or eBPF not running)', 'CONFLICT', 409],
    [status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051', 'SERVICE_UNAVAILABLE', 503],
    [status.DEADLINE_EXCEEDED, 'Deadline exceeded after 5.001s', 'SERVICE_UNAVAILABLE', 503],
    [status.INTERNAL, 'boom', 'SERVICE_UNAVAILABLE', 503],
  ] as const)('gRPC %i → %s', (code, details, trpcCode, http) => {
    const error = refusalToTrpc(refusal(code, details), 'node-a');
    expect(error.code).toBe(trpcCode);
    expect(getHTTPStatusCodeFromError(error)).toBe(http);
    expect(error.message).toContain(details);
    expect(error.message).toMatch(/^sensor node-a /);
  });

  it('keeps the sensor’s words, without the gRPC prefix', () => {
    expect(refusalMessage(refusal(status.INVALID_ARGUMENT, "max_events 1000001 exceeds this sensor's maximum of 1000000"), 's1')).toBe(
      "sensor s1 refused: max_events 1000001 exceeds this sensor's maximum of 1000000",
    );
    expect(refusalMessage({ code: status.NOT_FOUND, message: '5 NOT_FOUND: no zoom z-9' }, 's1')).toBe('sensor s1 refused: no zoom z-9');
  });

  it('tells a TLS failure (an untrusted certificate on either side) from a sensor that is down', () => {
    const tls = refusalToTrpc(refusal(status.UNAVAILABLE, 'No connection established. Last error: Error: self-signed certificate in certificate chain'), 'node-a');
    expect(tls.code).toBe('SERVICE_UNAVAILABLE');
    expect(tls.message).toMatch(/cannot be reached over mutual TLS: .*self-signed certificate.*COCKPIT_TLS_\*/);
    const alert = refusalToTrpc(refusal(status.UNAVAILABLE, 'Connection dropped: SSL alert number 48 (unknown ca)'), 'node-a');
    expect(alert.message).toMatch(/mutual TLS/);
    const down = refusalToTrpc(refusal(status.UNAVAILABLE, 'not connected to sensor node-a (localhost:1)'), 'node-a');
    expect(down.message).toBe('sensor node-a is unavailable: not connected to sensor node-a (localhost:1)');
    // grpc-js says only that the connection failed when the sensor refused our certificate.
    const refused = refusalToTrpc(refusal(status.UNAVAILABLE, 'No connection established. Last error: Failed to connect'), 'node-a');
    expect(refused.message).toMatch(/^sensor node-a cannot be reached: No connection established.*refused this cockpit's certificate.*same CA/);
    expect(refusalCode({ code: status.UNAUTHENTICATED })).toBe('SERVICE_UNAVAILABLE');
    expect(refusalCode({})).toBe('SERVICE_UNAVAILABLE');
  });
});
