/**
 * Puts the workload on every event that needs it, in the sensor's event path: an exec gets its
 * Workload (computed from its cgroup path, container identity, the runtime's state and binary),
 * and the sensor remembers it per exec id, so that facts and activity counters of the image carry
 * the key too. An image the tracker never saw exec (its exec was before the sensor started and
 * seeding missed it, or the memory below was exceeded) is looked up once in /proc.
 *
 * Memory: at most `maxImages` exec ids are remembered, oldest first out; a forgotten image is
 * looked up in /proc again if it still has facts to report.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { Event, Workload } from '../../gen/soc/sensor/v1/sensor';
import { containerFromCgroupPath } from './container';
import { RuntimeState } from './runtime';
import { workloadOf } from './workload';

export interface WorkloadTrackerOptions {
  runtime?: Pick<RuntimeState, 'lookup'>;
  /** default /proc */
  procRoot?: string;
  /** exec ids remembered (default 131 072) */
  maxImages?: number;
}

export class WorkloadTracker {
  private readonly runtime: Pick<RuntimeState, 'lookup'>;
  private readonly procRoot: string;
  private readonly maxImages: number;
  private readonly byExec = new Map<string, string>();
  /** lookups in /proc for images never seen exec */
  procLookups = 0;

  constructor(options: WorkloadTrackerOptions = {}) {
    this.runtime = options.runtime ?? new RuntimeState();
    this.procRoot = options.procRoot ?? '/proc';
    this.maxImages = options.maxImages ?? 131_072;
  }

  /** Sets the workload of every exec, fact and counters event (in place). */
  stamp(events: readonly Event[]): void {
    for (const ev of events) {
      const body = ev.body;
      if (!body) continue;
      if (body.$case === 'exec') {
        const exec = body.value;
        if (!exec.workload) {
          const container = exec.container;
          const metadata = container?.containerId && container.runtime !== 'systemd' ? this.runtime.lookup(container.runtime, container.containerId) : null;
          exec.workload = workloadOf({ cgroupPath: exec.cgroupPath, container, binary: exec.binary, metadata });
        }
        this.remember(ev.execId, exec.workload.key);
      } else if (body.$case === 'fact') {
        if (!body.value.workload) body.value.workload = this.keyOf(ev);
      } else if (body.$case === 'counters') {
        if (!body.value.workload) body.value.workload = this.keyOf(ev);
      }
    }
  }

  /** The workload key of an exec id, if known. */
  known(execId: string): string | undefined {
    return this.byExec.get(execId);
  }

  private remember(execId: string, key: string): void {
    this.byExec.delete(execId);
    this.byExec.set(execId, key);
    if (this.byExec.size > this.maxImages) this.byExec.delete(this.byExec.keys().next().value!);
  }

  private keyOf(ev: Event): string {
    const known = this.byExec.get(ev.execId);
    if (known !== undefined) return known;
    const found = this.fromProc(ev.pid);
    const key = found?.key ?? '';
    if (found) this.remember(ev.execId, key);
    return key;
  }

  /** The workload of a running process from /proc (cgroup v2 line and executable). */
  fromProc(pid: number): Workload | null {
    this.procLookups++;
    try {
      const cgroup = readFileSync(`${this.procRoot}/${pid}/cgroup`, 'utf8');
      const line = cgroup.split('\n').find((l) => l.startsWith('0::'));
      if (line === undefined) return null;
      const cgroupPath = line.slice(3);
      let binary = '';
      try {
        binary = readlinkSync(`${this.procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, '');
      } catch {
        // a kernel thread or gone: keyed by cgroup only when the cgroup says enough
      }
      const container = containerFromCgroupPath(cgroupPath);
      const metadata = container.containerId && container.runtime !== 'systemd' ? this.runtime.lookup(container.runtime, container.containerId) : null;
      return workloadOf({ cgroupPath, container, binary, metadata });
    } catch {
      return null;
    }
  }
}
