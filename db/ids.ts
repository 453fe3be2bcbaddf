import { z } from 'zod';

/**
 * Exec ids name one process image on one node: "<node>:<boot>:<start_ns>:<tgid>:<self_exec_id>"
 * (node name, first 8 hex digits of the boot id, the thread-group leader's start time in boot-clock
 * nanoseconds, the pid, and the kernel's per-process exec counter). They are opaque strings to
 * everything but this module; the node part lets queries use the (node, exec_id) primary key.
 */
export const EXEC_ID_PATTERN = /^([A-Za-z0-9._-]{1,253}):([0-9a-f]{8}):(\d{1,20}):(\d{1,10}):(\d{1,20})$/;

export const execIdSchema = z.string().max(320).regex(EXEC_ID_PATTERN, 'not an exec id (node:boot:start_ns:pid:exec_count)');

export interface ExecIdParts {
  node: string;
  boot: string;
  startNs: string;
  pid: number;
  execCount: string;
}

export function parseExecId(execId: string): ExecIdParts | null {
  const m = EXEC_ID_PATTERN.exec(execId);
  if (!m) return null;
  return { node: m[1]!, boot: m[2]!, startNs: m[3]!, pid: Number(m[4]), execCount: m[5]! };
}

export function formatExecId(parts: ExecIdParts): string {
  return `${parts.node}:${parts.boot}:${parts.startNs}:${parts.pid}:${parts.execCount}`;
}
