/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hang report's part of signal_deliver (included by bpf/core/signals.h): a
 * fatal signal that interrupts a futex wait (a test runner's timeout
 * killing a deadlocked program) reads the futex word and the words after it
 * (a glibc mutex's __owner) while the process still exists, so the report
 * can say who held the lock. One record per thread, only at a fatal signal.
 */
#ifndef ETRACE_HANG_DELIVER_H
#define ETRACE_HANG_DELIVER_H

static __always_inline void hang_waitword(struct et_task *t)
{
	/* the last syscall was a futex wait: interrupted by the signal, or
	 * woken by the group's end (a pthread_join whose thread died first) */
	if (t->rec.nr != nr_futex)
		return;
	struct ev_waitword w;
	__builtin_memset(&w, 0, sizeof(w));
	fill_header(&w.h, ET_EV_WAITWORD, sizeof(w));
	w.addr = t->rec.args[0];
	w.ok = bpf_probe_read_user(w.words, sizeof(w.words), (void *)w.addr) == 0 ||
	       bpf_probe_read_user(w.words, 8, (void *)w.addr) == 0;
	emit(&w, sizeof(w), ET_CNT_LOST_SIGNAL);
}

#endif
