// SPDX-License-Identifier: GPL-2.0
/*
 * The core object's settings (from user space, before load), its own maps
 * (the capture plan, the per-syscall totals, per-CPU room for records) and
 * the holds it starts and ends (heap probes asked for, etrace dying).
 * A part of the core object (bpf/etrace.bpf.c includes it once, after
 * the parts before it): one object, so one skeleton and one set of maps.
 */
#ifndef ETRACE_CORE_CONFIG_H
#define ETRACE_CORE_CONFIG_H

/* Set by user space before load. */
const volatile __u32 data_max = ET_DATA_DEFAULT;  /* bytes of buffers captured */
const volatile __u32 nr_execve = 59;              /* syscall numbers, from libseccomp */
const volatile __u32 nr_execveat = 322;
const volatile __u32 nr_futex = 202;
const volatile __u32 nr_writev = 20;
const volatile __u32 nr_ptrace = 101;
const volatile __u32 nr_connect = 42;
const volatile __u32 nr_socket = 41;
const volatile __u32 nr_io_uring_setup = 425;
const volatile __u32 nr_pidfd_getfd = 438;
const volatile __u32 nr_uretprobe = 0xffffffff;   /* x86_64 6.11+: a uretprobe's trampoline calls it */
/* Under sudo: the invoking user. A process whose credentials exceed theirs
 * (it exec'd a setuid/setgid/file-capability program: the kernel's
 * secureexec, or its ids or capabilities are not theirs) is "redacted":
 * like ptrace, which lets no unprivileged tracer into such a process, etrace
 * records that it ran, what it exec'd and how it ended, not its syscalls,
 * data, registers, stack, heap or functions. */
const volatile __u32 redact_on = 0;
const volatile __u32 invoker_uid = 0;
const volatile __u32 invoker_gid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ET_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct et_syscall_spec);
} specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ET_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct et_syscall_stat);
} stats SEC(".maps");

/* Scratch for fork/exec/exit records (too big for the BPF stack). */
union et_small {
	struct ev_fork fork;
	struct ev_exec exec;
	struct ev_exit exit;
	struct ev_signal signal;
	struct ev_siggen siggen;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union et_small);
} scratch SEC(".maps");

/* Per-CPU room for a fork/exec/exit/signal record. */
static __always_inline union et_small *small_record(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Processes with heap probes of their own (tgid -> 1), written by user
 * space: an exec in one of them keeps its links (a link follows the
 * process, not the image); any other process of the tree that execs is
 * stopped until its links are attached. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} heap_scoped SEC(".maps");

/* Set by user space: heap probes are attached per process. */
const volatile __u32 heap_per_process = 0;

/* etrace's own tgid: when it dies (even of SIGKILL) every process still
 * held is resumed from its exit tracepoint, before its links are closed. */
const volatile __u32 etrace_tgid = 0;
/* Set by user space to behave as a kernel without bpf_send_signal_task
 * (ETRACE_NO_SIGNAL_TASK=1, for tests of what 6.1 and 6.12 do). */
const volatile bool no_signal_task = false;

/* Asks user space for the heap probes of process pid; stops it until then
 * when hold is set (only when the request was sent: nobody would resume it). */
static __always_inline void heap_attach_request(__u32 pid, __u32 tid, bool hold, struct task_struct *child,
						bool parent_traces, __u32 reason)
{
	if (reason != ET_HEAP_WHY_PRELOAD && (!heap_per_process || bpf_map_lookup_elem(&heap_scoped, &pid)))
		return;
	struct ev_heap_attach *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(ET_CNT_LOST_HOLD);
		return;
	}
	e->h.type = ET_EV_HEAP_ATTACH;
	e->h.size = sizeof(*e);
	e->h.ts = bpf_ktime_get_ns();
	e->h.pid = pid;
	e->h.tid = tid;
	e->reason = reason;
	e->pad = 0;
	/* the stop goes first: a SIGCONT sent before it would not undo it */
	e->why = hold ? hold_process(child, pid, parent_traces) : ET_HOLD_NO_KERNEL;
	e->held = e->why == ET_HOLD_DONE;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

static long release_cb(struct bpf_map *map, __u32 *pid, __u32 *val, void *ctx)
{
	struct task_struct *task = bpf_task_from_pid((s32)*pid);
	if (task) {
		send_sig(task, ET_SIGCONT);
		bpf_task_release(task);
	}
	return 0;
}

/* etrace is dying: no new stop, and every process it holds goes on. */
static __always_inline void release_all_holds(void)
{
	__u32 zero = 0;
	__u32 *holds_off = bpf_map_lookup_elem(&hold_gate, &zero);
	if (holds_off)
		__sync_fetch_and_add(holds_off, 1);
	if (bpf_task_from_pid && bpf_task_release && bpf_send_signal_task && !no_signal_task)
		bpf_for_each_map_elem(&heap_held_pids, release_cb, NULL, 0);
}

static __always_inline bool etrace_stop_signal(int sig, __u32 tgid)
{
	if (sig != 19 && sig != 18)
		return false;
	return bpf_map_lookup_elem(&heap_held_pids, &tgid) != 0;
}

#endif
