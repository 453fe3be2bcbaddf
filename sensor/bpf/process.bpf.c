// SPDX-License-Identifier: GPL-2.0-only
/*
 * Always-on process lifecycle: exec, fork, exit, plus an iter/task program that describes the
 * processes that already ran when the sensor started (seeding).
 *
 * Hooks are BTF-enabled tracepoints (tp_btf): they are stable kernel ABI points, give typed
 * access to their arguments (trusted pointers the verifier lets us hand to helpers such as
 * bpf_task_storage_get), and work where kprobes and trampolines (fentry/LSM) are unavailable.
 *
 * This program is an event generator, not a correlation engine: it keeps only what it needs to
 * give every event the exec key of the process image it belongs to (see struct soc_exec_key).
 */
#define SOC_DEFINE_SHARED /* this unit owns the shared maps (common.bpf.h) */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in BTF (preprocessor constant): include/linux/sched/signal.h. */
#define SIGNAL_GROUP_EXIT 0x00000004

/* tgid whose syscalls the opt-in benchmark program reports (0: none). */
const volatile __u32 bench_tgid = 0;

/*
 * Keeps every record type and the op enum in the object's BTF (types only used through casts
 * would not be), so the layout test can compare the decoder's offsets and op codes with what
 * the compiler laid out.
 */
struct soc_layout_anchor {
	struct soc_exec_event exec;
	struct soc_fork_event fork;
	struct soc_exit_event exit;
	struct soc_bench_event bench;
	enum soc_op op;
};
const volatile struct soc_layout_anchor layout_anchor = {};

/*
 * Scratch space for variable-length exec records, too large for the 512-byte BPF stack.
 * Slot SLOT_TRACE serves the tracepoint programs, SLOT_ITER the task iterator (common.bpf.h).
 */
/* Positions in data[] are masked to 14 bits and lengths to 12 for the verifier's bounds. */
#define DATA_POS_MASK 0x3fff
#define EXEC_DATA_SPACE (DATA_POS_MASK + 1 + STR_LEN_MASK + 1)

struct exec_scratch {
	struct soc_exec_event ev;
	char data[EXEC_DATA_SPACE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_scratch SEC(".maps");

/* Appends path_scratch[slot].buf[off..PATH_END) at data[pos]; returns the length appended. */
static __always_inline __u32 append_path(struct exec_scratch *s, __u32 pos, __u32 slot, __u32 off)
{
	struct path_scratch *ps = bpf_map_lookup_elem(&path_scratch, &slot);
	__u32 len;

	if (!ps || off >= PATH_END)
		return 0;
	len = PATH_END - off;
	bpf_probe_read_kernel(&s->data[pos & DATA_POS_MASK], len & STR_LEN_MASK,
			      &ps->buf[off & STR_LEN_MASK]);
	return len & STR_LEN_MASK;
}

/* --- exec record ----------------------------------------------------------------------- */

/* Everything but the key, the strings that depend on the hook, and the size. */
static __always_inline void fill_exec_common(struct exec_scratch *s, struct task_struct *task)
{
	struct soc_exec_event *ev = &s->ev;

	ev->hdr.op = SOC_OP_EXEC;
	ev->hdr.reserved = 0;
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = BPF_CORE_READ(task, tgid);
	ev->hdr.tid = BPF_CORE_READ(task, pid);
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = BPF_CORE_READ(task, cred, uid.val);
	ev->gid = BPF_CORE_READ(task, cred, gid.val);
	ev->euid = BPF_CORE_READ(task, cred, euid.val);
	ev->egid = BPF_CORE_READ(task, cred, egid.val);
	if (bpf_core_field_exists(task->loginuid)) /* CONFIG_AUDIT */
		ev->auid = BPF_CORE_READ(task, loginuid.val);
	else
		ev->auid = (__u32)-1;
	/* The default (v2) hierarchy's cgroup: its kernfs id is the directory's inode number. */
	ev->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), &task->comm);
	ev->binary_len = 0;
	ev->cwd_len = 0;
	ev->args_len = 0;
	ev->cgroup_name_len = 0;
}

