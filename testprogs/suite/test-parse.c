/* A test of the suite in this directory that always passes. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *in = "12,34";
	char *end;
	long a = strtol(in, &end, 10), b = strtol(end + 1, NULL, 10);
	printf("parse %ld %ld\n", a, b);
	return a + b == 46 ? 0 : 1;
}
