/* Redzones of libetrace_heap.so (redzone.h). The trailer sits at the end
 * of the allocator's usable size, found again from the pointer alone
 * (malloc_usable_size), so nothing is kept per block in the process. A
 * block the hooks did not make (allocated inside the library, or before
 * it started) has no valid trailer: its check word must equal the size
 * xor the block's address xor a per-process random key, and a trailer is
 * wiped when its block goes back, so a stale one is not taken for a live
 * one. */
#include "redzone.h"

#include <string.h>
#include <sys/auxv.h>

#define RZ_BYTE 0xfb
#define RZ_WORD 0xfbfbfbfbfbfbfbfbull

int hr_rz_on;
static size_t (*usable_fn)(void *);
static uint64_t key;

/* glibc's malloc_usable_size of an in-use block, from its chunk header:
 * the chunk's size less its header. Read inline, it saves a call into
 * libc at every allocation and free: half of what the redzones cost. It
 * is trusted once it agreed with the allocator's own answer on the first
 * AGREE blocks (the program's own: a test allocation here would change
 * where the program's blocks go), never after a disagreement, and never
 * for a chunk glibc mapped (rare, its layout not checked). */
#define AGREE 32
static int agreed;   /* atomic: AGREE: trusted; -1: never */

static inline size_t header_usable(const void *p)
{
	return (((const size_t *)p)[-1] & ~(size_t)7) - 8;
}

static inline size_t usable_size(void *p)
{
	int mapped = ((const size_t *)p)[-1] & 2;
	int a = __atomic_load_n(&agreed, __ATOMIC_RELAXED);
	if (a == AGREE && !mapped)
		return header_usable(p);
	size_t u = usable_fn(p);
	if (a >= 0 && a < AGREE && !mapped && u) {
		if (u == header_usable(p))
			__atomic_compare_exchange_n(&agreed, &a, a + 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&agreed, -1, __ATOMIC_RELAXED);
	}
	return u;
}

void hr_rz_init(size_t (*usable)(void *))
{
	usable_fn = usable;
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	if (r)
		memcpy(&key, r + 8, sizeof(key));
	key |= 1;
	hr_rz_on = usable != NULL;
}

static inline uint64_t check_word(const void *p, uint64_t n)
{
	return n ^ (uint64_t)(uintptr_t)p ^ key;
}

void hr_rz_mark(void *p, size_t n)
{
	size_t u = usable_size(p);
	if (u < HR_RZ_EXTRA || ((u - 16) & ~(size_t)7) < n + HR_RZ)
		return;   /* not what we asked for: no redzone */
	memset((char *)p + n, RZ_BYTE, HR_RZ);
	uint64_t t[2] = { n, check_word(p, n) };
	memcpy((char *)p + ((u - 16) & ~(size_t)7), t, sizeof(t));
}

int hr_rz_check(void *p, int wipe, size_t *n, uint64_t *first, uint32_t *count, char **trailer)
{
	size_t u = usable_size(p);
	if (u < HR_RZ_EXTRA)
		return 0;
	size_t pos = (u - 16) & ~(size_t)7;
	char *tp = (char *)p + pos;
	uint64_t t[2];
	memcpy(t, tp, sizeof(t));
	if (t[1] != check_word(p, t[0]) || t[0] > pos - HR_RZ)
		return 0;
	const unsigned char *z = (const unsigned char *)p + t[0];
	uint32_t c = 0;
	uint64_t f = 0;
	uint64_t w[2];
	memcpy(w, z, sizeof(w));
	if (w[0] != RZ_WORD || w[1] != RZ_WORD)   /* byte by byte only when changed */
		for (unsigned i = 0; i < HR_RZ; i++)
			if (z[i] != RZ_BYTE && c++ == 0)
				f = i;
	if (wipe) {
		uint64_t zero[2] = { 0, 0 };
		memcpy(tp, zero, sizeof(zero));
	}
	*n = t[0];
	*first = f;
	*count = c;
	if (trailer)
		*trailer = tp;
	return 1;
}

/* A quarantined block's trailer: the slot in the top bits of the size
 * word, and the check word turned by QMARK, so that it is never taken for
 * a live block's. */
#define QMARK 0x51554152414e5451ull
#define SLOT_SHIFT 40

static char *trailer_of(void *p, size_t *u)
{
	*u = usable_size(p);
	if (*u < HR_RZ_EXTRA)
		return NULL;
	return (char *)p + ((*u - 16) & ~(size_t)7);
}

int hr_rz_quarantine(char *tp, void *p, size_t n, uint32_t slot)
{
	if (n >> SLOT_SHIFT)
		return 0;
	uint64_t t[2];
	t[0] = n | (uint64_t)slot << SLOT_SHIFT;
	t[1] = check_word(p, t[0]) ^ QMARK;
	memcpy(tp, t, sizeof(t));
	return 1;
}

int hr_rz_quarantined(void *p, uint32_t *slot)
{
	size_t u;
	char *tp = trailer_of(p, &u);
	if (!tp)
		return 0;
	uint64_t t[2];
	memcpy(t, tp, sizeof(t));
	if (t[1] != (check_word(p, t[0]) ^ QMARK))
		return 0;
	*slot = (uint32_t)(t[0] >> SLOT_SHIFT);
	return 1;
}

void hr_rz_unquarantine(char *tp)
{
	uint64_t zero[2] = { 0, 0 };
	memcpy(tp, zero, sizeof(zero));
}
