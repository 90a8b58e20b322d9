/* Loads libcrashy.so (next to this program) with dlopen and calls into it.
 * With the argument "relative" it changes to its own directory first and
 * loads "./libcrashy.so": a path relative to a working directory etrace
 * did not start it in. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	char lib[PATH_MAX + 32];
	const char *dir = dirname(self);
	snprintf(lib, sizeof(lib), "%s/libcrashy.so", dir);
	if (argc > 1 && strcmp(argv[1], "relative") == 0) {
		if (chdir(dir) != 0)
			return 1;
		snprintf(lib, sizeof(lib), "./libcrashy.so");
	}
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	int (*parse)(const char *) = (int (*)(const char *))dlsym(h, "crashy_parse");
	return parse(NULL);
}
