/*
 * Unit tests of the syscall table and the strace-style decoder: fake
 * syscall records with captures are built in a buffer and decoded; the
 * exact text is checked. Every record is decoded from a heap copy of exactly
 * h.size bytes, so that valgrind sees any read past the record.
 */
#include "unit.h"
#include "reports/syscalls/decode.h"
#include "reports/syscalls/syscall_table.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- building records --------------------------------------------------- */

#define REC_BYTES (sizeof(struct ev_syscall) + ET_CAP_AREA + ET_CAP_MAX_ONE)

struct rec {
	_Alignas(8) unsigned char buf[REC_BYTES];
};

#define ARGS(...) ((const et_u64[6]){ __VA_ARGS__ })

static struct ev_syscall *ev_new(struct rec *r, long nr, long long ret, const et_u64 *args)
{
	memset(r->buf, 0, sizeof(r->buf));
	struct ev_syscall *ev = (struct ev_syscall *)r->buf;
	ev->h.type = ET_EV_SYSCALL;
	ev->h.size = sizeof(*ev);
	ev->h.pid = ev->h.tid = 100;
	ev->nr = (et_u32)nr;
	ev->ret = ret;
	memcpy(ev->args, args, sizeof(ev->args));
	return ev;
}

static void cap_add(struct ev_syscall *ev, int arg, int kind, int seq, const void *data,
		    size_t len, int truncated)
{
	unsigned char *area = (unsigned char *)ev + sizeof(*ev);
	struct ev_capture *c = (struct ev_capture *)(area + ev->cap_len);
	c->arg = (et_u8)arg;
	c->kind = (et_u8)kind;
	c->seq = (et_u8)seq;
	c->truncated = (et_u8)truncated;
	c->len = (et_u16)len;
	c->pad = 0;
	memcpy(c + 1, data, len);
	ev->cap_len = (et_u32)((ev->cap_len + sizeof(*c) + len + 7) & ~(size_t)7);
	ev->ncap++;
	ev->h.size = (et_u32)(sizeof(*ev) + ev->cap_len);
}

/* A string the way the BPF side captures it: without the NUL. */
static void cap_str(struct ev_syscall *ev, int arg, const char *s)
{
	cap_add(ev, arg, ET_CAP_STR, 0, s, strlen(s), 0);
}

static struct strbuf out_sb = STRBUF_INIT;

/* Decodes a heap copy of exactly h.size bytes (at least the fixed part). */
static const char *dec_ctx(const struct ev_syscall *ev, const struct decode_ctx *ctx)
{
	size_t n = ev->h.size > sizeof(*ev) ? ev->h.size : sizeof(*ev);
	struct ev_syscall *copy = malloc(n);
	memcpy(copy, ev, n);
	sb_reset(&out_sb);
	decode_call(copy, ctx, &out_sb);
	free(copy);
	return sb_str(&out_sb);
}

static const char *dec(const struct ev_syscall *ev)
{
	return dec_ctx(ev, NULL);
}

static const char *describe_test_fd(void *fd_ctx, int argi, int fd)
{
	(void)fd_ctx;
	(void)argi;
	switch (fd) {
	case 3: return "/etc/passwd";
	case 4: return "/etc";
	case 5: return "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]";
	}
	return NULL;
}

static const struct decode_ctx fd_ctx = { describe_test_fd, NULL, 0 };

static struct sockaddr_in sin_of(const char *ip, int port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* ---- the table ----------------------------------------------------------- */

static const char *required[] = {
	"read", "write", "pread64", "pwrite64", "readv", "writev", "open", "openat", "openat2",
	"creat", "close", "close_range", "stat", "fstat", "lstat", "newfstatat", "statx",
	"access", "faccessat", "faccessat2", "readlink", "readlinkat", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "chdir", "fchdir",
	"getcwd", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
	"truncate", "ftruncate", "link", "linkat", "symlink", "symlinkat", "lseek", "dup",
	"dup2", "dup3", "fcntl", "ioctl", "pipe", "pipe2", "socket", "socketpair", "connect",
	"bind", "listen", "accept", "accept4", "sendto", "recvfrom", "sendmsg", "recvmsg",
	"shutdown", "getsockname", "getpeername", "setsockopt", "getsockopt", "execve",
	"execveat", "clone", "clone3", "fork", "vfork", "exit", "exit_group", "wait4", "waitid",
	"kill", "tgkill", "tkill", "getpid", "getppid", "gettid", "mmap", "munmap", "mprotect",
	"brk", "madvise", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "nanosleep",
	"clock_nanosleep", "clock_gettime", "poll", "ppoll", "select", "pselect6",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2", "futex",
	"set_tid_address", "set_robust_list", "prlimit64", "arch_prctl", "getrandom",
	"memfd_create", "uname", "getuid", "geteuid", "getgid", "getegid", "sched_yield", "rseq",
	"mount", "umount2", "chroot", "sync", "fsync", "fdatasync", "getdents64",
	"timerfd_create", "signalfd4", "inotify_init1", "inotify_add_watch", "sendfile",
	"splice",
};

static void test_table(void)
{
	CHECK(syscall_table_init() == 0);
	CHECK(syscall_table_init() == 0);   /* twice is fine */

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		int nr = syscall_nr(required[i]);
		const struct syscall_sig *s = nr >= 0 ? syscall_sig_by_nr(nr) : NULL;
		if (!s || strcmp(s->name, required[i]) != 0 ||
		    strcmp(syscall_name(nr), required[i]) != 0) {
			unit_failed++;
			fprintf(stderr, "FAIL table: %s (nr %d)\n", required[i], nr);
		} else {
			unit_passed++;
		}
	}

	/* numbers agree with the C library's */
	CHECK(syscall_nr("openat") == SYS_openat);
	CHECK(syscall_nr("read") == SYS_read);
	CHECK(syscall_nr("no_such_call") == -1);
	CHECK(syscall_nr("socketcall") == -1);   /* not an x86_64 syscall */
	CHECK(syscall_nr(NULL) == -1);
	CHECK_STR(syscall_name(SYS_execve), "execve");
	CHECK_STR(syscall_name(SYS_io_uring_setup), "io_uring_setup");   /* not in the table */
	CHECK(syscall_sig_by_nr(SYS_io_uring_setup) == NULL);
	CHECK_STR(syscall_name(511), "syscall_511");
	CHECK_STR(syscall_name(-5), "syscall_-5");
	CHECK_STR(syscall_name(100000), "syscall_100000");
	/* names are stable pointers */
	CHECK(syscall_name(100000) == syscall_name(100000));
	CHECK(syscall_name(SYS_openat) == syscall_name(SYS_openat));
	CHECK(syscall_sig_by_nr(-1) == NULL);
	CHECK(syscall_sig_by_nr(ET_MAX_SYSCALLS) == NULL);

	/* every signature is well formed */
	for (int nr = 0; nr < ET_MAX_SYSCALLS; nr++) {
		const struct syscall_sig *s = syscall_sig_by_nr(nr);
		if (!s)
			continue;
		int ok = s->nargs <= 6 && s->ret <= R_NONE;
		for (int i = 0; i < 6; i++) {
			if (i >= s->nargs && s->arg[i] != A_NONE)
				ok = 0;
			if (s->arg[i] >= A_ARG_TYPE_MAX)
				ok = 0;
			if ((s->arg[i] == A_BUF_IN || s->arg[i] == A_SOCK_BUF_IN || s->arg[i] == A_SOCKADDR_IN ||
			     s->arg[i] == A_SOCKADDR_OUT) &&
			    (s->lenarg[i] >= s->nargs || s->lenarg[i] == i))
				ok = 0;
		}
		if (!ok) {
			unit_failed++;
			fprintf(stderr, "FAIL signature of %s\n", s->name);
		}
	}

	struct et_syscall_spec sp;
	syscall_spec_for(SYS_write, &sp);
	CHECK(sp.kind[0] == ET_CAP_NONE && sp.kind[1] == ET_CAP_SOCK_IN && sp.lenarg[1] == 2);
	CHECK(sp.noreturn == 0);
	syscall_spec_for(SYS_read, &sp);
	CHECK(sp.kind[1] == ET_CAP_BUF_OUT);
	syscall_spec_for(SYS_openat, &sp);
	CHECK(sp.kind[0] == ET_CAP_NONE && sp.kind[1] == ET_CAP_STR && sp.kind[2] == ET_CAP_NONE);
	syscall_spec_for(SYS_connect, &sp);
	CHECK(sp.kind[1] == ET_CAP_SOCKADDR_IN && sp.lenarg[1] == 2);
	syscall_spec_for(SYS_accept4, &sp);
	CHECK(sp.kind[1] == ET_CAP_SOCKADDR_OUT && sp.lenarg[1] == 2);
	syscall_spec_for(SYS_recvfrom, &sp);
	CHECK(sp.kind[1] == ET_CAP_BUF_OUT && sp.kind[4] == ET_CAP_SOCKADDR_OUT && sp.lenarg[4] == 5);
	CHECK(sp.sock == 5);   /* socket I/O, peer address in argument 4 */
	syscall_spec_for(SYS_sendto, &sp);
	CHECK(sp.kind[1] == ET_CAP_SOCK_IN && sp.lenarg[1] == 2);   /* read at exit, DNS-sized */
	CHECK(sp.kind[4] == ET_CAP_SOCKADDR_IN && sp.lenarg[4] == 5);
	CHECK(sp.sock == 5);
	syscall_spec_for(SYS_sendmmsg, &sp);
	CHECK(sp.kind[1] == ET_CAP_MMSG && sp.sock == ET_SOCK_NOADDR);
	syscall_spec_for(SYS_recvmsg, &sp);
	CHECK(sp.kind[1] == ET_CAP_MSG && sp.sock == ET_SOCK_NOADDR);
	syscall_spec_for(SYS_connect, &sp);
	CHECK(sp.sock == 0);
	syscall_spec_for(SYS_read, &sp);
	CHECK(sp.sock == 0);
	syscall_spec_for(SYS_execve, &sp);
	CHECK(sp.kind[0] == ET_CAP_STR && sp.kind[1] == ET_CAP_ARGV && sp.kind[2] == ET_CAP_NONE);
	syscall_spec_for(SYS_pipe2, &sp);
	CHECK(sp.kind[0] == ET_CAP_FDPAIR_OUT);
	syscall_spec_for(SYS_socketpair, &sp);
	CHECK(sp.kind[3] == ET_CAP_FDPAIR_OUT);
	syscall_spec_for(SYS_exit_group, &sp);
	CHECK(sp.noreturn == 1);
	syscall_spec_for(SYS_exit, &sp);
	CHECK(sp.noreturn == 1);
	syscall_spec_for(SYS_io_uring_setup, &sp);   /* unknown: no captures */
	CHECK(sp.kind[0] == 0 && sp.kind[5] == 0 && sp.noreturn == 0);
	syscall_spec_for(9999, &sp);
	CHECK(sp.kind[0] == 0 && sp.noreturn == 0);
}

