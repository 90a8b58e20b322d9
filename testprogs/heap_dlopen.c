/* Loads libheapdl.so (next to this program) with dlopen and calls
 * heapdl_leak in it, which leaks a 77-byte malloc block: the leak's stack
 * names a function of a library that was not mapped when the program
 * started. The library stays open (no dlclose) until exit, so its symbols
 * and debug info are mapped when the report is made: a dlclose'd library
 * would need the report to remember mappings that are gone. Prints
 * "loaded PATH" and exits 0. With the argument "relative", it changes to
 * its own directory and loads "./libheapdl.so": the path the kernel sees
 * is relative to a working directory etrace did not start it in. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scrub.h"

__attribute__((noinline)) static int call_library(int relative)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	char lib[PATH_MAX + 32];
	const char *dir = dirname(self);
	snprintf(lib, sizeof(lib), "%s/libheapdl.so", dir);
	if (relative) {
		if (chdir(dir) != 0)
			return 1;
		snprintf(lib, sizeof(lib), "./libheapdl.so");
	}
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

int main(int argc, char **argv)
{
	if (call_library(argc > 1 && strcmp(argv[1], "relative") == 0) != 0)
		return 1;
	scrub();
	return 0;
}
