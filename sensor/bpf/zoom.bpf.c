// SPDX-License-Identifier: GPL-2.0-only
/*
 * Adaptive zoom-in: evidence about the few processes an indicator points at, on demand.
 *
 * These programs are loaded with the always-on ones (one object, shared maps) but attached only
 * while a zoom needs them (user space attaches and detaches them per zoom: sensor/src/zoom). Every
 * program starts with the same filter — the current tgid in zoom_targets, else the current
 * cgroup (or an ancestor at a level in use) in zoom_cgroups — so a process nobody zoomed on pays
 * one hash lookup (plus a config read) per hooked event while a zoom is active, and nothing once
 * the last zoom ended (detached).
 *
 * Every record is admitted by its zoom's limits in the kernel before it is written: the zoom must
 * be active (user space clears `active` to cancel or expire it: effective for the next event), a
 * one-second window caps the rate, and the event budget is taken with an atomic add. Enforcing
 * both here rather than in user space means an exhausted or flooding zoom never reaches the ring
 * buffer it shares with the always-on stream: the kernel stops at once, user space then detaches.
 *
 * Hooks, and why:
 *  - tp_btf/io_uring_submit_req + tp_btf/io_uring_complete: every request of a target, joined by
 *    the request pointer (unique while in flight; an LRU map so a request that never completes
 *    cannot leak an entry). At submission the SQE (UAPI) gives opcode, fd, user_data, the path
 *    (OPENAT) or destination (CONNECT) from user pointers, and the first bytes of SEND/SENDMSG/
 *    WRITE buffers; req->file exists only at completion, which gives the result, the file's path
 *    (a d_path walk) or the socket's addresses, and for RECV/READ the first bytes received.
 *    io_uring_file_get is not needed: the completion sees the file the request used.
 *  - cgroup/connect4|6: connect(2) and io_uring CONNECT, in the connecting task, before the
 *    kernel acts (the destination as asked). Never deny.
 *  - tp_btf/tcp_sendmsg_locked: the msghdr of every TCP send (syscalls and io_uring alike): the
 *    payload prefix from the user buffer before the kernel copies it;
 *    tp_btf/sock_send_length / sock_recv_length: bytes moved, in the sending / receiving task,
 *    for every socket family; they emit the send/recv records (the prefix joined by thread).
 *  - tp_btf/inet_sock_set_state: TCP state changes; mostly in softirq (any task is current), so
 *    sockets a target used are marked in socket storage (the zoom and the target's exec key).
 *  - tracepoint/syscalls/sys_{enter,exit}_{openat,read,write,pread64,pwrite64}, sys_enter_close,
 *    sys_{enter,exit}_mmap: classic per-syscall tracepoints, not raw sys_enter/sys_exit: the
 *    kernel dispatches to them only for their own syscall number, so other syscalls of the host
 *    (the hot ones) do not run these programs at all.
 *  - tp_btf/sched_process_fork / sched_process_exit: children join a zoom that follows them;
 *    a target's tgid leaves the map when the process dies (no pid-reuse confusion).
 */
#include "common.bpf.h"

/* Not in BTF (preprocessor constants, UAPI). */
#define PROT_EXEC 0x4
#define MAP_ANONYMOUS 0x20
#define IORING_CQE_F_MORE (1U << 1)
#define IOSQE_FIXED_FILE (1U << 0)

/* x86_64 syscalls that move socket data (a send/recv in one of them is a syscall's own). */
#define NR_read 0
#define NR_write 1
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_splice 275
#define NR_preadv 295
#define NR_pwritev 296
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#define NR_preadv2 327
#define NR_pwritev2 328

/* Keeps the zoom records in the object's BTF for the layout test (see process.bpf.c). */
struct soc_zoom_layout_anchor {
	struct soc_zoom_target target;
	struct soc_zoom_limits limits;
	struct soc_zoom_counters counters;
	struct soc_zoom_config config;
	struct soc_zoom_ref ref;
	struct soc_zoom_iouring_event iouring;
	struct soc_zoom_socket_event socket;
	struct soc_zoom_file_event file;
	struct soc_zoom_exec_map_event exec_map;
	enum soc_sock_op sock_op;
	enum soc_file_op file_op;
	enum soc_zoom_family family;
};
const volatile struct soc_zoom_layout_anchor zoom_layout_anchor = {};

/* --- maps ------------------------------------------------------------------------------------ */

/* Targeted processes (tgid). Written by user space at order time, by zoom_fork for children. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct soc_zoom_target);
} zoom_targets SEC(".maps");

/* Targeted cgroups (v2 id): a process in one, or below one, is targeted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct soc_zoom_target);
} zoom_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOC_ZOOM_SLOTS);
	__type(key, __u32);
	__type(value, struct soc_zoom_limits);
} zoom_limits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SOC_ZOOM_SLOTS);
	__type(key, __u32);
	__type(value, struct soc_zoom_counters);
} zoom_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct soc_zoom_config);
} zoom_config SEC(".maps");

#define INFLIGHT_F_SQE_PATH (1u << 0) /* path[] holds the SQE's path */
#define INFLIGHT_F_READ_AT_COMPLETION (1u << 1) /* buf: read the prefix after completion */

/* An io_uring request of a target between submission and completion. */
struct zoom_inflight {
	struct soc_exec_key key;
	struct soc_zoom_ref zoom;
	__u64 user_data;
	__u64 submit_ns;
	__u64 buf; /* RECV/READ: the user buffer, read at completion */
	__u32 len;
	__s32 fd;
	__u32 open_flags;
	__u32 ring_flags;
	__u32 submit_tid;
	__u16 path_len;
	__u16 data_len;
	__u16 prefix_len;
	__u16 flags; /* INFLIGHT_F_* */
	__u8 opcode;
	__u8 sqe_flags;
	__u16 family;
	__u16 port;
	__u16 pad;
	__u8 addr[16];
	char path[SOC_ZOOM_NAME_MAX];
	__u8 data[SOC_ZOOM_PREFIX_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* struct io_kiocb * */
	__type(value, struct zoom_inflight);
} zoom_inflight SEC(".maps");

/* A targeted thread between a syscall's entry and exit. */
enum zoom_sys_op {
	ZOOM_SYS_OPEN = 1,
	ZOOM_SYS_READ = 2,
	ZOOM_SYS_WRITE = 3,
	ZOOM_SYS_MMAP = 4,
};

struct zoom_sys {
	struct soc_zoom_target t;
	__u64 arg; /* open: the path; mmap: the address asked for */
	__u64 len;
	__u64 off;
	__s32 fd;
	__u32 flags; /* open: O_*; mmap: PROT_* */
	__u32 mflags; /* mmap: MAP_* */
	__u32 op; /* enum zoom_sys_op */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct zoom_sys);
} zoom_sys_pending SEC(".maps");