/* ---- files ---------------------------------------------------------------- */

static void test_open(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_openat, -ENOENT, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_str(ev, 1, "/nope");
	CHECK_STR(dec(ev), "openat(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT (No such file or directory)");
	CHECK(decode_nargs(ev) == 3);

	/* AT_FDCWD with only the low 32 bits set, as a 32-bit int in a u64 */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u32)AT_FDCWD, 0x1000,
					    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
	cap_str(ev, 1, "out.txt");
	CHECK_STR(dec(ev), "openat(AT_FDCWD, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644) = 3");
	CHECK(decode_nargs(ev) == 4);

	ev = ev_new(&r, SYS_openat, 5, ARGS(4, 0x1000, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY));
	cap_str(ev, 1, "passwd");
	CHECK_STR(dec_ctx(ev, &fd_ctx),
		  "openat(4</etc>, \"passwd\", O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC) = 5");

	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDWR | O_TMPFILE, 0600));
	cap_str(ev, 1, "/tmp");
	CHECK_STR(dec(ev), "openat(AT_FDCWD, \"/tmp\", O_RDWR|O_TMPFILE, 0600) = 3");

	ev = ev_new(&r, SYS_open, 3, ARGS(0x1000, O_RDONLY | O_APPEND | O_EXCL | O_NOFOLLOW | O_PATH | 0x80000000u));
	cap_str(ev, 0, "f");
	CHECK_STR(dec(ev), "open(\"f\", O_RDONLY|O_EXCL|O_APPEND|O_NOFOLLOW|O_PATH|0x80000000) = 3");

	ev = ev_new(&r, SYS_creat, 3, ARGS(0x1000, 0755));
	cap_str(ev, 0, "x");
	CHECK_STR(dec(ev), "creat(\"x\", 0755) = 3");

	/* path not captured (fault): the pointer */
	ev = ev_new(&r, SYS_openat, -EFAULT, ARGS((et_u64)(int64_t)AT_FDCWD, 0xdead0000, O_RDONLY));
	ev->flags = ET_SC_F_FAULT;
	CHECK_STR(dec(ev), "openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)");

	/* truncated path: shown whole, then "..." */
	char longp[ET_STR_MAX];
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	ev = ev_new(&r, SYS_openat, -ENAMETOOLONG, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_add(ev, 1, ET_CAP_STR, 0, longp, sizeof(longp) - 1, 1);
	struct strbuf want = STRBUF_INIT;
	sb_puts(&want, "openat(AT_FDCWD, \"");
	sb_putn(&want, longp, sizeof(longp) - 1);
	sb_puts(&want, "\"..., O_RDONLY) = -1 ENAMETOOLONG (File name too long)");
	CHECK_STR(dec(ev), sb_str(&want));
	sb_free(&want);

	/* a NUL inside the capture ends the string */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_add(ev, 1, ET_CAP_STR, 0, "ab\0cd", 5, 0);
	CHECK_STR(dec(ev), "openat(AT_FDCWD, \"ab\", O_RDONLY) = 3");

	/* quoting */
	ev = ev_new(&r, SYS_unlink, 0, ARGS(0x1000));
	cap_str(ev, 0, "a\"b\n\x01");
	CHECK_STR(dec(ev), "unlink(\"a\\\"b\\n\\x01\") = 0");

	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_BENEATH };
	ev = ev_new(&r, SYS_openat2, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, 0x2000, sizeof(how)));
	cap_str(ev, 1, "x");
	cap_add(ev, 2, ET_CAP_BUF_IN, 0, &how, sizeof(how), 0);
	CHECK_STR(dec(ev), "openat2(AT_FDCWD, \"x\", {flags=O_RDONLY|O_CLOEXEC, mode=000, resolve=RESOLVE_BENEATH}, 24) = 3");

	sb_reset(&out_sb);
	decode_open_flags(O_RDWR | O_SYNC | O_NOATIME | O_NOCTTY | O_DIRECT, &out_sb);
	CHECK_STR(sb_str(&out_sb), "O_RDWR|O_NOCTTY|O_SYNC|O_DIRECT|O_NOATIME");
	sb_reset(&out_sb);
	decode_open_flags(O_WRONLY | O_DSYNC | 0100000, &out_sb);
	CHECK_STR(sb_str(&out_sb), "O_WRONLY|O_DSYNC|O_LARGEFILE");
}