/* Appends cwd and the cgroup leaf name around args; returns the final data length. */
static __always_inline __u32 append_cwd(struct exec_scratch *s, struct task_struct *task,
					__u32 pos, __u32 slot, __u16 *flags)
{
	bool truncated;
	__u32 off = resolve_path(task, BPF_CORE_READ(task, fs, pwd.mnt),
				 BPF_CORE_READ(task, fs, pwd.dentry), slot, &truncated);
	__u32 len = append_path(s, pos, slot, off);

	if (truncated)
		*flags |= SOC_EXEC_F_CWD_TRUNCATED;
	s->ev.cwd_len = len;
	return pos + len;
}

static __always_inline __u32 append_cgroup_name(struct exec_scratch *s, struct task_struct *task,
						__u32 pos, __u16 *flags)
{
	const char *name = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
	long n;

	if (!name)
		return pos;
	n = bpf_probe_read_kernel_str(&s->data[pos & DATA_POS_MASK], SOC_CGROUP_NAME_MAX + 1, name);
	if (n <= 1)
		return pos;
	n -= 1; /* the NUL is not part of the record */
	if (n >= SOC_CGROUP_NAME_MAX)
		*flags |= SOC_EXEC_F_CGROUP_NAME_TRUNCATED;
	s->ev.cgroup_name_len = n;
	return pos + n;
}

/*
 * The largest record (sizeof header part + SOC_EXEC_DATA_MAX, 12668 bytes) fits in 14 bits; the
 * mask is a no-op at run time and gives the verifier the bound bpf_ringbuf_output needs.
 */
#define RECORD_SIZE_MASK 0x3fff
_Static_assert(sizeof(struct soc_exec_event) + SOC_EXEC_DATA_MAX <= RECORD_SIZE_MASK,
	       "exec records must fit the size mask");
_Static_assert(RECORD_SIZE_MASK < sizeof(struct exec_scratch), "size mask within scratch");

static __always_inline __u32 record_size(__u32 data_len)
{
	return (sizeof(struct soc_exec_event) + data_len) & RECORD_SIZE_MASK;
}

/*
 * sched_process_exec fires after the new image is committed (begin_new_exec has run: de_thread
 * is done, comm and credentials are the new ones, self_exec_id is incremented) and before it
 * returns to user space, so argv is in place on the new stack and the task is single-threaded.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 slot = SLOT_TRACE;
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_scratch, &slot);
	struct proc_state *st;
	struct soc_exec_key old;
	__u16 flags = 0;
	__u32 pos = 0, off, len;
	unsigned long arg_start, arg_end;
	bool truncated;

	if (!s)
		return 0;

	/* Re-key: the image that ran before this exec becomes the parent. */
	st = bpf_task_storage_get(&proc_states, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st && st->valid) {
		old = st->key;
		/*
		 * The old image's last counts go to the old image. When this process is the one that
		 * exec'd the old image, that image ends here (its forked children, if any, continue
		 * with new counter entries).
		 */
		flush_counters(st, bpf_ktime_get_ns());
		if (old.tgid == task->tgid)
			end_image(&old, task->pid, own_flag(task->tgid, st));
	} else {
		/* Nothing stored: the process predates the sensor. Its key was computed from its
		 * fields, with the self_exec_id it had before this exec incremented it. */
		key_from_task(task, &old);
		old.self_exec_id -= 1;
		flags |= SOC_EXEC_F_PARENT_KEY_FALLBACK;
	}
	fill_exec_common(s, task);
	key_from_task(task, &s->ev.key);
	s->ev.parent_key = old;
	if (st) {
		st->key = s->ev.key;
		st->parent_key = old;
		st->valid = 1;
		/* A new image: nothing has been reported for it yet (the own mark stays). */
		__builtin_memset(st->syscalls_seen, 0, sizeof(st->syscalls_seen));
		__builtin_memset(st->iouring_ops_seen, 0, sizeof(st->iouring_ops_seen));
		st->uring_net.armed = 0;
		st->deferred.armed = 0;
		if (own_tgid(task->tgid))
			st->flags |= PROC_F_OWN;
	} else {
		count(&errors, SOC_ERR_STATE_ALLOC);
		flags |= SOC_EXEC_F_STATE_LOST;
	}

	/* The file actually executed (the interpreter for scripts, like /proc/PID/exe). */
	off = resolve_path(task, BPF_CORE_READ(bprm, file, f_path.mnt),
			   BPF_CORE_READ(bprm, file, f_path.dentry), slot, &truncated);
	len = append_path(s, pos, slot, off);
	if (len == 0) {
		long n = bpf_probe_read_kernel_str(&s->data[0], SOC_STR_MAX + 1,
						   BPF_CORE_READ(bprm, filename));

		len = n > 1 ? (n - 1) & STR_LEN_MASK : 0;
		flags |= SOC_EXEC_F_BINARY_FROM_FILENAME;
	} else if (truncated) {
		flags |= SOC_EXEC_F_BINARY_TRUNCATED;
	}
	s->ev.binary_len = len;
	pos += len;

	pos = append_cwd(s, task, pos, slot, &flags);

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	if (arg_end > arg_start) {
		len = arg_end - arg_start;
		if (len > SOC_STR_MAX) {
			len = SOC_STR_MAX;
			flags |= SOC_EXEC_F_ARGS_TRUNCATED;
		}
		if (bpf_probe_read_user(&s->data[pos & DATA_POS_MASK], len & STR_LEN_MASK,
					(const void *)arg_start) == 0) {
			s->ev.args_len = len;
			pos += len;
		} else {
			flags |= SOC_EXEC_F_ARGS_UNREADABLE;
		}
	}

	pos = append_cgroup_name(s, task, pos, &flags);

	s->ev.hdr.flags = flags | own_flag(s->ev.hdr.tgid, st);
	len = record_size(pos);
	s->ev.hdr.size = len;
	if (bpf_ringbuf_output(&events, s, len, submit_flags()))
		count(&drops, SOC_OP_EXEC);
	return 0;
}

