import { z } from 'zod';
import type { Db } from '../../db/client';
import { getStreamHealth, listGaps, listStoredSensors, type GapRecord, type StoredSensorSummary, type StreamHealth } from '../../db/repositories/sensors';
import type { SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { ConfiguredSensor } from './config';
import type { LiveSensorConnection, LiveSensorSource } from './live';

/**
 * The sensors feature: one view per sensor, merged from three sources that answer different
 * questions — the configuration (which sensors should exist), the collector's live state (is it
 * connected now, what does it say now) and storage (what was received, which gaps were recorded).
 * Live data wins where both exist; storage fills in when no collector runs in this process.
 */

const NS_PER_HOUR = 3_600_000_000_000n;
/** Stream health and gaps are read over this window: bounded queries, and recent is what matters. */
export const SENSOR_HEALTH_WINDOW_NS = 24n * NS_PER_HOUR;
export const SENSOR_GAPS_LIMIT = 100;
/** A live Status call must not hold the page: past this, the stored status is shown instead. */
const LIVE_STATUS_TIMEOUT_MS = 1500;

export interface ProgramView {
  name: string;
  attachType: string;
  attached: boolean;
  /** Why the program is not attached ('' when it is). */
  error: string;
  /** Not attached on purpose: a zoom program waiting for a zoom, or a fact switched off. */
  onPurpose: boolean;
}

export interface SensorStatusView {
  /** `live`: asked the sensor just now; `stored`: the last status the collector recorded. */
  source: 'live' | 'stored';
  observedAtNs: string;
  node: string;
  /** "live" (eBPF) or "replay" (serving a recording), as the sensor reports it. */
  mode: string;
  epoch: string;
  kernelRelease: string;
  btfAvailable: boolean;
  version: string;
  programs: ProgramView[];
  programsAttached: number;
  eventsTotal: string;
  lastSeq: string;
  droppedKernel: string;
  droppedUser: string;
  uptimeNs: string;
  startedAtNs: string;
  /** In replay mode: the file served and what recorded it. */
  recording: string;
}

export interface SensorStreamView {
  lastEpoch: string;
  lastStoredSeq: string;
  lastReceivedNs: string;
  batches: string;
  events: string;
  epochs: number;
}

export interface SensorConnectionView {
  /** `unknown` when no collector runs in this process (storage cannot tell). */
  state: 'connected' | 'disconnected' | 'unknown';
  lastError: string | null;
  reconnects: number | null;
}

export interface SensorView {
  name: string;
  /** host:port from the configuration; null for a sensor known only from storage. */
  address: string | null;
  configured: boolean;
  connection: SensorConnectionView;
  status: SensorStatusView | null;
  /** What storage received from this sensor within `window`; null when nothing. */
  stream: SensorStreamView | null;
  /** The last sequence number stored: the collector's when it runs, else storage's. */
  lastStoredSeq: string | null;
  window: { fromNs: string; toNs: string };
}

export interface GapView {
  epoch: string;
  tsNs: string;
  kind: GapRecord['kind'];
  fromSeq: string;
  toSeq: string;
  count: string;
  detail: string;
}

export interface SensorDetailView extends SensorView {
  /** Newest first, within `window`, at most SENSOR_GAPS_LIMIT. */
  gaps: GapView[];
  gapsTruncated: boolean;
}

export interface SensorDeps {
  db: Db;
  live: LiveSensorSource;
  configured: readonly ConfiguredSensor[];
  nowNs: bigint;
}

export async function listSensors(deps: SensorDeps): Promise<SensorView[]> {
  const window = healthWindow(deps.nowNs);
  const [stored, health] = await Promise.all([listStoredSensors(deps.db), getStreamHealth(deps.db, window)]);
  const connections = deps.live.connections();
  const names = sensorNames(deps.configured, stored, connections);
  const liveStatuses = await Promise.all(names.map((name) => liveStatus(deps.live, name)));
  return names.map((name, i) =>
    toSensorView({
      name,
      window,
      configured: deps.configured.find((c) => c.name === name),
      stored: stored.find((s) => s.sensor === name),
      health: health.find((h) => h.sensor === name),
      connection: connections.find((c) => c.name === name),
      live: liveStatuses[i] ?? null,
      liveObservedAtNs: deps.nowNs,
    }),
  );
}

/** One sensor with its recent gaps; null when the name is neither configured nor known. */
export async function getSensor(deps: SensorDeps, name: string): Promise<SensorDetailView | null> {
  const window = healthWindow(deps.nowNs);
  const [stored, health, gaps, live] = await Promise.all([
    listStoredSensors(deps.db),
    getStreamHealth(deps.db, window),
    listGaps(deps.db, { sensor: name, ...window, limit: SENSOR_GAPS_LIMIT + 1 }),
    liveStatus(deps.live, name),
  ]);
  const configured = deps.configured.find((c) => c.name === name);
  const storedSummary = stored.find((s) => s.sensor === name);
  const connection = deps.live.connections().find((c) => c.name === name);
  const streamHealth = health.find((h) => h.sensor === name);
  if (!configured && !storedSummary && !connection && !streamHealth && !live && gaps.length === 0) return null;
  const view = toSensorView({
    name,
    window,
    configured,
    stored: storedSummary,
    health: streamHealth,
    connection,
    live,
    liveObservedAtNs: deps.nowNs,
  });
  return {
    ...view,
    gaps: gaps.slice(0, SENSOR_GAPS_LIMIT).map(toGapView),
    gapsTruncated: gaps.length > SENSOR_GAPS_LIMIT,
  };
}

function healthWindow(nowNs: bigint): { fromNs: string; toNs: string } {
  const from = nowNs > SENSOR_HEALTH_WINDOW_NS ? nowNs - SENSOR_HEALTH_WINDOW_NS : 0n;
  return { fromNs: from.toString(), toNs: nowNs.toString() };
}

/** Configured sensors first, in configuration order, then any others storage or the collector knows. */
function sensorNames(
  configured: readonly ConfiguredSensor[],
  stored: readonly StoredSensorSummary[],
  connections: readonly LiveSensorConnection[],
): string[] {
  const names = configured.map((c) => c.name);
  const others = [...stored.map((s) => s.sensor), ...connections.map((c) => c.name)]
    .filter((n) => !names.includes(n))
    .sort();
  return [...names, ...new Set(others)];
}

async function liveStatus(live: LiveSensorSource, name: string): Promise<SensorStatus | null> {
  try {
    return await live.status(name, LIVE_STATUS_TIMEOUT_MS);
  } catch {
    // An unreachable sensor is a state to show (stored status + connection error), not a failure.
    return null;
  }
}

function toSensorView(parts: {
  name: string;
  window: { fromNs: string; toNs: string };
  configured: ConfiguredSensor | undefined;
  stored: StoredSensorSummary | undefined;
  health: StreamHealth | undefined;
  connection: LiveSensorConnection | undefined;
  live: SensorStatus | null;
  liveObservedAtNs: bigint;
}): SensorView {
  const status = parts.live
    ? fromLiveStatus(parts.live, parts.liveObservedAtNs)
    : parts.stored
      ? fromStoredStatus(parts.stored)
      : null;
  const stream = parts.health ? toStreamView(parts.health) : null;
  return {
    name: parts.name,
    address: parts.configured?.address ?? parts.connection?.address ?? null,
    configured: Boolean(parts.configured),
    connection: parts.connection
      ? {
          state: parts.connection.connected ? 'connected' : 'disconnected',
          lastError: parts.connection.lastError,
          reconnects: parts.connection.reconnects,
        }
      : { state: 'unknown', lastError: null, reconnects: null },
    status,
    stream,
    lastStoredSeq: parts.connection?.lastStoredSeq ?? stream?.lastStoredSeq ?? null,
    window: parts.window,
  };
}

function fromLiveStatus(status: SensorStatus, observedAtNs: bigint): SensorStatusView {
  const programs = status.programs.map((p) => ({ name: p.name, attachType: p.attachType, attached: p.attached, error: p.error, onPurpose: p.onPurpose }));
  return {
    source: 'live',
    observedAtNs: observedAtNs.toString(),
    node: status.node,
    mode: status.mode,
    epoch: status.epoch,
    kernelRelease: status.kernelRelease,
    btfAvailable: status.btfAvailable,
    version: status.version,
    programs,
    programsAttached: programs.filter((p) => p.attached).length,
    eventsTotal: status.eventsTotal,
    lastSeq: status.lastSeq,
    droppedKernel: status.droppedKernel,
    droppedUser: status.droppedUser,
    uptimeNs: status.uptimeNs,
    startedAtNs: status.startedAtNs,
    recording: status.recording,
  };
}

/**
 * The parts of the stored status JSON (the full SensorStatus message) that have no column of their
 * own. Parsed leniently: a row written by an older collector must not break the page.
 */
const storedStatusExtrasSchema = z.object({
  programs: z
    .array(
      z.object({
        name: z.string(),
        attachType: z.string().catch(''),
        attached: z.boolean().catch(false),
        error: z.string().catch(''),
        // Rows from before the field: a program not attached is shown as a problem.
        onPurpose: z.boolean().catch(false),
      }),
    )
    .catch([]),
  recording: z.string().catch(''),
});

function fromStoredStatus(stored: StoredSensorSummary): SensorStatusView {
  let extras: z.infer<typeof storedStatusExtrasSchema> = { programs: [], recording: '' };
  try {
    extras = storedStatusExtrasSchema.parse(JSON.parse(stored.statusJson));
  } catch {
    // Unreadable JSON: show the columns we have.
  }
  return {
    source: 'stored',
    observedAtNs: String(stored.observedAtNs),
    node: stored.node,
    mode: stored.mode,
    epoch: stored.epoch,
    kernelRelease: stored.kernelRelease,
    btfAvailable: asBool(stored.btfAvailable),
    version: stored.version,
    programs: extras.programs,
    programsAttached: extras.programs.filter((p) => p.attached).length,
    eventsTotal: String(stored.eventsTotal),
    lastSeq: String(stored.lastSeq),
    droppedKernel: String(stored.droppedKernel),
    droppedUser: String(stored.droppedUser),
    uptimeNs: String(stored.uptimeNs),
    startedAtNs: String(stored.startedAtNs),
    recording: extras.recording,
  };
}

/** ClickHouse Bool arrives as a JSON boolean; older formats send 0/1. */
function asBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function toStreamView(health: StreamHealth): SensorStreamView {
  return {
    lastEpoch: health.lastEpoch,
    lastStoredSeq: String(health.lastSeq),
    lastReceivedNs: String(health.lastReceivedNs),
    batches: String(health.batches),
    events: String(health.events),
    epochs: Number(health.epochs),
  };
}

function toGapView(gap: GapRecord): GapView {
  return {
    epoch: gap.epoch,
    tsNs: String(gap.tsNs),
    kind: gap.kind,
    fromSeq: String(gap.fromSeq),
    toSeq: String(gap.toSeq),
    count: String(gap.count),
    detail: gap.detail,
  };
}
