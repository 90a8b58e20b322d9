// SPDX-License-Identifier: GPL-2.0
/*
 * etrace kernel side: scoping to the target's task tree and the syscall
 * sequence.
 *
 * Scoping: a task is traced when it has task-local storage (struct et_task)
 * with traced set. The launcher creates it for its held child (through a
 * pidfd); sched_process_fork copies it to every new thread and process.
 * Every other task on the machine pays one storage lookup and returns.
 *
 * Syscalls: sys_enter fills the in-flight record in the task's storage
 * (arguments, strings and buffers the capture plan asks for); sys_exit adds
 * the return value and output buffers and sends the record in one ring
 * buffer write. Per-syscall totals are also kept in a per-CPU array, so the
 * summary stays exact when the ring buffer overflows.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "shared.h"

char LICENSE[] SEC("license") = "GPL";

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

/* ---- captures ---------------------------------------------------------- */


/* How et_put_capture reads: user memory, a user string, a kernel string. */
#define ET_READ_USER 0
#define ET_READ_USER_STR 1
#define ET_READ_KERNEL_STR 2

/* Appends one capture of up to ET_CAP_MAX_ONE bytes at area[off]: what
 * is the argument, kind and sequence number (arg | kind << 8 | seq << 16),
 * how_want the bytes wanted and how to read (want | ET_READ_* << 16).
 * Returns the new offset. A global function (not static, never inlined):
 * the verifier checks it once, on its own, instead of at each of the
 * dozen places the capture loops call it from, which cost 150,000
 * instructions of verification (docs/design-notes.md, Start-up). Its
 * arguments are packed because a BPF function takes at most five. */
__noinline __u32 et_put_capture(struct et_task *t, __u32 off, __u32 what, __u64 uptr, __u32 how_want)
{
	if (!t || off > ET_CAP_AREA - sizeof(struct ev_capture) - 8)
		return off;
	__u32 how = how_want >> 16, want = how_want & 0xffff;
	bool is_str = how != ET_READ_USER;
	/* The masks are no-ops after the check above, so the compiler would
	 * drop them; barrier_var keeps them for the verifier. */
	__u64 coff = off;
	barrier_var(coff);
	coff &= CAP_MASK;
	struct ev_capture *c = (void *)&t->area[coff];
	__u64 doff = coff + sizeof(*c);
	barrier_var(doff);
	doff &= CAP_MASK;
	long n;

	if (want > ET_CAP_MAX_ONE - 8)
		want = ET_CAP_MAX_ONE - 8;
	barrier_var(want);
	want &= ET_CAP_MAX_ONE - 1;
	if (how == ET_READ_KERNEL_STR)
		n = bpf_probe_read_kernel_str(&t->area[doff], want, (const void *)uptr);
	else if (is_str)
		n = bpf_probe_read_user_str(&t->area[doff], want, (const void *)uptr);
	else
		n = bpf_probe_read_user(&t->area[doff], want, (const void *)uptr) ? -1 : want;
	if (n < 0)
		return off; /* the caller retries at exit or counts the fault */
	c->arg = what & 0xff;
	c->kind = (what >> 8) & 0xff;
	c->seq = (what >> 16) & 0xff;
	c->truncated = 0;
	c->pad = 0;
	if (is_str) {
		/* n includes the NUL: a full buffer means the string may go on */
		if (n > 0)
			n -= 1;
		c->truncated = (n >= want - 1);
	}
	c->len = n;
	t->rec.ncap++;
	return (off + sizeof(*c) + n + 7) & ~7U;
}

static __always_inline __u32 put_capture_from(struct et_task *t, __u32 off, __u8 arg, __u8 kind,
					      __u8 seq, const void *uptr, __u32 want, bool is_str, bool kernel)
{
	__u32 how = !is_str ? ET_READ_USER : kernel ? ET_READ_KERNEL_STR : ET_READ_USER_STR;
	if (want > 0xffff)
		want = 0xffff;
	return et_put_capture(t, off, arg | (__u32)kind << 8 | (__u32)seq << 16, (__u64)uptr, want | how << 16);
}

