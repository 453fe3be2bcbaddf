// SPDX-License-Identifier: GPL-2.0-only
/*
 * Always-on first-seen facts, per process image (exec key):
 *  - each syscall, the first time the image calls it (a bitmap per image, cleared at exec);
 *  - each io_uring opcode it submits, and each ring it creates (with its setup flags);
 *  - each remote endpoint it connects or sends to, or that connects to it (inbound);
 *  - each open of a path that passes the sensitive-path prefilter (user space decides the class);
 *  - activity counters (syscalls, io_uring submissions, connects, opens, ...).
 * Only first occurrences become records; repeats cost a bit test in task storage (syscalls,
 * opcodes) or one LRU lookup (endpoints, files). Everything is switchable at run time through
 * the facts_config map, without reloading.
 *
 * Hooks, and why:
 *  - tp_btf/sys_enter: the only hook that sees every syscall without kprobes or trampolines (not
 *    available here). Any syscall tracepoint puts every task on the syscall slow path, so there
 *    is one program for the bitmap, the counters and the open(2) family, not one per concern.
 *  - tp_btf/io_uring_submit_req: every submission, in the submitting thread or the SQPOLL thread
 *    (iou-sqp-*), both in the submitter's thread group: attribution is by task, never by comm.
 *    Paths and socket addresses are read from the SQE's user pointers (the SQE layout is UAPI;
 *    the kernel's own copies — struct io_open, io_async_msghdr — change between versions).
 *  - tp_btf/io_uring_create: ring creation with its flags (SQPOLL) and sizes.
 *  - cgroup/connect4|6, cgroup/sendmsg4|6 on the cgroup v2 root: run in the connecting task for
 *    connect(2), sendto(2) with an address and for io_uring CONNECT/SEND(MSG), inline in the
 *    submitter or in io_uring's worker threads, before the kernel acts: the user's address,
 *    whatever the socket's fate. They never deny (always return 1).
 *  - inbound TCP connections: listen and accept calls (in the sys_enter and io_uring
 *    submission programs) note which image takes connections on which port; sockops
 *    (PASSIVE_ESTABLISHED) reports each connection for its port's acceptor, an accept call the
 *    one waiting at the head of the queue. No hook per read or per syscall exit (see below).
 */
#include "common.bpf.h"

/* Not in BTF (preprocessor constants, UAPI). */
#define AT_FDCWD -100
#define O_ACCMODE 00000003
#define O_WRONLY 00000001
#define O_CREAT 00000100
#define O_TRUNC 00001000
#define TS_COMPAT 0x0002 /* x86 thread_info.status: in a 32-bit syscall */

/* x86_64 syscall numbers of the open(2) family (the i386 table is not followed for opens). */
#define NR_open 2
#define NR_creat 85
#define NR_openat 257
#define NR_openat2 437
#define NR_accept 43
#define NR_listen 50
#define NR_accept4 288

/* Random per-load seed of the path hash (set by user space), so collisions cannot be crafted. */
const volatile __u64 path_hash_seed = 0;

/* Keeps the fact records in the object's BTF for the layout test (see process.bpf.c). */
struct soc_facts_layout_anchor {
	struct soc_syscall_fact syscall;
	struct soc_iouring_op_fact iouring_op;
	struct soc_iouring_setup_fact iouring_setup;
	struct soc_endpoint_fact endpoint;
	struct soc_file_fact file;
	struct soc_counters_event counters;
	struct soc_exec_counters exec_counters;
	struct soc_facts_config config;
	struct soc_path_probe_key probe_key;
	struct soc_path_probe probe;
	enum soc_via via;
	enum soc_direction direction;
	enum soc_abi abi;
	enum io_uring_op uring_opcode; /* this kernel's opcodes, for the name table's test */
};
const volatile struct soc_facts_layout_anchor facts_layout_anchor = {};

/* Written by user space at any time; all zero (everything off) until it does. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct soc_facts_config);
} facts_config SEC(".maps");

/*
 * First-seen facts other than syscalls, per image: io_uring opcodes, ring setups, endpoints,
 * files. The key holds the whole fact (an endpoint's address and port, a path's seeded 64-bit
 * hash), so two facts never share an entry. LRU with 32768 entries (~3.5 MiB): an eviction can
 * only make a fact appear again (user space dedups again), never hide one.
 */
struct fact_key {
	struct soc_exec_key exec;
	__u32 kind; /* SOC_OP_FACT_* */
	__u32 extra; /* kind-specific: endpoint port/protocol/via/direction, file via/access mode */
	__u64 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct fact_key);
	__type(value, __u8);
} fact_seen SEC(".maps");

/*
 * Sensitive-path prefilter, loaded by user space from the path classes: anchored prefixes,
 * suffixes (stored reversed, matched against the reversed path tail) and segments (matched at
 * every position whose two bytes are in path_filter's bigrams). A path that matches a class
 * glob always contains that glob's probe, so the prefilter can let too much through, never
 * too little.
 */
#define PATH_TRIE_ENTRIES 256

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PATH_TRIE_ENTRIES);
	__type(key, struct soc_path_probe_key);
	__type(value, struct soc_path_probe);
} path_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PATH_TRIE_ENTRIES);
	__type(key, struct soc_path_probe_key);
	__type(value, struct soc_path_probe);
} path_suffixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PATH_TRIE_ENTRIES);
	__type(key, struct soc_path_probe_key);
	__type(value, struct soc_path_probe);
} path_segments SEC(".maps");

/*
 * The bounds of the tries and the segment starts (struct soc_path_filter): one value, looked up
 * once per open, so the scan over the path reads it directly. The scan tests a position's first
 * byte in 32 bytes before its bigram in 8 KiB: in a service the table is out of the L1 cache
 * between opens, and an ordinary path touches one line of it instead of one per byte.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct soc_path_filter);
} path_filter SEC(".maps");

/*
 * The candidate record and its path are assembled here (SLOT_TRACE users only: sys_enter and
 * io_uring_submit_req run with preemption disabled and do not nest). path holds up to two
 * strings of SOC_STR_MAX (a resolved directory and a relative path) plus slack for 256-byte
 * probe reads at any masked offset.
 */
#define FILE_POS_MASK 0xfff
#define FILE_PATH_SPACE (2 * (FILE_POS_MASK + 1) + SOC_PATH_PROBE_MAX)

