// SPDX-License-Identifier: GPL-2.0
/*
 * Where time went (--sched=on): sched_switch and sched_wakeup add up, per
 * traced thread in its task storage (bpf/shared.h), the time off a CPU by
 * what it slept in and the time runnable but not running. Loaded only with
 * the option; the core object sends the totals at the thread's exit
 * (bpf/timeacct.h).
 *
 * Every task switch on the machine runs et_sched_switch: an untraced task
 * pays the task->bpf_storage load of task_traced() for prev and next.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "shared.h"

char LICENSE[] SEC("license") = "GPL";

/* per syscall number: 1 + enum et_off_reason (0: ET_OFF_OTHER); from user space */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ET_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u8);
} wait_class SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(et_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = 0;
	struct et_task *t = task_traced(prev);
	if (t) {
		now = bpf_ktime_get_ns();
		struct et_sched *s = &t->sched;
		if (preempt || prev_state == 0 /* TASK_RUNNING */) {
			s->wake_ts = now;
			s->off_ts = 0;
			s->invol++;
		} else {
			s->off_ts = now;
			s->wake_ts = 0;
			s->vol++;
			__u32 r = ET_OFF_OTHER;
			if (t->in_flight) {
				__u32 nr = t->rec.nr;
				__u8 *c = bpf_map_lookup_elem(&wait_class, &nr);
				if (c && *c)
					r = *c - 1;
			} else if (prev_state & 2 /* TASK_UNINTERRUPTIBLE */) {
				r = ET_OFF_FAULT;
			}
			s->off_reason = r;
		}
	}
	struct et_task *n = task_traced(next);
	if (n) {
		if (!now)
			now = bpf_ktime_get_ns();
		struct et_sched *s = &n->sched;
		if (s->off_ts) {
			__u64 end = s->wake_ts > s->off_ts ? s->wake_ts : now;
			__u32 r = s->off_reason;
			if (r < ET_OFF_MAX)
				s->off_ns[r] += end - s->off_ts;
		}
		if (s->wake_ts && now > s->wake_ts) {
			__u64 d = now - s->wake_ts;
			s->runq_ns += d;
			if (d > s->runq_max_ns)
				s->runq_max_ns = d;
		}
		s->off_ts = 0;
		s->wake_ts = 0;
	}
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(et_sched_wakeup, struct task_struct *p)
{
	struct et_task *t = task_traced(p);
	if (t && t->sched.off_ts && !t->sched.wake_ts)
		t->sched.wake_ts = bpf_ktime_get_ns();
	return 0;
}