/*
 * sched_process_fork fires in the parent once the child is fully set up and visible. Threads
 * (CLONE_THREAD) get a copy of the state but no event: they run the same image in the same
 * process. A new process inherits the parent's exec key: it runs the same image until it execs.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct proc_state *pst, *cst;
	struct soc_fork_event *ev;
	bool is_thread = child->pid != child->tgid;
	__u16 flags = 0;
	__u32 own;

	if (child->flags & PF_KTHREAD)
		return 0;

	pst = stored_state(parent);
	if (!pst)
		pst = stored_state(parent->group_leader);
	if (!pst && is_thread)
		return 0; /* nothing stored for this process: the thread adopts a state later */

	cst = bpf_task_storage_get(&proc_states, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	own = own_flag(parent->tgid, pst) ? PROC_F_OWN : 0;
	if (cst) {
		if (pst) {
			/* Map value to map value: the state is too large for the stack. */
			__builtin_memcpy(cst, pst, sizeof(*cst));
		} else {
			__builtin_memset(cst, 0, sizeof(*cst));
			key_from_task(parent, &cst->key);
			parent_key_of(parent, &cst->parent_key);
			cst->valid = 1;
			flags |= SOC_FORK_F_KEY_FALLBACK;
		}
		/* Counts and io_uring markers belong to the thread that made them. */
		__builtin_memset(&cst->pending, 0, sizeof(cst->pending));
		cst->pending_events = 0;
		cst->last_flush_ns = 0;
		cst->uring_net.armed = 0;
		cst->deferred.armed = 0;
		cst->flags |= own;
	} else {
		count(&errors, SOC_ERR_STATE_ALLOC);
	}
	if (is_thread)
		return 0;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FORK);
		return 0;
	}
	ev->hdr.op = SOC_OP_FORK;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.flags = flags | (own ? SOC_F_OWN_TGID : 0);
	ev->hdr.reserved = 0;
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = parent->tgid;
	ev->hdr.tid = parent->pid;
	if (pst)
		ev->key = pst->key;
	else
		key_from_task(parent, &ev->key);
	ev->child_start_boottime_ns = child->start_boottime;
	ev->child_tgid = child->tgid;
	ev->pad = 0;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}

