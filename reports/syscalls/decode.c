/*
 * strace-style decoding of syscall records: each argument according to the
 * signature table (reports/syscalls/syscall_table.c), the captured user memory that
 * came with the record, and the return value. Flags and constants by name:
 * decode_names.c; socket addresses: decode_sockaddr.c.
 *
 * A record may be corrupt (lost bytes, a bug on the BPF side): every capture
 * is bounds-checked against the record before use.
 */
#include "decode.h"
#include "syscall_table.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "decode_int.h"

static const struct named prot_names[] = {
	N(PROT_READ), N(PROT_WRITE), N(PROT_EXEC),
#ifdef PROT_SEM
	N(PROT_SEM),
#endif
	N(PROT_GROWSDOWN), N(PROT_GROWSUP),
};

static const struct named access_names[] = { N(R_OK), N(W_OK), N(X_OK) };

/* AT_EACCESS and AT_REMOVEDIR share a value: two tables. */
static const struct named at_names[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_REMOVEDIR), N(AT_SYMLINK_FOLLOW), N(AT_NO_AUTOMOUNT),
	N(AT_EMPTY_PATH),
#ifdef AT_STATX_FORCE_SYNC
	N(AT_STATX_FORCE_SYNC), N(AT_STATX_DONT_SYNC),
#endif
#ifdef AT_RECURSIVE
	N(AT_RECURSIVE),
#endif
};
static const struct named at_eaccess_names[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_EACCESS), N(AT_EMPTY_PATH),
};

static const struct named whence_names[] = {
	N(SEEK_SET), N(SEEK_CUR), N(SEEK_END),
#ifdef SEEK_DATA
	N(SEEK_DATA), N(SEEK_HOLE),
#endif
};

static const struct named fcntl_names[] = {
	N(F_DUPFD), N(F_GETFD), N(F_SETFD), N(F_GETFL), N(F_SETFL), N(F_GETLK), N(F_SETLK),
	N(F_SETLKW), N(F_SETOWN), N(F_GETOWN), N(F_SETSIG), N(F_GETSIG), N(F_SETOWN_EX),
	N(F_GETOWN_EX),
#ifdef F_OFD_GETLK
	N(F_OFD_GETLK), N(F_OFD_SETLK), N(F_OFD_SETLKW),
#endif
	N(F_SETLEASE), N(F_GETLEASE), N(F_NOTIFY), N(F_DUPFD_CLOEXEC), N(F_SETPIPE_SZ),
	N(F_GETPIPE_SZ),
#ifdef F_ADD_SEALS
	N(F_ADD_SEALS), N(F_GET_SEALS),
#endif
};

static const struct named sigprocmask_names[] = {
	N(SIG_BLOCK), N(SIG_UNBLOCK), N(SIG_SETMASK),
};

static const struct named ioctl_names[] = {
	N(TCGETS), N(TCSETS), N(TCSETSW), N(TCSETSF), N(TCGETA), N(TCSETA), N(TCSBRK),
	N(TCXONC), N(TCFLSH), N(TIOCEXCL), N(TIOCNXCL), N(TIOCSCTTY), N(TIOCGPGRP),
	N(TIOCSPGRP), N(TIOCOUTQ), N(TIOCSTI), N(TIOCGWINSZ), N(TIOCSWINSZ), N(TIOCMGET),
	N(TIOCMSET), N(FIONREAD), N(TIOCNOTTY), N(TIOCGSID), N(TIOCGPTN), N(TIOCSPTLCK),
#ifdef TIOCGPTPEER
	N(TIOCGPTPEER),
#endif
	N(FIONBIO), N(FIONCLEX), N(FIOCLEX), N(FIOASYNC), N(FIOQSIZE),
};

static const struct named wait_names[] = {
	N(WNOHANG), N(WUNTRACED), N(WEXITED), N(WCONTINUED), N(WNOWAIT),
	N(__WNOTHREAD), N(__WALL), N(__WCLONE),
};

static const struct named msg_names[] = {
	N(MSG_OOB), N(MSG_PEEK), N(MSG_DONTROUTE), N(MSG_CTRUNC), N(MSG_PROXY), N(MSG_TRUNC),
	N(MSG_DONTWAIT), N(MSG_EOR), N(MSG_WAITALL), N(MSG_FIN), N(MSG_SYN), N(MSG_CONFIRM),
	N(MSG_RST), N(MSG_ERRQUEUE), N(MSG_NOSIGNAL), N(MSG_MORE), N(MSG_WAITFORONE),
#ifdef MSG_BATCH
	N(MSG_BATCH),
#endif
#ifdef MSG_ZEROCOPY
	N(MSG_ZEROCOPY),
#endif
#ifdef MSG_FASTOPEN
	N(MSG_FASTOPEN),
#endif
	N(MSG_CMSG_CLOEXEC),
};

