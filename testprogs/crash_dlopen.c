/* Loads libcrashy.so (next to this program) with dlopen and calls into it. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	char lib[PATH_MAX + 32];
	snprintf(lib, sizeof(lib), "%s/libcrashy.so", dirname(self));
	void *h = dlopen(lib, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	int (*parse)(const char *) = (int (*)(const char *))dlsym(h, "crashy_parse");
	return parse(NULL);
}
