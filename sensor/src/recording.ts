import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { sizeDelimitedPeek } from '@bufbuild/protobuf/wire';
import { RecordingFrame, type EventBatch, type RecordingHeader, type SensorStatus } from '../gen/soc/sensor/v1/sensor';
import type { SensorBackend } from './grpc/server';
import { silentLogger, type Logger } from './log';
import { Journal, newEpoch, type SubscribeOptions } from './stream/journal';
import { RECORDED_BY, RECORDED_BY_PREFIX, SENSOR_VERSION } from './version';
import { shiftBatch } from './replayShift';

/**
 * Recordings: a file of length-delimited RecordingFrame messages (varint size, then the frame),
 * one header then every batch exactly as the live sensor sent it (same seqs, boundaries, gaps and
 * drops). `--record` writes them; `--replay` serves them through the same gRPC API.
 */

export const RECORDING_FORMAT_VERSION = 1;
/** A frame larger than this is treated as corruption, not allocated. */
const MAX_FRAME_BYTES = 256 << 20;

// ---------------------------------------------------------------------------------------------
// Writing

export interface RecorderOptions {
  file: string;
  journal: Journal;
  node: string;
  kernelRelease: string;
  startedAtNs: string;
  note?: string;
  logger?: Logger;
}

export interface Recorder {
  readonly file: string;
  /** Frames and bytes written so far. */
  stats(): { batches: number; events: number; bytes: number };
  /**
   * Resolves once the journal is closed and everything it held is written and the file closed
   * (close the journal first), or once writing failed.
   */
  done(): Promise<void>;
}

/**
 * Records the journal's stream from its first seq: a subscriber like any client, so if the disk
 * cannot keep up the recording carries the same gap a slow client would get (never stalls the
 * sensor).
 */
export function startRecorder(options: RecorderOptions): Recorder {
  const log = options.logger ?? silentLogger;
  const out = createWriteStream(options.file, { flags: 'w', mode: 0o640 });
  const counts = { batches: 0, events: 0, bytes: 0 };
  const write = async (chunk: Uint8Array) => {
    counts.bytes += chunk.length;
    if (!out.write(chunk)) await onceDrainOrError(out);
  };
  const header: RecordingHeader = {
    formatVersion: RECORDING_FORMAT_VERSION,
    recordedBy: RECORDED_BY,
    sensor: options.journal.sensor,
    node: options.node,
    kernelRelease: options.kernelRelease,
    startedAtNs: options.startedAtNs,
    note: options.note ?? '',
  };
  const done = (async () => {
    let failure: unknown = null;
    out.on('error', (err) => (failure ??= err));
    try {
      await write(delimit(RecordingFrame.encode({ frame: { $case: 'header', value: header } }).finish()));
      for await (const batch of options.journal.subscribeEncoded({ epoch: options.journal.epoch, sinceSeq: 0 })) {
        if (failure) throw failure;
        await write(batchFrame(batch.bytes));
        counts.batches++;
        counts.events += batch.eventCount;
      }
    } catch (err) {
      failure ??= err;
    }
    await new Promise<void>((resolve) => out.end(resolve));
    if (failure) {
      log.error('recording failed', { file: options.file, error: failure, ...counts });
      throw failure instanceof Error ? failure : new Error(String(failure));
    }
    log.info('recording closed', { file: options.file, ...counts });
  })();
  done.catch(() => {});
  log.info('recording', { file: options.file, epoch: options.journal.epoch });
  return { file: options.file, stats: () => ({ ...counts }), done: () => done };
}

/** A varint size followed by the bytes. */
function delimit(message: Uint8Array): Uint8Array {
  const w = new BinaryWriter();
  w.bytes(message);
  return w.finish();
}

/** RecordingFrame{batch} around an already-encoded EventBatch, delimited, without re-encoding. */
function batchFrame(batchBytes: Uint8Array): Uint8Array {
  const frame = new BinaryWriter();
  frame.uint32(18).bytes(batchBytes);
  return delimit(frame.finish());
}

function onceDrainOrError(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('error', done);
      resolve();
    };
    out.once('drain', done);
    out.once('error', done);
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

/** The file cannot be replayed at all (not a recording, wrong author or version). */
export class RecordingError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}

export interface RecordingContents {
  file: string;
  header: RecordingHeader;
  /** The batches before the first problem, in file order. */
  batches: EventBatch[];
  /** Set when the file is truncated or corrupt after the header: where, and what. */
  problem: { offset: number; message: string } | null;
  size: number;
}

