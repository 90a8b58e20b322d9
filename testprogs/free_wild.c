/* Frees a pointer no allocation returned. glibc reads the chunk header
 * below it before it can check anything: with an unmapped address free
 * faults (SIGSEGV) instead of aborting. MODE "wild" (default) frees an
 * unmapped address, "noncanon" a non-canonical one (a general protection
 * fault: the kernel gives no address). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void release(void *p)
{
	free(p);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "wild";
	uintptr_t bad = strcmp(mode, "noncanon") == 0 ? (uintptr_t)0x8000000000001230ull : (uintptr_t)0x87654320u;
	printf("freeing %#lx\n", (unsigned long)bad);
	fflush(stdout);
	release((void *)bad);
	return 0;
}
