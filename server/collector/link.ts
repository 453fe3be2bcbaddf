import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { Db } from '../../db/client';
import {
  countUnitRows,
  getResumePoint,
  listUnits,
  recordSensorGap,
  recordSensorStatus,
  storePreparedUnit,
  UnitBuilder,
  unitDataRows,
  unitGaps,
  unitRowCounts,
  unitToken,
  type SensorGap,
  type StreamUnit,
  type UnitContents,
  type ZoomInvestigationLookup,
} from '../../db/repositories/sensorStream';
import {
  EventBatch,
  WatchRequest,
  type CancelZoomRequest,
  type Event,
  type ListZoomsRequest,
  type ListZoomsResponse,
  type SensorStatus,
  type Zoom,
  type ZoomRequest,
} from '../../sensor/gen/soc/sensor/v1/sensor';
import { createWireSensorClient, type WireSensorClient } from '../../sensor/src/grpc/client';
import type { TlsMaterial } from '../../sensor/src/grpc/server';
import type { Logger } from '../../sensor/src/log';
import type { SensorEndpoint } from './config';
import { ZoomAdoption } from './adoption';
import { DEFAULT_FACT_FOLD, loadFactFold, type FactFold, type FactFoldOptions } from './factFold';
import { checkBatch } from './validate';

/** What the web API shows about one sensor link (a copy: safe to serialise). */
export interface SensorLinkState {
  name: string;
  address: string;
  connected: boolean;
  /** The epoch and last seq stored for this sensor (null before anything is known). */
  epoch: string | null;
  lastStoredSeq: string | null;
  lastBatchAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Times the link dialled again after a stream ended or failed. */
  reconnects: number;
  /** Events taken from the stream and events stored (the difference is in a unit being filled or stored, or rejected). */
  eventsReceived: number;
  batchesStored: number;
  eventsStored: number;
  /** Units stored (consecutive batches stored together, see db/repositories/sensorStream.ts). */
  unitsStored: number;
  /** Facts stored, and facts not stored because they repeat a stored one within the fold window. */
  factsStored: number;
  factsFolded: number;
  rejectedBatches: number;
  /** Batches waiting between the stream and storage, and whether the stream is paused for it. */
  queueDepth: number;
  paused: boolean;
  sensorStatus: {
    mode: string;
    epoch: string;
    lastSeq: string;
    droppedKernel: string;
    droppedUser: string;
    version: string;
    observedAt: string;
  } | null;
}

/**
 * Sees each unit's events as they are added (to pick what it needs: the events themselves are not
 * kept) and is told when the unit is stored. The detector uses it: it runs right after a unit is
 * stored, in order, without polling storage.
 */
export interface UnitObserver<T = unknown> {
  /** What to keep of one event for later (null: nothing). Must be cheap: it runs on every event. */
  pick(event: Event): T | null;
  /** The unit is stored (units are stored one after the other, in stream order). */
  stored(unit: StreamUnit, picked: T[]): void;
}

export interface SensorLinkOptions {
  endpoint: SensorEndpoint;
  db: () => Promise<Db>;
  /** Read at every dial, so rotated certificate files are used on the next reconnect. */
  tls: () => TlsMaterial;
  log: Logger;
  statusIntervalMs: number;
  queueBatches: number;
  backoffMaxMs: number;
  backoffInitialMs?: number;
  /**
   * A unit closes at this many events (default 65 536; one larger batch makes a unit alone). Large
   * on purpose: the engine's cost per row falls steeply with insert size (background merges of
   * small parts dominate below ~16k rows, see docs/BENCHMARKS.md), and a unit holds only its
   * encoded rows (~150 bytes per process event), not decoded events.
   */
  unitMaxEvents?: number;
  /** … or this long after its first batch arrived (default 100 ms) … */
  unitMaxDelayMs?: number;
  /**
   * … or, by default, as soon as the stream has gone quiet (no batch for unitQuietMs, nothing
   * queued) and storage is idle: a live sensor's batches (sealed every 20 ms) are then stored
   * without waiting for the delay above, while a busy stream still fills large units. False: only
   * the two limits above close a unit.
   */
  unitEager?: boolean;
  /** See unitEager (default 5 ms). */
  unitQuietMs?: number;
  /**
   * Where the first stream starts: after what storage holds (default), or at the oldest event
   * the sensor still holds — a recovery tool (after restoring storage, say): the units already
   * recorded are formed again with the same boundaries and tokens, so nothing is stored twice.
   */
  resume?: 'stored' | 'beginning';
  /** Told about every stored unit (see UnitObserver). */
  observer?: UnitObserver;
  /** Folding of repeated facts at storage (factFold.ts; default DEFAULT_FACT_FOLD; windowMs 0: off). */
  factFold?: FactFoldOptions;
  /**
   * Maps zoom ids to investigations when evidence is stored (see sensorStream.ts). `ready` is
   * awaited before the first stream: it loads what storage already knows.
   */
  zooms?: ZoomInvestigationLookup & { ready(db: Db): Promise<void> };
  /**
   * How long a zoom state naming an investigation this cockpit does not have (a replayed
   * recording's) waits for the cockpit's own investigation of its target before one is made for
   * it (default 5 s; see adoption.ts).
   */
  adoptionGraceMs?: number;
}