static const struct named shutdown_names[] = { N(SHUT_RD), N(SHUT_WR), N(SHUT_RDWR) };

static const struct named level_names[] = {
	N(SOL_SOCKET), N(IPPROTO_IP), N(IPPROTO_TCP), N(IPPROTO_UDP), N(IPPROTO_IPV6),
	N(IPPROTO_ICMP), N(IPPROTO_ICMPV6), N(IPPROTO_RAW), N(SOL_NETLINK), N(SOL_PACKET),
};

static const struct named clock_names[] = {
	N(CLOCK_REALTIME), N(CLOCK_MONOTONIC), N(CLOCK_PROCESS_CPUTIME_ID),
	N(CLOCK_THREAD_CPUTIME_ID), N(CLOCK_MONOTONIC_RAW), N(CLOCK_REALTIME_COARSE),
	N(CLOCK_MONOTONIC_COARSE), N(CLOCK_BOOTTIME), N(CLOCK_REALTIME_ALARM),
	N(CLOCK_BOOTTIME_ALARM), N(CLOCK_TAI),
};

static const struct named resolve_names[] = {
	N(RESOLVE_NO_XDEV), N(RESOLVE_NO_MAGICLINKS), N(RESOLVE_NO_SYMLINKS),
	N(RESOLVE_BENEATH), N(RESOLVE_IN_ROOT),
#ifdef RESOLVE_CACHED
	N(RESOLVE_CACHED),
#endif
};

/* ------------------------------------------------------------------ */
/* Captures                                                            */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Bytes of the capture area that may be read: cap_len, clamped to what the
 * record size says is there when the size is set. */
static size_t cap_limit(const struct ev_syscall *ev)
{
	size_t lim = ev->cap_len;
	if (lim > ET_CAP_AREA + ET_CAP_MAX_ONE)
		lim = ET_CAP_AREA + ET_CAP_MAX_ONE;
	if (ev->h.size != 0) {
		if (ev->h.size < sizeof(struct ev_syscall))
			return 0;
		size_t room = ev->h.size - sizeof(struct ev_syscall);
		if (lim > room)
			lim = room;
	}
	return lim;
}

/* The first capture of argument arg that match() takes. */
static const struct ev_capture *find_cap(const struct ev_syscall *ev, int arg, int seq,
					 bool (*match)(const struct ev_capture *c, int seq))
{
	if (!ev)
		return NULL;
	size_t lim = cap_limit(ev);
	size_t off = 0;
	for (unsigned i = 0; i < ev->ncap; i++) {
		if (off + sizeof(struct ev_capture) > lim)
			break;
		const struct ev_capture *c = (const struct ev_capture *)(ev_syscall_caps(ev) + off);
		size_t end = off + sizeof(struct ev_capture) + c->len;
		if (end > lim)
			break;   /* the length runs past the record: stop trusting it */
		if (c->arg == arg && match(c, seq))
			return c;
		off = align8(end);
	}
	return NULL;
}

/* an argument's capture: a write's tail is not its data */
static bool is_arg_capture(const struct ev_capture *c, int seq)
{
	if (c->kind == ET_CAP_TAIL)
		return false;
	return (c->kind != ET_CAP_ARGV && c->kind != ET_CAP_IOV_IN && c->kind != ET_CAP_MSG) || c->seq == seq;
}

static bool is_tail(const struct ev_capture *c, int seq)
{
	(void)seq;
	return c->kind == ET_CAP_TAIL;
}

const struct ev_capture *ev_find_capture(const struct ev_syscall *ev, int arg, int seq)
{
	return find_cap(ev, arg, seq, is_arg_capture);
}

const struct ev_capture *ev_find_tail(const struct ev_syscall *ev, int arg)
{
	return find_cap(ev, arg, 0, is_tail);
}

/* The capture for argument arg if it is of the expected kind. */
static const struct ev_capture *find_kind(const struct ev_syscall *ev, int arg, int seq, int kind)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, seq);
	if (c && c->kind != kind)
		return NULL;
	return c;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                           */

