/* A test that fails with a message on stderr, as an assertion library
 * would print it (tests/test_ci.py). */
#include <stdio.h>

static int parse_answer(const char *s)
{
	int v = 0;
	return sscanf(s, "%d", &v) == 1 ? v : -1;
}

int main(void)
{
	int got = parse_answer("41");
	if (got != 42) {
		fprintf(stderr, "fail.c: check failed: parse_answer(\"41\") == 42, got %d\n", got);
		return 1;
	}
	return 0;
}
