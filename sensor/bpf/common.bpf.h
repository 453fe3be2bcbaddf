/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the BPF translation units of the sensor share: the ring buffer and its drop counters,
 * the per-thread process state (task storage), the per-image maps, and the helpers that give
 * every record the exec key of its image.
 *
 * The units (process.bpf.c: lifecycle; facts.bpf.c: first-seen facts) are compiled separately
 * and linked into one object (bpftool gen object), so they share these maps by name: the unit
 * that defines SOC_DEFINE_SHARED before including this header owns the definitions, the others
 * see them as externs (libbpf's linker requires identical definitions, hence the macros).
 * One object rather than two objects reusing each other's map fds: the programs load together,
 * one loader, one status list, and no window in which one half runs without the other.
 */
#ifndef SOC_COMMON_BPF_H
#define SOC_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "events.h"

#ifdef SOC_DEFINE_SHARED
#define SOC_SHARED
#else
#define SOC_SHARED extern
#endif

/* Not in BTF (preprocessor constants): include/linux/sched.h. */
#define PF_IO_WORKER 0x00000010 /* io_uring worker (iou-wrk-*) or SQPOLL (iou-sqp-*) thread */
#define PF_KTHREAD 0x00200000

/* Not in BTF (UAPI preprocessor constants): include/uapi/linux/io_uring.h. */
#define IORING_SETUP_SQPOLL (1U << 1)
#define IORING_SETUP_SQE128 (1U << 10)
#define IORING_SETUP_NO_SQARRAY (1U << 16)

/*
 * Set by user space before load (rodata). Waking the consumer per record costs more than the
 * record itself (measured: ~0.5 M/s with per-event wake-ups against ~1.4 M/s when waking only
 * with >= 256 KiB pending), so records are submitted with BPF_RB_NO_WAKEUP and only a backlog of
 * wakeup_bytes forces a wake-up. The consumer also polls with a short timeout and consumes after
 * each timeout, which bounds latency when little is pending.
 */
#ifdef SOC_DEFINE_SHARED
const volatile __u64 wakeup_bytes = 256 * 1024;
#else
extern const volatile __u64 wakeup_bytes;
#endif

/* Size is set by user space before load (bpf_map__set_max_entries); this is the default. */
SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

/* Records lost because the ring buffer was full, per op, per CPU (summed by user space). */
SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOC_OP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Other kernel-side failures that degrade (but do not drop) events. Indexes are wire: keep. */
enum soc_error {
	SOC_ERR_STATE_ALLOC = 0, /* task storage could not be created: keys fall back later */
	SOC_ERR_PATH_UNREADABLE = 1, /* an open's path was not readable (user memory paged out) */
	SOC_ERR_SQE_UNREAD = 2, /* an io_uring submission's SQE could not be located or read */
	SOC_ERR_COUNTERS_ALLOC = 3, /* no exec_counters entry could be created: counts lost */
	SOC_ERR_MAX = 8,
};

SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOC_ERR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} errors SEC(".maps");

/* Syscall bitmap: x86_64 numbers 0..511, then the i386 (compat) table's 0..511. */
#define SOC_SYSCALL_NR_MAX 512
#define SOC_SYSCALL_BITS (2 * SOC_SYSCALL_NR_MAX)
#define SOC_SYSCALL_WORDS (SOC_SYSCALL_BITS / 64)
/* io_uring opcodes seen (IORING_OP_LAST is 63 on 6.18; room for growth). */
#define SOC_IOURING_OP_MAX 128
#define SOC_IOURING_OP_WORDS (SOC_IOURING_OP_MAX / 64)

/*
 * The destination of the last io_uring connect/send a thread submitted, read from the SQE's
 * user pointer. The cgroup connect/sendmsg hooks run in the submitting thread when io_uring
 * issues the request inline: a match tells them the connect came through io_uring, not a
 * syscall. Requests run by io_uring's own threads are recognised by PF_IO_WORKER instead.
 */
/* Address families (vmlinux.h carries no macros). */
#define AF_INET 2
#define AF_INET6 10