struct file_scratch {
	struct soc_file_fact ev;
	char path[FILE_PATH_SPACE]; /* directly after ev: the record is ev + path[0..len) */
	char rel[FILE_POS_MASK + 1];
	struct soc_path_probe_key key;
	__u64 hash;
	__u32 len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_scratch);
} file_scratch SEC(".maps");

/* --- state and config -------------------------------------------------------------------- */

static __always_inline struct soc_facts_config *facts_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&facts_config, &zero);
}

/*
 * A thread without state: one that existed before the sensor started, or an io_uring thread
 * (create_io_thread does not fire sched_process_fork). It adopts its thread-group leader's
 * state (same image), else computes the key from its fields, as seeding does.
 */
static __always_inline struct proc_state *adopt_state(struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	struct proc_state *lst = 0, *st;

	if (leader != task)
		lst = stored_state(leader);
	st = bpf_task_storage_get(&proc_states, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count(&errors, SOC_ERR_STATE_ALLOC);
		return 0;
	}
	if (st->valid)
		return st;
	if (lst) {
		__builtin_memcpy(st, lst, sizeof(*st));
	} else {
		__builtin_memset(st, 0, sizeof(*st));
		key_from_task(task, &st->key);
		parent_key_of(task, &st->parent_key);
		if (own_tgid(task->tgid))
			st->flags |= PROC_F_OWN;
		st->valid = 1;
	}
	__builtin_memset(&st->pending, 0, sizeof(st->pending));
	st->pending_events = 0;
	st->last_flush_ns = 0;
	st->uring_net.armed = 0;
	st->deferred.armed = 0;
	return st;
}

static __always_inline struct proc_state *thread_state(struct task_struct *task)
{
	struct proc_state *st = bpf_task_storage_get(&proc_states, task, 0, 0);

	if (st && st->valid)
		return st;
	return adopt_state(task);
}

/* Counts are added to the image's in batches: by count, or by age (checked every 32 events). */
static __always_inline void tick(struct proc_state *st, struct soc_facts_config *cfg)
{
	__u32 n = ++st->pending_events;
	__u64 now;

	if (n >= cfg->counter_batch) {
		flush_counters(st, bpf_ktime_get_ns());
		return;
	}
	if (n & 31)
		return;
	now = bpf_ktime_get_ns();
	if (now - st->last_flush_ns >= cfg->counter_flush_ns)
		flush_counters(st, now);
}

/* True the first time the image shows this fact (an atomic insert decides between threads). */
static __always_inline bool first_seen(struct fact_key *k)
{
	__u8 one = 1;

	/* Look up first: an LRU update allocates (and may evict) even when the key exists. */
	if (bpf_map_lookup_elem(&fact_seen, k))
		return false;
	return bpf_map_update_elem(&fact_seen, k, &one, BPF_NOEXIST) == 0;
}

static __always_inline void fill_header(struct soc_event_header *h, __u16 op, __u16 size,
					__u16 flags)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	h->op = op;
	h->size = size;
	h->flags = flags;
	h->reserved = 0;
	h->ktime_ns = bpf_ktime_get_boot_ns();
	h->tgid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
}

/* Listen and accept calls (defined with the inbound programs below). */
static __noinline int syscall_accept(struct soc_facts_config *cfg, struct task_struct *task,
				     struct proc_state *st, int fd, bool listen);
static __noinline int iouring_accept(struct soc_facts_config *cfg, struct io_kiocb *req,
				     struct task_struct *task, struct proc_state *st, bool listen);

/* --- syscalls ---------------------------------------------------------------------------- */

static __always_inline bool is_compat(struct task_struct *task)
{
#ifdef __TARGET_ARCH_x86
	if (bpf_core_field_exists(task->thread_info.status))
		return task->thread_info.status & TS_COMPAT;
#endif
	return false;
}

/* Slow path: this thread has not seen the syscall for this image; maybe no thread has. */
static __noinline int syscall_first(struct proc_state *st, __u32 nr, __u32 abi, __u32 w,
				    __u64 bit)
{
	struct exec_syscalls_value *shared;
	struct soc_syscall_fact *ev;
	__u64 old;

	w &= SOC_SYSCALL_WORDS - 1;
	st->syscalls_seen[w] |= bit;
	shared = bpf_map_lookup_elem(&exec_syscalls, &st->key);
	if (!shared) {
		struct exec_syscalls_value zero = {};

		bpf_map_update_elem(&exec_syscalls, &st->key, &zero, BPF_NOEXIST);
		shared = bpf_map_lookup_elem(&exec_syscalls, &st->key);
	}
	if (shared) {
		old = __sync_fetch_and_or(&shared->bits[w], bit);
		if (old & bit)
			return 0; /* another thread of the image reported it */
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		/* Forget it was seen, so the next call retries: a drop must not hide a fact. */
		count(&drops, SOC_OP_FACT_SYSCALL);
		st->syscalls_seen[w] &= ~bit;
		if (shared)
			__sync_fetch_and_and(&shared->bits[w], ~bit);
		return 0;
	}
	fill_header(&ev->hdr, SOC_OP_FACT_SYSCALL, sizeof(*ev),
		    (abi == SOC_ABI_I386 ? SOC_SYSCALL_F_IA32 : 0) | own_now(st));
	ev->key = st->key;
	ev->nr = nr;
	ev->abi = abi;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}

static __always_inline void syscall_seen(struct task_struct *task, struct proc_state *st, long id)
{
	__u32 idx, abi = SOC_ABI_X86_64;
	__u64 bit;

	/* x32 calls (bit 30 set) and invalid numbers are outside the tables: not reported. */
	if (id < 0 || id >= SOC_SYSCALL_NR_MAX)
		return;
	idx = (__u32)id;
	if (is_compat(task)) {
		idx += SOC_SYSCALL_NR_MAX;
		abi = SOC_ABI_I386;
	}
	bit = 1ull << (idx & 63);
	if (st->syscalls_seen[(idx >> 6) & (SOC_SYSCALL_WORDS - 1)] & bit)
		return; /* the hot path: one bit test in task storage */
	syscall_first(st, (__u32)id, abi, idx >> 6, bit);
}

/* --- sensitive files --------------------------------------------------------------------- */

/*
 * A relative path: prepend the directory it is relative to (the cwd or dirfd), resolved with
 * the same walk as exec paths, so that classes match on what the process actually names.
 * Returns the new length; on failure the path stays as given (SOC_FILE_F_DIR_UNRESOLVED).
 */
