import type { Event, EventBatch } from '../gen/soc/sensor/v1/sensor';

/**
 * Rebases a recorded batch by `shiftNs` (replay --shift-to-now): every wall-clock time an event
 * carries moves together — the event's own, an exec's start, an activity period's start, and the
 * zoom-in times (a zoom's order/start/expiry/end, an io_uring request's submit and completion, a
 * code mapping's time) — so a replayed zoom lines up with its evidence and storage's TTLs and
 * time windows see it as recent. 0 means "not set" and stays 0. Durations (attach_ns) and ids
 * (exec ids hold boot-clock times: they name the image, they are not times) are left as they are.
 */
export function shiftBatch(batch: EventBatch, shiftNs: bigint): EventBatch {
  return { ...batch, events: batch.events.map((e) => shiftEvent(e, shiftNs)) };
}

function shiftEvent(event: Event, shiftNs: bigint): Event {
  const shift = (ns: string) => (ns === '0' ? ns : String(BigInt(ns) + shiftNs));
  const body = event.body;
  let shifted: Event['body'] = body;
  switch (body?.$case) {
    case 'exec':
      shifted = { $case: 'exec', value: { ...body.value, startNs: shift(body.value.startNs) } };
      break;
    case 'counters':
      shifted = { $case: 'counters', value: { ...body.value, sinceNs: shift(body.value.sinceNs) } };
      break;
    case 'zoomState': {
      const zoom = body.value.zoom;
      shifted = zoom
        ? {
            $case: 'zoomState',
            value: {
              ...body.value,
              zoom: {
                ...zoom,
                orderedAtNs: shift(zoom.orderedAtNs),
                startedAtNs: shift(zoom.startedAtNs),
                expiresAtNs: shift(zoom.expiresAtNs),
                endedAtNs: shift(zoom.endedAtNs),
              },
            },
          }
        : body;
      break;
    }
    case 'ioUringOp':
      shifted = { $case: 'ioUringOp', value: { ...body.value, submitNs: shift(body.value.submitNs), completeNs: shift(body.value.completeNs) } };
      break;
    case 'code':
      shifted = { $case: 'code', value: { ...body.value, mappedAtNs: shift(body.value.mappedAtNs) } };
      break;
  }
  return { ...event, tsNs: shift(event.tsNs), body: shifted };
}