/**
 * Reads a recording. A file that does not start with a header written by soc-sensor is refused
 * (RecordingError); a truncated or corrupt frame later ends the reading there, and `problem`
 * names its offset — the frames before it are returned.
 */
export async function readRecording(file: string): Promise<RecordingContents> {
  const data = await readFile(file);
  return parseRecording(file, data);
}

export function parseRecording(file: string, data: Uint8Array): RecordingContents {
  let offset = 0;
  let header: RecordingHeader | null = null;
  const batches: EventBatch[] = [];
  let epoch: string | null = null;
  let lastSeq = 0n;
  let problem: RecordingContents['problem'] = null;

  while (offset < data.length) {
    const at = offset;
    const fail = (message: string) => {
      if (!header) throw new RecordingError(`${file}: ${message} at offset ${at}`, at);
      problem = { offset: at, message: `${message} at offset ${at}` };
    };
    const peek = sizeDelimitedPeek(data.subarray(offset));
    if (peek.eof) {
      fail('truncated frame (incomplete size prefix)');
      break;
    }
    if (peek.size > MAX_FRAME_BYTES) {
      fail(`corrupt frame (declares ${peek.size} bytes)`);
      break;
    }
    const start = offset + peek.offset;
    const end = start + peek.size;
    if (end > data.length) {
      fail(`truncated frame (declares ${peek.size} bytes, ${data.length - start} left in the file)`);
      break;
    }
    let frame: RecordingFrame;
    try {
      frame = RecordingFrame.decode(data.subarray(start, end));
    } catch (err) {
      fail(`corrupt frame (${(err as Error).message})`);
      break;
    }
    if (!header) {
      if (frame.frame?.$case !== 'header') throw new RecordingError(`${file}: not a soc-sensor recording (no header frame)`, at);
      const h = frame.frame.value;
      if (!h.recordedBy.startsWith(RECORDED_BY_PREFIX)) {
        throw new RecordingError(
          `${file}: recorded by "${h.recordedBy}", not by soc-sensor: only recordings made by the real sensor are replayed`,
          at,
        );
      }
      if (h.formatVersion !== RECORDING_FORMAT_VERSION) {
        throw new RecordingError(`${file}: recording format ${h.formatVersion}, this sensor reads ${RECORDING_FORMAT_VERSION}`, at);
      }
      header = h;
    } else if (frame.frame?.$case === 'batch') {
      const batch = frame.frame.value;
      const issue = batchIssue(batch, epoch, lastSeq);
      if (issue) {
        fail(`inconsistent batch ${batch.firstSeq}-${batch.lastSeq} (${issue})`);
        break;
      }
      epoch = batch.epoch;
      if (batch.events.length > 0) lastSeq = BigInt(batch.lastSeq);
      batches.push(batch);
    } else {
      fail(`unexpected ${frame.frame?.$case ?? 'empty'} frame`);
      break;
    }
    offset = end;
  }
  if (!header) throw new RecordingError(`${file}: empty file, not a soc-sensor recording`, 0);
  return { file, header, batches, problem, size: data.length };
}

