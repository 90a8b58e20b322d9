/* Guard pages of libetrace_heap.so (guard.h). The pool is one reservation
 * (PROT_NONE, no memory behind it) cut front to back into slots: the data
 * pages of a block and one page that stays inaccessible after them. A slot
 * is never given out twice, so freed blocks stay inaccessible until the
 * process ends or execs; when the pool is used up, allocations are made
 * as usual again. Each block is right-aligned in its pages (to 16 bytes,
 * 8 for blocks of 8 bytes or less, the alignment the allocator promises):
 * the bytes between its end and the guard page, at most 15, hold a
 * pattern checked at free like a redzone. Its size and a check word sit
 * in the 16 bytes before it, and a byte per page of the pool says whether
 * a live block starts there, so a second free never reads a freed page.
 * The library's system calls are marked (sys.h): not the program's.
 *
 * Sampled (a rate over 1), a block that fits in one page with its header
 * goes to one of RING slots at the pool's start instead, taken round
 * robin and reused: freed, its page is made inaccessible with its memory
 * kept, so the next block there costs two mprotect calls and no page
 * fault (a fresh page's first touch cost ~30 us here, most of a sample's
 * cost). A freed block stays inaccessible until RING samples later, as
 * GWP-ASan's slots do. */
#include "guard.h"
#include "sys.h"

#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PAGE 4096ul
#define SLACK_BYTE 0xfb
/* address space reserved: what sampling needs is small; every allocation
 * of a small program (--heap-check=all) needs a slot each */
#define POOL_SAMPLED (1ul << 30)
#define POOL_ALL (64ul << 30)

unsigned hr_guard_rate;
uintptr_t hr_guard_lo, hr_guard_hi;
__thread unsigned hr_guard_countdown HR_TLS;

#define RING 256u
static uintptr_t next, end;        /* next free slot (atomic), the pool's end */
static uintptr_t ring_base, ring_end;   /* the reused slots (sampled only) */
static uint32_t ring_next;         /* atomic */
static unsigned char ring_used[RING];   /* atomic: a live block is there */
static unsigned char *live;        /* a byte per pool page: a live block starts there */
static uint64_t key;
static int reserved;               /* 0 not yet, 1 done, -1 failed (atomic) */

void hr_guard_init(unsigned rate)
{
	hr_guard_rate = rate;
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	if (r)
		memcpy(&key, r, sizeof(key));
	key |= 1;
}

