/**
 * The detector alone: how fast it takes a recorded storm's facts and execs (what the collector
 * hands it), in this process, without storage (an in-memory store).
 *
 *   npx tsx bench/detector-throughput.bench.ts --recording FILE
 *
 * Prints JSON: inputs picked per second (the collector's share of the work, on every event) and
 * inputs processed per second by the detector.
 */
import { parseArgs } from 'node:util';
import { Detector } from '../server/detection/detector';
import type { DetectionInput } from '../server/detection/inputs';
import { pickDetectionInput } from '../server/detection/inputs';
import { memoryStore } from '../server/detection/testing';
import { readRecording } from '../sensor/src/recording';

const { values } = parseArgs({ options: { recording: { type: 'string' } } });
if (!values.recording) throw new Error('--recording FILE');

async function main() {
  const rec = await readRecording(values.recording!);
  // As the workload's own events, not the sensor's: the recording's storm may carry own marks.
  const events = rec.batches.flatMap((b) => b.events).map((e) => ({ ...e, own: undefined }));
  let picked: DetectionInput[] = [];
  let pickMs = 0;
  for (let round = 0; round < 3; round++) {
    // The last of three rounds (the first ones warm the JIT up).
    picked = [];
    const t0 = performance.now();
    for (const e of events) {
      const p = pickDetectionInput(e);
      if (p) picked.push(p);
    }
    pickMs = performance.now() - t0;
  }
  const S = 1_000_000_000n;
  const detector = new Detector({ store: memoryStore(), window: { minNs: 600n * S, quietNs: 300n * S, maxNs: 86_400n * S }, tickMs: 3_600_000, syncMs: 0 });
  await detector.start();
  const t1 = performance.now();
  for (let i = 0; i < picked.length; i += 20_000) await detector.process(picked.slice(i, i + 20_000));
  const processMs = performance.now() - t1;
  await detector.stop();
  console.log(
    JSON.stringify({
      events: events.length,
      picked: picked.length,
      pickUsPerEvent: +((pickMs * 1000) / events.length).toFixed(3),
      processUsPerInput: +((processMs * 1000) / picked.length).toFixed(3),
      stats: detector.stats,
    }),
  );
}
main().then(() => process.exit(0));
