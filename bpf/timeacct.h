/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where time went (--sched=on), the core object's part (included by
 * bpf/core/syscalls.h): per thread, bpf/sched.bpf.c adds up in its task storage
 * the time off a CPU by what it slept in, the time runnable but not
 * running, and its switches; no record per switch. At the thread's exit
 * one ET_EV_TASKSTAT record (sent from here) carries those and the
 * kernel's own counters (CPU time, switches, bytes read and written, the
 * process's peak RSS). Waits on contended futex words are summed per word
 * in a hash map at sys_exit, read once at the end.
 */
#ifndef ETRACE_TIMEACCT_H
#define ETRACE_TIMEACCT_H

const volatile __u32 timeacct_on = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct et_futex_key);
	__type(value, struct et_futex_stat);
} futex_waits SEC(".maps");

/* sys_exit of a futex wait: one more wait on that word, if it was a lock's */
static __always_inline void timeacct_futex(struct et_task *t, __u64 now)
{
	if (!timeacct_on || t->rec.nr != nr_futex)
		return;
	__u32 cmd = t->rec.args[1] & 0x7f;
	bool lock = (cmd == 0 || cmd == 9) && (__u32)t->rec.args[2] == 2; /* glibc's contended mutex */
	if (!lock && cmd != 6 && cmd != 13) /* FUTEX_LOCK_PI, FUTEX_LOCK_PI2 */
		return;
	if (t->rec.ret == -11 /* EAGAIN: the word changed, no wait */)
		return;
	struct et_futex_key k = { .pid = t->rec.h.pid, .pad = 0, .addr = t->rec.args[0] };
	__u64 d = now - t->rec.enter_ts;
	struct et_futex_stat *st = bpf_map_lookup_elem(&futex_waits, &k);
	if (!st) {
		struct et_futex_stat z = { 0 };
		bpf_map_update_elem(&futex_waits, &k, &z, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&futex_waits, &k);
		if (!st) {
			count(ET_CNT_LOST_FUTEX);
			return;
		}
	}
	__sync_fetch_and_add(&st->waits, 1);
	__sync_fetch_and_add(&st->total_ns, d);
	if (d > st->max_ns) {
		st->max_ns = d;
		st->max_tid = t->rec.h.tid;
	}
}

/* mm->rss_stat before 6.2: atomic counters */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};
struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/* The peak RSS of the current task's memory, in pages: hiwater_rss is
 * updated only when pages are unmapped, so the current RSS counts too
 * (file, anon, shmem pages; not swap entries). */
static __always_inline void timeacct_mm(struct et_task *t)
{
	if (!timeacct_on)
		return;
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	if (!mm)
		return;
	__u64 hi = BPF_CORE_READ(mm, hiwater_rss);
	__s64 rss = 0;
	struct mm_struct___old *old = (void *)mm;
	if (bpf_core_type_exists(struct mm_rss_stat___old)) {   /* before 6.2 */
		rss = BPF_CORE_READ(old, rss_stat.count[0].counter) + BPF_CORE_READ(old, rss_stat.count[1].counter) +
		      BPF_CORE_READ(old, rss_stat.count[3].counter);
	} else {
		rss = BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
		      BPF_CORE_READ(mm, rss_stat[3].count);
	}
	__u64 peak = rss > 0 && (__u64)rss > hi ? (__u64)rss : hi;
	if (peak > t->sched.peak_pages)
		t->sched.peak_pages = peak;
}

/* The thread's totals at its exit. */
static __always_inline void timeacct_exit(struct task_struct *p, struct et_task *t, bool group_dead)
{
	if (!timeacct_on || t->redacted)
		return;
	struct ev_taskstat e;
	__builtin_memset(&e, 0, sizeof(e));
	fill_header(&e.h, ET_EV_TASKSTAT, sizeof(e));
	e.h.pid = BPF_CORE_READ(p, tgid);
	e.h.tid = BPF_CORE_READ(p, pid);
	e.group_dead = group_dead;
	e.sched_on = 1;
	e.runtime_ns = BPF_CORE_READ(p, se.sum_exec_runtime);
	e.utime_ns = BPF_CORE_READ(p, utime);
	e.stime_ns = BPF_CORE_READ(p, stime);
	e.nvcsw = BPF_CORE_READ(p, nvcsw);
	e.nivcsw = BPF_CORE_READ(p, nivcsw);
	if (bpf_core_field_exists(p->ioac)) {
		e.rchar = BPF_CORE_READ(p, ioac.rchar);
		e.wchar = BPF_CORE_READ(p, ioac.wchar);
		e.read_bytes = BPF_CORE_READ(p, ioac.read_bytes);
		e.write_bytes = BPF_CORE_READ(p, ioac.write_bytes);
	}
	e.maxrss_pages = t->sched.peak_pages;
	for (int i = 0; i < ET_OFF_MAX; i++)
		e.off_ns[i] = t->sched.off_ns[i];
	e.runq_ns = t->sched.runq_ns;
	e.runq_max_ns = t->sched.runq_max_ns;
	emit(&e, sizeof(e), ET_CNT_LOST_EXIT);
}

#endif