static __always_inline __u32 put_capture(struct et_task *t, __u32 off, __u8 arg, __u8 kind,
					 __u8 seq, const void *uptr, __u32 want, bool is_str)
{
	return put_capture_from(t, off, arg, kind, seq, uptr, want, is_str, false);
}

/* Data longer than one copy (a DNS message), or spread over iovecs: copied
 * piece by piece, each at most ET_CAP_MAX_ONE - 8 bytes, to area[pos..end). */
struct piece_ctx {
	struct et_task *t;
	__u64 iov;       /* user iovec array still to follow (niov entries) */
	__u64 base, len; /* the current segment */
	__u32 niov;
	__u32 pos;       /* area offset of the next byte */
	__u32 end;       /* area offset not to pass (at most ET_CAP_AREA) */
	__u32 fault;
};

static long piece_cb(__u32 i, struct piece_ctx *cx)
{
	if (!cx->len) {
		struct { __u64 base, len; } v;
		if (!cx->niov)
			return 1;
		if (bpf_probe_read_user(&v, sizeof(v), (void *)cx->iov)) {
			cx->fault = 1;
			return 1;
		}
		cx->iov += sizeof(v);
		cx->niov--;
		cx->base = v.base;
		cx->len = v.len;
		if (!cx->len)
			return 0;
	}
	if (cx->pos >= cx->end)
		return 1;
	__u64 n = cx->end - cx->pos;
	if (n > cx->len)
		n = cx->len;
	if (n > ET_CAP_MAX_ONE - 8)
		n = ET_CAP_MAX_ONE - 8;
	__u64 pos = cx->pos;
	barrier_var(pos);
	pos &= CAP_MASK;
	barrier_var(n);
	n &= ET_CAP_MAX_ONE - 1;
	if (!n)
		return 1;
	if (bpf_probe_read_user(&cx->t->area[pos], n, (void *)cx->base)) {
		cx->fault = 1;
		return 1;
	}
	cx->pos += n;
	cx->base += n;
	cx->len -= n;
	return 0;
}

/* Copies to area[pos..end) from user memory: from src when niov is 0,
 * else from the niov iovecs at src. Returns where the copy ended. Global,
 * verified once (see et_put_capture). */
__noinline __u32 et_copy_pieces(struct et_task *t, __u32 pos, __u32 end, __u64 src, __u32 niov)
{
	if (!t)
		return pos;
	struct piece_ctx cx = { .t = t, .pos = pos, .end = end };
	if (niov) {
		cx.iov = src;
		cx.niov = niov > ET_IOV_MAX ? ET_IOV_MAX : niov;
	} else {
		cx.base = src;
		cx.len = end > pos ? end - pos : 0;
	}
	bpf_loop(ET_IOV_MAX + 8, piece_cb, &cx, 0);
	return cx.pos;
}

/* A buffer capture of any length the area still has room for (what:
 * arg | kind << 8). Global, verified once. */
__noinline __u32 et_put_data(struct et_task *t, __u32 off, __u32 what, __u64 uptr, __u32 want)
{
	if (!t)
		return off;
	if (want <= ET_CAP_MAX_ONE - 8)
		return et_put_capture(t, off, what & 0xffff, uptr, want);
	if (off > ET_CAP_AREA - sizeof(struct ev_capture) - 8)
		return off;
	__u64 coff = off;
	barrier_var(coff);
	coff &= CAP_MASK;
	struct ev_capture *c = (void *)&t->area[coff];
	__u32 doff = off + sizeof(*c);
	__u32 pos = et_copy_pieces(t, doff, doff + want > ET_CAP_AREA ? ET_CAP_AREA : doff + want, uptr, 0);
	if (pos <= doff || pos > ET_CAP_AREA)
		return off;
	c->arg = what & 0xff;
	c->kind = (what >> 8) & 0xff;
	c->seq = 0;
	c->truncated = 0;
	c->pad = 0;
	c->len = pos - doff;
	t->rec.ncap++;
	return (pos + 7) & ~7U;
}

