import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { Db } from '../../db/client';
import { getResumePoint, recordSensorGap, recordSensorStatus, storeEventBatch, type SensorGap } from '../../db/repositories/sensorStream';
import { WatchRequest, type EventBatch, type SensorClient, type SensorStatus } from '../../sensor/gen/soc/sensor/v1/sensor';
import { createSensorClient } from '../../sensor/src/grpc/client';
import type { TlsMaterial } from '../../sensor/src/grpc/server';
import type { Logger } from '../../sensor/src/log';
import type { SensorEndpoint } from './config';
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
  /** Events received from the sensor and events stored (the difference is queued or rejected). */
  eventsReceived: number;
  batchesStored: number;
  eventsStored: number;
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
   * Where the first stream starts: after what storage holds (default), or at the oldest event
   * the sensor still holds — a recovery tool (after restoring storage, say): batches already
   * stored are recognised by their dedup tokens and not stored twice.
   */
  resume?: 'stored' | 'beginning';
}

const NS_PER_MS = 1_000_000n;
const nowNs = () => BigInt(Date.now()) * NS_PER_MS;

/**
 * One sensor: dial over mTLS, resume the Watch stream from what storage holds, validate and
 * store batches in order, record restarts and rejected batches as gaps, poll Status, and reconnect
 * with exponential backoff and jitter. Between the stream and the inserts sits a bounded queue:
 * when storage stalls the queue fills, the stream is paused (HTTP/2 flow control then stops the
 * sensor's writes), and memory stays bounded; the sensor's retention window decides what is kept
 * meanwhile, and anything it had to let go arrives as an explicit gap.
 */
export class SensorLink {
  private readonly opts: SensorLinkOptions;
  private readonly name: string;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private client: SensorClient | null = null;
  private cancelStream: (() => void) | null = null;
  private wakeSleep: (() => void) | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  /** What storage holds for this sensor: the resume point. */
  private cursor: { epoch: string; lastSeq: bigint } | null = null;
  /** The last seq each recent epoch reported in Status: how far a sensor got before a restart. */
  private reportedSeq = new Map<string, bigint>();
  private attempt = 0;
  private readonly state: SensorLinkState;

  constructor(options: SensorLinkOptions) {
    this.opts = options;
    this.name = options.endpoint.name;
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
    if (this.statusTimer) clearInterval(this.statusTimer);
    await this.loop;
    this.client?.close();
  }

