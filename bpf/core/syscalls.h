// SPDX-License-Identifier: GPL-2.0
/*
 * The syscalls: sys_enter fills the in-flight record (arguments, and what
 * capture.h reads), sys_exit adds the return value and output buffers and
 * sends it; the network's programs asked for at the first inet socket.
 * A part of the core object (bpf/etrace.bpf.c includes it once, after
 * the parts before it): one object, so one skeleton and one set of maps.
 */
#ifndef ETRACE_CORE_SYSCALLS_H
#define ETRACE_CORE_SYSCALLS_H

/* writev to stderr: glibc writes its fatal messages ("free(): double free
 * detected in tcache 2") this way, just before it aborts. */
struct iov_ctx {
	struct et_task *t;
	__u64 iov;
	__u32 off;
	__u32 left;     /* bytes still allowed in all */
};

/* et_capture_iov's answer when the iovec cannot be read */
#define ET_IOV_STOP 0xffffffffu

/* iovec i (at user address uiov) of a writev to stderr, at most left
 * bytes of it, appended at area[off]: returns the new offset, and the bytes
 * the iovec counted for in its upper 16 bits (both are under 64 KiB), or
 * ET_IOV_STOP. Global, verified once, not for each state of iov_cb's loop
 * (its remaining bytes and offset differ at each turn). */
__noinline __u32 et_capture_iov(struct et_task *t, __u32 off, __u64 uiov, __u32 i, __u32 left)
{
	struct { __u64 base, len; } v;
	if (!t || bpf_probe_read_user(&v, sizeof(v), (void *)uiov))
		return ET_IOV_STOP;
	__u32 n = v.len > left ? left : v.len;
	if (n && v.base)
		off = put_capture(t, off, 1, ET_CAP_IOV_IN, i, (void *)v.base, n, false);
	return (n & 0xffff) << 16 | (off & 0xffff);
}

static long iov_cb(__u32 i, struct iov_ctx *cx)
{
	if (i >= 8 || cx->left < 16)
		return 1;
	__u32 r = et_capture_iov(cx->t, cx->off, cx->iov + (__u64)i * 16, i, cx->left);
	if (r == ET_IOV_STOP)
		return 1;
	cx->off = r & 0xffff;
	cx->left -= r >> 16;
	return 0;
}

static __always_inline __u32 capture_stdio_iov(struct et_task *t, __u32 off)
{
	__u64 cnt = t->rec.args[2];
	struct iov_ctx cx = { .t = t, .iov = t->rec.args[1], .off = off, .left = ET_STDERR_MAX };
	if (!cx.iov)
		return off;
	bpf_loop(cnt < 8 ? cnt : 8, iov_cb, &cx, 0);
	return cx.off;
}

/* The six syscall arguments from the user registers (x86_64 syscall ABI:
 * rdi, rsi, rdx, r10, r8, r9; arm64: x0..x5). */
