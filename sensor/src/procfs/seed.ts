/**
 * Seeding: exec events for the processes that already ran when the sensor attached.
 *
 * The kernel side (iter/task program seed_tasks) writes one exec record per thread-group leader
 * with what the kernel knows: exec key (the same one the kernel later uses for the process's
 * exit), parent key, ppid, credentials, cgroup, comm, binary (mm->exe_file) and cwd. argv of
 * another process is not readable there, so it is completed here from /proc/PID/cmdline, and
 * binary / cwd from /proc/PID/{exe,cwd} when the kernel could not resolve them.
 *
 * A process that exited between the iterator and the /proc reads (or whose pid was reused in
 * between: the start time no longer matches) is skipped and counted as vanished; every other
 * /proc failure (e.g. permission) only leaves that field empty.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { Event, ProcessExec } from '../../gen/soc/sensor/v1/sensor';
import { ExecFlag, EXEC_EVENT, HEADER, Op, STR_MAX } from '../kernel/layout';
import { RecordDecoder, execFlagsAt } from '../kernel/decode';

export interface SeedStats {
  /** processes the iterator reported */
  found: number;
  /** seeded exec events emitted */
  emitted: number;
  /** skipped: already reported by a live exec or fork since attach */
  skippedLive: number;
  /** skipped: gone (or pid reused) before /proc could be read */
  vanished: number;
}

export interface SeedOptions {
  /** the iterator's output (concatenated exec records with the SEEDED flag) */
  records: Buffer;
  decoder: RecordDecoder;
  /** pids reported live (exec, or fork child) since attach */
  skipPids: ReadonlySet<number>;
  /** default /proc */
  procRoot?: string;
  /** clock ticks per second of /proc/PID/stat's starttime (default 100, USER_HZ) */
  clockTicks?: number;
}

const VANISHED = new Set(['ENOENT', 'ESRCH']);

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}

/** state (field 3), ppid (4) and starttime (22) of /proc/PID/stat; comm may hold spaces and ')'. */
export function parseProcStat(stat: string): { state: string; ppid: number; startTicks: bigint } | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22 -> rest[19]
  const start = rest[19];
  if (!rest[0] || rest[1] === undefined || start === undefined) return undefined;
  return { state: rest[0], ppid: Number(rest[1]), startTicks: BigInt(start) };
}

/** NUL-separated cmdline -> argv, cut at STR_MAX bytes like the live path. */
export function parseCmdline(raw: Buffer): { argv: string[]; truncated: boolean } {
  const truncated = raw.length > STR_MAX;
  const data = truncated ? raw.subarray(0, STR_MAX) : raw;
  const argv: string[] = [];
  let s = 0;
  while (s < data.length) {
    let e = data.indexOf(0, s);
    if (e < 0) e = data.length;
    argv.push(data.toString('utf8', s, e));
    s = e + 1;
  }
  return { argv, truncated };
}

export function seedProcesses(opts: SeedOptions): { events: Event[]; stats: SeedStats } {
  const proc = opts.procRoot ?? '/proc';
  const nsPerTick = 1_000_000_000n / BigInt(opts.clockTicks ?? 100);
  const stats: SeedStats = { found: 0, emitted: 0, skippedLive: 0, vanished: 0 };
  const events: Event[] = [];
  const buf = opts.records;

  for (let off = 0; off + HEADER.size <= buf.length; ) {
    const size = buf.readUInt16LE(off + HEADER.fields.size);
    if (size < HEADER.size || off + size > buf.length) break;
    const op = buf.readUInt16LE(off + HEADER.fields.op);
    const flags = execFlagsAt(buf, off);
    if (op !== Op.EXEC || (flags & ExecFlag.SEEDED) === 0 || size < EXEC_EVENT.size) {
      off += size;
      continue;
    }
    const startBoot = buf.readBigUInt64LE(off + EXEC_EVENT.fields.key);
    const record = buf.subarray(off, off + size);
    off += size;
    stats.found++;

    const [ev] = opts.decoder.decode(record);
    if (!ev || ev.body?.$case !== 'exec') continue;
    if (opts.skipPids.has(ev.pid)) {
      stats.skippedLive++;
      continue;
    }
    const exec: ProcessExec = ev.body.value;
    const dir = `${proc}/${ev.pid}`;

    // Still the same process? Gone, a zombie, or a reused pid count as vanished.
    let stat;
    try {
      stat = parseProcStat(readFileSync(`${dir}/stat`, 'latin1'));
    } catch (e) {
      if (VANISHED.has(errCode(e))) {
        stats.vanished++;
        continue;
      }
    }
    if (stat) {
      const sameStart = stat.startTicks === startBoot / nsPerTick || stat.startTicks === startBoot / nsPerTick + 1n;
      if (stat.state === 'Z' || stat.state === 'X' || !sameStart) {
        stats.vanished++;
        continue;
      }
    }

    try {
      const { argv, truncated } = parseCmdline(readFileSync(`${dir}/cmdline`));
      exec.argv = argv;
      exec.argvTruncated = truncated;
    } catch (e) {
      if (VANISHED.has(errCode(e))) {
        stats.vanished++;
        continue;
      }
    }
    if (!exec.binary) exec.binary = readlinkOr(`${dir}/exe`);
    if (!exec.cwd) exec.cwd = readlinkOr(`${dir}/cwd`);
    events.push(ev);
    stats.emitted++;
  }
  return { events, stats };
}

function readlinkOr(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}