/* The first bytes of a TCP send, from tcp_sendmsg_locked until sock_send_length (same thread). */
struct zoom_send_prefix {
	__u64 sk;
	__u64 at_ns;
	__u32 len;
	__u32 pad;
	__u8 data[SOC_ZOOM_PREFIX_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, struct zoom_send_prefix);
} zoom_send_prefixes SEC(".maps");

/*
 * The destination of an io_uring CONNECT a targeted thread just submitted: when the cgroup hook
 * fires in that same thread with that destination, the connect was issued inline by io_uring.
 */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tid */
	__type(value, struct user_sockaddr);
} zoom_net_markers SEC(".maps");

/* Sockets a target used: state changes (softirq) are reported for them only. */
struct zoom_sock {
	struct soc_exec_key key;
	struct soc_zoom_target t;
	__u32 tgid;
	__u32 via;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct zoom_sock);
} zoom_socks SEC(".maps");

/*
 * Records with a path are assembled here (process context with preemption disabled: the
 * io_uring and syscall tracepoints; never the cgroup or softirq programs, which use fixed-size
 * ring reservations). buf holds the fixed part, then the path and the prefix at masked offsets.
 */
#define ZOOM_BUF_MASK 0x1fff
#define ZOOM_PATH_MASK 0xfff
#define ZOOM_PREFIX_MASK 0x1ff

struct zoom_scratch {
	__u8 buf[ZOOM_BUF_MASK + 1 + ZOOM_PREFIX_MASK + 1];
	struct zoom_inflight in;
	struct zoom_send_prefix sp;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct zoom_scratch);
} zoom_scratch SEC(".maps");

/* --- filter and admission --------------------------------------------------------------------- */

#define ZOOM_CGROUP_LEVELS 16

/* The zoom targeting the current task: its tgid, else its cgroup or an ancestor in use. */
static __always_inline struct soc_zoom_target *zoom_target_of(__u32 tgid)
{
	struct soc_zoom_target *t = bpf_map_lookup_elem(&zoom_targets, &tgid);
	struct soc_zoom_config *cfg;
	struct task_struct *task;
	struct cgroup *cg;
	__u32 zero = 0, levels, level;
	int l;

	if (t)
		return t;
	cfg = bpf_map_lookup_elem(&zoom_config, &zero);
	if (!cfg || !cfg->cgroup_levels)
		return 0;
	levels = cfg->cgroup_levels;
	task = bpf_get_current_task_btf();
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!cg)
		return 0;
	level = BPF_CORE_READ(cg, level);
	for (l = 0; l < ZOOM_CGROUP_LEVELS; l++) {
		struct cgroup *anc = 0;
		__u64 id;

		if (!(levels & (1u << l)))
			continue;
		if ((__u32)l > level)
			break;
		bpf_probe_read_kernel(&anc, sizeof(anc), &cg->ancestors[l]);
		if (!anc)
			break;
		id = BPF_CORE_READ(anc, kn, id);
		t = bpf_map_lookup_elem(&zoom_cgroups, &id);
		if (t)
			return t;
	}
	return 0;
}

static __always_inline struct soc_zoom_counters *zoom_counters_of(__u32 slot)
{
	slot &= SOC_ZOOM_SLOTS - 1;
	return bpf_map_lookup_elem(&zoom_counters, &slot);
}

/* Does the zoom still run, and may it write one more record? Takes one unit of its budget. */
static __always_inline bool zoom_admit(__u32 zoom_no, __u32 slot)
{
	struct soc_zoom_limits *lim;
	struct soc_zoom_counters *c;

	slot &= SOC_ZOOM_SLOTS - 1;
	lim = bpf_map_lookup_elem(&zoom_limits, &slot);
	c = bpf_map_lookup_elem(&zoom_counters, &slot);
	if (!lim || !c || !lim->active || lim->zoom_no != zoom_no)
		return false;
	if (lim->rate) {
		__u64 now = bpf_ktime_get_boot_ns();
		__u64 start = c->window_start;

		/* One-second windows: the CPU that moves the window on resets its count. */
		if (now - start >= 1000000000ull &&
		    __sync_val_compare_and_swap(&c->window_start, start, now) == start)
			__sync_lock_test_and_set(&c->window_count, 0);
		if (__sync_fetch_and_add(&c->window_count, 1) >= lim->rate) {
			__sync_fetch_and_add(&c->dropped_rate, 1);
			return false;
		}
	}
	if (__sync_fetch_and_add(&c->used, 1) >= lim->budget) {
		__sync_fetch_and_add(&c->dropped_budget, 1);
		return false;
	}
	return true;
}

static __always_inline bool zoom_active(__u32 zoom_no, __u32 slot)
{
	struct soc_zoom_limits *lim;

	slot &= SOC_ZOOM_SLOTS - 1;
	lim = bpf_map_lookup_elem(&zoom_limits, &slot);
	return lim && lim->active && lim->zoom_no == zoom_no;
}

/* A record was written (or lost to a full ring buffer). */
static __always_inline void zoom_written(__u32 slot, __u32 family, __u16 op, bool ok)
{
	struct soc_zoom_counters *c = zoom_counters_of(slot);

	if (!ok)
		count(&drops, op);
	if (!c)
		return;
	if (ok)
		__sync_fetch_and_add(&c->emitted[family & (SOC_ZOOM_FAM_MAX - 1)], 1);
	else
		__sync_fetch_and_add(&c->dropped_ring, 1);
}