static __always_inline __u32 absolute_path(struct task_struct *task, struct file_scratch *s,
					   __u32 len, int dirfd, __u32 *fflags)
{
	__u32 slot = SLOT_TRACE, off, dlen, pos, rlen, start, i;
	struct path_scratch *ps;
	struct vfsmount *mnt;
	struct dentry *dentry;
	bool truncated;

	if (dirfd == AT_FDCWD) {
		mnt = BPF_CORE_READ(task, fs, pwd.mnt);
		dentry = BPF_CORE_READ(task, fs, pwd.dentry);
	} else {
		struct file *f = fd_file(task, dirfd);

		if (!f) {
			*fflags |= SOC_FILE_F_DIR_UNRESOLVED;
			return len;
		}
		mnt = BPF_CORE_READ(f, f_path.mnt);
		dentry = BPF_CORE_READ(f, f_path.dentry);
	}
	off = resolve_path(task, mnt, dentry, slot, &truncated);
	ps = bpf_map_lookup_elem(&path_scratch, &slot);
	if (off >= PATH_END || !ps) {
		*fflags |= SOC_FILE_F_DIR_UNRESOLVED;
		return len;
	}
	dlen = PATH_END - off;
	/* "./x" and "././x" name x: drop the leading "./" so suffixes still match. */
	start = 0;
	for (i = 0; i < 8; i++) {
		if (start + 2 < len && s->path[start & FILE_POS_MASK] == '.' &&
		    s->path[(start + 1) & FILE_POS_MASK] == '/')
			start += 2;
		else
			break;
	}
	len -= start;
	bpf_probe_read_kernel(s->rel, len & FILE_POS_MASK, &s->path[start & FILE_POS_MASK]);
	bpf_probe_read_kernel(s->path, dlen & FILE_POS_MASK, &ps->buf[off & FILE_POS_MASK]);
	pos = dlen & FILE_POS_MASK;
	if (pos != 1) /* not the root "/" */
		s->path[pos++ & FILE_POS_MASK] = '/';
	rlen = len;
	if (pos + rlen > SOC_STR_MAX) {
		rlen = pos < SOC_STR_MAX ? SOC_STR_MAX - pos : 0;
		*fflags |= SOC_FILE_F_PATH_TRUNCATED;
	}
	bpf_probe_read_kernel(&s->path[pos & FILE_POS_MASK], rlen & FILE_POS_MASK, s->rel);
	*fflags |= SOC_FILE_F_RELATIVE;
	return pos + (rlen & FILE_POS_MASK);
}

#define MATCH_NONE 0
#define MATCH_CANDIDATE 1
#define MATCH_COMPLETE 2

static __always_inline int probe_result(struct soc_path_probe *p)
{
	return (p->flags & SOC_PROBE_F_COMPLETE) ? MATCH_COMPLETE : MATCH_CANDIDATE;
}

/* Is there a segment probe at s->path[i..len)? (Only called where the bigram matches.) */
static __always_inline int segment_at(struct file_scratch *s, __u32 i, __u32 len)
{
	struct soc_path_probe *p;
	__u32 m = len - i;

	s->key.prefixlen = (m < SOC_PATH_PROBE_MAX ? m : SOC_PATH_PROBE_MAX) * 8;
	bpf_probe_read_kernel(s->key.data, SOC_PATH_PROBE_MAX, &s->path[i & FILE_POS_MASK]);
	p = bpf_map_lookup_elem(&path_segments, &s->key);
	return p ? probe_result(p) : MATCH_NONE;
}

/* Does a segment probe start at s->path[i]? First byte, then the two bytes. */
static __always_inline bool bigram_at(struct soc_path_filter *f, struct file_scratch *s, __u32 i)
{
	__u32 b0 = (__u8)s->path[i & FILE_POS_MASK], bg;

	if (!(f->first_bytes[(b0 >> 6) & 3] & (1ull << (b0 & 63))))
		return false;
	bg = (b0 << 8) | (__u8)s->path[(i + 1) & FILE_POS_MASK];
	return f->bigrams[(bg >> 6) & (SOC_PATH_BIGRAM_WORDS - 1)] & (1ull << (bg & 63));
}

/*
 * The segment scan looks for the first bigram hit in a plain loop over the first SEGMENT_INLINE
 * bytes (no calls: about a nanosecond a byte). Most paths have no hit and stop there. From a hit
 * (or a long path's byte SEGMENT_INLINE) on, a bpf_loop callback (a few ns a byte) checks the
 * probes.
 */
#define SEGMENT_INLINE 256

struct segment_scan {
	__u32 len;
	__u32 start;
	int result;
};

static long segment_step(__u32 i, void *arg)
{
	struct segment_scan *scan = arg;
	struct soc_path_filter *f;
	struct file_scratch *s;
	__u32 zero = 0;

	i += scan->start;
	if (i + 1 >= scan->len)
		return 1;
	s = bpf_map_lookup_elem(&file_scratch, &zero);
	f = bpf_map_lookup_elem(&path_filter, &zero);
	if (!s || !f)
		return 1;
	if (!bigram_at(f, s, i))
		return 0;
	scan->result = segment_at(s, i, scan->len);
	return scan->result != MATCH_NONE;
}

/*
 * The two per-byte loops of the prefilter, as global functions: the verifier checks each once,
 * on its own; inlined, every way out of one loop would be another walk of the next.
 */

/* The path's last n bytes, reversed, into s->key.data (for the suffix trie). */
__noinline int path_reverse_tail(__u32 len, __u32 n)
{
	struct file_scratch *s;
	__u32 zero = 0, i;

	s = bpf_map_lookup_elem(&file_scratch, &zero);
	if (!s)
		return 0;
	for (i = 0; i < SOC_PATH_PROBE_MAX; i++) {
		if (i >= n)
			break;
		s->key.data[i] = s->path[(len - 1 - i) & FILE_POS_MASK];
	}
	return 0;
}

/* The first position below SEGMENT_INLINE - 1 whose two bytes start a segment probe (else that). */
__noinline int path_first_bigram(__u32 len)
{
	struct soc_path_filter *f;
	struct file_scratch *s;
	__u32 zero = 0, i;

	s = bpf_map_lookup_elem(&file_scratch, &zero);
	f = bpf_map_lookup_elem(&path_filter, &zero);
	if (!s || !f)
		return SEGMENT_INLINE - 1;
	for (i = 0; i < SEGMENT_INLINE - 1; i++) {
		if (i + 1 >= len || bigram_at(f, s, i))
			break;
	}
	return i;
}