function batchIssue(batch: EventBatch, epoch: string | null, lastSeq: bigint): string | null {
  if (epoch !== null && batch.epoch !== epoch) return `epoch ${batch.epoch} after ${epoch}`;
  if (batch.events.length === 0) return null;
  const first = BigInt(batch.firstSeq);
  const last = BigInt(batch.lastSeq);
  if (last - first + 1n !== BigInt(batch.events.length)) return `${batch.events.length} events`;
  if (first <= lastSeq) return `seq ${first} not after ${lastSeq}`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Replaying

export interface ReplayOptions {
  recording: RecordingContents;
  /** Serve under this name instead of the recorded sensor name. */
  name?: string;
  /** Pacing: 1 = as recorded, 2 = twice as fast, Infinity = as fast as possible. */
  speed?: number;
  /** Rebase timestamps so the recording ends now, under a new epoch. */
  shiftToNow?: boolean;
  logger?: Logger;
}

/**
 * Serves a recording through the Sensor API: batches enter a journal with their recorded seqs and
 * boundaries (so a cockpit that already stored them live recognises them), paced by their event
 * timestamps. With shiftToNow the events get rebased timestamps and a fresh epoch, so rebased data
 * can never be mistaken for the original.
 */
export class ReplaySensor implements SensorBackend {
  readonly journal: Journal;
  private readonly recording: RecordingContents;
  private readonly speed: number;
  private readonly shiftNs: bigint;
  private readonly log: Logger;
  private readonly startedAtMs = Date.now();
  private readonly originalEpoch: string;
  private served = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(options: ReplayOptions) {
    this.recording = options.recording;
    this.log = options.logger ?? silentLogger;
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0)) throw new RangeError(`replay speed must be > 0 (got ${this.speed})`);
    const { batches } = this.recording;
    this.originalEpoch = batches[0]?.epoch ?? '';
    let epoch = this.originalEpoch || newEpoch();
    let shift = 0n;
    if (options.shiftToNow) {
      const lastTs = batches.reduce((max, b) => b.events.reduce((m, e) => (BigInt(e.tsNs) > m ? BigInt(e.tsNs) : m), max), 0n);
      shift = lastTs > 0n ? BigInt(this.startedAtMs) * 1_000_000n - lastTs : 0n;
      epoch = newEpoch();
    }
    this.shiftNs = shift;
    this.journal = new Journal({
      sensor: options.name ?? this.recording.header.sensor,
      epoch,
      // A replay holds the whole recording: every client can read it from the start.
      retainEvents: Number.MAX_SAFE_INTEGER,
      retainBytes: Number.MAX_SAFE_INTEGER,
    });
  }

  /** Starts feeding the journal; resolves when every readable batch has been served. */
  start(): Promise<void> {
    const { batches, problem, file } = this.recording;
    this.log.info('replay started', {
      file,
      batches: batches.length,
      epoch: this.journal.epoch,
      originalEpoch: this.originalEpoch,
      speed: this.speed,
      shiftNs: this.shiftNs,
    });
    if (problem) this.log.warn('recording incomplete', { file, problem: problem.message, servedBatches: batches.length });
    const firstTs = batchTime(batches[0]);
    const t0 = Date.now();
    return new Promise((resolve) => {
      const step = () => {
        this.timer = null;
        while (!this.stopped && this.served < batches.length) {
          const batch = batches[this.served]!;
          if (Number.isFinite(this.speed)) {
            const dueMs = t0 + Number(batchTime(batch) - firstTs) / 1e6 / this.speed;
            const wait = dueMs - Date.now();
            if (wait > 1) {
              this.timer = setTimeout(step, Math.min(wait, 2 ** 31 - 1));
              return;
            }
          }
          this.journal.appendBatch(this.shiftNs === 0n ? batch : shiftBatch(batch, this.shiftNs));
          this.served++;
        }
        if (!this.stopped) this.log.info('replay finished', { file, batches: this.served, lastSeq: this.journal.stats().lastSeq });
        resolve();
      };
      step();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.journal.close();
  }

  watch(options: SubscribeOptions) {
    return this.journal.subscribeEncoded(options);
  }

  status(): SensorStatus {
    const { header, file, problem, batches } = this.recording;
    const stats = this.journal.stats();
    const nowMs = Date.now();
    const parts = [
      `${file}: recorded by ${header.recordedBy}, sensor ${header.sensor} on ${header.node}`,
      `epoch ${this.originalEpoch}${this.shiftNs !== 0n ? `, shifted to now as epoch ${this.journal.epoch}` : ''}`,
      `${this.served}/${batches.length} batches served`,
    ];
    if (problem) parts.push(`INCOMPLETE: ${problem.message}`);
    return {
      sensor: this.journal.sensor,
      node: header.node,
      epoch: this.journal.epoch,
      mode: 'replay',
      kernelRelease: header.kernelRelease,
      btfAvailable: false,
      programs: [],
      eventsTotal: String(stats.eventsTotal),
      lastSeq: String(stats.lastSeq),
      oldestHeldSeq: String(stats.oldestHeldSeq),
      droppedKernel: String(stats.droppedKernel),
      droppedUser: String(stats.droppedUser),
      uptimeNs: String(BigInt(nowMs - this.startedAtMs) * 1_000_000n),
      startedAtNs: String(BigInt(this.startedAtMs) * 1_000_000n),
      version: SENSOR_VERSION,
      recording: parts.join('; '),
      zooms: [],
      zoomProgramsAttached: 0,
      zoomNote: 'replay: no kernel side, zoom orders are refused',
    };
  }
}

/** The time a batch stands for in the recording: its newest event. */
function batchTime(batch: EventBatch | undefined): bigint {
  let max = 0n;
  for (const e of batch?.events ?? []) {
    const ts = BigInt(e.tsNs);
    if (ts > max) max = ts;
  }
  return max;
}
