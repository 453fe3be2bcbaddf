import { getDb, type Db } from '../../db/client';
import { createLogger, type Logger } from '../../sensor/src/log';
import { readTlsMaterial, tlsPathsFromEnv } from '../../sensor/src/tls/material';
import { collectorConfigFromEnv, collectorTuningFromEnv, parseSensors, type SensorEndpoint } from './config';
import { learningWindowFromEnv, type LearningWindow } from '../detection/config';
import { Detector } from '../detection/detector';
import { ownImageMatcher, readOwnProcess } from '../detection/own';
import { storageStore } from '../detection/store';
import type { FactFoldOptions } from './factFold';
import { SensorLink, type SensorLinkState } from './link';
import { startAnalysisKeeper } from '../investigations/analysisKeeper';
import { registerLinkControls } from '../zoom/control';
import { getZoomDirectory, type ZoomDirectory } from '../zoom/directory';
import { getZoomService, type ZoomService } from '../zoom/service';

export type { SensorLinkState } from './link';

/**
 * The cockpit's collector: one SensorLink per configured sensor, each resuming its Watch stream
 * from what storage holds and storing batches idempotently. One collector per process (it lives
 * on globalThis, so Next.js hot reloads and several bundles of this module share it).
 */

export interface CollectorState {
  running: boolean;
  startedAt: string | null;
  /** Why the collector is not running, when it failed to start (invalid SENSORS, say). */
  error: string | null;
  sensors: SensorLinkState[];
}

export interface StartCollectorOptions {
  /** Sensors to dial (default: SENSORS from the environment). A string is parsed like SENSORS. */
  sensors?: SensorEndpoint[] | string;
  /** Storage (default: the process-wide getDb()). */
  db?: Db | (() => Promise<Db>);
  statusIntervalMs?: number;
  queueBatches?: number;
  /** Unit limits and eager closing: see SensorLinkOptions. */
  unitMaxEvents?: number;
  unitMaxDelayMs?: number;
  unitEager?: boolean;
  unitQuietMs?: number;
  backoffMaxMs?: number;
  backoffInitialMs?: number;
  /** Folding of repeated facts (default: COLLECTOR_FACT_FOLD_S / _KEYS; see factFold.ts). */
  factFold?: FactFoldOptions;
  /** See SensorLinkOptions.resume (default 'stored'). */
  resume?: 'stored' | 'beginning';
  /**
   * The detector (baselines and indicators) runs on every stored unit (default: on, with the
   * learning window from BASELINE_MIN_LEARNING / BASELINE_QUIET / BASELINE_MAX_LEARNING).
   */
  detector?: boolean | { window?: LearningWindow; tickMs?: number; graceMs?: number; syncMs?: number };
  /**
   * The zoom service the detector hands new indicators to (automatic zooms, by the zoom policy)
   * and the links serve orders for (default: the process's, getZoomService()); false: no
   * automatic zooms from this collector.
   */
  zooms?: ZoomService | false;
  /** Where zoom ids are mapped to investigations (default: the process's; tests give a fresh one to stand for a restart). */
  zoomDirectory?: ZoomDirectory;
  /** See SensorLinkOptions.adoptionGraceMs (zooms of a replayed recording). */
  adoptionGraceMs?: number;
  /**
   * The analysis keeper (server/investigations/analysisKeeper.ts): stores each investigation's
   * analysis once its zooms ended (default: on, every 10 s); false: first views compute it.
   */
  analysisKeeper?: false | { intervalMs?: number };
  logger?: Logger;
}

