/* libetrace_heap.so: redzones in glibc's slack (#11). Each block the
 * program gets through the hooks is asked of the allocator at its own size
 * (one byte more for the sizes glibc fills exactly, slack.h), and the bytes
 * between its end and the end of the allocator's usable size hold a known
 * pattern and a tag that says where the end is. A changed pattern byte,
 * seen when the block is freed or reallocated, is a write past the end. */
#ifndef ETRACE_PRELOAD_REDZONE_H
#define ETRACE_PRELOAD_REDZONE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"
#include "slack.h"

/* Nonzero when redzones are made (glibc's allocator, checks asked for). */
extern int hr_rz_on HR_HIDDEN;

/* Once, with the allocator's malloc_usable_size (NULL: none, no redzones). */
HR_HIDDEN void hr_rz_init(size_t (*usable)(void *));
/* glibc's malloc_usable_size of an in-use block, from its chunk header:
 * the chunk's size less its header. Read inline, it saves a call into
 * libc at every allocation and free. It is trusted once it agreed with the
 * allocator's own answer on the first HR_RZ_AGREE blocks (the program's
 * own: a test allocation would change where the program's blocks go),
 * never after a disagreement, and never for a chunk glibc mapped (rare,
 * its layout not checked). */
#define HR_RZ_AGREE 32
extern size_t (*hr_rz_usable_fn)(void *) HR_HIDDEN;
extern int hr_rz_agreed HR_HIDDEN;   /* atomic: HR_RZ_AGREE: trusted; -1: never */
HR_HIDDEN size_t hr_rz_usable_slow(void *p);

static inline size_t hr_rz_header_usable(const void *p)
{
	return (((const size_t *)p)[-1] & ~(size_t)7) - 8;
}

/* The allocator's usable size of p (a plausible glibc chunk). */
static inline size_t hr_rz_usable(void *p)
{
	if (__atomic_load_n(&hr_rz_agreed, __ATOMIC_RELAXED) == HR_RZ_AGREE && !(((const size_t *)p)[-1] & 2))
		return hr_rz_header_usable(p);
	return hr_rz_usable_slow(p);
}

/* Bytes to ask the allocator for a block of n (slack.h). */
static inline size_t hr_rz_ask(size_t n)
{
	return hr_rz_on ? hr_slack_ask(n) : n;
}
/* What a block's bytes before n hold when it is marked. */
enum hr_rz_have {
	HR_RZ_FRESH,   /* nothing yet (malloc, memalign, new): may be written over */
	HR_RZ_ZEROS,   /* zeros (calloc): written as zeros */
	HR_RZ_KEEP,    /* the program's (realloc): kept */
};
/* p: a block of n bytes just allocated: its slack marked (none when the
 * allocator left none). */
HR_HIDDEN void hr_rz_mark(void *p, size_t n, enum hr_rz_have have);

enum hr_rz_state {
	HR_RZ_INTACT,     /* the slack as marked */
	HR_RZ_EVIDENCE,   /* short form, not as marked: *a = u, *b = the evidence (slack.h) */
	HR_RZ_CHANGED,    /* long form, pattern changed: *a = first byte, *b = count */
	HR_RZ_NONE,       /* no redzone the library can read */
};
static inline uint64_t hr_rz_load(const char *a)
{
	uint64_t w;
	__builtin_memcpy(&w, a, sizeof(w));
	return w;
}

#define HR_RZ_LOW7 0x00ffffffffffffffull

/* For a short slack of s bytes, the pattern's bytes in the last three
 * words of the block (word i: e - 8 - 8i .. e - 8i; the tag not
 * included): hr_rz_masks[s][i]. A table, not branches: the slack of
 * blocks of random sizes is random, and a branch on it mispredicted made
 * marking and checking several times as dear. */
extern uint64_t hr_rz_masks[HR_SLACK_SHORT + 1][3] HR_HIDDEN;

/* Whether the short-form slack of p (u >= HR_SLACK_SHORT usable bytes)
 * is as marked: the common case at every free, the three words at once. */
static inline int hr_rz_intact(void *p, size_t u)
{
	const char *e = (const char *)p + u;
	uint64_t w0 = hr_rz_load(e - 8), w1 = hr_rz_load(e - 16), w2 = hr_rz_load(e - 24);
	uint32_t s = (uint32_t)(w0 >> 56);
	if (s - 1 >= HR_SLACK_SHORT)
		return 0;
	const uint64_t *m = hr_rz_masks[s];
	return (((w0 ^ HR_SLACK_WORD) & m[0]) | ((w1 ^ HR_SLACK_WORD) & m[1]) | ((w2 ^ HR_SLACK_WORD) & m[2])) == 0;
}

/* The slack of p (u usable bytes) when it is not intact (the long form,
 * or changed): read, not changed. */
HR_HIDDEN enum hr_rz_state hr_rz_check_slow(void *p, size_t u, uint64_t *a, uint64_t *b);

/* The slack of p (u usable bytes), about to go back: read, not changed. */
static inline enum hr_rz_state hr_rz_check(void *p, size_t u, uint64_t *a, uint64_t *b)
{
	if (u >= HR_SLACK_SHORT && hr_rz_intact(p, u))
		return HR_RZ_INTACT;
	return hr_rz_check_slow(p, u, a, b);
}
/* The size the program asked for p (u usable bytes), when its slack says
 * it: 1 with *n. */
HR_HIDDEN int hr_rz_size(void *p, size_t u, size_t *n);

/* The quarantine's mark (quarantine.c): a held block's last 8 usable
 * bytes say it is held, and in which slot (22 bits), tied to its address
 * and the process's key; the word, whether p is so marked (and its slot). */
HR_HIDDEN uint64_t hr_rz_qmark(const void *p, uint32_t slot);
HR_HIDDEN int hr_rz_qmarked(void *p, size_t u, uint32_t *slot);

#endif
