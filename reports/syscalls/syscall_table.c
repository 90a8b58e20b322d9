/*
 * The syscall signature table. Each entry names a syscall and gives the type
 * of its arguments and return value; numbers are never written here, they
 * come from libseccomp for the architecture etrace runs on. A name the
 * running architecture does not have (open on arm64, ...) is skipped.
 *
 * lenarg[i] matters only for A_BUF_IN, A_SOCKADDR_IN (index of the length
 * argument) and A_SOCKADDR_OUT, A_SOCKOPT_OUT (index of the socklen_t *
 * argument).
 */
#include "syscall_table.h"

#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct syscall_sig table[] = {
	/* ---- files and paths ---- */
	{ "open",        3, { A_PATH, A_OPEN_FLAGS, A_MODE }, { 0 }, R_FD },
	{ "openat",      4, { A_DIRFD, A_PATH, A_OPEN_FLAGS, A_MODE }, { 0 }, R_FD },
	/* struct open_how is captured as a buffer and shown as {flags=...} */
	{ "openat2",     4, { A_DIRFD, A_PATH, A_BUF_IN, A_SIZE }, { [2] = 3 }, R_FD },
	{ "creat",       2, { A_PATH, A_MODE }, { 0 }, R_FD },
	{ "stat",        2, { A_PATH, A_PTR }, { 0 }, R_INT },
	{ "lstat",       2, { A_PATH, A_PTR }, { 0 }, R_INT },
	{ "fstat",       2, { A_FD, A_PTR }, { 0 }, R_INT },
	{ "newfstatat",  4, { A_DIRFD, A_PATH, A_PTR, A_AT_FLAGS }, { 0 }, R_INT },
	{ "statx",       5, { A_DIRFD, A_PATH, A_AT_FLAGS, A_HEX, A_PTR }, { 0 }, R_INT },
	{ "statfs",      2, { A_PATH, A_PTR }, { 0 }, R_INT },
	{ "fstatfs",     2, { A_FD, A_PTR }, { 0 }, R_INT },
	{ "access",      2, { A_PATH, A_ACCESS_MODE }, { 0 }, R_INT },
	{ "faccessat",   3, { A_DIRFD, A_PATH, A_ACCESS_MODE }, { 0 }, R_INT },
	{ "faccessat2",  4, { A_DIRFD, A_PATH, A_ACCESS_MODE, A_AT_FLAGS }, { 0 }, R_INT },
	{ "readlink",    3, { A_PATH, A_BUF_OUT, A_SIZE }, { 0 }, R_SIZE },
	{ "readlinkat",  4, { A_DIRFD, A_PATH, A_BUF_OUT, A_SIZE }, { 0 }, R_SIZE },
	{ "unlink",      1, { A_PATH }, { 0 }, R_INT },
	{ "unlinkat",    3, { A_DIRFD, A_PATH, A_AT_FLAGS }, { 0 }, R_INT },
	{ "rename",      2, { A_PATH, A_PATH }, { 0 }, R_INT },
	{ "renameat",    4, { A_DIRFD, A_PATH, A_DIRFD, A_PATH }, { 0 }, R_INT },
	{ "renameat2",   5, { A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_HEX }, { 0 }, R_INT },
	{ "mkdir",       2, { A_PATH, A_MODE }, { 0 }, R_INT },
	{ "mkdirat",     3, { A_DIRFD, A_PATH, A_MODE }, { 0 }, R_INT },
	{ "rmdir",       1, { A_PATH }, { 0 }, R_INT },
	{ "mknod",       3, { A_PATH, A_MODE, A_HEX }, { 0 }, R_INT },
	{ "mknodat",     4, { A_DIRFD, A_PATH, A_MODE, A_HEX }, { 0 }, R_INT },
	{ "chdir",       1, { A_PATH }, { 0 }, R_INT },
	{ "fchdir",      1, { A_FD }, { 0 }, R_INT },
	/* getcwd returns the length including the NUL; shown as a string */
	{ "getcwd",      2, { A_BUF_OUT, A_SIZE }, { 0 }, R_SIZE },
	{ "chmod",       2, { A_PATH, A_MODE }, { 0 }, R_INT },
	{ "fchmod",      2, { A_FD, A_MODE }, { 0 }, R_INT },
	{ "fchmodat",    3, { A_DIRFD, A_PATH, A_MODE }, { 0 }, R_INT },
	{ "chown",       3, { A_PATH, A_INT, A_INT }, { 0 }, R_INT },
	{ "fchown",      3, { A_FD, A_INT, A_INT }, { 0 }, R_INT },
	{ "lchown",      3, { A_PATH, A_INT, A_INT }, { 0 }, R_INT },
	{ "fchownat",    5, { A_DIRFD, A_PATH, A_INT, A_INT, A_AT_FLAGS }, { 0 }, R_INT },
	{ "truncate",    2, { A_PATH, A_OFF }, { 0 }, R_INT },
	{ "ftruncate",   2, { A_FD, A_OFF }, { 0 }, R_INT },
	{ "link",        2, { A_PATH, A_PATH }, { 0 }, R_INT },
	{ "linkat",      5, { A_DIRFD, A_PATH, A_DIRFD, A_PATH, A_AT_FLAGS }, { 0 }, R_INT },
	{ "symlink",     2, { A_PATH, A_PATH }, { 0 }, R_INT },
	{ "symlinkat",   3, { A_PATH, A_DIRFD, A_PATH }, { 0 }, R_INT },
	{ "utimensat",   4, { A_DIRFD, A_PATH, A_PTR, A_AT_FLAGS }, { 0 }, R_INT },
	{ "getdents64",  3, { A_FD, A_PTR, A_SIZE }, { 0 }, R_SIZE },
	{ "getdents",    3, { A_FD, A_PTR, A_SIZE }, { 0 }, R_SIZE },
	{ "umask",       1, { A_MODE }, { 0 }, R_INT },
	{ "mount",       5, { A_STR, A_PATH, A_STR, A_HEX, A_PTR }, { 0 }, R_INT },
	{ "umount2",     2, { A_PATH, A_HEX }, { 0 }, R_INT },
	{ "chroot",      1, { A_PATH }, { 0 }, R_INT },
	{ "pivot_root",  2, { A_PATH, A_PATH }, { 0 }, R_INT },
	{ "sync",        0, { 0 }, { 0 }, R_INT },
	{ "syncfs",      1, { A_FD }, { 0 }, R_INT },
	{ "fsync",       1, { A_FD }, { 0 }, R_INT },
	{ "fdatasync",   1, { A_FD }, { 0 }, R_INT },
	{ "flock",       2, { A_FD, A_INT }, { 0 }, R_INT },
	{ "fallocate",   4, { A_FD, A_HEX, A_OFF, A_OFF }, { 0 }, R_INT },
	{ "inotify_init",      0, { 0 }, { 0 }, R_FD },
	{ "inotify_init1",     1, { A_OPEN_FLAGS }, { 0 }, R_FD },
	{ "inotify_add_watch", 3, { A_FD, A_PATH, A_HEX }, { 0 }, R_INT },
	{ "inotify_rm_watch",  2, { A_FD, A_INT }, { 0 }, R_INT },

	/* ---- file descriptors and I/O ---- */
	{ "read",        3, { A_FD, A_BUF_OUT, A_SIZE }, { 0 }, R_SIZE },
	/* like sendto: a connected UDP socket (Go's DNS client) may be written to */
	{ "write",       3, { A_FD, A_SOCK_BUF_IN, A_SIZE }, { [1] = 2 }, R_SIZE },
	{ "pread64",     4, { A_FD, A_BUF_OUT, A_SIZE, A_OFF }, { 0 }, R_SIZE },
	{ "pwrite64",    4, { A_FD, A_BUF_IN, A_SIZE, A_OFF }, { [1] = 2 }, R_SIZE },
	{ "readv",       3, { A_FD, A_PTR, A_INT }, { 0 }, R_SIZE },
	{ "writev",      3, { A_FD, A_PTR, A_INT }, { 0 }, R_SIZE },
	{ "preadv",      4, { A_FD, A_PTR, A_INT, A_OFF }, { 0 }, R_SIZE },
	{ "pwritev",     4, { A_FD, A_PTR, A_INT, A_OFF }, { 0 }, R_SIZE },
	{ "close",       1, { A_FD }, { 0 }, R_INT },
	{ "close_range", 3, { A_UINT, A_UINT, A_HEX }, { 0 }, R_INT },
	{ "lseek",       3, { A_FD, A_OFF, A_WHENCE }, { 0 }, R_INT },
	{ "dup",         1, { A_FD }, { 0 }, R_FD },
	{ "dup2",        2, { A_FD, A_FD }, { 0 }, R_FD },
	{ "dup3",        3, { A_FD, A_FD, A_OPEN_FLAGS }, { 0 }, R_FD },
	/* the third argument is decoded according to the command */
	{ "fcntl",       3, { A_FD, A_FCNTL_CMD, A_HEX }, { 0 }, R_INT },
	{ "ioctl",       3, { A_FD, A_IOCTL_REQ, A_HEX }, { 0 }, R_INT },
	{ "pipe",        1, { A_FDPAIR_OUT }, { 0 }, R_INT },
	{ "pipe2",       2, { A_FDPAIR_OUT, A_OPEN_FLAGS }, { 0 }, R_INT },
	{ "sendfile",    4, { A_FD, A_FD, A_PTR, A_SIZE }, { 0 }, R_SIZE },
	{ "splice",      6, { A_FD, A_PTR, A_FD, A_PTR, A_SIZE, A_HEX }, { 0 }, R_SIZE },
	{ "tee",         4, { A_FD, A_FD, A_SIZE, A_HEX }, { 0 }, R_SIZE },
	{ "copy_file_range", 6, { A_FD, A_PTR, A_FD, A_PTR, A_SIZE, A_HEX }, { 0 }, R_SIZE },
	{ "poll",        3, { A_PTR, A_UINT, A_INT }, { 0 }, R_INT },
	{ "ppoll",       5, { A_PTR, A_UINT, A_PTR, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "select",      5, { A_INT, A_PTR, A_PTR, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "pselect6",    6, { A_INT, A_PTR, A_PTR, A_PTR, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "epoll_create",  1, { A_INT }, { 0 }, R_FD },
	{ "epoll_create1", 1, { A_OPEN_FLAGS }, { 0 }, R_FD },
	{ "epoll_ctl",   4, { A_FD, A_INT, A_FD, A_PTR }, { 0 }, R_INT },
	{ "epoll_wait",  4, { A_FD, A_PTR, A_INT, A_INT }, { 0 }, R_INT },
	{ "epoll_pwait", 6, { A_FD, A_PTR, A_INT, A_INT, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "epoll_pwait2", 6, { A_FD, A_PTR, A_INT, A_PTR, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "eventfd",     1, { A_UINT }, { 0 }, R_FD },
	{ "eventfd2",    2, { A_UINT, A_OPEN_FLAGS }, { 0 }, R_FD },
	{ "timerfd_create",  2, { A_CLOCKID, A_OPEN_FLAGS }, { 0 }, R_FD },
	{ "timerfd_settime", 4, { A_FD, A_HEX, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "timerfd_gettime", 2, { A_FD, A_PTR }, { 0 }, R_INT },
	{ "signalfd",    3, { A_FD, A_PTR, A_SIZE }, { 0 }, R_FD },
	{ "signalfd4",   4, { A_FD, A_PTR, A_SIZE, A_OPEN_FLAGS }, { 0 }, R_FD },
	{ "memfd_create", 2, { A_STR, A_HEX }, { 0 }, R_FD },
	{ "pidfd_open",  2, { A_PID, A_HEX }, { 0 }, R_FD },

	/* ---- sockets ---- */
	{ "socket",      3, { A_SOCK_DOMAIN, A_SOCK_TYPE, A_INT }, { 0 }, R_FD },
	{ "socketpair",  4, { A_SOCK_DOMAIN, A_SOCK_TYPE, A_INT, A_FDPAIR_OUT }, { 0 }, R_INT },
	{ "connect",     3, { A_FD, A_SOCKADDR_IN, A_UINT }, { [1] = 2 }, R_INT },
	{ "bind",        3, { A_FD, A_SOCKADDR_IN, A_UINT }, { [1] = 2 }, R_INT },
	{ "listen",      2, { A_FD, A_INT }, { 0 }, R_INT },
	{ "accept",      3, { A_FD, A_SOCKADDR_OUT, A_SOCKLEN_PTR }, { [1] = 2 }, R_FD },
	{ "accept4",     4, { A_FD, A_SOCKADDR_OUT, A_SOCKLEN_PTR, A_OPEN_FLAGS }, { [1] = 2 }, R_FD },
	/* socket sends and receives: their data is captured at exit, sized by
	 * the socket (a datagram to or from port 53 is kept whole: DNS) */
	{ "sendto",      6, { A_FD, A_SOCK_BUF_IN, A_SIZE, A_MSG_FLAGS, A_SOCKADDR_IN, A_UINT },
	                    { [1] = 2, [4] = 5 }, R_SIZE },
	{ "recvfrom",    6, { A_FD, A_BUF_OUT, A_SIZE, A_MSG_FLAGS, A_SOCKADDR_OUT, A_SOCKLEN_PTR },
	                    { [4] = 5 }, R_SIZE },
	{ "sendmsg",     3, { A_FD, A_MSGHDR, A_MSG_FLAGS }, { 0 }, R_SIZE },
	{ "recvmsg",     3, { A_FD, A_MSGHDR, A_MSG_FLAGS }, { 0 }, R_SIZE },
	{ "sendmmsg",    4, { A_FD, A_MMSGHDR, A_UINT, A_MSG_FLAGS }, { 0 }, R_INT },
	{ "recvmmsg",    5, { A_FD, A_MMSGHDR, A_UINT, A_MSG_FLAGS, A_PTR }, { 0 }, R_INT },
	{ "shutdown",    2, { A_FD, A_SHUTDOWN_HOW }, { 0 }, R_INT },
	{ "getsockname", 3, { A_FD, A_SOCKADDR_OUT, A_SOCKLEN_PTR }, { [1] = 2 }, R_INT },
	{ "getpeername", 3, { A_FD, A_SOCKADDR_OUT, A_SOCKLEN_PTR }, { [1] = 2 }, R_INT },
	/* the option name is decoded according to the level; an int value as [1] */
	{ "setsockopt",  5, { A_FD, A_SOCKOPT_LEVEL, A_INT, A_BUF_IN, A_UINT }, { [3] = 4 }, R_INT },
	/* the value is read at exit: SO_ERROR is how a non-blocking connect's outcome is learned */
	{ "getsockopt",  5, { A_FD, A_SOCKOPT_LEVEL, A_INT, A_SOCKOPT_OUT, A_SOCKLEN_PTR }, { [3] = 4 }, R_INT },

	/* ---- processes and exec ---- */
	{ "execve",      3, { A_PATH, A_ARGV, A_ENVP }, { 0 }, R_INT },
	{ "execveat",    5, { A_DIRFD, A_PATH, A_ARGV, A_ENVP, A_AT_FLAGS }, { 0 }, R_INT },
	/* x86_64 order: flags, stack, parent_tid, child_tid, tls */
	{ "clone",       5, { A_CLONE_FLAGS, A_PTR, A_PTR, A_PTR, A_HEX }, { 0 }, R_PID },
	{ "clone3",      2, { A_PTR, A_SIZE }, { 0 }, R_PID },
	{ "fork",        0, { 0 }, { 0 }, R_PID },
	{ "vfork",       0, { 0 }, { 0 }, R_PID },
	{ "exit",        1, { A_INT }, { 0 }, R_NONE },
	{ "exit_group",  1, { A_INT }, { 0 }, R_NONE },
	{ "wait4",       4, { A_PID, A_PTR, A_WAIT_OPTIONS, A_PTR }, { 0 }, R_PID },
	{ "waitid",      5, { A_INT, A_PID, A_PTR, A_WAIT_OPTIONS, A_PTR }, { 0 }, R_INT },
	{ "kill",        2, { A_PID, A_SIGNAL }, { 0 }, R_INT },
	{ "tgkill",      3, { A_PID, A_PID, A_SIGNAL }, { 0 }, R_INT },
	{ "tkill",       2, { A_PID, A_SIGNAL }, { 0 }, R_INT },
	{ "pidfd_send_signal", 4, { A_FD, A_SIGNAL, A_PTR, A_HEX }, { 0 }, R_INT },
	{ "getpid",      0, { 0 }, { 0 }, R_PID },
	{ "getppid",     0, { 0 }, { 0 }, R_PID },
	{ "gettid",      0, { 0 }, { 0 }, R_PID },
	{ "getpgid",     1, { A_PID }, { 0 }, R_PID },
	{ "setpgid",     2, { A_PID, A_PID }, { 0 }, R_INT },
	{ "getpgrp",     0, { 0 }, { 0 }, R_PID },
	{ "getsid",      1, { A_PID }, { 0 }, R_PID },
	{ "setsid",      0, { 0 }, { 0 }, R_PID },
	{ "getuid",      0, { 0 }, { 0 }, R_INT },
	{ "geteuid",     0, { 0 }, { 0 }, R_INT },
	{ "getgid",      0, { 0 }, { 0 }, R_INT },
	{ "getegid",     0, { 0 }, { 0 }, R_INT },
	{ "setuid",      1, { A_INT }, { 0 }, R_INT },
	{ "setgid",      1, { A_INT }, { 0 }, R_INT },
	{ "setresuid",   3, { A_INT, A_INT, A_INT }, { 0 }, R_INT },
	{ "setresgid",   3, { A_INT, A_INT, A_INT }, { 0 }, R_INT },
	{ "getgroups",   2, { A_INT, A_PTR }, { 0 }, R_INT },
	{ "set_tid_address", 1, { A_PTR }, { 0 }, R_PID },
	{ "set_robust_list", 2, { A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "prlimit64",   4, { A_PID, A_INT, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "getrlimit",   2, { A_INT, A_PTR }, { 0 }, R_INT },
	{ "setrlimit",   2, { A_INT, A_PTR }, { 0 }, R_INT },
	{ "getrusage",   2, { A_INT, A_PTR }, { 0 }, R_INT },
	{ "prctl",       5, { A_INT, A_HEX, A_HEX, A_HEX, A_HEX }, { 0 }, R_INT },
	{ "arch_prctl",  2, { A_HEX, A_HEX }, { 0 }, R_INT },
	{ "sched_yield", 0, { 0 }, { 0 }, R_INT },
	{ "sched_getaffinity", 3, { A_PID, A_SIZE, A_PTR }, { 0 }, R_INT },
	{ "sched_setaffinity", 3, { A_PID, A_SIZE, A_PTR }, { 0 }, R_INT },
	{ "rseq",        4, { A_PTR, A_UINT, A_HEX, A_HEX }, { 0 }, R_INT },
	{ "unshare",     1, { A_CLONE_FLAGS }, { 0 }, R_INT },
	{ "setns",       2, { A_FD, A_CLONE_FLAGS }, { 0 }, R_INT },

	/* ---- memory ---- */
	{ "mmap",        6, { A_PTR, A_SIZE, A_PROT, A_MMAP_FLAGS, A_FD, A_OFF }, { 0 }, R_HEX },
	{ "munmap",      2, { A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "mprotect",    3, { A_PTR, A_SIZE, A_PROT }, { 0 }, R_INT },
	{ "mremap",      5, { A_PTR, A_SIZE, A_SIZE, A_HEX, A_PTR }, { 0 }, R_HEX },
	{ "brk",         1, { A_PTR }, { 0 }, R_HEX },
	{ "madvise",     3, { A_PTR, A_SIZE, A_INT }, { 0 }, R_INT },
	{ "msync",       3, { A_PTR, A_SIZE, A_HEX }, { 0 }, R_INT },
	{ "mlock",       2, { A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "munlock",     2, { A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "membarrier",  3, { A_HEX, A_HEX, A_INT }, { 0 }, R_INT },

	/* ---- signals ---- */
	{ "rt_sigaction",   4, { A_SIGNAL, A_PTR, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "rt_sigprocmask", 4, { A_SIGPROCMASK_HOW, A_PTR, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "rt_sigreturn",   0, { 0 }, { 0 }, R_INT },
	{ "rt_sigsuspend",  2, { A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "rt_sigtimedwait", 4, { A_PTR, A_PTR, A_PTR, A_SIZE }, { 0 }, R_INT },
	{ "sigaltstack",    2, { A_PTR, A_PTR }, { 0 }, R_INT },
	{ "pause",          0, { 0 }, { 0 }, R_INT },
	{ "alarm",          1, { A_UINT }, { 0 }, R_INT },

	/* ---- time ---- */
	{ "nanosleep",       2, { A_PTR, A_PTR }, { 0 }, R_INT },
	{ "clock_nanosleep", 4, { A_CLOCKID, A_HEX, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "clock_gettime",   2, { A_CLOCKID, A_PTR }, { 0 }, R_INT },
	{ "clock_getres",    2, { A_CLOCKID, A_PTR }, { 0 }, R_INT },
	{ "gettimeofday",    2, { A_PTR, A_PTR }, { 0 }, R_INT },
	{ "time",            1, { A_PTR }, { 0 }, R_INT },
	{ "times",           1, { A_PTR }, { 0 }, R_INT },

	/* ---- misc ---- */
	{ "futex",       6, { A_PTR, A_FUTEX_OP, A_INT, A_PTR, A_PTR, A_INT }, { 0 }, R_INT },
	{ "getrandom",   3, { A_BUF_OUT, A_SIZE, A_HEX }, { 0 }, R_SIZE },
	{ "uname",       1, { A_PTR }, { 0 }, R_INT },
	{ "sysinfo",     1, { A_PTR }, { 0 }, R_INT },
	{ "getcpu",      3, { A_PTR, A_PTR, A_PTR }, { 0 }, R_INT },
	{ "capget",      2, { A_PTR, A_PTR }, { 0 }, R_INT },
	{ "capset",      2, { A_PTR, A_PTR }, { 0 }, R_INT },
	{ "seccomp",     3, { A_UINT, A_HEX, A_PTR }, { 0 }, R_INT },
	{ "bpf",         3, { A_INT, A_PTR, A_UINT }, { 0 }, R_INT },
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

static const struct syscall_sig *by_nr[ET_MAX_SYSCALLS];
static char *names[ET_MAX_SYSCALLS];
static int init_result;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Names of numbers at or above ET_MAX_SYSCALLS (or negative), made on demand
 * and kept until exit so that the returned pointers stay valid. */
struct name_node {
	struct name_node *next;
	int nr;
	char name[];
};
static struct name_node *extra_names;
static pthread_mutex_t extra_lock = PTHREAD_MUTEX_INITIALIZER;

static char *make_name(int nr)
{
	char *n = NULL;
	if (nr >= 0)
		n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	if (!n) {
		char tmp[32];
		snprintf(tmp, sizeof(tmp), "syscall_%d", nr);
		n = strdup(tmp);
		if (!n)
			abort();
	}
	return n;
}

static void do_init(void)
{
	/* A name every architecture has: if it does not resolve, libseccomp
	 * itself is not working. */
	if (seccomp_syscall_resolve_name("read") < 0)
		init_result = -1;
	for (size_t i = 0; i < TABLE_LEN; i++) {
		int nr = seccomp_syscall_resolve_name(table[i].name);
		/* negative: not a syscall of this architecture (or a
		 * libseccomp pseudo number such as socketcall's) */
		if (nr < 0 || nr >= ET_MAX_SYSCALLS)
			continue;
		if (!by_nr[nr])
			by_nr[nr] = &table[i];
	}
	for (int nr = 0; nr < ET_MAX_SYSCALLS; nr++)
		names[nr] = make_name(nr);
}

int syscall_table_init(void)
{
	pthread_once(&init_once, do_init);
	return init_result;
}

const struct syscall_sig *syscall_sig_by_nr(int nr)
{
	syscall_table_init();
	if (nr < 0 || nr >= ET_MAX_SYSCALLS)
		return NULL;
	return by_nr[nr];
}

const char *syscall_name(int nr)
{
	syscall_table_init();
	if (nr >= 0 && nr < ET_MAX_SYSCALLS)
		return names[nr];

	pthread_mutex_lock(&extra_lock);
	struct name_node *n;
	for (n = extra_names; n; n = n->next)
		if (n->nr == nr)
			break;
	if (!n) {
		char *s = make_name(nr);
		size_t len = strlen(s);
		n = malloc(sizeof(*n) + len + 1);
		if (!n)
			abort();
		n->nr = nr;
		memcpy(n->name, s, len + 1);
		free(s);
		n->next = extra_names;
		extra_names = n;
	}
	pthread_mutex_unlock(&extra_lock);
	return n->name;
}

int syscall_nr(const char *name)
{
	if (!name)
		return -1;
	int nr = seccomp_syscall_resolve_name(name);
	return nr < 0 ? -1 : nr;
}

void syscall_spec_for(int nr, struct et_syscall_spec *out)
{
	memset(out, 0, sizeof(*out));
	const struct syscall_sig *s = syscall_sig_by_nr(nr);
	if (!s)
		return;
	for (int i = 0; i < s->nargs && i < 6; i++) {
		et_u8 kind = ET_CAP_NONE;
		switch (s->arg[i]) {
		case A_PATH:
		case A_STR:
			kind = ET_CAP_STR;
			break;
		case A_BUF_IN:
			kind = ET_CAP_BUF_IN;
			break;
		case A_SOCK_BUF_IN:
			kind = ET_CAP_SOCK_IN;
			break;
		case A_MSGHDR:
			kind = ET_CAP_MSG;
			break;
		case A_MMSGHDR:
			kind = ET_CAP_MMSG;
			break;
		case A_BUF_OUT:
			kind = ET_CAP_BUF_OUT;
			break;
		case A_SOCKADDR_IN:
			kind = ET_CAP_SOCKADDR_IN;
			break;
		case A_SOCKADDR_OUT:
		case A_SOCKOPT_OUT: /* the same capture: *(socklen_t *)args[lenarg] bytes at exit */
			kind = ET_CAP_SOCKADDR_OUT;
			break;
		case A_ARGV:
			kind = ET_CAP_ARGV;
			break;
		case A_FDPAIR_OUT:
			kind = ET_CAP_FDPAIR_OUT;
			break;
		default:
			break;
		}
		out->kind[i] = kind;
		if (kind == ET_CAP_BUF_IN || kind == ET_CAP_SOCK_IN || kind == ET_CAP_SOCKADDR_IN ||
		    kind == ET_CAP_SOCKADDR_OUT)
			out->lenarg[i] = s->lenarg[i];
	}
	out->noreturn = s->ret == R_NONE;
	/* socket I/O (sendto, recvfrom, the *msg calls): data sized at exit,
	 * port 53 of the peer address argument, if any, checked there */
	int data = 0, addr = -1;
	for (int i = 0; i < s->nargs && i < 6; i++) {
		if (s->arg[i] == A_SOCK_BUF_IN || s->arg[i] == A_MSGHDR || s->arg[i] == A_MMSGHDR)
			data = 2;
		else if (s->arg[i] == A_BUF_OUT && !data)
			data = 1;
		else if (s->arg[i] == A_SOCKADDR_IN || s->arg[i] == A_SOCKADDR_OUT)
			addr = i;
	}
	if (data == 2 || (data == 1 && addr >= 0))
		out->sock = addr >= 0 ? (et_u8)(addr + 1) : ET_SOCK_NOADDR;
}
