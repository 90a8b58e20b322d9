/* libetrace_heap.so: each thread's memory of its call sites (stackwalk.c),
 * kept outside TLS. glibc carves a thread's static TLS out of the stack
 * the program asked for: 26 KB of sites there made a thread with a 32 KiB
 * stack overflow it (a crash only under etrace), and 100 KB made
 * pthread_create of a 64 KiB stack fail with EINVAL. A thread gets a block
 * at its first recorded call (reused from a thread that ended, else
 * mapped) and gives it back when it ends (a pthread key's destructor). */
#ifndef ETRACE_PRELOAD_SITES_H
#define ETRACE_PRELOAD_SITES_H

#include "stackwalk.h"

/* 64 sets: with 32, one run of the bidi test in ~15 had five of its hot
 * sites (the stack's address is random, and with it the sets) in one set
 * of four ways, walked again at every call (12-14% of its calls, +15%
 * time); with 64, none in 60 runs. A block is ~210 KB, its pages touched
 * only where sets are used. */
#define HR_SITE_SETS 64
#define HR_SITE_WAYS 4

struct hr_sites {
	struct hr_site e[HR_SITE_SETS][HR_SITE_WAYS];
	uint32_t used[HR_SITE_SETS][HR_SITE_WAYS];   /* when each way was used last */
	uint32_t clock;
	struct hr_sites *next;                         /* on the list of blocks to reuse */
};

/* Once, in the library's constructor. */
HR_HIDDEN void hr_sites_init(void);
/* This thread's block; NULL when it has none and gets none (it is ending,
 * or no memory): its walks are then not remembered. Called inside the
 * library only (hr_busy). */
HR_HIDDEN struct hr_sites *hr_sites_mine(void);
/* In a new process: the list's lock may have been held by a thread that
 * is not in it. */
HR_HIDDEN void hr_sites_new_process(void);

#endif
