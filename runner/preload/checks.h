/* The memory checks of libetrace_heap.so (#11), as etrace's options set
 * them (--heap-check, --heap-quarantine, --heap-guard-rate) and hands them
 * to the library in the target's environment: one variable, read once by
 * each process image at its first allocation. Shared by etrace and the
 * library. */
#ifndef ETRACE_PRELOAD_CHECKS_H
#define ETRACE_PRELOAD_CHECKS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum heap_check {
	HEAP_CHECK_OFF = 0,      /* the recorder alone */
	HEAP_CHECK_DEFAULT = 1,  /* redzones, quarantine, sampled guard pages */
	HEAP_CHECK_ALL = 2,      /* the same, every allocation against a guard page */
};

#define HEAP_QUARANTINE_DEFAULT (256u << 10)
/* A guard page sample costs two mprotect calls (and a page fault at a
 * slot's first use): ~30 us in this PVM guest, ~60 us under etrace (its
 * syscall probes run for them): one in 10000 was +3-9% over the recorder
 * alone on heap_churn, one in 20000 half of it. */
#define HEAP_GUARD_RATE_DEFAULT 20000u
/* The default mode holds one free in this many of each thread's in the
 * quarantine (its first among them); --heap-check=all holds every one.
 * Holding every free cost 25-50% over the recorder alone on heap_churn
 * (the allocator then hands out memory cold in the cache). A held block
 * costs ~200 ns when it leaves (its cold first line read, glibc's free of
 * a cold chunk): one in 16 was +6-10% over the recorder alone there, one
 * in 32 +4-9%, one in 64 about half of that. */
#define HEAP_QUARANTINE_SAMPLE 64u
/* ... after each thread's first this many frees, all held: a short run,
 * where a bug is reproduced, has them all checked; a long
 * allocation-heavy run pays for one in HEAP_QUARANTINE_SAMPLE. */
#define HEAP_QUARANTINE_ALL_FIRST 4096u

/* The patterns, known to the crash analysis too (reports/crash): a freed
 * block the quarantine holds is filled with HEAP_FREED_BYTE; with
 * --heap-check=all a new block (malloc, operator new, the aligned
 * allocators; not calloc's, not realloc's new part) is filled with
 * HEAP_NEW_BYTE up to HEAP_NEW_FILL bytes (ASan's malloc_fill_byte and
 * max_malloc_fill_size), so that a pointer read from memory nothing wrote
 * is 0xbebebebebebebebe: not canonical, its use faults at once. Not in the
 * default mode: up to 4 KiB cost +9 ns a pair on heap_churn in the process
 * alone (more than the default's whole budget), the first 64 bytes ~+1 ns
 * but noisy, +8 on the median (docs/design-notes.md). */
#define HEAP_FREED_BYTE 0xfdu
#define HEAP_NEW_BYTE 0xbeu
#define HEAP_NEW_FILL 4096u

/* Whether v looks like a pointer read from memory filled with byte b: its
 * six high bytes are b (the low two are a field's offset). */
static inline int heap_fill_pointer(uint64_t v, unsigned b)
{
	return (v >> 16) == ((uint64_t)(b & 0xff) * 0x010101010101ull);
}

/* Which frees the quarantine holds in mode with bytes: one in what this
 * says (1: every one), 0: none. */
static inline unsigned heap_quarantine_one_in(int mode, uint64_t bytes)
{
	if (mode == HEAP_CHECK_OFF || !bytes)
		return 0;
	return mode == HEAP_CHECK_ALL ? 1 : HEAP_QUARANTINE_SAMPLE;
}

#define HR_ENV_CHECK "ETRACE_HEAP_CHECK"

struct hr_checks {
	int mode;                /* enum heap_check */
	size_t quarantine;       /* bytes */
	unsigned guard_rate;     /* one allocation in N (1: all; 0: none) */
};

/* "MODE,QUARANTINE,RATE": what the variable holds (mode as a digit). */
static inline int hr_checks_format(const struct hr_checks *c, char *buf, size_t len)
{
	return snprintf(buf, len, "%d,%zu,%u", c->mode, c->quarantine, c->guard_rate);
}

/* The variable's value read back; anything malformed (or none) is off:
 * the checks are never on unless etrace asked for them. */
static inline struct hr_checks hr_checks_parse(const char *v)
{
	struct hr_checks c = { HEAP_CHECK_OFF, 0, 0 };
	char *end;
	if (!v || v[0] < '0' || v[0] > '2' || v[1] != ',')
		return c;
	unsigned long long q = strtoull(v + 2, &end, 10);
	if (*end != ',')
		return c;
	unsigned long long r = strtoull(end + 1, &end, 10);
	if (*end || r > 1000000000ull)
		return c;
	c.mode = v[0] - '0';
	c.quarantine = (size_t)q;
	c.guard_rate = c.mode == HEAP_CHECK_ALL ? 1 : (unsigned)r;
	if (c.mode == HEAP_CHECK_OFF)
		c.quarantine = 0, c.guard_rate = 0;
	return c;
}

#endif
