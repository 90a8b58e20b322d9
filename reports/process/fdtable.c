/*
 * Per-process fd table learned from the syscall sequence.
 *
 * The table is an array indexed by fd, grown on demand up to FDT_MAX_FD;
 * larger fds are ignored. Each slot holds a reference to an immutable
 * description and, for sockets, a reference to what etrace knows about the
 * socket (protocol label, local and peer address). The socket state is
 * shared between the fds that refer to the same socket (dup, fork), and is
 * copied, never changed in place, when connect/bind/accept teach something:
 * every fd still pointing at the old state then gets the new one.
 */
#include "fdtable.h"
#include "reports/core/xalloc.h"
#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"
#include "reports/core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FDT_MAX_FD (1 << 20)

/* ------------------------------------------------------------------ */
/* Descriptions                                                        */

struct fd_desc *fd_desc_new(const char *text, int cloexec)
{
	size_t n = strlen(text);
	struct fd_desc *d = xmalloc(sizeof(*d) + n + 1);
	d->refs = 1;
	d->cloexec = cloexec ? 1 : 0;
	memcpy(d->text, text, n + 1);
	return d;
}

struct fd_desc *fd_desc_ref(struct fd_desc *d)
{
	if (d)
		__atomic_add_fetch(&d->refs, 1, __ATOMIC_RELAXED);
	return d;
}

void fd_desc_unref(struct fd_desc *d)
{
	if (d && __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(d);
}

/* The same text with another close-on-exec setting (a new reference). */
static struct fd_desc *desc_with_cloexec(struct fd_desc *d, int cloexec)
{
	if (d->cloexec == (cloexec ? 1 : 0))
		return fd_desc_ref(d);
	return fd_desc_new(d->text, cloexec);
}

/* ------------------------------------------------------------------ */
/* Socket state                                                        */

struct sock_state {
	int refs;
	char label[24];    /* "TCP", "UDP6", "UNIX-STREAM" */
	char *local;       /* "127.0.0.1:40000", NULL when unknown */
	char *peer;
};

static struct sock_state *sock_new(const char *label, const char *local, const char *peer)
{
	struct sock_state *s = xmalloc(sizeof(*s));
	s->refs = 1;
	snprintf(s->label, sizeof(s->label), "%s", label);
	s->local = local && *local ? strdup(local) : NULL;
	s->peer = peer && *peer ? strdup(peer) : NULL;
	return s;
}

static struct sock_state *sock_ref(struct sock_state *s)
{
	if (s)
		s->refs++;
	return s;
}

static void sock_unref(struct sock_state *s)
{
	if (s && --s->refs == 0) {
		free(s->local);
		free(s->peer);
		free(s);
	}
}

/* "socket:[TCP 127.0.0.1:1->127.0.0.1:2]" */
static struct fd_desc *sock_desc(const struct sock_state *s, int cloexec)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "socket:[%s", s->label);
	if (s->local || s->peer)
		sb_putc(&sb, ' ');
	if (s->local)
		sb_puts(&sb, s->local);
	if (s->peer) {
		sb_puts(&sb, "->");
		sb_puts(&sb, s->peer);
	}
	sb_putc(&sb, ']');
	struct fd_desc *d = fd_desc_new(sb_str(&sb), cloexec);
	sb_free(&sb);
	return d;
}

