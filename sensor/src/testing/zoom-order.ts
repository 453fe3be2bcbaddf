/**
 * A stand-in cockpit for tests: orders one zoom over mTLS, prints it as one JSON line, then waits
 * (the test kills it, to show that a zoom outlives the cockpit that ordered it and ends anyway).
 *
 *   node --import tsx sensor/src/testing/zoom-order.ts --address localhost:PORT --pid N
 *     [--probes NETWORK,FILES] [--ttl-s N]
 * TLS from COCKPIT_TLS_* (the cockpit's certificate).
 */
import { parseArgs } from 'node:util';
import type { ServiceError } from '@grpc/grpc-js';
import type { Zoom, ZoomRequest } from '../../gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../grpc/client';
import { readTlsMaterial, tlsPathsFromEnv } from '../tls/material';
import { parseProbeList } from '../zoom/policy';

const { values } = parseArgs({
  options: {
    address: { type: 'string' },
    pid: { type: 'string' },
    probes: { type: 'string', default: 'NETWORK' },
    'ttl-s': { type: 'string', default: '60' },
  },
});
const paths = tlsPathsFromEnv('COCKPIT_TLS');
if (!paths || !values.address || !values.pid) throw new Error('usage: zoom-order.ts --address HOST:PORT --pid N (COCKPIT_TLS_* set)');
const client = createSensorClient(values.address, readTlsMaterial(paths));
const request: ZoomRequest = {
  target: { target: { $case: 'tgid', value: { pid: Number(values.pid), followChildren: false } } },
  probes: parseProbeList(values.probes),
  ttlS: Number(values['ttl-s']),
  maxEvents: '0',
  payloadPrefixBytes: 0,
  maxEventsPerS: 0,
  investigationId: '',
  requestedBy: 'zoom-order.ts',
  reason: 'a cockpit that will be killed',
};
client.zoomIn(request, (err: ServiceError | null, zoom: Zoom) => {
  process.stdout.write(JSON.stringify(err ? { error: err.details } : { id: zoom.id, status: zoom.status }) + '\n');
});
setInterval(() => undefined, 1 << 30);