static void test_paths(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_access, -ENOENT, ARGS(0x1000, R_OK));
	cap_str(ev, 0, "/etc/ld.so.preload");
	CHECK_STR(dec(ev), "access(\"/etc/ld.so.preload\", R_OK) = -1 ENOENT (No such file or directory)");

	ev = ev_new(&r, SYS_faccessat2, 0, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, R_OK | W_OK | X_OK, AT_EACCESS));
	cap_str(ev, 1, "x");
	CHECK_STR(dec(ev), "faccessat2(AT_FDCWD, \"x\", R_OK|W_OK|X_OK, AT_EACCESS) = 0");

	ev = ev_new(&r, SYS_faccessat, 0, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, F_OK));
	cap_str(ev, 1, "x");
	CHECK_STR(dec(ev), "faccessat(AT_FDCWD, \"x\", F_OK) = 0");

	ev = ev_new(&r, SYS_unlinkat, 0, ARGS(4, 0x1000, AT_REMOVEDIR));
	cap_str(ev, 1, "d");
	CHECK_STR(dec_ctx(ev, &fd_ctx), "unlinkat(4</etc>, \"d\", AT_REMOVEDIR) = 0");

	ev = ev_new(&r, SYS_newfstatat, 0, ARGS(3, 0x1000, 0x7ffd0000, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	cap_str(ev, 1, "");
	CHECK_STR(dec_ctx(ev, &fd_ctx),
		  "newfstatat(3</etc/passwd>, \"\", 0x7ffd0000, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) = 0");

	ev = ev_new(&r, SYS_fstat, 0, ARGS(3, 0x7ffd0000));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "fstat(3</etc/passwd>, 0x7ffd0000) = 0");
	CHECK_STR(dec(ev), "fstat(3, 0x7ffd0000) = 0");

	ev = ev_new(&r, SYS_renameat2, 0, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, (et_u64)(int64_t)AT_FDCWD, 0x2000, 1));
	cap_str(ev, 1, "a");
	cap_str(ev, 3, "b");
	CHECK_STR(dec(ev), "renameat2(AT_FDCWD, \"a\", AT_FDCWD, \"b\", 0x1) = 0");

	ev = ev_new(&r, SYS_mkdir, -EEXIST, ARGS(0x1000, 0777));
	cap_str(ev, 0, "/tmp");
	CHECK_STR(dec(ev), "mkdir(\"/tmp\", 0777) = -1 EEXIST (File exists)");

	ev = ev_new(&r, SYS_chmod, 0, ARGS(0x1000, 0));
	cap_str(ev, 0, "f");
	CHECK_STR(dec(ev), "chmod(\"f\", 000) = 0");

	ev = ev_new(&r, SYS_fchownat, 0, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, 1000, (et_u64)-1, AT_SYMLINK_NOFOLLOW));
	cap_str(ev, 1, "f");
	CHECK_STR(dec(ev), "fchownat(AT_FDCWD, \"f\", 1000, -1, AT_SYMLINK_NOFOLLOW) = 0");

	ev = ev_new(&r, SYS_getcwd, 5, ARGS(0x1000, 4096));
	cap_add(ev, 0, ET_CAP_BUF_OUT, 0, "/tmp\0", 5, 0);
	CHECK_STR(dec(ev), "getcwd(\"/tmp\", 4096) = 5");

	ev = ev_new(&r, SYS_readlink, 13, ARGS(0x1000, 0x2000, 4096));
	cap_str(ev, 0, "/proc/self/exe");
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, "/usr/bin/true", 13, 0);
	CHECK_STR(dec(ev), "readlink(\"/proc/self/exe\", \"/usr/bin/true\", 4096) = 13");

	ev = ev_new(&r, SYS_lseek, 1234, ARGS(3, 0, SEEK_END));
	CHECK_STR(dec(ev), "lseek(3, 0, SEEK_END) = 1234");
	ev = ev_new(&r, SYS_lseek, 0, ARGS(3, (et_u64)-5, 42));
	CHECK_STR(dec(ev), "lseek(3, -5, 42) = 0");

	ev = ev_new(&r, SYS_mount, 0, ARGS(0x1000, 0x2000, 0x3000, 0x1000, 0));
	cap_str(ev, 0, "tmpfs");
	cap_str(ev, 1, "/mnt");
	cap_str(ev, 2, "tmpfs");
	CHECK_STR(dec(ev), "mount(\"tmpfs\", \"/mnt\", \"tmpfs\", 0x1000, NULL) = 0");
}

/* ---- I/O --------------------------------------------------------------------- */