/** How long a zoom order or cancel may take over the link before it is reported unavailable. */
const ZOOM_CALL_DEADLINE_MS = 5_000;

const NS_PER_MS = 1_000_000n;
const nowNs = () => BigInt(Date.now()) * NS_PER_MS;
const DEFAULT_UNIT_MAX_EVENTS = 65_536;
const DEFAULT_UNIT_MAX_DELAY_MS = 100;
const DEFAULT_UNIT_QUIET_MS = 5;

/** A unit being filled: consecutive events of one epoch, [firstSeq, lastSeq]. */
interface OpenUnit {
  /** free: boundaries chosen now; redo: exactly a recorded unit's range (same token). */
  kind: 'free' | 'redo';
  record: StreamUnit | null;
  epoch: string;
  firstSeq: number;
  lastSeq: number;
  /** The events, encoded as they are added (they are not kept). */
  builder: UnitBuilder;
  events: number;
  /** Batches that ended in this unit (statistics). */
  batches: number;
  /** What the observer picked of the unit's events. */
  picked: unknown[];
  /** The fact fold the builder asks (it follows the unit's events). */
  fold: FactFold | undefined;
  gap: boolean;
  missing: number;
  dropped: bigint;
  droppedKernel: bigint;
  droppedUser: bigint;
  openedAtMs: number;
}

/**
 * The units already recorded for the epoch being read, from the position onwards: the stream
 * must form exactly these again (or, when it cannot, verify the last one). `next` is the first
 * one not passed yet.
 */
interface Plan {
  epoch: string;
  units: StreamUnit[];
  next: number;
  /** The epoch's newest unit — the only one that may be incomplete — was redone or verified. */
  finalSettled: boolean;
}

/**
 * One sensor: dial over mTLS, resume the Watch stream from what storage holds, validate batches
 * and store them in **units** (consecutive batches of one epoch, stored with one dedup token —
 * the protocol is described in db/repositories/sensorStream.ts), record restarts, rejected
 * batches and shortfalls as gaps, poll Status, and reconnect with exponential backoff and jitter.
 *
 * Unit boundaries: a unit holds consecutive seqs of one epoch (a new epoch or a gap starts a new
 * one); where storage already records units (the newest one after a restart, all of them when
 * re-reading from the beginning) exactly those ranges are formed again, batches split where they
 * straddle one; elsewhere a unit closes at unitMaxEvents, unitMaxDelayMs after its first batch
 * arrived, or when the stream has gone quiet and storage is idle.
 *
 * Between the stream and storage: a bounded queue of batches (kept as bytes, decoded when taken),
 * then the unit being filled (≤ unitMaxEvents; its rows are encoded as its batches arrive, the
 * decoded events are not kept), then at most one unit being stored: a closed unit waits for the
 * previous one, as units are stored strictly one after the other (the protocol needs that), and
 * is meanwhile filled no further. When storage stalls, the closed unit waits, the
 * queue fills, the stream is paused (HTTP/2 flow control then stops the sensor's writes), and
 * memory stays bounded; the sensor's retention window decides what is kept meanwhile, and
 * anything it had to let go arrives as an explicit gap.
 */
export class SensorLink {
  private readonly opts: SensorLinkOptions;
  private readonly name: string;
  private readonly unitMaxEvents: number;
  private readonly unitMaxDelayMs: number;
  private readonly unitEager: boolean;
  private readonly unitQuietMs: number;
  /** When the last batch arrived from the stream (ms). */
  private lastArrivalMs = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private client: WireSensorClient | null = null;
  private cancelStream: (() => void) | null = null;
  private wakeSleep: (() => void) | null = null;
  private wakeConsumer: (() => void) | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  /**
   * Where the next stream starts (Watch epoch/since): everything of `epoch` up to `lastSeq` is
   * stored or accounted for. Null: read it from storage (at start, and after a stream that did
   * not end cleanly).
   */
  private stored: { epoch: string; lastSeq: number } | null = null;
  private firstLoad = true;
  /** Position of the stream being read: the last seq handled (stored, queued in a unit, skipped). */
  private pos: { epoch: string; seq: number } = { epoch: '', seq: 0 };
  private plan: Plan | null = null;
  private open: OpenUnit | null = null;
  /**
   * The fact fold through the last event put in a unit (factFold.ts). Dropped whenever a unit is
   * dropped unstored, so that it never holds what storage will not: it is then rebuilt from storage.
   */
  private fold: FactFold | null = null;
  private readonly foldOptions: FactFoldOptions;
  /** The unit being stored (at most one), and whether it is still running. */
  private inflight: Promise<void> | null = null;
  private storing = false;
  /** Size of the last unit closed: how much room the next one starts with. */
  private lastUnitEvents = 0;
  /** The last seq each recent epoch reported in Status: how far a sensor got before a restart. */
  private reportedSeq = new Map<string, bigint>();
  private attempt = 0;
  /** The sensor's node, from its Status (zoom orders are routed by node). */
  private nodeName: string | null = null;
  private readonly state: SensorLinkState;
  /** Zoom → investigation for this stream's units, adopting zooms this cockpit did not order. */
  private readonly zooms: ZoomAdoption | undefined;