static __always_inline __u32 put_data(struct et_task *t, __u32 off, __u8 arg, __u8 kind, __u64 uptr, __u32 want)
{
	return et_put_data(t, off, arg | (__u32)kind << 8, uptr, want);
}

/* A sockaddr in user memory for port 53 (AF_INET and AF_INET6 have the
 * port at the same place). */
static __always_inline bool port53_at(__u64 uaddr)
{
	struct { __u16 family, port; } sa;
	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr))
		return false;
	return (sa.family == 2 || sa.family == 10) && sa.port == bpf_htons(53);
}

/* sendmsg, recvmsg (one struct msghdr, its length the return value) and
 * sendmmsg, recvmmsg (struct mmsghdr[], each with its msg_len): one
 * ET_CAP_MSG per message, read at exit. */
struct msg_ctx {
	struct et_task *t;
	__u64 vec;       /* user address of the msghdr, or of the first mmsghdr */
	__u32 stride;    /* sizeof(struct mmsghdr), or 0 for one msghdr */
	__u32 count;     /* messages to capture */
	__u32 ret_len;   /* one msghdr: the bytes the call moved */
	__u32 limit;     /* data bytes per message */
	__u32 off;
	__u32 fault;
	__u8 arg;
};

static long msg_cb(__u32 k, struct msg_ctx *cx)
{
	struct {
		__u64 name;
		__u32 namelen, pad0;
		__u64 iov, iovlen, control, controllen;
		__u32 flags, pad1;
		__u32 msg_len;   /* struct mmsghdr only */
		__u32 pad2;
	} h;
	struct et_task *t = cx->t;
	if (k >= cx->count || k >= ET_MSG_MAX)
		return 1;
	__u64 uh = cx->vec + (__u64)k * cx->stride;
	if (bpf_probe_read_user(&h, cx->stride ? sizeof(h) : sizeof(h) - 8, (void *)uh)) {
		cx->fault = 1;
		return 1;
	}
	__u32 off = cx->off;
	if (off > ET_CAP_AREA - sizeof(struct ev_capture) - sizeof(struct et_msg) - 8)
		return 1;
	__u64 coff = off;
	barrier_var(coff);
	coff &= CAP_MASK;
	struct ev_capture *c = (void *)&t->area[coff];
	struct et_msg *mh = (void *)(c + 1);
	__u32 pos = off + sizeof(*c) + sizeof(*mh);
	__u32 namelen = h.name ? h.namelen : 0;
	if (namelen > ET_SOCKADDR_MAX)
		namelen = ET_SOCKADDR_MAX;
	if (pos + namelen > ET_CAP_AREA)
		namelen = 0;
	if (namelen) {
		__u64 npos = pos;
		barrier_var(npos);
		npos &= CAP_MASK;
		__u32 nl = namelen;
		barrier_var(nl);
		nl &= 0xff;
		if (!nl || bpf_probe_read_user(&t->area[npos], nl, (void *)h.name))
			namelen = 0;
	}
	pos += namelen;
	__u32 len = cx->stride ? h.msg_len : cx->ret_len;
	__u32 want = cx->limit;
	if (want < ET_DNS_MAX && port53_at(h.name))
		want = ET_DNS_MAX;
	if (want > len)
		want = len;
	__u32 end = pos;
	if (want && h.iovlen)
		end = et_copy_pieces(t, pos, pos + want > ET_CAP_AREA ? ET_CAP_AREA : pos + want, h.iov,
				     h.iovlen > ET_IOV_MAX ? ET_IOV_MAX : h.iovlen);
	if (end < pos || end > ET_CAP_AREA)
		end = pos;
	mh->len = len;
	mh->namelen = namelen;
	mh->flags = (__u16)h.flags;
	c->arg = cx->arg;
	c->kind = ET_CAP_MSG;
	c->seq = k;
	c->truncated = 0;
	c->pad = 0;
	c->len = end - (off + sizeof(*c));
	t->rec.ncap++;
	cx->off = (end + 7) & ~7U;
	return 0;
}

/* The capture loops run under bpf_loop(): each callback is verified once,
 * instead of once per unrolled iteration and offset. */