static size_t ctx_str_max(const struct decode_ctx *ctx)
{
	return ctx && ctx->str_max ? ctx->str_max : 32;
}

static void put_ptr(struct strbuf *out, et_u64 v)
{
	if (v == 0)
		sb_puts(out, "NULL");
	else
		sb_printf(out, "%#llx", (unsigned long long)v);
}

static void put_fd(const struct decode_ctx *ctx, int argi, int fd, struct strbuf *out)
{
	sb_printf(out, "%d", fd);
	if (fd < 0 || !ctx || !ctx->describe_fd)
		return;
	const char *d = ctx->describe_fd(ctx->fd_ctx, argi, fd);
	if (d) {
		sb_putc(out, '<');
		sb_escape(out, d);   /* a path the program chose */
		sb_putc(out, '>');
	}
}

/* A whole captured string, NUL-terminated or not. */
static void put_cap_string(struct strbuf *out, const struct ev_capture *c)
{
	const char *d = ev_capture_data(c);
	size_t n = strnlen(d, c->len);
	sb_quote(out, d, n, n, c->truncated);
}

static int is_error(et_s64 ret)
{
	return ret >= -4095 && ret <= -1;
}

static int sig_is(const struct syscall_sig *sig, const char *name)
{
	return sig && strcmp(sig->name, name) == 0;
}

static int sig_has(const struct syscall_sig *sig, int type)
{
	for (int i = 0; i < sig->nargs && i < 6; i++)
		if (sig->arg[i] == type)
			return 1;
	return 0;
}

/* fcntl commands whose third argument is ignored (not shown). */
static int fcntl_cmd_has_arg(int cmd)
{
	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ:
#ifdef F_GET_SEALS
	case F_GET_SEALS:
#endif
		return 0;
	}
	return 1;
}

static void decode_fcntl_arg(int cmd, et_u64 v, struct strbuf *out)
{
	switch (cmd) {
	case F_SETFD:
		if (v == FD_CLOEXEC)
			sb_puts(out, "FD_CLOEXEC");
		else if (v == 0)
			sb_puts(out, "0");
		else
			sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	case F_SETFL:
		decode_open_flags((unsigned long)v, out);
		break;
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETOWN: case F_SETSIG: case F_SETPIPE_SZ:
	case F_SETLEASE: case F_NOTIFY:
#ifdef F_ADD_SEALS
	case F_ADD_SEALS:
#endif
		sb_printf(out, "%d", (int)v);
		break;
	case F_GETLK: case F_SETLK: case F_SETLKW: case F_GETOWN_EX: case F_SETOWN_EX:
#ifdef F_OFD_GETLK
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
#endif
		put_ptr(out, v);
		break;
	default:
		sb_printf(out, "%#llx", (unsigned long long)v);
	}
}

static void decode_argv(const struct ev_syscall *ev, int i, struct strbuf *out)
{
	int n = 0, more = 0;
	for (int seq = 0; seq < 256; seq++) {
		const struct ev_capture *c = find_kind(ev, i, seq, ET_CAP_ARGV);
		if (!c)
			break;
		if (c->len == 0 && c->truncated) {
			more = 1;   /* marker: argv has entries past the captured ones */
			break;
		}
		sb_puts(out, n ? ", " : "[");
		put_cap_string(out, c);
		n++;
	}
	if (n == 0) {
		if (ev->args[i] == 0)
			sb_puts(out, "NULL");
		else if ((ev->flags & ET_SC_F_FAULT) || more)
			put_ptr(out, ev->args[i]);
		else
			sb_puts(out, "[]");
		return;
	}
	/* the BPF side copies at most ET_ARGV_MAX entries: a full list may
	 * have been cut */
	if (more || n >= ET_ARGV_MAX)
		sb_puts(out, ", ...");
	sb_putc(out, ']');
}

int decode_msg_capture(const struct ev_capture *c, struct et_msg *meta, const char **name, const char **data,
		       size_t *data_len)
{
	if (!c || c->kind != ET_CAP_MSG || c->len < sizeof(*meta))
		return -1;
	memcpy(meta, ev_capture_data(c), sizeof(*meta));
	if (meta->namelen > c->len - sizeof(*meta))
		return -1;
	*name = ev_capture_data(c) + sizeof(*meta);
	*data = *name + meta->namelen;
	*data_len = c->len - sizeof(*meta) - meta->namelen;
	if (*data_len > meta->len)
		*data_len = meta->len;
	return 0;
}

