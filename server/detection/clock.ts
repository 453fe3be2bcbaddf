/**
 * The detector's clock: event time, advancing in real time between events. Learning windows are
 * measured on it, so a backlog the collector catches up on after downtime is learned as it
 * happened (an hour of backlog stored in a second does not complete a window early), while a
 * quiet stream still lets windows close on time (the timer).
 *
 *   now() = the newest event time seen + the wall time elapsed since it was seen
 * (the wall clock alone until an event is seen); it never goes backwards.
 */
export class DetectorClock {
  private watermarkNs: bigint | null = null;
  private seenAtWallNs = 0n;
  private last = 0n;

  constructor(private readonly wallNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {}

  /** An event with this time was processed. */
  observe(eventNs: bigint): void {
    if (this.watermarkNs === null || eventNs > this.watermarkNs) {
      this.watermarkNs = eventNs;
      this.seenAtWallNs = this.wallNs();
    }
  }

  now(): bigint {
    const wall = this.wallNs();
    const t = this.watermarkNs === null ? wall : this.watermarkNs + (wall - this.seenAtWallNs);
    if (t > this.last) this.last = t;
    return this.last;
  }
}
