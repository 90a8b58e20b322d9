/* libetrace_heap.so: guard pages (#11 item 3), as GWP-ASan places its
 * samples. One allocation in hr_guard_rate (every one in --heap-check=all)
 * gets pages of its own in a pool reserved at the first such allocation:
 * the block ends where an inaccessible page begins, so the very access
 * past its end faults; freed, its pages are made inaccessible again and
 * never handed out again (the pool is used once, front to back), so a read
 * or write after free faults too. The fault is the program's SIGSEGV,
 * which etrace's crash analysis explains from the heap model. */
#ifndef ETRACE_PRELOAD_GUARD_H
#define ETRACE_PRELOAD_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"

extern unsigned hr_guard_rate HR_HIDDEN;   /* 0: no guard pages */
extern uintptr_t hr_guard_lo HR_HIDDEN, hr_guard_hi HR_HIDDEN;   /* the pool, once reserved */
extern __thread unsigned hr_guard_countdown HR_TLS HR_HIDDEN;

/* Once: one allocation in rate (1: all, 0: none). */
HR_HIDDEN void hr_guard_init(unsigned rate);

/* Whether this allocation is to be guarded (counts down per thread). */
static inline int hr_guard_sample(void)
{
	if (!hr_guard_rate)
		return 0;
	/* the first sample at the rate-th allocation of each thread: the
	 * same program samples the same blocks, run after run */
	if (!hr_guard_countdown)
		hr_guard_countdown = hr_guard_rate;
	if (hr_guard_countdown > 1) {
		hr_guard_countdown--;
		return 0;
	}
	hr_guard_countdown = hr_guard_rate;
	return 1;
}

/* Whether p is in the pool (then none of the allocator's). */
static inline int hr_guard_owns(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	return a >= __atomic_load_n(&hr_guard_lo, __ATOMIC_RELAXED) && a < __atomic_load_n(&hr_guard_hi, __ATOMIC_RELAXED);
}

/* A block of n bytes against a guard page, zeroed, its start aligned to
 * align when that is a power of two over 16 (up to a page; 0: malloc's
 * alignment); NULL when none can be made (the pool is used up, the kernel
 * refuses, another alignment): allocate as usual. */
HR_HIDDEN void *hr_guard_alloc(size_t n, size_t align);
/* The size asked for a live guarded block; 0 with *live 0 when p is not
 * one (freed already, or not a block's start). */
HR_HIDDEN size_t hr_guard_size(const void *p, int *live);
/* p (hr_guard_owns) goes back: 1 when it was a live block, with *n its
 * size and *first / *count the changed bytes between its end and the page
 * end (the alignment slack, count 0: intact); its pages are inaccessible
 * from now on. 0: not a live block (a second free): nothing done. */
HR_HIDDEN int hr_guard_free(void *p, size_t *n, uint64_t *first, uint32_t *count);

#endif
