import type { Db } from '../../db/client';
import { getAncestry, getChildren, type ProcessRecord } from '../../db/repositories/processes';
import { getInvestigation } from '../../db/repositories/investigations';
import { InvestigationNotFoundError, NotFoundError } from './errors';

/**
 * The ancestry panel: the chain from the root to the focused process (the investigation's, or the
 * one the analyst selected), its siblings (the parent's other children) and its children, from the
 * processes tables.
 */

export interface ProcessNode {
  execId: string;
  parentExecId: string;
  node: string;
  pid: number;
  ppid: number;
  uid: number;
  /** the user's name when known, else the uid as text (sensors report uids, not names) */
  user: string;
  binary: string;
  argv: string[];
  cwd: string;
  /** container id ('' on the host) */
  container: string;
  /** namespace/name of the pod ('' outside Kubernetes) */
  pod: string;
  startNs: string;
  exitNs: string | null;
  exitCode: number | null;
}

export interface AncestryView {
  focusExecId: string;
  indicatorExecId: string;
  /** root first, the focus last; empty when nothing is stored of the focus */
  chain: ProcessNode[];
  siblings: ProcessNode[];
  children: ProcessNode[];
}

/** Names every Linux system gives these uids; any other uid is shown as its number. */
const WELL_KNOWN_USERS: ReadonlyMap<number, string> = new Map([
  [0, 'root'],
  [65534, 'nobody'],
]);

export const userOf = (uid: number) => WELL_KNOWN_USERS.get(uid) ?? String(uid);

const MAX_RELATIVES = 200;

export function toProcessNode(p: ProcessRecord): ProcessNode {
  const { execId, parentExecId, node, pid, ppid, uid, binary, argv, cwd, startNs, exitNs, exitCode } = p;
  const pod = p.container.podName ? `${p.container.namespace}/${p.container.podName}` : '';
  return { execId, parentExecId, node, pid, ppid, uid, user: userOf(uid), binary, argv, cwd, container: p.container.containerId, pod, startNs, exitNs, exitCode };
}

export async function investigationAncestry(db: Db, id: string, execId?: string): Promise<AncestryView> {
  const record = await getInvestigation(db, id);
  if (!record) throw new InvestigationNotFoundError(id);
  const focus = execId ?? record.execId;
  // The walk up and the children are independent: asked at once.
  const [upwards, children] = focus ? await Promise.all([getAncestry(db, focus), getChildren(db, focus, MAX_RELATIVES)]) : [[], []];
  if (execId !== undefined && upwards.length === 0) throw new NotFoundError(`no process ${execId} (nothing stored of it)`);
  const parent = upwards[1];
  const parentsChildren = parent ? await getChildren(db, parent.execId, MAX_RELATIVES + 1, parent) : [];
  return {
    focusExecId: focus,
    indicatorExecId: record.execId,
    chain: [...upwards].reverse().map(toProcessNode),
    siblings: parentsChildren.filter((p) => p.execId !== focus).slice(0, MAX_RELATIVES).map(toProcessNode),
    children: children.map(toProcessNode),
  };
}