/* A socket address as both programs compare it: read from a user sockaddr_in/sockaddr_in6. */
struct user_sockaddr {
	__u32 addr[4]; /* network byte order; IPv4 in addr[0] */
	__u16 family;
	__u16 port; /* host byte order */
};

/*
 * sockaddr_in / sockaddr_in6 from user memory (an SQE's or a syscall's pointer: the kernel's own
 * copy changes layout between versions). False for other families or unreadable memory.
 */
static __always_inline bool read_user_sockaddr(__u64 uaddr, struct user_sockaddr *out)
{
	struct {
		__u16 family;
		__u16 port; /* network order */
		__u32 flowinfo_or_addr4;
		__u32 addr6[4];
	} sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), (const void *)uaddr))
		return false;
	if (sa.family == AF_INET) {
		out->addr[0] = sa.flowinfo_or_addr4;
		out->addr[1] = out->addr[2] = out->addr[3] = 0;
	} else if (sa.family == AF_INET6) {
		out->addr[0] = sa.addr6[0];
		out->addr[1] = sa.addr6[1];
		out->addr[2] = sa.addr6[2];
		out->addr[3] = sa.addr6[3];
	} else {
		return false;
	}
	out->family = sa.family;
	out->port = bpf_ntohs(sa.port);
	return true;
}

static __always_inline bool user_sockaddr_equal(const struct user_sockaddr *a, __u16 family, __u16 port,
						 const __u32 *addr)
{
	return a->family == family && a->port == port && a->addr[0] == addr[0] && a->addr[1] == addr[1] &&
	       a->addr[2] == addr[2] && a->addr[3] == addr[3];
}

struct uring_net_marker {
	struct user_sockaddr sa;
	__u8 opcode;
	__u8 armed;
	__u16 pad;
};

/*
 * An open(2) whose path was not in memory at sys_enter (BPF cannot fault pages in: a string
 * in a page the process never touched, e.g. a fresh binary's rodata). The kernel faults it in
 * while copying, so the thread's next syscall reads it again from the same pointer.
 */
struct deferred_open {
	__u32 armed; /* first: tested on every syscall (see struct proc_state) */
	__s32 dirfd;
	__u64 upath;
	__u32 oflags;
	__u32 via_fflags;
};

#define PROC_F_OWN (1u << 0) /* the process or an ancestor is marked own (own_tgids) */

/*
 * Per-thread state, kept in task storage rather than in a hash keyed by tgid because:
 *  - its lifetime is the task's: the kernel frees it with the task, so nothing leaks when an
 *    exit is missed and no stale entry survives pid reuse; there is no capacity to size;
 *  - a lookup is a pointer walk from the task, no hashing — it is on every syscall.
 * Every thread carries a copy of its process's identity (copied when a thread is created). The
 * identity only changes at exec, when a process has exactly one thread left (de_thread), and at
 * fork, when the child has one thread, so the copies never diverge. The copy matters when a
 * non-leader thread execs (Go programs such as runc do): de_thread makes that thread the new
 * leader and the old leader's storage goes away with it.
 *
 * The *_seen bitmaps are a per-thread cache of facts already reported for the image (the image's
 * shared record is exec_syscalls / fact_seen); they are copied with the identity (same image)
 * and cleared at exec. `pending` counts what the thread did since it last added its counts to
 * exec_counters: only the owning thread writes it, so no atomics on the per-syscall path.
 */
struct proc_state {
	/*
	 * What every syscall reads or writes comes first, so that a syscall touches two cache
	 * lines of the state: task storage places the value 8 bytes into a cache line (after the
	 * map pointer its lookup reads), so offsets 0–55 share the lookup's line, and the 64-bit
	 * syscall table's bitmap (words 0–7) fills the line at offsets 120–183. In a busy service
	 * the state is not in L1 between syscalls; each line less is a cache miss less.
	 */
	__u32 valid;
	__u32 flags; /* PROC_F_* */
	__u32 pending_events;
	__u32 pad;
	struct deferred_open deferred; /* armed: offset 16 */
	struct soc_activity_counters pending; /* syscalls: offset 40 */
	__u64 last_flush_ns;
	__u64 pad2;
	__u64 syscalls_seen[SOC_SYSCALL_WORDS]; /* offset 120 */
	__u64 iouring_ops_seen[SOC_IOURING_OP_WORDS];
	struct soc_exec_key key;
	struct soc_exec_key parent_key;
	struct uring_net_marker uring_net;
};

