/**
 * Raw records (sensor/bpf/events.h, concatenated as the addon delivers them) -> proto `Event`s.
 *
 * Hot path: a batch of up to 256 KiB is decoded in one call. Reads are fixed-offset Buffer
 * reads, strings are sliced up to their recorded length (no NUL scanning except in comm and
 * argv), and the wall-clock offset is added once per record as a BigInt.
 *
 * Every event comes out complete except `seq` ("0": the sensor service numbers events).
 */
import type { ContainerIdentity, Event, ProcessExec } from '../../gen/soc/sensor/v1/sensor';
import { containerFromCgroupPath } from '../identity/container';
import { EXEC_EVENT, EXEC_KEY, EXIT_EVENT, ExecFlag, FORK_EVENT, HEADER, Op } from './layout';

/** What the decoder needs to know about this node. */
export interface DecodeContext {
  /** node name: first part of every exec id */
  node: string;
  /** first 8 hex chars of /proc/sys/kernel/random/boot_id, dashes removed */
  boot: string;
  /** CLOCK_REALTIME - CLOCK_BOOTTIME, ns, measured once at start */
  wallOffsetNs: bigint;
  /**
   * Resolves a cgroup id (and its leaf name from the record) to a path and identity. Default:
   * no path, identity from the leaf name alone.
   */
  cgroup?: (cgroupId: string, leafName: string) => { path: string; container: ContainerIdentity };
}

/** Counters of what the decoder saw besides events. */
export interface DecodeStats {
  records: number;
  events: number;
  /** records of ops this decoder does not turn into events (benchmark, future ops) */
  skipped: number;
  /** a record whose size does not fit: the rest of that batch is dropped */
  malformed: number;
}

/** One exec key as read from a record. */
export interface ExecKey {
  startBoottimeNs: bigint;
  tgid: number;
  selfExecId: bigint;
}

/** `${node}:${boot}:${startBoottimeNs}:${tgid}:${selfExecId}` */
export function formatExecId(node: string, boot: string, key: ExecKey): string {
  return `${node}:${boot}:${key.startBoottimeNs}:${key.tgid}:${key.selfExecId}`;
}

/** wait(2) status -> exit code (normal exit) and terminating signal. */
export function splitWaitStatus(status: number): { exitCode: number; signal: number } {
  const signal = status & 0x7f;
  return signal === 0 ? { exitCode: (status >> 8) & 0xff, signal: 0 } : { exitCode: 0, signal };
}

const H_OP = HEADER.fields.op;
const H_SIZE = HEADER.fields.size;
const H_FLAGS = HEADER.fields.flags;
const H_KTIME = HEADER.fields.ktime_ns;
const H_TGID = HEADER.fields.tgid;
const H_TID = HEADER.fields.tid;
const K_START = EXEC_KEY.fields.start_boottime_ns;
const K_SEID = EXEC_KEY.fields.self_exec_id;
const K_TGID = EXEC_KEY.fields.tgid;
const E = EXEC_EVENT.fields;
const F = FORK_EVENT.fields;
const X = EXIT_EVENT.fields;

export class RecordDecoder {
  readonly stats: DecodeStats = { records: 0, events: 0, skipped: 0, malformed: 0 };
  private readonly prefix: string;

  constructor(private readonly ctx: DecodeContext) {
    this.prefix = `${ctx.node}:${ctx.boot}:`;
  }

  /** Decodes every record of `buf` and appends the events to `out`. */
  decode(buf: Buffer, out: Event[] = []): Event[] {
    let off = 0;
    const end = buf.length;
    while (off + HEADER.size <= end) {
      const size = buf.readUInt16LE(off + H_SIZE);
      if (size < HEADER.size || off + size > end) {
        this.stats.malformed++;
        break;
      }
      this.stats.records++;
      const ev = this.decodeOne(buf, off, size);
      if (ev) {
        out.push(ev);
        this.stats.events++;
      } else {
        this.stats.skipped++;
      }
      off += size;
    }
    return out;
  }

  /** The exec id of the key at `off` in `buf`. */
  execIdAt(buf: Buffer, off: number): string {
    return (
      this.prefix +
      buf.readBigUInt64LE(off + K_START).toString() +
      ':' +
      buf.readUInt32LE(off + K_TGID) +
      ':' +
      buf.readBigUInt64LE(off + K_SEID).toString()
    );
  }

  /** Boot-time ns -> wall-clock ns as a decimal string. */
  wall(bootNs: bigint): string {
    return (bootNs + this.ctx.wallOffsetNs).toString();
  }

