/* Built twice, as libheapdl_a.so (HEAPDL_PAD 512) and libheapdl_b.so
 * (1024), for heap_dlreload: the same code at the same offsets, but
 * heapdl_alloc's frame is another size, so the rule that finds its caller
 * (CFA = rsp + frame size) differs at the same address. Without frame
 * pointers: the caller comes from the unwind tables. */
#include <stdlib.h>

#ifndef HEAPDL_PAD
#define HEAPDL_PAD 512
#endif

__attribute__((noinline)) void *heapdl_alloc(size_t n)
{
	volatile char pad[HEAPDL_PAD];
	/* no zero word where the other library's return address would be:
	 * a walk with the other's rule reads garbage there, not an end */
	for (int i = 0; i < HEAPDL_PAD; i++)
		pad[i] = 0x5a;
	void *p = malloc(n); /* @alloc reload */
	pad[HEAPDL_PAD - 1] = pad[0];
	return p;
}