_Static_assert(__builtin_offsetof(struct proc_state, pending.syscalls) + 8 <= 56,
	       "per-syscall fields share the task storage lookup's cache line");
_Static_assert(__builtin_offsetof(struct proc_state, syscalls_seen) == 120,
	       "the 64-bit syscall bitmap fills one cache line");

SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct proc_state);
} proc_states SEC(".maps");

/*
 * tgids whose activity is the sensor's own (the sensor itself, processes user space marked,
 * e.g. the cockpit on the same node). Their records, and those of their descendants (the mark
 * is copied into the state at fork), carry SOC_F_OWN_TGID.
 */
SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} own_tgids SEC(".maps");

/*
 * Activity counters per image (struct soc_exec_counters), read periodically by user space.
 * LRU: an image whose exit was missed cannot leak an entry. 16384 live images with activity
 * between two reads (~2.5 MiB); an eviction loses that image's counts since the last read.
 * Entries are deleted when the image ends (with a final SOC_OP_FACT_COUNTERS record).
 */
SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct soc_exec_key);
	__type(value, struct soc_exec_counters);
} exec_counters SEC(".maps");

/*
 * Syscalls already reported per image, shared by all its threads and forked children (they run
 * the same image and carry its key). A thread consults it only when its own cached bit is clear,
 * so it is touched about (threads x distinct syscalls) times per image, not per syscall. An
 * atomic fetch-or decides which thread reports. LRU, 16384 images (~3.4 MiB); an evicted image
 * can repeat a fact (its threads' caches still hold most bits), never miss one.
 */
struct exec_syscalls_value {
	__u64 bits[SOC_SYSCALL_WORDS];
};

SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct soc_exec_key);
	__type(value, struct exec_syscalls_value);
} exec_syscalls SEC(".maps");

/*
 * Scratch space for path walks, too large for the 512-byte BPF stack. Slot 0 serves the
 * tracepoint programs (they run with preemption disabled — the syscall tracepoints too, which
 * BPF runs under preempt_disable even where they are faultable — and do not nest), slot 1 the
 * task iterator (which runs preemptibly). The cgroup and sockops programs (preemptible or in
 * softirq) use no scratch.
 */
#define SLOT_TRACE 0
#define SLOT_ITER 1

/*
 * A path is assembled backwards from the end of buf: components are prepended at decreasing
 * offsets, so the result is buf[off .. PATH_END). NAME_MAX bytes of slack behind PATH_END keep
 * every masked write in bounds.
 *
 * The walk's state lives in this per-CPU map value too, not on the stack: the verifier then
 * sees its fields as unknown scalars and verifies the bpf_loop callback once. With the state on
 * the stack it tracks values precisely (off shrinking step by step), every iteration becomes a
 * new state and verification runs out of its instruction budget.
 */
#define PATH_END (SOC_STR_MAX + 1)
#define NAME_MASK 0xff
#define PATH_MAX_STEPS 256
#define STR_LEN_MASK 0xfff

struct walk_state {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 off;
	__u32 mount_offset; /* offsetof(struct mount, mnt), relocated for this kernel */
	__u32 done;
	__u32 truncated;
};

struct path_scratch {
	struct walk_state w;
	char buf[PATH_END + NAME_MASK + 1];
};

SOC_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct path_scratch);
} path_scratch SEC(".maps");

static __always_inline void count(void *map, __u32 index)
{
	__u64 *n = bpf_map_lookup_elem(map, &index);

	if (n)
		*n += 1; /* per-CPU value: no atomic needed */
}

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									       : BPF_RB_NO_WAKEUP;
}

static __always_inline bool own_tgid(__u32 tgid)
{
	return bpf_map_lookup_elem(&own_tgids, &tgid) != 0;
}

