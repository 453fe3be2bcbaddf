import { parseArgs } from 'node:util';
import { Event } from '../../gen/soc/sensor/v1/sensor';
import { startSensorServer, type SensorBackend } from '../grpc/server';
import { createLogger, silentLogger } from '../log';
import { Journal, encodeBatch, type EncodedBatch, type SubscribeOptions } from '../stream/journal';
import { readTlsMaterial, tlsPathsFromEnv } from '../tls/material';
import { SENSOR_VERSION } from '../version';
import { syntheticEvents, syntheticZoomEvents } from './synthetic';

/**
 * A sensor PROCESS for transport tests (collector servertests): the real journal and the real
 * gRPC server over mTLS, fed with synthetic events instead of the kernel. It can also inject one
 * inconsistent batch, which the real sensor never sends, to test that the collector rejects it.
 *
 *   node --import tsx sensor/src/testing/fixture-sensor.ts --name N [--listen localhost:0]
 *     [--events N] [--per-tick N] [--tick-ms N] [--bad-after SEQ]
 *     [--zoom ZOOM_ID:INVESTIGATION_ID]   synthetic zoom-in evidence instead of process events
 * TLS from SENSOR_TLS_*. Prints one JSON line {"ready":true,"port":…,"epoch":…} on stdout, then
 * {"appended":seq} as events are added; stdin lines "append N" add N more events.
 */
const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'fixture' },
    listen: { type: 'string', default: 'localhost:0' },
    events: { type: 'string', default: '0' },
    'per-tick': { type: 'string', default: '100' },
    'tick-ms': { type: 'string', default: '5' },
    'bad-after': { type: 'string' },
    zoom: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const paths = tlsPathsFromEnv('SENSOR_TLS');
if (!paths) throw new Error('SENSOR_TLS_* not set');
const journal = new Journal({ sensor: values.name, maxBatchEvents: 64, maxBatchDelayMs: 5 });
const badAfter = values['bad-after'] ? Number(values['bad-after']) : null;
let injected = false;
const startedAtNs = String(BigInt(Date.now()) * 1_000_000n);
let appended = 0;

const [zoomId, investigationId] = values.zoom ? values.zoom.split(':') : [];

function append(n: number) {
  journal.append(
    zoomId
      ? syntheticZoomEvents(n, { node: values.name, fromIndex: appended, zoomId, investigationId: investigationId ?? '' })
      : syntheticEvents(n, { node: values.name, fromIndex: appended }),
  );
  appended += n;
  process.stdout.write(JSON.stringify({ appended: journal.stats().lastSeq }) + '\n');
}

/** After the first batch reaching `badAfter`, one batch whose seq range does not match its events. */
async function* withInjection(source: AsyncIterable<EncodedBatch>): AsyncGenerator<EncodedBatch> {
  for await (const batch of source) {
    yield batch;
    if (badAfter !== null && !injected && batch.header.lastSeq >= badAfter) {
      injected = true;
      const next = batch.header.lastSeq + 1;
      const header = { ...batch.header, firstSeq: next, lastSeq: next + 5, gap: false, missing: 0, droppedKernel: 0, droppedUser: 0 };
      const events = syntheticEvents(2, { node: values.name }).map((e, i) => ({ ...e, seq: String(next + i) }));
      const bytes = encodeBatch(header, events.map((e) => Event.encode(e).finish()));
      yield { header, eventCount: 2, bytes };
    }
  }
}

const backend: SensorBackend = {
  watch: (options: SubscribeOptions) => withInjection(journal.subscribeEncoded(options)),
  status: () => {
    const s = journal.stats();
    return {
      sensor: journal.sensor,
      node: values.name,
      epoch: journal.epoch,
      mode: 'fixture',
      kernelRelease: '',
      btfAvailable: false,
      programs: [],
      eventsTotal: String(s.eventsTotal),
      lastSeq: String(s.lastSeq),
      oldestHeldSeq: String(s.oldestHeldSeq),
      droppedKernel: '0',
      droppedUser: '0',
      uptimeNs: '0',
      startedAtNs,
      version: SENSOR_VERSION,
      recording: '',
      zooms: [],
      zoomProgramsAttached: 0,
      zoomNote: 'fixture: no kernel side',
    };
  },
};

const server = await startSensorServer({
  backend,
  listen: values.listen,
  tls: readTlsMaterial(paths),
  logger: values.verbose ? createLogger('fixture-sensor') : silentLogger,
});
process.stdout.write(JSON.stringify({ ready: true, port: server.port, epoch: journal.epoch }) + '\n');

let remaining = Number(values.events);
const perTick = Number(values['per-tick']);
const ticker = setInterval(() => {
  if (remaining <= 0) return;
  const n = Math.min(perTick, remaining);
  remaining -= n;
  append(n);
}, Number(values['tick-ms']));

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const line of chunk.split('\n')) {
    const m = /^append (\d+)$/.exec(line.trim());
    if (m) remaining += Number(m[1]);
  }
});

process.on('SIGTERM', () => {
  clearInterval(ticker);
  journal.close();
  void server.close(500).then(() => process.exit(0));
});