/* Does s->path[0..len) pass the prefilter? MATCH_COMPLETE: a probe that decides a class. */
static __always_inline int match_path(struct file_scratch *s, __u32 len)
{
	struct soc_path_probe_key *k = &s->key;
	struct segment_scan scan = { .result = MATCH_NONE };
	struct soc_path_filter *f;
	struct soc_path_probe *p;
	__u32 zero = 0, n, i;

	f = bpf_map_lookup_elem(&path_filter, &zero);
	if (!f)
		return MATCH_NONE;
	/*
	 * Through the map value, len is an unknown scalar to the verifier: otherwise every length
	 * it can prove on some path (relative paths, "./" stripping) is one more walk of the loops.
	 */
	s->len = len;
	len = *(volatile __u32 *)&s->len;

	/*
	 * Anchored prefixes: the longest matching entry. The key needs no more of the path than
	 * the longest probe: an LPM lookup only compares up to the entries' lengths.
	 */
	n = len < f->prefix_max ? len : f->prefix_max;
	if (n > 0) {
		if (n > SOC_PATH_PROBE_MAX)
			n = SOC_PATH_PROBE_MAX;
		k->prefixlen = n * 8;
		bpf_probe_read_kernel(k->data, n, s->path);
		p = bpf_map_lookup_elem(&path_prefixes, k);
		if (p) {
			if (!(p->flags & SOC_PROBE_F_EXACT) || p->len == len)
				return probe_result(p);
			if (p->flags & SOC_PROBE_F_SHORTER)
				return MATCH_CANDIDATE; /* a shorter prefix may match: user space decides */
		}
	}

	/* Suffixes: the path's tail (as much as the longest probe), reversed. */
	n = len < f->suffix_max ? len : f->suffix_max;
	if (n > 0) {
		if (n > SOC_PATH_PROBE_MAX)
			n = SOC_PATH_PROBE_MAX;
		k->prefixlen = n * 8;
		path_reverse_tail(len, n);
		p = bpf_map_lookup_elem(&path_suffixes, k);
		if (p)
			return probe_result(p);
	}

	/* Segments anywhere: nearly every path has no first-byte or bigram hit and stops here. */
	if (!f->segments)
		return MATCH_NONE;
	i = path_first_bigram(len);
	if (i + 1 >= len)
		return MATCH_NONE;
	scan.len = len;
	scan.start = i;
	bpf_loop(SOC_STR_MAX, segment_step, &scan, 0);
	return scan.result;
}

struct hash_state {
	__u64 h;
	__u32 len;
};

/* 8 bytes of the path per step: a seeded multiply-xorshift hash. */
static long hash_step(__u32 i, void *arg)
{
	struct hash_state *hs = arg;
	__u32 zero = 0, pos = i * 8;
	struct file_scratch *s;
	__u64 w;

	if (pos >= hs->len)
		return 1;
	s = bpf_map_lookup_elem(&file_scratch, &zero);
	if (!s)
		return 1;
	w = *(__u64 *)&s->path[pos & FILE_POS_MASK & ~7u];
	if (hs->len - pos < 8)
		w &= (1ull << ((hs->len - pos) * 8)) - 1;
	hs->h = (hs->h ^ w) * 0x9e3779b97f4a7c15ull;
	hs->h ^= hs->h >> 31;
	return 0;
}

/*
 * An open (syscall or io_uring): read the path, make it absolute, run the prefilter, and report
 * it the first time this image opens it with this access mode through this route.
 * via_fflags: enum soc_via in bits 0..7, SOC_FILE_F_* in bits 8..
 *
 * A global (not static) function: the verifier checks it once, on its own, instead of once per
 * call site and caller state — its loops would otherwise exceed the verifier's budget.
 */
__noinline int file_candidate(struct proc_state *st, __u64 upath, int dirfd, __u32 oflags,
			      __u32 via_fflags)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 zero = 0, len, fflags = via_fflags >> 8, via = via_fflags & 0xff;
	struct hash_state hs;
	struct file_scratch *s;
	struct fact_key k = {};
	int match;
	long n;

	s = bpf_map_lookup_elem(&file_scratch, &zero);
	if (!s || !st || !upath)
		return 0;
	if (fflags & SOC_FILE_F_KERNEL_COPY)
		n = bpf_probe_read_kernel_str(s->path, SOC_STR_MAX + 1, (const void *)upath);
	else
		n = bpf_probe_read_user_str(s->path, SOC_STR_MAX + 1, (const void *)upath);
	if (n < 0) {
		if (via == SOC_VIA_SYSCALL && !(fflags & SOC_FILE_F_DEFERRED)) {
			st->deferred.upath = upath;
			st->deferred.dirfd = dirfd;
			st->deferred.oflags = oflags;
			st->deferred.via_fflags = via_fflags | (SOC_FILE_F_DEFERRED << 8);
			st->deferred.armed = 1;
			return 0;
		}
		if (via == SOC_VIA_SYSCALL || (fflags & SOC_FILE_F_KERNEL_COPY))
			count(&errors, SOC_ERR_PATH_UNREADABLE);
		return -1;
	}
	if (n <= 1)
		return 0;
	len = (n - 1) & FILE_POS_MASK;
	if (len >= SOC_STR_MAX)
		fflags |= SOC_FILE_F_PATH_TRUNCATED;
	if (s->path[0] != '/')
		len = absolute_path(task, s, len, dirfd, &fflags) & FILE_POS_MASK;

	match = match_path(s, len);
	if (match == MATCH_NONE)
		return 0;
	st->pending.sensitive_opens++;
	if (match == MATCH_COMPLETE)
		fflags |= SOC_FILE_F_COMPLETE;

	hs.h = path_hash_seed ^ len;
	hs.len = len;
	bpf_loop((SOC_STR_MAX + 8) / 8, hash_step, &hs, 0);
	k.exec = st->key;
	k.kind = SOC_OP_FACT_FILE;
	k.extra = via | ((oflags & O_ACCMODE) << 8);
	k.a = hs.h;
	k.b = len;
	if (!first_seen(&k))
		return 0;

	s = bpf_map_lookup_elem(&file_scratch, &zero); /* not kept valid across bpf_loop */
	if (!s)
		return 0;
	fill_header(&s->ev.hdr, SOC_OP_FACT_FILE, sizeof(s->ev) + len,
		    (fflags & 0xfff) | own_now(st));
	s->ev.key = st->key;
	s->ev.open_flags = oflags;
	s->ev.path_len = len;
	s->ev.via = via;
	s->ev.pad = 0;
	s->ev.dirfd = dirfd;
	s->ev.pad2 = 0;
	if (bpf_ringbuf_output(&events, &s->ev, (sizeof(s->ev) + len) & 0x1fff, submit_flags())) {
		count(&drops, SOC_OP_FACT_FILE);
		bpf_map_delete_elem(&fact_seen, &k);
	}
	return 0;
}

