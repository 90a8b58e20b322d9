// SPDX-License-Identifier: GPL-2.0
/*
 * Argument capture: strings, buffers, socket addresses, messages and argv
 * of a syscall into its in-flight record, as the capture plan (the specs
 * map) says; the record's sending and the per-syscall totals.
 * A part of the core object (bpf/etrace.bpf.c includes it once, after
 * the parts before it): one object, so one skeleton and one set of maps.
 */
#ifndef ETRACE_CORE_CAPTURE_H
#define ETRACE_CORE_CAPTURE_H

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

/* et_copy_piece's answer when the user memory could not be read (a
 * piece is at most ET_CAP_MAX_ONE bytes) */
#define ET_PIECE_FAULT 0xffffffffu

/* One piece: at most ET_CAP_MAX_ONE - 8 of the len bytes at user address
 * src to area[pos..end). Returns the bytes copied (0: no room), or
 * ET_PIECE_FAULT. Global, verified once, not again for each state of
 * piece_cb's loop. */
__noinline __u32 et_copy_piece(struct et_task *t, __u32 pos, __u32 end, __u64 src, __u64 len)
{
	if (!t || pos >= end)
		return 0;
	__u64 n = end - pos;
	if (n > len)
		n = len;
	if (n > ET_CAP_MAX_ONE - 8)
		n = ET_CAP_MAX_ONE - 8;
	__u64 at = pos;
	barrier_var(at);
	at &= CAP_MASK;
	barrier_var(n);
	n &= ET_CAP_MAX_ONE - 1;
	if (!n)
		return 0;
	if (bpf_probe_read_user(&t->area[at], n, (void *)src))
		return ET_PIECE_FAULT;
	return n;
}

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
	__u32 n = et_copy_piece(cx->t, cx->pos, cx->end, cx->base, cx->len);
	if (n == ET_PIECE_FAULT) {
		cx->fault = 1;
		return 1;
	}
	if (!n)
		return 1;
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
	__u32 off;
	__u32 fault;
	__u8 arg;
};

/* et_capture_msg's answers that are not an offset (an offset is at most
 * ET_CAP_AREA): the message header could not be read, the area is full */
#define ET_MSG_FAULT 0xffffffffu
#define ET_MSG_FULL 0xfffffffeu

/* Message k (how: k | arg << 8 | 1 << 16 for a struct mmsghdr) whose
 * header is at user address uh, appended at area[off]: returns the new
 * offset, or ET_MSG_FAULT or ET_MSG_FULL. ret_len is the bytes the call
 * moved (one msghdr; an mmsghdr has its own msg_len). A global function,
 * verified once: as the body of msg_cb the verifier went over it again
 * for each state of the loop it could not prove equal to one it had
 * seen, ~6,000 instructions of et_sys_exit's ~10,000. */
__noinline __u32 et_capture_msg(struct et_task *t, __u32 off, __u64 uh, __u32 ret_len, __u32 how)
{
	struct {
		__u64 name;
		__u32 namelen, pad0;
		__u64 iov, iovlen, control, controllen;
		__u32 flags, pad1;
		__u32 msg_len;   /* struct mmsghdr only */
		__u32 pad2;
	} h;
	if (!t)
		return ET_MSG_FULL;
	bool mmsg = how & (1 << 16);
	if (bpf_probe_read_user(&h, mmsg ? sizeof(h) : sizeof(h) - 8, (void *)uh))
		return ET_MSG_FAULT;
	if (off > ET_CAP_AREA - sizeof(struct ev_capture) - sizeof(struct et_msg) - 8)
		return ET_MSG_FULL;
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
	__u32 len = mmsg ? h.msg_len : ret_len;
	/* a datagram to or from port 53 is kept whole, up to ET_DNS_MAX */
	__u32 want = (t->rec.flags & ET_SC_F_DNS) && data_max < ET_DNS_MAX ? ET_DNS_MAX : data_max;
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
	c->arg = (how >> 8) & 0xff;
	c->kind = ET_CAP_MSG;
	c->seq = how & 0xff;
	c->truncated = 0;
	c->pad = 0;
	c->len = end - (off + sizeof(*c));
	t->rec.ncap++;
	return (end + 7) & ~7U;
}

static long msg_cb(__u32 k, struct msg_ctx *cx)
{
	if (k >= cx->count || k >= ET_MSG_MAX)
		return 1;
	__u32 r = et_capture_msg(cx->t, cx->off, cx->vec + (__u64)k * cx->stride, cx->ret_len,
				 k | (__u32)cx->arg << 8 | (cx->stride ? 1u << 16 : 0));
	if (r == ET_MSG_FAULT) {
		cx->fault = 1;
		return 1;
	}
	if (r == ET_MSG_FULL)
		return 1;
	cx->off = r;
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
		/* a long write to stdout or stderr: its end too, where a runner's
		 * summary puts the failed test's message (CPython's regrtest
		 * writes a failed helper's stderr at the end of one long write) */
		if (is_stdio(t->rec.args[0]) && cx->ret > 0 && (__u64)cx->ret > len) {
			__u32 tail = (__u64)cx->ret - len > ET_STDERR_MAX ? ET_STDERR_MAX : (__u32)((__u64)cx->ret - len);
			cx->off = et_put_capture(t, cx->off, i | (__u32)ET_CAP_TAIL << 8, p + (__u64)cx->ret - tail, tail);
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

#endif