static void test_io(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_read, 5, ARGS(3, 0x7ffd0000, 4096));
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, "hello", 5, 0);
	CHECK_STR(dec_ctx(ev, &fd_ctx), "read(3</etc/passwd>, \"hello\", 4096) = 5");

	/* captured a prefix of what was read */
	const char *line = "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n";
	ev = ev_new(&r, SYS_read, 1024, ARGS(3, 0x7ffd0000, 4096));
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, line, 64, 0);
	CHECK_STR(dec(ev), "read(3, \"root:x:0:0:root:/root:/bin/bash\\n\"..., 4096) = 1024");

	/* all that was read was captured, but it is longer than str_max */
	ev = ev_new(&r, SYS_read, 40, ARGS(3, 0x7ffd0000, 4096));
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, line, 40, 0);
	CHECK_STR(dec(ev), "read(3, \"root:x:0:0:root:/root:/bin/bash\\n\"..., 4096) = 40");
	struct decode_ctx wide = { NULL, NULL, 64 };
	CHECK_STR(dec_ctx(ev, &wide), "read(3, \"root:x:0:0:root:/root:/bin/bash\\nbin:x:1:\", 4096) = 40");

	/* failed read: the buffer pointer */
	ev = ev_new(&r, SYS_read, -EAGAIN, ARGS(3, 0x7ffd0000, 4096));
	CHECK_STR(dec(ev), "read(3, 0x7ffd0000, 4096) = -1 EAGAIN (Resource temporarily unavailable)");
	/* even if a capture came along by mistake */
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, "junk", 4, 0);
	CHECK_STR(dec(ev), "read(3, 0x7ffd0000, 4096) = -1 EAGAIN (Resource temporarily unavailable)");

	ev = ev_new(&r, SYS_read, 0, ARGS(0, 0x7ffd0000, 4096));
	CHECK_STR(dec(ev), "read(0, \"\", 4096) = 0");

	/* more data captured than returned (corrupt): only ret bytes */
	ev = ev_new(&r, SYS_read, 2, ARGS(3, 0x7ffd0000, 4096));
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, "abcdef", 6, 0);
	CHECK_STR(dec(ev), "read(3, \"ab\", 4096) = 2");

	ev = ev_new(&r, SYS_write, 3, ARGS(1, 0x1000, 3));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "hi\n", 3, 0);
	CHECK_STR(dec(ev), "write(1, \"hi\\n\", 3) = 3");

	/* long write: 64 bytes captured of 100 */
	char data[100];
	for (int i = 0; i < 100; i++)
		data[i] = (char)('0' + i % 10);
	ev = ev_new(&r, SYS_write, 100, ARGS(1, 0x1000, 100));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, data, 64, 0);
	CHECK_STR(dec(ev), "write(1, \"01234567890123456789012345678901\"..., 100) = 100");
	/* everything captured but longer than str_max: cut as well */
	ev = ev_new(&r, SYS_write, 40, ARGS(1, 0x1000, 40));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, data, 40, 0);
	CHECK_STR(dec(ev), "write(1, \"01234567890123456789012345678901\"..., 40) = 40");
	/* short capture flagged truncated */
	ev = ev_new(&r, SYS_write, 4, ARGS(1, 0x1000, 4));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ab", 2, 1);
	CHECK_STR(dec(ev), "write(1, \"ab\"..., 4) = 4");
	/* binary data */
	ev = ev_new(&r, SYS_write, 4, ARGS(5, 0x1000, 4));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "\x00\xff\t\\", 4, 0);
	CHECK_STR(dec_ctx(ev, &fd_ctx),
		  "write(5<socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]>, \"\\x00\\xff\\t\\\\\", 4) = 4");
	/* empty write, nothing captured */
	ev = ev_new(&r, SYS_write, 0, ARGS(1, 0x1000, 0));
	CHECK_STR(dec(ev), "write(1, \"\", 0) = 0");
	/* failed write whose data could not be read */
	ev = ev_new(&r, SYS_write, -EFAULT, ARGS(1, 0x1000, 10));
	CHECK_STR(dec(ev), "write(1, 0x1000, 10) = -1 EFAULT (Bad address)");
	ev = ev_new(&r, SYS_write, -EPIPE, ARGS(1, 0x1000, 2));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ok", 2, 0);
	CHECK_STR(dec(ev), "write(1, \"ok\", 2) = -1 EPIPE (Broken pipe)");

	ev = ev_new(&r, SYS_pwrite64, 2, ARGS(3, 0x1000, 2, 4096));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ok", 2, 0);
	CHECK_STR(dec(ev), "pwrite64(3, \"ok\", 2, 4096) = 2");

	ev = ev_new(&r, SYS_close, 0, ARGS(3));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "close(3</etc/passwd>) = 0");
	ev = ev_new(&r, SYS_close, -EBADF, ARGS(99));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "close(99) = -1 EBADF (Bad file descriptor)");
	ev = ev_new(&r, SYS_close_range, 0, ARGS(3, 0xffffffffu, CLOSE_RANGE_CLOEXEC));
	CHECK_STR(dec(ev), "close_range(3, 4294967295, 0x4) = 0");

	ev = ev_new(&r, SYS_dup2, 1, ARGS(3, 1));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "dup2(3</etc/passwd>, 1) = 1");
	ev = ev_new(&r, SYS_dup3, 1, ARGS(3, 1, O_CLOEXEC));
	CHECK_STR(dec(ev), "dup3(3, 1, O_CLOEXEC) = 1");

	ev = ev_new(&r, SYS_pipe2, 0, ARGS(0x7ffd0000, O_CLOEXEC));
	int fds[2] = { 3, 4 };
	cap_add(ev, 0, ET_CAP_FDPAIR_OUT, 0, fds, sizeof(fds), 0);
	CHECK_STR(dec(ev), "pipe2([3, 4], O_CLOEXEC) = 0");
	ev = ev_new(&r, SYS_pipe2, -EMFILE, ARGS(0x7ffd0000, O_CLOEXEC | O_NONBLOCK));
	CHECK_STR(dec(ev), "pipe2(0x7ffd0000, O_NONBLOCK|O_CLOEXEC) = -1 EMFILE (Too many open files)");
	ev = ev_new(&r, SYS_pipe2, 0, ARGS(0x7ffd0000, 0));
	cap_add(ev, 0, ET_CAP_FDPAIR_OUT, 0, fds, 4, 0);   /* short: not trusted */
	CHECK_STR(dec(ev), "pipe2(0x7ffd0000, 0) = 0");

	ev = ev_new(&r, SYS_fcntl, 1, ARGS(3, F_GETFD, 0x55));
	CHECK_STR(dec(ev), "fcntl(3, F_GETFD) = 1");
	CHECK(decode_nargs(ev) == 2);
	ev = ev_new(&r, SYS_fcntl, 0, ARGS(3, F_SETFD, FD_CLOEXEC));
	CHECK_STR(dec(ev), "fcntl(3, F_SETFD, FD_CLOEXEC) = 0");
	ev = ev_new(&r, SYS_fcntl, 0, ARGS(3, F_SETFL, O_RDWR | O_NONBLOCK));
	CHECK_STR(dec(ev), "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
	ev = ev_new(&r, SYS_fcntl, 10, ARGS(3, F_DUPFD_CLOEXEC, 10));
	CHECK_STR(dec(ev), "fcntl(3, F_DUPFD_CLOEXEC, 10) = 10");
	ev = ev_new(&r, SYS_fcntl, 0, ARGS(3, F_SETLKW, 0x7ffd0000));
	CHECK_STR(dec(ev), "fcntl(3, F_SETLKW, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_fcntl, -EINVAL, ARGS(3, 9999, 1));
	CHECK_STR(dec(ev), "fcntl(3, 9999, 0x1) = -1 EINVAL (Invalid argument)");

	ev = ev_new(&r, SYS_ioctl, -ENOTTY, ARGS(1, TCGETS, 0x7ffd0000));
	CHECK_STR(dec(ev), "ioctl(1, TCGETS, 0x7ffd0000) = -1 ENOTTY (Inappropriate ioctl for device)");
	ev = ev_new(&r, SYS_ioctl, 0, ARGS(1, TIOCGWINSZ, 0x7ffd0000));
	CHECK_STR(dec(ev), "ioctl(1, TIOCGWINSZ, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_ioctl, 0, ARGS(3, FIONBIO, 0x7ffd0000));
	CHECK_STR(dec(ev), "ioctl(3, FIONBIO, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_ioctl, 0, ARGS(3, FIOCLEX, 0));
	CHECK_STR(dec(ev), "ioctl(3, FIOCLEX, 0) = 0");
	ev = ev_new(&r, SYS_ioctl, 0, ARGS(3, FIONREAD, 0x10));
	CHECK_STR(dec(ev), "ioctl(3, FIONREAD, 0x10) = 0");
	ev = ev_new(&r, SYS_ioctl, 0, ARGS(3, TCSETS, 0x10));
	CHECK_STR(dec(ev), "ioctl(3, TCSETS, 0x10) = 0");
	ev = ev_new(&r, SYS_ioctl, -ENOTTY, ARGS(3, 0xc0de1234, 0x10));
	CHECK_STR(dec(ev), "ioctl(3, 0xc0de1234, 0x10) = -1 ENOTTY (Inappropriate ioctl for device)");

	ev = ev_new(&r, SYS_getrandom, 4, ARGS(0x1000, 4, 1));
	cap_add(ev, 0, ET_CAP_BUF_OUT, 0, "\x01\x02\x03\x04", 4, 0);
	CHECK_STR(dec(ev), "getrandom(\"\\x01\\x02\\x03\\x04\", 4, 0x1) = 4");

	ev = ev_new(&r, SYS_eventfd2, 4, ARGS(0, O_CLOEXEC | O_NONBLOCK));
	CHECK_STR(dec(ev), "eventfd2(0, O_NONBLOCK|O_CLOEXEC) = 4");
	ev = ev_new(&r, SYS_epoll_create1, 4, ARGS(0));
	CHECK_STR(dec(ev), "epoll_create1(0) = 4");
	ev = ev_new(&r, SYS_timerfd_create, 4, ARGS(CLOCK_MONOTONIC, O_CLOEXEC));
	CHECK_STR(dec(ev), "timerfd_create(CLOCK_MONOTONIC, O_CLOEXEC) = 4");
	ev = ev_new(&r, SYS_memfd_create, 4, ARGS(0x1000, 1));
	cap_str(ev, 0, "jit");
	CHECK_STR(dec(ev), "memfd_create(\"jit\", 0x1) = 4");
	ev = ev_new(&r, SYS_sendfile, 100, ARGS(1, 3, 0, 100));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "sendfile(1, 3</etc/passwd>, NULL, 100) = 100");
	ev = ev_new(&r, SYS_getdents64, 0, ARGS(4, 0x1000, 32768));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "getdents64(4</etc>, 0x1000, 32768) = 0");
	ev = ev_new(&r, SYS_poll, 1, ARGS(0x1000, 2, (et_u64)-1));
	CHECK_STR(dec(ev), "poll(0x1000, 2, -1) = 1");
}

/* ---- sockets -------------------------------------------------------------------- */

static void test_sockets(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_socket, 3, ARGS(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	CHECK_STR(dec(ev), "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3");
	ev = ev_new(&r, SYS_socket, 3, ARGS(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_STR(dec(ev), "socket(AF_UNIX, SOCK_DGRAM, 0) = 3");
	ev = ev_new(&r, SYS_socket, -EAFNOSUPPORT, ARGS(77, 99, 0));
	CHECK_STR(dec(ev), "socket(77, SOCK_RAW|0x60, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)");
	ev = ev_new(&r, SYS_socket, 3, ARGS(AF_INET6, SOCK_DGRAM, IPPROTO_UDP));
	CHECK_STR(dec(ev), "socket(AF_INET6, SOCK_DGRAM, 17) = 3");

	struct sockaddr_in sin = sin_of("127.0.0.1", 80);
	ev = ev_new(&r, SYS_connect, 0, ARGS(3, 0x1000, sizeof(sin)));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, &sin, sizeof(sin), 0);
	CHECK_STR(dec(ev), "connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0");

	ev->ret = -EINPROGRESS;
	CHECK_STR(dec(ev), "connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EINPROGRESS (Operation now in progress)");

	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	ev = ev_new(&r, SYS_connect, 0, ARGS(5, 0x1000, sizeof(sin6)));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, &sin6, sizeof(sin6), 0);
	CHECK_STR(dec(ev), "connect(5, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 0");

	inet_pton(AF_INET6, "2001:db8::42", &sin6.sin6_addr);
	sin6.sin6_scope_id = 2;
	sb_reset(&out_sb);
	decode_sockaddr_short(&sin6, sizeof(sin6), &out_sb);
	CHECK_STR(sb_str(&out_sb), "[2001:db8::42]:443");

	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/tmp/s");
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen("/tmp/s") + 1);
	ev = ev_new(&r, SYS_connect, 0, ARGS(4, 0x1000, sl));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, &sun, sl, 0);
	CHECK_STR(dec(ev), "connect(4, {sa_family=AF_UNIX, sun_path=\"/tmp/s\"}, 9) = 0");
	/* the full sizeof(sockaddr_un), NUL padded */
	ev = ev_new(&r, SYS_connect, -ENOENT, ARGS(4, 0x1000, sizeof(sun)));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, &sun, sizeof(sun), 0);
	CHECK_STR(dec(ev), "connect(4, {sa_family=AF_UNIX, sun_path=\"/tmp/s\"}, 110) = -1 ENOENT (No such file or directory)");

	/* abstract */
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path, "\0name", 5);
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 5);
	ev = ev_new(&r, SYS_bind, 0, ARGS(4, 0x1000, sl));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, &sun, sl, 0);
	CHECK_STR(dec(ev), "bind(4, {sa_family=AF_UNIX, sun_path=@\"name\"}, 7) = 0");
	sb_reset(&out_sb);
	decode_sockaddr_short(&sun, sl, &out_sb);
	CHECK_STR(sb_str(&out_sb), "@name");

	/* unnamed unix address (just the family) */
	sb_reset(&out_sb);
	decode_sockaddr(&sun, sizeof(sa_family_t), &out_sb);
	CHECK_STR(sb_str(&out_sb), "{sa_family=AF_UNIX}");
	sb_reset(&out_sb);
	decode_sockaddr_short(&sun, sizeof(sa_family_t), &out_sb);
	CHECK_STR(sb_str(&out_sb), "");

	/* short or odd addresses */
	sb_reset(&out_sb);
	decode_sockaddr(&sin, 1, &out_sb);
	CHECK_STR(sb_str(&out_sb), "{}");
	sb_reset(&out_sb);
	decode_sockaddr(&sin, 4, &out_sb);   /* AF_INET without the address */
	CHECK_STR(sb_str(&out_sb), "{sa_family=AF_INET, sa_data=\"\\x00P\"}");
	unsigned char unspec[4] = { AF_UNSPEC, 0, 1, 2 };
	sb_reset(&out_sb);
	decode_sockaddr(unspec, sizeof(unspec), &out_sb);
	CHECK_STR(sb_str(&out_sb), "{sa_family=AF_UNSPEC, sa_data=\"\\x01\\x02\"}");
	sb_reset(&out_sb);
	decode_sockaddr(NULL, 16, &out_sb);
	CHECK_STR(sb_str(&out_sb), "{}");
	sb_reset(&out_sb);
	decode_sockaddr_short(&sin, sizeof(sin), &out_sb);
	CHECK_STR(sb_str(&out_sb), "127.0.0.1:80");

	/* accept4 with the peer address */
	struct sockaddr_in peer = sin_of("127.0.0.1", 40000);
	ev = ev_new(&r, SYS_accept4, 6, ARGS(5, 0x1000, 0x2000, SOCK_CLOEXEC));
	cap_add(ev, 1, ET_CAP_SOCKADDR_OUT, 0, &peer, sizeof(peer), 0);
	CHECK_STR(dec(ev), "accept4(5, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr(\"127.0.0.1\")}, 0x2000, O_CLOEXEC) = 6");
	ev = ev_new(&r, SYS_accept, -EAGAIN, ARGS(5, 0x1000, 0x2000));
	CHECK_STR(dec(ev), "accept(5, 0x1000, 0x2000) = -1 EAGAIN (Resource temporarily unavailable)");
	ev = ev_new(&r, SYS_accept, 6, ARGS(5, 0, 0));
	CHECK_STR(dec(ev), "accept(5, NULL, NULL) = 6");

	struct sockaddr_in dns = sin_of("8.8.8.8", 53);
	ev = ev_new(&r, SYS_sendto, 4, ARGS(3, 0x1000, 4, MSG_DONTWAIT | MSG_NOSIGNAL, 0x2000, sizeof(dns)));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ping", 4, 0);
	cap_add(ev, 4, ET_CAP_SOCKADDR_IN, 0, &dns, sizeof(dns), 0);
	CHECK_STR(dec(ev), "sendto(3, \"ping\", 4, MSG_DONTWAIT|MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"8.8.8.8\")}, 16) = 4");
	ev = ev_new(&r, SYS_sendto, 4, ARGS(3, 0x1000, 4, 0, 0, 0));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ping", 4, 0);
	CHECK_STR(dec(ev), "sendto(3, \"ping\", 4, 0, NULL, 0) = 4");

	ev = ev_new(&r, SYS_recvfrom, 4, ARGS(3, 0x1000, 1500, 0, 0x2000, 0x3000));
	cap_add(ev, 1, ET_CAP_BUF_OUT, 0, "pong", 4, 0);
	cap_add(ev, 4, ET_CAP_SOCKADDR_OUT, 0, &dns, sizeof(dns), 0);
	CHECK_STR(dec(ev), "recvfrom(3, \"pong\", 1500, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\"8.8.8.8\")}, 0x3000) = 4");
	ev = ev_new(&r, SYS_recvfrom, -EAGAIN, ARGS(3, 0x1000, 1500, MSG_PEEK | 0x10000000, 0x2000, 0x3000));
	CHECK_STR(dec(ev), "recvfrom(3, 0x1000, 1500, MSG_PEEK|0x10000000, 0x2000, 0x3000) = -1 EAGAIN (Resource temporarily unavailable)");

	int one = 1;
	ev = ev_new(&r, SYS_setsockopt, 0, ARGS(3, SOL_SOCKET, SO_REUSEADDR, 0x1000, 4));
	cap_add(ev, 3, ET_CAP_BUF_IN, 0, &one, 4, 0);
	CHECK_STR(dec(ev), "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0");
	ev = ev_new(&r, SYS_setsockopt, 0, ARGS(3, IPPROTO_TCP, TCP_NODELAY, 0x1000, 4));
	cap_add(ev, 3, ET_CAP_BUF_IN, 0, &one, 4, 0);
	CHECK_STR(dec(ev), "setsockopt(3, IPPROTO_TCP, TCP_NODELAY, [1], 4) = 0");
	ev = ev_new(&r, SYS_setsockopt, 0, ARGS(3, IPPROTO_IPV6, IPV6_V6ONLY, 0x1000, 4));
	cap_add(ev, 3, ET_CAP_BUF_IN, 0, &one, 4, 0);
	CHECK_STR(dec(ev), "setsockopt(3, IPPROTO_IPV6, IPV6_V6ONLY, [1], 4) = 0");
	ev = ev_new(&r, SYS_getsockopt, 0, ARGS(3, IPPROTO_IP, IP_TTL, 0x1000, 0x2000));
	CHECK_STR(dec(ev), "getsockopt(3, IPPROTO_IP, IP_TTL, 0x1000, 0x2000) = 0");
	ev = ev_new(&r, SYS_getsockopt, 0, ARGS(3, 999, 12345, 0x1000, 0x2000));
	CHECK_STR(dec(ev), "getsockopt(3, 999, 12345, 0x1000, 0x2000) = 0");

	ev = ev_new(&r, SYS_shutdown, 0, ARGS(3, SHUT_WR));
	CHECK_STR(dec(ev), "shutdown(3, SHUT_WR) = 0");
	ev = ev_new(&r, SYS_listen, 0, ARGS(3, 128));
	CHECK_STR(dec(ev), "listen(3, 128) = 0");

	ev = ev_new(&r, SYS_socketpair, 0, ARGS(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0x1000));
	int sv[2] = { 5, 6 };
	cap_add(ev, 3, ET_CAP_FDPAIR_OUT, 0, sv, sizeof(sv), 0);
	CHECK_STR(dec(ev), "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [5, 6]) = 0");
}

