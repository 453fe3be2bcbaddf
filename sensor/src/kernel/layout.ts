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
  FACT_SYSCALL: 16,
  FACT_IOURING_OP: 17,
  FACT_IOURING_SETUP: 18,
  FACT_ENDPOINT: 19,
  FACT_FILE: 20,
  FACT_COUNTERS: 21,
  IOURING_FIRST: 32,
  ZOOM_IOURING: 32,
  SOCKET_FIRST: 64,
  ZOOM_SOCKET: 64,
  FILE_FIRST: 96,
  ZOOM_FILE: 96,
  CODE_FIRST: 112,
  ZOOM_EXEC_MAP: 112,
  BENCH: 127,
  MAX: 128,
} as const;

/** Header flags common to every op (bits 12..15). */
export const HeaderFlag = {
  /** the sensor's own activity, or a marked process's (the cockpit) or a descendant's */
  OWN_TGID: 1 << 15,
} as const;

/** Syscall fact flags. */
export const SyscallFlag = { IA32: 1 << 0 } as const;
/** io_uring op fact flags. */
export const IouringFlag = { SQE_UNREAD: 1 << 0 } as const;
/** File fact flags. */
export const FileFlag = {
  RELATIVE: 1 << 0,
  DIR_UNRESOLVED: 1 << 1,
  PATH_TRUNCATED: 1 << 2,
  COMPLETE: 1 << 3,
  OPENAT2: 1 << 4,
  DEFERRED: 1 << 5,
  KERNEL_COPY: 1 << 6,
} as const;

/** enum soc_via */
export const Via = { UNSPEC: 0, SYSCALL: 1, IO_URING: 2 } as const;
/** enum soc_direction */
export const Dir = { UNSPEC: 0, OUTBOUND: 1, INBOUND: 2 } as const;
/** enum soc_abi */
export const Abi = { X86_64: 0, I386: 1 } as const;

/** struct soc_facts_config.enabled bits */
export const FactsEnabled = {
  SYSCALLS: 1 << 0,
  IO_URING: 1 << 1,
  ENDPOINTS: 1 << 2,
  FILES: 1 << 3,
  COUNTERS: 1 << 4,
  INBOUND: 1 << 5,
} as const;

/** struct soc_path_probe.flags */
export const ProbeFlag = { EXACT: 1 << 0, SHORTER: 1 << 1, COMPLETE: 1 << 2 } as const;
/** Bytes of a path probe (the LPM trie's data limit). */
export const PATH_PROBE_MAX = 256;

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

/** Kernel-side error counters (enum soc_error in common.bpf.h). */
export const KernelError = { STATE_ALLOC: 0, PATH_UNREADABLE: 1, SQE_UNREAD: 2, COUNTERS_ALLOC: 3, MAX: 8 } as const;

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

export const SYSCALL_FACT = {
  name: 'soc_syscall_fact',
  size: 56,
  fields: { hdr: 0, key: 24, nr: 48, abi: 52 },
} as const satisfies StructLayout;

export const IOURING_OP_FACT = {
  name: 'soc_iouring_op_fact',
  size: 64,
  fields: { hdr: 0, key: 24, opcode: 48, sqe_flags: 49, pad: 50, fd: 52, ring_flags: 56, pad2: 60 },
} as const satisfies StructLayout;

export const IOURING_SETUP_FACT = {
  name: 'soc_iouring_setup_fact',
  size: 64,
  fields: { hdr: 0, key: 24, flags: 48, sq_entries: 52, cq_entries: 56, fd: 60 },
} as const satisfies StructLayout;

export const ENDPOINT_FACT = {
  name: 'soc_endpoint_fact',
  size: 80,
  fields: { hdr: 0, key: 24, family: 48, port: 50, protocol: 52, via: 53, direction: 54, pad: 55, pad2: 56, addr: 64 },
} as const satisfies StructLayout;

export const FILE_FACT = {
  name: 'soc_file_fact',
  size: 64,
  fields: { hdr: 0, key: 24, open_flags: 48, path_len: 52, via: 54, pad: 55, dirfd: 56, pad2: 60 },
} as const satisfies StructLayout;