/* open(2), creat(2), openat(2), openat2(2): arguments from the syscall's registers. */
static __always_inline void syscall_open(struct pt_regs *regs, long id, struct proc_state *st)
{
	__u64 upath;
	int dirfd = AT_FDCWD;
	__u32 oflags, fflags = 0;
	__u64 how_flags = 0;

	switch (id) {
	case NR_open:
		upath = PT_REGS_PARM1_SYSCALL(regs);
		oflags = PT_REGS_PARM2_SYSCALL(regs);
		break;
	case NR_creat:
		upath = PT_REGS_PARM1_SYSCALL(regs);
		oflags = O_CREAT | O_WRONLY | O_TRUNC;
		break;
	case NR_openat:
		dirfd = PT_REGS_PARM1_SYSCALL(regs);
		upath = PT_REGS_PARM2_SYSCALL(regs);
		oflags = PT_REGS_PARM3_SYSCALL(regs);
		break;
	default: /* NR_openat2: struct open_how starts with its u64 flags */
		dirfd = PT_REGS_PARM1_SYSCALL(regs);
		upath = PT_REGS_PARM2_SYSCALL(regs);
		bpf_probe_read_user(&how_flags, sizeof(how_flags),
				    (const void *)PT_REGS_PARM3_SYSCALL(regs));
		oflags = (__u32)how_flags;
		fflags = SOC_FILE_F_OPENAT2;
		break;
	}
	file_candidate(st, upath, dirfd, oflags, SOC_VIA_SYSCALL | (fflags << 8));
}

static __always_inline bool is_open_nr(long id)
{
	return id == NR_openat || id == NR_open || id == NR_openat2 || id == NR_creat;
}

/*
 * Every syscall of every task. The bitmap test, the open check and the counters are ordered
 * so that the common case — a syscall this thread has reported before — costs a config lookup
 * (inlined array access), a task-storage lookup and a bit test.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(facts_sys_enter, struct pt_regs *regs, long id)
{
	struct soc_facts_config *cfg = facts_cfg();
	struct task_struct *task;
	struct proc_state *st;
	__u32 en;

	if (!cfg)
		return 0;
	en = cfg->enabled;
	if (!(en & (SOC_FACTS_SYSCALLS | SOC_FACTS_FILES | SOC_FACTS_COUNTERS | SOC_FACTS_INBOUND)))
		return 0;
	task = bpf_get_current_task_btf();
	st = thread_state(task);
	if (!st)
		return 0;
	if (st->deferred.armed) {
		st->deferred.armed = 0;
		file_candidate(st, st->deferred.upath, st->deferred.dirfd, st->deferred.oflags,
			       st->deferred.via_fflags);
	}
	if (en & SOC_FACTS_SYSCALLS)
		syscall_seen(task, st, id);
#ifdef __TARGET_ARCH_x86
	if (is_open_nr(id) && !is_compat(task)) {
		if (en & SOC_FACTS_COUNTERS)
			st->pending.opens++;
		if (en & SOC_FACTS_FILES)
			syscall_open(regs, id, st);
	} else if ((id == NR_accept4 || id == NR_accept || id == NR_listen) &&
		   (en & SOC_FACTS_INBOUND) && !is_compat(task)) {
		syscall_accept(cfg, task, st, PT_REGS_PARM1_SYSCALL(regs), id == NR_listen);
	}
#endif
	if (en & SOC_FACTS_COUNTERS) {
		st->pending.syscalls++;
		tick(st, cfg);
	}
	return 0;
}

/* --- io_uring ---------------------------------------------------------------------------- */

static __noinline int iouring_op_first(struct io_kiocb *req, struct proc_state *st, __u32 opcode,
				       __u32 w, __u64 bit)
{
	struct soc_iouring_op_fact *ev;
	struct io_uring_sqe sqe;
	struct fact_key k = {};
	bool have_sqe;

	w &= SOC_IOURING_OP_WORDS - 1;
	st->iouring_ops_seen[w] |= bit;
	k.exec = st->key;
	k.kind = SOC_OP_FACT_IOURING_OP;
	k.a = opcode;
	if (!first_seen(&k))
		return 0;
	have_sqe = read_sqe(req, &sqe);
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FACT_IOURING_OP);
		st->iouring_ops_seen[w] &= ~bit;
		bpf_map_delete_elem(&fact_seen, &k);
		return 0;
	}
	fill_header(&ev->hdr, SOC_OP_FACT_IOURING_OP, sizeof(*ev),
		    (have_sqe ? 0 : SOC_IOURING_F_SQE_UNREAD) | own_now(st));
	ev->key = st->key;
	ev->opcode = opcode;
	ev->sqe_flags = have_sqe ? sqe.flags : 0;
	ev->pad = 0;
	ev->fd = have_sqe ? sqe.fd : -1;
	ev->ring_flags = BPF_CORE_READ(req, ctx, flags);
	ev->pad2 = 0;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}

/* IORING_OP_OPENAT / OPENAT2: the path and dirfd from the SQE, as the syscalls' arguments. */
static __always_inline void iouring_open(struct io_kiocb *req, struct proc_state *st, __u32 opcode)
{
	struct io_uring_sqe sqe;
	__u32 oflags, fflags = 0;
	__u64 how_flags = 0;

	if (!read_sqe(req, &sqe)) {
		count(&errors, SOC_ERR_SQE_UNREAD);
		return;
	}
	oflags = sqe.open_flags;
	if (opcode == IORING_OP_OPENAT2) {
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (const void *)sqe.addr2);
		oflags = (__u32)how_flags;
		fflags = SOC_FILE_F_OPENAT2;
	}
	if (file_candidate(st, sqe.addr, sqe.fd, oflags, SOC_VIA_IO_URING | (fflags << 8)) >= 0)
		return;
	/*
	 * The user's string is not in memory. Unlike a syscall's, an io_uring open has already
	 * copied it (prep ran getname): read that copy, struct io_open overlaying the request.
	 */
	if (bpf_core_field_exists(((struct io_open *)0)->filename)) {
		struct filename *fn = BPF_CORE_READ((struct io_open *)req, filename);
		const char *kname = BPF_CORE_READ(fn, name);

		fflags |= SOC_FILE_F_KERNEL_COPY;
		file_candidate(st, (__u64)kname, sqe.fd, oflags, SOC_VIA_IO_URING | (fflags << 8));
	}
}