/* SOC_F_OWN_TGID for a record of tgid whose thread has state st (may be null). */
static __always_inline __u16 own_flag(__u32 tgid, struct proc_state *st)
{
	if (st && (st->flags & PROC_F_OWN))
		return SOC_F_OWN_TGID;
	return own_tgid(tgid) ? SOC_F_OWN_TGID : 0;
}

/*
 * SOC_F_OWN_TGID for a record of the current task (whose state is st): by its own mark or
 * its tgid's. A tgid marked after the thread's state was made is cached into the state.
 */
static __always_inline __u16 own_now(struct proc_state *st)
{
	if (st->flags & PROC_F_OWN)
		return SOC_F_OWN_TGID;
	if (!own_tgid(bpf_get_current_pid_tgid() >> 32))
		return 0;
	st->flags |= PROC_F_OWN;
	return SOC_F_OWN_TGID;
}

/* self_exec_id became u64 in 6.x (it was u32): read whichever width this kernel has. */
struct task_struct___u32exec {
	__u32 self_exec_id;
} __attribute__((preserve_access_index));

static __always_inline __u64 read_self_exec_id(struct task_struct *task)
{
	if (bpf_core_field_size(task->self_exec_id) == 8)
		return BPF_CORE_READ(task, self_exec_id);
	return BPF_CORE_READ((struct task_struct___u32exec *)task, self_exec_id);
}

/* The key a process has when nothing is stored for it: computed from its own fields. */
static __always_inline void key_from_task(struct task_struct *task, struct soc_exec_key *key)
{
	key->start_boottime_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	key->self_exec_id = read_self_exec_id(task);
	key->tgid = BPF_CORE_READ(task, tgid);
	key->pad = 0;
}

static __always_inline struct proc_state *stored_state(struct task_struct *task)
{
	struct proc_state *st = bpf_task_storage_get(&proc_states, task, 0, 0);

	return st && st->valid ? st : 0;
}

/*
 * The key of the image a task runs: its stored state, else its thread-group leader's (a thread
 * created before attach has no copy), else computed from the task's fields. Returns true when
 * the computed fallback was used.
 */
static __always_inline bool key_of(struct task_struct *task, struct soc_exec_key *key)
{
	struct proc_state *st = stored_state(task);

	if (!st)
		st = stored_state(task->group_leader);
	if (st) {
		*key = st->key;
		return false;
	}
	key_from_task(task, key);
	return true;
}

/* The key of real_parent's image (what a seeded process's parent_key is). */
static __always_inline bool parent_key_of(struct task_struct *task, struct soc_exec_key *key)
{
	struct task_struct *parent = task->real_parent;

	if (!parent) {
		__builtin_memset(key, 0, sizeof(*key));
		return true;
	}
	return key_of(parent, key);
}

/*
 * Adds a thread's pending counts to its image's counters (atomically: the image's threads
 * run on several CPUs) and clears them. Called in batches (facts.bpf.c), at thread exit and at
 * exec, never per syscall.
 */
/* Image key's entry in exec_counters, created empty if it has none (null, counted, when full). */
static __always_inline struct soc_exec_counters *exec_counters_of(struct soc_exec_key *key)
{
	struct soc_exec_counters *c = bpf_map_lookup_elem(&exec_counters, key);

	if (!c) {
		struct soc_exec_counters zero = {};

		bpf_map_update_elem(&exec_counters, key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&exec_counters, key);
		if (!c)
			count(&errors, SOC_ERR_COUNTERS_ALLOC);
	}
	return c;
}

static __always_inline void flush_counters(struct proc_state *st, __u64 now)
{
	struct soc_exec_counters *c = exec_counters_of(&st->key);
	struct soc_activity_counters *p = &st->pending;

	if (!c)
		goto clear;
	if (p->syscalls)
		__sync_fetch_and_add(&c->counters.syscalls, p->syscalls);
	if (p->iouring_submissions)
		__sync_fetch_and_add(&c->counters.iouring_submissions, p->iouring_submissions);
	if (p->iouring_setups)
		__sync_fetch_and_add(&c->counters.iouring_setups, p->iouring_setups);
	if (p->connects)
		__sync_fetch_and_add(&c->counters.connects, p->connects);
	if (p->sends_addressed)
		__sync_fetch_and_add(&c->counters.sends_addressed, p->sends_addressed);
	if (p->accepts)
		__sync_fetch_and_add(&c->counters.accepts, p->accepts);
	if (p->opens)
		__sync_fetch_and_add(&c->counters.opens, p->opens);
	if (p->sensitive_opens)
		__sync_fetch_and_add(&c->counters.sensitive_opens, p->sensitive_opens);
	if (own_now(st) && !(c->flags & SOC_F_OWN_TGID))
		__sync_fetch_and_or(&c->flags, SOC_F_OWN_TGID);
clear:
	__builtin_memset(p, 0, sizeof(*p));
	st->pending_events = 0;
	st->last_flush_ns = now;
}