  private decodeOne(buf: Buffer, off: number, size: number): Event | undefined {
    const op = buf.readUInt16LE(off + H_OP);
    switch (op) {
      case Op.EXEC:
        return size >= EXEC_EVENT.size ? this.decodeExec(buf, off, size) : undefined;
      case Op.FORK:
        if (size < FORK_EVENT.size) return undefined;
        return {
          seq: '0',
          tsNs: this.wall(buf.readBigUInt64LE(off + H_KTIME)),
          node: this.ctx.node,
          execId: this.execIdAt(buf, off + F.key),
          pid: buf.readUInt32LE(off + H_TGID),
          tid: buf.readUInt32LE(off + H_TID),
          body: {
            $case: 'fork',
            value: { childPid: buf.readUInt32LE(off + F.child_tgid), parentPid: buf.readUInt32LE(off + H_TGID) },
          },
        };
      case Op.EXIT:
        if (size < EXIT_EVENT.size) return undefined;
        return {
          seq: '0',
          tsNs: this.wall(buf.readBigUInt64LE(off + H_KTIME)),
          node: this.ctx.node,
          execId: this.execIdAt(buf, off + X.key),
          pid: buf.readUInt32LE(off + H_TGID),
          tid: buf.readUInt32LE(off + H_TID),
          body: { $case: 'exit', value: splitWaitStatus(buf.readUInt32LE(off + X.status)) },
        };
      default:
        return undefined;
    }
  }

  private decodeExec(buf: Buffer, off: number, size: number): Event {
    const flags = buf.readUInt16LE(off + H_FLAGS);
    const seeded = (flags & ExecFlag.SEEDED) !== 0;
    const tsNs = this.wall(buf.readBigUInt64LE(off + H_KTIME));
    const binaryLen = buf.readUInt16LE(off + E.binary_len);
    const cwdLen = buf.readUInt16LE(off + E.cwd_len);
    const argsLen = buf.readUInt16LE(off + E.args_len);
    const leafLen = buf.readUInt16LE(off + E.cgroup_name_len);
    const end = off + size;
    let p = off + EXEC_EVENT.size;
    const take = (len: number): [number, number] => {
      const s = Math.min(p, end);
      p = Math.min(p + len, end);
      return [s, p];
    };
    const [b0, b1] = take(binaryLen);
    const [c0, c1] = take(cwdLen);
    const [a0, a1] = take(argsLen);
    const [l0, l1] = take(leafLen);

    const cgroupId = buf.readBigUInt64LE(off + E.cgroup_id).toString();
    const leaf = buf.toString('utf8', l0, l1);
    const cg = this.ctx.cgroup
      ? this.ctx.cgroup(cgroupId, leaf)
      : { path: '', container: containerFromCgroupPath(leaf ? `/${leaf}` : '') };

    const exec: ProcessExec = {
      parentExecId: this.execIdAt(buf, off + E.parent_key),
      ppid: buf.readUInt32LE(off + E.ppid),
      uid: buf.readUInt32LE(off + E.uid),
      gid: buf.readUInt32LE(off + E.gid),
      auid: buf.readUInt32LE(off + E.auid),
      binary: buf.toString('utf8', b0, b1),
      argv: splitArgs(buf, a0, a1),
      argvTruncated: (flags & ExecFlag.ARGS_TRUNCATED) !== 0,
      cwd: buf.toString('utf8', c0, c1),
      comm: cString(buf, off + E.comm, off + E.comm + 16),
      cgroupId,
      cgroupPath: cg.path,
      container: cg.container,
      seeded,
      startNs: seeded ? this.wall(buf.readBigUInt64LE(off + E.key + K_START)) : tsNs,
    };
    return {
      seq: '0',
      tsNs,
      node: this.ctx.node,
      execId: this.execIdAt(buf, off + E.key),
      pid: buf.readUInt32LE(off + H_TGID),
      tid: buf.readUInt32LE(off + H_TID),
      body: { $case: 'exec', value: exec },
    };
  }
}

/** Flags of the exec record at `off` (seeding needs them to know what to complete). */
export function execFlagsAt(buf: Buffer, off: number): number {
  return buf.readUInt16LE(off + H_FLAGS);
}

/** A NUL-terminated string within [start, end). */
function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= start && nul < end ? nul : end);
}

/** NUL-separated argv; a trailing NUL does not make an empty last argument. */
export function splitArgs(buf: Buffer, start: number, end: number): string[] {
  const argv: string[] = [];
  let s = start;
  while (s < end) {
    let e = buf.indexOf(0, s);
    if (e < 0 || e > end) e = end;
    argv.push(buf.toString('utf8', s, e));
    s = e + 1;
  }
  return argv;
}
