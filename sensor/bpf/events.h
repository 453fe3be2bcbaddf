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
	/* socket evidence (connect/send/recv, payload prefix): 64..95 */
	SOC_OP_SOCKET_FIRST = 64,
	/* file evidence (open/read via syscall or io_uring): 96..111 */
	SOC_OP_FILE_FIRST = 96,
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
	SOC_DIR_INBOUND = 2, /* the endpoint connected to this process (first read of an accept) */
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
	__u64 accepts; /* inbound TCP connections first read by this image */
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

struct soc_path_probe {
	__u32 flags; /* SOC_PROBE_F_* */
	__u16 id; /* user space's probe number */
	__u16 len; /* the probe's length in bytes (an LPM lookup does not say which entry matched) */
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
SOC_STATIC_ASSERT(sizeof(struct soc_file_fact) + SOC_STR_MAX <= 0xffff, "file fact size fits");
SOC_STATIC_ASSERT(sizeof(struct soc_exec_event) + SOC_EXEC_DATA_MAX <= 0xffff,
		  "record size must fit the u16 header.size");

#endif /* SOC_EVENTS_H */