static __always_inline void zoom_ref(struct soc_zoom_ref *r, struct soc_zoom_target *t)
{
	r->zoom_no = t->zoom_no;
	r->probes = t->probes;
	r->slot = t->slot;
}

static __always_inline void zoom_hdr(struct soc_event_header *h, __u16 op, __u32 size, __u16 flags,
				     __u32 tgid, __u32 tid)
{
	h->op = op;
	h->size = size;
	h->flags = flags;
	h->reserved = 0;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->tgid = tgid;
	h->tid = tid;
}

static __always_inline void current_key(struct soc_exec_key *key)
{
	key_of(bpf_get_current_task_btf(), key);
}

static __always_inline __u16 current_own(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return own_flag(task->tgid, stored_state(task));
}

/* --- files and sockets ------------------------------------------------------------------------ */

/*
 * The path of f into buf (at most ZOOM_PATH_MASK bytes); returns its length, 0 when unresolved.
 * A d_path-like walk relative to the current task's root (common.bpf.h).
 */
static __always_inline __u32 file_path(struct file *f, __u8 *buf, bool *truncated)
{
	__u32 slot = SLOT_TRACE, off, len;
	struct path_scratch *ps;

	off = resolve_path(bpf_get_current_task_btf(), BPF_CORE_READ(f, f_path.mnt),
			   BPF_CORE_READ(f, f_path.dentry), slot, truncated);
	ps = bpf_map_lookup_elem(&path_scratch, &slot);
	if (!ps || off >= PATH_END)
		return 0;
	len = (PATH_END - off) & ZOOM_PATH_MASK;
	bpf_probe_read_kernel(buf, len, &ps->buf[off & STR_LEN_MASK]);
	return len;
}

/* --- processes -------------------------------------------------------------------------------- */

/* A child of a target that follows children joins the zoom (threads are in it already). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(zoom_fork, struct task_struct *parent, struct task_struct *child)
{
	struct soc_zoom_target *t;
	__u32 ptgid = parent->tgid, ctgid = child->tgid;

	if (child->pid != ctgid || (child->flags & PF_KTHREAD))
		return 0;
	t = bpf_map_lookup_elem(&zoom_targets, &ptgid);
	if (!t || !(t->flags & SOC_ZOOM_T_FOLLOW_CHILDREN) || !zoom_active(t->zoom_no, t->slot))
		return 0;
	bpf_map_update_elem(&zoom_targets, &ctgid, t, BPF_NOEXIST);
	return 0;
}

/* A target died: its tgid leaves the map (a later process reusing the pid is not targeted). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(zoom_exit, struct task_struct *task, bool group_dead)
{
	__u32 tgid = task->tgid;

	if (group_dead)
		bpf_map_delete_elem(&zoom_targets, &tgid);
	return 0;
}

/* --- io_uring --------------------------------------------------------------------------------- */

static __always_inline bool is_file_op(__u32 op)
{
	return op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2 || op == IORING_OP_READ ||
	       op == IORING_OP_WRITE || op == IORING_OP_READV || op == IORING_OP_WRITEV ||
	       op == IORING_OP_READ_FIXED || op == IORING_OP_WRITE_FIXED || op == IORING_OP_CLOSE;
}

/* The first iovec's base and length of a user iovec array. */
static __always_inline bool first_iovec(__u64 uiov, __u64 *base, __u64 *len)
{
	struct iovec iov;

	if (!uiov || bpf_probe_read_user(&iov, sizeof(iov), (const void *)uiov))
		return false;
	*base = (__u64)iov.iov_base;
	*len = iov.iov_len;
	return true;
}

/* struct user_msghdr: msg_name at 0, msg_iov at 16 (UAPI layout). */
static __always_inline bool msghdr_iov(__u64 umsg, __u64 *base, __u64 *len)
{
	__u64 iov = 0;

	if (!umsg || bpf_probe_read_user(&iov, sizeof(iov), (const void *)(umsg + 16)))
		return false;
	return first_iovec(iov, base, len);
}


/* n user bytes at uptr into dst (n clamped to max and to SOC_ZOOM_PREFIX_MAX); returns n read. */
static __always_inline __u32 read_prefix(__u8 *dst, __u64 uptr, __u64 n, __u32 max)
{
	__u32 k;

	if (n > max)
		n = max;
	if (n > SOC_ZOOM_PREFIX_MAX)
		n = SOC_ZOOM_PREFIX_MAX;
	k = n;
	if (!uptr || k == 0)
		return 0;
	/* Keep the bound visible to the verifier after the compiler's rewrites. */
	asm volatile("%[k] &= 0x1ff" : [k] "+r"(k));
	if (k > SOC_ZOOM_PREFIX_MAX || k == 0)
		return 0;
	if (bpf_probe_read_user(dst, k, (const void *)uptr))
		return 0;
	return k;
}

