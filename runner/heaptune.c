/* libbpf parses the kernel's BTF (5.4 MB, ~125,000 types) into freshly
 * allocated memory at each load of a BPF object, and frees it after. On
 * the VMs here the first touch of a 4 KiB page costs ~16 us: one parse
 * was ~2,800 page faults, ~50 ms of CPU, more than the verifier spends on
 * all of etrace's programs. So before anything is loaded, etrace's heap
 * is made to keep what it frees (large blocks from the brk heap, not
 * mapped and unmapped one by one; no trimming), padded, and backed by
 * transparent huge pages where the kernel allows them on request
 * (/sys/kernel/mm/transparent_hugepage/enabled "madvise" or "always"):
 * the first parse then takes ~10 faults, the later ones reuse the memory.
 * Where huge pages are off it only keeps the memory (the second parse is
 * free of faults). */
#include "heaptune.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)
#define HEAP_PAD (64 << 20)

void heaptune_start(void)
{
	/* one arena: the kernel's BTF is parsed on a thread (tracer_load),
	 * which would otherwise allocate from an arena of its own, fresh
	 * 4 KiB pages (~20 ms more CPU measured) */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, HEAP_PAD);
	mallopt(M_TRIM_THRESHOLD, 2 * HEAP_PAD);
	mallopt(M_TOP_PAD, HEAP_PAD);
	/* a block larger than what is free grows the heap, by the pad too:
	 * from there to the top is the range to advise */
	void *probe = malloc(HEAP_PAD / 4);
	if (!probe)
		return;
	uintptr_t lo = ((uintptr_t)probe + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t top = (uintptr_t)sbrk(0);
	if (top != (uintptr_t)-1 && top > lo + HUGE_PAGE)
		madvise((void *)lo, (top - lo) & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);   /* best effort */
	free(probe);
}
