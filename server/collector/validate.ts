import type { EventBatch } from '../../sensor/gen/soc/sensor/v1/sensor';

/**
 * What the collector checks before a batch reaches storage. A batch that fails is not stored: it
 * is recorded as a `rejected_batch` gap and the stream goes on. A batch from a sensor that calls
 * itself by another name is a configuration error instead (`fatal`): storing it under either name
 * would be wrong, so the link reports it and retries later.
 */
export type BatchVerdict = { ok: true } | { ok: false; fatal: boolean; reason: string };

const DECIMAL = /^\d{1,20}$/;
/** Nanoseconds storage can hold (DateTime64(9) is Int64 ticks: up to the year 2262). */
const NS = /^\d{1,19}$/;
const MAX_NS = '9223372036854775807';
const nsOk = (v: string) => NS.test(v) && (v.length < 19 || v <= MAX_NS);
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
  // Seqs are safe integers here (checked above): plain numbers, no BigInt per event.
  const firstNumber = Number(first);
  for (let i = 0; i < batch.events.length; i++) {
    const event = batch.events[i]!;
    const body = event.body;
    if (
      event.seq !== String(firstNumber + i) ||
      !event.execId ||
      !body ||
      !event.node ||
      !nsOk(event.tsNs) ||
      event.tsNs === '0' ||
      (body.$case === 'exec' && !nsOk(body.value.startNs))
    ) {
      const where = `event ${i} (seq ${event.seq})`;
      if (event.seq !== String(firstNumber + i)) return reject(`${where}: expected seq ${firstNumber + i}`);
      if (!event.execId) return reject(`${where}: no exec id`);
      if (!body) return reject(`${where}: no body`);
      if (!event.node) return reject(`${where}: no node`);
      if (body.$case === 'exec' && !nsOk(body.value.startNs)) return reject(`${where}: start time out of range`);
      return reject(`${where}: no timestamp (or out of range)`);
    }
  }
  return { ok: true };
}