/* The path of descriptor fd (a file, not a socket) into in->path, truncated to its size. */
static __always_inline void close_path(struct zoom_inflight *in, struct zoom_scratch *s, int fd)
{
	struct file *f = fd_file(bpf_get_current_task_btf(), fd);
	bool truncated = false;
	__u32 len;

	if (!f || file_is_socket(f))
		return;
	len = file_path(f, s->buf, &truncated);
	if (!len)
		return;
	if (len > SOC_ZOOM_NAME_MAX - 1)
		len = SOC_ZOOM_NAME_MAX - 1;
	bpf_probe_read_kernel(in->path, len & (SOC_ZOOM_NAME_MAX - 1), s->buf);
	in->path_len = len;
	in->flags |= INFLIGHT_F_SQE_PATH;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(zoom_uring_submit, struct io_kiocb *req)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct soc_zoom_target *t = zoom_target_of(pid_tgid >> 32);
	struct zoom_inflight *in;
	struct zoom_scratch *s;
	struct io_uring_sqe sqe;
	__u32 opcode, zero = 0;
	__u64 key, base = 0, blen = 0;
	long n;

	if (!t)
		return 0;
	opcode = req->opcode;
	if ((t->probes & SOC_ZOOM_P_NETWORK) && opcode == IORING_OP_CONNECT) {
		struct user_sockaddr m = {};
		__u32 tid = (__u32)pid_tgid;

		if (read_sqe(req, &sqe) && read_user_sockaddr(sqe.addr, &m))
			bpf_map_update_elem(&zoom_net_markers, &tid, &m, BPF_ANY);
	}
	if (!(t->probes & SOC_ZOOM_P_IO_URING) && !((t->probes & SOC_ZOOM_P_FILES) && is_file_op(opcode)))
		return 0;
	if (!zoom_active(t->zoom_no, t->slot))
		return 0;
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s)
		return 0;
	in = &s->in;
	current_key(&in->key);
	zoom_ref(&in->zoom, t);
	in->user_data = BPF_CORE_READ(req, cqe.user_data);
	in->submit_ns = bpf_ktime_get_boot_ns();
	in->buf = 0;
	in->len = 0;
	in->fd = -1;
	in->open_flags = 0;
	in->ring_flags = BPF_CORE_READ(req, ctx, flags);
	in->submit_tid = (__u32)pid_tgid;
	in->path_len = 0;
	in->data_len = 0;
	in->prefix_len = t->prefix_len;
	in->flags = 0;
	in->opcode = opcode;
	in->sqe_flags = 0;
	in->family = 0;
	in->port = 0;
	in->pad = 0;
	if (read_sqe(req, &sqe)) {
		in->len = sqe.len;
		in->fd = sqe.fd;
		in->sqe_flags = sqe.flags;
		switch (opcode) {
		case IORING_OP_OPENAT:
		case IORING_OP_OPENAT2:
			in->open_flags = sqe.open_flags;
			n = bpf_probe_read_user_str(in->path, sizeof(in->path), (const void *)sqe.addr);
			if (n > 1) {
				in->path_len = (n - 1) & (SOC_ZOOM_NAME_MAX - 1);
				in->flags |= INFLIGHT_F_SQE_PATH;
			}
			break;
		case IORING_OP_CONNECT: {
			struct user_sockaddr m = {};

			if (read_user_sockaddr(sqe.addr, &m)) {
				in->family = m.family;
				in->port = m.port;
				__builtin_memcpy(in->addr, m.addr, 16);
			}
			break;
		}
		case IORING_OP_SEND:
		case IORING_OP_SEND_ZC:
		case IORING_OP_WRITE:
			in->data_len = read_prefix(in->data, sqe.addr, sqe.len, t->prefix_len);
			break;
		case IORING_OP_SENDMSG:
		case IORING_OP_SENDMSG_ZC:
			if (msghdr_iov(sqe.addr, &base, &blen))
				in->data_len = read_prefix(in->data, base, blen, t->prefix_len);
			break;
		case IORING_OP_WRITEV:
			if (first_iovec(sqe.addr, &base, &blen))
				in->data_len = read_prefix(in->data, base, blen, t->prefix_len);
			break;
		case IORING_OP_RECV:
		case IORING_OP_READ:
			in->buf = sqe.addr;
			in->flags |= INFLIGHT_F_READ_AT_COMPLETION;
			break;
		case IORING_OP_RECVMSG:
			if (msghdr_iov(sqe.addr, &base, &blen)) {
				in->buf = base;
				in->flags |= INFLIGHT_F_READ_AT_COMPLETION;
			}
			break;
		case IORING_OP_READV:
			if (first_iovec(sqe.addr, &base, &blen)) {
				in->buf = base;
				in->flags |= INFLIGHT_F_READ_AT_COMPLETION;
			}
			break;
		case IORING_OP_CLOSE:
			/* Named now: at completion the descriptor is gone. */
			if (!(sqe.flags & IOSQE_FIXED_FILE))
				close_path(in, s, sqe.fd);
			break;
		}
	} else {
		count(&errors, SOC_ERR_SQE_UNREAD);
	}
	key = (__u64)req;
	bpf_map_update_elem(&zoom_inflight, &key, in, BPF_ANY);
	return 0;
}

