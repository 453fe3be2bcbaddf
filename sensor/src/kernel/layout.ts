/**
 * The wire format of sensor/bpf/events.h, as byte offsets for the decoder.
 *
 * Field names are the C member names, so layout.livetest.ts can compare every offset and size
 * here with the BTF of the compiled object (Tetragon's alignchecker idea): a field moved in
 * events.h without updating this file fails that test instead of decoding garbage.
 */

/** enum soc_op */
export const Op = {
  EXEC: 1,
  FORK: 2,
  EXIT: 3,
  FACT_FIRST: 16,
  IOURING_FIRST: 32,
  SOCKET_FIRST: 64,
  FILE_FIRST: 96,
  BENCH: 127,
  MAX: 128,
} as const;

/** Header flags common to every op (bits 12..15). */
export const HeaderFlag = {
  OWN_TGID: 1 << 15,
} as const;

/** Exec record flags (header.flags for Op.EXEC). */
export const ExecFlag = {
  SEEDED: 1 << 0,
  ARGS_TRUNCATED: 1 << 1,
  ARGS_UNREADABLE: 1 << 2,
  BINARY_TRUNCATED: 1 << 3,
  BINARY_FROM_FILENAME: 1 << 4,
  CWD_TRUNCATED: 1 << 5,
  PARENT_KEY_FALLBACK: 1 << 6,
  KEY_FALLBACK: 1 << 7,
  CGROUP_NAME_TRUNCATED: 1 << 8,
  STATE_LOST: 1 << 9,
} as const;

export const ForkFlag = { KEY_FALLBACK: 1 << 0 } as const;
export const ExitFlag = { KEY_FALLBACK: 1 << 0 } as const;

export const COMM_LEN = 16;
export const STR_MAX = 4095;
export const CGROUP_NAME_MAX = 255;

/** Kernel-side error counters (enum soc_error in process.bpf.c). */
export const KernelError = { STATE_ALLOC: 0, MAX: 8 } as const;

export interface StructLayout {
  /** the C struct name in events.h */
  readonly name: string;
  readonly size: number;
  /** member name -> byte offset */
  readonly fields: Readonly<Record<string, number>>;
}

export const HEADER = {
  name: 'soc_event_header',
  size: 24,
  fields: { op: 0, size: 2, flags: 4, reserved: 6, ktime_ns: 8, tgid: 16, tid: 20 },
} as const satisfies StructLayout;

export const EXEC_KEY = {
  name: 'soc_exec_key',
  size: 24,
  fields: { start_boottime_ns: 0, self_exec_id: 8, tgid: 16, pad: 20 },
} as const satisfies StructLayout;

export const EXEC_EVENT = {
  name: 'soc_exec_event',
  size: 128,
  fields: {
    hdr: 0,
    key: 24,
    parent_key: 48,
    cgroup_id: 72,
    ppid: 80,
    uid: 84,
    gid: 88,
    euid: 92,
    egid: 96,
    auid: 100,
    binary_len: 104,
    cwd_len: 106,
    args_len: 108,
    cgroup_name_len: 110,
    comm: 112,
  },
} as const satisfies StructLayout;

export const FORK_EVENT = {
  name: 'soc_fork_event',
  size: 64,
  fields: { hdr: 0, key: 24, child_start_boottime_ns: 48, child_tgid: 56, pad: 60 },
} as const satisfies StructLayout;

export const EXIT_EVENT = {
  name: 'soc_exit_event',
  size: 56,
  fields: { hdr: 0, key: 24, status: 48, pad: 52 },
} as const satisfies StructLayout;

export const BENCH_EVENT = {
  name: 'soc_bench_event',
  size: 64,
  fields: { hdr: 0, syscall_nr: 24, seq: 32, pad: 40 },
} as const satisfies StructLayout;

/** Every struct of the wire format, for the layout check. */
export const WIRE_STRUCTS: readonly StructLayout[] = [
  HEADER,
  EXEC_KEY,
  EXEC_EVENT,
  FORK_EVENT,
  EXIT_EVENT,
  BENCH_EVENT,
];
