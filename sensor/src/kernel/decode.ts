/**
 * Raw records (sensor/bpf/events.h, concatenated as the addon delivers them) -> proto `Event`s.
 *
 * Hot path: a batch of up to 256 KiB is decoded in one call. Reads are fixed-offset Buffer
 * reads, strings are sliced up to their recorded length (no NUL scanning except in comm and
 * argv), and the wall-clock offset is added once per record as a BigInt.
 *
 * Every event comes out complete except `seq` ("0": the sensor service numbers events).
 */
import path from 'node:path';
import {
  Direction,
  FactKind,
  FactVia,
  type ActivityCounters,
  type ContainerIdentity,
  type Event,
  type Fact,
  type ProcessExec,
} from '../../gen/soc/sensor/v1/sensor';
import { containerFromCgroupPath } from '../identity/container';
import { IORING_SETUP_SQPOLL, iouringOpName, iouringSetupFlagNames } from './iouring';
import {
  ACTIVITY_COUNTERS,
  COUNTERS_EVENT,
  Dir,
  ENDPOINT_FACT,
  EXEC_EVENT,
  EXEC_KEY,
  EXIT_EVENT,
  ExecFlag,
  FILE_FACT,
  FORK_EVENT,
  FileFlag,
  HEADER,
  HeaderFlag,
  IOURING_OP_FACT,
  IOURING_SETUP_FACT,
  Op,
  SYSCALL_FACT,
  SyscallFlag,
  Via,
} from './layout';
import { syscallName } from './syscalls';
import { decodeZoomRecord, type ZoomDecodeHost } from './zoom-decode';

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
  /**
   * The sensitive-path class of a file candidate's path (exact matching after the kernel's
   * prefilter), undefined when it matches none: the candidate is then dropped (stats.rejected).
   * Default: every candidate is kept, with an empty class.
   */
  classifyPath?: (path: string) => string | undefined;
  /**
   * Zoom number (as the kernel writes it) -> Zoom.id for evidence records. Undefined (or no
   * function): the zoom is unknown and its records are dropped (stats.skipped).
   */
  zoomId?: (zoomNo: number) => string | undefined;
}

/** Counters of what the decoder saw besides events. */
export interface DecodeStats {
  records: number;
  events: number;
  /** records of ops this decoder does not turn into events (benchmark, future ops) */
  skipped: number;
  /** a record whose size does not fit: the rest of that batch is dropped */
  malformed: number;
  /** file candidates of the kernel prefilter that matched no class exactly */
  rejected: number;
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
  readonly stats: DecodeStats = { records: 0, events: 0, skipped: 0, malformed: 0, rejected: 0 };
  private readonly prefix: string;
  private readonly zoomHost: ZoomDecodeHost;

