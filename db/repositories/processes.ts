import type { Db } from '../client';
import { parseExecId } from '../ids';
import { selectRows } from '../query';
import { nsToClickHouse } from '../time';

/** A process image as the API returns it. Timestamps are nanosecond strings; ids are strings. */
export interface ProcessRecord {
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
  container: { runtime: string; containerId: string; podUid: string; podName: string; namespace: string };
  /** The workload the sensor put the image in (key '' when the sensor did not say). */
  workload: { key: string; kind: string; namespace: string; name: string; container: string };
  /** Read from /proc when the sensor started; its start time has clock-tick precision. */
  seeded: boolean;
  startNs: string;
  firstSeenNs: string;
  lastSeenNs: string;
  exited: boolean;
  exitNs: string | null;
  exitCode: number | null;
  exitSignal: number | null;
}

interface ProcessRow {
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
  containerRuntime: string;
  containerId: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  workload: string;
  workloadKind: string;
  workloadNamespace: string;
  workloadName: string;
  workloadContainer: string;
  seeded: boolean;
  startNs: string;
  firstSeenNs: string;
  lastSeenNs: string;
  exited: number;
  exitNs: string;
  exitCode: number;
  exitSignal: number;
}

/**
 * Columns of the processes view (one row per exec id, see db/schema/tables.ts). Every query on the
 * view filters on node and exec_id, which ClickHouse pushes down to process_events' primary key.
 * Aliases are camelCase so they never shadow a column name.
 */
const PROCESS_COLUMNS = `
  exec_id AS execId,
  node AS node,
  parent_exec_id AS parentExecId,
  pid, ppid, uid, gid, binary, argv, cwd, comm,
  cgroup_id AS cgroupId,
  cgroup_path AS cgroupPath,
  container_runtime AS containerRuntime,
  container_id AS containerId,
  pod_uid AS podUid,
  pod_name AS podName,
  pod_namespace AS podNamespace,
  workload,
  workload_kind AS workloadKind,
  workload_namespace AS workloadNamespace,
  workload_name AS workloadName,
  workload_container AS workloadContainer,
  seeded,
  toUnixTimestamp64Nano(start_ts) AS startNs,
  toUnixTimestamp64Nano(first_seen_ts) AS firstSeenNs,
  toUnixTimestamp64Nano(last_seen_ts) AS lastSeenNs,
  exited,
  toUnixTimestamp64Nano(exit_ts) AS exitNs,
  exit_code AS exitCode,
  exit_signal AS exitSignal`;

function toRecord(row: ProcessRow): ProcessRecord {
  const exited = Number(row.exited) === 1;
  return {
    execId: row.execId,
    parentExecId: row.parentExecId,
    node: row.node,
    pid: Number(row.pid),
    ppid: Number(row.ppid),
    uid: Number(row.uid),
    gid: Number(row.gid),
    binary: row.binary,
    argv: row.argv,
    cwd: row.cwd,
    comm: row.comm,
    cgroupId: String(row.cgroupId),
    cgroupPath: row.cgroupPath,
    container: {
      runtime: row.containerRuntime,
      containerId: row.containerId,
      podUid: row.podUid,
      podName: row.podName,
      namespace: row.podNamespace,
    },
    workload: {
      key: row.workload,
      kind: row.workloadKind,
      namespace: row.workloadNamespace,
      name: row.workloadName,
      container: row.workloadContainer,
    },
    seeded: Boolean(row.seeded),
    startNs: String(row.startNs),
    firstSeenNs: String(row.firstSeenNs),
    lastSeenNs: String(row.lastSeenNs),
    exited,
    exitNs: exited ? String(row.exitNs) : null,
    exitCode: exited ? Number(row.exitCode) : null,
    exitSignal: exited ? Number(row.exitSignal) : null,
  };
}

export interface ProcessSearch {
  node?: string;
  /** Substring of the executable path or command name, matched literally (case-insensitive). */
  binary?: string;
  pid?: number;
  fromNs: string;
  toNs: string;
  limit: number;
}