static const char *sock_label(int domain, int type, int protocol)
{
	type &= 0xf;
	switch (domain) {
	case AF_INET:
	case AF_INET6: {
		int v6 = domain == AF_INET6;
		if (type == SOCK_STREAM)
			return v6 ? "TCP6" : "TCP";
		if (type == SOCK_DGRAM)
			return protocol == 1 || protocol == 58 ? (v6 ? "ICMP6" : "ICMP")
							        : (v6 ? "UDP6" : "UDP");
		if (type == SOCK_RAW)
			return v6 ? "RAW6" : "RAW";
		return v6 ? "INET6" : "INET";
	}
	case AF_UNIX:
		if (type == SOCK_STREAM)
			return "UNIX-STREAM";
		if (type == SOCK_DGRAM)
			return "UNIX-DGRAM";
		if (type == SOCK_SEQPACKET)
			return "UNIX-SEQPACKET";
		return "UNIX";
	case AF_NETLINK:
		return "NETLINK";
	case AF_PACKET:
		return "PACKET";
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

struct fd_slot {
	struct fd_desc *d;
	struct sock_state *s;   /* sockets only */
};

struct fdtable {
	struct fd_slot *slots;
	int cap;
};

struct fdtable *fdt_new(void)
{
	struct fdtable *t = xmalloc(sizeof(*t));
	t->slots = NULL;
	t->cap = 0;
	return t;
}

struct fdtable *fdt_clone(const struct fdtable *t)
{
	struct fdtable *c = fdt_new();
	if (!t || t->cap == 0)
		return c;
	c->slots = xmalloc(sizeof(*c->slots) * (size_t)t->cap);
	c->cap = t->cap;
	for (int i = 0; i < t->cap; i++) {
		c->slots[i].d = fd_desc_ref(t->slots[i].d);
		c->slots[i].s = sock_ref(t->slots[i].s);
	}
	return c;
}

static void slot_clear(struct fd_slot *sl)
{
	fd_desc_unref(sl->d);
	sock_unref(sl->s);
	sl->d = NULL;
	sl->s = NULL;
}

void fdt_free(struct fdtable *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->cap; i++)
		slot_clear(&t->slots[i]);
	free(t->slots);
	free(t);
}

static struct fd_slot *slot(const struct fdtable *t, int fd)
{
	if (!t || fd < 0 || fd >= t->cap)
		return NULL;
	return &t->slots[fd];
}

/* The slot for fd, growing the table; NULL for fds out of range. */
static struct fd_slot *slot_grow(struct fdtable *t, int fd)
{
	if (!t || fd < 0 || fd >= FDT_MAX_FD)
		return NULL;
	if (fd >= t->cap) {
		int cap = t->cap ? t->cap : 64;
		while (cap <= fd)
			cap *= 2;
		if (cap > FDT_MAX_FD)
			cap = FDT_MAX_FD;
		struct fd_slot *n = realloc(t->slots, sizeof(*n) * (size_t)cap);
		if (!n) {
			et_oom();
		}
		memset(n + t->cap, 0, sizeof(*n) * (size_t)(cap - t->cap));
		t->slots = n;
		t->cap = cap;
	}
	return &t->slots[fd];
}

struct fd_desc *fdt_get(const struct fdtable *t, int fd)
{
	struct fd_slot *sl = slot(t, fd);
	return sl ? sl->d : NULL;
}

/* Sets fd to d (a new reference is taken) with socket state s (likewise). */
static void set_slot(struct fdtable *t, int fd, struct fd_desc *d, struct sock_state *s)
{
	if (!d) {
		fdt_close(t, fd);
		return;
	}
	struct fd_slot *sl = slot_grow(t, fd);
	if (!sl)
		return;
	fd_desc_ref(d);
	sock_ref(s);
	slot_clear(sl);
	sl->d = d;
	sl->s = s;
}

void fdt_set(struct fdtable *t, int fd, struct fd_desc *d)
{
	set_slot(t, fd, d, NULL);
}

void fdt_close(struct fdtable *t, int fd)
{
	struct fd_slot *sl = slot(t, fd);
	if (sl)
		slot_clear(sl);
}

void fdt_exec(struct fdtable *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->cap; i++)
		if (t->slots[i].d && t->slots[i].d->cloexec)
			slot_clear(&t->slots[i]);
}

/* Gives a new text to fd, same socket state, same close-on-exec. */
static void set_text(struct fdtable *t, int fd, const char *text, int cloexec)
{
	struct fd_desc *d = fd_desc_new(text, cloexec);
	set_slot(t, fd, d, NULL);
	fd_desc_unref(d);
}

/* Replaces socket state old by s on every fd that has old (they are the
 * same socket), or on fd alone when it had no state. */
