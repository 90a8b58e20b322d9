/* Which failed syscalls are routine: the searches and probes every run has
 * (the loader's library path, the locale, PATH, an interpreter's module
 * path, isatty), counted per kind in the text report instead of listed. */
#ifndef ETRACE_ROUTINE_H
#define ETRACE_ROUTINE_H

#include <stddef.h>

struct et_model;
struct et_process;
struct ev_syscall;
struct syscall_sig;

/* Why this failure is routine, from the call alone; NULL when it is not
 * known yet (routine_on_success may still find it was a search). */
const char *routine_failure(const struct et_model *m, const struct et_process *p, const struct ev_syscall *ev,
			    const struct syscall_sig *sig, int err);

/* A new, unexplained failure (m->failures[index]): remember it when it
 * could be one step of a search, so that a later success explains it. */
void routine_note_failure(struct et_model *m, size_t index, const struct ev_syscall *ev,
			  const struct syscall_sig *sig, int err);

/* A syscall that succeeded: a failure of the same process on the same name
 * in another directory, or on another form of the same name in the same
 * directory (json/__init__.abi3.so before json/__init__.py), was a search
 * that found what it looked for. */
void routine_on_success(struct et_model *m, const struct ev_syscall *ev, const struct syscall_sig *sig);

/* The failure's first path argument (allocated), NULL when it has none. */
char *routine_failure_path(const struct ev_syscall *ev, const struct syscall_sig *sig);

/* Process p is gone. When it failed (a non-zero status, a signal) and its
 * last words name the path of one of its failed calls ("tar: /missing:
 * Cannot stat"), that failure is what the run is about: listed, whatever
 * kind of routine the rules took it for. */
void routine_on_exit(struct et_model *m, const struct et_process *p);

void routine_free(struct et_model *m);

#endif
