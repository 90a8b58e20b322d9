/* libetrace_heap.so: the callers of an allocator call, read from the
 * frame-pointer chain of the calling thread, never outside that thread's
 * stack (a wrong frame pointer, from code built without frame pointers,
 * must never fault the program). */
#ifndef ETRACE_PRELOAD_STACKWALK_H
#define ETRACE_PRELOAD_STACKWALK_H

#include <stdint.h>

#include "recorder.h"

/* Once per process image, in the initial thread (the library's
 * constructor): where the initial thread's stack is. */
HR_HIDDEN void hr_stack_init(void);
/* In a new process (after fork or a raw clone): this thread's cached stack
 * bounds are those of the thread that forked, still right, but whether it
 * is the initial thread is asked again. */
HR_HIDDEN void hr_stack_forget(void);
/* out[0] = ra (the hook's caller), then the return addresses found by
 * following the chain from fp (the hook's own frame), at most max in all. */
HR_HIDDEN uint32_t hr_walk(uint64_t *out, uint32_t max, void *ra, void *fp);

/* The stack id this thread's last walk from ra with frame fp found, when
 * the stack still holds that path; 0 otherwise. gen: the stack table's
 * generation (a new ring after fork has new ids). */
HR_HIDDEN uint32_t hr_walk_cached(void *ra, void *fp, uint64_t gen);
/* Remembers the walk just made (hr_walk) from ra/fp as stack id. */
HR_HIDDEN void hr_walk_remember(void *ra, void *fp, uint64_t gen, const uint64_t *frames, uint32_t n, uint32_t id);

#endif
