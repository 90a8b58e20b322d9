/* The hang snapshot's kernel side as user space sees it: loads
 * bpf/hang.bpf.c (only when a snapshot may be taken: parsing the kernel's
 * BTF for it takes 100-300 ms here, so with --timeout it is loaded in the
 * background at the start), runs its task and task_file iterators, and
 * hands every record to a sink (the tracer's record path: the model and
 * --record see them like any other). */
#ifndef ETRACE_HANGSNAP_H
#define ETRACE_HANGSNAP_H

#include <stddef.h>
#include <stdint.h>

typedef void (*hangsnap_sink)(void *ctx, const void *data, size_t size);

struct hangsnap;

/* tasks_fd: etrace.bpf.c's task storage map (which tasks are traced). */
struct hangsnap *hangsnap_new(int tasks_fd, uint32_t nr_futex);
/* Starts loading the object in a thread of its own. */
void hangsnap_prepare(struct hangsnap *hs);
/* Returns the thread records passed to sink, or -1 with err. */
int hangsnap_take(struct hangsnap *hs, hangsnap_sink sink, void *ctx, char *err, size_t errlen);
void hangsnap_free(struct hangsnap *hs);

#endif