/* sendmsg, recvmsg: {msg_name={AF_INET, 127.0.0.1:53}, msg_data="..."};
 * sendmmsg, recvmmsg: [{msg_name=..., msg_data="...", msg_len=29}, ...] */
static void decode_msgs(const struct ev_syscall *ev, int i, int vec, const struct decode_ctx *ctx,
			struct strbuf *out)
{
	et_s64 ret = ev->ret;
	int n = 0;
	for (int seq = 0; seq < (vec ? ET_MSG_MAX : 1); seq++) {
		const struct ev_capture *c = find_kind(ev, i, seq, ET_CAP_MSG);
		struct et_msg meta;
		const char *name, *data;
		size_t dlen;
		if (decode_msg_capture(c, &meta, &name, &data, &dlen) < 0)
			break;
		sb_puts(out, n ? ", {" : vec ? "[{" : "{");
		if (meta.namelen) {
			sb_puts(out, "msg_name=");
			decode_sockaddr(name, meta.namelen, out);
			sb_puts(out, ", ");
		}
		sb_puts(out, "msg_data=");
		sb_quote(out, data, dlen, ctx_str_max(ctx), dlen < meta.len);
		if (vec)
			sb_printf(out, ", msg_len=%u", meta.len);
		sb_putc(out, '}');
		n++;
	}
	if (n == 0) {
		put_ptr(out, ev->args[i]);
		return;
	}
	if (vec) {
		if (!is_error(ret) && ret > n)
			sb_puts(out, ", ...");
		sb_putc(out, ']');
	}
}

