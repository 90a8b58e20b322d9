/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every concern's BPF object shares (included by each *.bpf.c): the
 * ring buffer, the task storage that scopes the run, the loss counters,
 * the holds (a process etrace stops until it is ready for it), and the
 * helpers around them. Declared once, here: each object's ELF has its own
 * copy of these maps, and user space makes them one before an object is
 * loaded (bpf_map__reuse_fd of the core object's, runner/concern.c), so a
 * concern loaded later writes to the same ring and sees the same tasks.
 */
#ifndef ETRACE_SHARED_H
#define ETRACE_SHARED_H

#include <bpf/bpf_core_read.h>
#include "events.h"

/* struct et_shared_cfg (events.h): the same values in every object */
const volatile struct et_shared_cfg shared_cfg = { .wakeup_bytes = 1 << 20 };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct et_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Indexed by enum et_gate (events.h). [ET_GATE_HOLDS_OFF]: set once no stop may be started any more (etrace
 * is ending: set by user space after the root exits, or by etrace's exit
 * tracepoint). [ET_GATE_NET_READY]: the network's programs are attached
 * (runner/net/netload.c loads them at the tree's first inet socket). A map, not
 * globals: every object reads the same words. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} hold_gate SEC(".maps");

/* An offset into a task's capture area (struct et_task.area), masked to
 * its size: the syscall programs and the network's UDP note write there. */
#define CAP_MASK (ET_CAP_AREA - 1)

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		*c += 1;
}

/* Sends a record without waking the reader, which drains on a timer;
 * a reader that fell behind is woken once the buffer fills up. */
static __always_inline void emit(void *rec, __u64 size, __u32 lost_counter)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > shared_cfg.wakeup_bytes) {
		flags = BPF_RB_FORCE_WAKEUP;
		count(ET_CNT_WAKEUPS);
	}
	if (bpf_ringbuf_output(&events, rec, size, flags))
		count(lost_counter);
}

/* Linux 6.2+: a cast the verifier turns into a plain move (no call). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* task, for reading its fields directly (a load the kernel checks as it
 * does any other) without the verifier's search for its trust rules: a
 * pointer field loaded through a trusted pointer makes the verifier of 6.4
 * and later look for "task_struct__safe_trusted" and three more such names
 * among the kernel's ~125,000 types, one by one, each time it checks that
 * load: ~1 ms of start-up a program. Through the read-only cast the loaded
 * pointer is untrusted (it is only compared with NULL here) and nothing is
 * searched. Kernels before 6.2 have no cast, and no search either. */
static __always_inline struct task_struct *untrusted_task(struct task_struct *task)
{
	if (bpf_rdonly_cast && shared_cfg.task_btf_id)
		return bpf_rdonly_cast(task, shared_cfg.task_btf_id);
	return task;
}

/* The storage of a traced task, or NULL: the one check every other task pays. */
static __always_inline struct et_task *task_traced(struct task_struct *task)
{
	/* Every task of the machine passes here at each syscall while etrace
	 * runs. Most have no task storage at all: one load says so, where the
	 * lookup costs them ~130 ns a call (measured: an untraced getppid
	 * loop 1.29x native next to etrace with the lookup, 1.05x with empty
	 * programs). A task with storage (of any map) is looked up. */
	if (!untrusted_task(task)->bpf_storage)
		return 0;
	struct et_task *t = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!t || !t->traced)
		return 0;
	return t;
}

static __always_inline struct et_task *traced_task(void)
{
	return task_traced(bpf_get_current_task_btf());
}

static __always_inline void fill_header(struct ev_header *h, __u32 type, __u32 size)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->type = type;
	h->size = size;
	h->ts = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = (__u32)id;
}

/* The heap's pid tables are updated once per process, from process
 * context (tracepoints, uprobes, user space), never from an NMI: they are
 * not preallocated (preallocating 65536 entries cost each run ~10 ms of
 * start-up, docs/design-notes.md). */