  snapshot(): SensorLinkState {
    return { ...this.state, sensorStatus: this.state.sensorStatus ? { ...this.state.sensorStatus } : null };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delivered = false;
      try {
        const db = await this.opts.db();
        if (!this.cursor) {
          const resume = this.opts.resume === 'beginning' ? null : await getResumePoint(db, this.name);
          this.cursor = resume ? { epoch: resume.epoch, lastSeq: BigInt(resume.lastSeq) } : { epoch: '', lastSeq: 0n };
          this.state.epoch = resume?.epoch ?? null;
          this.state.lastStoredSeq = resume?.lastSeq ?? null;
        }
        this.client?.close();
        this.client = createSensorClient(this.opts.endpoint.address, this.opts.tls());
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
   * One Watch stream until it ends; resolves after every received batch was handled. Returns
   * whether anything was stored (a healthy stream resets the backoff).
   */
  private stream(db: Db, client: SensorClient): Promise<boolean> {
    const cursor = this.cursor!;
    const call = client.watch(WatchRequest.fromPartial({ epoch: cursor.epoch, sinceSeq: cursor.lastSeq.toString() }));
    this.opts.log.info('watch', { sensor: this.name, address: this.opts.endpoint.address, epoch: cursor.epoch, sinceSeq: cursor.lastSeq });
    const queue: EventBatch[] = [];
    const high = this.opts.queueBatches;
    const low = Math.max(0, Math.floor(high / 2));
    let ended = false;
    let wake: (() => void) | null = null;
    const signal = () => {
      wake?.();
      wake = null;
    };
    this.cancelStream = () => {
      ended = true;
      call.cancel();
      signal();
    };
    call.on('metadata', () => {
      this.state.connected = true;
    });
    call.on('data', (batch: EventBatch) => {
      this.state.connected = true;
      this.state.eventsReceived += batch.events.length;
      queue.push(batch);
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
      let stored = false;
      try {
        for (;;) {
          const batch = queue.shift();
          this.state.queueDepth = queue.length;
          if (!batch) {
            if (ended || this.stopped) break;
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          if (this.stopped) break;
          await this.handle(db, batch);
          stored = true;
          if (this.state.paused && queue.length <= low) {
            call.resume();
            this.state.paused = false;
          }
        }
      } catch (err) {
        // A configuration error (wrong sensor name) or stop during a retry: end this stream.
        this.fail(err);
        call.cancel();
      } finally {
        this.cancelStream = null;
        this.state.paused = false;
        this.state.queueDepth = 0;
      }
      return stored;
    })();
  }

  /** Validates and stores one batch, in order; records what it finds as gaps. */
  private async handle(db: Db, batch: EventBatch): Promise<void> {
    const verdict = checkBatch(batch, this.name);
    if (!verdict.ok) {
      if (verdict.fatal) throw new Error(verdict.reason);
      await this.reject(db, batch, verdict.reason);
      return;
    }
    const cursor = this.cursor!;
    const first = BigInt(batch.firstSeq);
    const receivedAt = nowNs();
    const firstTs = batch.events[0]?.tsNs ?? receivedAt.toString();
    if (batch.epoch === cursor.epoch) {
      if (batch.events.length > 0 && first <= cursor.lastSeq) {
        await this.reject(db, batch, `seq ${batch.firstSeq}-${batch.lastSeq} overlaps what is stored (through ${cursor.lastSeq})`);
        return;
      }
      if (first > cursor.lastSeq + 1n && !batch.gap) {
        await this.retry('record gap', () =>
          recordSensorGap(db, {
            sensor: this.name,
            epoch: batch.epoch,
            kind: 'seq_gap',
            fromSeq: (cursor.lastSeq + 1n).toString(),
            toSeq: (first - 1n).toString(),
            count: (first - 1n - cursor.lastSeq).toString(),
            tsNs: firstTs,
            detail: `the sensor skipped seqs ${cursor.lastSeq + 1n}-${first - 1n} without flagging a gap`,
          }),
        );
      }
    } else if (cursor.epoch !== '') {
      await this.retry('record restart', () => recordSensorGap(db, this.restartGap(cursor, batch, firstTs)));
      this.opts.log.warn('sensor restarted', { sensor: this.name, from: cursor.epoch, to: batch.epoch, storedThrough: cursor.lastSeq });
    }
    await this.retry('store batch', () => storeEventBatch(db, batch, receivedAt));
    if (batch.events.length > 0 || batch.epoch !== cursor.epoch) {
      this.cursor = { epoch: batch.epoch, lastSeq: batch.events.length > 0 ? BigInt(batch.lastSeq) : 0n };
    }
    this.state.epoch = this.cursor!.epoch;
    this.state.lastStoredSeq = this.cursor!.lastSeq.toString();
    this.state.lastBatchAt = new Date().toISOString();
    this.state.batchesStored++;
    this.state.eventsStored += batch.events.length;
    if (this.state.lastError?.startsWith('storage:')) this.state.lastError = null;
  }

  /**
   * The restart gap describes what may be lost of the epoch that ended: from the seq after the
   * last one stored up to the last seq the sensor reported in Status (when known).
   */
  private restartGap(cursor: { epoch: string; lastSeq: bigint }, batch: EventBatch, tsNs: string): SensorGap {
    const reported = this.reportedSeq.get(cursor.epoch) ?? null;
    const lost = reported !== null && reported > cursor.lastSeq ? reported - cursor.lastSeq : 0n;
    return {
      sensor: this.name,
      epoch: cursor.epoch,
      kind: 'restart',
      fromSeq: (cursor.lastSeq + 1n).toString(),
      toSeq: (cursor.lastSeq + lost).toString(),
      count: lost.toString(),
      tsNs,
      detail:
        `sensor restarted: epoch ${cursor.epoch} (stored through seq ${cursor.lastSeq}) → ${batch.epoch}` +
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
        tsNs: /^[1-9]\d{0,19}$/.test(batch.events[0]?.tsNs ?? '') ? batch.events[0]!.tsNs : nowNs().toString(),
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
