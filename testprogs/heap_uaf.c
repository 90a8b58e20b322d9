/* Crashes on heap memory: a use after free and an overflow past a block.
 * Both blocks are above glibc's mmap threshold (128 KiB), so glibc maps
 * each in a region of its own (16-byte chunk header first) and unmaps it at
 * free: a touch of freed memory or past the region faults at once, at an
 * address the program prints first (write(), no stdio buffer on the heap).
 * Usage: heap_uaf MODE
 *   uaf       make_region: malloc(262144), filled; drop_region frees it;
 *             touch writes p[16]: SIGSEGV (SEGV_MAPERR) at p + 16, 16 bytes
 *             inside the freed 262144-byte block. Prints "block 0x...".
 *   uaf_late  the same, but 5 malloc(32)/free pairs run between the free
 *             and the touch (older frees are forgotten first)
 *   overflow  make_region: malloc(200000); scribble writes forward byte by
 *             byte from p[200000] (the block's end). glibc maps
 *             200000 + 16 bytes of chunk + 8, rounded up to pages: 200704
 *             bytes from p - 16, so the first byte outside the mapping is
 *             p + 200688, 688 bytes past the block's end. The page there is
 *             made a PROT_NONE guard first (a region reserved before the
 *             malloc, its lower part given back for glibc's mapping), so the
 *             fault is at that address (SEGV_ACCERR) and not inside whatever
 *             mapping the kernel would have put next to it. Prints
 *             "block 0x..." and "fault 0x..." (the expected fault address);
 *             exits 3 if glibc's mapping did not land in the reserved spot.
 * Lines marked "@alloc", "@free", "@touch" are the calls the report must name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UAF_SIZE (256 * 1024)
#define OVERFLOW_SIZE 200000
#define PAGE 4096UL
/* glibc's mapping for a malloc(OVERFLOW_SIZE): the chunk (request + 8,
 * rounded to 16) plus 8, rounded up to pages; the chunk starts at p - 16 */
#define OVERFLOW_MAP ((((OVERFLOW_SIZE + 8 + 15) & ~15UL) + 8 + PAGE - 1) & ~(PAGE - 1))

static void say(const char *what, const void *addr)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %p\n", what, addr);
	if (write(1, line, (size_t)n) != n)
		exit(3);
}

__attribute__((noinline)) static char *make_region(size_t size)
{
	char *p = malloc(size); /* @alloc */
	memset(p, 'u', size);
	say("block", p);
	return p;
}

__attribute__((noinline)) static void drop_region(char *p)
{
	free(p); /* @free */
}

__attribute__((noinline)) static void touch(char *p)
{
	p[16] = 'X'; /* @touch uaf */
}

__attribute__((noinline)) static void scribble(char *p, size_t from)
{
	for (size_t i = from;; i++)
		((volatile char *)p)[i] = 'O'; /* @touch overflow */
}

static int overflow(void)
{
	/* the region glibc will map, plus a guard page above it */
	char *res = mmap(NULL, OVERFLOW_MAP + PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return 3;
	munmap(res, OVERFLOW_MAP);
	char *p = make_region(OVERFLOW_SIZE);
	if (p - 16 != res) {
		fprintf(stderr, "heap_uaf: glibc mapped the block at %p, not at %p as planned\n",
			(void *)(p - 16), (void *)res);
		return 3;
	}
	say("fault", p - 16 + OVERFLOW_MAP);
	scribble(p, OVERFLOW_SIZE);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "uaf") == 0 || strcmp(mode, "uaf_late") == 0) {
		char *p = make_region(UAF_SIZE);
		drop_region(p);
		if (strcmp(mode, "uaf_late") == 0) {
			for (int i = 0; i < 5; i++) {
				char *q = malloc(32);
				memset(q, 'q', 32);
				free(q);
			}
		}
		touch(p);
	} else if (strcmp(mode, "overflow") == 0) {
		return overflow();
	} else {
		fprintf(stderr, "usage: heap_uaf uaf|uaf_late|overflow\n");
		return 2;
	}
	return 0;
}
