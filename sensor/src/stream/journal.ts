import { randomBytes } from 'node:crypto';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { Event, EventBatch } from '../../gen/soc/sensor/v1/sensor';

/**
 * The sensor's outgoing journal: the one place where events get their sequence numbers.
 *
 * - A producer **epoch** (time-ordered random id) names this run of the sensor; seqs restart at 1.
 * - Appended events are encoded once and grouped into **sealed batches** (by count, bytes and a
 *   short delay). Every subscriber sees the same sealed boundaries, so a batch re-sent after a
 *   reconnect covers exactly the same seq range as before and the cockpit's per-range dedup token
 *   recognises it (a client may ask for smaller batches: they are cut on a fixed grid inside each
 *   sealed batch, so they too are the same on every resend).
 * - Drops reported by the kernel source are attached to the batch that was open when they were
 *   reported (in-band, like Tetragon's throttle events): `dropped*` of a batch are the events lost
 *   between the previous batch and this one.
 * - A bounded **retention window** (events and approximate bytes) serves resumes. Subscribers read
 *   from the window, never from a private queue, so a slow client costs no memory: when it falls
 *   behind the window it gets a batch flagged `gap` with the number of seqs it missed (and the
 *   drops reported in the part it missed).
 */

export interface JournalOptions {
  /** The sensor's name, written into every batch. */
  sensor: string;
  /** Producer epoch; a fresh one (newEpoch()) unless given (replay keeps the recorded epoch). */
  epoch?: string;
  /**
   * Seal a batch at this many events (default 2048). Only reached under load (the 20 ms delay
   * seals first below ~100k events/s): there, 2048 rather than 512 means 4x fewer messages — less
   * framing and TLS work on both ends and less per-batch work in the cockpit, measured ~30% less
   * sensor CPU and ~10% less collector CPU when replaying a storm (docs/BENCHMARKS.md) — for no
   * added delay. 1 MiB caps the bytes either way.
   */
  maxBatchEvents?: number;
  /** Seal a batch once it holds this many encoded bytes (default 1 MiB; soft: the last event may cross it). */
  maxBatchBytes?: number;
  /** Seal a non-empty batch this long after its first event arrived (default 20 ms). */
  maxBatchDelayMs?: number;
  /** Retention window: at most this many events held (default 262 144). */
  retainEvents?: number;
  /** Retention window: at most about this many bytes held (default 128 MiB). */
  retainBytes?: number;
}

export interface SubscribeOptions {
  /** The epoch the subscriber last stored from ('' or another epoch: start at the oldest held). */
  epoch?: string;
  /** The last seq the subscriber stored in `epoch` (0: nothing yet). */
  sinceSeq?: string | number | bigint;
  /** Cap on events per batch for this subscriber (0/undefined: the sealed batches as they are). */
  maxBatchEvents?: number;
  /** Ends the subscription (the async iterator returns) when aborted. */
  signal?: AbortSignal;
}

/** The fields of an EventBatch except its events. Seqs as numbers (2^53 is centuries of events). */
export interface BatchHeader {
  sensor: string;
  epoch: string;
  firstSeq: number;
  lastSeq: number;
  gap: boolean;
  missing: number;
  droppedKernel: number;
  droppedUser: number;
}

/** A batch ready for the wire: `bytes` is the protobuf encoding of the EventBatch. */
export interface EncodedBatch {
  header: BatchHeader;
  eventCount: number;
  bytes: Buffer;
}

export interface JournalStats {
  sensor: string;
  epoch: string;
  /** Events appended since the journal started (recorded events, in replay). */
  eventsTotal: number;
  /** Highest seq assigned (0: none yet). */
  lastSeq: number;
  /** Oldest seq still held for resume (0: nothing held). */
  oldestHeldSeq: number;
  heldEvents: number;
  heldBytes: number;
  droppedKernel: number;
  droppedUser: number;
  subscribers: number;
}

interface SealedBatch {
  firstSeq: number;
  lastSeq: number;
  /** The events as EventBatch field-10 entries (tag, length, Event bytes), back to back. */
  data: Uint8Array;
  /** offsets[i] = start of event i in `data`; offsets[n] = data.length. */
  offsets: Uint32Array;
  bytes: number;
  droppedKernel: number;
  droppedUser: number;
}

/** Drops that belonged to batches no longer held: a gap batch carries those after its cursor. */
interface EvictedDrops {
  firstSeq: number;
  kernel: number;
  user: number;
}

const DEFAULTS = {
  maxBatchEvents: 2048,
  maxBatchBytes: 1 << 20,
  maxBatchDelayMs: 20,
  retainEvents: 262_144,
  retainBytes: 128 << 20,
};
/** Rough cost of holding a sealed batch beyond its bytes (objects, offsets). */
const PER_BATCH_OVERHEAD = 256;
const PER_EVENT_OVERHEAD = 4;
const MAX_EVICTED_DROP_ENTRIES = 4096;