/* fd 1 or 2: their writes are kept longer (ET_STDERR_MAX), as a failed
 * process's last words are there */
static __always_inline bool is_stdio(__u64 fd)
{
	return fd == 1 || fd == 2;
}

struct cap_ctx {
	struct et_task *t;
	const struct et_syscall_spec *sp;
	__u64 argv;    /* user pointer of an ARGV argument */
	long ret;
	__u32 off;
	__u8 argv_arg;
};

/* Inputs (paths, data written, addresses). Returns true when something
 * should have been copied. */
static __always_inline bool capture_input(struct cap_ctx *cx, __u32 i, __u8 kind, __u64 p)
{
	struct et_task *t = cx->t;
	__u32 len;
	switch (kind) {
	case ET_CAP_STR:
		cx->off = put_capture(t, cx->off, i, kind, 0, (void *)p, ET_STR_MAX, true);
		return true;
	case ET_CAP_BUF_IN:
		len = t->rec.args[cx->sp->lenarg[i] & 7] /* 0..5 from the table; masked for the verifier */;
		/* stdout and stderr get more: an assert, abort or test failure
		 * message is what explains a crash or a failed run */
		if (len > (is_stdio(t->rec.args[0]) ? ET_STDERR_MAX : data_max))
			len = is_stdio(t->rec.args[0]) ? ET_STDERR_MAX : data_max;
		if (!len)
			return false;
		cx->off = put_capture(t, cx->off, i, kind, 0, (void *)p, len, false);
		return true;
	case ET_CAP_SOCKADDR_IN:
		len = t->rec.args[cx->sp->lenarg[i] & 7];
		if (len > ET_SOCKADDR_MAX)
			len = ET_SOCKADDR_MAX;
		if (!len)
			return false;
		cx->off = put_capture(t, cx->off, i, kind, 0, (void *)p, len, false);
		return true;
	}
	return false;
}

static long argv_cb(__u32 i, struct cap_ctx *cx)
{
	const char *const *argv = (const char *const *)cx->argv;
	const char *s = 0;
	if (i >= ET_ARGV_MAX)
		return 1;
	if (bpf_probe_read_user(&s, sizeof(s), &argv[i]) || !s)
		return 1;
	cx->off = put_capture(cx->t, cx->off, cx->argv_arg, ET_CAP_ARGV, i, s, ET_ARGV_STR_MAX, true);
	return 0;
}

static long enter_cb(__u32 i, struct cap_ctx *cx)
{
	struct et_task *t = cx->t;
	if (i >= 6)
		return 1;
	__u8 kind = cx->sp->kind[i];
	__u64 p = t->rec.args[i];
	if (kind == ET_CAP_NONE || !p)
		return 0;
	if (kind == ET_CAP_ARGV) {
		cx->argv = p;
		cx->argv_arg = i;
		return 0;
	}
	__u32 before = cx->off;
	if (capture_input(cx, i, kind, p) && cx->off == before)
		t->retry |= 1 << i; /* not paged in yet: the syscall itself will fault it in */
	return 0;
}

static __always_inline __u32 capture_enter(struct et_task *t, const struct et_syscall_spec *sp,
					   __u32 off)
{
	struct cap_ctx cx = { .t = t, .sp = sp, .off = off };
	bpf_loop(6, enter_cb, &cx, 0);
	if (cx.argv)
		bpf_loop(ET_ARGV_MAX, argv_cb, &cx, 0);
	return cx.off;
}

/* Argument i's capture at exit (what the call wrote, or an input to read
 * again). Global, verified once; capture_exit's loop calls it. */
