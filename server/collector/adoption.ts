import { createHash } from 'node:crypto';
import type { Db } from '../../db/client';
import { zoomTargetOf } from '../../db/repositories/evidence';
import { getInvestigation, upsertInvestigation } from '../../db/repositories/investigations';
import { findOpenInvestigationOf, type ZoomInvestigationLookup } from '../../db/repositories/sensorStream';
import { upsertZoomState } from '../../db/repositories/zooms';
import { nowNs } from '../../db/time';
import type { Event, Zoom } from '../../sensor/gen/soc/sensor/v1/sensor';
import type { Logger } from '../../sensor/src/log';

/**
 * Zooms this cockpit did not order, adopted into its own investigations.
 *
 * A sensor's ZoomState events name the investigation the order carried. For a live sensor this
 * cockpit ordered on, that investigation is this cockpit's. A recording made elsewhere and
 * replayed here (`--replay FILE --shift-to-now`) carries the recording run's zooms, whose
 * investigations do not exist here — and the replay sensor cannot run this cockpit's own orders
 * (it refuses ZoomIn: no kernel side). Without adoption, the replayed evidence would be stored
 * under an investigation nobody can open.
 *
 * So, before a zoom's state is added to a unit, its investigation is settled:
 *   1. already known for the zoom (this cockpit's order, or an adoption read back from storage);
 *   2. the named investigation exists here → it is used;
 *   3. otherwise the cockpit's own open investigation about the same node + target exec id — the
 *      one its detector's re-detected indicator created (the unit holding the indicator's fact is
 *      stored first, then up to `graceMs` is given for the investigation to appear; an order of
 *      this cockpit whose answer is still in flight resolves in the same wait, through 1 or 2);
 *   4. none: a new investigation for the zoom, saying it came from a recording.
 * An adoption is written to storage (the zoom's state row, under the adopting investigation)
 * BEFORE the unit holding the state is stored, so a restarted collector's directory loads it and
 * every unit formed again maps the same way: exactly-once storage holds, with the same tags.
 */

export interface ZoomAdoptionOptions {
  /** The sensor whose stream this is (zoom ids are the sensor's). */
  sensor: string;
  /** The process's directory of zoom → investigation (server/zoom/directory.ts). */
  lookup: ZoomInvestigationLookup & { ready(db: Db): Promise<void> };
  log: Logger;
  /** How long to wait for the cockpit's own investigation of the target (default 5 s). */
  graceMs?: number;
  /** How often to look meanwhile (default 100 ms). */
  pollMs?: number;
}

const DEFAULT_GRACE_MS = 5_000;
const DEFAULT_POLL_MS = 100;
/** How far back an open investigation of the target is looked for. */
const LOOKBACK_NS = 30n * 86_400_000_000_000n;

/** A new investigation's id for an adopted zoom: derived, so deciding again gives the same one. */
export function adoptedInvestigationId(sensor: string, zoomId: string): string {
  return createHash('sha256').update(`adopted\u0000${sensor}\u0000${zoomId}`).digest('hex').slice(0, 24);
}

export class ZoomAdoption implements ZoomInvestigationLookup {
  /** zoom id → the investigation its evidence is stored under here (only where it differs from the named one). */
  private readonly adopted = new Map<string, string>();
  private readonly graceMs: number;
  private readonly pollMs: number;

  constructor(private readonly opts: ZoomAdoptionOptions) {
    this.graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  }

  investigationOf(zoomId: string): string {
    return this.adopted.get(zoomId) ?? this.opts.lookup.investigationOf(zoomId);
  }

  remember(zoomId: string, investigationId: string): void {
    // An adopted zoom's states keep naming the recording's investigation: never let them win.
    if (!this.adopted.has(zoomId)) this.opts.lookup.remember(zoomId, investigationId);
  }

  ready(db: Db): Promise<void> {
    return this.opts.lookup.ready(db);
  }