/** A fresh producer epoch: a UUIDv7 (48-bit ms timestamp + random), so epochs sort by start time. */
export function newEpoch(nowMs: number = Date.now()): string {
  const b = randomBytes(16);
  let ms = BigInt(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Journal {
  readonly sensor: string;
  readonly epoch: string;
  private readonly opts: typeof DEFAULTS;

  /** Sealed batches in seq order; `head` is the index of the oldest held one. */
  private sealed: SealedBatch[] = [];
  private head = 0;
  private heldEvents = 0;
  private heldBytes = 0;
  private evictedDrops: EvictedDrops[] = [];

  /**
   * The batch being filled, encoded straight into one reused writer: one allocation per batch
   * instead of one writer per event (measured ~5x faster than Event.encode(e).finish() each).
   */
  private writer = new BinaryWriter();
  private openOffsets: number[] = [];
  private openFirstSeq = 0;
  private openDropsKernel = 0;
  private openDropsUser = 0;
  private openTimer: NodeJS.Timeout | null = null;

  private nextSeq = 1;
  private eventsTotal = 0;
  private droppedKernelTotal = 0;
  private droppedUserTotal = 0;
  private closed = false;
  private waiters = new Set<() => void>();
  private subscriberCount = 0;

  constructor(options: JournalOptions) {
    this.sensor = options.sensor;
    this.epoch = options.epoch ?? newEpoch();
    this.opts = {
      maxBatchEvents: positive(options.maxBatchEvents, DEFAULTS.maxBatchEvents),
      maxBatchBytes: positive(options.maxBatchBytes, DEFAULTS.maxBatchBytes),
      maxBatchDelayMs: Math.max(0, options.maxBatchDelayMs ?? DEFAULTS.maxBatchDelayMs),
      retainEvents: positive(options.retainEvents, DEFAULTS.retainEvents),
      retainBytes: positive(options.retainBytes, DEFAULTS.retainBytes),
    };
  }

  /**
   * Assigns the next seqs to `events` (their `seq` field is overwritten: the journal takes
   * ownership) and queues them for the next batch.
   */
  append(events: readonly Event[]): void {
    if (this.closed) throw new Error('journal is closed');
    for (const event of events) {
      const seq = this.nextSeq++;
      event.seq = String(seq);
      if (this.openOffsets.length === 0) this.openBatch(seq);
      this.writeEvent(event);
      this.eventsTotal++;
      if (this.openOffsets.length >= this.opts.maxBatchEvents || writerLength(this.writer) >= this.opts.maxBatchBytes) {
        this.seal();
      }
    }
  }

  /**
   * Records events lost before they got a seq (ring-buffer reservations that failed in the
   * kernel, events the sensor could not queue). They travel with the batch being filled, or with
   * the next one when none is.
   */
  reportDrops(delta: { kernel?: number | bigint; user?: number | bigint }): void {
    const kernel = Number(delta.kernel ?? 0);
    const user = Number(delta.user ?? 0);
    if (kernel < 0 || user < 0) throw new RangeError('drop deltas must not be negative');
    this.openDropsKernel += kernel;
    this.openDropsUser += user;
    this.droppedKernelTotal += kernel;
    this.droppedUserTotal += user;
  }

  /**
   * Replay: takes a batch as a sensor sent it, keeping its seqs, boundaries and drops. Seqs must
   * increase; a jump between batches is served as a gap, like an eviction.
   */
  appendBatch(batch: EventBatch): void {
    if (this.closed) throw new Error('journal is closed');
    this.seal();
    const firstSeq = Number(batch.firstSeq);
    const lastSeq = Number(batch.lastSeq);
    if (batch.events.length === 0) {
      // A batch with only drops: keep them for the next batch.
      this.reportDrops({ kernel: BigInt(batch.droppedKernel), user: BigInt(batch.droppedUser) });
      return;
    }
    if (firstSeq < this.nextSeq || lastSeq - firstSeq + 1 !== batch.events.length) {
      throw new RangeError(
        `batch ${batch.firstSeq}-${batch.lastSeq} with ${batch.events.length} events does not follow seq ${this.nextSeq - 1}`,
      );
    }
    this.reportDrops({ kernel: BigInt(batch.droppedKernel), user: BigInt(batch.droppedUser) });
    this.openBatch(firstSeq);
    this.clearTimer();
    for (const event of batch.events) this.writeEvent(event);
    this.eventsTotal += batch.events.length;
    this.nextSeq = lastSeq + 1;
    this.seal();
  }

  /** Seals the batch being filled now (before shutdown, or when a test wants it). */
  flush(): void {
    this.seal();
  }

  /**
   * Flushes, then ends every subscription once it has read what is held. Appending afterwards
   * throws.
   */
  close(): void {
    if (this.closed) return;
    this.seal();
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): JournalStats {
    const oldest = this.sealed[this.head];
    return {
      sensor: this.sensor,
      epoch: this.epoch,
      eventsTotal: this.eventsTotal,
      lastSeq: this.nextSeq - 1,
      oldestHeldSeq: oldest?.firstSeq ?? (this.openOffsets.length > 0 ? this.openFirstSeq : 0),
      heldEvents: this.heldEvents + this.openOffsets.length,
      heldBytes: this.heldBytes + writerLength(this.writer),
      droppedKernel: this.droppedKernelTotal,
      droppedUser: this.droppedUserTotal,
      subscribers: this.subscriberCount,
    };
  }

  /**
   * Batches after the subscriber's position, as they are sealed; see the class comment for the
   * resume, gap and restart rules. Ends when the journal closes (after the held batches are read)
   * or the signal aborts.
   */
  async *subscribeEncoded(options: SubscribeOptions = {}): AsyncGenerator<EncodedBatch, void, undefined> {
    const signal = options.signal;
    const maxEvents = options.maxBatchEvents && options.maxBatchEvents > 0 ? options.maxBatchEvents : Infinity;
    const sameEpoch = options.epoch === this.epoch;
    const cursor = { seq: sameEpoch ? toSeq(options.sinceSeq) : 0, restart: !sameEpoch && !!options.epoch };
    this.subscriberCount++;
    try {
      while (!signal?.aborted) {
        const next = this.nextFor(cursor, maxEvents);
        if (next) {
          yield next;
          continue;
        }
        if (this.closed) return;
        await this.waitForSeal(signal);
      }
    } finally {
      this.subscriberCount--;
    }
  }

  /** Same as subscribeEncoded, decoded into EventBatch messages (for in-process consumers, tests). */
  async *subscribe(options: SubscribeOptions = {}): AsyncGenerator<EventBatch, void, undefined> {
    for await (const encoded of this.subscribeEncoded(options)) yield EventBatch.decode(encoded.bytes);
  }

  /** The next batch for a subscriber at `cursor`, or null when it has read everything sealed. */
  private nextFor(cursor: { seq: number; restart: boolean }, maxEvents: number): EncodedBatch | null {
    const index = this.firstBatchAfter(cursor.seq);
    if (index < 0) return null;
    const batch = this.sealed[index]!;
    const start = Math.max(cursor.seq + 1, batch.firstSeq);
    const missing = batch.firstSeq > cursor.seq + 1 ? batch.firstSeq - cursor.seq - 1 : 0;
    // Chunks are cut on a grid anchored at the sealed batch's first seq: the same on every resend.
    const chunk = Math.floor((start - batch.firstSeq) / maxEvents);
    const end = Math.min(batch.lastSeq, maxEvents === Infinity ? batch.lastSeq : batch.firstSeq + (chunk + 1) * maxEvents - 1);
    let droppedKernel = 0;
    let droppedUser = 0;
    if (start === batch.firstSeq) {
      droppedKernel = batch.droppedKernel;
      droppedUser = batch.droppedUser;
      if (missing > 0) {
        for (const evicted of this.evictedDrops) {
          if (evicted.firstSeq > cursor.seq) {
            droppedKernel += evicted.kernel;
            droppedUser += evicted.user;
          }
        }
      }
    }
    const header: BatchHeader = {
      sensor: this.sensor,
      epoch: this.epoch,
      firstSeq: start,
      lastSeq: end,
      gap: missing > 0 || cursor.restart,
      missing,
      droppedKernel,
      droppedUser,
    };
    const events = batch.data.subarray(batch.offsets[start - batch.firstSeq], batch.offsets[end - batch.firstSeq + 1]);
    cursor.seq = end;
    cursor.restart = false;
    return { header, eventCount: end - start + 1, bytes: encodeBatchFromEntries(header, events) };
  }

  /** Index of the first held batch whose lastSeq is after `seq`, or -1. */
  private firstBatchAfter(seq: number): number {
    let lo = this.head;
    let hi = this.sealed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sealed[mid]!.lastSeq > seq) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.sealed.length ? lo : -1;
  }

  private openBatch(firstSeq: number): void {
    this.openFirstSeq = firstSeq;
    if (this.opts.maxBatchDelayMs > 0 && !this.openTimer) {
      this.openTimer = setTimeout(() => {
        this.openTimer = null;
        this.seal();
      }, this.opts.maxBatchDelayMs);
    }
  }

  /** Writes one event as an EventBatch `events` entry into the open batch. */
  private writeEvent(event: Event): void {
    this.openOffsets.push(writerLength(this.writer));
    this.writer.uint32(82).fork();
    Event.encode(event, this.writer);
    this.writer.join();
  }

  private seal(): void {
    this.clearTimer();
    const count = this.openOffsets.length;
    if (count === 0) return;
    const data = this.writer.finish();
    const offsets = new Uint32Array(count + 1);
    offsets.set(this.openOffsets);
    offsets[count] = data.length;
    const batch: SealedBatch = {
      firstSeq: this.openFirstSeq,
      lastSeq: this.openFirstSeq + count - 1,
      data,
      offsets,
      bytes: data.length + PER_BATCH_OVERHEAD + count * PER_EVENT_OVERHEAD,
      droppedKernel: this.openDropsKernel,
      droppedUser: this.openDropsUser,
    };
    this.openOffsets = [];
    this.openDropsKernel = 0;
    this.openDropsUser = 0;
    this.sealed.push(batch);
    this.heldEvents += count;
    this.heldBytes += batch.bytes;
    this.evict();
    this.wake();
  }

  /** Drops the oldest batches beyond the window (always keeping the newest one). */
  private evict(): void {
    while (
      this.sealed.length - this.head > 1 &&
      (this.heldEvents > this.opts.retainEvents || this.heldBytes > this.opts.retainBytes)
    ) {
      const oldest = this.sealed[this.head]!;
      this.sealed[this.head] = undefined as unknown as SealedBatch;
      this.head++;
      this.heldEvents -= oldest.lastSeq - oldest.firstSeq + 1;
      this.heldBytes -= oldest.bytes;
      if (oldest.droppedKernel > 0 || oldest.droppedUser > 0) {
        this.evictedDrops.push({ firstSeq: oldest.firstSeq, kernel: oldest.droppedKernel, user: oldest.droppedUser });
        if (this.evictedDrops.length > MAX_EVICTED_DROP_ENTRIES) {
          // Fold the two oldest: a client that far behind gets their sum once (never less).
          const [a, b] = this.evictedDrops.splice(0, 2) as [EvictedDrops, EvictedDrops];
          this.evictedDrops.unshift({ firstSeq: b.firstSeq, kernel: a.kernel + b.kernel, user: a.user + b.user });
        }
      }
    }
    // Compact the array once the evicted prefix dominates, so `head` stays small.
    if (this.head > 1024 && this.head * 2 > this.sealed.length) {
      this.sealed = this.sealed.slice(this.head);
      this.head = 0;
    }
  }

  private clearTimer(): void {
    if (this.openTimer) {
      clearTimeout(this.openTimer);
      this.openTimer = null;
    }
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  private waitForSeal(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Encodes an EventBatch from a header and already-encoded events (each event encoded once). */
export function encodeBatch(header: BatchHeader, events: readonly Uint8Array[]): Buffer {
  const w = new BinaryWriter();
  for (const event of events) w.uint32(82).bytes(event);
  return encodeBatchFromEntries(header, w.finish());
}

/** Header fields, then the events exactly as already encoded (`entries`: field-10 records). */
function encodeBatchFromEntries(header: BatchHeader, entries: Uint8Array): Buffer {
  const w = new BinaryWriter();
  if (header.sensor !== '') w.uint32(10).string(header.sensor);
  if (header.epoch !== '') w.uint32(18).string(header.epoch);
  if (header.firstSeq !== 0) w.uint32(24).uint64(header.firstSeq);
  if (header.lastSeq !== 0) w.uint32(32).uint64(header.lastSeq);
  if (header.gap) w.uint32(40).bool(true);
  if (header.missing !== 0) w.uint32(48).uint64(header.missing);
  const dropped = header.droppedKernel + header.droppedUser;
  if (dropped !== 0) w.uint32(56).uint64(dropped);
  if (header.droppedKernel !== 0) w.uint32(64).uint64(header.droppedKernel);
  if (header.droppedUser !== 0) w.uint32(72).uint64(header.droppedUser);
  // Field order does not matter to protobuf decoders; header first keeps it readable in dumps.
  return Buffer.concat([w.finish(), entries]);
}

/**
 * Bytes written so far into a BinaryWriter. The class keeps this in a field its typings mark
 * private; the package version is pinned and journal.test.ts checks this still holds.
 */
export function writerLength(writer: BinaryWriter): number {
  const pos = (writer as unknown as { pos?: unknown }).pos;
  if (typeof pos !== 'number') throw new Error('@bufbuild/protobuf BinaryWriter no longer exposes pos');
  return pos;
}

function toSeq(value: string | number | bigint | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid seq: ${String(value)}`);
  return n;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
