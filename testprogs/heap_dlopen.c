/* Loads libheapdl.so (next to this program) with dlopen and calls
 * heapdl_leak in it, which leaks a 77-byte malloc block: the leak's stack
 * names a function of a library that was not mapped when the program
 * started. The library stays open (no dlclose) until exit, so its symbols
 * and debug info are mapped when the report is made: a dlclose'd library
 * would need the report to remember mappings that are gone. Prints
 * "loaded PATH" and exits 0. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Zeroes the scratch registers, then 64 KiB of the dead stack below the
 * caller, without calling anything (a first call through the PLT would run
 * the dynamic linker's resolver below the zeroed area and spill the old
 * register values there): no stale copy of a leaked pointer survives. */
__attribute__((noinline)) static void scrub(void)
{
#if defined(__x86_64__)
	__asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
			 "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
			 "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d"
			 : : : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
#endif
	volatile char junk[65536];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = 0;
}

__attribute__((noinline)) static int call_library(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	char lib[PATH_MAX + 32];
	snprintf(lib, sizeof(lib), "%s/libheapdl.so", dirname(self));
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	void (*leak)(void) = (void (*)(void))dlsym(h, "heapdl_leak");
	if (!leak) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	leak(); /* @call */
	printf("loaded %s\n", lib);
	return 0;
}

int main(void)
{
	if (call_library() != 0)
		return 1;
	scrub();
	return 0;
}
