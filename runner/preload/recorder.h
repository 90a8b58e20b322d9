/* libetrace_heap.so, the recording half: the ring this process writes its
 * allocator calls to, the interned stacks, and the hand-over to etrace
 * (start, fork, exit). hooks.c calls it from the interposed functions. */
#ifndef ETRACE_PRELOAD_RECORDER_H
#define ETRACE_PRELOAD_RECORDER_H

#include <stdint.h>

#define HR_HIDDEN __attribute__((visibility("hidden")))
#define HR_TLS __attribute__((tls_model("initial-exec")))

/* Nonzero while this thread is inside the library: allocator calls made
 * from there (dlsym, libstdc++'s operator new calling malloc) are passed
 * on unrecorded. */
extern __thread int hr_busy HR_TLS HR_HIDDEN;

/* Whether a record may be written now (the ring exists, or was made now). */
HR_HIDDEN int hr_ready(void);
/* One call: op (enum et_heap_op), the block, the size, and arg (realloc:
 * the old pointer; aligned: the alignment; free: the caller's sp). ra is
 * the caller's return address, fp the hook's frame pointer (the chain to
 * the callers starts there). */
HR_HIDDEN void hr_put(unsigned op, uint64_t ptr, uint64_t size, uint64_t arg, void *ra, void *fp);
/* A call that could not be recorded (before the ring, inside the library). */
HR_HIDDEN void hr_unrecorded(void);
/* _exit/_Exit called by the program: hand over for the leak scan. */
HR_HIDDEN void hr_exiting(void);

#endif
