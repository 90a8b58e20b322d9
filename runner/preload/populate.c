/* Populating ahead of the recorder's writes (populate.h). */
#include "populate.h"
#include "sys.h"

#include <errno.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* what is made present at once: 16 pages, ~25 us a call; 1,365 records */
#define CHUNK (64u << 10)

static int unsupported;   /* the kernel said EINVAL (before 5.14): faults as before */

void hr_populate(void *p, size_t len)
{
	if (__atomic_load_n(&unsupported, __ATOMIC_RELAXED) || !len)
		return;
	long rc;
	do
		rc = hr_sys3(SYS_madvise, p, len, MADV_POPULATE_WRITE);
	while (rc == -EINTR);
	if (rc == -EINVAL || rc == -ENOSYS || rc == -EPERM)
		__atomic_store_n(&unsupported, 1, __ATOMIC_RELAXED);
}

void hr_ahead_init(struct hr_ahead *a, void *base, uint64_t from, uint64_t to)
{
	a->base = base;
	a->end = to & ~(uint64_t)4095;   /* a last partial page faults as before */
	__atomic_store_n(&a->done, from & ~(uint64_t)4095, __ATOMIC_RELAXED);
}

/* One thread populates the next chunk (the one that moved done); the
 * others go on and fault on what is not present yet, as they would have. */
void hr_ahead_more(struct hr_ahead *a, uint64_t upto)
{
	uint64_t done = __atomic_load_n(&a->done, __ATOMIC_RELAXED);
	if (done >= a->end || upto <= done)
		return;
	uint64_t to = (upto + CHUNK - 1) & ~(uint64_t)(CHUNK - 1);
	if (to > a->end)
		to = a->end;
	if (!__atomic_compare_exchange_n(&a->done, &done, to, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	hr_populate(a->base + done, to - done);
}
