/* libetrace_heap.so: memory the recorder is about to write, made present
 * in one system call (madvise MADV_POPULATE_WRITE, Linux 5.14) instead of
 * one page fault a page. A fault costs ~12 us on a virtualized machine
 * (measured on a PVM guest; ~1 us on bare metal), the same pages populated
 * ~1.5 us each: gcc's cc1 wrote ~1,700 fresh pages of ring, stack table,
 * stack index and unwind rules through faults, a tenth of its run. A
 * kernel without it answers EINVAL once and the pages fault as before. */
#ifndef ETRACE_PRELOAD_POPULATE_H
#define ETRACE_PRELOAD_POPULATE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"

/* [p, p + len) made present and writable (p page-aligned). */
HR_HIDDEN void hr_populate(void *p, size_t len);

/* A region of a mapping, written from its start on, populated ahead of
 * its writers a chunk at a time. Offsets are from base (page-aligned);
 * the pages [done, end) are not populated yet (done atomic). */
struct hr_ahead {
	char *base;
	uint64_t end;
	uint64_t done;
};

/* The region [from, to) of the mapping at base: its whole pages. */
HR_HIDDEN void hr_ahead_init(struct hr_ahead *a, void *base, uint64_t from, uint64_t to);
HR_HIDDEN void hr_ahead_more(struct hr_ahead *a, uint64_t upto);

/* The writers are about to write below offset upto: the pages up to it
 * (and to the end of its chunk) made present when they are not yet. One
 * comparison once the whole region is. */
static inline void hr_ahead(struct hr_ahead *a, uint64_t upto)
{
	uint64_t done = __atomic_load_n(&a->done, __ATOMIC_RELAXED);
	if (__builtin_expect(done < a->end && upto > done, 0))
		hr_ahead_more(a, upto);
}

#endif