/*
 * A request's completion is posted (in the submitting thread's task work, an io-wq worker or the
 * SQPOLL thread — all of the target's thread group). `req` is null for auxiliary CQEs.
 */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(zoom_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	__u64 key = (__u64)req, pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task = bpf_get_current_task_btf();
	struct soc_zoom_iouring_event *ev;
	struct zoom_inflight *in;
	struct zoom_scratch *s;
	struct file *f = 0;
	__u32 zero = 0, plen = 0, dlen = 0, size, opcode;
	__u16 flags = SOC_ZOOM_URING_F_COMPLETED;
	bool truncated = false, more, ok;
	__s32 res;

	if (!req)
		return 0;
	in = bpf_map_lookup_elem(&zoom_inflight, &key);
	if (!in)
		return 0;
	res = cqe->res;
	more = cqe->flags & IORING_CQE_F_MORE;
	if (!zoom_admit(in->zoom.zoom_no, in->zoom.slot))
		goto out;
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s)
		goto out;
	ev = (void *)s->buf;
	opcode = in->opcode;
	if (task->flags & PF_IO_WORKER)
		flags |= SOC_ZOOM_URING_F_IO_WORKER;
	if (in->sqe_flags & IOSQE_FIXED_FILE)
		flags |= SOC_ZOOM_URING_F_FIXED_FILE;
	ev->key = in->key;
	ev->zoom = in->zoom;
	ev->user_data = in->user_data;
	ev->submit_ns = in->submit_ns;
	ev->complete_ns = bpf_ktime_get_boot_ns();
	ev->res = res;
	ev->sock_cookie = 0;
	ev->len = in->len;
	ev->fd = in->fd;
	ev->open_flags = in->open_flags;
	ev->ring_flags = in->ring_flags;
	ev->submit_tid = in->submit_tid;
	ev->opcode = opcode;
	ev->sqe_flags = in->sqe_flags;
	ev->family = in->family;
	ev->port = in->port;
	ev->local_port = 0;
	__builtin_memcpy(ev->addr, in->addr, 16);
	__builtin_memset(ev->local_addr, 0, 16);

	/* The file: the new descriptor of an open, else the request's own (set at issue). */
	if (opcode == IORING_OP_OPENAT || opcode == IORING_OP_OPENAT2) {
		if (res >= 0 && !(in->sqe_flags & IOSQE_FIXED_FILE))
			f = fd_file(task, res);
	} else {
		f = BPF_CORE_READ((struct io_kiocb *)req, file);
	}
	if (f && file_is_socket(f)) {
		struct sock *sk = file_sock(f);

		if (sk) {
			__u16 family = 0, rport = 0, lport = 0;

			sk_addresses(sk, &family, ev->addr, &rport, ev->local_addr, &lport);
			if (family) {
				ev->family = family;
				ev->port = rport;
				ev->local_port = lport;
				flags |= SOC_ZOOM_URING_F_SOCKET;
			}
			/* The cookie if one was made (connect or send hooks make it); not created here. */
			ev->sock_cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		}
	} else if (f) {
		plen = file_path(f, &s->buf[sizeof(*ev)], &truncated);
	}
	if (!plen && (in->flags & INFLIGHT_F_SQE_PATH)) {
		plen = in->path_len & (SOC_ZOOM_NAME_MAX - 1);
		bpf_probe_read_kernel(&s->buf[sizeof(*ev)], plen, in->path);
		flags |= SOC_ZOOM_URING_F_PATH_FROM_SQE;
	}
	if (truncated)
		flags |= SOC_ZOOM_URING_F_PATH_TRUNCATED;
	plen &= ZOOM_PATH_MASK;

	/* Payload prefix: taken at submission (sends, writes) or now (receives, reads). */
	if (in->data_len) {
		dlen = in->data_len & ZOOM_PREFIX_MASK;
		if (dlen > SOC_ZOOM_PREFIX_MAX)
			dlen = SOC_ZOOM_PREFIX_MAX;
		bpf_probe_read_kernel(&s->buf[(sizeof(*ev) + plen) & ZOOM_BUF_MASK], dlen, in->data);
	} else if ((in->flags & INFLIGHT_F_READ_AT_COMPLETION) && res > 0) {
		dlen = read_prefix(&s->buf[(sizeof(*ev) + plen) & ZOOM_BUF_MASK], in->buf, res,
				   in->prefix_len);
		if (dlen)
			flags |= SOC_ZOOM_URING_F_DATA_AT_COMPLETION;
	}
	dlen &= ZOOM_PREFIX_MASK;
	ev->path_len = plen;
	ev->data_len = dlen;
	size = (sizeof(*ev) + plen + dlen) & ZOOM_BUF_MASK;
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_IOURING, size, flags | current_own(), pid_tgid >> 32,
		 (__u32)pid_tgid);
	ok = bpf_ringbuf_output(&events, s->buf, size, submit_flags()) == 0;
	zoom_written(in->zoom.slot, SOC_ZOOM_FAM_IOURING, SOC_OP_ZOOM_IOURING, ok);
out:
	if (!more)
		bpf_map_delete_elem(&zoom_inflight, &key);
	return 0;
}

/* --- sockets ---------------------------------------------------------------------------------- */

/* Remembers that a target used sk (for its state changes). */
static __always_inline void mark_sock(void *sk, struct soc_zoom_target *t, __u32 tgid, __u32 via)
{
	struct zoom_sock *zs = bpf_sk_storage_get(&zoom_socks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!zs || (zs->t.zoom_no == t->zoom_no && zs->tgid == tgid))
		return;
	current_key(&zs->key);
	zs->t = *t;
	zs->tgid = tgid;
	zs->via = via;
}

/* Through io_uring: run by one of its threads, or issued inline by the thread that submitted it. */
static __always_inline __u8 connect_via(__u16 family, __u16 port, __u32 *addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct user_sockaddr *m;

	if (task->flags & PF_IO_WORKER)
		return SOC_VIA_IO_URING;
	m = bpf_map_lookup_elem(&zoom_net_markers, &tid);
	if (m && user_sockaddr_equal(m, family, port, addr)) {
		bpf_map_delete_elem(&zoom_net_markers, &tid);
		return SOC_VIA_IO_URING;
	}
	return SOC_VIA_SYSCALL;
}

static __always_inline void zoom_connect(struct bpf_sock_addr *ctx, __u16 family, __u32 *addr)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct soc_zoom_target *t = zoom_target_of(pid_tgid >> 32);
	struct soc_zoom_socket_event *ev;
	__u16 port;
	__u8 via;

	if (!t || !(t->probes & SOC_ZOOM_P_NETWORK))
		return;
	port = bpf_ntohs((__u16)ctx->user_port);
	via = connect_via(family, port, addr);
	if (!zoom_admit(t->zoom_no, t->slot))
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		zoom_written(t->slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, false);
		return;
	}
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_SOCKET, sizeof(*ev), current_own(), pid_tgid >> 32,
		 (__u32)pid_tgid);
	current_key(&ev->key);
	zoom_ref(&ev->zoom, t);
	ev->cookie = bpf_get_socket_cookie(ctx);
	ev->bytes = 0;
	ev->op = SOC_SOCK_CONNECT;
	ev->via = via;
	ev->protocol = ctx->protocol;
	ev->old_state = 0;
	ev->new_state = 0;
	ev->pad = 0;
	ev->family = family;
	ev->port = port;
	ev->local_port = 0;
	ev->data_len = 0;
	ev->pad2 = 0;
	__builtin_memcpy(ev->addr, addr, 16);
	__builtin_memset(ev->local_addr, 0, 16);
	bpf_ringbuf_submit(ev, submit_flags());
	zoom_written(t->slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, true);
	if (ctx->sk)
		mark_sock(ctx->sk, t, pid_tgid >> 32, via);
}

SEC("cgroup/connect4")
int zoom_connect4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4, 0, 0, 0 };

	zoom_connect(ctx, AF_INET, addr);
	return 1;
}

