/*
 * Unit tests of the per-process fd table: sequences of fake syscall records
 * (open, dup2, close, socket, connect, pipe2, exec, ...) and the
 * descriptions they leave behind; the decoder using the table through
 * describe_fd.
 */
#include "unit.h"
#include "reports/syscalls/decode.h"
#include "reports/process/fdtable.h"
#include "reports/syscalls/syscall_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- building records (as in test_decode.c) ----------------------------------- */

#define REC_BYTES (sizeof(struct ev_syscall) + ET_CAP_AREA + ET_CAP_MAX_ONE)

struct rec {
	_Alignas(8) unsigned char buf[REC_BYTES];
};

#define ARGS(...) ((const et_u64[6]){ __VA_ARGS__ })
#define CWD ((et_u64)(int64_t)AT_FDCWD)

static struct ev_syscall *ev_new(struct rec *r, long nr, long long ret, const et_u64 *args)
{
	memset(r->buf, 0, sizeof(r->buf));
	struct ev_syscall *ev = (struct ev_syscall *)r->buf;
	ev->h.type = ET_EV_SYSCALL;
	ev->h.size = sizeof(*ev);
	ev->nr = (et_u32)nr;
	ev->ret = ret;
	memcpy(ev->args, args, sizeof(ev->args));
	return ev;
}

static void cap_add(struct ev_syscall *ev, int arg, int kind, const void *data, size_t len)
{
	unsigned char *area = (unsigned char *)ev + sizeof(*ev);
	struct ev_capture *c = (struct ev_capture *)(area + ev->cap_len);
	memset(c, 0, sizeof(*c));
	c->arg = (et_u8)arg;
	c->kind = (et_u8)kind;
	c->len = (et_u16)len;
	memcpy(c + 1, data, len);
	ev->cap_len = (et_u32)((ev->cap_len + sizeof(*c) + len + 7) & ~(size_t)7);
	ev->ncap++;
	ev->h.size = (et_u32)(sizeof(*ev) + ev->cap_len);
}