/* ---- processes, memory, signals, time ------------------------------------------------ */

static void test_process(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0x7ffd1000));
	cap_str(ev, 0, "/bin/ls");
	cap_add(ev, 1, ET_CAP_ARGV, 0, "ls", 2, 0);
	cap_add(ev, 1, ET_CAP_ARGV, 1, "-l", 2, 0);
	CHECK_STR(dec(ev), "execve(\"/bin/ls\", [\"ls\", \"-l\"], 0x7ffd1000) = 0");

	ev = ev_new(&r, SYS_execve, -ENOENT, ARGS(0x1000, 0x2000, 0x7ffd1000));
	cap_str(ev, 0, "/nope");
	cap_add(ev, 1, ET_CAP_ARGV, 0, "nope", 4, 0);
	CHECK_STR(dec(ev), "execve(\"/nope\", [\"nope\"], 0x7ffd1000) = -1 ENOENT (No such file or directory)");

	/* an entry cut short, and a marker saying more entries followed */
	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0x7ffd1000));
	cap_str(ev, 0, "/bin/echo");
	cap_add(ev, 1, ET_CAP_ARGV, 0, "echo", 4, 0);
	cap_add(ev, 1, ET_CAP_ARGV, 1, "aaaa", 4, 1);
	cap_add(ev, 1, ET_CAP_ARGV, 2, "", 0, 1);
	CHECK_STR(dec(ev), "execve(\"/bin/echo\", [\"echo\", \"aaaa\"..., ...], 0x7ffd1000) = 0");

	/* ET_ARGV_MAX entries: the list may have been cut */
	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0));
	cap_str(ev, 0, "/bin/true");
	for (int i = 0; i < ET_ARGV_MAX; i++)
		cap_add(ev, 1, ET_CAP_ARGV, i, "x", 1, 0);
	struct strbuf want = STRBUF_INIT;
	sb_puts(&want, "execve(\"/bin/true\", [");
	for (int i = 0; i < ET_ARGV_MAX; i++)
		sb_puts(&want, i ? ", \"x\"" : "\"x\"");
	sb_puts(&want, ", ...], NULL) = 0");
	CHECK_STR(dec(ev), sb_str(&want));
	sb_free(&want);

	/* entries out of order are found by seq */
	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0x3000));
	cap_add(ev, 1, ET_CAP_ARGV, 1, "b", 1, 0);
	cap_str(ev, 0, "/x");
	cap_add(ev, 1, ET_CAP_ARGV, 0, "a", 1, 0);
	CHECK_STR(dec(ev), "execve(\"/x\", [\"a\", \"b\"], 0x3000) = 0");

	/* empty argv; unreadable argv; NULL argv */
	ev = ev_new(&r, SYS_execve, 0, ARGS(0x1000, 0x2000, 0x3000));
	cap_str(ev, 0, "/x");
	CHECK_STR(dec(ev), "execve(\"/x\", [], 0x3000) = 0");
	ev->flags = ET_SC_F_FAULT;
	CHECK_STR(dec(ev), "execve(\"/x\", 0x2000, 0x3000) = 0");
	ev = ev_new(&r, SYS_execve, -EFAULT, ARGS(0x1000, 0, 0));
	cap_str(ev, 0, "/x");
	CHECK_STR(dec(ev), "execve(\"/x\", NULL, NULL) = -1 EFAULT (Bad address)");

	ev = ev_new(&r, SYS_execveat, 0, ARGS(3, 0x1000, 0x2000, 0x3000, AT_EMPTY_PATH));
	cap_str(ev, 1, "");
	cap_add(ev, 2, ET_CAP_ARGV, 0, "prog", 4, 0);
	CHECK_STR(dec(ev), "execveat(3, \"\", [\"prog\"], 0x3000, AT_EMPTY_PATH) = 0");

	/* fork as glibc does it, and a thread */
	ev = ev_new(&r, SYS_clone, 4321, ARGS(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0, 0x7f0000001000ULL, 0));
	CHECK_STR(dec(ev), "clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f0000001000, 0) = 4321");
	ev = ev_new(&r, SYS_clone, 4322, ARGS(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
					     CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
					     0x7f0000100000ULL, 0x7f0000001000ULL, 0x7f0000001000ULL, 0x7f0000002000ULL));
	CHECK_STR(dec(ev), "clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, 0x7f0000100000, 0x7f0000001000, 0x7f0000001000, 0x7f0000002000) = 4322");
	ev = ev_new(&r, SYS_clone, 4323, ARGS(CLONE_VM | CLONE_VFORK | SIGCHLD, 0x1000));
	CHECK_STR(dec(ev), "clone(CLONE_VM|CLONE_VFORK|SIGCHLD, 0x1000, NULL, NULL, 0) = 4323");
	ev = ev_new(&r, SYS_clone, -EPERM, ARGS(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS));
	CHECK_STR(dec(ev), "clone(CLONE_NEWNS|CLONE_NEWUSER|CLONE_NEWPID, NULL, NULL, NULL, 0) = -1 EPERM (Operation not permitted)");
	ev = ev_new(&r, SYS_unshare, 0, ARGS(CLONE_NEWNS | CLONE_NEWTIME));
	CHECK_STR(dec(ev), "unshare(CLONE_NEWTIME|CLONE_NEWNS) = 0");
	ev = ev_new(&r, SYS_clone3, 4324, ARGS(0x7ffd0000, 88));
	CHECK_STR(dec(ev), "clone3(0x7ffd0000, 88) = 4324");
	ev = ev_new(&r, SYS_fork, 4325, ARGS(0));
	CHECK_STR(dec(ev), "fork() = 4325");
	ev = ev_new(&r, SYS_vfork, 4325, ARGS(0));
	CHECK_STR(dec(ev), "vfork() = 4325");

	ev = ev_new(&r, SYS_exit_group, 0, ARGS(0));
	ev->flags = ET_SC_F_NORETURN;
	CHECK_STR(dec(ev), "exit_group(0) = ?");
	ev = ev_new(&r, SYS_exit, 0, ARGS(3));   /* R_NONE even without the flag */
	CHECK_STR(dec(ev), "exit(3) = ?");
	/* any call recorded at entry */
	ev = ev_new(&r, SYS_read, 0, ARGS(0, 0x1000, 10));
	ev->flags = ET_SC_F_NORETURN;
	CHECK_STR(dec(ev), "read(0, 0x1000, 10) = ?");

	ev = ev_new(&r, SYS_wait4, 4321, ARGS((et_u64)-1, 0x7ffd0000, 0, 0));
	CHECK_STR(dec(ev), "wait4(-1, 0x7ffd0000, 0, NULL) = 4321");
	ev = ev_new(&r, SYS_wait4, 0, ARGS((et_u64)-1, 0x7ffd0000, WNOHANG | __WALL, 0));
	CHECK_STR(dec(ev), "wait4(-1, 0x7ffd0000, WNOHANG|__WALL, NULL) = 0");
	ev = ev_new(&r, SYS_wait4, -ECHILD, ARGS((et_u64)-1, 0, WUNTRACED | WCONTINUED, 0));
	CHECK_STR(dec(ev), "wait4(-1, NULL, WUNTRACED|WCONTINUED, NULL) = -1 ECHILD (No child processes)");
	ev = ev_new(&r, SYS_waitid, 0, ARGS(P_PID, 42, 0x1000, WEXITED | WNOWAIT, 0));
	CHECK_STR(dec(ev), "waitid(1, 42, 0x1000, WEXITED|WNOWAIT, NULL) = 0");

	ev = ev_new(&r, SYS_kill, 0, ARGS(1234, SIGTERM));
	CHECK_STR(dec(ev), "kill(1234, SIGTERM) = 0");
	ev = ev_new(&r, SYS_kill, -ESRCH, ARGS(1234, 0));
	CHECK_STR(dec(ev), "kill(1234, 0) = -1 ESRCH (No such process)");
	ev = ev_new(&r, SYS_tgkill, 0, ARGS(100, 101, 35));
	CHECK_STR(dec(ev), "tgkill(100, 101, SIGRT3) = 0");
	ev = ev_new(&r, SYS_tkill, -EINVAL, ARGS(100, 99));
	CHECK_STR(dec(ev), "tkill(100, 99) = -1 EINVAL (Invalid argument)");

	ev = ev_new(&r, SYS_getpid, 100, ARGS(0));
	CHECK_STR(dec(ev), "getpid() = 100");
	ev = ev_new(&r, SYS_set_tid_address, 100, ARGS(0x7f0000001000ULL));
	CHECK_STR(dec(ev), "set_tid_address(0x7f0000001000) = 100");
	ev = ev_new(&r, SYS_prlimit64, 0, ARGS(0, 7, 0, 0x7ffd0000));
	CHECK_STR(dec(ev), "prlimit64(0, 7, NULL, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_arch_prctl, 0, ARGS(0x1002, 0x7f0000001000ULL));
	CHECK_STR(dec(ev), "arch_prctl(0x1002, 0x7f0000001000) = 0");
}

