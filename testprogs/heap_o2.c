/* Leaks from -O2 code built without frame pointers (the Makefile builds it
 * with -O2 -fomit-frame-pointer): the allocation stacks must still name
 * make_record, fill_table, load_all and main, found through the callers'
 * call frame information, not their frame pointers.
 * Usage: heap_o2 [N]   N records leaked (default 8), exit 0 */
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

__attribute__((noinline)) static char *make_record(size_t n)
{
	char *p = malloc(n); /* @alloc o2 */
	__asm__ volatile("" : : "r"(p) : "memory");
	memset(p, 'r', n);
	return p;
}

__attribute__((noinline)) static long fill_table(int k)
{
	long sum = 0;
	for (int i = 0; i < k; i++) {
		char *p = make_record(64 + (size_t)i);
		sum += p[1];
		__asm__ volatile("" : : "r"(p) : "memory");
	}
	return sum;
}

__attribute__((noinline)) static long load_all(int k)
{
	return fill_table(k) + 1;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	long s = load_all(n);
	scrub();
	return s > 0 ? 0 : 1;
}
