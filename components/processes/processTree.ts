import type { ForkView, ProcessBrief } from '@/server/processes/views';
import { basename, formatArgv, formatExit, formatImageEnd } from '../format/process';

/**
 * The process context as a tree: the ancestry path from the root down to the process, then the
 * process's exec'd children and forked pids. The same tree feeds the chart and the accessible list
 * next to it (a canvas cannot be read by screen readers or tests).
 *
 * Built with a visited set: parent links come from the kernel via storage, and a corrupt or
 * adversarial cycle (a child that is also an ancestor) must never make anything recurse forever.
 */
export interface ProcessTreeNode {
  /** Unique within the tree: the exec id, or `fork:<pid>` for a forked pid that never exec'd. */
  key: string;
  /** Null for forks: they have no image of their own to open. */
  execId: string | null;
  role: 'ancestor' | 'self' | 'child' | 'fork';
  pid: number;
  /** Short name for the chart: "sleep [4242]". */
  label: string;
  /** The whole story for lists and tooltips: binary, argv, exit. */
  description: string;
  children: ProcessTreeNode[];
}

/** `successor`: the image that came next in this chain, if any (see formatImageEnd). */
function imageNode(p: ProcessBrief, role: ProcessTreeNode['role'], successor: ProcessBrief | null): ProcessTreeNode {
  return {
    key: p.execId,
    execId: p.execId,
    role,
    pid: p.pid,
    label: `${basename(p.binary) || p.comm} [${p.pid}]`,
    description: `${p.binary} — ${formatArgv(p.argv)} — ${formatImageEnd(p, successor)}`,
    children: [],
  };
}

function forkNode(f: ForkView): ProcessTreeNode {
  return {
    key: `fork:${f.pid}`,
    execId: null,
    role: 'fork',
    pid: f.pid,
    label: `fork [${f.pid}]`,
    description: `forked pid ${f.pid}, same image — ${formatExit(f)}`,
    children: [],
  };
}

/**
 * @param ancestry the process first, its root last (as `processes.ancestry` returns it)
 * @param children the process's exec'd children
 * @param forks    the process's forked pids
 */
export function buildProcessTree(
  ancestry: readonly ProcessBrief[],
  children: readonly ProcessBrief[],
  forks: readonly ForkView[],
): ProcessTreeNode | null {
  const self = ancestry[0];
  if (!self) return null;
  const visited = new Set<string>();
  let root: ProcessTreeNode | null = null;
  let parent: ProcessTreeNode | null = null;
  let selfNode: ProcessTreeNode | null = null;
  // Root first: walk the chain backwards, each link the only child of the one above it.
  for (let i = ancestry.length - 1; i >= 0; i--) {
    const p = ancestry[i]!;
    if (visited.has(p.execId)) continue;
    visited.add(p.execId);
    const isSelf = p.execId === self.execId;
    const successor = isSelf ? (children.find((c) => c.pid === p.pid) ?? null) : (ancestry[i - 1] ?? null);
    const node = imageNode(p, isSelf ? 'self' : 'ancestor', successor);
    if (isSelf) selfNode = node;
    if (parent) parent.children.push(node);
    else root = node;
    parent = node;
  }
  if (!selfNode) return root;
  for (const child of children) {
    if (visited.has(child.execId)) continue;
    visited.add(child.execId);
    selfNode.children.push(imageNode(child, 'child', null));
  }
  for (const fork of forks) {
    const key = `fork:${fork.pid}`;
    if (visited.has(key)) continue;
    visited.add(key);
    selfNode.children.push(forkNode(fork));
  }
  return root;
}

/** Depth-first, each node with its depth: for flat renderings and tests. */
export function flattenTree(root: ProcessTreeNode | null): { node: ProcessTreeNode; depth: number }[] {
  const out: { node: ProcessTreeNode; depth: number }[] = [];
  const stack: { node: ProcessTreeNode; depth: number }[] = root ? [{ node: root, depth: 0 }] : [];
  while (stack.length > 0) {
    const item = stack.pop()!;
    out.push(item);
    for (let i = item.node.children.length - 1; i >= 0; i--) stack.push({ node: item.node.children[i]!, depth: item.depth + 1 });
  }
  return out;
}