SEC("cgroup/connect6")
int zoom_connect6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	zoom_connect(ctx, AF_INET6, addr);
	return 1;
}

/*
 * Whether the current send/recv is a syscall's own: an io_uring thread never is; otherwise the
 * syscall the task is in must be one that moves socket data (io_uring issues inline from
 * io_uring_enter, or from task work, where the task's syscall is something else).
 */
static __always_inline __u8 data_via(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
#ifdef __TARGET_ARCH_x86
	struct pt_regs *regs;
	long nr;
#endif

	if (task->flags & PF_IO_WORKER)
		return SOC_VIA_IO_URING;
#ifdef __TARGET_ARCH_x86
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return SOC_VIA_SYSCALL;
	nr = BPF_CORE_READ(regs, orig_ax);
	switch (nr) {
	case NR_read:
	case NR_write:
	case NR_pread64:
	case NR_pwrite64:
	case NR_readv:
	case NR_writev:
	case NR_sendfile:
	case NR_sendto:
	case NR_recvfrom:
	case NR_sendmsg:
	case NR_recvmsg:
	case NR_splice:
	case NR_preadv:
	case NR_pwritev:
	case NR_recvmmsg:
	case NR_sendmmsg:
	case NR_preadv2:
	case NR_pwritev2:
		return SOC_VIA_SYSCALL;
	}
	return SOC_VIA_IO_URING;
#else
	return SOC_VIA_SYSCALL;
#endif
}

/*
 * Fires at each step of a TCP send's copy loop, before the bytes are copied: the first step of a
 * send (no prefix held for this thread and socket) reads the first bytes from the user buffer.
 * sock_send_length, at the end of the same send in the same thread, consumes it.
 */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(zoom_tcp_send, const struct sock *sk, const struct msghdr *msg, const struct sk_buff *skb,
	     int size_goal)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), now, base;
	struct soc_zoom_target *t = zoom_target_of(pid_tgid >> 32);
	struct zoom_send_prefix *held;
	struct zoom_scratch *s;
	__u32 tid = (__u32)pid_tgid, zero = 0;
	__u8 type;

	if (!t || !(t->probes & SOC_ZOOM_P_NETWORK) || !t->prefix_len)
		return 0;
	now = bpf_ktime_get_boot_ns();
	held = bpf_map_lookup_elem(&zoom_send_prefixes, &tid);
	if (held && held->sk == (__u64)sk && now - held->at_ns < 1000000000ull)
		return 0; /* a later step of the same send */
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s)
		return 0;
	type = BPF_CORE_READ(msg, msg_iter.iter_type);
	base = 0;
	if (type == ITER_UBUF) {
		base = (__u64)BPF_CORE_READ(msg, msg_iter.ubuf);
	} else if (type == ITER_IOVEC) {
		const struct iovec *iov = BPF_CORE_READ(msg, msg_iter.__iov);

		base = (__u64)BPF_CORE_READ(iov, iov_base);
	} else {
		return 0; /* kernel buffers (splice, sendfile): no user prefix */
	}
	base += BPF_CORE_READ(msg, msg_iter.iov_offset);
	s->sp.sk = (__u64)sk;
	s->sp.at_ns = now;
	s->sp.pad = 0;
	s->sp.len = read_prefix(s->sp.data, base, BPF_CORE_READ(msg, msg_iter.count), t->prefix_len);
	bpf_map_update_elem(&zoom_send_prefixes, &tid, &s->sp, BPF_ANY);
	return 0;
}

/* A send or receive of a target (any socket family), with its byte count. */
static __always_inline void zoom_data(struct sock *sk, int ret, __u8 op)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct soc_zoom_target *t;
	struct soc_zoom_socket_event *ev;
	struct zoom_send_prefix *held = 0;
	__u32 tid = (__u32)pid_tgid, n;
	__u8 via;

	if (ret <= 0)
		return;
	t = zoom_target_of(pid_tgid >> 32);
	if (!t || !(t->probes & SOC_ZOOM_P_NETWORK))
		return;
	if (op == SOC_SOCK_SEND) {
		held = bpf_map_lookup_elem(&zoom_send_prefixes, &tid);
		if (held && held->sk != (__u64)sk)
			held = 0;
	}
	via = data_via();
	if (!zoom_admit(t->zoom_no, t->slot))
		goto out;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		zoom_written(t->slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, false);
		goto out;
	}
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_SOCKET, sizeof(*ev), current_own(), pid_tgid >> 32, tid);
	current_key(&ev->key);
	zoom_ref(&ev->zoom, t);
	ev->cookie = bpf_get_socket_cookie(sk);
	ev->bytes = ret;
	ev->op = op;
	ev->via = via;
	ev->protocol = BPF_CORE_READ(sk, sk_protocol);
	ev->old_state = 0;
	ev->new_state = 0;
	ev->pad = 0;
	ev->pad2 = 0;
	ev->port = 0;
	ev->local_port = 0;
	__builtin_memset(ev->addr, 0, 16);
	__builtin_memset(ev->local_addr, 0, 16);
	sk_addresses(sk, &ev->family, ev->addr, &ev->port, ev->local_addr, &ev->local_port);
	n = 0;
	if (held) {
		n = held->len;
		if (n > SOC_ZOOM_PREFIX_MAX)
			n = SOC_ZOOM_PREFIX_MAX;
		if (n > (__u32)ret)
			n = ret;
		bpf_probe_read_kernel(ev->data, n & ZOOM_PREFIX_MASK, held->data);
	}
	ev->data_len = n;
	bpf_ringbuf_submit(ev, submit_flags());
	zoom_written(t->slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, true);
	mark_sock(sk, t, pid_tgid >> 32, via);
