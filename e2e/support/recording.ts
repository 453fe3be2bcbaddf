import { readRecording } from '../../sensor/src/recording';
import { RECORDING } from './run';

/**
 * The sleep at the end of the recorded chain: its exec id (kept by the replay; only timestamps are
 * shifted to now) and its argument. Read from the recording itself, so the spec follows whatever
 * chain was recorded, as long as it is the `sh -c 'sh -c "exec sleep ARG"'` chain.
 */
export async function recordedSleep(): Promise<{ execId: string; arg: string }> {
  const recording = await readRecording(RECORDING);
  for (const batch of recording.batches) {
    for (const event of batch.events) {
      const body = event.body;
      if (body?.$case === 'exec' && body.value.argv[0] === 'sleep' && body.value.argv.length === 2) {
        return { execId: event.execId, arg: body.value.argv[1]! };
      }
    }
  }
  throw new Error(`${RECORDING} holds no "sleep ARG" exec: record the sh -c 'sh -c "exec sleep ARG"' chain`);
}
