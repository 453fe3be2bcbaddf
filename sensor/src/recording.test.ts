import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBatch, RecordingFrame } from '../gen/soc/sensor/v1/sensor';
import { parseRecording, readRecording, RecordingError, ReplaySensor, startRecorder } from './recording';
import { Journal, type SubscribeOptions } from './stream/journal';
import { syntheticEvents } from './testing/synthetic';
import { RECORDED_BY } from './version';

// Recording format and replay. The journal is fed synthetic events (a transport test); the files
// live in a temp dir and are never committed.

let dir: string;
let file: string;
let original: Journal;
let sent: EventBatch[];

async function drain(iter: AsyncIterable<{ bytes: Buffer }>, n: number, timeoutMs = 3000): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  const deadline = Date.now() + timeoutMs;
  for await (const b of iter) {
    out.push(EventBatch.decode(b.bytes));
    if (out.length === n || Date.now() > deadline) break;
  }
  return out;
}

function watch(sensor: ReplaySensor, options: SubscribeOptions, n: number) {
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 3000);
  return drain(sensor.watch({ ...options, signal: abort.signal }), n);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-recording-test-'));
  file = path.join(dir, 'run.socrec');
  original = new Journal({ sensor: 'node-a', maxBatchEvents: 40, maxBatchDelayMs: 0 });
  const recorder = startRecorder({ file, journal: original, node: 'node-a', kernelRelease: '6.18.0-test', startedAtNs: '1' });
  original.append(syntheticEvents(50));
  original.reportDrops({ kernel: 2 });
  original.append(syntheticEvents(50, { fromIndex: 50 }));
  original.close();
  await recorder.done();
  sent = [];
  for await (const b of original.subscribe({})) sent.push(b);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recording', () => {
  it('writes a header and every batch exactly as the sensor sends it', async () => {
    const rec = await readRecording(file);
    expect(rec.problem).toBeNull();
    expect(rec.header).toMatchObject({ formatVersion: 1, recordedBy: RECORDED_BY, sensor: 'node-a', node: 'node-a', kernelRelease: '6.18.0-test' });
    expect(rec.batches.map((b) => `${b.firstSeq}-${b.lastSeq}`)).toEqual(['1-40', '41-80', '81-100']);
    expect(rec.batches).toEqual(sent);
    expect(rec.batches[1]!.droppedKernel).toBe('2');
  });

  it('replays the same batches (same epoch, seqs, boundaries, drops) and resumes by seq', async () => {
    const replay = new ReplaySensor({ recording: await readRecording(file), speed: Infinity });
    await replay.start();
    const served = await watch(replay, {}, 3);
    expect(served).toEqual(sent);
    const resumed = await watch(replay, { epoch: original.epoch, sinceSeq: '40' }, 2);
    expect(resumed).toEqual(sent.slice(1));
    expect(replay.status()).toMatchObject({ mode: 'replay', epoch: original.epoch, lastSeq: '100', kernelRelease: '6.18.0-test' });
    expect(replay.status().recording).toContain(file);
    expect(replay.status().recording).toContain(RECORDED_BY);
    replay.stop();
  });

  it('paces by the recorded timestamps, scaled by speed', async () => {
    // Events are 1 ms apart; batches end at 39, 79 and 99 ms: the last is due 60 ms after the
    // first as recorded, 30 ms at speed 2.
    const replay = new ReplaySensor({ recording: await readRecording(file), speed: 2 });
    const t0 = Date.now();
    await replay.start();
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(28);
    expect(elapsed).toBeLessThan(500);
    replay.stop();
  });

  it('rebases timestamps to end now under a new epoch with --shift-to-now', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const replay = new ReplaySensor({ recording: await readRecording(file), speed: Infinity, shiftToNow: true });
    await replay.start();
    const served = await watch(replay, {}, 3);
    const after = BigInt(Date.now()) * 1_000_000n;
    expect(served[0]!.epoch).not.toBe(original.epoch);
    const last = served.at(-1)!.events.at(-1)!;
    expect(BigInt(last.tsNs) >= before && BigInt(last.tsNs) <= after).toBe(true);
    const firstOriginal = sent[0]!.events[0]!;
    const firstShifted = served[0]!.events[0]!;
    const shift = BigInt(firstShifted.tsNs) - BigInt(firstOriginal.tsNs);
    expect(shift > 0n).toBe(true);
    expect(firstShifted.body?.$case === 'exec' && firstOriginal.body?.$case === 'exec').toBe(true);
    if (firstShifted.body?.$case === 'exec' && firstOriginal.body?.$case === 'exec') {
      expect(BigInt(firstShifted.body.value.startNs) - BigInt(firstOriginal.body.value.startNs)).toBe(shift);
    }
    expect(replay.status().recording).toMatch(/shifted to now as epoch/);
    replay.stop();
  });
});

describe('recording: damaged files', () => {
  it('stops at a truncated frame, names its offset, and still serves the frames before it', async () => {
    const data = await readFile(file);
    const offsets = frameOffsets(data);
    const cutAt = offsets[3]! + 10; // inside the 3rd batch frame
    const truncated = path.join(dir, 'truncated.socrec');
    await writeFile(truncated, data.subarray(0, cutAt));
    const rec = await readRecording(truncated);
    expect(rec.batches).toEqual(sent.slice(0, 2));
    expect(rec.problem).toEqual({ offset: offsets[3], message: expect.stringMatching(/truncated frame .* at offset \d+/) });
    expect(rec.problem!.message).toContain(`offset ${offsets[3]}`);

    const replay = new ReplaySensor({ recording: rec, speed: Infinity });
    await replay.start();
    expect(await watch(replay, {}, 2)).toEqual(sent.slice(0, 2));
    expect(replay.status().recording).toContain(`INCOMPLETE: truncated frame`);
    expect(replay.status().recording).toContain(`at offset ${offsets[3]}`);
    replay.stop();
  });

  it('stops at a corrupt frame and names its offset', async () => {
    const data = Buffer.from(await readFile(file));
    const offsets = frameOffsets(data);
    // Overwrite the 2nd batch frame's body with an invalid wire type.
    data.fill(0xff, offsets[2]! + 3, offsets[2]! + 12);
    const rec = parseRecording('corrupt.socrec', data);
    expect(rec.batches).toEqual(sent.slice(0, 1));
    expect(rec.problem?.offset).toBe(offsets[2]);
    expect(rec.problem?.message).toMatch(new RegExp(`(corrupt|inconsistent) .*at offset ${offsets[2]}`));
  });

  it('refuses a file that a soc-sensor did not record', () => {
    const frame = RecordingFrame.encode({
      frame: { $case: 'header', value: { formatVersion: 1, recordedBy: 'hand-made 1.0', sensor: 's', node: 'n', kernelRelease: '', startedAtNs: '0', note: '' } },
    }).finish();
    const w = new BinaryWriter();
    w.bytes(frame);
    expect(() => parseRecording('forged.socrec', w.finish())).toThrow(/recorded by "hand-made 1.0", not by soc-sensor/);
    expect(() => parseRecording('text.socrec', Buffer.from('hello, this is not a recording\n'))).toThrow(RecordingError);
    expect(() => parseRecording('empty.socrec', new Uint8Array())).toThrow(/empty file/);
  });
});

/** Start offsets of the frames in a recording. */
function frameOffsets(data: Uint8Array): number[] {
  const offsets: number[] = [];
  let offset = 0;
  while (offset < data.length) {
    offsets.push(offset);
    let len = 0;
    let shift = 0;
    let i = offset;
    for (;;) {
      const byte = data[i++]!;
      len |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    offset = i + len;
  }
  return offsets;
}