static void test_memory(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_mmap, 0x7f1234560000LL, ARGS(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (et_u64)-1, 0));
	CHECK_STR(dec(ev), "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1234560000");
	/* fd -1 as a 32-bit value */
	ev->args[4] = 0xffffffffu;
	CHECK_STR(dec(ev), "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1234560000");

	ev = ev_new(&r, SYS_mmap, 0x7f1234570000LL, ARGS(0x7f1234570000LL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 8192));
	CHECK_STR(dec_ctx(ev, &fd_ctx), "mmap(0x7f1234570000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</etc/passwd>, 8192) = 0x7f1234570000");
	ev = ev_new(&r, SYS_mmap, -ENOMEM, ARGS(0, 1ULL << 40, PROT_NONE, MAP_SHARED | MAP_NORESERVE | MAP_STACK | MAP_POPULATE, (et_u64)-1, 0));
	CHECK_STR(dec(ev), "mmap(NULL, 1099511627776, PROT_NONE, MAP_SHARED|MAP_NORESERVE|MAP_POPULATE|MAP_STACK, -1, 0) = -1 ENOMEM (Cannot allocate memory)");
	ev = ev_new(&r, SYS_mprotect, 0, ARGS(0x7f1234560000LL, 4096, PROT_NONE));
	CHECK_STR(dec(ev), "mprotect(0x7f1234560000, 4096, PROT_NONE) = 0");
	ev = ev_new(&r, SYS_mprotect, 0, ARGS(0x7f1234560000LL, 4096, PROT_READ | 0x100));
	CHECK_STR(dec(ev), "mprotect(0x7f1234560000, 4096, PROT_READ|0x100) = 0");
	ev = ev_new(&r, SYS_munmap, 0, ARGS(0x7f1234560000LL, 8192));
	CHECK_STR(dec(ev), "munmap(0x7f1234560000, 8192) = 0");
	ev = ev_new(&r, SYS_brk, 0x555555560000LL, ARGS(0));
	CHECK_STR(dec(ev), "brk(NULL) = 0x555555560000");
	ev = ev_new(&r, SYS_madvise, 0, ARGS(0x1000, 4096, MADV_DONTNEED));
	CHECK_STR(dec(ev), "madvise(0x1000, 4096, 4) = 0");
}

