/*
 * What each fd of a process refers to, learned from the syscall sequence
 * (open, socket, connect, accept, pipe, dup, close, ...). Descriptions are
 * immutable reference-counted strings, so a record can keep the description
 * an fd had when the syscall ran.
 */
#ifndef ETRACE_FDTABLE_H
#define ETRACE_FDTABLE_H

#include "bpf/events.h"

struct fd_desc {
	int refs;
	int cloexec;      /* closed by a successful exec */
	char text[];      /* "/etc/passwd", "socket:[TCP 127.0.0.1:1->127.0.0.1:2]", "pipe:[r]" */
};

struct fd_desc *fd_desc_new(const char *text, int cloexec);
struct fd_desc *fd_desc_ref(struct fd_desc *d);
void fd_desc_unref(struct fd_desc *d);

struct fdtable;

struct fdtable *fdt_new(void);
struct fdtable *fdt_clone(const struct fdtable *t);   /* fork: the child's copy */
void fdt_free(struct fdtable *t);
/* NULL when the fd is not known (inherited, or learned from nothing). */
struct fd_desc *fdt_get(const struct fdtable *t, int fd);
/* Sets (replacing) the description of fd; takes a new reference on d. */
void fdt_set(struct fdtable *t, int fd, struct fd_desc *d);
void fdt_close(struct fdtable *t, int fd);
/* A successful exec: drops close-on-exec fds. */
void fdt_exec(struct fdtable *t);
/* Learns from a completed syscall record (uses the syscall table). */
void fdt_apply(struct fdtable *t, const struct ev_syscall *ev);

#endif