/*
 * CONNECT, SEND(_ZC) with a destination, SENDMSG(_ZC) with msg_name: remember the destination
 * in the thread's state, so the cgroup hook that fires when the request is issued inline in
 * this thread knows it came through io_uring.
 */
static __always_inline void iouring_net(struct io_kiocb *req, struct proc_state *st, __u32 opcode)
{
	struct io_uring_sqe sqe;
	__u64 uaddr = 0;

	if (!read_sqe(req, &sqe)) {
		count(&errors, SOC_ERR_SQE_UNREAD);
		return;
	}
	if (opcode == IORING_OP_CONNECT) {
		uaddr = sqe.addr;
	} else if (opcode == IORING_OP_SEND || opcode == IORING_OP_SEND_ZC) {
		uaddr = sqe.addr2;
	} else { /* SENDMSG(_ZC): struct user_msghdr starts with msg_name */
		if (bpf_probe_read_user(&uaddr, sizeof(uaddr), (const void *)sqe.addr))
			return;
	}
	st->uring_net.armed = 0;
	if (!read_user_sockaddr(uaddr, &st->uring_net.sa))
		return;
	st->uring_net.opcode = opcode;
	st->uring_net.armed = 1;
}

static __always_inline bool is_net_op(__u32 opcode)
{
	return opcode == IORING_OP_CONNECT || opcode == IORING_OP_SEND ||
	       opcode == IORING_OP_SEND_ZC || opcode == IORING_OP_SENDMSG ||
	       opcode == IORING_OP_SENDMSG_ZC;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(facts_iouring_submit, struct io_kiocb *req)
{
	struct soc_facts_config *cfg = facts_cfg();
	struct task_struct *task;
	struct proc_state *st;
	__u32 en, opcode;
	__u64 bit;

	if (!cfg)
		return 0;
	en = cfg->enabled;
	if (!(en & (SOC_FACTS_IO_URING | SOC_FACTS_FILES | SOC_FACTS_ENDPOINTS | SOC_FACTS_COUNTERS)))
		return 0;
	task = bpf_get_current_task_btf();
	st = thread_state(task);
	if (!st)
		return 0;
	opcode = req->opcode;
	if ((en & SOC_FACTS_IO_URING) && opcode < SOC_IOURING_OP_MAX) {
		bit = 1ull << (opcode & 63);
		if (!(st->iouring_ops_seen[(opcode >> 6) & (SOC_IOURING_OP_WORDS - 1)] & bit))
			iouring_op_first(req, st, opcode, opcode >> 6, bit);
	}
	if (opcode == IORING_OP_OPENAT || opcode == IORING_OP_OPENAT2) {
		if (en & SOC_FACTS_COUNTERS)
			st->pending.opens++;
		if (en & SOC_FACTS_FILES)
			iouring_open(req, st, opcode);
	} else if ((en & SOC_FACTS_ENDPOINTS) && is_net_op(opcode)) {
		iouring_net(req, st, opcode);
	} else if ((opcode == IORING_OP_ACCEPT || opcode == IORING_OP_LISTEN) &&
		   (en & SOC_FACTS_INBOUND)) {
		iouring_accept(cfg, req, task, st, opcode == IORING_OP_LISTEN);
	}
	if (en & SOC_FACTS_COUNTERS) {
		st->pending.iouring_submissions++;
		tick(st, cfg);
	}
	return 0;
}

/* A ring is created (inside io_uring_setup(2), in the creating thread). */
SEC("tp_btf/io_uring_create")
int BPF_PROG(facts_iouring_create, int fd, void *ring_ctx, __u32 sq_entries, __u32 cq_entries,
	     __u32 flags)
{
	struct soc_facts_config *cfg = facts_cfg();
	struct soc_iouring_setup_fact *ev;
	struct task_struct *task;
	struct proc_state *st;
	struct fact_key k = {};

	if (!cfg || !(cfg->enabled & (SOC_FACTS_IO_URING | SOC_FACTS_COUNTERS)))
		return 0;
	task = bpf_get_current_task_btf();
	st = thread_state(task);
	if (!st)
		return 0;
	if (cfg->enabled & SOC_FACTS_COUNTERS) {
		st->pending.iouring_setups++;
		tick(st, cfg);
	}
	if (!(cfg->enabled & SOC_FACTS_IO_URING))
		return 0;
	k.exec = st->key;
	k.kind = SOC_OP_FACT_IOURING_SETUP;
	k.a = flags;
	if (!first_seen(&k))
		return 0;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FACT_IOURING_SETUP);
		bpf_map_delete_elem(&fact_seen, &k);
		return 0;
	}
	fill_header(&ev->hdr, SOC_OP_FACT_IOURING_SETUP, sizeof(*ev), own_now(st));
	ev->key = st->key;
	ev->flags = flags;
	ev->sq_entries = sq_entries;
	ev->cq_entries = cq_entries;
	ev->fd = fd;
	bpf_ringbuf_submit(ev, submit_flags());
	return 0;
}

/* --- endpoints --------------------------------------------------------------------------- */

/* The endpoint fact of image key (process tgid), once per image. own: SOC_F_OWN_TGID or 0. */
static __always_inline void endpoint_fact_of(struct soc_exec_key *key, __u32 tgid, __u16 own,
					     __u16 family, __u16 port, __u8 protocol, __u8 via,
					     __u8 direction, __u32 *addr)
{
	struct soc_endpoint_fact *ev;
	struct fact_key k = {};

	k.exec = *key;
	k.kind = SOC_OP_FACT_ENDPOINT;
	k.extra = ((__u32)port << 16) | ((__u32)protocol << 8) | (family == AF_INET6 ? 0x80 : 0) |
		  (via << 4) | direction;
	k.a = ((__u64)addr[1] << 32) | addr[0];
	k.b = ((__u64)addr[3] << 32) | addr[2];
	if (!first_seen(&k))
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count(&drops, SOC_OP_FACT_ENDPOINT);
		bpf_map_delete_elem(&fact_seen, &k);
		return;
	}
	fill_header(&ev->hdr, SOC_OP_FACT_ENDPOINT, sizeof(*ev), own);
	if (ev->hdr.tgid != tgid) {
		/* In softirq (sockops) the current task is anyone's: name the image's process. */
		ev->hdr.tgid = tgid;
		ev->hdr.tid = tgid;
	}
	ev->key = *key;
	ev->family = family;
	ev->port = port;
	ev->protocol = protocol;
	ev->via = via;
	ev->direction = direction;
	ev->pad = 0;
	ev->pad2[0] = 0;
	ev->pad2[1] = 0;
	__builtin_memcpy(ev->addr, addr, 16);
	bpf_ringbuf_submit(ev, submit_flags());
}