static void sock_update(struct fdtable *t, int fd, struct sock_state *old, struct sock_state *s)
{
	if (!old) {
		struct fd_slot *sl = slot(t, fd);
		int cloexec = sl && sl->d ? sl->d->cloexec : 0;
		struct fd_desc *d = sock_desc(s, cloexec);
		set_slot(t, fd, d, s);
		fd_desc_unref(d);
		return;
	}
	sock_ref(old);   /* keep it alive while the slots let go of it */
	for (int i = 0; i < t->cap; i++) {
		if (t->slots[i].s != old)
			continue;
		int cloexec = t->slots[i].d ? t->slots[i].d->cloexec : 0;
		struct fd_desc *d = sock_desc(s, cloexec);
		set_slot(t, i, d, s);
		fd_desc_unref(d);
	}
	sock_unref(old);
}

/* ------------------------------------------------------------------ */
/* Learning from syscalls                                              */

enum fd_op {
	OP_NONE = 0,
	OP_OPEN, OP_OPENAT, OP_OPENAT2, OP_CREAT,
	OP_SOCKET, OP_SOCKETPAIR, OP_CONNECT, OP_BIND, OP_ACCEPT, OP_ACCEPT4,
	OP_GETSOCKNAME, OP_GETPEERNAME,
	OP_PIPE, OP_PIPE2,
	OP_DUP, OP_DUP2, OP_DUP3, OP_FCNTL,
	OP_CLOSE, OP_CLOSE_RANGE,
	OP_EVENTFD, OP_EVENTFD2, OP_EPOLL_CREATE, OP_EPOLL_CREATE1,
	OP_TIMERFD, OP_SIGNALFD, OP_SIGNALFD4, OP_MEMFD, OP_INOTIFY, OP_INOTIFY1,
	OP_PIDFD,
	OP_EXECVE,
};

static const struct {
	const char *name;
	enum fd_op op;
} op_names[] = {
	{ "open", OP_OPEN }, { "openat", OP_OPENAT }, { "openat2", OP_OPENAT2 },
	{ "creat", OP_CREAT },
	{ "socket", OP_SOCKET }, { "socketpair", OP_SOCKETPAIR }, { "connect", OP_CONNECT },
	{ "bind", OP_BIND }, { "accept", OP_ACCEPT }, { "accept4", OP_ACCEPT4 },
	{ "getsockname", OP_GETSOCKNAME }, { "getpeername", OP_GETPEERNAME },
	{ "pipe", OP_PIPE }, { "pipe2", OP_PIPE2 },
	{ "dup", OP_DUP }, { "dup2", OP_DUP2 }, { "dup3", OP_DUP3 }, { "fcntl", OP_FCNTL },
	{ "close", OP_CLOSE }, { "close_range", OP_CLOSE_RANGE },
	{ "eventfd", OP_EVENTFD }, { "eventfd2", OP_EVENTFD2 },
	{ "epoll_create", OP_EPOLL_CREATE }, { "epoll_create1", OP_EPOLL_CREATE1 },
	{ "timerfd_create", OP_TIMERFD }, { "signalfd", OP_SIGNALFD },
	{ "signalfd4", OP_SIGNALFD4 }, { "memfd_create", OP_MEMFD },
	{ "inotify_init", OP_INOTIFY }, { "inotify_init1", OP_INOTIFY1 },
	{ "pidfd_open", OP_PIDFD },
	{ "execve", OP_EXECVE }, { "execveat", OP_EXECVE },
};

static unsigned char ops[ET_MAX_SYSCALLS];
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		int nr = syscall_nr(op_names[i].name);
		if (nr >= 0 && nr < ET_MAX_SYSCALLS)
			ops[nr] = (unsigned char)op_names[i].op;
	}
}

static enum fd_op op_for(unsigned nr)
{
	pthread_once(&ops_once, ops_init);
	return nr < ET_MAX_SYSCALLS ? (enum fd_op)ops[nr] : OP_NONE;
}

/* A whole captured string for argument arg ("path..." when cut). */
static int cap_string(const struct ev_syscall *ev, int arg, struct strbuf *out)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, 0);
	if (!c || c->kind != ET_CAP_STR)
		return 0;
	const char *d = ev_capture_data(c);
	sb_putn(out, d, strnlen(d, c->len));
	if (c->truncated)
		sb_puts(out, "...");
	return 1;
}

