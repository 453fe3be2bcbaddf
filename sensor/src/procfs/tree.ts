/**
 * The process tree from /proc: which processes descend from given ones (for marking the
 * sensor's and the cockpit's processes as own, including what they already forked).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat } from './seed';

/** ppid of every process in /proc (tgids only); processes that vanish while reading are skipped. */
export function readParents(procRoot = '/proc'): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`${procRoot}/${name}/stat`, 'utf8');
      const ppid = parseProcStat(stat)?.ppid;
      if (ppid !== undefined) parents.set(Number(name), ppid);
    } catch {
      /* gone */
    }
  }
  return parents;
}

/** Every live descendant of `roots` (not the roots themselves). */
export function descendantsOf(roots: readonly number[], parents: Map<number, number> = readParents()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const seen = new Set<number>(roots);
  const queue = [...roots];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