  /** The zoom states among `events` whose investigation is not settled yet (cheap: runs on every batch). */
  unsettled(events: readonly Event[]): Event[] {
    const out: Event[] = [];
    for (const event of events) {
      if (event.zoomId === undefined || event.body?.$case !== 'zoomState') continue;
      const zoom = event.body.value.zoom;
      if (!zoom?.investigationId) continue;
      const id = zoom.id || event.zoomId;
      if (this.adopted.has(id)) continue;
      const known = this.opts.lookup.investigationOf(id);
      if (known === zoom.investigationId) continue;
      out.push(event);
    }
    return out;
  }

  /**
   * Settles one zoom state's investigation (see the module comment). `storePending` stores what
   * the stream delivered before it (so the detector can see the indicator's fact) before waiting.
   */
  async settle(db: Db, event: Event, epoch: string, storePending: () => Promise<void>): Promise<void> {
    if (event.body?.$case !== 'zoomState' || !event.body.value.zoom) return;
    const zoom = event.body.value.zoom;
    const zoomId = zoom.id || event.zoomId!;
    const named = zoom.investigationId;
    // 1. Known: this cockpit's own order, or an adoption stored before a restart.
    const known = this.opts.lookup.investigationOf(zoomId);
    if (known && known !== named) {
      this.adopted.set(zoomId, known);
      return;
    }
    if (known === named) return;
    // 2. The named investigation is this cockpit's.
    if (await getInvestigation(db, named)) {
      this.opts.lookup.remember(zoomId, named);
      return;
    }
    // 3. The cockpit's own investigation of the target (maybe still being made), …
    const target = zoomTargetOf(zoom);
    const execId = target.kind === 'exec_id' ? target.value : '';
    await storePending();
    const deadline = Date.now() + this.graceMs;
    for (;;) {
      const answered = this.opts.lookup.investigationOf(zoomId);
      if (answered) {
        if (answered !== named) await this.adopt(db, event, epoch, answered, 'joined');
        return;
      }
      if (await getInvestigation(db, named)) {
        this.opts.lookup.remember(zoomId, named);
        return;
      }
      const open = execId ? await findOpenInvestigationOf(db, event.node, execId, (nowNs() - LOOKBACK_NS).toString()) : null;
      if (open) {
        await this.adopt(db, event, epoch, open, 'joined');
        return;
      }
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    // 4. … or a new one.
    const id = adoptedInvestigationId(this.opts.sensor, zoomId);
    if (!(await getInvestigation(db, id))) {
      const at = nowNs().toString();
      await upsertInvestigation(db, {
        id,
        title: `Replayed zoom ${zoomId} on ${target.value || 'an unknown target'} (from a recording; its investigation there: ${named})`,
        status: 'open',
        // The column knows manual and auto only: a recording's zoom was ordered automatically or
        // by hand elsewhere, neither here; createdBy and the title say where it came from.
        trigger: 'auto',
        createdAtNs: at,
        updatedAtNs: at,
        createdBy: `recording replayed by sensor ${this.opts.sensor}`,
        indicatorIds: [],
        node: event.node,
        workload: '',
        execId,
        rowVersion: at,
      });
    }
    await this.adopt(db, event, epoch, id, 'created');
  }

  private async adopt(db: Db, event: Event, epoch: string, investigationId: string, how: 'joined' | 'created'): Promise<void> {
    const zoom = (event.body as { $case: 'zoomState'; value: { zoom: Zoom } }).value.zoom;
    const zoomId = zoom.id || event.zoomId!;
    // Stored first (see the module comment): the very row the unit writes, so the table keeps one.
    await upsertZoomState(db, { ...zoom, id: zoomId, investigationId }, { source: 'stream', sensor: this.opts.sensor, node: event.node, observedNs: event.tsNs, epoch, seq: event.seq });
    this.adopted.set(zoomId, investigationId);
    this.opts.lookup.remember(zoomId, investigationId);
    this.opts.log.info('zoom adopted', { sensor: this.opts.sensor, zoom: zoomId, named: zoom.investigationId, investigation: investigationId, how });
  }
}