  constructor(private readonly ctx: DecodeContext) {
    this.prefix = `${ctx.node}:${ctx.boot}:`;
    this.zoomHost = {
      node: ctx.node,
      wall: (ns) => this.wall(ns),
      execIdAt: (b, o) => this.execIdAt(b, o),
      zoomId: (n) => ctx.zoomId?.(n),
    };
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
      const op = buf.readUInt16LE(off + H_OP);
      if (op >= Op.IOURING_FIRST && op < Op.CODE_FIRST + 8) {
        // Zoom evidence: one record may give more than one event (see zoom-decode.ts).
        const first = out.length;
        const n = decodeZoomRecord(this.zoomHost, buf, off, size, op, out);
        if (n === 0) this.stats.skipped++;
        else if (buf.readUInt16LE(off + H_FLAGS) & HeaderFlag.OWN_TGID) for (let i = first; i < out.length; i++) out[i]!.own = true;
        this.stats.events += n;
        off += size;
        continue;
      }
      const ev = this.decodeOne(buf, off, size);
      if (ev) {
        if (buf.readUInt16LE(off + H_FLAGS) & HeaderFlag.OWN_TGID) ev.own = true;
        out.push(ev);
        this.stats.events++;
      } else if (ev === undefined) {
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

  /** Envelope of a record whose exec key is at `keyOff`. */
  private envelope(buf: Buffer, off: number, keyOff: number, body: Event['body']): Event {
    return {
      seq: '0',
      tsNs: this.wall(buf.readBigUInt64LE(off + H_KTIME)),
      node: this.ctx.node,
      execId: this.execIdAt(buf, off + keyOff),
      pid: buf.readUInt32LE(off + H_TGID),
      tid: buf.readUInt32LE(off + H_TID),
      body,
    };
  }

  /** undefined: not an event (skipped); null: a rejected file candidate. */
  private decodeOne(buf: Buffer, off: number, size: number): Event | undefined | null {
    const op = buf.readUInt16LE(off + H_OP);
    switch (op) {
      case Op.FACT_SYSCALL:
      case Op.FACT_IOURING_OP:
      case Op.FACT_IOURING_SETUP:
      case Op.FACT_ENDPOINT:
      case Op.FACT_FILE:
        return this.decodeFact(buf, off, size, op);
      case Op.FACT_COUNTERS:
        if (size < COUNTERS_EVENT.size) return undefined;
        return this.envelope(buf, off, COUNTERS_EVENT.fields.key, {
          $case: 'counters',
          value: { ...countersAt(buf, off + COUNTERS_EVENT.fields.counters), final: true },
        });
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

  private decodeFact(buf: Buffer, off: number, size: number, op: number): Event | undefined | null {
    const flags = buf.readUInt16LE(off + H_FLAGS);
    const fact = emptyFact();
    switch (op) {
      case Op.FACT_SYSCALL: {
        if (size < SYSCALL_FACT.size) return undefined;
        const nr = buf.readUInt32LE(off + SYSCALL_FACT.fields.nr);
        const abi = flags & SyscallFlag.IA32 ? 'i386' : 'x86_64';
        Object.assign(fact, { kind: FactKind.FACT_KIND_SYSCALL, name: syscallName(nr, abi), number: nr, via: FactVia.FACT_VIA_SYSCALL, abi });
        return this.envelope(buf, off, SYSCALL_FACT.fields.key, { $case: 'fact', value: fact });
      }
      case Op.FACT_IOURING_OP: {
        if (size < IOURING_OP_FACT.size) return undefined;
        const F = IOURING_OP_FACT.fields;
        const opcode = buf.readUInt8(off + F.opcode);
        Object.assign(fact, ringFields(buf.readUInt32LE(off + F.ring_flags)), {
          kind: FactKind.FACT_KIND_IO_URING_OP,
          name: iouringOpName(opcode),
          number: opcode,
          via: FactVia.FACT_VIA_IO_URING,
          fd: buf.readInt32LE(off + F.fd),
        });
        return this.envelope(buf, off, F.key, { $case: 'fact', value: fact });
      }
      case Op.FACT_IOURING_SETUP: {
        if (size < IOURING_SETUP_FACT.size) return undefined;
        const F = IOURING_SETUP_FACT.fields;
        Object.assign(fact, ringFields(buf.readUInt32LE(off + F.flags)), {
          kind: FactKind.FACT_KIND_IO_URING_SETUP,
          name: 'io_uring_setup',
          via: FactVia.FACT_VIA_SYSCALL,
          sqEntries: buf.readUInt32LE(off + F.sq_entries),
          cqEntries: buf.readUInt32LE(off + F.cq_entries),
          fd: buf.readInt32LE(off + F.fd),
        });
        return this.envelope(buf, off, F.key, { $case: 'fact', value: fact });
      }
      case Op.FACT_ENDPOINT: {
        if (size < ENDPOINT_FACT.size) return undefined;
        const F = ENDPOINT_FACT.fields;
        const family = buf.readUInt16LE(off + F.family);
        const address = formatAddress(family, buf.subarray(off + F.addr, off + F.addr + 16));
        const port = buf.readUInt16LE(off + F.port);
        const protocol = protocolName(buf.readUInt8(off + F.protocol));
        Object.assign(fact, {
          kind: FactKind.FACT_KIND_ENDPOINT,
          name: `${address.includes(':') ? `[${address}]` : address}:${port}/${protocol}`,
          via: viaOf(buf.readUInt8(off + F.via)),
          address,
          port,
          protocol,
          direction: buf.readUInt8(off + F.direction) === Dir.INBOUND ? Direction.DIRECTION_INBOUND : Direction.DIRECTION_OUTBOUND,
        });
        return this.envelope(buf, off, F.key, { $case: 'fact', value: fact });
      }
      default: {
        // Op.FACT_FILE: a prefilter candidate; exact matching decides.
        if (size < FILE_FACT.size) return undefined;
        const F = FILE_FACT.fields;
        const len = Math.min(buf.readUInt16LE(off + F.path_len), size - FILE_FACT.size);
        const raw = buf.toString('utf8', off + FILE_FACT.size, off + FILE_FACT.size + len);
        // As the process named it, with '//', '.' and '..' collapsed (no symlinks followed).
        const p = raw.startsWith('/') ? path.posix.normalize(raw) : raw;
        const cls = this.ctx.classifyPath ? this.ctx.classifyPath(p) : '';
        if (cls === undefined) {
          this.stats.rejected++;
          return null;
        }
        Object.assign(fact, {
          kind: FactKind.FACT_KIND_FILE,
          name: cls,
          via: viaOf(buf.readUInt8(off + F.via)),
          path: p,
          pathClass: cls,
          openFlags: buf.readUInt32LE(off + F.open_flags),
          pathRelative: (flags & FileFlag.RELATIVE) !== 0,
        });
        return this.envelope(buf, off, F.key, { $case: 'fact', value: fact });
      }
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
      workload: undefined, // set by the sensor (identity/tracker.ts), which knows the runtimes
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

/** A Fact with every field at its default. */
export function emptyFact(): Fact {
  return {
    kind: FactKind.FACT_KIND_UNSPECIFIED,
    name: '',
    number: 0,
    via: FactVia.FACT_VIA_UNSPECIFIED,
    abi: '',
    address: '',
    port: 0,
    protocol: '',
    direction: Direction.DIRECTION_UNSPECIFIED,
    path: '',
    pathClass: '',
    openFlags: 0,
    pathRelative: false,
    ringFlags: 0,
    sqpoll: false,
    sqEntries: 0,
    cqEntries: 0,
    ringFlagNames: [],
    fd: 0,
    workload: '',
  };
}

const C = ACTIVITY_COUNTERS.fields;

/** struct soc_activity_counters at `off` (cumulative values; sinceNs left "0"). */
export function countersAt(buf: Buffer, off: number): ActivityCounters {
  const u = (f: number) => buf.readBigUInt64LE(off + f).toString();
  return {
    sinceNs: '0',
    syscalls: u(C.syscalls),
    ioUringSubmissions: u(C.iouring_submissions),
    ioUringSetups: u(C.iouring_setups),
    connects: u(C.connects),
    sendsAddressed: u(C.sends_addressed),
    accepts: u(C.accepts),
    opens: u(C.opens),
    sensitiveOpens: u(C.sensitive_opens),
    final: false,
    workload: '',
  };
}

/** A ring's setup flags as a fact shows them. */
function ringFields(ringFlags: number): Pick<Fact, 'ringFlags' | 'sqpoll' | 'ringFlagNames'> {
  return { ringFlags, sqpoll: (ringFlags & IORING_SETUP_SQPOLL) !== 0, ringFlagNames: iouringSetupFlagNames(ringFlags) };
}

function viaOf(v: number): FactVia {
  return v === Via.IO_URING ? FactVia.FACT_VIA_IO_URING : v === Via.SYSCALL ? FactVia.FACT_VIA_SYSCALL : FactVia.FACT_VIA_UNSPECIFIED;
}

const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

export function protocolName(p: number): string {
  return PROTOCOLS[p] ?? `ip-${p}`;
}

/**
 * An address as text: IPv4 dotted quad; IPv6 in RFC 5952 form; IPv4-mapped IPv6 (a v6 socket
 * talking IPv4) as the IPv4 address, so a profile lists one form per peer.
 */
export function formatAddress(family: number, bytes: Buffer): string {
  if (family === 2) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // The longest run of two or more zero groups becomes "::" (the first, on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
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