out:
	if (held)
		bpf_map_delete_elem(&zoom_send_prefixes, &tid);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(zoom_send_len, struct sock *sk, int ret, int flags)
{
	zoom_data(sk, ret, SOC_SOCK_SEND);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(zoom_recv_len, struct sock *sk, int ret, int flags)
{
	zoom_data(sk, ret, SOC_SOCK_RECV);
	return 0;
}

/* A TCP state change of a socket a target used (any context: softirq included). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(zoom_sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct soc_zoom_socket_event *ev;
	struct zoom_sock *zs;

	zs = bpf_sk_storage_get(&zoom_socks, (struct sock *)sk, 0, 0);
	if (!zs || !zoom_admit(zs->t.zoom_no, zs->t.slot))
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		zoom_written(zs->t.slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, false);
		return 0;
	}
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_SOCKET, sizeof(*ev), own_flag(zs->tgid, 0), zs->tgid, 0);
	ev->key = zs->key;
	zoom_ref(&ev->zoom, &zs->t);
	ev->cookie = bpf_get_socket_cookie((struct sock *)sk);
	ev->bytes = 0;
	ev->op = SOC_SOCK_STATE;
	ev->via = zs->via;
	ev->protocol = BPF_CORE_READ(sk, sk_protocol);
	ev->old_state = oldstate;
	ev->new_state = newstate;
	ev->pad = 0;
	ev->pad2 = 0;
	ev->port = 0;
	ev->local_port = 0;
	ev->data_len = 0;
	__builtin_memset(ev->addr, 0, 16);
	__builtin_memset(ev->local_addr, 0, 16);
	sk_addresses((struct sock *)sk, &ev->family, ev->addr, &ev->port, ev->local_addr,
		     &ev->local_port);
	bpf_ringbuf_submit(ev, submit_flags());
	zoom_written(zs->t.slot, SOC_ZOOM_FAM_SOCKET, SOC_OP_ZOOM_SOCKET, true);
	return 0;
}

/* --- file syscalls ---------------------------------------------------------------------------- */

/* A targeted thread enters a file syscall (probe set `need`): remember it until the exit. */
static __always_inline void sys_enter(__u32 op, __u32 need, int fd, __u64 arg, __u64 len, __u32 flags,
				      __u32 mflags, __u64 off)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct soc_zoom_target *t = zoom_target_of(pid_tgid >> 32);
	__u32 tid = (__u32)pid_tgid;
	struct zoom_sys p = {};

	if (!t || !(t->probes & need))
		return;
	if (op == ZOOM_SYS_READ || op == ZOOM_SYS_WRITE) {
		struct file *f = fd_file(bpf_get_current_task_btf(), fd);

		/* Sockets belong to the network probes; an unknown fd fails anyway. */
		if (!f || file_is_socket(f))
			return;
	}
	p.t = *t;
	p.arg = arg;
	p.len = len;
	p.off = off;
	p.fd = fd;
	p.flags = flags;
	p.mflags = mflags;
	p.op = op;
	bpf_map_update_elem(&zoom_sys_pending, &tid, &p, BPF_ANY);
}

/* Emits a file record for the syscall the current thread leaves (ret: its result). */
static __always_inline void sys_exit(__u32 op, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, zero = 0, plen = 0, size;
	struct soc_zoom_file_event *ev;
	struct zoom_scratch *s;
	struct zoom_sys *p;
	struct file *f;
	__u16 flags = 0;
	bool truncated = false, ok;
	int fd;

	p = bpf_map_lookup_elem(&zoom_sys_pending, &tid);
	if (!p)
		return;
	if (p->op != op) {
		bpf_map_delete_elem(&zoom_sys_pending, &tid);
		return;
	}
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s || !zoom_admit(p->t.zoom_no, p->t.slot))
		goto out;
	ev = (void *)s->buf;
	fd = op == ZOOM_SYS_OPEN ? (int)ret : p->fd;
	f = fd >= 0 ? fd_file(bpf_get_current_task_btf(), fd) : 0;
	if (f) {
		plen = file_path(f, &s->buf[sizeof(*ev)], &truncated);
	} else if (op == ZOOM_SYS_OPEN) {
		long n = bpf_probe_read_user_str(&s->buf[sizeof(*ev)], SOC_STR_MAX, (const void *)p->arg);

		plen = n > 1 ? n - 1 : 0;
		flags |= SOC_ZOOM_FILE_F_PATH_AS_GIVEN;
	}
	if (truncated)
		flags |= SOC_ZOOM_FILE_F_PATH_TRUNCATED;
	plen &= ZOOM_PATH_MASK;
	current_key(&ev->key);
	zoom_ref(&ev->zoom, &p->t);
	ev->res = ret;
	ev->bytes = (op == ZOOM_SYS_READ || op == ZOOM_SYS_WRITE) && ret > 0 ? ret : 0;
	ev->flags = p->flags;
	ev->fd = fd;
	ev->op = op == ZOOM_SYS_OPEN ? SOC_FILE_OPEN : op == ZOOM_SYS_READ ? SOC_FILE_READ : SOC_FILE_WRITE;
	ev->via = SOC_VIA_SYSCALL;
	ev->path_len = plen;
	ev->pad = 0;
	size = (sizeof(*ev) + plen) & ZOOM_BUF_MASK;
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_FILE, size, flags | current_own(), pid_tgid >> 32, tid);
	ok = bpf_ringbuf_output(&events, s->buf, size, submit_flags()) == 0;
	zoom_written(p->t.slot, SOC_ZOOM_FAM_FILE, SOC_OP_ZOOM_FILE, ok);
