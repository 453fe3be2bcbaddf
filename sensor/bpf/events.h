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
#define SOC_F_OWN_TGID (1u << 15) /* the event's tgid is listed in the own_tgids map */

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
SOC_STATIC_ASSERT(sizeof(struct soc_exec_event) + SOC_EXEC_DATA_MAX <= 0xffff,
		  "record size must fit the u16 header.size");

#endif /* SOC_EVENTS_H */
