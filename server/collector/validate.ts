import type { EventBatch } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * What the collector checks before a batch reaches storage. A batch that fails is not stored: it
 * is recorded as a `rejected_batch` gap and the stream goes on. A batch from a sensor that calls
 * itself by another name is a configuration error instead (`fatal`): storing it under either name
 * would be wrong, so the link reports it and retries later.
 */
export type BatchVerdict = { ok: true } | { ok: false; fatal: boolean; reason: string };

const DECIMAL = /^\d{1,20}$/;
const EPOCH = /^[\x21-\x7e]{1,128}$/;
const MAX_SEQ = BigInt(Number.MAX_SAFE_INTEGER);

export function checkBatch(batch: EventBatch, expectedSensor: string): BatchVerdict {
  if (batch.sensor !== expectedSensor) {
    return { ok: false, fatal: true, reason: `sensor calls itself "${batch.sensor}", configured as "${expectedSensor}"` };
  }
  const reject = (reason: string): BatchVerdict => ({ ok: false, fatal: false, reason });
  if (!EPOCH.test(batch.epoch)) return reject('epoch missing or not printable (1-128 characters)');
  for (const [field, value] of [
    ['first_seq', batch.firstSeq],
    ['last_seq', batch.lastSeq],
    ['missing', batch.missing],
    ['dropped', batch.dropped],
    ['dropped_kernel', batch.droppedKernel],
    ['dropped_user', batch.droppedUser],
  ] as const) {
    if (!DECIMAL.test(value)) return reject(`${field} is not a decimal number`);
  }
  const first = BigInt(batch.firstSeq);
  const last = BigInt(batch.lastSeq);
  if (first < 1n || first > MAX_SEQ || last > MAX_SEQ) return reject(`seq range ${batch.firstSeq}-${batch.lastSeq} out of bounds`);
  if (last - first + 1n !== BigInt(batch.events.length)) {
    return reject(`seq range ${batch.firstSeq}-${batch.lastSeq} does not match ${batch.events.length} event(s)`);
  }
  if (BigInt(batch.dropped) < BigInt(batch.droppedKernel) + BigInt(batch.droppedUser)) {
    return reject(`dropped ${batch.dropped} is less than dropped_kernel + dropped_user`);
  }
  if (!batch.gap && batch.missing !== '0') return reject(`missing ${batch.missing} without the gap flag`);
  for (let i = 0; i < batch.events.length; i++) {
    const event = batch.events[i]!;
    const where = `event ${i} (seq ${event.seq})`;
    if (event.seq !== String(first + BigInt(i))) return reject(`${where}: expected seq ${first + BigInt(i)}`);
    if (!event.execId) return reject(`${where}: no exec id`);
    if (!event.body) return reject(`${where}: no body`);
    if (!event.node) return reject(`${where}: no node`);
    if (!DECIMAL.test(event.tsNs) || event.tsNs === '0') return reject(`${where}: no timestamp`);
  }
  return { ok: true };
}