__noinline __u32 et_capture_exit_arg(struct et_task *t, const struct et_syscall_spec *sp, __u32 i, long ret,
				     __u32 off)
{
	if (!t || !sp || i >= 6)
		return off;
	struct cap_ctx cx_ = { .t = t, .sp = sp, .off = off, .ret = ret };
	struct cap_ctx *cx = &cx_;
	__u8 kind = cx->sp->kind[i];
	__u64 p = t->rec.args[i];
	__u32 len = 0;
	if (kind == ET_CAP_NONE || !p)
		return cx->off;
	__u32 before = cx->off;
	bool wanted = false;
	/* a datagram to or from port 53 is kept whole, up to ET_DNS_MAX */
	__u32 limit = (t->rec.flags & ET_SC_F_DNS) && data_max < ET_DNS_MAX ? ET_DNS_MAX : data_max;
	if (t->retry & (1 << i)) {
		wanted = capture_input(cx, i, kind, p);
	} else if (kind == ET_CAP_SOCK_IN) {
		/* data sent (sendto, write), also when the call failed; stdout
		 * and stderr get more: the last words of a failed process */
		len = t->rec.args[cx->sp->lenarg[i] & 7];
		if (is_stdio(t->rec.args[0]) && limit < ET_STDERR_MAX)
			limit = ET_STDERR_MAX;
		if (len > limit)
			len = limit;
		if (len) {
			cx->off = put_data(t, cx->off, i, ET_CAP_BUF_IN, p, len);
			wanted = true;
		}
	} else if (cx->ret >= 0) {
		switch (kind) {
		case ET_CAP_BUF_OUT:
			len = cx->ret;
			if (len > limit)
				len = limit;
			if (len) {
				cx->off = put_data(t, cx->off, i, kind, p, len);
				wanted = true;
			}
			break;
		case ET_CAP_SOCKADDR_OUT: {
			__u64 lp = t->rec.args[cx->sp->lenarg[i] & 7];
			if (lp && !bpf_probe_read_user(&len, sizeof(__u32), (void *)lp)) {
				if (len > ET_SOCKADDR_MAX)
					len = ET_SOCKADDR_MAX;
				if (len) {
					cx->off = put_capture(t, cx->off, i, kind, 0, (void *)p, len, false);
					wanted = true;
				}
			}
			break;
		}
		case ET_CAP_FDPAIR_OUT:
			cx->off = put_capture(t, cx->off, i, kind, 0, (void *)p, 8, false);
			wanted = true;
			break;
		}
	}
	if (wanted && cx->off == before) {
		count(ET_CNT_CAPTURE_FAULT);
		t->rec.flags |= ET_SC_F_FAULT;
	}
	return cx->off;
}

static long exit_cb(__u32 i, struct cap_ctx *cx)
{
	if (i >= 6)
		return 1;
	cx->off = et_capture_exit_arg(cx->t, cx->sp, i, cx->ret, cx->off);
	return 0;
}

/* The messages of a sendmsg, recvmsg (k1 ET_CAP_MSG), sendmmsg or recvmmsg
 * (ET_CAP_MMSG) that returned ret >= 0. Global, verified once. */
__noinline __u32 et_capture_msgs(struct et_task *t, __u32 off, __u64 ret, __u32 k1)
{
	if (!t)
		return off;
	struct msg_ctx mc = {
		.t = t, .vec = t->rec.args[1], .arg = 1, .off = off,
		.limit = (t->rec.flags & ET_SC_F_DNS) && data_max < ET_DNS_MAX ? ET_DNS_MAX : data_max,
	};
	if (k1 == ET_CAP_MSG) {
		mc.count = 1;
		mc.ret_len = ret;
	} else {
		__u64 n = ret;
		if (n > t->rec.args[2])
			n = t->rec.args[2];
		mc.stride = 64; /* sizeof(struct mmsghdr) */
		mc.count = n > ET_MSG_MAX ? ET_MSG_MAX : n;
	}
	bpf_loop(ET_MSG_MAX, msg_cb, &mc, 0);
	if (mc.fault && mc.off == off) {
		count(ET_CNT_CAPTURE_FAULT);
		t->rec.flags |= ET_SC_F_FAULT;
	}
	return mc.off;
}

static __always_inline __u32 capture_exit(struct et_task *t, const struct et_syscall_spec *sp,
					  __u32 off, long ret)
{
	if (ret < 0 && !t->retry && !sp->sock)
		return off;
	struct cap_ctx cx = { .t = t, .sp = sp, .off = off, .ret = ret };
	bpf_loop(6, exit_cb, &cx, 0);
	off = cx.off;
	/* the messages of sendmsg, recvmsg, sendmmsg, recvmmsg (always argument 1) */
	__u8 k1 = sp->kind[1];
	if (ret >= 0 && (k1 == ET_CAP_MSG || k1 == ET_CAP_MMSG) && t->rec.args[1])
		off = et_capture_msgs(t, off, ret, k1);
	return off;
}