static void test_signals_time_misc(void)
{
	struct rec r;
	struct ev_syscall *ev;

	ev = ev_new(&r, SYS_rt_sigaction, 0, ARGS(SIGINT, 0x7ffd0000, 0, 8));
	CHECK_STR(dec(ev), "rt_sigaction(SIGINT, 0x7ffd0000, NULL, 8) = 0");
	ev = ev_new(&r, SYS_rt_sigprocmask, 0, ARGS(SIG_BLOCK, 0x7ffd0000, 0x7ffd0080, 8));
	CHECK_STR(dec(ev), "rt_sigprocmask(SIG_BLOCK, 0x7ffd0000, 0x7ffd0080, 8) = 0");
	ev = ev_new(&r, SYS_rt_sigprocmask, 0, ARGS(SIG_SETMASK, 0, 0x7ffd0080, 8));
	CHECK_STR(dec(ev), "rt_sigprocmask(SIG_SETMASK, NULL, 0x7ffd0080, 8) = 0");
	ev = ev_new(&r, SYS_rt_sigreturn, 0, ARGS(0));
	CHECK_STR(dec(ev), "rt_sigreturn() = 0");

	ev = ev_new(&r, SYS_clock_gettime, 0, ARGS(CLOCK_MONOTONIC, 0x7ffd0000));
	CHECK_STR(dec(ev), "clock_gettime(CLOCK_MONOTONIC, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_clock_nanosleep, 0, ARGS(CLOCK_REALTIME, 1, 0x7ffd0000, 0));
	CHECK_STR(dec(ev), "clock_nanosleep(CLOCK_REALTIME, 0x1, 0x7ffd0000, NULL) = 0");
	ev = ev_new(&r, SYS_clock_gettime, 0, ARGS((et_u64)-6, 0x7ffd0000));   /* a CPU clock */
	CHECK_STR(dec(ev), "clock_gettime(-6, 0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_nanosleep, -EINTR, ARGS(0x7ffd0000, 0x7ffd0010));
	CHECK_STR(dec(ev), "nanosleep(0x7ffd0000, 0x7ffd0010) = -1 EINTR (Interrupted system call)");

	ev = ev_new(&r, SYS_futex, 0, ARGS(0x7f0000001000ULL, FUTEX_WAIT_PRIVATE, 2, 0, 0, 0));
	CHECK_STR(dec(ev), "futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0) = 0");
	ev = ev_new(&r, SYS_futex, 1, ARGS(0x7f0000001000ULL, FUTEX_WAKE, 1, 0, 0, 0));
	CHECK_STR(dec(ev), "futex(0x7f0000001000, FUTEX_WAKE, 1, NULL, NULL, 0) = 1");
	ev = ev_new(&r, SYS_futex, -ETIMEDOUT, ARGS(0x1000, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 0, 0x2000, 0, 0xffffffffu));
	CHECK_STR(dec(ev), "futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, 0x2000, NULL, -1) = -1 ETIMEDOUT (Connection timed out)");
	ev = ev_new(&r, SYS_futex, -ENOSYS, ARGS(0x1000, 99));
	CHECK_STR(dec(ev), "futex(0x1000, 0x63, 0, NULL, NULL, 0) = -1 ENOSYS (Function not implemented)");

	/* interrupted: the kernel's restart codes */
	ev = ev_new(&r, SYS_read, -512, ARGS(0, 0x1000, 10));
	CHECK_STR(dec(ev), "read(0, 0x1000, 10) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)");
	ev = ev_new(&r, SYS_getpid, -4000, ARGS(0));
	CHECK_STR(dec(ev), "getpid() = -1 errno 4000 (Unknown error 4000)");
	/* not an error: below -4095 */
	ev = ev_new(&r, SYS_lseek, -4096, ARGS(3, 0, SEEK_CUR));
	CHECK_STR(dec(ev), "lseek(3, 0, SEEK_CUR) = -4096");

	ev = ev_new(&r, SYS_uname, 0, ARGS(0x7ffd0000));
	CHECK_STR(dec(ev), "uname(0x7ffd0000) = 0");
	ev = ev_new(&r, SYS_getuid, 1000, ARGS(0));
	CHECK_STR(dec(ev), "getuid() = 1000");
	ev = ev_new(&r, SYS_sched_yield, 0, ARGS(0));
	CHECK_STR(dec(ev), "sched_yield() = 0");
	ev = ev_new(&r, SYS_rseq, 0, ARGS(0x7f0000001000ULL, 32, 0, 0x53053053));
	CHECK_STR(dec(ev), "rseq(0x7f0000001000, 32, 0, 0x53053053) = 0");

	/* unknown syscalls: six hex arguments */
	ev = ev_new(&r, 511, 0, ARGS(1, 2, 3, 4, 5, 6));
	CHECK_STR(dec(ev), "syscall_511(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = 0");
	CHECK(decode_nargs(ev) == 6);
	ev = ev_new(&r, SYS_io_uring_setup, 3, ARGS(16, 0x7ffd0000));
	CHECK_STR(dec(ev), "io_uring_setup(0x10, 0x7ffd0000, 0, 0, 0, 0) = 3");
	ev = ev_new(&r, 100000, -ENOSYS, ARGS(0));
	CHECK_STR(dec(ev), "syscall_100000(0, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)");

	/* decode_arg alone, and past the arguments */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	sb_reset(&out_sb);
	decode_arg(ev, 0, NULL, &out_sb);
	CHECK_STR(sb_str(&out_sb), "AT_FDCWD");
	sb_reset(&out_sb);
	decode_arg(ev, 5, NULL, &out_sb);
	CHECK_STR(sb_str(&out_sb), "0");
	sb_reset(&out_sb);
	decode_arg(ev, 6, NULL, &out_sb);
	CHECK_STR(sb_str(&out_sb), "?");
	sb_reset(&out_sb);
	decode_ret(ev, &out_sb);
	CHECK_STR(sb_str(&out_sb), "3");
}

static void test_names(void)
{
	CHECK_STR(decode_errno_name(ENOENT), "ENOENT");
	CHECK_STR(decode_errno_name(EAGAIN), "EAGAIN");
	CHECK_STR(decode_errno_name(EACCES), "EACCES");
	CHECK_STR(decode_errno_name(EINPROGRESS), "EINPROGRESS");
	CHECK_STR(decode_errno_name(512), "ERESTARTSYS");
	CHECK(decode_errno_name(0) == NULL);
	CHECK(decode_errno_name(-2) == NULL);
	CHECK(decode_errno_name(4000) == NULL);

	CHECK_STR(decode_signal_name(SIGTERM), "SIGTERM");
	CHECK_STR(decode_signal_name(SIGKILL), "SIGKILL");
	CHECK_STR(decode_signal_name(SIGCHLD), "SIGCHLD");
	CHECK_STR(decode_signal_name(SIGSEGV), "SIGSEGV");
	CHECK_STR(decode_signal_name(SIGSYS), "SIGSYS");
	CHECK_STR(decode_signal_name(32), "SIGRT0");
	CHECK_STR(decode_signal_name(35), "SIGRT3");
	CHECK_STR(decode_signal_name(64), "SIGRT32");
	CHECK(decode_signal_name(0) == NULL);
	CHECK(decode_signal_name(65) == NULL);
	CHECK(decode_signal_name(-1) == NULL);
	CHECK(decode_signal_name(SIGINT) == decode_signal_name(SIGINT));
}

/* ---- corrupt records ------------------------------------------------------------------- */

/* xorshift: a reproducible sequence */
static unsigned long long rnd_state;
static unsigned long long rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void test_corrupt(void)
{
	struct rec r;
	struct ev_syscall *ev;
	struct ev_capture *c;

	/* a capture whose length runs past cap_len */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_str(ev, 1, "/etc/passwd");
	c = (struct ev_capture *)((unsigned char *)ev + sizeof(*ev));
	c->len = 2000;
	CHECK_STR(dec(ev), "openat(AT_FDCWD, 0x1000, O_RDONLY) = 3");
	CHECK(ev_find_capture(ev, 1, 0) == NULL);
	c->len = 0xffff;
	CHECK_STR(dec(ev), "openat(AT_FDCWD, 0x1000, O_RDONLY) = 3");

	/* cap_len larger than the record: h.size wins */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_str(ev, 1, "/etc/passwd");
	ev->cap_len = 0xffffffffu;
	CHECK_STR(dec(ev), "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3");
	ev->h.size -= 8;   /* the capture no longer fits */
	CHECK_STR(dec(ev), "openat(AT_FDCWD, 0x1000, O_RDONLY) = 3");

	/* h.size smaller than the fixed part: no captures at all */
	ev = ev_new(&r, SYS_openat, 3, ARGS((et_u64)(int64_t)AT_FDCWD, 0x1000, O_RDONLY));
	cap_str(ev, 1, "/etc/passwd");
	ev->h.size = 10;
	CHECK(ev_find_capture(ev, 1, 0) == NULL);

	/* more captures announced than present */
	ev = ev_new(&r, SYS_write, 2, ARGS(1, 0x1000, 2));
	cap_add(ev, 1, ET_CAP_BUF_IN, 0, "ok", 2, 0);
	ev->ncap = 65535;
	CHECK_STR(dec(ev), "write(1, \"ok\", 2) = 2");
	CHECK(ev_find_capture(ev, 4, 0) == NULL);

	/* the capture has the wrong kind for its argument */
	ev = ev_new(&r, SYS_write, 2, ARGS(1, 0x1000, 2));
	cap_add(ev, 1, ET_CAP_SOCKADDR_IN, 0, "ok", 2, 0);
	CHECK_STR(dec(ev), "write(1, 0x1000, 2) = 2");

	/* a capture header that does not fit */
	ev = ev_new(&r, SYS_write, 2, ARGS(1, 0x1000, 2));
	ev->ncap = 1;
	ev->cap_len = 4;
	ev->h.size = sizeof(*ev) + 4;
	CHECK_STR(dec(ev), "write(1, 0x1000, 2) = 2");

	CHECK(ev_find_capture(NULL, 0, 0) == NULL);

	/* random records of exactly h.size bytes: nothing may be read past
	 * them (valgrind checks), nothing may crash */
	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (int iter = 0; iter < 20000; iter++) {
		size_t area = rnd() % 600;
		size_t size = sizeof(struct ev_syscall) + area;
		struct ev_syscall *e = malloc(size);
		unsigned char *p = (unsigned char *)e;
		for (size_t i = 0; i < size; i++)
			p[i] = (unsigned char)rnd();
		e->nr = (et_u32)(rnd() % (ET_MAX_SYSCALLS + 8));
		e->h.size = (et_u32)size;
		if (iter % 3)
			e->cap_len = (et_u32)(rnd() % (area + 64));
		if (iter % 5)
			e->ncap = (et_u16)(rnd() % 8);
		if (iter % 2)
			e->ret = (et_s64)(rnd() % 8192) - 4096;
		/* some plausible captures */
		size_t off = 0;
		unsigned char *caps = p + sizeof(*e);
		while (iter % 4 == 0 && off + sizeof(struct ev_capture) + 8 < area) {
			struct ev_capture *cc = (struct ev_capture *)(caps + off);
			cc->arg = (et_u8)(rnd() % 7);
			cc->kind = (et_u8)(rnd() % ET_CAP_KIND_MAX);
			cc->seq = (et_u8)(rnd() % 20);
			cc->len = (et_u16)(rnd() % (area - off));
			off = (off + sizeof(*cc) + cc->len + 7) & ~(size_t)7;
		}
		struct decode_ctx ctx = { describe_test_fd, NULL, (size_t)(rnd() % 80) };
		sb_reset(&out_sb);
		decode_call(e, &ctx, &out_sb);
		for (int a = 0; a < 6; a++) {
			const struct ev_capture *fc = ev_find_capture(e, a, 0);
			if (fc) {
				size_t at = (size_t)((const unsigned char *)fc - p);
				CHECK(at + sizeof(*fc) + fc->len <= size);
			}
		}
		free(e);
	}
	CHECK(1);
}

int main(void)
{
	test_table();
	test_open();
	test_paths();
	test_io();
	test_sockets();
	test_process();
	test_memory();
	test_signals_time_misc();
	test_names();
	test_corrupt();
	sb_free(&out_sb);
	return unit_done();
}
