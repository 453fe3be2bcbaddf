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
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in BTF (preprocessor constants): include/linux/sched.h, include/linux/sched/signal.h. */
#define PF_KTHREAD 0x00200000
#define SIGNAL_GROUP_EXIT 0x00000004

/*
 * Set by user space before load (rodata). Waking the consumer per record costs more than the
 * record itself (measured: ~0.5 M/s with per-event wake-ups against ~1.4 M/s when waking only
 * with >= 256 KiB pending), so records are submitted with BPF_RB_NO_WAKEUP and only a backlog of
 * wakeup_bytes forces a wake-up. The consumer also polls with a short timeout and consumes after
 * each timeout, which bounds latency when little is pending.
 */
const volatile __u64 wakeup_bytes = 256 * 1024;
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

/* Size is set by user space before load (bpf_map__set_max_entries); this is the default. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

/* Records lost because the ring buffer was full, per op, per CPU (summed by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOC_OP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Other kernel-side failures that degrade (but do not drop) events. */
enum soc_error {
	SOC_ERR_STATE_ALLOC = 0, /* task storage could not be created: keys fall back later */
	SOC_ERR_MAX = 8,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOC_ERR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} errors SEC(".maps");

/*
 * Per-process identity, kept in task storage rather than in a hash keyed by tgid because:
 *  - its lifetime is the task's: the kernel frees it with the task, so nothing leaks when an
 *    exit is missed and no stale entry survives pid reuse; there is no capacity to size;
 *  - a lookup is a pointer walk from the task, no hashing.
 * Every thread carries a copy of its process's state (copied when a thread is created). The
 * state only changes at exec, when a process has exactly one thread left (de_thread), and at
 * fork, when the child has one thread, so the copies never diverge. The copy matters when a
 * non-leader thread execs (Go programs such as runc do): de_thread makes that thread the new
 * leader and the old leader's storage goes away with it.
 */
struct proc_state {
	struct soc_exec_key key;
	struct soc_exec_key parent_key;
	__u32 valid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct proc_state);
} proc_states SEC(".maps");

/* tgids of the sensor itself (set by user space): their records carry SOC_F_OWN_TGID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u8);
} own_tgids SEC(".maps");

/*
 * Scratch space for variable-length exec records, too large for the 512-byte BPF stack.
 * Slot 0 serves the tracepoint programs (they run with preemption disabled and do not nest),
 * slot 1 the task iterator (which runs preemptibly and could otherwise be interleaved with a
 * tracepoint program on the same CPU).
 */
#define SLOT_TRACE 0
#define SLOT_ITER 1

/* Positions in data[] are masked to 14 bits and lengths to 12 for the verifier's bounds. */
#define DATA_POS_MASK 0x3fff
#define STR_LEN_MASK 0xfff
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

struct {
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

static __always_inline __u16 own_flag(__u32 tgid)
{
	return bpf_map_lookup_elem(&own_tgids, &tgid) ? SOC_F_OWN_TGID : 0;
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

	s->ev.hdr.flags = flags | own_flag(s->ev.hdr.tgid);
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
	struct proc_state inherited = {};
	bool is_thread = child->pid != child->tgid;
	__u16 flags = 0;

	if (child->flags & PF_KTHREAD)
		return 0;

	pst = stored_state(parent);
	if (!pst)
		pst = stored_state(parent->group_leader);
	if (pst) {
		inherited = *pst;
	} else if (is_thread) {
		/* Nothing stored for this process: the thread computes the same fallback later. */
		return 0;
	} else {
		key_from_task(parent, &inherited.key);
		parent_key_of(parent, &inherited.parent_key);
		inherited.valid = 1;
		flags |= SOC_FORK_F_KEY_FALLBACK;
	}

	cst = bpf_task_storage_get(&proc_states, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (cst)
		*cst = inherited;
	else
		count(&errors, SOC_ERR_STATE_ALLOC);
	if (is_thread)
		return 0;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FORK);
		return 0;
	}
	ev->hdr.op = SOC_OP_FORK;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.flags = flags | own_flag(parent->tgid);
	ev->hdr.reserved = 0;
	ev->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	ev->hdr.tgid = parent->tgid;
	ev->hdr.tid = parent->pid;
	ev->key = inherited.key;
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
	struct soc_exec_key key;
	__u32 status;
	bool fallback;

	if (!group_dead || (task->flags & PF_KTHREAD))
		return 0;

	fallback = key_of(task, &key);
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
	ev->hdr.flags = (fallback ? SOC_EXIT_F_KEY_FALLBACK : 0) | own_flag(task->tgid);
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

	s->ev.hdr.flags = flags | own_flag(s->ev.hdr.tgid);
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