static __always_inline void send_syscall(struct et_task *t, __u32 off)
{
	__u64 len = off;
	if (len > ET_CAP_AREA)
		len = ET_CAP_AREA;
	t->rec.cap_len = len;
	t->rec.h.size = sizeof(struct ev_syscall) + len;
	/* the compiler knows len is bounded; make the verifier see it too */
	barrier_var(len);
	if (len > ET_CAP_AREA)
		return;
	/* rec and area are contiguous in struct et_task */
	emit(&t->rec, sizeof(struct ev_syscall) + len, ET_CNT_LOST_SYSCALL);
}

static __always_inline void account(__u32 nr, long ret, __u64 dur)
{
	struct et_syscall_stat *st = bpf_map_lookup_elem(&stats, &nr);
	if (!st)
		return;
	st->calls++;
	if (ret < 0 && ret >= -4095)
		st->errors++;
	st->total_ns += dur;
	if (dur > st->max_ns)
		st->max_ns = dur;
}

/* ---- syscalls ---------------------------------------------------------- */

/* writev to stderr: glibc writes its fatal messages ("free(): double free
 * detected in tcache 2") this way, just before it aborts. */
struct iov_ctx {
	struct et_task *t;
	__u64 iov;
	__u32 off;
	__u32 left;     /* bytes still allowed in all */
};

static long iov_cb(__u32 i, struct iov_ctx *cx)
{
	struct { __u64 base, len; } v;
	if (i >= 8 || cx->left < 16 ||
	    bpf_probe_read_user(&v, sizeof(v), (void *)(cx->iov + (__u64)i * sizeof(v))))
		return 1;
	__u32 n = v.len > cx->left ? cx->left : v.len;
	if (n && v.base)
		cx->off = put_capture(cx->t, cx->off, 1, ET_CAP_IOV_IN, i, (void *)v.base, n, false);
	cx->left -= n;
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

#include "timeacct.h"

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

/* ---- processes and threads --------------------------------------------- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(et_fork, struct task_struct *parent, struct task_struct *child)
{
	struct et_task *pt = task_traced(parent);
	if (!pt)
		return 0;
	struct et_task *ct = bpf_task_storage_get(&tasks, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct)
		return 0;
	ct->traced = 1;
	ct->wait_exec = 0;
	ct->in_flight = 0;
	ct->redacted = pt->redacted;

	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_fork *e = &s->fork;
	fill_header(&e->h, ET_EV_FORK, sizeof(*e));
	e->h.pid = BPF_CORE_READ(parent, tgid);
	e->h.tid = BPF_CORE_READ(parent, pid);
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	e->is_thread = e->child_pid == e->h.pid;
	e->shares_vm = !e->is_thread && BPF_CORE_READ(child, mm) == BPF_CORE_READ(parent, mm);
	BPF_CORE_READ_STR_INTO(&e->comm, child, comm);
	emit(e, sizeof(*e), ET_CNT_LOST_FORK);
	/* a forked child (not a thread, nor a vfork child sharing the
	 * parent's memory) is stopped before it runs, when the kernel can
	 * signal it from here, until its heap probes are attached */
	if (!e->is_thread && !e->shares_vm) {
		__u32 one = 1, ppid = e->h.pid, cpid = e->child_pid;
		if (shared_cfg.heap_preload && bpf_map_lookup_elem(&heap_preload_pids, &ppid))
			/* the library is in the child too: it starts a ring of its own */
			bpf_map_update_elem(&heap_preload_pids, &cpid, &one, BPF_ANY);
		else
			/* a child of a tracer (strace's own child before it attaches) is
			 * watched by it: strace waits for the child's own SIGSTOP */
			heap_attach_request(e->child_pid, e->child_tid, bpf_send_signal_task && !no_signal_task, child,
					    pt->ptracer, ET_HEAP_WHY_FORK);
	}
	return 0;
}

