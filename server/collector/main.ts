import { createLogger } from '../../sensor/src/log';
import { CollectorConfigError } from './config';
import { getCollectorState, startCollector, stopCollector } from './collector';

/**
 * The collector as its own process (`npm run collector`), for when storage is a ClickHouse
 * server and the cockpit's web process should not do ingest. Same configuration as inside the
 * cockpit: SENSORS, COCKPIT_TLS_*, and the storage variables (CHDB_PATH or CLICKHOUSE_URL…).
 */
const log = createLogger('collector');

try {
  startCollector({ logger: log });
} catch (err) {
  log.error('cannot start', { reason: (err as Error).message });
  process.exit(err instanceof CollectorConfigError ? 2 : 1);
}

// One summary line a minute: enough to see a link that is stuck without flooding the log.
const summary = setInterval(() => {
  for (const s of getCollectorState().sensors) {
    log.info('link', {
      sensor: s.name,
      connected: s.connected,
      epoch: s.epoch,
      lastStoredSeq: s.lastStoredSeq,
      batchesStored: s.batchesStored,
      reconnects: s.reconnects,
      lastError: s.lastError,
    });
  }
}, 60_000);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearInterval(summary);
    log.info('stopping', { signal });
    stopCollector().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('stop failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  });
}