/** Escapes LIKE metacharacters so user text is matched literally. */
function likeLiteral(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Processes whose image started (or was seeded) in [fromNs, toNs], newest first. The exec rows of
 * process_events are partitioned by day, so the time window prunes; the merged rows then come
 * from the processes view by primary key.
 */
export async function searchProcesses(db: Db, search: ProcessSearch): Promise<ProcessRecord[]> {
  const filters = [`kind = 'exec'`, `ts >= {from:DateTime64(9, 'UTC')}`, `ts <= {to:DateTime64(9, 'UTC')}`];
  const params: Record<string, unknown> = {
    from: nsToClickHouse(search.fromNs),
    to: nsToClickHouse(search.toNs),
    limit: search.limit,
  };
  if (search.node) {
    filters.push('node = {node:String}');
    params.node = search.node;
  }
  if (search.binary) {
    filters.push('(binary ILIKE {binary:String} OR comm ILIKE {binary:String})');
    params.binary = likeLiteral(search.binary);
  }
  if (search.pid !== undefined) {
    filters.push('pid = {pid:UInt32}');
    params.pid = search.pid;
  }
  const rows = await selectRows<ProcessRow>(db, {
    sql: `SELECT ${PROCESS_COLUMNS}
          FROM processes
          WHERE (node, exec_id) IN (
            SELECT node, exec_id FROM process_events
            WHERE ${filters.join(' AND ')}
            ORDER BY ts DESC
            LIMIT {limit:UInt32}
          )
          ORDER BY startNs DESC, execId
          LIMIT {limit:UInt32}`,
    params,
    tag: 'processes.search',
  });
  return rows.map(toRecord);
}

/** Merged records of the given exec ids (missing ids are simply absent from the map). */
export async function getProcesses(db: Db, execIds: readonly string[]): Promise<Map<string, ProcessRecord>> {
  const byNode = new Map<string, string[]>();
  for (const id of execIds) {
    const parts = parseExecId(id);
    if (!parts) continue;
    byNode.set(parts.node, [...(byNode.get(parts.node) ?? []), id]);
  }
  const result = new Map<string, ProcessRecord>();
  for (const [node, ids] of byNode) {
    const rows = await selectRows<ProcessRow>(db, {
      sql: `SELECT ${PROCESS_COLUMNS}
            FROM processes
            WHERE node = {node:String} AND exec_id IN {ids:Array(String)}`,
      params: { node, ids },
      tag: 'processes.get',
    });
    for (const row of rows) result.set(row.execId, toRecord(row));
  }
  return result;
}

export async function getProcess(db: Db, execId: string): Promise<ProcessRecord | null> {
  return (await getProcesses(db, [execId])).get(execId) ?? null;
}

/**
 * The chain from a process up to its root (the process first, the root last). Stops at an unknown
 * parent (started before anything was recorded), at `maxDepth`, and on a cycle (which would mean
 * corrupt data — never loop forever on it).
 */
export async function getAncestry(db: Db, execId: string, maxDepth = 64): Promise<ProcessRecord[]> {
  const chain: ProcessRecord[] = [];
  const visited = new Set<string>();
  let current: string | null = execId;
  while (current && !visited.has(current) && chain.length < maxDepth) {
    visited.add(current);
    const record = await getProcess(db, current);
    if (!record) break;
    chain.push(record);
    current = record.parentExecId || null;
  }
  return chain;
}

/** Images whose parent is `execId` (direct children), oldest first. Pass the parent's record when it is at hand. */
export async function getChildren(db: Db, execId: string, limit = 500, known?: ProcessRecord): Promise<ProcessRecord[]> {
  const parts = parseExecId(execId);
  if (!parts) return [];
  const parent = known?.execId === execId ? known : await getProcess(db, execId);
  // Children start after their parent image was first seen: a lower bound for the partition scan.
  const fromNs = parent?.firstSeenNs ?? '0';
  const rows = await selectRows<ProcessRow>(db, {
    sql: `SELECT ${PROCESS_COLUMNS}
          FROM processes
          WHERE node = {node:String} AND exec_id IN (
            SELECT exec_id FROM process_events
            WHERE node = {node:String} AND kind = 'exec' AND parent_exec_id = {execId:String}
              AND ts >= {from:DateTime64(9, 'UTC')}
            LIMIT {limit:UInt32}
          )
          ORDER BY startNs, execId`,
    params: { node: parts.node, execId, from: nsToClickHouse(fromNs), limit },
    tag: 'processes.children',
  });
  return rows.map(toRecord);
}

export interface ForkRecord {
  pid: number;
  parentPid: number;
  tsNs: string;
  exited: boolean;
  exitNs: string | null;
  exitCode: number | null;
  exitSignal: number | null;
}

/** Processes forked from this image that kept running it (no exec of their own), with their exits. */
export async function getForks(db: Db, execId: string, limit = 500): Promise<ForkRecord[]> {
  const parts = parseExecId(execId);
  if (!parts) return [];
  const rows = await selectRows<{ pid: number; parentPid: number; tsNs: string }>(db, {
    sql: `SELECT child_pid AS pid, any(ppid) AS parentPid, toUnixTimestamp64Nano(min(ts)) AS tsNs
          FROM process_events
          WHERE node = {node:String} AND exec_id = {execId:String} AND kind = 'fork'
          GROUP BY child_pid
          ORDER BY tsNs
          LIMIT {limit:UInt32}`,
    params: { node: parts.node, execId, limit },
    tag: 'processes.forks',
  });
  if (rows.length === 0) return [];
  const exits = await selectRows<{ pid: number; exitNs: string; exitCode: number; exitSignal: number }>(db, {
    sql: `SELECT pid, toUnixTimestamp64Nano(max(ts)) AS exitNs, max(exit_code) AS exitCode, max(exit_signal) AS exitSignal
          FROM process_events
          WHERE node = {node:String} AND exec_id = {execId:String} AND kind = 'exit' AND pid IN {pids:Array(UInt32)}
          GROUP BY pid`,
    params: { node: parts.node, execId, pids: rows.map((r) => Number(r.pid)) },
    tag: 'processes.forks',
  });
  const exitByPid = new Map(exits.map((e) => [Number(e.pid), e]));
  return rows.map((r) => {
    const exit = exitByPid.get(Number(r.pid));
    return {
      pid: Number(r.pid),
      parentPid: Number(r.parentPid),
      tsNs: String(r.tsNs),
      exited: Boolean(exit),
      exitNs: exit ? String(exit.exitNs) : null,
      exitCode: exit ? Number(exit.exitCode) : null,
      exitSignal: exit ? Number(exit.exitSignal) : null,
    };
  });
}