static void *reserve(size_t len)
{
	long a = hr_sys6(SYS_mmap, 0, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return a < 0 && a > -4096 ? NULL : (void *)a;
}

/* The pool and its map of live pages, at the first guarded allocation.
 * Under a limit on address space it takes at most an eighth of it. */
static int reserve_pool(void)
{
	int st = __atomic_load_n(&reserved, __ATOMIC_ACQUIRE);
	if (st)
		return st > 0;
	static int lock;
	while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE))
		;
	if (!reserved) {
		size_t len = hr_guard_rate == 1 ? POOL_ALL : POOL_SAMPLED;
		struct rlimit rl;
		if (hr_sys((long)SYS_prlimit64, 0, RLIMIT_AS, 0, (long)&rl, 0, 0) == 0 && rl.rlim_cur != RLIM_INFINITY && len > rl.rlim_cur / 8)
			len = (rl.rlim_cur / 8) & ~(PAGE - 1);
		void *pool = len >= 16 * PAGE ? reserve(len) : NULL;
		void *map = pool ? reserve(len / PAGE) : NULL;
		if (map && hr_sys3(SYS_mprotect, map, len / PAGE, PROT_READ | PROT_WRITE) < 0)
			map = NULL;
		if (pool && map) {
			live = map;
			next = (uintptr_t)pool;
			if (hr_guard_rate > 1 && len >= 4 * RING * 2 * PAGE) {
				ring_base = next;
				ring_end = next += RING * 2 * PAGE;
			}
			end = (uintptr_t)pool + len;
			__atomic_store_n(&hr_guard_hi, end, __ATOMIC_RELAXED);
			__atomic_store_n(&hr_guard_lo, (uintptr_t)pool, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&reserved, pool && map ? 1 : -1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
	return reserved > 0;
}

static inline uint64_t check_word(uintptr_t p, uint64_t n)
{
	return n ^ p ^ key;
}

static inline size_t aligned_len(size_t n)
{
	size_t al = n <= 8 ? 8 : 16;
	return n ? (n + al - 1) & ~(al - 1) : 8;
}

/* A slot of the ring with no live block, claimed; 0 when the few tried
 * are all in use. */
static uintptr_t ring_slot(void)
{
	for (int tries = 0; tries < 8; tries++) {
		uint32_t i = __atomic_fetch_add(&ring_next, 1, __ATOMIC_RELAXED) % RING;
		unsigned char z = 0;
		if (__atomic_compare_exchange_n(&ring_used[i], &z, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return ring_base + i * 2 * PAGE;
	}
	return 0;
}

static inline int in_ring(uintptr_t a)
{
	return a >= ring_base && a < ring_end;
}

void *hr_guard_alloc(size_t n, size_t align)
{
	if (n > (64ul << 20) || align > PAGE || (align & (align - 1)) || !reserve_pool())
		return NULL;
	size_t len = aligned_len(n);
	/* an alignment over 16 puts the block's start on it, as close to the
	 * guard page as that allows: the bytes between its end and the page
	 * (under align) are slack, checked at free */
	size_t room = align > 16 ? (n ? n : 1) + align - 1 : len;
	size_t data = (room + 16 + PAGE - 1) & ~(PAGE - 1);
	uintptr_t slot = 0;
	int reused = 0;
	if (ring_base && data == PAGE && (slot = ring_slot())) {
		if (hr_sys3(SYS_mprotect, slot, PAGE, PROT_READ | PROT_WRITE) < 0) {
			__atomic_store_n(&ring_used[(slot - ring_base) / (2 * PAGE)], 0, __ATOMIC_RELEASE);
			return NULL;
		}
		reused = 1;
	} else {
		slot = __atomic_fetch_add(&next, data + PAGE, __ATOMIC_RELAXED);
		if (slot >= end || end - slot < data + PAGE)
			return NULL;   /* used up (next stays past the end) */
		if (hr_sys3(SYS_mprotect, slot, data, PROT_READ | PROT_WRITE) < 0)
			return NULL;   /* out of mappings: the slot stays inaccessible */
	}
	uintptr_t data_end = slot + data;
	uintptr_t p = align > 16 ? (data_end - (n ? n : 1)) & ~(uintptr_t)(align - 1) : data_end - len;
	if (reused)
		memset((void *)p, 0, n);   /* a reused page holds the last block's bytes */
	uint64_t h[2] = { n, check_word(p, n) };
	memcpy((void *)(p - 16), h, sizeof(h));
	memset((void *)(p + n), SLACK_BYTE, data_end - (p + n));
	__atomic_store_n(&live[(p - hr_guard_lo) / PAGE], 1, __ATOMIC_RELEASE);
	return (void *)p;
}

size_t hr_guard_size(const void *p, int *live_out)
{
	uintptr_t a = (uintptr_t)p;
	*live_out = 0;
	if (!hr_guard_owns(p) || a & 7 || !__atomic_load_n(&live[(a - hr_guard_lo) / PAGE], __ATOMIC_ACQUIRE))
		return 0;
	uint64_t h[2];
	memcpy(h, (const void *)(a - 16), sizeof(h));
	if (h[1] != check_word(a, h[0]) || h[0] > (64ul << 20))
		return 0;
	*live_out = 1;
	return h[0];
}

int hr_guard_free(void *p, size_t *n, uint64_t *first, uint32_t *count)
{
	int ok;
	size_t sz = hr_guard_size(p, &ok);
	uintptr_t a = (uintptr_t)p;
	/* one thread wins a race of two frees */
	if (!ok || !__atomic_exchange_n(&live[(a - hr_guard_lo) / PAGE], 0, __ATOMIC_ACQ_REL))
		return 0;
	/* the block's end is in its last data page (a 0-byte block's start) */
	uintptr_t data_end = (a + (sz ? sz : 1) + PAGE - 1) & ~(PAGE - 1);
	const unsigned char *s = (const unsigned char *)p + sz;
	uint32_t c = 0;
	uint64_t f = 0;
	for (size_t i = 0; i < data_end - (a + sz); i++)
		if (s[i] != SLACK_BYTE && c++ == 0)
			f = i;
	uintptr_t data = (a - 16) & ~(PAGE - 1);
	if (in_ring(a)) {
		/* inaccessible, its memory kept for the slot's next block */
		hr_sys3(SYS_mprotect, data, PAGE, PROT_NONE);
		__atomic_store_n(&ring_used[(data - ring_base) / (2 * PAGE)], 0, __ATOMIC_RELEASE);
	} else {
		/* a fresh inaccessible mapping over the pages: their memory
		 * goes back, any access faults */
		hr_sys6(SYS_mmap, data, data_end - data, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	}
	*n = sz;
	*first = f;
	*count = c;
	return 1;
}
