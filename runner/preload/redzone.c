/* Redzones of libetrace_heap.so in glibc's slack (redzone.h, the layout in
 * slack.h). Nothing is kept per block in the process: the slack's tag says
 * where the block ends, the allocator's chunk header where the slack ends.
 * Marking and checking read and write the words of the block's last 24
 * bytes, on the cache line glibc touches anyway at the next chunk's header
 * (it sets and clears the next chunk's in-use bit there). */
#include "redzone.h"

#include <string.h>
#include <sys/auxv.h>

int hr_rz_on;
size_t (*hr_rz_usable_fn)(void *);
int hr_rz_agreed;
static uint64_t key;

uint64_t hr_rz_masks[HR_SLACK_SHORT + 1][3];

/* hr_rz_masks[s][i]: the bytes at or past e - s of the word that ends 8i
 * bytes before e, the tag's byte (e - 1) not included. */
static void make_masks(void)
{
	for (int s = 1; s <= (int)HR_SLACK_SHORT; s++)
		for (int i = 0; i < 3; i++) {
			int k = 8 * (i + 1) - s;   /* the first pattern byte within the word */
			uint64_t m = k >= 8 ? 0 : k <= 0 ? ~0ull : ~0ull << (8 * k);
			hr_rz_masks[s][i] = i == 0 ? m & HR_RZ_LOW7 : m;
		}
}

size_t hr_rz_usable_slow(void *p)
{
	int mapped = ((const size_t *)p)[-1] & 2;
	int a = __atomic_load_n(&hr_rz_agreed, __ATOMIC_RELAXED);
	size_t u = hr_rz_usable_fn(p);
	if (a >= 0 && a < HR_RZ_AGREE && !mapped && u) {
		if (u == hr_rz_header_usable(p))
			__atomic_compare_exchange_n(&hr_rz_agreed, &a, a + 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&hr_rz_agreed, -1, __ATOMIC_RELAXED);
	}
	return u;
}

void hr_rz_init(size_t (*usable)(void *))
{
	hr_rz_usable_fn = usable;
	make_masks();
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

#define load hr_rz_load
#define LOW7 HR_RZ_LOW7

static inline void store(char *a, uint64_t w)
{
	memcpy(a, &w, sizeof(w));
}

void hr_rz_mark(void *p, size_t n, enum hr_rz_have have)
{
	size_t u = hr_rz_usable(p);
	if (u <= n || u < HR_SLACK_SHORT)
		return;   /* no slack: no redzone */
	char *z = (char *)p + n, *e = (char *)p + u;
	size_t s = u - n;
	if (s <= HR_SLACK_SHORT) {
		/* the last three words, stored without a branch on s; read
		 * first only when the bytes before n are the program's: the
		 * end of a new block is mostly a cold line, and a store to it
		 * does not wait for it */
		const uint64_t *m = hr_rz_masks[s];
		uint64_t w[3];
		for (int i = 0; i < 3; i++) {
			uint64_t keep = have == HR_RZ_KEEP ? load(e - 8 - 8 * i) : 0;
			if (have == HR_RZ_FRESH)
				w[i] = HR_SLACK_WORD;
			else
				w[i] = (keep & ~m[i]) | (HR_SLACK_WORD & m[i]);
		}
		w[0] = (w[0] & LOW7) | (uint64_t)s << 56;
		store(e - 24, w[2]);
		store(e - 16, w[1]);
		store(e - 8, w[0]);
		return;
	}
	if (s < HR_SLACK_LONG_MIN)
		return;
	size_t pat = s - 17 < HR_SLACK_LONG_PAT ? s - 17 : HR_SLACK_LONG_PAT;
	memset(z, HR_SLACK_BYTE, pat);
	uint64_t t[2] = { n, check_word(p, n) };
	memcpy(e - 17, t, sizeof(t));
	e[-1] = (char)HR_SLACK_LONG_TAG;
}

/* The bytes of the 23 before the tag that are not the pattern, as a mask
 * (bit j: the byte at e - 2 - j). */
static uint32_t evidence_mask(const char *e)
{
	uint32_t m = 0;
	for (int j = 0; j < 23; j++)
		if ((unsigned char)e[-2 - j] != HR_SLACK_BYTE)
			m |= 1u << j;
	return m;
}

static enum hr_rz_state long_check(void *p, size_t u, uint64_t *a, uint64_t *b)
{
	const char *e = (const char *)p + u;
	uint64_t t[2];
	memcpy(t, e - 17, sizeof(t));
	if (t[1] != check_word(p, t[0]) || t[0] >= u || u - t[0] < HR_SLACK_LONG_MIN)
		return HR_RZ_NONE;
	size_t s = u - t[0];
	size_t pat = s - 17 < HR_SLACK_LONG_PAT ? s - 17 : HR_SLACK_LONG_PAT;
	const unsigned char *z = (const unsigned char *)p + t[0];
	uint32_t c = 0;
	uint64_t f = 0;
	for (size_t i = 0; i < pat; i++)
		if (z[i] != HR_SLACK_BYTE && c++ == 0)
			f = i;
	if (!c)
		return HR_RZ_INTACT;
	*a = f;
	*b = c;
	return HR_RZ_CHANGED;
}

enum hr_rz_state hr_rz_check_slow(void *p, size_t u, uint64_t *a, uint64_t *b)
{
	if (u < HR_SLACK_SHORT)
		return HR_RZ_NONE;
	const char *e = (const char *)p + u;
	uint64_t w = load(e - 8);
	if ((w >> 56) == HR_SLACK_LONG_TAG)
		return long_check(p, u, a, b);
	*a = u;
	*b = HR_SLACK_EVIDENCE | (w >> 56) | (uint64_t)evidence_mask(e) << 8;
	return HR_RZ_EVIDENCE;
}

int hr_rz_size(void *p, size_t u, size_t *n)
{
	uint64_t a, b;
	if (u < HR_SLACK_SHORT || (!hr_rz_intact(p, u) && hr_rz_check_slow(p, u, &a, &b) != HR_RZ_INTACT))
		return 0;
	const char *e = (const char *)p + u;
	uint32_t s = (unsigned char)e[-1];
	if (s == HR_SLACK_LONG_TAG) {
		uint64_t t;
		memcpy(&t, e - 17, sizeof(t));
		*n = t;
	} else {
		*n = u - s;
	}
	return 1;
}

/* The quarantine's mark: the slot in the low 22 bits, bits 22-55 a hash
 * of the address and key (QMARK keeps it apart from the trailer's word),
 * the top byte 0: never a short slack's tag, so that a held block's slack
 * never reads as intact (a second free of it looks at its mark). */
#define QMARK 0x51554152414e5451ull
#define SLOT_BITS 22

uint64_t hr_rz_qmark(const void *p, uint32_t slot)
{
	uint64_t h = ((uint64_t)(uintptr_t)p ^ key ^ QMARK) * 0x9e3779b97f4a7c15ull;
	return (h & LOW7 & ~((1ull << SLOT_BITS) - 1)) | (slot & ((1u << SLOT_BITS) - 1));
}

int hr_rz_qmarked(void *p, size_t u, uint32_t *slot)
{
	if (u < HR_SLACK_SHORT)
		return 0;
	uint64_t w = load((const char *)p + u - 8);
	uint32_t s = (uint32_t)(w & ((1u << SLOT_BITS) - 1));
	if (w != hr_rz_qmark(p, s))
		return 0;
	*slot = s;
	return 1;
}