/*
 * sched_process_exit fires in do_exit for every thread, after exit_code is set and before the
 * mm and files are released. group_dead (in the prototype on recent kernels) is true for the
 * last thread of the group only: that is the process exit. The wait(2) status is what the
 * parent will see: the group exit code when the group was killed or called exit_group with
 * other threads alive, else the leader's own exit_code.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task, bool group_dead)
{
	struct soc_exit_event *ev;
	struct proc_state *st;
	struct soc_exec_key key;
	__u32 status;
	__u16 own;
	bool fallback;

	if (task->flags & PF_KTHREAD)
		return 0;
	/* Every thread, io_uring's included, hands in its last counts. */
	st = stored_state(task);
	if (st && st->pending_events)
		flush_counters(st, bpf_ktime_get_ns());
	if (!group_dead)
		return 0;

	fallback = key_of(task, &key);
	own = own_flag(task->tgid, st);
	/* The process that exec'd the image exits: the image ends (a forked child's does not). */
	if (key.tgid == task->tgid)
		end_image(&key, task->pid, own);
	/* A marked tgid is gone: a later process reusing the pid must not inherit the mark. */
	if (own) {
		__u32 tgid = task->tgid;

		bpf_map_delete_elem(&own_tgids, &tgid);
	}
	if (BPF_CORE_READ(task, signal, flags) & SIGNAL_GROUP_EXIT)
		status = BPF_CORE_READ(task, signal, group_exit_code);
	else
		status = BPF_CORE_READ(task, group_leader, exit_code);

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_EXIT);
		return 0;
	}
	ev->hdr.op = SOC_OP_EXIT;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.flags = (fallback ? SOC_EXIT_F_KEY_FALLBACK : 0) | own;
	ev->hdr.reserved = 0;
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = task->tgid;
	ev->hdr.tid = task->pid;
	ev->key = key;
	ev->status = status;
	ev->pad = 0;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}

/*
 * Seeding: one exec record (SOC_EXEC_F_SEEDED) per thread-group leader alive when user space
 * runs the iterator, written to the iterator's seq_file rather than the ring buffer: a read()
 * by user space drives it, so it cannot be dropped and never competes with live events.
 * argv of another process is not readable here (non-sleepable); user space reads
 * /proc/PID/cmdline. The binary is mm->exe_file (what /proc/PID/exe shows).
 */
SEC("iter/task")
int seed_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u32 slot = SLOT_ITER;
	struct exec_scratch *s;
	struct proc_state *st;
	__u16 flags = SOC_EXEC_F_SEEDED | SOC_EXEC_F_ARGS_UNREADABLE;
	__u32 pos = 0, off, len;
	bool truncated;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	s = bpf_map_lookup_elem(&exec_scratch, &slot);
	if (!s)
		return 0;

	fill_exec_common(s, task);
	st = stored_state(task);
	if (st) { /* forked or exec'd since attach: the live stream already knows it */
		s->ev.key = st->key;
		s->ev.parent_key = st->parent_key;
	} else {
		key_from_task(task, &s->ev.key);
		flags |= SOC_EXEC_F_KEY_FALLBACK;
		if (parent_key_of(task, &s->ev.parent_key))
			flags |= SOC_EXEC_F_PARENT_KEY_FALLBACK;
	}

	off = resolve_path(task, BPF_CORE_READ(task, mm, exe_file, f_path.mnt),
			   BPF_CORE_READ(task, mm, exe_file, f_path.dentry), slot, &truncated);
	len = append_path(s, pos, slot, off);
	if (truncated)
		flags |= SOC_EXEC_F_BINARY_TRUNCATED;
	s->ev.binary_len = len;
	pos += len;

	pos = append_cwd(s, task, pos, slot, &flags);
	pos = append_cgroup_name(s, task, pos, &flags);

	s->ev.hdr.flags = flags | own_flag(s->ev.hdr.tgid, st);
	len = record_size(pos);
	s->ev.hdr.size = len;
	bpf_seq_write(seq, s, len);
	return 0;
}

/*
 * Benchmark only (the '?' keeps it from loading unless user space enables it): one record per
 * syscall of bench_tgid, to measure the ring buffer -> JavaScript path at rates process
 * lifecycle events never reach. The records are real kernel events of that process.
 */
SEC("?tp_btf/sys_enter")
int BPF_PROG(bench_sys_enter, struct pt_regs *regs, long id)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct soc_bench_event *ev;

	if (tgid != bench_tgid)
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_BENCH);
		return 0;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.op = SOC_OP_BENCH;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = tgid;
	ev->hdr.tid = (__u32)bpf_get_current_pid_tgid();
	ev->syscall_nr = id;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}
