/* libetrace_heap.so: the callers of an allocator call, from the unwind
 * tables, else from the frame-pointer chain of the calling thread, never
 * outside that thread's stack (a wrong frame pointer, from code built
 * without frame pointers, must never fault the program). */
#ifndef ETRACE_PRELOAD_STACKWALK_H
#define ETRACE_PRELOAD_STACKWALK_H

#include <stdint.h>

#include "recorder.h"
#include "heapring.h"

/* Once per process image, in the initial thread (the library's
 * constructor): where the initial thread's stack is. */
HR_HIDDEN void hr_stack_init(void);
/* In a new process (after fork or a raw clone): this thread's cached stack
 * bounds are those of the thread that forked, still right, but whether it
 * is the initial thread is asked again. */
HR_HIDDEN void hr_stack_forget(void);
/* Words a walk reads: the caller's rbp, then per frame at most a saved
 * rbp and the return address. */
#define HR_SITE_READS (2 * HR_FRAMES)

/* A call site as this thread last walked it (stackwalk.c): the return
 * addresses found, each with its rule, the stack words the walk read (the
 * walk is a function of them), and the stack id the recorder interned for
 * exactly these frames in ring number ring (0: none). */
struct hr_site {
	uint64_t pc[HR_FRAMES];
	uint64_t rule[HR_FRAMES];
	uint64_t rda[HR_SITE_READS], rdv[HR_SITE_READS];   /* address and value of each read */
	uint64_t ra, fp;        /* the site: the hook's return address and frame */
	uint64_t hi;            /* the bound of the stack the walk checked against */
	uint64_t gen;           /* hr_cfi_generation the rules are of */
	uint64_t ring;          /* the recorder's ring the id is of */
	uint32_t n, id;
	uint32_t nrd;           /* reads kept (0: none, the last walk failed) */
};

/* The entry of this thread for the call site (ra, fp) whose last walk
 * still holds (every word it read still holds what it held: the walk
 * would find its frames again), or NULL: then hr_walk. The hot path: no
 * walk, no frame array. */
HR_HIDDEN struct hr_site *hr_walk_known(void *ra, void *fp);
/* The return addresses of an allocator call whose site hr_walk_known did
 * not find: ra (the hook's caller), then its callers', at most max (<=
 * HR_FRAMES) in all: by the unwind tables (cfi.c's cached rules, else
 * libgcc), else the frame-pointer chain from fp (the hook's own frame).
 * When the rules gave them, they are in (*site)->pc, *site being this
 * thread's entry for the call site, whose id is kept only when its frames
 * are exactly these (else 0); else they are in out and *site is NULL. */
HR_HIDDEN uint32_t hr_walk(uint64_t *out, uint32_t max, void *ra, void *fp, struct hr_site **site);

#endif
