/* libetrace_heap.so: redzones. Each block the program gets through the
 * hooks is HR_RZ_EXTRA bytes larger at the allocator than the program
 * asked for: HR_RZ bytes of a known pattern right past its end, and at the
 * end of the allocator's usable size a trailer (the size asked for, and a
 * check word tied to the block's address and a per-process key) that says
 * the block is one of ours and where its end is. A changed pattern byte,
 * seen when the block is freed or reallocated, is a write past the end
 * (#11). */
#ifndef ETRACE_PRELOAD_REDZONE_H
#define ETRACE_PRELOAD_REDZONE_H

#include <stddef.h>
#include <stdint.h>

#include "recorder.h"

#define HR_RZ 16
#define HR_RZ_EXTRA (HR_RZ + 16)

/* Nonzero when redzones are made (the allocator has malloc_usable_size,
 * and ETRACE_HEAP_REDZONE is not 0). */
extern int hr_rz_on HR_HIDDEN;

/* Once, with the allocator's malloc_usable_size (NULL: none, no redzones). */
HR_HIDDEN void hr_rz_init(size_t (*usable)(void *));
/* p: a block of n + HR_RZ_EXTRA bytes (or more) just allocated for n. */
HR_HIDDEN void hr_rz_mark(void *p, size_t n);
/* Whether p is one of ours: 1 with *n, and in *first / *count the first
 * changed byte past the end and how many changed (count 0: intact), and
 * where its trailer is (trailer may be NULL). The trailer is wiped when
 * wipe is set (the block goes back). */
HR_HIDDEN int hr_rz_check(void *p, int wipe, size_t *n, uint64_t *first, uint32_t *count, char **trailer);

/* The quarantine's marks in the trailer (quarantine.c): p (n bytes asked
 * for, its trailer at tp as hr_rz_check found it) is held in slot; whether
 * p is so marked (and its slot); the mark at tp removed. */
HR_HIDDEN int hr_rz_quarantine(char *tp, void *p, size_t n, uint32_t slot);
HR_HIDDEN int hr_rz_quarantined(void *p, uint32_t *slot);
HR_HIDDEN void hr_rz_unquarantine(char *tp);

#endif