static __always_inline void read_syscall_args(struct pt_regs *regs, __u64 *a)
{
#if defined(__TARGET_ARCH_x86)
	/* tp_btf gives a trusted pointer: plain loads, no probe_read calls */
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
#else
	a[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	a[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	a[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	a[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	a[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
	a[5] = 0;
#endif
}

/* The preload recorder's own system calls (runner/preload/sys.h): its
 * syscall instruction is followed by an 8-byte nop carrying "ETRC". They
 * are etrace's, not the program's: left out of the trace. Only the calls
 * the recorder makes are looked at (one user read each). */
#define ET_RECORDER_MARK 0x4352544500841f0fULL

static __always_inline bool recorder_syscall(struct pt_regs *regs, __u32 nr)
{
#if defined(__TARGET_ARCH_x86)
	switch (nr) {
	case 0: case 2: case 3: case 7: case 9: case 10: case 11: case 35: case 39: case 41: case 42: case 46: case 72:
	case 77: case 186: case 302: case 319:
		break;
	default:
		return false;
	}
	__u64 w = 0;
	if (bpf_probe_read_user(&w, sizeof(w), (void *)BPF_CORE_READ(regs, ip)))
		return false;
	return w == ET_RECORDER_MARK;
#else
	return false;
#endif
}

/* Whether fd is open with O_NONBLOCK in the calling process. A connect()
 * that says EINPROGRESS gave up waiting (SO_SNDTIMEO ran out) only on a
 * blocking socket; how long it took cannot tell the two apart: a
 * non-blocking connect on a slow machine (a TCG guest) takes 10 ms. */
static __always_inline bool fd_nonblock(__u64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return false;
	return BPF_CORE_READ(f, f_flags) & 04000; /* O_NONBLOCK on x86_64 and arm64 */
}

#include "../timeacct.h"

/* Set by user space: the network's programs (bpf/net.bpf.c) are loaded
 * when the tree first needs them, not at the start. A socket of the tree
 * is made by socket(AF_INET/AF_INET6), or without a syscall by an io_uring
 * (IORING_OP_SOCKET), or taken from another process (pidfd_getfd); one
 * passed in (inherited, SCM_RIGHTS) needs one of those first, or etrace's
 * own descriptors (runner/tracer.c loads at the start then). The process
 * is held until the programs are attached: its connect comes after. */
const volatile __u32 net_lazy = 0;

static __always_inline void net_needed(struct pt_regs *regs, __u32 nr)
{
	__u32 ready_key = ET_GATE_NET_READY;
	__u32 *ready = bpf_map_lookup_elem(&hold_gate, &ready_key);
	if (!ready || *ready)
		return;
	if (nr == nr_socket) {
		__u64 a[6];
		read_syscall_args(regs, a);
		if (a[0] != 2 /* AF_INET */ && a[0] != 10 /* AF_INET6 */)
			return;
	}
	struct ev_concern *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(ET_CNT_LOST_HOLD);
		return;
	}
	fill_header(&e->h, ET_EV_CONCERN, sizeof(*e));
	e->need = ET_NEED_NET;
	e->pad = 0;
	/* the stop goes first: a SIGCONT sent before it would not undo it */
	e->why = hold_process(NULL, e->h.pid, false);
	e->held = e->why == ET_HOLD_DONE;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(et_sys_enter, struct pt_regs *regs, long id)
{
	struct et_task *t = traced_task();
	if (!t)
		return 0;
	__u32 nr = id;
	if (nr == nr_uretprobe)
		return 0; /* --trace-func's return probes, not the program */
	if (nr == nr_ptrace)
		t->ptracer = 1;
	if (net_lazy && (nr == nr_socket || nr == nr_io_uring_setup || nr == nr_pidfd_getfd))
		net_needed(regs, nr);
	if (t->redacted)
		return 0; /* a privileged process: nothing of it recorded */
	if (t->wait_exec) {
		/* the launcher's child before its execve: not the target yet */
		if (nr != nr_execve && nr != nr_execveat)
			return 0;
		t->wait_exec = 0;
	}
	if (shared_cfg.heap_preload && recorder_syscall(regs, nr))
		return 0;
	struct ev_syscall *r = &t->rec;
	fill_header(&r->h, ET_EV_SYSCALL, 0);
	r->enter_ts = r->h.ts;
	r->nr = nr;
	r->ret = 0;
	r->ncap = 0;
	r->flags = 0;
	t->retry = 0;
	read_syscall_args(regs, r->args);
	if (nr == nr_connect && fd_nonblock(r->args[0]))
		r->flags |= ET_SC_F_NONBLOCK;

	__u32 off = 0;
	struct et_syscall_spec *sp = 0;
	if (nr < ET_MAX_SYSCALLS)
		sp = bpf_map_lookup_elem(&specs, &nr);
	if (sp && sp->at_enter)
		off = capture_enter(t, sp, off);
	if (nr == nr_writev && is_stdio(r->args[0]))
		off = capture_stdio_iov(t, off);
	t->in_flight = 1;
	if (sp && sp->noreturn) {
		timeacct_mm(t);
		/* exit/exit_group: there will be no sys_exit */
		r->flags |= ET_SC_F_NORETURN;
		t->in_flight = 0;
		account(nr, 0, 0);
		send_syscall(t, off);
	} else {
		r->cap_len = off;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(et_sys_exit, struct pt_regs *regs, long ret)
{
	struct et_task *t = traced_task();
	if (!t || !t->in_flight)
		return 0;
	t->in_flight = 0;
	struct ev_syscall *r = &t->rec;
	/* an execve that made the process privileged is still the caller's
	 * own call (its path and argv); nothing read at its exit is kept */
	if (t->redacted && r->nr != nr_execve && r->nr != nr_execveat)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	r->h.ts = now;
	r->ret = ret;
	__u32 nr = r->nr;
	__u32 off = r->cap_len;
	struct et_syscall_spec *sp = 0;
	if (nr < ET_MAX_SYSCALLS)
		sp = bpf_map_lookup_elem(&specs, &nr);
	if ((nr == nr_execve || nr == nr_execveat) && ret == 0)
		t->retry = 0; /* the old image is gone */
	/* sendto, recvfrom with an address: port 53 there is DNS too (an
	 * unconnected socket; a connected one was seen by udp_note()) */
	if (sp && sp->sock && sp->sock <= 6 && port53_at(r->args[(sp->sock - 1) & 7]))
		r->flags |= ET_SC_F_DNS;
	if (sp && (sp->at_exit || t->retry) && !t->redacted)
		off = capture_exit(t, sp, off, ret);
	account(nr, ret, now - r->enter_ts);
	timeacct_futex(t, now);
	send_syscall(t, off);
	return 0;
}

#endif
