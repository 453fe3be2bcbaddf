import type { ForkRecord, ProcessRecord } from '../../db/repositories/processes';

/**
 * The API shapes of the processes feature. They are spelled out (not re-exported storage types)
 * so a storage change cannot silently change what scripts receive. Timestamps are nanoseconds
 * since the Unix epoch as decimal strings; ids are strings.
 */

export interface ContainerView {
  runtime: string;
  containerId: string;
  podUid: string;
  podName: string;
  namespace: string;
}

/** What the image belongs to for baselines (key '' when the sensor did not say). */
export interface WorkloadView {
  /** k8s/<ns>/<workload>/<container>, container/…, systemd/<unit>, cgroup/<path>, host/<executable> */
  key: string;
  kind: string;
  namespace: string;
  name: string;
  container: string;
}

/** One process image, everything known about it. */
export interface ProcessView {
  execId: string;
  parentExecId: string;
  node: string;
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  binary: string;
  argv: string[];
  cwd: string;
  comm: string;
  cgroupId: string;
  cgroupPath: string;
  container: ContainerView;
  workload: WorkloadView;
  /** Read from /proc when the sensor started (start time at clock-tick precision). */
  seeded: boolean;
  startNs: string;
  firstSeenNs: string;
  lastSeenNs: string;
  exited: boolean;
  exitNs: string | null;
  exitCode: number | null;
  exitSignal: number | null;
}

/** A process image as a link in a chain or a node in a tree. */
export interface ProcessBrief {
  execId: string;
  parentExecId: string;
  node: string;
  pid: number;
  ppid: number;
  uid: number;
  binary: string;
  argv: string[];
  comm: string;
  seeded: boolean;
  startNs: string;
  exited: boolean;
  exitNs: string | null;
  exitCode: number | null;
  exitSignal: number | null;
}

/** A process forked from an image that kept running it (it never exec'd). */
export interface ForkView {
  pid: number;
  parentPid: number;
  forkNs: string;
  exited: boolean;
  exitNs: string | null;
  exitCode: number | null;
  exitSignal: number | null;
}

/**
 * Why an ancestry chain ends where it ends:
 * - `root`: the last image has no parent (the start of the recorded tree);
 * - `parent_not_recorded`: its parent is named but was never stored (e.g. outside the TTL);
 * - `depth_limit`: the chain was cut at the maximum depth;
 * - `cycle`: the parent links loop (corrupt data; the chain stops before repeating).
 */
export type AncestryEnd = 'root' | 'parent_not_recorded' | 'depth_limit' | 'cycle';

export interface AncestryView {
  /** The process first, its root last. */
  chain: ProcessBrief[];
  end: AncestryEnd;
}

export interface ChildrenView {
  /** Images whose parent is this process (exec'd children), oldest first. */
  children: ProcessBrief[];
  /** Pids forked from this image that never exec'd, oldest first. */
  forks: ForkView[];
}

export function toProcessView(p: ProcessRecord): ProcessView {
  return {
    execId: p.execId,
    parentExecId: p.parentExecId,
    node: p.node,
    pid: p.pid,
    ppid: p.ppid,
    uid: p.uid,
    gid: p.gid,
    binary: p.binary,
    argv: [...p.argv],
    cwd: p.cwd,
    comm: p.comm,
    cgroupId: p.cgroupId,
    cgroupPath: p.cgroupPath,
    container: { ...p.container },
    workload: { ...p.workload },
    seeded: p.seeded,
    startNs: p.startNs,
    firstSeenNs: p.firstSeenNs,
    lastSeenNs: p.lastSeenNs,
    exited: p.exited,
    exitNs: p.exitNs,
    exitCode: p.exitCode,
    exitSignal: p.exitSignal,
  };
}

export function toProcessBrief(p: ProcessRecord): ProcessBrief {
  return {
    execId: p.execId,
    parentExecId: p.parentExecId,
    node: p.node,
    pid: p.pid,
    ppid: p.ppid,
    uid: p.uid,
    binary: p.binary,
    argv: [...p.argv],
    comm: p.comm,
    seeded: p.seeded,
    startNs: p.startNs,
    exited: p.exited,
    exitNs: p.exitNs,
    exitCode: p.exitCode,
    exitSignal: p.exitSignal,
  };
}

export function toForkView(f: ForkRecord): ForkView {
  return {
    pid: f.pid,
    parentPid: f.parentPid,
    forkNs: f.tsNs,
    exited: f.exited,
    exitNs: f.exitNs,
    exitCode: f.exitCode,
    exitSignal: f.exitSignal,
  };
}

/** The repository stops a chain silently; this names the reason, so the page can say it. */
export function toAncestryView(chain: readonly ProcessRecord[], maxDepth: number): AncestryView {
  const last = chain.at(-1);
  let end: AncestryEnd;
  if (!last || last.parentExecId === '') end = 'root';
  else if (chain.some((p) => p.execId === last.parentExecId)) end = 'cycle';
  else if (chain.length >= maxDepth) end = 'depth_limit';
  else end = 'parent_not_recorded';
  return { chain: chain.map(toProcessBrief), end };
}