/* Short form of the sockaddr captured for argument arg, "" when none. */
static void cap_sockaddr(const struct ev_syscall *ev, int arg, int kind, struct strbuf *out)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, 0);
	if (c && c->kind == kind)
		decode_sockaddr_short(ev_capture_data(c), c->len, out);
}

static const char *family_label(const struct ev_syscall *ev, int arg, int kind)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, 0);
	sa_family_t fam;
	if (!c || c->kind != kind || c->len < sizeof(fam))
		return "UNKNOWN";
	memcpy(&fam, ev_capture_data(c), sizeof(fam));
	switch (fam) {
	case AF_INET: return "INET";
	case AF_INET6: return "INET6";
	case AF_UNIX: return "UNIX";
	case AF_NETLINK: return "NETLINK";
	}
	return "UNKNOWN";
}

static void learn_open(struct fdtable *t, const struct ev_syscall *ev, int fd, int patharg,
		       int cloexec)
{
	struct strbuf sb = STRBUF_INIT;
	if (cap_string(ev, patharg, &sb))
		set_text(t, fd, sb_str(&sb), cloexec);
	else
		fdt_close(t, fd);   /* a new file we know nothing about */
	sb_free(&sb);
}

/* The open_how of openat2, when captured: its flags. */
static int openat2_cloexec(const struct ev_syscall *ev)
{
	const struct ev_capture *c = ev_find_capture(ev, 2, 0);
	et_u64 flags;
	if (!c || c->kind != ET_CAP_BUF_IN || c->len < sizeof(flags))
		return 0;
	memcpy(&flags, ev_capture_data(c), sizeof(flags));
	return (flags & O_CLOEXEC) != 0;
}

static void learn_dup(struct fdtable *t, int oldfd, int newfd, int cloexec)
{
	if (oldfd == newfd)
		return;
	struct fd_slot *sl = slot(t, oldfd);
	if (!sl || !sl->d) {
		fdt_close(t, newfd);
		return;
	}
	struct fd_desc *d = desc_with_cloexec(sl->d, cloexec);
	set_slot(t, newfd, d, sl->s);
	fd_desc_unref(d);
}

static void learn_pair(struct fdtable *t, const struct ev_syscall *ev, int arg,
		       const char *text0, const char *text1, int cloexec, int is_sock)
{
	const struct ev_capture *c = ev_find_capture(ev, arg, 0);
	int fds[2];
	if (!c || c->kind != ET_CAP_FDPAIR_OUT || c->len < sizeof(fds))
		return;
	memcpy(fds, ev_capture_data(c), sizeof(fds));
	for (int i = 0; i < 2; i++) {
		struct sock_state *s = is_sock ? sock_new(i ? text1 : text0, NULL, NULL) : NULL;
		struct fd_desc *d = s ? sock_desc(s, cloexec) : fd_desc_new(i ? text1 : text0, cloexec);
		set_slot(t, fds[i], d, s);
		fd_desc_unref(d);
		sock_unref(s);
	}
}

static void learn_anon(struct fdtable *t, int fd, const char *what, int cloexec)
{
	set_text(t, fd, what, cloexec);
}

/* connect, bind, getsockname, getpeername: a new address for a socket. */
static void learn_addr(struct fdtable *t, const struct ev_syscall *ev, int kind, int is_peer)
{
	int fd = (int)ev->args[0];
	const struct ev_capture *c = ev_find_capture(ev, 1, 0);
	sa_family_t fam;
	if (!c || c->kind != kind || c->len < sizeof(fam))
		return;   /* nothing learned */
	memcpy(&fam, ev_capture_data(c), sizeof(fam));
	struct strbuf addr = STRBUF_INIT;
	/* connect(AF_UNSPEC) dissolves a datagram association */
	if (!(is_peer && fam == AF_UNSPEC))
		decode_sockaddr_short(ev_capture_data(c), c->len, &addr);
	if (addr.len == 0 && !(is_peer && fam == AF_UNSPEC)) {
		sb_free(&addr);
		return;   /* unnamed unix socket: nothing to say */
	}
	struct fd_slot *sl = slot(t, fd);
	struct sock_state *old = sl ? sl->s : NULL;
	const char *label = old ? old->label : family_label(ev, 1, kind);
	const char *local = is_peer ? (old ? old->local : NULL) : sb_str(&addr);
	const char *peer = is_peer ? sb_str(&addr) : (old ? old->peer : NULL);
	struct sock_state *s = sock_new(label, local, peer);
	sock_update(t, fd, old, s);
	sock_unref(s);
	sb_free(&addr);
}

