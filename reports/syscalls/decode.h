/*
 * strace-style decoding of one syscall record: arguments and return value.
 */
#ifndef ETRACE_DECODE_H
#define ETRACE_DECODE_H

#include <stddef.h>
#include "bpf/events.h"
#include "reports/core/strbuf.h"

struct decode_ctx {
	/* Describes fd argument number argi (value fd) of the record being
	 * decoded: "/etc/passwd", "socket:[TCP 127.0.0.1:40000->127.0.0.1:5555]",
	 * "pipe:[1234]". NULL (or a NULL result) shows the bare number. */
	const char *(*describe_fd)(void *fd_ctx, int argi, int fd);
	void *fd_ctx;
	size_t str_max;   /* bytes of a data buffer shown before "...", default 32 when 0 */
};

/* The capture for argument arg (and argv entry seq), or NULL. */
const struct ev_capture *ev_find_capture(const struct ev_syscall *ev, int arg, int seq);
/* A long write to stdout or stderr: the capture of its last bytes
 * (ET_CAP_TAIL), NULL when the record has none. */
const struct ev_capture *ev_find_tail(const struct ev_syscall *ev, int arg);
/* Data bytes of a capture. */
static inline const char *ev_capture_data(const struct ev_capture *c)
{
	return (const char *)(c + 1);
}

/* An ET_CAP_MSG capture (sendmsg, recvmsg, *mmsg): its header, the address
 * (meta->namelen bytes) and the data captured (at most meta->len bytes).
 * Returns 0, or -1 when c is not a well-formed message capture. */
int decode_msg_capture(const struct ev_capture *c, struct et_msg *meta, const char **name, const char **data,
		       size_t *data_len);

/* Appends argument i decoded ("AT_FDCWD", "\"/etc/x\"", "O_RDONLY|O_CLOEXEC"). */
void decode_arg(const struct ev_syscall *ev, int i, const struct decode_ctx *ctx, struct strbuf *out);
/* Appends all arguments joined by ", ". */
void decode_args(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out);
/* Appends the return value: "3", "0x7f1234560000", "-1 ENOENT (No such file or directory)", "?". */
void decode_ret(const struct ev_syscall *ev, struct strbuf *out);
/* Appends "name(args) = ret". */
void decode_call(const struct ev_syscall *ev, const struct decode_ctx *ctx, struct strbuf *out);
/* Number of arguments shown for a record. */
int decode_nargs(const struct ev_syscall *ev);

/* Flag/enum helpers, exposed for the fd table and the unit tests. */
void decode_open_flags(unsigned long flags, struct strbuf *out);
void decode_sockaddr(const void *sa, size_t len, struct strbuf *out); /* {AF_INET, 127.0.0.1:80} style */
/* Short address form for fd descriptions: "127.0.0.1:80", "[::1]:80", "/tmp/sock", "@abstract". */
void decode_sockaddr_short(const void *sa, size_t len, struct strbuf *out);
const char *decode_errno_name(int err);   /* "ENOENT" (strerrorname_np), NULL if unknown */
const char *decode_signal_name(int sig);  /* "SIGTERM", "SIGRT3", NULL if unknown */

#endif
