// SPDX-License-Identifier: GPL-2.0
/*
 * Signals and crashes: a delivered signal (with the crash's registers,
 * stack and uretprobe trampolines for a fatal one), and who sent which.
 * A part of the core object (bpf/etrace.bpf.c includes it once, after
 * the parts before it): one object, so one skeleton and one set of maps.
 */
#ifndef ETRACE_CORE_SIGNALS_H
#define ETRACE_CORE_SIGNALS_H

#include "../hang_deliver.h"

/* Signals whose default action does not end the process. */
static __always_inline bool default_is_harmless(int sig)
{
	switch (sig) {
	case 17: /* SIGCHLD */
	case 18: /* SIGCONT */
	case 19: /* SIGSTOP */
	case 20: /* SIGTSTP */
	case 21: /* SIGTTIN */
	case 22: /* SIGTTOU */
	case 23: /* SIGURG */
	case 28: /* SIGWINCH */
		return true;
	}
	return false;
}

static __always_inline bool has_fault_addr(int sig)
{
	return sig == 11 || sig == 7 || sig == 8 || sig == 4 || sig == 5; /* SEGV BUS FPE ILL TRAP */
}

struct stack_ctx {
	struct ev_crash *e;
	__u64 sp;      /* where the copy starts */
	__u64 len;     /* bytes to copy: up to the end of the stack mapping */
};

static long stack_end_cb(struct task_struct *task, struct vm_area_struct *vma, struct stack_ctx *cx)
{
	/* after a stack overflow sp is in the guard gap below the mapping:
	 * copy from the mapping's start, where the caller frames are */
	if (vma->vm_start > cx->sp)
		cx->sp = vma->vm_start;
	cx->len = vma->vm_end > cx->sp ? vma->vm_end - cx->sp : 0;
	return 0;
}

/* Copies the user stack upwards from sp a chunk at a time, up to the end
 * of its mapping. A chunk never crosses a page boundary: when the mapping's
 * end is not known (the fallback below) the first unreadable page ends the
 * copy, and the bytes before it in that page are still copied. (Chunks of a
 * fixed size lost everything when the whole stack was under one chunk, as
 * in a small environment: one frame left, seen on 6.12 under load.) */
/* enough turns for 32 one-KiB chunks and a split at each of 9 page boundaries */
#define ET_STACK_LOOPS (ET_STACK_MAX / ET_STACK_CHUNK + ET_STACK_MAX / 4096 + 1)

static long stack_cb(__u32 i, struct stack_ctx *cx)
{
	__u32 off = cx->e->stack_len;
	if (off >= cx->len || off > ET_STACK_MAX - ET_STACK_CHUNK)
		return 1;
	__u64 at = cx->sp + off;
	__u64 n = cx->len - off;
	if (n > ET_STACK_CHUNK)
		n = ET_STACK_CHUNK;
	if (n > 4096 - (at & 4095))
		n = 4096 - (at & 4095);
	barrier_var(n);
	if (n == 0 || n > ET_STACK_CHUNK)
		return 1;
	if (bpf_probe_read_user(&cx->e->stack[off], n, (void *)at))
		return 1;
	cx->e->stack_len = off + n;
	return 0;
}

/* The calls in progress whose return address a uretprobe replaced (see
 * struct ev_crash): from the thread's list of return instances. */
struct uret_ctx {
	struct ev_crash *e;
	struct return_instance *ri;
};

static long uret_cb(__u32 i, struct uret_ctx *cx)
{
	struct return_instance *ri = cx->ri; /* a local: CO-RE relocates the kernel struct only */
	if (!ri || i >= ET_URET_MAX)
		return 1;
	__u32 k = i;
	barrier_var(k);
	k &= ET_URET_MAX - 1; /* a no-op the verifier needs to see */
	cx->e->uret[k][0] = BPF_CORE_READ(ri, stack);
	cx->e->uret[k][1] = BPF_CORE_READ(ri, orig_ret_vaddr);
	cx->e->nuret = i + 1;
	cx->ri = BPF_CORE_READ(ri, next);
	return 0;
}

static __always_inline void capture_uretprobes(struct ev_crash *e)
{
	e->nuret = 0;
	e->uret_trampoline = 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!bpf_core_field_exists(task->utask))
		return;
	struct uret_ctx cx = { .e = e, .ri = BPF_CORE_READ(task, utask, return_instances) };
	if (!cx.ri)
		return;
	e->uret_trampoline = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	bpf_loop(ET_URET_MAX, uret_cb, &cx, 0);
}