export const ACTIVITY_COUNTERS = {
  name: 'soc_activity_counters',
  size: 64,
  fields: {
    syscalls: 0,
    iouring_submissions: 8,
    iouring_setups: 16,
    connects: 24,
    sends_addressed: 32,
    accepts: 40,
    opens: 48,
    sensitive_opens: 56,
  },
} as const satisfies StructLayout;

export const COUNTERS_EVENT = {
  name: 'soc_counters_event',
  size: 112,
  fields: { hdr: 0, key: 24, counters: 48 },
} as const satisfies StructLayout;

/** exec_counters map value */
export const EXEC_COUNTERS = {
  name: 'soc_exec_counters',
  size: 72,
  fields: { counters: 0, flags: 64, pad: 68 },
} as const satisfies StructLayout;

/** facts_config map value */
export const FACTS_CONFIG = {
  name: 'soc_facts_config',
  size: 16,
  fields: { enabled: 0, counter_batch: 4, counter_flush_ns: 8 },
} as const satisfies StructLayout;

/** path_prefixes / path_suffixes / path_segments key */
export const PATH_PROBE_KEY = {
  name: 'soc_path_probe_key',
  size: 260,
  fields: { prefixlen: 0, data: 4 },
} as const satisfies StructLayout;

/** path_* trie value */
export const PATH_PROBE = {
  name: 'soc_path_probe',
  size: 8,
  fields: { flags: 0, id: 4, len: 6 },
} as const satisfies StructLayout;

/** path_filter value: the prefilter's bounds, first-byte and bigram bits of segment probes */
export const PATH_FILTER = {
  name: 'soc_path_filter',
  size: 48 + 8 * 1024,
  fields: { first_bytes: 0, prefix_max: 32, suffix_max: 36, segments: 40, pad: 44, bigrams: 48 },
} as const satisfies StructLayout;

/** Zoom-in (sensor/bpf/zoom.bpf.c): slots, probe bits, flags. */
export const ZOOM_SLOTS = 16;
export const ZOOM_PREFIX_MAX = 256;
/** struct soc_zoom_target.probes / soc_zoom_ref.probes: bit (ProbeSet - 1) */
export const ZoomProbe = { IO_URING: 1 << 0, NETWORK: 1 << 1, FILES: 1 << 2, CODE: 1 << 3, CHILDREN: 1 << 4 } as const;
export const ZoomTargetFlag = { FOLLOW_CHILDREN: 1 << 0 } as const;
export const ZoomUringFlag = {
  COMPLETED: 1 << 0,
  IO_WORKER: 1 << 1,
  PATH_TRUNCATED: 1 << 2,
  PATH_FROM_SQE: 1 << 3,
  FIXED_FILE: 1 << 4,
  DATA_AT_COMPLETION: 1 << 5,
  SOCKET: 1 << 6,
} as const;
export const ZoomFileFlag = { PATH_TRUNCATED: 1 << 0, PATH_AS_GIVEN: 1 << 1 } as const;
export const ZoomMapFlag = { PATH_TRUNCATED: 1 << 0 } as const;
/** enum soc_sock_op */
export const SockOp = { CONNECT: 1, ACCEPT: 2, SEND: 3, RECV: 4, STATE: 5 } as const;
/** enum soc_file_op */
export const FileOpCode = { OPEN: 1, READ: 2, WRITE: 3, CLOSE: 4 } as const;
/** enum soc_zoom_family */
export const ZoomFamily = { IOURING: 0, SOCKET: 1, FILE: 2, CODE: 3, MAX: 4 } as const;

export const ZOOM_TARGET = {
  name: 'soc_zoom_target',
  size: 16,
  fields: { zoom_no: 0, slot: 4, probes: 6, prefix_len: 8, flags: 10, pad: 12 },
} as const satisfies StructLayout;

export const ZOOM_LIMITS = {
  name: 'soc_zoom_limits',
  size: 24,
  fields: { zoom_no: 0, active: 4, budget: 8, rate: 16, pad: 20 },
} as const satisfies StructLayout;

export const ZOOM_COUNTERS = {
  name: 'soc_zoom_counters',
  size: 80,
  fields: { used: 0, window_start: 8, window_count: 16, dropped_rate: 24, dropped_budget: 32, dropped_ring: 40, emitted: 48 },
} as const satisfies StructLayout;

