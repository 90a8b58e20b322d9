/* A library unloaded and another loaded at its addresses: dlopen
 * libheapdl_a.so, allocate and free through it, dlclose it, dlopen
 * libheapdl_b.so (mapped where a was), and leak 55 bytes through it from
 * leak_from_b. Both libraries have heapdl_alloc at the same offset with a
 * different frame size (libheapdl2.c): a stack walk that kept a's unwind
 * rule would lose leak_from_b and main. Prints "same address" when b's
 * heapdl_alloc is where a's was (what this program is for), "moved"
 * otherwise; exits 0. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scrub.h"

typedef void *(*alloc_fn)(size_t);

static void *open_lib(const char *dir, const char *name, alloc_fn *fn)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		exit(1);
	}
	*fn = (alloc_fn)dlsym(h, "heapdl_alloc");
	if (!*fn) {
		fprintf(stderr, "%s\n", dlerror());
		exit(1);
	}
	return h;
}

static void *leaked;

__attribute__((noinline)) static void leak_from_b(alloc_fn fn)
{
	leaked = fn(55); /* @call b */
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	const char *dir = dirname(self);
	alloc_fn a, b;
	void *ha = open_lib(dir, "libheapdl_a.so", &a);
	for (int i = 0; i < 3; i++)
		free(a(10));   /* the walk learns a's rule at this address */
	dlclose(ha);
	open_lib(dir, "libheapdl_b.so", &b);   /* stays open: the report names it */
	printf("%s\n", (void *)a == (void *)b ? "same address" : "moved");
	leak_from_b(b);
	leaked = NULL;   /* only the stack's copy in the scan's roots would keep it: none */
	scrub();
	return 0;
}