static struct sockaddr_in sin_of(const char *ip, int port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* Applies one record; the path (if any) is captured for argument patharg. */
static void apply_open(struct fdtable *t, long nr, long long ret, const et_u64 *args,
		       int patharg, const char *path)
{
	struct rec r;
	struct ev_syscall *ev = ev_new(&r, nr, ret, args);
	if (path)
		cap_add(ev, patharg, ET_CAP_STR, path, strlen(path));
	fdt_apply(t, ev);
}

static void apply(struct fdtable *t, long nr, long long ret, const et_u64 *args)
{
	struct rec r;
	fdt_apply(t, ev_new(&r, nr, ret, args));
}

static void apply_sa(struct fdtable *t, long nr, long long ret, const et_u64 *args, int arg,
		     int kind, const void *sa, size_t len)
{
	struct rec r;
	struct ev_syscall *ev = ev_new(&r, nr, ret, args);
	cap_add(ev, arg, kind, sa, len);
	fdt_apply(t, ev);
}

static void apply_pair(struct fdtable *t, long nr, long long ret, const et_u64 *args, int arg,
		       int a, int b)
{
	struct rec r;
	int fds[2] = { a, b };
	struct ev_syscall *ev = ev_new(&r, nr, ret, args);
	cap_add(ev, arg, ET_CAP_FDPAIR_OUT, fds, sizeof(fds));
	fdt_apply(t, ev);
}

static const char *text(const struct fdtable *t, int fd)
{
	struct fd_desc *d = fdt_get(t, fd);
	return d ? d->text : "(none)";
}

static int cloexec(const struct fdtable *t, int fd)
{
	struct fd_desc *d = fdt_get(t, fd);
	return d ? d->cloexec : -1;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_desc(void)
{
	struct fd_desc *d = fd_desc_new("/etc/passwd", 1);
	CHECK_STR(d->text, "/etc/passwd");
	CHECK(d->cloexec == 1 && d->refs == 1);
	CHECK(fd_desc_ref(d) == d && d->refs == 2);
	fd_desc_unref(d);
	CHECK(d->refs == 1);
	fd_desc_unref(d);
	fd_desc_unref(NULL);
	CHECK(fd_desc_ref(NULL) == NULL);
}

static void test_open_dup_close(void)
{
	struct fdtable *t = fdt_new();
	CHECK(fdt_get(t, 0) == NULL);
	CHECK(fdt_get(t, -1) == NULL);

	apply_open(t, SYS_openat, 3, ARGS(CWD, 0x1000, O_RDONLY | O_CLOEXEC), 1, "/etc/passwd");
	CHECK_STR(text(t, 3), "/etc/passwd");
	CHECK(cloexec(t, 3) == 1);

	/* relative paths stay as given */
	apply_open(t, SYS_open, 4, ARGS(0x1000, O_WRONLY | O_CREAT, 0644), 0, "out/log.txt");
	CHECK_STR(text(t, 4), "out/log.txt");
	CHECK(cloexec(t, 4) == 0);
	apply_open(t, SYS_creat, 5, ARGS(0x1000, 0644), 0, "new");
	CHECK_STR(text(t, 5), "new");

	/* a failed open changes nothing */
	apply_open(t, SYS_openat, -ENOENT, ARGS(CWD, 0x1000, O_RDONLY), 1, "/nope");
	CHECK_STR(text(t, 3), "/etc/passwd");

	/* dup2 onto 1: same file, no close-on-exec; the old text is shared */
	struct fd_desc *before = fdt_get(t, 3);
	apply(t, SYS_dup2, 1, ARGS(3, 1));
	CHECK_STR(text(t, 1), "/etc/passwd");
	CHECK(cloexec(t, 1) == 0);
	CHECK(fdt_get(t, 3) == before);   /* replaced, never changed: 3 untouched */
	CHECK(cloexec(t, 3) == 1);

	apply(t, SYS_dup, 6, ARGS(4));
	CHECK_STR(text(t, 6), "out/log.txt");
	CHECK(fdt_get(t, 6) == fdt_get(t, 4));   /* same cloexec: same description */
	apply(t, SYS_dup3, 7, ARGS(4, 7, O_CLOEXEC));
	CHECK_STR(text(t, 7), "out/log.txt");
	CHECK(cloexec(t, 7) == 1);
	apply(t, SYS_fcntl, 8, ARGS(3, F_DUPFD, 8));
	CHECK_STR(text(t, 8), "/etc/passwd");
	CHECK(cloexec(t, 8) == 0);
	apply(t, SYS_fcntl, 9, ARGS(4, F_DUPFD_CLOEXEC, 9));
	CHECK(cloexec(t, 9) == 1);

	/* dup of an unknown fd makes the target unknown */
	apply(t, SYS_dup2, 8, ARGS(50, 8));
	CHECK(fdt_get(t, 8) == NULL);
	/* dup2 onto itself */
	apply(t, SYS_dup2, 3, ARGS(3, 3));
	CHECK_STR(text(t, 3), "/etc/passwd");

	/* a reference keeps a description alive past close */
	struct fd_desc *kept = fd_desc_ref(fdt_get(t, 3));
	apply(t, SYS_close, 0, ARGS(3));
	CHECK(fdt_get(t, 3) == NULL);
	CHECK_STR(kept->text, "/etc/passwd");
	fd_desc_unref(kept);
	CHECK_STR(text(t, 1), "/etc/passwd");

	/* close with EBADF: nothing was open; other errors still close */
	apply(t, SYS_close, -EBADF, ARGS(1));
	CHECK_STR(text(t, 1), "/etc/passwd");
	apply(t, SYS_close, -EINTR, ARGS(1));
	CHECK(fdt_get(t, 1) == NULL);

	/* a reused number gets the new file */
	apply_open(t, SYS_openat, 4, ARGS(CWD, 0x1000, O_RDONLY), 1, "/etc/hosts");
	CHECK_STR(text(t, 4), "/etc/hosts");
	CHECK_STR(text(t, 6), "out/log.txt");
	/* an open whose path was not captured leaves the fd unknown */
	apply_open(t, SYS_openat, 4, ARGS(CWD, 0x1000, O_RDONLY), 1, NULL);
	CHECK(fdt_get(t, 4) == NULL);

	/* F_SETFD */
	apply(t, SYS_fcntl, 0, ARGS(6, F_SETFD, FD_CLOEXEC));
	CHECK(cloexec(t, 6) == 1);
	CHECK_STR(text(t, 6), "out/log.txt");
	apply(t, SYS_fcntl, 0, ARGS(6, F_SETFD, 0));
	CHECK(cloexec(t, 6) == 0);
	apply(t, SYS_fcntl, -EBADF, ARGS(6, F_SETFD, FD_CLOEXEC));
	CHECK(cloexec(t, 6) == 0);

	fdt_free(t);
	fdt_free(NULL);
}

static void test_close_range(void)
{
	struct fdtable *t = fdt_new();
	for (int fd = 0; fd < 10; fd++) {
		struct fd_desc *d = fd_desc_new("f", 0);
		fdt_set(t, fd, d);
		fd_desc_unref(d);
	}
	apply(t, SYS_close_range, 0, ARGS(5, 6, CLOSE_RANGE_CLOEXEC));
	CHECK(cloexec(t, 5) == 1 && cloexec(t, 6) == 1 && cloexec(t, 7) == 0);
	apply(t, SYS_close_range, 0, ARGS(3, 0xffffffffu, 0));
	CHECK(fdt_get(t, 2) != NULL);
	for (int fd = 3; fd < 10; fd++)
		CHECK(fdt_get(t, fd) == NULL);
	apply(t, SYS_close_range, 0, ARGS(1000, 2000, 0));   /* past the table */
	apply(t, SYS_close_range, 0, ARGS(2, 1, 0));         /* empty range */
	CHECK(fdt_get(t, 2) != NULL);
	fdt_free(t);
}

static void test_large_fds(void)
{
	struct fdtable *t = fdt_new();
	struct fd_desc *d = fd_desc_new("big", 0);
	fdt_set(t, (1 << 20) - 1, d);
	CHECK(fdt_get(t, (1 << 20) - 1) == d);
	CHECK(d->refs == 2);
	fdt_set(t, 1 << 20, d);   /* beyond the limit: ignored */
	fdt_set(t, 0x7fffffff, d);
	fdt_set(t, -3, d);
	CHECK(fdt_get(t, 1 << 20) == NULL);
	CHECK(fdt_get(t, 0x7fffffff) == NULL);
	CHECK(d->refs == 2);
	fdt_close(t, 1 << 20);
	fdt_close(t, -1);
	apply_open(t, SYS_openat, 0x7ffffff0, ARGS(CWD, 0x1000, O_RDONLY), 1, "/x");
	CHECK(fdt_get(t, 0x7ffffff0) == NULL);
	/* fdt_set replaces, taking its own reference */
	struct fd_desc *e = fd_desc_new("other", 1);
	fdt_set(t, (1 << 20) - 1, e);
	CHECK(d->refs == 1 && e->refs == 2);
	fdt_set(t, (1 << 20) - 1, NULL);   /* NULL: forget */
	CHECK(fdt_get(t, (1 << 20) - 1) == NULL && e->refs == 1);
	fd_desc_unref(d);
	fd_desc_unref(e);
	fdt_free(t);
}

static void test_sockets(void)
{
	struct fdtable *t = fdt_new();
	struct sockaddr_in srv = sin_of("127.0.0.1", 5555);
	struct sockaddr_in me = sin_of("127.0.0.1", 40000);

	apply(t, SYS_socket, 3, ARGS(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	CHECK_STR(text(t, 3), "socket:[TCP]");
	CHECK(cloexec(t, 3) == 1);
	apply(t, SYS_dup, 4, ARGS(3));   /* the same socket under two numbers */
	apply_sa(t, SYS_connect, -EINPROGRESS, ARGS(3, 0x1000, sizeof(srv)), 1,
		 ET_CAP_SOCKADDR_IN, &srv, sizeof(srv));
	CHECK_STR(text(t, 3), "socket:[TCP ->127.0.0.1:5555]");
	CHECK_STR(text(t, 4), "socket:[TCP ->127.0.0.1:5555]");
	CHECK(cloexec(t, 3) == 1 && cloexec(t, 4) == 0);
	apply_sa(t, SYS_getsockname, 0, ARGS(3, 0x1000, 0x2000), 1, ET_CAP_SOCKADDR_OUT, &me, sizeof(me));
	CHECK_STR(text(t, 3), "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]");
	CHECK_STR(text(t, 4), "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]");
	/* a failed connect teaches nothing */
	struct sockaddr_in other = sin_of("10.0.0.1", 1);
	apply_sa(t, SYS_connect, -ECONNREFUSED, ARGS(3, 0x1000, sizeof(other)), 1,
		 ET_CAP_SOCKADDR_IN, &other, sizeof(other));
	CHECK_STR(text(t, 3), "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]");

	/* server side */
	struct sockaddr_in any = sin_of("0.0.0.0", 8080);
	apply(t, SYS_socket, 5, ARGS(AF_INET, SOCK_STREAM, 0));
	apply_sa(t, SYS_bind, 0, ARGS(5, 0x1000, sizeof(any)), 1, ET_CAP_SOCKADDR_IN, &any, sizeof(any));
	CHECK_STR(text(t, 5), "socket:[TCP 0.0.0.0:8080]");
	apply(t, SYS_listen, 0, ARGS(5, 128));
	CHECK_STR(text(t, 5), "socket:[TCP 0.0.0.0:8080]");
	apply_sa(t, SYS_accept4, 6, ARGS(5, 0x1000, 0x2000, SOCK_CLOEXEC), 1, ET_CAP_SOCKADDR_OUT, &me, sizeof(me));
	CHECK_STR(text(t, 6), "socket:[TCP 0.0.0.0:8080->127.0.0.1:40000]");
	CHECK(cloexec(t, 6) == 1);
	apply(t, SYS_accept, 7, ARGS(5, 0, 0));   /* no address asked for */
	CHECK_STR(text(t, 7), "socket:[TCP 0.0.0.0:8080]");
	CHECK(cloexec(t, 7) == 0);
	CHECK_STR(text(t, 5), "socket:[TCP 0.0.0.0:8080]");

	/* other kinds */
	apply(t, SYS_socket, 8, ARGS(AF_INET, SOCK_DGRAM, 0));
	CHECK_STR(text(t, 8), "socket:[UDP]");
	struct sockaddr_in dns = sin_of("8.8.8.8", 53);
	apply_sa(t, SYS_connect, 0, ARGS(8, 0x1000, sizeof(dns)), 1, ET_CAP_SOCKADDR_IN, &dns, sizeof(dns));
	CHECK_STR(text(t, 8), "socket:[UDP ->8.8.8.8:53]");
	sa_family_t unspec = AF_UNSPEC;   /* dissolves the association */
	apply_sa(t, SYS_connect, 0, ARGS(8, 0x1000, sizeof(unspec)), 1, ET_CAP_SOCKADDR_IN, &unspec, sizeof(unspec));
	CHECK_STR(text(t, 8), "socket:[UDP]");
	apply(t, SYS_socket, 9, ARGS(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_STR(text(t, 9), "socket:[TCP6]");
	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(443);
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	apply_sa(t, SYS_connect, 0, ARGS(9, 0x1000, sizeof(s6)), 1, ET_CAP_SOCKADDR_IN, &s6, sizeof(s6));
	CHECK_STR(text(t, 9), "socket:[TCP6 ->[::1]:443]");
	apply(t, SYS_socket, 10, ARGS(AF_INET6, SOCK_DGRAM, 0));
	CHECK_STR(text(t, 10), "socket:[UDP6]");
	apply(t, SYS_socket, 11, ARGS(AF_NETLINK, SOCK_RAW, 0));
	CHECK_STR(text(t, 11), "socket:[NETLINK]");
	apply(t, SYS_socket, 12, ARGS(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	CHECK_STR(text(t, 12), "socket:[UNIX-DGRAM]");
	apply(t, SYS_socket, 12, ARGS(99, SOCK_STREAM, 0));
	CHECK_STR(text(t, 12), "socket:[AF_99]");

	/* unix sockets */
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/tmp/s");
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 7);
	apply(t, SYS_socket, 13, ARGS(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	CHECK_STR(text(t, 13), "socket:[UNIX-STREAM]");
	apply_sa(t, SYS_connect, 0, ARGS(13, 0x1000, sl), 1, ET_CAP_SOCKADDR_IN, &sun, sl);
	CHECK_STR(text(t, 13), "socket:[UNIX-STREAM ->/tmp/s]");
	apply(t, SYS_socket, 14, ARGS(AF_UNIX, SOCK_SEQPACKET, 0));
	memcpy(sun.sun_path, "\0abs", 4);
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 4);
	apply_sa(t, SYS_bind, 0, ARGS(14, 0x1000, sl), 1, ET_CAP_SOCKADDR_IN, &sun, sl);
	CHECK_STR(text(t, 14), "socket:[UNIX-SEQPACKET @abs]");
	/* accept on a unix socket: the peer is unnamed */
	sa_family_t fam = AF_UNIX;
	apply_sa(t, SYS_accept4, 15, ARGS(14, 0x1000, 0x2000, 0), 1, ET_CAP_SOCKADDR_OUT, &fam, sizeof(fam));
	CHECK_STR(text(t, 15), "socket:[UNIX-SEQPACKET @abs]");

	/* connect on an fd the table did not know (inherited) */
	apply_sa(t, SYS_connect, 0, ARGS(20, 0x1000, sizeof(srv)), 1, ET_CAP_SOCKADDR_IN, &srv, sizeof(srv));
	CHECK_STR(text(t, 20), "socket:[INET ->127.0.0.1:5555]");
	/* fdt_set by hand, then connect: learned as a new socket */
	struct fd_desc *d = fd_desc_new("socket:[12345]", 1);
	fdt_set(t, 21, d);
	fd_desc_unref(d);
	apply_sa(t, SYS_connect, 0, ARGS(21, 0x1000, sizeof(srv)), 1, ET_CAP_SOCKADDR_IN, &srv, sizeof(srv));
	CHECK_STR(text(t, 21), "socket:[INET ->127.0.0.1:5555]");
	CHECK(cloexec(t, 21) == 1);
	/* connect without a captured address: unchanged */
	apply(t, SYS_connect, 0, ARGS(13, 0x1000, 110));
	CHECK_STR(text(t, 13), "socket:[UNIX-STREAM ->/tmp/s]");

	/* closing one of two fds of a socket leaves the other */
	apply(t, SYS_close, 0, ARGS(3));
	CHECK_STR(text(t, 4), "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]");
	apply_sa(t, SYS_getpeername, 0, ARGS(4, 0x1000, 0x2000), 1, ET_CAP_SOCKADDR_OUT, &dns, sizeof(dns));
	CHECK_STR(text(t, 4), "socket:[TCP 127.0.0.1:40000->8.8.8.8:53]");

	apply_pair(t, SYS_socketpair, 0, ARGS(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0x1000), 3, 16, 17);
	CHECK_STR(text(t, 16), "socket:[UNIX-STREAM]");
	CHECK_STR(text(t, 17), "socket:[UNIX-STREAM]");
	CHECK(cloexec(t, 16) == 1 && cloexec(t, 17) == 1);

	fdt_free(t);
}

static void test_pipes_anon(void)
{
	struct fdtable *t = fdt_new();
	apply_pair(t, SYS_pipe2, 0, ARGS(0x1000, O_CLOEXEC), 0, 3, 4);
	CHECK_STR(text(t, 3), "pipe:[r]");
	CHECK_STR(text(t, 4), "pipe:[w]");
	CHECK(cloexec(t, 3) == 1 && cloexec(t, 4) == 1);
	apply_pair(t, SYS_pipe, 0, ARGS(0x1000), 0, 5, 6);
	CHECK_STR(text(t, 5), "pipe:[r]");
	CHECK(cloexec(t, 5) == 0);
	apply_pair(t, SYS_pipe2, -EMFILE, ARGS(0x1000, 0), 0, 7, 8);
	CHECK(fdt_get(t, 7) == NULL);
	/* the pair not captured: nothing learned, nothing broken */
	apply(t, SYS_pipe2, 0, ARGS(0x1000, 0));

	apply(t, SYS_eventfd2, 7, ARGS(0, O_CLOEXEC));
	CHECK_STR(text(t, 7), "anon_inode:[eventfd]");
	CHECK(cloexec(t, 7) == 1);
	apply(t, SYS_epoll_create1, 8, ARGS(O_CLOEXEC));
	CHECK_STR(text(t, 8), "anon_inode:[eventpoll]");
	apply(t, SYS_timerfd_create, 9, ARGS(1, 0));
	CHECK_STR(text(t, 9), "anon_inode:[timerfd]");
	CHECK(cloexec(t, 9) == 0);
	apply(t, SYS_signalfd4, 10, ARGS((et_u64)-1, 0x1000, 8, O_CLOEXEC));
	CHECK_STR(text(t, 10), "anon_inode:[signalfd]");
	apply(t, SYS_signalfd4, 3, ARGS(3, 0x1000, 8, 0));   /* changes a mask only */
	CHECK_STR(text(t, 3), "pipe:[r]");
	apply(t, SYS_inotify_init1, 11, ARGS(0));
	CHECK_STR(text(t, 11), "anon_inode:inotify");
	apply_open(t, SYS_memfd_create, 12, ARGS(0x1000, 1), 0, "jit-code");
	CHECK_STR(text(t, 12), "memfd:jit-code");
	CHECK(cloexec(t, 12) == 1);
	apply_open(t, SYS_memfd_create, 13, ARGS(0x1000, 0), 0, NULL);
	CHECK_STR(text(t, 13), "memfd:?");
	fdt_free(t);
}

static void test_fork_exec(void)
{
	struct fdtable *t = fdt_new();
	apply_open(t, SYS_openat, 0, ARGS(CWD, 0x1000, O_RDONLY), 1, "/dev/null");
	apply_open(t, SYS_openat, 3, ARGS(CWD, 0x1000, O_RDONLY | O_CLOEXEC), 1, "/etc/ld.so.cache");
	apply_pair(t, SYS_pipe2, 0, ARGS(0x1000, O_CLOEXEC), 0, 4, 5);
	apply(t, SYS_socket, 6, ARGS(AF_INET, SOCK_STREAM, 0));

	/* fork: the child gets a copy that then lives its own life */
	apply(t, SYS_clone, 1234, ARGS(0x01200011 /* CHILD_CLEARTID|CHILD_SETTID|SIGCHLD */));
	struct fdtable *child = fdt_clone(t);
	CHECK(fdt_get(child, 3) == fdt_get(t, 3));   /* descriptions shared */
	CHECK_STR(text(child, 6), "socket:[TCP]");
	apply(child, SYS_dup2, 1, ARGS(5, 1));
	apply(child, SYS_close, 0, ARGS(4));
	CHECK_STR(text(child, 1), "pipe:[w]");
	CHECK(fdt_get(t, 1) == NULL);
	CHECK_STR(text(t, 4), "pipe:[r]");
	/* the parent connecting its socket does not change the child's */
	struct sockaddr_in srv = sin_of("127.0.0.1", 5555);
	apply_sa(t, SYS_connect, 0, ARGS(6, 0x1000, sizeof(srv)), 1, ET_CAP_SOCKADDR_IN, &srv, sizeof(srv));
	CHECK_STR(text(t, 6), "socket:[TCP ->127.0.0.1:5555]");
	CHECK_STR(text(child, 6), "socket:[TCP]");

	/* a failed exec keeps everything */
	struct rec r;
	struct ev_syscall *ev = ev_new(&r, SYS_execve, -ENOENT, ARGS(0x1000, 0x2000, 0x3000));
	fdt_apply(child, ev);
	CHECK_STR(text(child, 3), "/etc/ld.so.cache");
	/* a successful exec drops close-on-exec fds */
	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0x3000));
	fdt_apply(child, ev);
	CHECK(fdt_get(child, 3) == NULL);
	CHECK(fdt_get(child, 5) == NULL);
	CHECK_STR(text(child, 0), "/dev/null");
	CHECK_STR(text(child, 1), "pipe:[w]");   /* dup2 cleared close-on-exec */
	CHECK_STR(text(child, 6), "socket:[TCP]");
	/* the parent is unaffected */
	CHECK_STR(text(t, 3), "/etc/ld.so.cache");
	CHECK_STR(text(t, 5), "pipe:[w]");

	/* fdt_exec directly, and twice */
	fdt_exec(t);
	fdt_exec(t);
	CHECK(fdt_get(t, 3) == NULL && fdt_get(t, 4) == NULL);
	CHECK_STR(text(t, 6), "socket:[TCP ->127.0.0.1:5555]");

	struct fdtable *empty = fdt_clone(NULL);
	CHECK(fdt_get(empty, 0) == NULL);
	fdt_free(empty);
	fdt_free(child);
	fdt_free(t);
}

/* The decoder showing descriptions from the table. */
static const char *describe_from_table(void *fd_ctx, int argi, int fd)
{
	(void)argi;
	struct fd_desc *d = fdt_get(fd_ctx, fd);
	return d ? d->text : NULL;
}

static void test_decode_with_table(void)
{
	struct fdtable *t = fdt_new();
	struct decode_ctx ctx = { describe_from_table, t, 0 };
	struct strbuf sb = STRBUF_INIT;
	struct rec r;

	apply_open(t, SYS_openat, 3, ARGS(CWD, 0x1000, O_RDONLY), 1, "/etc/passwd");
	struct ev_syscall *ev = ev_new(&r, SYS_read, 4, ARGS(3, 0x1000, 4096));
	cap_add(ev, 1, ET_CAP_BUF_OUT, "root", 4);
	decode_call(ev, &ctx, &sb);
	CHECK_STR(sb_str(&sb), "read(3</etc/passwd>, \"root\", 4096) = 4");

	struct sockaddr_in srv = sin_of("127.0.0.1", 5555);
	apply(t, SYS_socket, 4, ARGS(AF_INET, SOCK_STREAM, 0));
	apply_sa(t, SYS_connect, 0, ARGS(4, 0x1000, sizeof(srv)), 1, ET_CAP_SOCKADDR_IN, &srv, sizeof(srv));
	ev = ev_new(&r, SYS_write, 2, ARGS(4, 0x1000, 2));
	cap_add(ev, 1, ET_CAP_BUF_IN, "hi", 2);
	sb_reset(&sb);
	decode_call(ev, &ctx, &sb);
	CHECK_STR(sb_str(&sb), "write(4<socket:[TCP ->127.0.0.1:5555]>, \"hi\", 2) = 2");

	sb_free(&sb);
	fdt_free(t);
}

/* xorshift: a reproducible sequence */
static unsigned long long rnd_state;
static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Random records into a table: no crash, no leak (valgrind). */
static void test_fuzz(void)
{
	static const long nrs[] = {
		SYS_open, SYS_openat, SYS_openat2, SYS_creat, SYS_socket, SYS_socketpair, SYS_connect,
		SYS_bind, SYS_accept, SYS_accept4, SYS_getsockname, SYS_getpeername, SYS_pipe,
		SYS_pipe2, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_close, SYS_close_range,
		SYS_eventfd2, SYS_epoll_create1, SYS_timerfd_create, SYS_signalfd4, SYS_memfd_create,
		SYS_inotify_init1, SYS_execve, SYS_read,
	};
	rnd_state = 0x2545f4914f6cdd1dULL;
	struct fdtable *t = fdt_new();
	struct fdtable *old = NULL;
	for (int i = 0; i < 20000; i++) {
		struct rec r;
		et_u64 a[6];
		for (int k = 0; k < 6; k++)
			a[k] = rnd() % 4 ? rnd() % 64 : rnd();
		long nr = nrs[rnd() % (sizeof(nrs) / sizeof(nrs[0]))];
		long long ret = rnd() % 5 ? (long long)(rnd() % 64) : -(long long)(rnd() % 200);
		struct ev_syscall *ev = ev_new(&r, nr, ret, a);
		int ncap = (int)(rnd() % 3);
		for (int k = 0; k < ncap; k++) {
			unsigned char data[40];
			for (size_t j = 0; j < sizeof(data); j++)
				data[j] = (unsigned char)(rnd() % 4 ? rnd() % 64 : rnd());
			data[0] = (unsigned char)(rnd() % 2 ? AF_INET : AF_UNIX);
			data[1] = 0;
			cap_add(ev, (int)(rnd() % 4), (int)(rnd() % ET_CAP_KIND_MAX), data,
				rnd() % sizeof(data));
		}
		fdt_apply(t, ev);
		if (i % 1000 == 0) {
			fdt_free(old);
			old = fdt_clone(t);
		}
	}
	fdt_free(old);
	fdt_free(t);
	CHECK(1);
}

int main(void)
{
	test_desc();
	test_open_dup_close();
	test_close_range();
	test_large_fds();
	test_sockets();
	test_pipes_anon();
	test_fork_exec();
	test_decode_with_table();
	test_fuzz();
	return unit_done();
}