export const ZOOM_CONFIG = {
  name: 'soc_zoom_config',
  size: 8,
  fields: { cgroup_levels: 0, pad: 4 },
} as const satisfies StructLayout;

export const ZOOM_REF = {
  name: 'soc_zoom_ref',
  size: 8,
  fields: { zoom_no: 0, probes: 4, slot: 6 },
} as const satisfies StructLayout;

export const ZOOM_IOURING_EVENT = {
  name: 'soc_zoom_iouring_event',
  size: 160,
  fields: {
    hdr: 0,
    key: 24,
    zoom: 48,
    user_data: 56,
    submit_ns: 64,
    complete_ns: 72,
    res: 80,
    sock_cookie: 88,
    len: 96,
    fd: 100,
    open_flags: 104,
    ring_flags: 108,
    submit_tid: 112,
    path_len: 116,
    data_len: 118,
    opcode: 120,
    sqe_flags: 121,
    family: 122,
    port: 124,
    local_port: 126,
    addr: 128,
    local_addr: 144,
  },
} as const satisfies StructLayout;

export const ZOOM_SOCKET_EVENT = {
  name: 'soc_zoom_socket_event',
  size: 376,
  fields: {
    hdr: 0,
    key: 24,
    zoom: 48,
    cookie: 56,
    bytes: 64,
    op: 72,
    via: 73,
    protocol: 74,
    old_state: 75,
    new_state: 76,
    pad: 77,
    family: 78,
    port: 80,
    local_port: 82,
    data_len: 84,
    pad2: 86,
    addr: 88,
    local_addr: 104,
    data: 120,
  },
} as const satisfies StructLayout;

export const ZOOM_FILE_EVENT = {
  name: 'soc_zoom_file_event',
  size: 88,
  fields: { hdr: 0, key: 24, zoom: 48, res: 56, bytes: 64, flags: 72, fd: 76, op: 80, via: 81, path_len: 82, pad: 84 },
} as const satisfies StructLayout;

export const ZOOM_EXEC_MAP_EVENT = {
  name: 'soc_zoom_exec_map_event',
  size: 104,
  fields: { hdr: 0, key: 24, zoom: 48, addr: 56, len: 64, pgoff: 72, ino: 80, prot: 88, mflags: 92, fd: 96, path_len: 100, pad: 102 },
} as const satisfies StructLayout;

/** Every struct of the wire format, for the layout check. */
export const WIRE_STRUCTS: readonly StructLayout[] = [
  HEADER,
  EXEC_KEY,
  EXEC_EVENT,
  FORK_EVENT,
  EXIT_EVENT,
  BENCH_EVENT,
  SYSCALL_FACT,
  IOURING_OP_FACT,
  IOURING_SETUP_FACT,
  ENDPOINT_FACT,
  FILE_FACT,
  ACTIVITY_COUNTERS,
  COUNTERS_EVENT,
  EXEC_COUNTERS,
  FACTS_CONFIG,
  PATH_PROBE_KEY,
  PATH_PROBE,
  PATH_FILTER,
  ZOOM_TARGET,
  ZOOM_LIMITS,
  ZOOM_COUNTERS,
  ZOOM_CONFIG,
  ZOOM_REF,
  ZOOM_IOURING_EVENT,
  ZOOM_SOCKET_EVENT,
  ZOOM_FILE_EVENT,
  ZOOM_EXEC_MAP_EVENT,
];

/** Enums of the wire format (C enum name -> prefix stripped -> values), for the layout check. */
export const WIRE_ENUMS: ReadonlyArray<{ name: string; prefix: string; values: Readonly<Record<string, number>> }> = [
  { name: 'soc_via', prefix: 'SOC_VIA_', values: Via },
  { name: 'soc_direction', prefix: 'SOC_DIR_', values: Dir },
  { name: 'soc_abi', prefix: 'SOC_ABI_', values: Abi },
  { name: 'soc_sock_op', prefix: 'SOC_SOCK_', values: SockOp },
  { name: 'soc_file_op', prefix: 'SOC_FILE_', values: FileOpCode },
  { name: 'soc_zoom_family', prefix: 'SOC_ZOOM_FAM_', values: ZoomFamily },
];
