import type { Event } from '../gen/soc/sensor/v1/sensor';

/**
 * Restricts a live sensor to one cgroup v2 subtree (`--scope-cgroup /kubepods.slice/…`): only
 * process images that exec'd (or were seeded) inside the subtree are reported, with every later
 * event of those images (forks, exits, facts). Operators use it to watch or record one workload;
 * the project uses it to make recordings that contain nothing but the scenario they show.
 *
 * A process moved into the subtree is picked up at its next exec (its exec event carries the new
 * cgroup); until then its events belong to an image that was exec'd outside.
 */
export class CgroupScope {
  private readonly prefix: string;
  private readonly images = new Set<string>();

  constructor(cgroupPath: string) {
    if (!cgroupPath.startsWith('/')) throw new Error(`a cgroup scope is an absolute cgroup v2 path, got "${cgroupPath}"`);
    this.prefix = cgroupPath.length > 1 ? cgroupPath.replace(/\/+$/, '') : '';
  }

  get path(): string {
    return this.prefix || '/';
  }

  /** The events of images inside the scope, in order. */
  filter(events: Event[]): Event[] {
    const kept: Event[] = [];
    for (const event of events) {
      if (event.body?.$case === 'exec') {
        if (this.contains(event.body.value.cgroupPath)) {
          this.images.add(event.execId);
          kept.push(event);
        }
      } else if (this.images.has(event.execId)) {
        kept.push(event);
        // The image is over when the pid that exec'd it exits: forget it (the set stays small).
        if (event.body?.$case === 'exit' && event.execId.split(':')[3] === String(event.pid)) this.images.delete(event.execId);
      }
    }
    return kept;
  }

  private contains(cgroupPath: string): boolean {
    return this.prefix === '' || cgroupPath === this.prefix || cgroupPath.startsWith(`${this.prefix}/`);
  }
}
