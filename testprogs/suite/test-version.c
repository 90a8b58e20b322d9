/* A test of an autotools-style suite (see Makefile here): checks a version
 * string; with SUITE_FAIL=1 in the environment it fails the way a real test
 * does, a message on stderr then exit 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *library_version(void)
{
	const char *f = getenv("SUITE_FAIL");
	return f && strcmp(f, "1") == 0 ? "0.2.5" : "0.2.6";
}

int main(void)
{
	const char *v = library_version();
	printf("checking the library version\n");
	fflush(stdout);
	if (strcmp(v, "0.2.6") != 0) {
		fprintf(stderr, "version check: expected 0.2.6, got %s\n", v);
		return 3;
	}
	printf("version %s ok\n", v);
	return 0;
}
