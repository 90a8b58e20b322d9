/*
 * The syscall signature table: for each syscall etrace decodes, the type of
 * each argument and of the return value. It is the single source of truth
 * for both the decoders (reports/syscalls/decode.c) and the capture plan the BPF side
 * follows (struct et_syscall_spec, filled by syscall_spec_for()).
 * Names and numbers come from libseccomp, never from a hand-typed list.
 */
#ifndef ETRACE_SYSCALL_TABLE_H
#define ETRACE_SYSCALL_TABLE_H

#include <stdint.h>
#include "bpf/events.h"

enum arg_type {
	A_NONE = 0,      /* argument not used */
	A_INT,           /* signed decimal */
	A_UINT,          /* unsigned decimal */
	A_HEX,           /* 0x... */
	A_PTR,           /* pointer: NULL or 0x... */
	A_FD,            /* file descriptor, shown as 3</etc/passwd> */
	A_DIRFD,         /* like A_FD, AT_FDCWD by name */
	A_PATH,          /* path string (captured at entry) */
	A_STR,           /* other string (captured at entry) */
	A_OPEN_FLAGS,    /* O_RDONLY|O_CLOEXEC|... */
	A_MODE,          /* octal 0644 */
	A_SIZE,          /* size_t, decimal */
	A_OFF,           /* off_t, decimal */
	A_BUF_IN,        /* data the caller passes, length in lenarg (captured prefix) */
	A_BUF_OUT,       /* data the kernel fills, length = return value (captured at exit) */
	A_SOCKADDR_IN,   /* struct sockaddr *, length in lenarg (captured at entry) */
	A_SOCKADDR_OUT,  /* struct sockaddr * filled by the kernel, socklen_t * in lenarg */
	A_SOCKLEN_PTR,   /* socklen_t * (shown as pointer) */
	A_ARGV,          /* char *const argv[] (captured at entry) */
	A_ENVP,          /* char *const envp[]: shown as a pointer with the count of vars when known */
	A_PROT,          /* PROT_READ|PROT_WRITE */
	A_MMAP_FLAGS,    /* MAP_PRIVATE|MAP_ANONYMOUS */
	A_SIGNAL,        /* SIGTERM */
	A_SOCK_DOMAIN,   /* AF_INET */
	A_SOCK_TYPE,     /* SOCK_STREAM|SOCK_CLOEXEC */
	A_ACCESS_MODE,   /* F_OK, R_OK|W_OK */
	A_AT_FLAGS,      /* AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH|AT_REMOVEDIR */
	A_FDPAIR_OUT,    /* int[2] filled by the kernel: [3, 4] */
	A_CLONE_FLAGS,   /* CLONE_VM|CLONE_FS|...|SIGCHLD */
	A_WHENCE,        /* SEEK_SET */
	A_FCNTL_CMD,     /* F_GETFL */
	A_SIGPROCMASK_HOW, /* SIG_BLOCK */
	A_IOCTL_REQ,     /* TCGETS or 0x5401 */
	A_WAIT_OPTIONS,  /* WNOHANG|__WALL */
	A_MSG_FLAGS,     /* MSG_DONTWAIT|MSG_NOSIGNAL */
	A_SHUTDOWN_HOW,  /* SHUT_WR */
	A_SOCKOPT_LEVEL, /* SOL_SOCKET, IPPROTO_TCP */
	A_CLOCKID,       /* CLOCK_MONOTONIC */
	A_FUTEX_OP,      /* FUTEX_WAIT_PRIVATE */
	A_PID,           /* pid, decimal */
	A_SOCK_BUF_IN,   /* data a call that may send on a socket passes (sendto, write): shown
			    as A_BUF_IN, captured at exit once the socket is known (DNS gets
			    ET_DNS_MAX bytes), also when the call failed */
	A_MSGHDR,        /* struct msghdr * (sendmsg, recvmsg): address and data, at exit */
	A_MMSGHDR,       /* struct mmsghdr * (sendmmsg, recvmmsg): each message, at exit */
	A_SOCKOPT_OUT,   /* getsockopt's value: *lenarg bytes at exit (as ET_CAP_SOCKADDR_OUT):
			    [ECONNREFUSED] for SO_ERROR, [1] for an int */
	A_ARG_TYPE_MAX
};

enum ret_type {
	R_INT = 0,       /* -1 ERRNO (text) on error, decimal otherwise */
	R_FD,            /* new fd: decimal, the fd table learns it */
	R_HEX,           /* address: mmap, brk */
	R_SIZE,          /* byte count */
	R_PID,
	R_NONE,          /* never returns: exit, exit_group ("= ?") */
};

struct syscall_sig {
	const char *name;
	uint8_t nargs;
	uint8_t arg[6];     /* enum arg_type */
	uint8_t lenarg[6];  /* for BUF_IN, SOCKADDR_IN, SOCKADDR_OUT: index of the length argument */
	uint8_t ret;        /* enum ret_type */
};

/* Resolves the table's names to numbers of the running architecture.
 * Safe to call more than once. Returns 0, or -1 if libseccomp fails. */
int syscall_table_init(void);
/* Signature for a syscall number, or NULL when it is not in the table
 * (then args are shown in hex, nargs 6). */
const struct syscall_sig *syscall_sig_by_nr(int nr);
/* Name from libseccomp ("openat"), or "syscall_NNN" for an unknown number.
 * The returned string lives until exit. */
const char *syscall_name(int nr);
/* Number for a name, or -1. */
int syscall_nr(const char *name);
/* Capture plan for the BPF side. data_max: bytes of buffers to copy (<= ET_CAP_MAX_ONE). */
void syscall_spec_for(int nr, struct et_syscall_spec *out);

#endif