static __always_inline void endpoint_fact(struct proc_state *st, __u16 family, __u16 port,
					  __u8 protocol, __u8 via, __u8 direction, __u32 *addr)
{
	/* The current task's own image: its tgid is the key's, the header's thread the current. */
	endpoint_fact_of(&st->key, st->key.tgid, own_now(st), family, port, protocol, via, direction,
			 addr);
}

/* Through io_uring: run by one of its threads, or inline in the thread that just submitted it. */
static __always_inline __u8 via_of(struct task_struct *task, struct proc_state *st, __u16 family,
				   __u16 port, __u32 *addr)
{
	struct uring_net_marker *m = &st->uring_net;

	if (task->flags & PF_IO_WORKER)
		return SOC_VIA_IO_URING;
	if (m->armed && user_sockaddr_equal(&m->sa, family, port, addr)) {
		m->armed = 0;
		return SOC_VIA_IO_URING;
	}
	return SOC_VIA_SYSCALL;
}

/* connect or addressed send: counters, then the endpoint fact. */
static __always_inline void outbound(struct bpf_sock_addr *ctx, __u16 family, __u32 *addr,
				     bool connect)
{
	struct soc_facts_config *cfg = facts_cfg();
	struct task_struct *task;
	struct proc_state *st;
	__u16 port;
	__u8 via;

	if (!cfg || !(cfg->enabled & (SOC_FACTS_ENDPOINTS | SOC_FACTS_COUNTERS)))
		return;
	task = bpf_get_current_task_btf();
	st = thread_state(task);
	if (!st)
		return;
	port = bpf_ntohs((__u16)ctx->user_port);
	via = via_of(task, st, family, port, addr);
	if (cfg->enabled & SOC_FACTS_COUNTERS) {
		if (connect)
			st->pending.connects++;
		else
			st->pending.sends_addressed++;
		tick(st, cfg);
	}
	if (cfg->enabled & SOC_FACTS_ENDPOINTS)
		endpoint_fact(st, family, port, ctx->protocol, via, SOC_DIR_OUTBOUND, addr);
}

SEC("cgroup/connect4")
int facts_connect4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4, 0, 0, 0 };

	outbound(ctx, AF_INET, addr, true);
	return 1;
}

SEC("cgroup/connect6")
int facts_connect6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	outbound(ctx, AF_INET6, addr, true);
	return 1;
}

SEC("cgroup/sendmsg4")
int facts_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip4, 0, 0, 0 };

	outbound(ctx, AF_INET, addr, false);
	return 1;
}

SEC("cgroup/sendmsg6")
int facts_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 addr[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	outbound(ctx, AF_INET6, addr, false);
	return 1;
}

/*
 * Inbound TCP connections. An accept is the one moment a connection meets a process, but no
 * hook sees accepts cheaply here: a syscall exit tracepoint (any one) adds work to every
 * syscall exit of the host, a TCP-read hook runs on every read (it cost an HTTP service ~1 % of
 * its throughput). So each listen and accept call — seen by the sys_enter hook that runs
 * anyway, or at io_uring LISTEN/ACCEPT submission — notes which image takes connections on
 * which port (`acceptors`); an accept also reports the connection at the head of the accept
 * queue (the one this call takes); sockops reports each connection when it is established, in
 * softirq, for the port's acceptor. Work per listen/accept call and per connection, none per
 * read or per syscall exit.
 * Attribution is by (network namespace, local port): processes taking turns on one port
 * (pre-fork workers, SO_REUSEPORT groups) get the connections of the one that accepted last.
 */
struct acceptor_key {
	__u64 netns; /* net_cookie */
	__u32 port; /* host byte order */
	__u32 pad;
};

struct acceptor {
	struct soc_exec_key key;
	__u8 via; /* enum soc_via: how it accepts */
	__u8 own; /* the image is the sensor's own */
	__u8 accepting; /* it accepted (else it only listened: via is not known yet) */
	__u8 pad;
	__u32 pad2;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct acceptor_key);
	__type(value, struct acceptor);
} acceptors SEC(".maps");

#define TCP_LISTEN_STATE 10 /* TCP_LISTEN */

/* The TCP sock behind file f (listening, if listening), or null. */
static __always_inline struct sock *tcp_sock_of(struct file *f, bool listening)
{
	struct sock *sk;

	if (!f || !file_is_socket(f))
		return 0;
	sk = file_sock(f);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (listening && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN_STATE)
		return 0;
	return sk;
}

static __always_inline bool same_image(struct soc_exec_key *x, struct soc_exec_key *y)
{
	return x->start_boottime_ns == y->start_boottime_ns && x->self_exec_id == y->self_exec_id &&
	       x->tgid == y->tgid;
}

/*
 * The image of st takes connections on sk's port (it accepts there, or listens: accepting 0):
 * note it as the port's acceptor, in *k and *a. False when the port has no bound number yet.
 * *was_known: an acceptor of the port was noted before.
 */
static __always_inline bool acceptor_note(struct proc_state *st, struct sock *sk, __u8 via,
					  bool accepting, struct acceptor_key *k, struct acceptor *a,
					  bool *was_known)
{
	struct acceptor *cur;

	k->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	k->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!k->port)
		return false; /* listen(2) without bind(2) binds at listen: its first accept notes it */
	a->key = st->key;
	a->via = via;
	a->own = own_now(st) ? 1 : 0;
	a->accepting = accepting;
	cur = bpf_map_lookup_elem(&acceptors, k);
	*was_known = cur != 0;
	if (cur && same_image(&cur->key, &a->key) && cur->own == a->own &&
	    (accepting ? cur->accepting && cur->via == via : cur->accepting))
		return true; /* unchanged; a listen again does not forget how the image accepts */
	bpf_map_update_elem(&acceptors, k, a, BPF_ANY);
	return true;
}

