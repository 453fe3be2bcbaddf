import type { Db } from '../../db/client';
import { loadZoomInvestigations } from '../../db/repositories/zooms';
import type { ZoomInvestigationLookup } from '../../db/repositories/sensorStream';

/**
 * Which investigation each zoom's evidence belongs to, for the collector's units (sensorStream.ts).
 *
 * Filled from three places, all saying the same thing: the zoom states in the stream (every zoom's
 * first state names the investigation its order carried, and precedes its evidence), the zoom
 * service's own orders (the sensor's answer), and — once per storage handle, before the first
 * unit — what storage holds (a collector restarted in the middle of a zoom reads on after the
 * zoom's first state). So the mapping is the same however often a unit is formed again.
 */
export class ZoomDirectory implements ZoomInvestigationLookup {
  private readonly known = new Map<string, string>();
  private readonly loads = new WeakMap<Db, Promise<void>>();

  /** How far back storage is read: zooms last at most hours, evidence may arrive days late. */
  constructor(private readonly lookbackNs = 30n * 86_400_000_000_000n) {}

  investigationOf(zoomId: string): string {
    return this.known.get(zoomId) ?? '';
  }

  remember(zoomId: string, investigationId: string): void {
    if (!zoomId) return;
    // A later state without an investigation never erases the one the order named.
    if (investigationId || !this.known.has(zoomId)) this.known.set(zoomId, investigationId);
    if (this.known.size > 100_000) this.known.delete(this.known.keys().next().value!);
  }

  /** Loads what storage knows (once per handle; a failed load is retried by the next call). */
  ready(db: Db): Promise<void> {
    let load = this.loads.get(db);
    if (!load) {
      const since = BigInt(Date.now()) * 1_000_000n - this.lookbackNs;
      load = loadZoomInvestigations(db, since.toString()).then((stored) => {
        for (const [zoomId, investigationId] of stored) if (!this.known.get(zoomId)) this.remember(zoomId, investigationId);
      });
      load.catch(() => this.loads.delete(db));
      this.loads.set(db, load);
    }
    return load;
  }
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.zoomDirectory');
type GlobalWithDirectory = typeof globalThis & { [GLOBAL_KEY]?: ZoomDirectory };

/** The process's directory (shared by the collector's links and the zoom service). */
export function getZoomDirectory(): ZoomDirectory {
  const g = globalThis as GlobalWithDirectory;
  return (g[GLOBAL_KEY] ??= new ZoomDirectory());
}
