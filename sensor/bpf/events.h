/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The one wire format between the BPF programs and user space (the addon and the TypeScript
 * decoder in sensor/src/kernel/layout.ts). Modelled on Tetragon's bpf/lib/common.h: every record
 * starts with the same small header, ops are one enum, padding is explicit, and the layout is
 * pinned by static asserts here and checked against the compiled object's BTF by
 * sensor/src/kernel/layout.livetest.ts (Tetragon's alignchecker idea).
 *
 * Rules for changing this file:
 *  - never reorder or resize a field: append, and bump nothing (the decoder reads by offset);
 *  - every struct is 8-byte aligned in size so records can be laid out back to back;
 *  - all integers little-endian host order (the sensor runs on the host it observes);
 *  - strings in the variable part carry no terminating NUL; their lengths are in the record.
 *
 * Dual-licensed so the GPL BPF object and the Apache-2.0 addon can both include it.
 */
#ifndef SOC_EVENTS_H
#define SOC_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define SOC_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SOC_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* bpf_helpers.h defines offsetof() in a form that is not a constant expression. */
#define SOC_OFFSETOF(type, member) __builtin_offsetof(type, member)

/*
 * Op codes. Ranges are reserved per family so later programs do not renumber existing ops:
 * the per-CPU drop counters are indexed by op, so an op must stay below SOC_OP_MAX.
 */
enum soc_op {
	SOC_OP_UNSPEC = 0,
	/* process lifecycle: 1..15 */
	SOC_OP_EXEC = 1, /* struct soc_exec_event (also seeded processes, SOC_EXEC_F_SEEDED) */
	SOC_OP_FORK = 2, /* struct soc_fork_event */
	SOC_OP_EXIT = 3, /* struct soc_exit_event */
	/* first-seen facts (syscall, io_uring opcode, endpoint, sensitive file): 16..31 */
	SOC_OP_FACT_FIRST = 16,
	SOC_OP_FACT_SYSCALL = 16, /* struct soc_syscall_fact */
	SOC_OP_FACT_IOURING_OP = 17, /* struct soc_iouring_op_fact */
	SOC_OP_FACT_IOURING_SETUP = 18, /* struct soc_iouring_setup_fact: a ring was created */
	SOC_OP_FACT_ENDPOINT = 19, /* struct soc_endpoint_fact */
	SOC_OP_FACT_FILE = 20, /* struct soc_file_fact + path: a sensitive-path candidate */
	SOC_OP_FACT_COUNTERS = 21, /* struct soc_counters_event: an image's last counters */
	/* io_uring operations (zoom-in evidence): 32..63 */
	SOC_OP_IOURING_FIRST = 32,
	SOC_OP_ZOOM_IOURING = 32, /* struct soc_zoom_iouring_event + path + payload prefix */
	/* socket evidence (connect/send/recv, payload prefix): 64..95 */
	SOC_OP_SOCKET_FIRST = 64,
	SOC_OP_ZOOM_SOCKET = 64, /* struct soc_zoom_socket_event */
	/* file evidence (open/read via syscall or io_uring): 96..111 */
	SOC_OP_FILE_FIRST = 96,
	SOC_OP_ZOOM_FILE = 96, /* struct soc_zoom_file_event + path */
	/* code evidence (executable mappings): 112..119 */
	SOC_OP_CODE_FIRST = 112,
	SOC_OP_ZOOM_EXEC_MAP = 112, /* struct soc_zoom_exec_map_event + path */
	/* sensor-internal records: 120..127 */
	SOC_OP_BENCH = 127, /* struct soc_bench_event: only from the opt-in benchmark program */
	SOC_OP_MAX = 128,
};

/* Header flags: bits 0..11 belong to the op, bits 12..15 are common to all ops. */
/*
 * The event belongs to the sensor's own activity: its tgid is listed in the own_tgids map (the
 * sensor, and processes user space marked, e.g. the cockpit), or the process descends from one
 * (the mark is inherited at fork and kept across exec).
 */
#define SOC_F_OWN_TGID (1u << 15)

/* Exec record flags (struct soc_event_header.flags, op SOC_OP_EXEC). */
#define SOC_EXEC_F_SEEDED (1u << 0) /* from the task iterator: the process ran before attach */
#define SOC_EXEC_F_ARGS_TRUNCATED (1u << 1) /* argv longer than SOC_STR_MAX bytes */
#define SOC_EXEC_F_ARGS_UNREADABLE (1u << 2) /* argv not readable (or seeded: not read) */
#define SOC_EXEC_F_BINARY_TRUNCATED (1u << 3) /* path walk hit its bounds: leading part missing */
#define SOC_EXEC_F_BINARY_FROM_FILENAME (1u << 4) /* path walk failed: bprm->filename as given */
#define SOC_EXEC_F_CWD_TRUNCATED (1u << 5) /* path walk hit its bounds: leading part missing */
#define SOC_EXEC_F_PARENT_KEY_FALLBACK (1u << 6) /* parent key computed from task fields */
#define SOC_EXEC_F_KEY_FALLBACK (1u << 7) /* own key computed from task fields (seeded) */
#define SOC_EXEC_F_CGROUP_NAME_TRUNCATED (1u << 8)
#define SOC_EXEC_F_STATE_LOST (1u << 9) /* task storage unavailable: later events fall back */

/* Fork record flags. */
#define SOC_FORK_F_KEY_FALLBACK (1u << 0) /* the parent had no stored state */

/* Exit record flags. */
#define SOC_EXIT_F_KEY_FALLBACK (1u << 0)

/* Syscall fact flags. */
#define SOC_SYSCALL_F_IA32 (1u << 0) /* a 32-bit (compat) syscall: nr is in the i386 table */

/* io_uring op fact flags. */
#define SOC_IOURING_F_SQE_UNREAD (1u << 0) /* the SQE could not be located or read */

/* File fact flags. */
#define SOC_FILE_F_RELATIVE (1u << 0) /* given relative: the directory's path was prepended */
#define SOC_FILE_F_DIR_UNRESOLVED (1u << 1) /* relative, directory not resolvable: as given */
#define SOC_FILE_F_PATH_TRUNCATED (1u << 2) /* longer than SOC_STR_MAX: the tail is missing */
#define SOC_FILE_F_COMPLETE (1u << 3) /* matched a probe that decides a class on its own */
#define SOC_FILE_F_OPENAT2 (1u << 4) /* openat2 / IORING_OP_OPENAT2: flags from struct open_how */
#define SOC_FILE_F_DEFERRED (1u << 5) /* path not in memory at entry: read at the next syscall */
#define SOC_FILE_F_KERNEL_COPY (1u << 6) /* io_uring: path from the kernel's copy (user's unreadable) */

/* How an operation reached the kernel (endpoint and file facts). */
enum soc_via {
	SOC_VIA_UNSPEC = 0,
	SOC_VIA_SYSCALL = 1,
	SOC_VIA_IO_URING = 2, /* issued through an io_uring submission */
};

enum soc_direction {
	SOC_DIR_UNSPEC = 0,
	SOC_DIR_OUTBOUND = 1, /* this process connected or sent to the endpoint */
	SOC_DIR_INBOUND = 2, /* the endpoint connected to this process (accepted by this process) */
};

/* ABI of a syscall fact (sys_enter reports numbers of the caller's table). */
enum soc_abi {
	SOC_ABI_X86_64 = 0,
	SOC_ABI_I386 = 1,
};

#define SOC_COMM_LEN 16
/* Each variable-length string (binary, cwd, argv) is at most this many bytes. */
#define SOC_STR_MAX 4095
/* Kernfs node names (the cgroup leaf) are at most NAME_MAX bytes. */
#define SOC_CGROUP_NAME_MAX 255
/* Largest record the programs emit: an exec record with every string at its maximum. */
#define SOC_EXEC_DATA_MAX (3 * SOC_STR_MAX + SOC_CGROUP_NAME_MAX)

/* 24 bytes, at offset 0 of every record. */
struct soc_event_header {
	__u16 op; /* enum soc_op */
	__u16 size; /* whole record in bytes, header included */
	__u16 flags; /* op-specific bits 0..11, common bits 12..15 */
	__u16 reserved; /* zero */
	__u64 ktime_ns; /* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns), comparable to start_boottime */
	__u32 tgid; /* process id as seen from the initial pid namespace */
	__u32 tid; /* thread that triggered the event */
};

/*
 * Identifies one process image on one boot: (leader start_boottime, tgid, self_exec_id).
 * All three are readable at exec time and later from any task of the process, so a process
 * that ran before the sensor started gets the same key at seeding as at its exit, and the key
 * survives sensor restarts. self_exec_id counts execs (begin_new_exec) and is copied at fork;
 * de_thread copies the leader's start_boottime to a thread that execs.
 */
struct soc_exec_key {
	__u64 start_boottime_ns;
	__u64 self_exec_id;
	__u32 tgid;
	__u32 pad; /* zero */
};

/*
 * A new process image (sched_process_exec) or, with SOC_EXEC_F_SEEDED, a process found by the
 * task iterator at start. Followed by the variable part, in this order and without separators:
 * binary (binary_len), cwd (cwd_len), argv (args_len: NUL-separated, as in mm->arg_start..end),
 * cgroup leaf name (cgroup_name_len). header.size == sizeof(struct soc_exec_event) + the sum.
 */
struct soc_exec_event {
	struct soc_event_header hdr;
	struct soc_exec_key key; /* this image */
	struct soc_exec_key parent_key; /* the image that was running before (exec) or the parent's */
	__u64 cgroup_id; /* default-hierarchy (v2) cgroup: the inode number of its directory */
	__u32 ppid; /* real_parent's tgid */
	__u32 uid; /* real uid */
	__u32 gid; /* real gid */
	__u32 euid;
	__u32 egid;
	__u32 auid; /* loginuid, 4294967295 when unset */
	__u16 binary_len;
	__u16 cwd_len;
	__u16 args_len;
	__u16 cgroup_name_len;
	char comm[SOC_COMM_LEN];
};

/* A new process (not a thread): the child runs the parent's image, so it carries its key. */
struct soc_fork_event {
	struct soc_event_header hdr; /* tgid: the parent process; tid: the thread that forked */
	struct soc_exec_key key; /* inherited by the child until it execs */
	__u64 child_start_boottime_ns;
	__u32 child_tgid;
	__u32 pad;
};

/* The whole thread group is dead (the last thread's sched_process_exit). */
struct soc_exit_event {
	struct soc_event_header hdr; /* tid: the last thread to exit */
	struct soc_exec_key key;
	__u32 status; /* wait(2) status: exit code in bits 8..15, signal in 0..6, core dump bit 7 */
	__u32 pad;
};

/*
 * First-seen facts. One record per (image, fact) the first time the image shows it; the kernel
 * dedups (a per-image syscall bitmap, an LRU of other facts) and user space dedups again, so an
 * LRU eviction can only repeat a fact, never hide one. `key` is the image (as in exec events).
 */

/* The first call of syscall `nr` by the image (flags: SOC_SYSCALL_F_IA32). */
struct soc_syscall_fact {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	__u32 nr; /* number in the caller's syscall table (see abi) */
	__u32 abi; /* enum soc_abi */
};

/* The first io_uring submission of `opcode` by the image. */
struct soc_iouring_op_fact {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	__u8 opcode; /* enum io_uring_op (IORING_OP_*) */
	__u8 sqe_flags; /* IOSQE_* of that first submission */
	__u16 pad;
	__s32 fd; /* sqe->fd of that first submission */
	__u32 ring_flags; /* IORING_SETUP_* of the ring it was submitted to */
	__u32 pad2;
};

/* A ring created by the image (first per distinct setup flags). */
struct soc_iouring_setup_fact {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	__u32 flags; /* IORING_SETUP_* (IORING_SETUP_SQPOLL: a kernel thread submits) */
	__u32 sq_entries;
	__u32 cq_entries;
	__s32 fd; /* the ring's file descriptor */
};

/* The first contact of the image with a remote endpoint (per via and direction). */
struct soc_endpoint_fact {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	__u16 family; /* AF_INET, AF_INET6 */
	__u16 port; /* host byte order: remote port (outbound), local port (inbound) */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 via; /* enum soc_via */
	__u8 direction; /* enum soc_direction */
	__u8 pad;
	__u32 pad2[2];
	__u8 addr[16]; /* remote address: 4 bytes (IPv4) or 16 (IPv6), network byte order */
};

/*
 * An open whose path passed the in-kernel prefilter of sensitive path classes (prefix, suffix
 * and segment tables loaded by user space), first per (image, path, access mode, via). User
 * space matches the path exactly against the classes and drops candidates that do not match.
 * Followed by the path (path_len bytes, no NUL): absolute when given absolute or resolved.
 */
struct soc_file_fact {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	__u32 open_flags; /* O_* as passed (openat2: the low 32 bits of open_how.flags) */
	__u16 path_len;
	__u8 via; /* enum soc_via */
	__u8 pad;
	__s32 dirfd; /* as passed (AT_FDCWD = -100) */
	__u32 pad2;
};

/*
 * Activity counted per image since its counters were created. User space reads them
 * periodically from the exec_counters map and reports the increase; the kernel writes the
 * final values as a SOC_OP_FACT_COUNTERS record when the image ends (its process execs or exits).
 * Threads add their counts in batches, so a thread's last counts may show up late (at its next
 * batch, after at most a second of activity, or when it exits).
 */
struct soc_activity_counters {
	__u64 syscalls; /* syscalls entered (counted while the sys_enter program is attached) */
	__u64 iouring_submissions; /* io_uring requests submitted (io_uring_submit_req) */
	__u64 iouring_setups; /* rings created */
	__u64 connects; /* connect() through syscalls or io_uring, TCP and UDP */
	__u64 sends_addressed; /* sendto/sendmsg with a destination address (UDP) */
	__u64 accepts; /* inbound TCP connections accepted by this image */
	__u64 opens; /* open/openat/openat2/creat syscalls and io_uring OPENAT/OPENAT2 */
	__u64 sensitive_opens; /* opens that matched the sensitive-path prefilter */
};

struct soc_counters_event {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	struct soc_activity_counters counters;
};

/* exec_counters map value: counters plus what user space needs to report them. */
struct soc_exec_counters {
	struct soc_activity_counters counters;
	__u32 flags; /* SOC_F_OWN_TGID when an own process added to them */
	__u32 pad;
};

/* Configuration written by user space at any time (facts_config map, one entry). */
#define SOC_FACTS_SYSCALLS (1u << 0) /* syscall first-seen bitmap */
#define SOC_FACTS_IO_URING (1u << 1) /* io_uring opcodes and ring creation */
#define SOC_FACTS_ENDPOINTS (1u << 2)
#define SOC_FACTS_FILES (1u << 3)
#define SOC_FACTS_COUNTERS (1u << 4)
#define SOC_FACTS_INBOUND (1u << 5) /* inbound endpoints (and their accepts count) */

struct soc_facts_config {
	__u32 enabled; /* SOC_FACTS_* */
	__u32 counter_batch; /* a thread adds its counts to its image's after this many events */
	__u64 counter_flush_ns; /* ... or when its last addition is older than this */
};

/* Sensitive-path prefilter: LPM tries over path bytes (prefix, reversed suffix, segment). */
#define SOC_PATH_PROBE_MAX 256 /* bytes of a probe (the LPM trie's data limit) */
struct soc_path_probe_key {
	__u32 prefixlen; /* in bits */
	__u8 data[SOC_PATH_PROBE_MAX];
};

#define SOC_PROBE_F_EXACT (1u << 0) /* prefix trie: only the whole path matches */
#define SOC_PROBE_F_SHORTER (1u << 1) /* prefix trie: a shorter prefix probe also exists */
#define SOC_PROBE_F_COMPLETE (1u << 2) /* the probe alone decides its class (no other part) */

/*
 * The path_filter map's one value: what the prefilter needs besides the tries, so that an
 * ordinary open touches as little as possible (the tables' bounds and a first-byte test before
 * the 8 KiB bigram table).
 */
#define SOC_PATH_BIGRAM_WORDS 1024
struct soc_path_filter {
	__u64 first_bytes[4]; /* bit b: some segment probe starts with byte b */
	__u32 prefix_max; /* longest prefix probe, bytes (0: no prefix probe) */
	__u32 suffix_max; /* longest suffix probe, bytes (0: no suffix probe) */
	__u32 segments; /* segment probes (0: no segment scan) */
	__u32 pad;
	__u64 bigrams[SOC_PATH_BIGRAM_WORDS]; /* bit (b0 << 8 | b1): a segment probe starts b0 b1 */
};

struct soc_path_probe {
	__u32 flags; /* SOC_PROBE_F_* */
	__u16 id; /* user space's probe number */
	__u16 len; /* the probe's length in bytes (an LPM lookup does not say which entry matched) */
};

/*
 * Zoom-in (sensor/bpf/zoom.bpf.c). A zoom is a numbered order from user space with a slot in the
 * per-zoom tables (limits written by user space, counters written by the kernel); targets are
 * tgids (zoom_targets) or cgroups (zoom_cgroups) mapped to the zoom. Every evidence record names
 * its zoom (struct soc_zoom_ref) and is admitted by the zoom's rate limit and event budget in the
 * kernel before it is written.
 */
#define SOC_ZOOM_SLOTS 16 /* concurrent zooms (a power of two: slot indexes are masked) */
#define SOC_ZOOM_PREFIX_MAX 256 /* payload prefix bytes at most */
#define SOC_ZOOM_NAME_MAX 256 /* bytes of a path kept from an io_uring submission */

/* Probe sets (a zoom's mask): bit (ProbeSet - 1) of the proto enum. */
#define SOC_ZOOM_P_IO_URING (1u << 0)
#define SOC_ZOOM_P_NETWORK (1u << 1)
#define SOC_ZOOM_P_FILES (1u << 2)
#define SOC_ZOOM_P_CODE (1u << 3)
#define SOC_ZOOM_P_CHILDREN (1u << 4)

/* struct soc_zoom_target.flags */
#define SOC_ZOOM_T_FOLLOW_CHILDREN (1u << 0) /* forked processes join the zoom (in the kernel) */

/* zoom_targets (tgid) / zoom_cgroups (cgroup id) map value. */
struct soc_zoom_target {
	__u32 zoom_no; /* the zoom's number: user space maps it to Zoom.id */
	__u16 slot; /* index into zoom_limits / zoom_counters */
	__u16 probes; /* SOC_ZOOM_P_* */
	__u16 prefix_len; /* payload prefix bytes to capture (<= SOC_ZOOM_PREFIX_MAX) */
	__u16 flags; /* SOC_ZOOM_T_* */
	__u32 pad;
};

/* zoom_limits[slot], written by user space only. */
struct soc_zoom_limits {
	__u32 zoom_no; /* a target whose zoom_no differs is stale: ignored */
	__u32 active; /* 0: the zoom emits nothing (cancel, expiry: effective at once) */
	__u64 budget; /* records admitted at most (user space may lower it) */
	__u32 rate; /* records per second at most (0: no limit) */
	__u32 pad;
};

/* Evidence families, for the per-zoom counters. */
enum soc_zoom_family {
	SOC_ZOOM_FAM_IOURING = 0,
	SOC_ZOOM_FAM_SOCKET = 1,
	SOC_ZOOM_FAM_FILE = 2,
	SOC_ZOOM_FAM_CODE = 3,
	SOC_ZOOM_FAM_MAX = 4,
};

/* zoom_counters[slot], written by the kernel (atomics); zeroed by user space before a zoom starts. */
struct soc_zoom_counters {
	__u64 used; /* records that passed the rate limit and took budget (some may be ring drops) */
	__u64 window_start; /* rate limit: start of the current one-second window (boot ns) */
	__u64 window_count; /* rate limit: records seen in it */
	__u64 dropped_rate;
	__u64 dropped_budget;
	__u64 dropped_ring;
	__u64 emitted[SOC_ZOOM_FAM_MAX]; /* records written, per family */
};

struct soc_zoom_config {
	__u32 cgroup_levels; /* bit L: some cgroup target sits at level L (ancestor lookups to do) */
	__u32 pad;
};

/* The zoom a record belongs to (in every evidence record, after the exec key). */
struct soc_zoom_ref {
	__u32 zoom_no;
	__u16 probes; /* the zoom's SOC_ZOOM_P_* (the decoder derives file evidence from io_uring ops) */
	__u16 slot;
};

/* io_uring record flags (header.flags). */
#define SOC_ZOOM_URING_F_COMPLETED (1u << 0) /* joined with its completion */
#define SOC_ZOOM_URING_F_IO_WORKER (1u << 1) /* completed in an io-wq or SQPOLL thread */
#define SOC_ZOOM_URING_F_PATH_TRUNCATED (1u << 2)
/* The path as known at submission: the SQE's string (OPENAT: not resolved), CLOSE's descriptor. */
#define SOC_ZOOM_URING_F_PATH_FROM_SQE (1u << 3)
#define SOC_ZOOM_URING_F_FIXED_FILE (1u << 4) /* fd is a registered-file index */
#define SOC_ZOOM_URING_F_DATA_AT_COMPLETION (1u << 5) /* prefix read after the data arrived */
#define SOC_ZOOM_URING_F_SOCKET (1u << 6) /* the request's file is a socket: addresses are set */

/*
 * One io_uring request, submission joined with completion (tp_btf io_uring_submit_req and
 * io_uring_complete, by request pointer). Followed by path (path_len) and payload prefix
 * (data_len).
 */
struct soc_zoom_iouring_event {
	struct soc_event_header hdr; /* tid: the completing thread */
	struct soc_exec_key key;
	struct soc_zoom_ref zoom;
	__u64 user_data;
	__u64 submit_ns; /* boot clock */
	__u64 complete_ns; /* boot clock; 0 when not completed */
	__s64 res; /* cqe->res */
	__u64 sock_cookie;
	__u32 len; /* sqe->len */
	__s32 fd; /* sqe->fd */
	__u32 open_flags; /* OPENAT: sqe->open_flags */
	__u32 ring_flags; /* IORING_SETUP_* */
	__u32 submit_tid;
	__u16 path_len;
	__u16 data_len;
	__u8 opcode;
	__u8 sqe_flags;
	__u16 family; /* AF_INET / AF_INET6 of addr and local_addr (0: none) */
	__u16 port; /* remote, host order */
	__u16 local_port;
	__u8 addr[16]; /* remote, network order */
	__u8 local_addr[16];
};

enum soc_sock_op {
	SOC_SOCK_CONNECT = 1,
	SOC_SOCK_ACCEPT = 2,
	SOC_SOCK_SEND = 3,
	SOC_SOCK_RECV = 4,
	SOC_SOCK_STATE = 5,
};

/* A socket operation of a target (fixed size: the payload prefix area is always there). */
struct soc_zoom_socket_event {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	struct soc_zoom_ref zoom;
	__u64 cookie; /* bpf_get_socket_cookie */
	__u64 bytes; /* send / recv */
	__u8 op; /* enum soc_sock_op */
	__u8 via; /* enum soc_via */
	__u8 protocol; /* IPPROTO_* */
	__u8 old_state; /* TCP_* (state changes) */
	__u8 new_state;
	__u8 pad;
	__u16 family;
	__u16 port; /* remote, host order */
	__u16 local_port;
	__u16 data_len;
	__u16 pad2;
	__u8 addr[16]; /* remote, network order */
	__u8 local_addr[16];
	__u8 data[SOC_ZOOM_PREFIX_MAX]; /* payload prefix (data_len bytes) */
};

enum soc_file_op {
	SOC_FILE_OPEN = 1,
	SOC_FILE_READ = 2,
	SOC_FILE_WRITE = 3,
	SOC_FILE_CLOSE = 4,
};

#define SOC_ZOOM_FILE_F_PATH_TRUNCATED (1u << 0)
#define SOC_ZOOM_FILE_F_PATH_AS_GIVEN (1u << 1) /* open failed: the path as passed */

/* A file syscall of a target (open/read/write/close and the p* variants). Followed by the path. */
struct soc_zoom_file_event {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	struct soc_zoom_ref zoom;
	__s64 res; /* the syscall's return value */
	__u64 bytes; /* read / write: bytes moved */
	__u32 flags; /* open: O_* */
	__s32 fd;
	__u8 op; /* enum soc_file_op */
	__u8 via; /* enum soc_via */
	__u16 path_len;
	__u32 pad;
};

#define SOC_ZOOM_MAP_F_PATH_TRUNCATED (1u << 0)

/* An executable mapping a target made (mmap with PROT_EXEC). Followed by the file's path. */
struct soc_zoom_exec_map_event {
	struct soc_event_header hdr;
	struct soc_exec_key key;
	struct soc_zoom_ref zoom;
	__u64 addr; /* the mapping's start (mmap's result) */
	__u64 len;
	__u64 pgoff; /* file offset in bytes */
	__u64 ino; /* the file's inode (0: anonymous) */
	__u32 prot;
	__u32 mflags; /* MAP_* */
	__s32 fd;
	__u16 path_len;
	__u16 pad;
};

/* Benchmark-only record (program bench_sys_enter, never loaded by default). */
struct soc_bench_event {
	struct soc_event_header hdr;
	__u64 syscall_nr;
	__u64 seq;
	__u64 pad[3];
};

SOC_STATIC_ASSERT(sizeof(struct soc_event_header) == 24, "header size");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_event_header, ktime_ns) == 8, "header ktime");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_event_header, tgid) == 16, "header tgid");
SOC_STATIC_ASSERT(sizeof(struct soc_exec_key) == 24, "exec key size");
SOC_STATIC_ASSERT(sizeof(struct soc_exec_event) == 128, "exec event size");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_exec_event, key) == 24, "exec key offset");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_exec_event, parent_key) == 48, "exec parent key offset");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_exec_event, cgroup_id) == 72, "exec cgroup offset");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_exec_event, binary_len) == 104, "exec lengths offset");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_exec_event, comm) == 112, "exec comm offset");
SOC_STATIC_ASSERT(sizeof(struct soc_fork_event) == 64, "fork event size");
SOC_STATIC_ASSERT(sizeof(struct soc_exit_event) == 56, "exit event size");
SOC_STATIC_ASSERT(sizeof(struct soc_bench_event) == 64, "bench event size");
SOC_STATIC_ASSERT(sizeof(struct soc_syscall_fact) == 56, "syscall fact size");
SOC_STATIC_ASSERT(sizeof(struct soc_iouring_op_fact) == 64, "io_uring op fact size");
SOC_STATIC_ASSERT(sizeof(struct soc_iouring_setup_fact) == 64, "io_uring setup fact size");
SOC_STATIC_ASSERT(sizeof(struct soc_endpoint_fact) == 80, "endpoint fact size");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_endpoint_fact, addr) == 64, "endpoint addr offset");
SOC_STATIC_ASSERT(sizeof(struct soc_file_fact) == 64, "file fact size");
SOC_STATIC_ASSERT(sizeof(struct soc_activity_counters) == 64, "counters size");
SOC_STATIC_ASSERT(sizeof(struct soc_counters_event) == 112, "counters event size");
SOC_STATIC_ASSERT(sizeof(struct soc_exec_counters) == 72, "exec counters size");
SOC_STATIC_ASSERT(sizeof(struct soc_facts_config) == 16, "facts config size");
SOC_STATIC_ASSERT(sizeof(struct soc_path_probe_key) == 260, "path probe key size");
SOC_STATIC_ASSERT(sizeof(struct soc_path_probe) == 8, "path probe size");
SOC_STATIC_ASSERT(sizeof(struct soc_path_filter) == 48 + 8 * SOC_PATH_BIGRAM_WORDS,
		  "path filter size");
SOC_STATIC_ASSERT(sizeof(struct soc_file_fact) + SOC_STR_MAX <= 0xffff, "file fact size fits");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_target) == 16, "zoom target size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_limits) == 24, "zoom limits size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_counters) == 80, "zoom counters size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_config) == 8, "zoom config size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_ref) == 8, "zoom ref size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_iouring_event) == 160, "zoom io_uring event size");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_zoom_iouring_event, addr) == 128, "zoom io_uring addr offset");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_socket_event) == 376, "zoom socket event size");
SOC_STATIC_ASSERT(SOC_OFFSETOF(struct soc_zoom_socket_event, data) == 120, "zoom socket data offset");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_file_event) == 88, "zoom file event size");
SOC_STATIC_ASSERT(sizeof(struct soc_zoom_exec_map_event) == 104, "zoom exec map event size");
SOC_STATIC_ASSERT((SOC_ZOOM_SLOTS & (SOC_ZOOM_SLOTS - 1)) == 0, "zoom slots: a power of two");
SOC_STATIC_ASSERT(sizeof(struct soc_exec_event) + SOC_EXEC_DATA_MAX <= 0xffff,
		  "record size must fit the u16 header.size");

#endif /* SOC_EVENTS_H */
