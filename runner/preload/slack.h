/* The redzone in glibc's slack (#11): what libetrace_heap.so writes past a
 * block's end, and the rule etrace's model and its exit check use to read
 * it back. Shared by the library (redzone.c), the heap model
 * (reports/heap/heap_ingest.c) and the exit check (runner/heap/rzexit.c):
 * plain inline functions, no state.
 *
 * glibc gives a block u usable bytes (its chunk less the header), u >= n
 * the bytes asked for. The slack s = u - n (0..24 for a block from malloc)
 * is where the redzone lives: no byte is added to the block, so the
 * allocator's chunks, their cache lines and the program's memory are those
 * it has without etrace. The short form (1 <= s <= HR_SLACK_SHORT):
 *
 *     [n, u-1)  HR_SLACK_BYTE, the pattern       [u-1]  s, the tag
 *
 * The tag says where the block's end is, so the library needs nothing per
 * block. The slack is 0 for one size in 16 (n % 16 == 8, from 24 on):
 * those blocks are asked one byte larger (hr_slack_ask), which glibc rounds
 * to 16 more: a 1-byte redzone would do, 16 is what a chunk grows by.
 * Bigger slack (aligned blocks, page-mapped blocks) has the long form:
 *
 *     [n, n+16) pattern (up to u-17) ... [u-17, u-9) n  [u-9, u-1) n ^ address ^ key  [u-1] 0xff
 *
 * checked by the library alone (the key makes it its own).
 *
 * What the slack cannot show: a write past the slack (into the next chunk's
 * header, where glibc may abort on it), a write of the pattern's own value,
 * and with the short form a write that reaches the tag changes the tag:
 * the library then no longer knows the block's end, and sends what it saw
 * (the tag and which of the last 23 bytes differ from the pattern) for
 * etrace's model to judge with the size it recorded for the block. */
#ifndef ETRACE_PRELOAD_SLACK_H
#define ETRACE_PRELOAD_SLACK_H

#include <stddef.h>
#include <stdint.h>

#define HR_SLACK_BYTE 0xfb
#define HR_SLACK_WORD 0xfbfbfbfbfbfbfbfbull
#define HR_SLACK_SHORT 24u       /* the short form's largest slack */
#define HR_SLACK_LONG_TAG 0xffu
#define HR_SLACK_LONG_MIN 25u    /* the long form: its trailer and tag, 8 pattern bytes or more */
#define HR_SLACK_LONG_PAT 16u

/* An overflow record whose low 32 bits of align have this bit carries the
 * evidence of a short-form slack the library could not read: bits 0-7 the
 * tag byte, bits 8-30 a bit for each of the 23 bytes before the tag (bit
 * 8 + j: the byte at u-2-j) that is not the pattern; its size field is u. */
#define HR_SLACK_EVIDENCE 0x80000000u

/* Bytes to ask the allocator for a block of n: one more when glibc would
 * leave no slack (its chunks are 16-byte multiples with 8 bytes of
 * header: n % 16 == 8 fills one exactly). Never wraps: such an n is not
 * SIZE_MAX. */
static inline size_t hr_slack_ask(size_t n)
{
	return n + ((n & 15) == 8);
}

/* What the model reads from an evidence record for a block of n bytes with
 * u usable: 1 with the first changed byte past the end and the count of
 * bytes changed, 0 when the evidence says nothing of this block (not the
 * short form for n and u, or nothing changed). */
static inline int hr_slack_judge(uint64_t n, uint64_t u, uint32_t evidence, uint64_t *first, uint32_t *count)
{
	if (!(evidence & HR_SLACK_EVIDENCE) || u <= n || u - n > HR_SLACK_SHORT)
		return 0;
	uint32_t s = (uint32_t)(u - n), tag = evidence & 0xff, mask = (evidence >> 8) & 0x7fffff;
	uint32_t c = 0;
	uint64_t f = 0;
	for (uint32_t i = 0; i + 1 < s; i++)   /* byte n + i is the mask's bit s - 2 - i */
		if (mask >> (s - 2 - i) & 1 && c++ == 0)
			f = i;
	if (tag != s && c++ == 0)
		f = s - 1;
	*first = f;
	*count = c;
	return c != 0;
}

/* The short-form slack of a block of n bytes read from outside (the exit
 * check): bytes z[0..s) = [n, u). Judged only when its tag is intact (a
 * block whose memory is no longer the one etrace recorded has, at the
 * tag's place, some other byte). 1 with first and count when a pattern
 * byte changed. */
static inline int hr_slack_read(const uint8_t *z, uint32_t s, uint64_t *first, uint32_t *count)
{
	if (s < 2 || s > HR_SLACK_SHORT || z[s - 1] != s)
		return 0;
	uint32_t c = 0;
	uint64_t f = 0;
	for (uint32_t i = 0; i + 1 < s; i++)
		if (z[i] != HR_SLACK_BYTE && c++ == 0)
			f = i;
	*first = f;
	*count = c;
	return c != 0;
}

#endif