out:
	bpf_map_delete_elem(&zoom_sys_pending, &tid);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int zoom_openat_e(struct trace_event_raw_sys_enter *ctx)
{
	sys_enter(ZOOM_SYS_OPEN, SOC_ZOOM_P_FILES, -1, ctx->args[1], 0, ctx->args[2], 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int zoom_openat_x(struct trace_event_raw_sys_exit *ctx)
{
	sys_exit(ZOOM_SYS_OPEN, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int zoom_read_e(struct trace_event_raw_sys_enter *ctx)
{
	sys_enter(ZOOM_SYS_READ, SOC_ZOOM_P_FILES, ctx->args[0], 0, ctx->args[2], 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int zoom_read_x(struct trace_event_raw_sys_exit *ctx)
{
	sys_exit(ZOOM_SYS_READ, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int zoom_write_e(struct trace_event_raw_sys_enter *ctx)
{
	sys_enter(ZOOM_SYS_WRITE, SOC_ZOOM_P_FILES, ctx->args[0], 0, ctx->args[2], 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int zoom_write_x(struct trace_event_raw_sys_exit *ctx)
{
	sys_exit(ZOOM_SYS_WRITE, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pread64")
int zoom_pread_e(struct trace_event_raw_sys_enter *ctx)
{
	sys_enter(ZOOM_SYS_READ, SOC_ZOOM_P_FILES, ctx->args[0], 0, ctx->args[2], 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pread64")
int zoom_pread_x(struct trace_event_raw_sys_exit *ctx)
{
	sys_exit(ZOOM_SYS_READ, ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int zoom_pwrite_e(struct trace_event_raw_sys_enter *ctx)
{
	sys_enter(ZOOM_SYS_WRITE, SOC_ZOOM_P_FILES, ctx->args[0], 0, ctx->args[2], 0, 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int zoom_pwrite_x(struct trace_event_raw_sys_exit *ctx)
{
	sys_exit(ZOOM_SYS_WRITE, ctx->ret);
	return 0;
}

/* close(2): reported at entry, while the descriptor still names the file. */
SEC("tracepoint/syscalls/sys_enter_close")
int zoom_close_e(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct soc_zoom_target *t = zoom_target_of(pid_tgid >> 32);
	struct soc_zoom_file_event *ev;
	struct zoom_scratch *s;
	struct file *f;
	__u32 zero = 0, plen, size;
	bool truncated = false, ok;
	int fd = ctx->args[0];

	if (!t || !(t->probes & SOC_ZOOM_P_FILES))
		return 0;
	f = fd_file(bpf_get_current_task_btf(), fd);
	if (!f || file_is_socket(f))
		return 0;
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s || !zoom_admit(t->zoom_no, t->slot))
		return 0;
	ev = (void *)s->buf;
	plen = file_path(f, &s->buf[sizeof(*ev)], &truncated) & ZOOM_PATH_MASK;
	current_key(&ev->key);
	zoom_ref(&ev->zoom, t);
	ev->res = 0;
	ev->bytes = 0;
	ev->flags = 0;
	ev->fd = fd;
	ev->op = SOC_FILE_CLOSE;
	ev->via = SOC_VIA_SYSCALL;
	ev->path_len = plen;
	ev->pad = 0;
	size = (sizeof(*ev) + plen) & ZOOM_BUF_MASK;
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_FILE, size,
		 (truncated ? SOC_ZOOM_FILE_F_PATH_TRUNCATED : 0) | current_own(), pid_tgid >> 32,
		 (__u32)pid_tgid);
	ok = bpf_ringbuf_output(&events, s->buf, size, submit_flags()) == 0;
	zoom_written(t->slot, SOC_ZOOM_FAM_FILE, SOC_OP_ZOOM_FILE, ok);
	return 0;
}

/* --- code: executable mappings ------------------------------------------------------------------ */

/*
 * mmap(2) with PROT_EXEC by a target: how the dynamic loader maps a shared object's code (dlopen
 * of a native module included), how JITs get executable memory, and how a hand-rolled loader
 * maps anything. Chosen over uprobes on the loader (ld.so differs per distribution and mount
 * namespace, static binaries and custom loaders bypass it): this sees every route. User space
 * fingerprints the file (sensor/src/code).
 */
SEC("tracepoint/syscalls/sys_enter_mmap")
int zoom_mmap_e(struct trace_event_raw_sys_enter *ctx)
{
	__u32 prot = ctx->args[2];

	if (!(prot & PROT_EXEC))
		return 0;
	sys_enter(ZOOM_SYS_MMAP, SOC_ZOOM_P_CODE, ctx->args[4], ctx->args[0], ctx->args[1], prot,
		  ctx->args[3], ctx->args[5]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int zoom_mmap_x(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, zero = 0, plen = 0, size;
	struct soc_zoom_exec_map_event *ev;
	struct zoom_scratch *s;
	struct zoom_sys *p;
	struct file *f = 0;
	long ret = ctx->ret;
	bool truncated = false, ok;

	p = bpf_map_lookup_elem(&zoom_sys_pending, &tid);
	if (!p)
		return 0;
	if (p->op != ZOOM_SYS_MMAP || (ret < 0 && ret > -4096))
		goto out;
	s = bpf_map_lookup_elem(&zoom_scratch, &zero);
	if (!s || !zoom_admit(p->t.zoom_no, p->t.slot))
		goto out;
	ev = (void *)s->buf;
	ev->ino = 0;
	if (!(p->mflags & MAP_ANONYMOUS) && p->fd >= 0)
		f = fd_file(bpf_get_current_task_btf(), p->fd);
	if (f) {
		plen = file_path(f, &s->buf[sizeof(*ev)], &truncated) & ZOOM_PATH_MASK;
		ev->ino = BPF_CORE_READ(f, f_inode, i_ino);
	}
	current_key(&ev->key);
	zoom_ref(&ev->zoom, &p->t);
	ev->addr = ret;
	ev->len = p->len;
	ev->pgoff = p->off;
	ev->prot = p->flags;
	ev->mflags = p->mflags;
	ev->fd = p->fd;
	ev->path_len = plen;
	ev->pad = 0;
	size = (sizeof(*ev) + plen) & ZOOM_BUF_MASK;
	zoom_hdr(&ev->hdr, SOC_OP_ZOOM_EXEC_MAP, size,
		 (truncated ? SOC_ZOOM_MAP_F_PATH_TRUNCATED : 0) | current_own(), pid_tgid >> 32, tid);
	ok = bpf_ringbuf_output(&events, s->buf, size, submit_flags()) == 0;
	zoom_written(p->t.slot, SOC_ZOOM_FAM_CODE, SOC_OP_ZOOM_EXEC_MAP, ok);
out:
	bpf_map_delete_elem(&zoom_sys_pending, &tid);
	return 0;
}
