import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseExecId } from '../../db/ids';

/**
 * Recognises the cockpit's own process in a sensor's exec ids, on the cockpit's side. The sensor
 * marks the cockpit as its own (own = true) when the cockpit's Watch stream arrives from this
 * node, but what the cockpit did before that (from its start until it first connected) was
 * reported unmarked; this closes that window: an exec id names the node, the boot, the
 * thread-group leader's start time and the pid, and while this process runs no other process on
 * this node can have its pid with its start time.
 */
export interface OwnProcess {
  node: string;
  boot: string;
  pid: number;
  /** /proc/self/stat starttime: clock ticks (USER_HZ, 100 on Linux) since boot */
  startTicks: bigint;
}

const NS_PER_TICK = 10_000_000n; // USER_HZ = 100

/** This process, or null where /proc is not available (then only the sensor's marks count). */
export function readOwnProcess(node = os.hostname()): OwnProcess | null {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces and parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { node, boot: bootId.replace(/-/g, '').slice(0, 8), pid: process.pid, startTicks: BigInt(fields[19]!) };
  } catch {
    return null;
  }
}

/** A predicate: is this exec id an image of `own`? */
export function ownImageMatcher(own: OwnProcess | null): (execId: string) => boolean {
  if (!own) return () => false;
  return (execId) => {
    const p = parseExecId(execId);
    return !!p && p.pid === own.pid && p.node === own.node && p.boot === own.boot && BigInt(p.startNs) / NS_PER_TICK === own.startTicks;
  };
}