interface Collector {
  links: SensorLink[];
  detector: Detector | null;
  startedAt: string;
  unregister: () => void;
  stopKeeper: (() => Promise<void>) | null;
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.collector');
const ERROR_KEY = Symbol.for('soc.cockpit.collector.error');
type GlobalWithCollector = typeof globalThis & { [GLOBAL_KEY]?: Collector; [ERROR_KEY]?: string };

/**
 * Starts the collector once per process (a second call returns without starting another).
 * Does not wait for sensors or storage: links connect, retry and report in the background.
 * Throws only on invalid configuration (the message is then also in getCollectorState().error).
 */
export function startCollector(options: StartCollectorOptions = {}): void {
  const g = globalThis as GlobalWithCollector;
  if (g[GLOBAL_KEY]) return;
  const log = options.logger ?? createLogger('collector');
  let sensors: SensorEndpoint[];
  let tuning: ReturnType<typeof collectorTuningFromEnv>;
  let window: LearningWindow | null;
  try {
    sensors =
      options.sensors === undefined
        ? collectorConfigFromEnv().sensors
        : typeof options.sensors === 'string'
          ? parseSensors(options.sensors)
          : options.sensors;
    tuning = collectorTuningFromEnv();
    window = options.detector === false ? null : ((typeof options.detector === 'object' ? options.detector.window : undefined) ?? learningWindowFromEnv());
  } catch (err) {
    g[ERROR_KEY] = (err as Error).message;
    throw err;
  }
  delete g[ERROR_KEY];
  const dbOption = options.db;
  const db: () => Promise<Db> =
    dbOption === undefined ? getDb : typeof dbOption === 'function' ? dbOption : () => Promise.resolve(dbOption);

  const detectorOptions = typeof options.detector === 'object' ? options.detector : {};
  const zoomService = options.zooms === false ? null : (options.zooms ?? getZoomService());
  const onRaised = zoomService
    ? (records: Parameters<ZoomService['onIndicators']>[1], storedAtNs: bigint) => {
        db()
          .then((d) => zoomService.onIndicators(d, records, storedAtNs))
          .catch((err: unknown) => log.warn('automatic zoom failed', { error: (err as Error).message }));
      }
    : undefined;
  const detector = window
    ? new Detector({
        store: storageStore(db),
        window,
        isOwn: ownImageMatcher(readOwnProcess()),
        log: options.logger ?? createLogger('detector'),
        tickMs: detectorOptions.tickMs,
        graceMs: detectorOptions.graceMs,
        syncMs: detectorOptions.syncMs,
        onRaised,
      })
    : null;
  const zoomDirectory = options.zoomDirectory ?? getZoomDirectory();
  const links = sensors.map(
    (endpoint) =>
      new SensorLink({
        endpoint,
        db,
        tls: cockpitTls,
        log,
        statusIntervalMs: options.statusIntervalMs ?? tuning.statusIntervalMs,
        queueBatches: options.queueBatches ?? tuning.queueBatches,
        unitMaxEvents: options.unitMaxEvents ?? tuning.unitMaxEvents,
        unitMaxDelayMs: options.unitMaxDelayMs ?? tuning.unitMaxDelayMs,
        unitEager: options.unitEager,
        unitQuietMs: options.unitQuietMs,
        backoffMaxMs: options.backoffMaxMs ?? tuning.backoffMaxMs,
        backoffInitialMs: options.backoffInitialMs,
        resume: options.resume,
        factFold: options.factFold ?? tuning.factFold,
        observer: detector ?? undefined,
        zooms: zoomDirectory,
        adoptionGraceMs: options.adoptionGraceMs,
      }),
  );
  // Zoom orders and cancels travel over these links (server/zoom/control.ts).
  const unregister = registerLinkControls(links);
  const stopKeeper =
    options.analysisKeeper === false ? null : startAnalysisKeeper({ db, log: options.logger ?? createLogger('analysis-keeper'), intervalMs: options.analysisKeeper?.intervalMs });
  g[GLOBAL_KEY] = { links, detector, startedAt: new Date().toISOString(), unregister, stopKeeper };
  // Loads its state in the background; units stored meanwhile wait in its queue.
  detector?.start().catch((err: unknown) => log.warn('detector not started yet', { error: (err as Error).message }));
  for (const link of links) link.start();
  log.info('collector started', { sensors: sensors.map((s) => `${s.name}=${s.address}`) });
}

/** Stops every link (streams cancelled; unstored batches are re-sent on the next start). */
export async function stopCollector(): Promise<void> {
  const g = globalThis as GlobalWithCollector;
  const collector = g[GLOBAL_KEY];
  if (!collector) return;
  delete g[GLOBAL_KEY];
  collector.unregister();
  await collector.stopKeeper?.();
  await Promise.all(collector.links.map((link) => link.stop()));
  await collector.detector?.stop();
}

/** The detector of this process's collector (null when no collector runs here, or it runs without one). */
export function getDetector(): Detector | null {
  return (globalThis as GlobalWithCollector)[GLOBAL_KEY]?.detector ?? null;
}

/** A snapshot for the web API: per sensor, connected, epoch, last stored seq, errors, reconnects. */
export function getCollectorState(): CollectorState {
  const g = globalThis as GlobalWithCollector;
  const collector = g[GLOBAL_KEY];
  return {
    running: !!collector,
    startedAt: collector?.startedAt ?? null,
    error: g[ERROR_KEY] ?? null,
    sensors: collector?.links.map((link) => link.snapshot()) ?? [],
  };
}

/** The cockpit's client certificate, from COCKPIT_TLS_* paths only. */
function cockpitTls() {
  const paths = tlsPathsFromEnv('COCKPIT_TLS');
  if (!paths) throw new Error('mTLS not configured: set COCKPIT_TLS_CA, COCKPIT_TLS_CERT and COCKPIT_TLS_KEY (npm run certs)');
  return readTlsMaterial(paths);
}