/* argv of the new image: NUL-separated strings between mm->arg_start and
 * arg_end, written by the kernel a moment ago, so always present. */
struct exec_argv_ctx {
	struct et_task *t;
	__u64 p, end;
	__u32 off;
	__u8 arg;
};

static long exec_argv_cb(__u32 i, struct exec_argv_ctx *cx)
{
	if (i >= ET_ARGV_MAX || cx->p >= cx->end)
		return 1;
	__u32 before = cx->off;
	cx->off = put_capture(cx->t, cx->off, cx->arg, ET_CAP_ARGV, i, (void *)cx->p, ET_ARGV_STR_MAX, true);
	if (cx->off == before)
		return 1;
	struct ev_capture *c = (void *)&cx->t->area[before & CAP_MASK];
	if (c->truncated)
		return 1;
	cx->p += c->len + 1;
	return 0;
}

/* The execve record's path and argv were in the old image, whose pages a
 * forked child may not have present (fork does not copy file-backed page
 * tables): take them from the kernel's copy instead. */
static __always_inline void exec_recapture(struct et_task *t, struct linux_binprm *bprm)
{
	if (!t->in_flight || (t->rec.nr != nr_execve && t->rec.nr != nr_execveat))
		return;
	__u8 patharg = t->rec.nr == nr_execve ? 0 : 1;
	t->rec.ncap = 0;
	t->rec.flags &= ~ET_SC_F_FAULT;
	t->retry = 0;
	const char *fn = BPF_CORE_READ(bprm, filename);
	__u32 off = put_capture_from(t, 0, patharg, ET_CAP_STR, 0, fn, ET_STR_MAX, true, true);
	struct mm_struct *mm = BPF_CORE_READ(bpf_get_current_task_btf(), mm);
	struct exec_argv_ctx cx = {
		.t = t,
		.p = BPF_CORE_READ(mm, arg_start),
		.end = BPF_CORE_READ(mm, arg_end),
		.off = off,
		.arg = patharg + 1,
	};
	bpf_loop(ET_ARGV_MAX, exec_argv_cb, &cx, 0);
	t->rec.cap_len = cx.off;
}

/* Where the new image was loaded, from the auxiliary vector the kernel
 * just built: symbolization needs it after the process is gone. */
struct auxv_ctx {
	unsigned long *auxv;
	struct ev_exec *e;
	__u64 secure;
};

static long auxv_cb(__u32 i, struct auxv_ctx *cx)
{
	__u64 pair[2];
	if (i >= 28 || bpf_probe_read_kernel(pair, sizeof(pair), &cx->auxv[i * 2]))
		return 1;
	switch (pair[0]) {
	case 0: /* AT_NULL */
		return 1;
	case 3: /* AT_PHDR */
		cx->e->at_phdr = pair[1];
		break;
	case 7: /* AT_BASE */
		cx->e->at_base = pair[1];
		break;
	case 9: /* AT_ENTRY */
		cx->e->at_entry = pair[1];
		break;
	case 23: /* AT_SECURE: setuid, setgid, file capabilities: the loader ignores LD_PRELOAD */
		cx->secure = pair[1];
		break;
	case 33: /* AT_SYSINFO_EHDR */
		cx->e->at_vdso = pair[1];
		break;
	}
	return 0;
}

/* Returns AT_SECURE. */
static __always_inline __u64 read_auxv(struct ev_exec *e)
{
	struct mm_struct *mm = bpf_get_current_task_btf()->mm;
	e->at_phdr = e->at_entry = e->at_base = e->at_vdso = 0;
	if (!mm)
		return 0;
	struct auxv_ctx cx = { .auxv = mm->saved_auxv, .e = e };
	bpf_loop(28, auxv_cb, &cx, 0);
	return cx.secure;
}

/* The new image runs with more than the invoking user has: the kernel's
 * secureexec (AT_SECURE: setuid, setgid, file capabilities, an LSM
 * transition), or any id or capability that is not the invoker's. */
