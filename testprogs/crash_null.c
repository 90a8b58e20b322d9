/* Dereferences a NULL pointer two calls below main. Built several ways:
 * -O0 -g (crash_null), -O2 -g -fomit-frame-pointer (crash_null_o2),
 * non-PIE (crash_null_nopie) and stripped (crash_null_stripped). */
#include <stdio.h>
#include <stdlib.h>

struct config {
	int verbose;
	const char *name;
};

__attribute__((noinline)) static int read_verbose(const struct config *c)
{
	return c->verbose + 1; /* crash: c is NULL */
}

__attribute__((noinline)) static int load_settings(const char *which)
{
	struct config *c = NULL;
	if (which && which[0] == 'x')
		c = malloc(sizeof(*c));
	return read_verbose(c);
}

int main(int argc, char **argv)
{
	printf("about to crash\n");
	fflush(stdout);
	int v = load_settings(argc > 1 ? argv[1] : NULL);
	printf("verbose %d\n", v); /* not a tail call: main stays on the stack */
	return 0;
}
