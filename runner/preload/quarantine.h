/* libetrace_heap.so: the quarantine (#11 item 2). A block the program
 * frees is filled with a pattern and held back from the allocator for a
 * while (bounded in bytes and blocks); when it leaves, the pattern is
 * checked: a changed byte is a write after free. */
#ifndef ETRACE_PRELOAD_QUARANTINE_H
#define ETRACE_PRELOAD_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"

/* Once, with the allocator's free (NULL or bytes 0: no quarantine), the
 * bytes each thread holds at most, and which frees are held: the first
 * few thousand of each thread's ring, then one in one_in (1: every one). */
HR_HIDDEN void hr_q_init(void (*real_free)(void *), size_t bytes, unsigned one_in);
/* p (a glibc chunk of u usable bytes, its redzone checked) goes into the
 * quarantine instead of back to the allocator: 1, or 0 when it must be
 * freed now (too big, the quarantine is busy). What it pushes out is
 * checked, reported (hr_put) and freed. */
HR_HIDDEN int hr_q_put(void *p, size_t u);
/* Whether p (u usable bytes) is in the quarantine: a free of it is a
 * double free; it is taken out (as the allocator would have had it) and 1
 * returned. */
HR_HIDDEN int hr_q_take(void *p, size_t u);
/* Every block left: checked and freed (at exit, before the hand-over). */
HR_HIDDEN void hr_q_flush(void);

#endif