  constructor(options: SensorLinkOptions) {
    this.opts = options;
    this.name = options.endpoint.name;
    this.zooms = options.zooms
      ? new ZoomAdoption({ sensor: this.name, lookup: options.zooms, log: options.log, graceMs: options.adoptionGraceMs })
      : undefined;
    this.unitMaxEvents = Math.max(1, options.unitMaxEvents ?? DEFAULT_UNIT_MAX_EVENTS);
    this.unitMaxDelayMs = Math.max(0, options.unitMaxDelayMs ?? DEFAULT_UNIT_MAX_DELAY_MS);
    this.unitEager = options.unitEager ?? true;
    this.unitQuietMs = Math.max(0, options.unitQuietMs ?? DEFAULT_UNIT_QUIET_MS);
    this.foldOptions = options.factFold ?? DEFAULT_FACT_FOLD;
    this.state = {
      name: this.name,
      address: options.endpoint.address,
      connected: false,
      epoch: null,
      lastStoredSeq: null,
      lastBatchAt: null,
      lastError: null,
      lastErrorAt: null,
      reconnects: 0,
      eventsReceived: 0,
      batchesStored: 0,
      eventsStored: 0,
      unitsStored: 0,
      factsStored: 0,
      factsFolded: 0,
      rejectedBatches: 0,
      queueDepth: 0,
      paused: false,
      sensorStatus: null,
    };
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading; what was received but not stored is simply re-sent after the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelStream?.();
    this.wakeSleep?.();
    this.wakeConsumer?.();
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.loop;
    this.client?.close();
  }

  /** The node the sensor watches (from its last Status), null before the first one. */
  get node(): string | null {
    return this.nodeName;
  }

  /** The sensor's configured name. */
  get sensor(): string {
    return this.name;
  }

  /**
   * Orders a zoom-in over this link's mTLS client. Rejects with the gRPC error (a ServiceError:
   * the sensor's refusal, or UNAVAILABLE when the link is down or TLS fails).
   */
  zoomIn(request: ZoomRequest, timeoutMs = ZOOM_CALL_DEADLINE_MS): Promise<Zoom> {
    return this.unary<ZoomRequest, Zoom>('zoomIn', request, timeoutMs);
  }

  cancelZoom(request: CancelZoomRequest, timeoutMs = ZOOM_CALL_DEADLINE_MS): Promise<Zoom> {
    return this.unary<CancelZoomRequest, Zoom>('cancelZoom', request, timeoutMs);
  }

  listZooms(request: ListZoomsRequest, timeoutMs = ZOOM_CALL_DEADLINE_MS): Promise<ListZoomsResponse> {
    return this.unary<ListZoomsRequest, ListZoomsResponse>('listZooms', request, timeoutMs);
  }