void decode_arg(const struct ev_syscall *ev, int i, const struct decode_ctx *ctx, struct strbuf *out)
{
	if (i < 0 || i >= 6) {
		sb_puts(out, "?");
		return;
	}
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	et_u64 v = ev->args[i];
	if (!sig || i >= sig->nargs) {
		sb_printf(out, "%#llx", (unsigned long long)v);
		return;
	}
	const struct ev_capture *c;
	int len_i = sig->lenarg[i] < 6 ? sig->lenarg[i] : -1;

	switch (sig->arg[i]) {
	case A_INT:
		if (i > 0 && sig->arg[i - 1] == A_SOCKOPT_LEVEL)
			decode_sockopt_name((int)ev->args[i - 1], (int)v, out);
		else
			sb_printf(out, "%d", (int)v);
		break;
	case A_UINT:
		sb_printf(out, "%u", (unsigned)v);
		break;
	case A_PID:
		sb_printf(out, "%d", (int)v);
		break;
	case A_SIZE:
		sb_printf(out, "%llu", (unsigned long long)v);
		break;
	case A_OFF:
		sb_printf(out, "%lld", (long long)v);
		break;
	case A_HEX:
		if (i > 0 && sig->arg[i - 1] == A_FCNTL_CMD)
			decode_fcntl_arg((int)ev->args[i - 1], v, out);
		else
			sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	case A_PTR:
	case A_SOCKLEN_PTR:
	case A_ENVP:
		put_ptr(out, v);
		break;
	case A_DIRFD:
		if ((int)v == AT_FDCWD) {
			sb_puts(out, "AT_FDCWD");
			break;
		}
		/* fall through */
	case A_FD:
		put_fd(ctx, i, (int)v, out);
		break;
	case A_PATH:
	case A_STR:
		c = find_kind(ev, i, 0, ET_CAP_STR);
		if (c)
			put_cap_string(out, c);
		else
			put_ptr(out, v);
		break;
	case A_MSGHDR:
	case A_MMSGHDR:
		decode_msgs(ev, i, sig->arg[i] == A_MMSGHDR, ctx, out);
		break;
	case A_BUF_IN:
	case A_SOCK_BUF_IN: {
		c = find_kind(ev, i, 0, ET_CAP_BUF_IN);
		et_u64 want = len_i >= 0 ? ev->args[len_i] : 0;
		if (!c) {
			if (v != 0 && len_i >= 0 && want == 0)
				sb_puts(out, "\"\"");
			else
				put_ptr(out, v);
			break;
		}
		size_t n = c->len;
		if (len_i >= 0 && want < n)
			n = (size_t)want;
		int trunc = c->truncated || (len_i >= 0 && n < want);
		const char *d = ev_capture_data(c);
		if (sig_is(sig, "openat2") && n >= sizeof(struct open_how)) {
			struct open_how how;
			memcpy(&how, d, sizeof(how));
			sb_puts(out, "{flags=");
			decode_open_flags((unsigned long)how.flags, out);
			sb_printf(out, ", mode=%#03llo, resolve=", (unsigned long long)how.mode);
			put_flags(out, how.resolve, resolve_names, ARRAY_LEN(resolve_names), "0");
			sb_putc(out, '}');
		} else if (sig_is(sig, "setsockopt") && n == sizeof(int) && !trunc) {
			int iv;
			memcpy(&iv, d, sizeof(iv));
			sb_printf(out, "[%d]", iv);
		} else {
			sb_quote(out, d, n, ctx_str_max(ctx), trunc);
		}
		break;
	}
	case A_BUF_OUT: {
		et_s64 ret = ev->ret;
		c = find_kind(ev, i, 0, ET_CAP_BUF_OUT);
		if (is_error(ret) || ret < 0 || (ev->flags & ET_SC_F_NORETURN)) {
			put_ptr(out, v);
			break;
		}
		if (!c) {
			if (ret == 0 && v != 0)
				sb_puts(out, "\"\"");
			else
				put_ptr(out, v);
			break;
		}
		size_t n = c->len;
		if ((et_u64)ret < n)
			n = (size_t)ret;
		int trunc = c->truncated || (et_u64)n < (et_u64)ret;
		const char *d = ev_capture_data(c);
		if (sig_is(sig, "getcwd")) {
			size_t sl = strnlen(d, n);
			sb_quote(out, d, sl, sl, trunc && sl == n);
		} else if (sig_is(sig, "readlink") || sig_is(sig, "readlinkat")) {
			sb_quote(out, d, n, n, trunc);
		} else {
			sb_quote(out, d, n, ctx_str_max(ctx), trunc);
		}
		break;
	}
	case A_SOCKADDR_IN:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_IN);
		if (c)
			decode_sockaddr(ev_capture_data(c), c->len, out);
		else
			put_ptr(out, v);
		break;
	case A_SOCKADDR_OUT:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_OUT);
		if (c && !is_error(ev->ret) && ev->ret >= 0)
			decode_sockaddr(ev_capture_data(c), c->len, out);
		else
			put_ptr(out, v);
		break;
	case A_SOCKOPT_OUT:
		c = find_kind(ev, i, 0, ET_CAP_SOCKADDR_OUT);
		if (c && ev->ret == 0 && c->len == sizeof(int)) {
			int iv;
			memcpy(&iv, ev_capture_data(c), sizeof(iv));
			const char *en = NULL;
			if ((int)ev->args[1] == SOL_SOCKET && (int)ev->args[2] == SO_ERROR && iv > 0)
				en = decode_errno_name(iv);
			if (en)
				sb_printf(out, "[%s]", en);
			else
				sb_printf(out, "[%d]", iv);
		} else if (c && ev->ret == 0) {
			sb_quote(out, ev_capture_data(c), c->len, ctx_str_max(ctx), c->truncated);
		} else {
			put_ptr(out, v);
		}
		break;
	case A_ARGV:
		decode_argv(ev, i, out);
		break;
	case A_FDPAIR_OUT:
		c = find_kind(ev, i, 0, ET_CAP_FDPAIR_OUT);
		if (c && ev->ret == 0 && c->len >= 2 * sizeof(int)) {
			int fds[2];
			memcpy(fds, ev_capture_data(c), sizeof(fds));
			sb_printf(out, "[%d, %d]", fds[0], fds[1]);
		} else {
			put_ptr(out, v);
		}
		break;
	case A_OPEN_FLAGS:
		/* pipe2, dup3, accept4, eventfd2, ...: only CLOEXEC-like bits */
		if (sig_has(sig, A_PATH))
			decode_open_flags((unsigned long)v, out);
		else
			decode_fd_flags((unsigned long)v, out);
		break;
	case A_MODE:
		sb_printf(out, "%#03o", (unsigned)v);
		break;
	case A_PROT:
		put_flags(out, (unsigned)v, prot_names, ARRAY_LEN(prot_names), "PROT_NONE");
		break;
	case A_MMAP_FLAGS:
		decode_mmap_flags((unsigned)v, out);
		break;
	case A_SIGNAL:
		put_signal(out, (int)v);
		break;
	case A_SOCK_DOMAIN:
		put_family(out, (unsigned)v);
		break;
	case A_SOCK_TYPE:
		decode_sock_type((unsigned)v, out);
		break;
	case A_ACCESS_MODE:
		put_flags(out, (unsigned)v, access_names, ARRAY_LEN(access_names), "F_OK");
		break;
	case A_AT_FLAGS:
		if (sig_is(sig, "faccessat2"))
			put_flags(out, (unsigned)v, at_eaccess_names, ARRAY_LEN(at_eaccess_names), "0");
		else
			put_flags(out, (unsigned)v, at_names, ARRAY_LEN(at_names), "0");
		break;
	case A_CLONE_FLAGS:
		decode_clone_flags(v, sig_is(sig, "clone"), out);
		break;
	case A_WHENCE:
		put_enum(out, (int)v, whence_names, ARRAY_LEN(whence_names));
		break;
	case A_FCNTL_CMD:
		put_enum(out, (int)v, fcntl_names, ARRAY_LEN(fcntl_names));
		break;
	case A_SIGPROCMASK_HOW:
		put_enum(out, (int)v, sigprocmask_names, ARRAY_LEN(sigprocmask_names));
		break;
	case A_IOCTL_REQ: {
		const char *s = named_lookup((unsigned)v, ioctl_names, ARRAY_LEN(ioctl_names));
		if (s)
			sb_puts(out, s);
		else
			sb_printf(out, "%#x", (unsigned)v);
		break;
	}
	case A_WAIT_OPTIONS:
		put_flags(out, (unsigned)v, wait_names, ARRAY_LEN(wait_names), "0");
		break;
	case A_MSG_FLAGS:
		put_flags(out, (unsigned)v, msg_names, ARRAY_LEN(msg_names), "0");
		break;
	case A_SHUTDOWN_HOW:
		put_enum(out, (int)v, shutdown_names, ARRAY_LEN(shutdown_names));
		break;
	case A_SOCKOPT_LEVEL:
		put_enum(out, (int)v, level_names, ARRAY_LEN(level_names));
		break;
	case A_CLOCKID:
		put_enum(out, (int)v, clock_names, ARRAY_LEN(clock_names));
		break;
	case A_FUTEX_OP:
		decode_futex_op(v, out);
		break;
	case A_NONE:
	default:
		sb_printf(out, "%#llx", (unsigned long long)v);
		break;
	}
}