/*
 * listen(2) on file f (or io_uring LISTEN): the listener's image is the port's acceptor until
 * one accepts. It replaces whatever an earlier, closed listener of the same port left, so a
 * reused port is never credited to a process that is gone.
 */
static __always_inline void listen_called(struct proc_state *st, struct file *f, __u8 via)
{
	struct sock *sk = tcp_sock_of(f, false);
	struct acceptor_key k = {};
	struct acceptor a = {};
	bool known;

	if (sk)
		acceptor_note(st, sk, via, false, &k, &a, &known);
}

/* One more accepted connection in image key's counters (updated in place: no thread state here). */
static __always_inline void add_accept(struct soc_exec_key *key, bool own)
{
	struct soc_exec_counters *c = exec_counters_of(key);

	if (!c)
		return;
	__sync_fetch_and_add(&c->counters.accepts, 1);
	if (own && !(c->flags & SOC_F_OWN_TGID))
		__sync_fetch_and_or(&c->flags, SOC_F_OWN_TGID);
}

/* An inbound connection from addr to port of image a: count it (if counted), report it once. */
static __always_inline void inbound_fact(struct soc_facts_config *cfg, struct acceptor *a,
					 __u16 family, __u16 port, __u32 *addr, bool counted)
{
	if (counted && (cfg->enabled & SOC_FACTS_COUNTERS))
		add_accept(&a->key, a->own);
	/* An image that only listened so far: how it accepts (the fact's via) is not known yet;
	 * its accept call reports the connection from the head of the queue. */
	if (a->accepting && (cfg->enabled & SOC_FACTS_ENDPOINTS))
		endpoint_fact_of(&a->key, a->key.tgid, a->own ? SOC_F_OWN_TGID : 0, family, port,
				 IPPROTO_TCP, a->via, SOC_DIR_INBOUND, addr);
}

/*
 * accept(2)/accept4(2) on fd, or an io_uring ACCEPT of file f, by the thread with state st:
 * remember the acceptor of the port, and report the connection the call takes if one waits.
 */
static __always_inline void accept_called(struct soc_facts_config *cfg, struct proc_state *st,
					  struct file *f, __u8 via)
{
	struct sock *sk = tcp_sock_of(f, true), *child;
	__u16 family, rport, lport;
	struct acceptor_key k = {};
	struct request_sock *req;
	struct acceptor a = {};
	__u32 addr[4] = {};
	__u8 laddr[16];
	bool known;

	if (!sk || !acceptor_note(st, sk, via, true, &k, &a, &known))
		return;
	/* Not under the queue's lock: another acceptor may take it first (then this reports a
	 * connection of the same port that the other accepted), never a freed sock (TCP socks
	 * are SLAB_TYPESAFE_BY_RCU and read with probe reads). */
	req = BPF_CORE_READ((struct inet_connection_sock *)sk, icsk_accept_queue.rskq_accept_head);
	if (!req)
		return;
	child = BPF_CORE_READ(req, sk);
	if (!child)
		return;
	sk_addresses(child, &family, (__u8 *)addr, &rport, laddr, &lport);
	if (!family)
		return;
	/* Counted here only if no acceptor was known (sockops counted the others on arrival). */
	inbound_fact(cfg, &a, family, k.port, addr, !known);
}

/* An inbound TCP connection is established (softirq, no process): report it for its acceptor. */
SEC("sockops")
int facts_sockops(struct bpf_sock_ops *skops)
{
	struct soc_facts_config *cfg;
	struct acceptor_key k = {};
	struct acceptor *a;
	__u32 addr[4] = {};
	__u16 family;

	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	cfg = facts_cfg();
	if (!cfg || !(cfg->enabled & SOC_FACTS_INBOUND))
		return 1;
	k.netns = bpf_get_netns_cookie(skops);
	k.port = skops->local_port;
	a = bpf_map_lookup_elem(&acceptors, &k);
	if (!a)
		return 1; /* no listen or accept seen on this port (a listener older than the sensor):
			   * its next accept reports the connection from the queue */
	family = skops->family;
	if (family == AF_INET) {
		addr[0] = skops->remote_ip4;
		/* Keeps the compiler from merging the two ctx reads into one through a moved ctx
		 * pointer, which the verifier rejects. */
		barrier_var(addr[0]);
	} else if (family == AF_INET6) {
		addr[0] = skops->remote_ip6[0];
		addr[1] = skops->remote_ip6[1];
		addr[2] = skops->remote_ip6[2];
		addr[3] = skops->remote_ip6[3];
	} else {
		return 1;
	}
	inbound_fact(cfg, a, family, k.port, addr, true);
	return 1;
}

static __noinline int syscall_accept(struct soc_facts_config *cfg, struct task_struct *task,
				     struct proc_state *st, int fd, bool listen)
{
	struct file *f = fd_file(task, fd);

	if (listen)
		listen_called(st, f, SOC_VIA_SYSCALL);
	else
		accept_called(cfg, st, f, SOC_VIA_SYSCALL);
	return 0;
}

/* io_uring keeps its registered files as nodes whose low bits are flags (io_slot_file()). */
#define IO_SLOT_FLAG_BITS 0x3ul

/* An io_uring ACCEPT or LISTEN is submitted: its socket is the SQE's fd or registered file. */
static __noinline int iouring_accept(struct soc_facts_config *cfg, struct io_kiocb *req,
				     struct task_struct *task, struct proc_state *st, bool listen)
{
	struct io_rsrc_node *node = 0;
	struct io_rsrc_node **nodes;
	struct io_uring_sqe sqe;
	struct file *f;

	if (!read_sqe(req, &sqe)) {
		count(&errors, SOC_ERR_SQE_UNREAD);
		return 0;
	}
	if (sqe.flags & (1u << IOSQE_FIXED_FILE_BIT)) {
		if ((__u32)sqe.fd >= BPF_CORE_READ(req, ctx, file_table.data.nr))
			return 0;
		nodes = BPF_CORE_READ(req, ctx, file_table.data.nodes);
		bpf_probe_read_kernel(&node, sizeof(node), &nodes[(__u32)sqe.fd]);
		if (!node)
			return 0;
		f = (struct file *)(BPF_CORE_READ(node, file_ptr) & ~IO_SLOT_FLAG_BITS);
	} else {
		f = fd_file(task, sqe.fd);
	}
	if (listen)
		listen_called(st, f, SOC_VIA_IO_URING);
	else
		accept_called(cfg, st, f, SOC_VIA_IO_URING);
	return 0;
}