  private unary<Req, Res>(method: 'zoomIn' | 'cancelZoom' | 'listZooms', request: Req, timeoutMs: number): Promise<Res> {
    const client = this.client;
    if (!client || this.stopped) {
      const reason = this.state.lastError ? `; last error: ${this.state.lastError}` : '';
      return Promise.reject(unavailable(`not connected to sensor ${this.name} (${this.opts.endpoint.address})${reason}`));
    }
    return new Promise<Res>((resolve, reject) => {
      const call = client[method] as unknown as (req: Req, md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown;
      call.call(client, request, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  snapshot(): SensorLinkState {
    return { ...this.state, sensorStatus: this.state.sensorStatus ? { ...this.state.sensorStatus } : null };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delivered = false;
      try {
        const db = await this.opts.db();
        await this.zooms?.ready(db);
        if (!this.stored) await this.loadResumePoint(db);
        this.client?.close();
        // Cleared first: reading the certificates may throw, and a closed client must not be
        // used again (its calls throw synchronously, from the Status timer too).
        this.client = null;
        this.client = createWireSensorClient(this.opts.endpoint.address, this.opts.tls());
        this.startStatusPolling(db);
        delivered = await this.stream(db, this.client);
      } catch (err) {
        this.fail(err);
      }
      this.state.connected = false;
      if (this.stopped) break;
      this.attempt = delivered ? 0 : this.attempt + 1;
      await this.sleep(this.backoffMs());
      if (this.stopped) break;
      this.state.reconnects++;
    }
  }

  /**
   * From storage: resume just before the newest recorded unit, which the stream then forms again
   * exactly (it may be incomplete). In 'beginning' mode (first start only): from the oldest event
   * the sensor holds; the recorded units are read when the stream's epoch is known.
   */
  private async loadResumePoint(db: Db): Promise<void> {
    this.plan = null;
    const beginning = this.firstLoad && this.opts.resume === 'beginning';
    this.firstLoad = false;
    const resume = beginning ? null : await getResumePoint(db, this.name);
    if (resume) {
      const unit = resume.unit;
      this.stored = { epoch: unit.epoch, lastSeq: Number(unit.firstSeq) - 1 };
      this.plan = { epoch: unit.epoch, units: [unit], next: 0, finalSettled: false };
      this.state.epoch = unit.epoch;
      this.state.lastStoredSeq ??= unit.lastSeq;
    } else {
      this.stored = { epoch: '', lastSeq: 0 };
    }
  }

  /**
   * One Watch stream until it ends; resolves after every received batch was handled. Returns
   * whether anything was stored (a healthy stream resets the backoff).
   */
  private stream(db: Db, client: WireSensorClient): Promise<boolean> {
    const start = this.stored!;
    this.pos = { epoch: start.epoch, seq: start.lastSeq };
    const call = client.watch(WatchRequest.fromPartial({ epoch: start.epoch, sinceSeq: String(start.lastSeq) }));
    this.opts.log.info('watch', { sensor: this.name, address: this.opts.endpoint.address, epoch: start.epoch, sinceSeq: start.lastSeq });
    // Batches as their protobuf bytes, decoded when taken: queued batches stay one buffer each.
    const queue: Buffer[] = [];
    const high = this.opts.queueBatches;
    const low = Math.max(0, Math.floor(high / 2));
    let ended = false;
    let wake: (() => void) | null = null;
    const signal = () => {
      wake?.();
      wake = null;
    };
    this.wakeConsumer = signal;
    this.cancelStream = () => {
      ended = true;
      call.cancel();
      signal();
    };
    call.on('metadata', () => {
      this.state.connected = true;
    });
    call.on('data', (bytes: Buffer) => {
      this.state.connected = true;
      this.lastArrivalMs = Date.now();
      queue.push(bytes);
      this.state.queueDepth = queue.length;
      if (queue.length >= high && !call.isPaused()) {
        call.pause();
        this.state.paused = true;
      }
      signal();
    });
    call.on('error', (err: ServiceError) => {
      ended = true;
      this.state.connected = false;
      // CANCELLED is ours (stop, or a batch that ended the stream): its reason is already recorded.
      if (err.code !== GrpcStatus.CANCELLED) this.fail(err, 'stream');
      signal();
    });
    call.on('end', () => {
      ended = true;
      this.state.connected = false;
      signal();
    });

    return (async () => {
      let delivered = false;
      let clean = false;
      try {
        for (;;) {
          const bytes = queue.shift();
          this.state.queueDepth = queue.length;
          if (bytes) {
            if (this.stopped) break;
            const batch = EventBatch.decode(bytes);
            this.state.eventsReceived += batch.events.length;
            await this.handle(db, batch);
            delivered = true;
            if (this.state.paused && queue.length <= low) {
              call.resume();
              this.state.paused = false;
            }
            await this.closeIfDue(db, queue.length === 0);
            continue;
          }
          if (ended || this.stopped) break;
          if (await this.closeIfDue(db, true)) continue;
          // Wait for a batch, the open unit's deadline (or the end of a quiet period), or the
          // unit being stored to finish.
          const open = this.open;
          const now = Date.now();
          let delay: number | null = null;
          if (open?.kind === 'free') {
            delay = Math.max(0, open.openedAtMs + this.unitMaxDelayMs - now);
            if (this.unitEager && !this.storing) delay = Math.min(delay, Math.max(0, this.lastArrivalMs + this.unitQuietMs - now));
          }
          await new Promise<void>((resolve) => {
            const timer = delay === null ? null : setTimeout(resolve, delay + 1);
            wake = () => {
              if (timer) clearTimeout(timer);
              resolve();
            };
          });
        }
        if (!this.stopped) {
          await this.finishStream(db);
          clean = true;
        }
      } catch (err) {
        // A configuration error (wrong sensor name), or stop during a retry: end this stream.
        this.fail(err);
        call.cancel();
      } finally {
        this.cancelStream = null;
        this.wakeConsumer = null;
        this.state.paused = false;
        this.state.queueDepth = 0;
        if (!clean) {
          // What was received but not stored is re-sent; where to resume is read from storage.
          this.open = null;
          this.fold = null;
          await this.inflight?.catch(() => undefined);
          this.inflight = null;
          this.stored = null;
          this.plan = null;
        }
      }
      return delivered;
    })();
  }

  /** The stream ended: store the open unit (a partial redo is dropped: it is re-sent). */
  private async finishStream(db: Db): Promise<void> {
    const open = this.open;
    if (open?.kind === 'redo' && open.lastSeq !== Number(open.record!.lastSeq)) {
      this.dropOpen();
      this.pos.seq = open.firstSeq - 1;
    }
    await this.closeUnit(db);
    await this.waitStorer();
    this.stored = { epoch: this.pos.epoch, lastSeq: this.pos.seq };
  }

  /**
   * Closes the open (free) unit when it is full, old enough, or — eager mode — when the stream is
   * quiet (nothing queued, no batch for unitQuietMs) and storage is idle. Returns whether it
   * closed one.
   */
  private async closeIfDue(db: Db, idle: boolean): Promise<boolean> {
    const open = this.open;
    if (!open || open.kind !== 'free') return false;
    const now = Date.now();
    if (
      open.events >= this.unitMaxEvents ||
      now - open.openedAtMs >= this.unitMaxDelayMs ||
      (idle && this.unitEager && !this.storing && now - this.lastArrivalMs >= this.unitQuietMs)
    ) {
      await this.closeUnit(db);
      return true;
    }
    return false;
  }

  /** Validates one batch and adds its events to units (see the class comment); records gaps. */
  private async handle(db: Db, batch: EventBatch): Promise<void> {
    const verdict = checkBatch(batch, this.name);
    if (!verdict.ok) {
      if (verdict.fatal) throw new Error(verdict.reason);
      await this.reject(db, batch, verdict.reason);
      return;
    }
    const first = Number(batch.firstSeq);
    const last = Number(batch.lastSeq);
    if (batch.epoch !== this.pos.epoch) await this.switchEpoch(db, batch);
    this.state.lastBatchAt = new Date().toISOString();
    if (batch.events.length === 0) {
      await this.recordBatchDrops(db, batch);
      return;
    }
    if (first <= this.pos.seq) {
      await this.reject(db, batch, `seq ${batch.firstSeq}-${batch.lastSeq} overlaps what is stored (through ${this.pos.seq})`);
      return;
    }
    for (const state of this.zooms?.unsettled(batch.events) ?? []) {
      await this.zooms!.settle(db, state, batch.epoch, () => this.storeOpenFreeUnit(db));
    }
    let seq = first;
    let firstSegment = true;
    while (seq <= last) {
      await this.passUnitsBefore(db, seq);
      const plan = this.plan;
      const recorded = plan && plan.next < plan.units.length ? plan.units[plan.next]! : null;
      const recordedFirst = recorded ? Number(recorded.firstSeq) : Infinity;
      if (recorded && recordedFirst <= seq) {
        // Inside a recorded unit: form it again exactly, or skip what cannot be.
        const recordedLast = Number(recorded.lastSeq);
        const end = Math.min(last, recordedLast);
        const events = slice(batch.events, seq - first, end - first + 1);
        const open = this.open;
        if (open?.kind === 'redo' && open.record === recorded && open.lastSeq === seq - 1) {
          append(open, events, end, this.opts.observer);
        } else if (seq === recordedFirst) {
          await this.closeUnit(db);
          this.open = newUnit(db, 'redo', recorded, this.name, batch.epoch, seq, false, 0, undefined, this.zooms, await this.foldAt(db, batch.epoch, seq));
          append(this.open, events, end, this.opts.observer);
        } else {
          if (open?.record === recorded) this.dropOpen();
          await this.cannotRedo(db, recorded, plan!);
        }
        this.pos.seq = end;
        if (end === recordedLast) {
          if (this.open?.record === recorded) await this.closeUnit(db);
          plan!.next++;
        }
        seq = end + 1;
      } else {
        // Free: new units, bounded by the next recorded one.
        const end = Math.min(last, recordedFirst - 1);
        const events = slice(batch.events, seq - first, end - first + 1);
        const missing = seq - this.pos.seq - 1;
        let open = this.open;
        if (!(open?.kind === 'free' && open.lastSeq === seq - 1)) {
          await this.closeUnit(db);
          const flagged = firstSegment && batch.gap;
          if (missing > 0 && !batch.gap) await this.recordUnflaggedGap(db, batch, missing, seq);
          const fold = await this.foldAt(db, batch.epoch, seq);
          open = this.open = newUnit(db, 'free', null, this.name, batch.epoch, seq, flagged, flagged ? Math.max(0, missing) : 0, this.expectedEvents(), this.zooms, fold);
        } else if (open.events > 0 && open.events + events.length > this.unitMaxEvents) {
          await this.closeUnit(db);
          open = this.open = newUnit(db, 'free', null, this.name, batch.epoch, seq, false, 0, this.expectedEvents(), this.zooms, await this.foldAt(db, batch.epoch, seq));
        }
        append(open, events, end, this.opts.observer);
        if (firstSegment) {
          open.dropped += BigInt(batch.dropped);
          open.droppedKernel += BigInt(batch.droppedKernel);
          open.droppedUser += BigInt(batch.droppedUser);
        }
        this.pos.seq = end;
        seq = end + 1;
      }
      firstSegment = false;
    }
    if (this.open) this.open.batches++;
  }

  /**
   * Stores what the stream delivered so far (the open unit, when its boundaries are free), so
   * that the detector sees it before a zoom's adoption waits for the detector's investigation.
   */
  private async storeOpenFreeUnit(db: Db): Promise<void> {
    if (this.open?.kind === 'free') await this.closeUnit(db);
    await this.waitStorer();
  }

  /** Recorded units that end before `seq` were passed without being formed again. */
  private async passUnitsBefore(db: Db, seq: number): Promise<void> {
    const plan = this.plan;
    while (plan && plan.next < plan.units.length && Number(plan.units[plan.next]!.lastSeq) < seq) {
      const unit = plan.units[plan.next]!;
      if (this.open?.record === unit) this.dropOpen();
      await this.cannotRedo(db, unit, plan);
      this.pos.seq = Math.max(this.pos.seq, Number(unit.lastSeq));
      plan.next++;
    }
  }

  /**
   * A recorded unit cannot be formed again (its start is no longer held, or a new epoch began).
   * Every unit but an epoch's newest is complete by construction (the next one's intent is
   * written after its data); the newest is counted, and a shortfall recorded as a gap.
   */
  private async cannotRedo(db: Db, unit: StreamUnit, plan: Plan): Promise<void> {
    if (plan.finalSettled || unit !== plan.units.at(-1)) return;
    plan.finalSettled = true;
    await this.waitStorer();
    let stored = 0;
    await this.retry('verify unit', async () => {
      stored = await countUnitRows(db, unit);
    });
    const recorded = unitDataRows(unit);
    const short = recorded - stored;
    this.opts.log.warn('unit could not be formed again', { sensor: this.name, unit: unitToken(unit), rows: recorded, stored });
    if (short <= 0) return;
    await this.retry('record shortfall', () =>
      recordSensorGap(db, {
        sensor: this.name,
        epoch: unit.epoch,
        kind: 'unit_shortfall',
        fromSeq: unit.firstSeq,
        toSeq: unit.lastSeq,
        count: String(short),
        tsNs: unit.firstTsNs,
        detail:
          `unit ${unit.firstSeq}-${unit.lastSeq} was recorded but only ${stored} of its ${recorded} row(s) (process events, facts, counters, evidence) ` +
          `were stored, and the sensor no longer holds it`,
      }),
    );
  }

  /**
   * A batch of another epoch: the open unit is closed (units never span epochs), the newest unit
   * of the old epoch is settled, the restart recorded, and the new epoch's recorded units read.
   */
  private async switchEpoch(db: Db, batch: EventBatch): Promise<void> {
    const open = this.open;
    if (open?.kind === 'redo' && open.lastSeq !== Number(open.record!.lastSeq)) this.dropOpen();
    await this.closeUnit(db);
    await this.waitStorer();
    const old = this.pos;
    const plan = this.plan;
    if (plan && plan.epoch === old.epoch && plan.next < plan.units.length) {
      const newest = plan.units.at(-1)!;
      await this.cannotRedo(db, newest, plan);
      old.seq = Math.max(old.seq, Number(newest.lastSeq));
    }
    const first = Number(batch.firstSeq);
    const firstTs = batch.events[0]?.tsNs ?? nowNs().toString();
    if (old.epoch !== '') {
      // One restart per pair of epochs, however often it is seen (a collector restarted before it
      // stored anything of the new epoch sees it again, maybe knowing less about the old one).
      const token = `${this.name}:${old.epoch}:restart:${batch.epoch}`;
      await this.retry('record restart', () => recordSensorGap(db, this.restartGap(old, batch, firstTs), token));
      this.opts.log.warn('sensor restarted', { sensor: this.name, from: old.epoch, to: batch.epoch, storedThrough: old.seq });
    }
    this.pos = { epoch: batch.epoch, seq: Math.max(0, first - 1 - Number(batch.missing)) };
    let units: StreamUnit[] = [];
    await this.retry('list units', async () => {
      units = await listUnits(db, this.name, batch.epoch, String(first));
    });
    this.plan = { epoch: batch.epoch, units: nonOverlapping(units), next: 0, finalSettled: false };
    // state.epoch changes with lastStoredSeq, when a unit of the new epoch is stored.
  }

  /**
   * Hands the open unit to storage: encodes it now (while the previous unit may still be being
   * inserted), then waits for the previous one and starts storing this one in the background.
   */
  private async closeUnit(db: Db): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (open.events === 0) return;
    this.lastUnitEvents = open.events;
    const contents = open.builder.contents();
    let unit: StreamUnit;
    if (open.kind === 'redo') {
      unit = open.record!;
      if (unitRowCounts(contents) !== unitRowCounts(unit)) {
        // Not the events it was recorded with (a different recording under the same epoch?).
        this.opts.log.warn('recorded unit differs on re-read', {
          sensor: this.name,
          unit: unitToken(unit),
          rows: unitRowCounts(contents),
          recorded: unitRowCounts(unit),
        });
        this.fold = null;
        const plan = this.plan;
        if (plan) await this.cannotRedo(db, unit, plan);
        return;
      }
    } else {
      unit = this.record(open, contents);
    }
    const prepared = open.builder.prepare(unit);
    await this.waitStorer();
    this.storing = true;
    const task = this.retry('store unit', () => storePreparedUnit(db, prepared)).then(
      () => {
        this.storing = false;
        try {
          this.opts.observer?.stored(unit, open.picked);
        } catch (err) {
          this.fail(err, 'observer');
        }
        this.stored = { epoch: unit.epoch, lastSeq: Number(unit.lastSeq) };
        const plan = this.plan;
        if (plan && plan.epoch === unit.epoch && unit === plan.units.at(-1)) plan.finalSettled = true;
        this.state.epoch = unit.epoch;
        this.state.lastStoredSeq = unit.lastSeq;
        this.state.unitsStored++;
        this.state.batchesStored += open.batches;
        this.state.eventsStored += unit.events;
        this.state.factsStored += unit.factRows;
        this.state.factsFolded += unit.factsFolded;
        if (this.state.lastError?.startsWith('storage:')) this.state.lastError = null;
        this.wakeConsumer?.();
      },
      (err: unknown) => {
        this.storing = false;
        this.wakeConsumer?.();
        throw err;
      },
    );
    task.catch(() => undefined); // observed by waitStorer
    this.inflight = task;
  }

  /** The open unit is dropped unstored: the fold saw its facts, so it is rebuilt when next needed. */
  private dropOpen(): void {
    this.open = null;
    this.fold = null;
  }

  /**
   * The fold for a unit starting at `seq`: the one in memory when the stream is continuous,
   * else rebuilt from what storage holds before `seq` (after the unit being stored is stored).
   */
  private async foldAt(db: Db, epoch: string, seq: number): Promise<FactFold | undefined> {
    if (this.foldOptions.windowMs <= 0) return undefined;
    const fold = this.fold;
    if (fold && fold.epoch === epoch && fold.nextSeq === seq) return fold;
    this.fold = null;
    await this.waitStorer();
    let loaded: FactFold | null = null;
    await this.retry('load fact fold', async () => {
      loaded = await loadFactFold(db, this.foldOptions, this.name, epoch, seq);
    });
    this.fold = loaded;
    return loaded ?? undefined;
  }

  /** Waits for the unit being stored; rethrows if storing it was given up (stop). */
  private async waitStorer(): Promise<void> {
    const task = this.inflight;
    if (!task) return;
    try {
      await task;
    } finally {
      if (this.inflight === task) this.inflight = null;
    }
  }

  private expectedEvents(): number {
    return Math.min(this.unitMaxEvents, Math.max(64, this.lastUnitEvents));
  }

  /** The intent record of a free unit. */
  private record(open: OpenUnit, contents: UnitContents): StreamUnit {
    return {
      sensor: this.name,
      epoch: open.epoch,
      firstSeq: String(open.firstSeq),
      lastSeq: String(open.lastSeq),
      gap: open.gap,
      missing: String(open.missing),
      dropped: open.dropped.toString(),
      droppedKernel: open.droppedKernel.toString(),
      droppedUser: open.droppedUser.toString(),
      receivedAtNs: nowNs().toString(),
      ...contents,
    };
  }

  /** A batch without events carries only drops: they are recorded at once, with its own token. */
  private async recordBatchDrops(db: Db, batch: EventBatch): Promise<void> {
    const at = nowNs().toString();
    const gaps = unitGaps({
      sensor: this.name,
      epoch: batch.epoch,
      firstSeq: batch.firstSeq,
      lastSeq: batch.lastSeq,
      events: 0,
      processRows: 0,
      factRows: 0,
      factsFolded: 0,
      counterRows: 0,
      evidenceRows: 0,
      zoomRows: 0,
      gap: false,
      missing: '0',
      dropped: batch.dropped,
      droppedKernel: batch.droppedKernel,
      droppedUser: batch.droppedUser,
      firstTsNs: at,
      lastTsNs: at,
      minTsNs: at,
      maxTsNs: at,
      receivedAtNs: at,
    });
    for (const gap of gaps) await this.retry('record drops', () => recordSensorGap(db, gap));
  }

  private async recordUnflaggedGap(db: Db, batch: EventBatch, missing: number, seq: number): Promise<void> {
    const from = seq - missing;
    await this.retry('record gap', () =>
      recordSensorGap(db, {
        sensor: this.name,
        epoch: batch.epoch,
        kind: 'seq_gap',
        fromSeq: String(from),
        toSeq: String(seq - 1),
        count: String(missing),
        tsNs: batch.events[0]!.tsNs,
        detail: `the sensor skipped seqs ${from}-${seq - 1} without flagging a gap`,
      }),
    );
  }

  /**
   * The restart gap describes what may be lost of the epoch that ended: from the seq after the
   * last one stored up to the last seq the sensor reported in Status (when known).
   */
  private restartGap(old: { epoch: string; seq: number }, batch: EventBatch, tsNs: string): SensorGap {
    const through = BigInt(old.seq);
    const reported = this.reportedSeq.get(old.epoch) ?? null;
    const lost = reported !== null && reported > through ? reported - through : 0n;
    return {
      sensor: this.name,
      epoch: old.epoch,
      kind: 'restart',
      fromSeq: (through + 1n).toString(),
      toSeq: (through + lost).toString(),
      count: lost.toString(),
      tsNs,
      detail:
        `sensor restarted: epoch ${old.epoch} (stored through seq ${through}) → ${batch.epoch}` +
        (reported === null
          ? '; how far the old epoch got after that is unknown'
          : `; the sensor had reported seq ${reported}, ${lost} event(s) of the old epoch were never received`),
    };
  }

  private async reject(db: Db, batch: EventBatch, reason: string): Promise<void> {
    this.state.rejectedBatches++;
    this.opts.log.warn('batch rejected', { sensor: this.name, epoch: batch.epoch, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, reason });
    const seq = (v: string) => (/^\d{1,20}$/.test(v) ? v : '0');
    await this.retry('record rejected batch', () =>
      recordSensorGap(db, {
        sensor: this.name,
        epoch: batch.epoch.slice(0, 128),
        kind: 'rejected_batch',
        fromSeq: seq(batch.firstSeq),
        toSeq: seq(batch.lastSeq),
        count: String(batch.events.length),
        // The first event's time when it has one: a re-sent copy then records the same row.
        tsNs: /^[1-9]\d{0,18}$/.test(batch.events[0]?.tsNs ?? '') ? batch.events[0]!.tsNs : nowNs().toString(),
        detail: `batch rejected: ${reason}`,
      }),
    );
  }

  /** Retries a storage operation with backoff until it succeeds or the link stops. */
  private async retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn();
        return;
      } catch (err) {
        this.fail(err, `storage: ${what}`);
        if (this.stopped) throw new Error(`stopped while retrying ${what}`);
        await this.sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)));
        if (this.stopped) throw new Error(`stopped while retrying ${what}`);
      }
    }
  }

  private startStatusPolling(db: Db): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    const poll = () => {
      const client = this.client;
      if (!client || this.stopped) return;
      client.status({}, new Metadata(), { deadline: Date.now() + 5000 }, (err, status) => {
        if (err || !status || this.stopped) return;
        if (status.sensor !== this.name) {
          this.fail(new Error(`sensor calls itself "${status.sensor}", configured as "${this.name}"`));
          return;
        }
        this.rememberReportedSeq(status);
        if (status.node) this.nodeName = status.node;
        this.state.sensorStatus = {
          mode: status.mode,
          epoch: status.epoch,
          lastSeq: status.lastSeq,
          droppedKernel: status.droppedKernel,
          droppedUser: status.droppedUser,
          version: status.version,
          observedAt: new Date().toISOString(),
        };
        recordSensorStatus(db, status, nowNs()).catch((e: unknown) => this.fail(e, 'storage: record status'));
      });
    };
    poll();
    this.statusTimer = setInterval(poll, this.opts.statusIntervalMs);
  }

  private rememberReportedSeq(status: SensorStatus): void {
    this.reportedSeq.delete(status.epoch);
    this.reportedSeq.set(status.epoch, BigInt(status.lastSeq));
    // A handful of epochs is plenty: only the one before a restart is ever asked for.
    for (const epoch of this.reportedSeq.keys()) {
      if (this.reportedSeq.size <= 4) break;
      this.reportedSeq.delete(epoch);
    }
  }

  /** Exponential backoff with equal jitter: half fixed, half random, capped. */
  private backoffMs(): number {
    const initial = this.opts.backoffInitialMs ?? 250;
    const ceiling = Math.min(this.opts.backoffMaxMs, initial * 2 ** Math.min(this.attempt, 20));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }

  private fail(err: unknown, context?: string): void {
    const message = err instanceof Error ? (err as ServiceError).details || err.message : String(err);
    const text = context ? `${context}: ${message}` : message;
    this.state.lastError = text;
    this.state.lastErrorAt = new Date().toISOString();
    this.opts.log.warn('sensor link error', { sensor: this.name, error: text });
  }
}