static __always_inline void capture_crash(struct et_task *t, int sig, int code, __u64 addr)
{
	struct ev_crash *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(ET_CNT_LOST_CRASH);
		return;
	}
	fill_header(&e->h, ET_EV_CRASH, sizeof(*e));
	e->sig = sig;
	e->code = code;
	e->addr = addr;
	e->stack_len = 0;
	capture_uretprobes(e);
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs || bpf_probe_read_kernel(e->regs, sizeof(e->regs), regs)) {
		__builtin_memset(e->regs, 0, sizeof(e->regs));
		e->stack_addr = 0;
	} else {
		__u64 sp = e->regs[19];
		struct stack_ctx cx = { .e = e, .sp = sp, .len = 0 };
		struct task_struct *task = bpf_get_current_task_btf();
		/* the end of the stack's mapping bounds the copy; sp itself is
		 * unmapped after an overflow, the mapping starts a little above */
		if (bpf_find_vma(task, sp, stack_end_cb, &cx, 0)) {
			/* no answer: sp unmapped, or the lookup was refused (it
			 * only try-locks the mm, and 6.x kernels return EBUSY
			 * while its irq_work is taken: seen under load on 6.12).
			 * Copy from sp until a chunk fails, else from the next
			 * page up (sp itself unmapped after an overflow). */
			cx.len = ET_STACK_MAX;
			bpf_loop(ET_STACK_LOOPS, stack_cb, &cx, 0);
			if (!e->stack_len)
				cx.sp = (sp + 4095) & ~4095ULL;
		}
		e->stack_addr = cx.sp;
		if (!e->stack_len)
			bpf_loop(ET_STACK_LOOPS, stack_cb, &cx, 0);
	}
	/* a crash is rare and the report waits for it: wake the reader now */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(et_signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	struct et_task *t = traced_task();
	if (!t)
		return 0;
	if (etrace_stop_signal(sig, bpf_get_current_pid_tgid() >> 32))
		return 0;
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_signal *e = &s->signal;
	fill_header(&e->h, ET_EV_SIGNAL, sizeof(*e));
	e->sig = sig;
	e->code = 0;
	e->err = 0;
	e->sender_pid = 0;
	e->addr = 0;
	e->pad = 0;
	/* SEND_SIG_NOINFO (NULL) and SEND_SIG_PRIV (1) carry no siginfo */
	if ((unsigned long)info > 1) {
		e->code = BPF_CORE_READ(info, si_code);
		e->err = BPF_CORE_READ(info, si_errno);
		if (has_fault_addr(sig))
			e->addr = (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr);
		else if (e->code <= 0)
			e->sender_pid = BPF_CORE_READ(info, _sifields._kill._pid);
	} else if ((unsigned long)info == 1) {
		e->code = 0x80; /* SI_KERNEL */
	}
	e->handler = (__u64)BPF_CORE_READ(ka, sa.sa_handler);
	e->fatal = (e->handler == ET_SIG_HANDLER_DFL && !default_is_harmless(sig)) || sig == 9;
	e->cause = ET_SIG_CAUSE_SENT;
	e->group_code = 0;
	if (sig == 9 && !info) {
		/* get_signal() found the group marked for death: an exit_group,
		 * an execve or a fatal signal of another thread. The threads an
		 * exit or exec ends are not signalled in any other sense: no
		 * crash record for them. */
		struct signal_struct *ss = BPF_CORE_READ((struct task_struct *)bpf_get_current_task_btf(), signal);
		__u32 flags = BPF_CORE_READ(ss, flags);
		e->group_code = BPF_CORE_READ(ss, group_exit_code);
		if (flags & 0x4 /* SIGNAL_GROUP_EXIT */) {
			if (BPF_CORE_READ(ss, oom_mm))
				e->cause = ET_SIG_CAUSE_OOM;
			else if (e->group_code & 0x7f)
				e->cause = ET_SIG_CAUSE_GROUP_SIGNAL;
			else
				e->cause = ET_SIG_CAUSE_GROUP_EXIT;
		} else if (BPF_CORE_READ(ss, group_exec_task)) {
			e->cause = ET_SIG_CAUSE_EXEC;
		}
		if (e->cause == ET_SIG_CAUSE_GROUP_EXIT || e->cause == ET_SIG_CAUSE_EXEC)
			e->fatal = 0;
	}
	if (t->redacted)
		e->addr = 0;   /* how it ended, not where */
	emit(e, sizeof(*e), ET_CNT_LOST_SIGNAL);
	if (e->fatal && !t->redacted) {
		hang_waitword(t);
		timeacct_mm(t);
		capture_crash(t, sig, e->code, e->addr);
	}
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(et_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct et_task *t = task_traced(task);
	if (!t)
		return 0;
	if (etrace_stop_signal(sig, task->tgid))
		return 0;
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_siggen *e = &s->siggen;
	fill_header(&e->h, ET_EV_SIGGEN, sizeof(*e));
	e->target_pid = task->tgid;
	e->target_tid = task->pid;
	e->sig = sig;
	e->code = (unsigned long)info > 1 ? BPF_CORE_READ(info, si_code) : ((unsigned long)info == 1 ? 0x80 : 0);
	e->result = result;
	e->group = group;
	bpf_get_current_comm(&e->sender_comm, sizeof(e->sender_comm));
	/* who the kernel saw send it: the syscall the current task is in (kill,
	 * tgkill, the write that raised SIGPIPE), or the kernel's own */
	struct task_struct *cur = bpf_get_current_task_btf();
	e->sender_flags = (unsigned long)info == 1 ? ET_SIGGEN_F_PRIV : !info ? ET_SIGGEN_F_NOINFO : 0;
	e->sender_nr = -1;
	if (BPF_CORE_READ(cur, flags) & 0x00200000 /* PF_KTHREAD */) {
		e->sender_flags |= ET_SIGGEN_F_KTHREAD;
	} else {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
		if (regs)
			e->sender_nr = (__s32)BPF_CORE_READ(regs, orig_ax);
	}
	emit(e, sizeof(*e), ET_CNT_LOST_SIGGEN);
	return 0;
}

#endif