static void learn_accept(struct fdtable *t, const struct ev_syscall *ev, int newfd, int cloexec)
{
	struct fd_slot *sl = slot(t, (int)ev->args[0]);
	struct sock_state *ls = sl ? sl->s : NULL;
	struct strbuf peer = STRBUF_INIT;
	cap_sockaddr(ev, 1, ET_CAP_SOCKADDR_OUT, &peer);
	const char *label = ls ? ls->label : family_label(ev, 1, ET_CAP_SOCKADDR_OUT);
	struct sock_state *s = sock_new(label, ls ? ls->local : NULL, sb_str(&peer));
	struct fd_desc *d = sock_desc(s, cloexec);
	set_slot(t, newfd, d, s);
	fd_desc_unref(d);
	sock_unref(s);
	sb_free(&peer);
}

void fdt_apply(struct fdtable *t, const struct ev_syscall *ev)
{
	if (!t || !ev || (ev->flags & ET_SC_F_NORETURN))
		return;
	enum fd_op op = op_for(ev->nr);
	if (op == OP_NONE)
		return;
	et_s64 ret = ev->ret;
	const et_u64 *a = ev->args;

	/* Calls that change the table even when they fail. */
	if (op == OP_CLOSE) {
		/* the fd is released whatever the error, unless it was not open */
		if (ret != -EBADF)
			fdt_close(t, (int)a[0]);
		return;
	}
	if (op == OP_CONNECT) {
		if (ret == 0 || ret == -EINPROGRESS)
			learn_addr(t, ev, ET_CAP_SOCKADDR_IN, 1);
		return;
	}
	if (ret < 0)
		return;

	int fd = ret > FDT_MAX_FD ? -1 : (int)ret;
	switch (op) {
	case OP_OPEN:
		learn_open(t, ev, fd, 0, (a[1] & O_CLOEXEC) != 0);
		break;
	case OP_OPENAT:
		learn_open(t, ev, fd, 1, (a[2] & O_CLOEXEC) != 0);
		break;
	case OP_OPENAT2:
		learn_open(t, ev, fd, 1, openat2_cloexec(ev));
		break;
	case OP_CREAT:
		learn_open(t, ev, fd, 0, 0);
		break;
	case OP_SOCKET: {
		const char *label = sock_label((int)a[0], (int)a[1], (int)a[2]);
		char tmp[24];
		if (!label) {
			snprintf(tmp, sizeof(tmp), "AF_%d", (int)a[0]);
			label = tmp;
		}
		struct sock_state *s = sock_new(label, NULL, NULL);
		struct fd_desc *d = sock_desc(s, (a[1] & SOCK_CLOEXEC) != 0);
		set_slot(t, fd, d, s);
		fd_desc_unref(d);
		sock_unref(s);
		break;
	}
	case OP_SOCKETPAIR: {
		const char *label = sock_label((int)a[0], (int)a[1], (int)a[2]);
		if (!label)
			label = "UNIX";
		learn_pair(t, ev, 3, label, label, (a[1] & SOCK_CLOEXEC) != 0, 1);
		break;
	}
	case OP_BIND:
		learn_addr(t, ev, ET_CAP_SOCKADDR_IN, 0);
		break;
	case OP_GETSOCKNAME:
		learn_addr(t, ev, ET_CAP_SOCKADDR_OUT, 0);
		break;
	case OP_GETPEERNAME:
		learn_addr(t, ev, ET_CAP_SOCKADDR_OUT, 1);
		break;
	case OP_ACCEPT:
		learn_accept(t, ev, fd, 0);
		break;
	case OP_ACCEPT4:
		learn_accept(t, ev, fd, (a[3] & SOCK_CLOEXEC) != 0);
		break;
	case OP_PIPE:
		learn_pair(t, ev, 0, "pipe:[r]", "pipe:[w]", 0, 0);
		break;
	case OP_PIPE2:
		learn_pair(t, ev, 0, "pipe:[r]", "pipe:[w]", (a[1] & O_CLOEXEC) != 0, 0);
		break;
	case OP_DUP:
		learn_dup(t, (int)a[0], fd, 0);
		break;
	case OP_DUP2:
		learn_dup(t, (int)a[0], fd, 0);
		break;
	case OP_DUP3:
		learn_dup(t, (int)a[0], fd, (a[2] & O_CLOEXEC) != 0);
		break;
	case OP_FCNTL: {
		int cmd = (int)a[1];
		int target = (int)a[0];
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
			learn_dup(t, target, fd, cmd == F_DUPFD_CLOEXEC);
		} else if (cmd == F_SETFD) {
			struct fd_slot *sl = slot(t, target);
			if (sl && sl->d) {
				struct fd_desc *d = desc_with_cloexec(sl->d, (a[2] & FD_CLOEXEC) != 0);
				set_slot(t, target, d, sl->s);
				fd_desc_unref(d);
			}
		}
		break;
	}
	case OP_CLOSE_RANGE: {
		unsigned first = (unsigned)a[0], last = (unsigned)a[1];
		if (last >= (unsigned)t->cap)
			last = t->cap ? (unsigned)t->cap - 1 : 0;
		if (first > last || t->cap == 0)
			break;
		int to_cloexec = (a[2] & CLOSE_RANGE_CLOEXEC) != 0;
		for (unsigned i = first; i <= last; i++) {
			struct fd_slot *sl = &t->slots[i];
			if (!sl->d)
				continue;
			if (to_cloexec) {
				struct fd_desc *d = desc_with_cloexec(sl->d, 1);
				set_slot(t, (int)i, d, sl->s);
				fd_desc_unref(d);
			} else {
				slot_clear(sl);
			}
		}
		break;
	}
	case OP_EVENTFD:
		learn_anon(t, fd, "anon_inode:[eventfd]", 0);
		break;
	case OP_EVENTFD2:
		learn_anon(t, fd, "anon_inode:[eventfd]", (a[1] & O_CLOEXEC) != 0);
		break;
	case OP_EPOLL_CREATE:
		learn_anon(t, fd, "anon_inode:[eventpoll]", 0);
		break;
	case OP_EPOLL_CREATE1:
		learn_anon(t, fd, "anon_inode:[eventpoll]", (a[0] & O_CLOEXEC) != 0);
		break;
	case OP_TIMERFD:
		learn_anon(t, fd, "anon_inode:[timerfd]", (a[1] & O_CLOEXEC) != 0);
		break;
	case OP_SIGNALFD:
	case OP_SIGNALFD4:
		/* with an existing fd, only its mask changes */
		if ((int)a[0] == -1)
			learn_anon(t, fd, "anon_inode:[signalfd]",
				   op == OP_SIGNALFD4 && (a[3] & O_CLOEXEC) != 0);
		break;
	case OP_INOTIFY:
		learn_anon(t, fd, "anon_inode:inotify", 0);
		break;
	case OP_INOTIFY1:
		learn_anon(t, fd, "anon_inode:inotify", (a[0] & O_CLOEXEC) != 0);
		break;
	case OP_PIDFD:
		learn_anon(t, fd, "anon_inode:[pidfd]", 1);   /* always close-on-exec */
		break;
	case OP_MEMFD: {
		struct strbuf sb = STRBUF_INIT;
		sb_puts(&sb, "memfd:");
		if (!cap_string(ev, 0, &sb))
			sb_puts(&sb, "?");
		set_text(t, fd, sb_str(&sb), (a[1] & 1) != 0);   /* MFD_CLOEXEC */
		sb_free(&sb);
		break;
	}
	case OP_EXECVE:
		fdt_exec(t);
		break;
	default:
		break;
	}
}