/*
 * The image `key` ended (the process that exec'd it exits or execs again): write its final
 * counters and forget its per-image maps. Deleted before the record is written, so a periodic
 * read in user space either saw the entry before (and the final record carries the rest) or
 * does not see it at all. Forked children still running the image start new entries.
 */
static __always_inline void end_image(struct soc_exec_key *key, __u32 tid, __u16 flags)
{
	struct soc_exec_counters *c = bpf_map_lookup_elem(&exec_counters, key);
	struct soc_counters_event *ev;
	struct soc_activity_counters final;
	__u32 cflags;

	bpf_map_delete_elem(&exec_syscalls, key);
	if (!c)
		return;
	final = c->counters;
	cflags = c->flags;
	bpf_map_delete_elem(&exec_counters, key);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FACT_COUNTERS);
		return;
	}
	ev->hdr.op = SOC_OP_FACT_COUNTERS;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.flags = flags | (cflags & SOC_F_OWN_TGID);
	ev->hdr.reserved = 0;
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = key->tgid;
	ev->hdr.tid = tid;
	ev->key = *key;
	ev->counters = final;
	bpf_ringbuf_submit(ev, submit_flags());
}

#define S_IFMT 00170000
#define S_IFSOCK 0140000

static __always_inline bool file_is_socket(struct file *f)
{
	return (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) == S_IFSOCK;
}

/* The sock of a socket file (file_is_socket), or null. */
static __always_inline struct sock *file_sock(struct file *f)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);

	return sock ? BPF_CORE_READ(sock, sk) : 0;
}

/* Remote and local address of sk (IPv4 in the first 4 bytes; network order). */
static __always_inline void sk_addresses(struct sock *sk, __u16 *family, __u8 *raddr, __u16 *rport,
					 __u8 *laddr, __u16 *lport)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	*family = fam;
	if (fam == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)raddr, sk, __sk_common.skc_daddr);
		BPF_CORE_READ_INTO((__u32 *)laddr, sk, __sk_common.skc_rcv_saddr);
	} else if (fam == AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)raddr, sk, __sk_common.skc_v6_daddr);
		BPF_CORE_READ_INTO((struct in6_addr *)laddr, sk, __sk_common.skc_v6_rcv_saddr);
	} else {
		*family = 0;
		return;
	}
	*rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	*lport = BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* The file behind descriptor fd of task, or null. */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = 0;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * The SQE behind req: submit_req fires in io_submit_sqe right after io_get_sqe advanced
 * cached_sq_head past it, so it is entry (cached_sq_head - 1), through sq_array unless the ring
 * has none, doubled for 128-byte SQEs. Checked against the request (opcode, user_data) because
 * the ring is shared memory the application may already be rewriting.
 */
static __always_inline bool read_sqe(struct io_kiocb *req, struct io_uring_sqe *sqe)
{
	struct io_ring_ctx *ctx = req->ctx;
	struct io_uring_sqe *sqes;
	__u32 flags = BPF_CORE_READ(ctx, flags);
	__u32 entries = BPF_CORE_READ(ctx, sq_entries);
	__u32 head = BPF_CORE_READ(ctx, cached_sq_head) - 1;

	if (!entries)
		return false;
	head &= entries - 1;
	if (!(flags & IORING_SETUP_NO_SQARRAY)) {
		__u32 *array = BPF_CORE_READ(ctx, sq_array);

		if (bpf_probe_read_kernel(&head, sizeof(head), &array[head]) || head >= entries)
			return false;
	}
	if (flags & IORING_SETUP_SQE128)
		head <<= 1;
	sqes = BPF_CORE_READ(ctx, sq_sqes);
	if (bpf_probe_read_kernel(sqe, sizeof(*sqe), &sqes[head]))
		return false;
	return sqe->opcode == req->opcode && sqe->user_data == BPF_CORE_READ(req, cqe.user_data);
}