function newUnit(
  db: Db,
  kind: OpenUnit['kind'],
  record: StreamUnit | null,
  sensor: string,
  epoch: string,
  firstSeq: number,
  gap: boolean,
  missing: number,
  expectedEvents?: number,
  zooms?: ZoomInvestigationLookup,
  fold?: FactFold,
): OpenUnit {
  return {
    kind,
    record,
    epoch,
    firstSeq,
    lastSeq: firstSeq - 1,
    builder: new UnitBuilder(db, sensor, epoch, record?.events ?? expectedEvents, zooms, fold),
    fold,
    events: 0,
    batches: 0,
    picked: [],
    gap,
    missing,
    dropped: 0n,
    droppedKernel: 0n,
    droppedUser: 0n,
    openedAtMs: Date.now(),
  };
}

function append(unit: OpenUnit, events: Event[], lastSeq: number, observer?: UnitObserver): void {
  unit.builder.add(events);
  if (unit.fold) unit.fold.nextSeq = lastSeq + 1;
  if (observer) {
    for (const event of events) {
      const picked = observer.pick(event);
      if (picked !== null) unit.picked.push(picked);
    }
  }
  unit.events += events.length;
  unit.lastSeq = lastSeq;
}

function slice(events: Event[], from: number, count: number): Event[] {
  return from === 0 && count === events.length ? events : events.slice(from, from + count);
}

/** Recorded units in seq order, dropping any that overlaps an earlier one (never expected). */
function nonOverlapping(units: StreamUnit[]): StreamUnit[] {
  const out: StreamUnit[] = [];
  let through = -1;
  for (const unit of units) {
    if (Number(unit.firstSeq) <= through) continue;
    out.push(unit);
    through = Number(unit.lastSeq);
  }
  return out;
}

/** A ServiceError-shaped UNAVAILABLE, as gRPC reports a link that is down. */
function unavailable(details: string): ServiceError {
  return Object.assign(new Error(`${GrpcStatus.UNAVAILABLE} UNAVAILABLE: ${details}`), {
    code: GrpcStatus.UNAVAILABLE,
    details,
    metadata: new Metadata(),
  }) as ServiceError;
}