/* Processes etrace stopped at _exit for the leak scan (tgid -> 1): the
 * SIGSTOP and the SIGCONT that resumes it are etrace's, not the target's
 * signals. User space removes the entry after its SIGCONT. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} heap_held_pids SEC(".maps");

/* Processes the preload library records (tgid -> 1): no uprobe records,
 * no stops at fork or exec or _exit for them. A forked child inherits the
 * mark (the library is in its memory); an exec decides again. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} heap_preload_pids SEC(".maps");

/* Linux 6.13+: a signal to another task (the new child at fork). */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, __u64 value) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;


#define ET_SIGCONT 18
#define ET_SIGSTOP 19

/* A stop of task would be seen by someone else than etrace: a tracer
 * (strace, gdb: ptrace reports every stop), or its parent when that is a
 * job-control shell (it would print "Stopped"): one that catches SIGCHLD
 * without SA_NOCLDSTOP and ignores SIGTTOU, as bash, dash and zsh do with
 * job control on. A shell without job control catches SIGCHLD too, but
 * waits without WUNTRACED: a stop is not seen there. */
static __always_inline bool stop_would_show(struct task_struct *task)
{
	if (BPF_CORE_READ(task, ptrace))
		return true;
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	if (!parent)
		return false;
	struct sighand_struct *sh = BPF_CORE_READ(parent, sighand);
	if (!sh)
		return false;
	__u64 handler = (__u64)BPF_CORE_READ(sh, action[16].sa.sa_handler); /* SIGCHLD - 1 */
	__u64 flags = BPF_CORE_READ(sh, action[16].sa.sa_flags);
	__u64 ttou = (__u64)BPF_CORE_READ(sh, action[21].sa.sa_handler);   /* SIGTTOU - 1 */
	return handler > 1 /* not SIG_DFL, SIG_IGN */ && !(flags & 1 /* SA_NOCLDSTOP */) && ttou == 1 /* SIG_IGN */;
}

/* Sends sig to task (or the current task when NULL); a signal sent from a
 * tracepoint is deferred through a per-CPU irq_work, busy for a moment
 * after the previous one: try again a few times. */
static __always_inline long send_sig(struct task_struct *task, int sig)
{
	long err = task ? bpf_send_signal_task(task, sig, PIDTYPE_TGID, 0) : bpf_send_signal(sig);
	if (err == -16 /* EBUSY */)
		err = task ? bpf_send_signal_task(task, sig, PIDTYPE_TGID, 0) : bpf_send_signal(sig);
	if (err == -16)
		err = task ? bpf_send_signal_task(task, sig, PIDTYPE_TGID, 0) : bpf_send_signal(sig);
	return err;
}

/* Stops task (NULL: the current task) for etrace, tgid pid. Returns 0 when
 * it was stopped, else why not (enum et_hold_why). The stop is recorded in
 * heap_held_pids before it is sent, and holds_off is read after: either
 * etrace's final sweep sees the entry, or this sees holds_off and undoes
 * its own stop, so no stop outlives etrace. */
static __always_inline __u32 hold_process(struct task_struct *task, __u32 pid, bool parent_traces)
{
	struct task_struct *t = task ? task : bpf_get_current_task_btf();
	__u32 zero = 0;
	__u32 *holds_off = bpf_map_lookup_elem(&hold_gate, &zero);
	if (!holds_off || *holds_off)
		return ET_HOLD_ENDING;
	if (parent_traces || stop_would_show(t))
		return ET_HOLD_WOULD_SHOW;
	__u32 one = 1;
	bpf_map_update_elem(&heap_held_pids, &pid, &one, BPF_ANY);
	if (send_sig(task, ET_SIGSTOP)) {
		bpf_map_delete_elem(&heap_held_pids, &pid);
		return ET_HOLD_FAILED;
	}
	if (*(volatile __u32 *)holds_off) {
		/* a SIGCONT flushes the pending SIGSTOP: it never takes effect */
		send_sig(task, ET_SIGCONT);
		bpf_map_delete_elem(&heap_held_pids, &pid);
		return ET_HOLD_ENDING;
	}
	return ET_HOLD_DONE;
}

#endif