static __always_inline bool exec_privileged(struct task_struct *p, struct linux_binprm *bprm)
{
	if (BPF_CORE_READ_BITFIELD(bprm, secureexec))
		return true;
	const struct cred *c = p->cred;
	__u32 u = invoker_uid, g = invoker_gid;
	if (c->uid.val != u || c->euid.val != u || c->suid.val != u || c->fsuid.val != u)
		return true;
	if (c->gid.val != g || c->egid.val != g || c->sgid.val != g || c->fsgid.val != g)
		return true;
	/* kernel_cap_t is a u64 since 6.3, two u32 before: 8 bytes either way */
	__u64 eff = 0, perm = 0;
	bpf_probe_read_kernel(&eff, sizeof(eff), (const char *)c + bpf_core_field_offset(struct cred, cap_effective));
	bpf_probe_read_kernel(&perm, sizeof(perm), (const char *)c + bpf_core_field_offset(struct cred, cap_permitted));
	return eff != 0 || perm != 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(et_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct et_task *t = task_traced(p);
	if (!t)
		return 0;
	/* argv is rebuilt from the new image: what the caller passed */
	exec_recapture(t, bprm);
	t->redacted = redact_on && exec_privileged(p, bprm);
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_exec *e = &s->exec;
	fill_header(&e->h, ET_EV_EXEC, sizeof(*e));
	e->old_tid = old_pid;
	e->redacted = t->redacted;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	const char *fn = BPF_CORE_READ(bprm, filename);
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), fn);
	e->at_phdr = e->at_entry = e->at_base = e->at_vdso = 0;
	__u64 secure = 0;
	if (!t->redacted)
		secure = read_auxv(e);   /* (its layout is the privileged process's) */
	__u32 pid = e->h.pid, tid = e->h.tid, one = 1, reason = ET_HEAP_WHY_EXEC;
	/* an interpreter (AT_BASE) loads LD_PRELOAD unless the exec is secure */
	bool dynamic = e->at_base != 0;
	emit(e, sizeof(*e), ET_CNT_LOST_EXEC);
	if (t->redacted) {
		/* a privileged process: its ring would not be taken either */
		bpf_map_delete_elem(&heap_preload_pids, &pid);
		return 0;
	}
	if (shared_cfg.heap_preload) {
		if (dynamic && !secure) {
			/* no stop: user space checks that the environment still
			 * names the library, and falls back to probes if not */
			bpf_map_update_elem(&heap_preload_pids, &pid, &one, BPF_ANY);
			heap_attach_request(pid, tid, false, NULL, false, ET_HEAP_WHY_PRELOAD);
			return 0;
		}
		bpf_map_delete_elem(&heap_preload_pids, &pid);
		reason = secure ? ET_HEAP_WHY_SECURE : ET_HEAP_WHY_STATIC;
	}
	heap_attach_request(pid, tid, true, NULL, false, reason);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(et_exit, struct task_struct *p)
{
	if (p->tgid == etrace_tgid && etrace_tgid && p->signal->live.counter == 0) {
		release_all_holds();
		return 0;
	}
	struct et_task *t = task_traced(p);
	if (!t)
		return 0;
	union et_small *s = small_record();
	if (!s)
		return 0;
	struct ev_exit *e = &s->exit;
	fill_header(&e->h, ET_EV_EXIT, sizeof(*e));
	e->h.pid = BPF_CORE_READ(p, tgid);
	e->h.tid = BPF_CORE_READ(p, pid);
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	int live = BPF_CORE_READ(sig, live.counter);
	e->group_dead = live == 0;
	__u32 code = BPF_CORE_READ(p, exit_code);
	/* a group exit or a fatal signal sets the group's code for all threads */
	if (BPF_CORE_READ(sig, flags) & 0x4 /* SIGNAL_GROUP_EXIT */)
		code = BPF_CORE_READ(sig, group_exit_code);
	e->exit_code = code;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	emit(e, sizeof(*e), ET_CNT_LOST_EXIT);
	timeacct_exit(p, t, live == 0);
	return 0;
}

/* ---- signals and crashes ------------------------------------------------- */

#include "hang_deliver.h"

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