/* --- path resolution (a bounded emulation of d_path, as Tetragon does) -------------------- */

/* One step up: leave a mount at its root, else prepend one component. */
static long walk_step(__u32 index, void *arg)
{
	struct path_scratch *ps = bpf_map_lookup_elem(&path_scratch, arg);
	struct walk_state *w;
	struct dentry *d, *up;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	const unsigned char *name;
	__u32 len, off;

	if (!ps)
		return 1;
	w = &ps->w;
	/* Locals, not w->...: CO-RE reads must start from a kernel type, not from walk_state. */
	d = w->dentry;
	vfsmnt = w->vfsmnt;
	mnt = w->mnt;

	/* Stop at the process's root: paths are as the process sees them (inside a container). */
	if (d == w->root_dentry && vfsmnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	if (d == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);

		if (parent == mnt) { /* root of the mount tree */
			w->done = 1;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = parent;
		w->vfsmnt = (struct vfsmount *)((char *)parent + w->mount_offset);
		return 0;
	}
	/*
	 * A dentry that is its own parent but not a mount root is a pseudo file (memfd, or an
	 * unlinked O_TMPFILE): the kernel names it "/<name>" (simple_dname), e.g. "/memfd:x".
	 * Prepend its name and stop. Fileless execution from a memfd shows up this way.
	 */
	up = BPF_CORE_READ(d, d_parent);
	len = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	if (len > NAME_MASK)
		len = NAME_MASK;
	if (len + 1 >= w->off) { /* keep off >= 1: the path would exceed SOC_STR_MAX */
		w->truncated = 1;
		return 1;
	}
	w->off -= len + 1;
	off = w->off & STR_LEN_MASK;
	ps->buf[off] = '/';
	bpf_probe_read_kernel(&ps->buf[off + 1], len & NAME_MASK, name);
	if (up == d) {
		w->done = 1;
		return 1;
	}
	w->dentry = up;
	return 0;
}

/*
 * Resolves (vfsmnt, dentry) relative to task's root into path_scratch[slot].buf[off..PATH_END).
 * Returns off; PATH_END means unresolved. *truncated is set when the leading part is missing.
 */
static __always_inline __u32 resolve_path(struct task_struct *task, struct vfsmount *vfsmnt,
					  struct dentry *dentry, __u32 slot, bool *truncated)
{
	struct path_scratch *ps = bpf_map_lookup_elem(&path_scratch, &slot);
	struct walk_state *w;
	__u32 mount_offset = bpf_core_field_offset(struct mount, mnt);

	*truncated = false;
	if (!ps || !vfsmnt || !dentry)
		return PATH_END;
	w = &ps->w;
	w->dentry = dentry;
	w->vfsmnt = vfsmnt;
	w->mount_offset = mount_offset;
	w->mnt = (struct mount *)((char *)vfsmnt - mount_offset);
	w->root_dentry = BPF_CORE_READ(task, fs, root.dentry);
	w->root_mnt = BPF_CORE_READ(task, fs, root.mnt);
	w->off = PATH_END;
	w->done = 0;
	w->truncated = 0;
	bpf_loop(PATH_MAX_STEPS, walk_step, &slot, 0);
	/* The lookup again: the verifier does not keep ps valid across the callback. */
	ps = bpf_map_lookup_elem(&path_scratch, &slot);
	if (!ps)
		return PATH_END;
	w = &ps->w;
	*truncated = w->truncated || !w->done;
	if (w->off >= PATH_END) {
		if (!w->done)
			return PATH_END;
		/* The root itself. */
		w->off = PATH_END - 1;
		ps->buf[(PATH_END - 1) & STR_LEN_MASK] = '/';
	}
	return w->off;
}

#endif /* SOC_COMMON_BPF_H */