int decode_nargs(const struct ev_syscall *ev)
{
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	if (!sig)
		return 6;
	int n = sig->nargs > 6 ? 6 : sig->nargs;
	if (n >= 2 && sig->arg[n - 1] == A_MODE && sig->arg[n - 2] == A_OPEN_FLAGS) {
		/* open/openat: the mode matters only when a file is created */
		unsigned long fl = (unsigned long)ev->args[n - 2];
		if (!(fl & O_CREAT) && (fl & O_TMPFILE) != O_TMPFILE)
			n--;
	}
	if (n >= 2 && sig->arg[n - 2] == A_FCNTL_CMD && !fcntl_cmd_has_arg((int)ev->args[n - 2]))
		n--;
	return n;
}

void decode_args(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out)
{
	int n = decode_nargs(ev);
	for (int i = 0; i < n; i++) {
		if (i)
			sb_puts(out, ", ");
		decode_arg(ev, i, ctx, out);
	}
}

void decode_ret(const struct ev_syscall *ev, struct strbuf *out)
{
	const struct syscall_sig *sig = syscall_sig_by_nr((int)ev->nr);
	if ((ev->flags & ET_SC_F_NORETURN) || (sig && sig->ret == R_NONE)) {
		sb_puts(out, "?");
		return;
	}
	et_s64 ret = ev->ret;
	if (is_error(ret)) {
		int err = (int)-ret;
		const char *name = decode_errno_name(err);
		const char *desc = errno_desc(err);
		/* restart codes: the call did not complete, it will be redone */
		sb_puts(out, err >= 512 && err <= 516 ? "? " : "-1 ");
		if (name)
			sb_puts(out, name);
		else
			sb_printf(out, "errno %d", err);
		if (desc)
			sb_printf(out, " (%s)", desc);
		else
			sb_printf(out, " (Unknown error %d)", err);
		return;
	}
	if (sig && sig->ret == R_HEX)
		sb_printf(out, "%#llx", (unsigned long long)ret);
	else
		sb_printf(out, "%lld", (long long)ret);
}

void decode_call(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out)
{
	sb_puts(out, syscall_name((int)ev->nr));
	sb_putc(out, '(');
	decode_args(ev, ctx, out);
	sb_puts(out, ") = ");
	decode_ret(ev, out);
}
