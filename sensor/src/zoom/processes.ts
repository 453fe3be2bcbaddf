/**
 * Which processes run which image right now, learned from the sensor's own event stream: an
 * exec (or a seeded exec) puts its pid under its exec id, a fork puts the child under the
 * parent's image, an exec moves the pid to its new image, an exit removes it. Zoom orders name
 * an exec id; this answers "which tgids is that, now".
 *
 * Bounded by the live processes of the node. A missed exit (ring-buffer drop) can leave a dead
 * pid behind: lookups check /proc before answering.
 */
import { existsSync } from 'node:fs';
import type { Event } from '../../gen/soc/sensor/v1/sensor';

interface Proc {
  execId: string;
  own: boolean;
}

export class ProcessIndex {
  private readonly byPid = new Map<number, Proc>();
  private readonly byExec = new Map<string, Set<number>>();

  constructor(private readonly alive: (pid: number) => boolean = (pid) => existsSync(`/proc/${pid}`)) {}

  observe(events: readonly Event[]): void {
    for (const ev of events) {
      const body = ev.body;
      if (!body) continue;
      if (body.$case === 'exec') this.set(ev.pid, ev.execId, ev.own === true);
      else if (body.$case === 'fork') this.set(body.value.childPid, ev.execId, ev.own === true);
      else if (body.$case === 'exit') {
        const p = this.byPid.get(ev.pid);
        if (p && p.execId === ev.execId) this.remove(ev.pid);
      }
    }
  }

  /** The live tgids running image `execId`. */
  tgidsOf(execId: string): number[] {
    const set = this.byExec.get(execId);
    if (!set) return [];
    const out: number[] = [];
    for (const pid of set) {
      if (this.alive(pid)) out.push(pid);
      else this.remove(pid);
    }
    return out.sort((a, b) => a - b);
  }

  execOf(pid: number): string | undefined {
    return this.byPid.get(pid)?.execId;
  }

  isOwn(pid: number): boolean {
    return this.byPid.get(pid)?.own === true;
  }

  get size(): number {
    return this.byPid.size;
  }

  private set(pid: number, execId: string, own: boolean): void {
    this.remove(pid);
    this.byPid.set(pid, { execId, own });
    let set = this.byExec.get(execId);
    if (!set) this.byExec.set(execId, (set = new Set()));
    set.add(pid);
  }

  private remove(pid: number): void {
    const p = this.byPid.get(pid);
    if (!p) return;
    this.byPid.delete(pid);
    const set = this.byExec.get(p.execId);
    set?.delete(pid);
    if (set && set.size === 0) this.byExec.delete(p.execId);
  }
}
