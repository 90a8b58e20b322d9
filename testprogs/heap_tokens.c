/* An allocation-heavy workload shaped like a test-suite program that parses
 * a data file (fribidi's BidiCharacterTest): for each of N generated lines,
 * split it into fields, copy each field (strdup), parse the numbers of
 * one field into a growing array (realloc), check them, free it all.
 * About 12 allocations per line, with real work in between.
 * Usage: heap_tokens [N]   (default 200000 lines)
 * Prints "tokens N lines A allocations S s" and exits 0; no leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long allocations;

static char *copy(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	allocations++;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* One line: "id;levels;text;ordering" with numbers in fields 1 and 3. */
static unsigned long check_line(const char *line)
{
	char *fields[8];
	int nf = 0;
	const char *start = line;
	for (const char *c = line;; c++) {
		if (*c == ';' || *c == 0) {
			if (nf < 8)
				fields[nf++] = copy(start, (size_t)(c - start));
			start = c + 1;
			if (!*c)
				break;
		}
	}
	unsigned long sum = 0;
	long *nums = NULL;
	size_t n = 0, cap = 0;
	for (int f = 1; f < nf; f += 2) {
		char *save = NULL, *tok = strtok_r(fields[f], " ", &save);
		for (; tok; tok = strtok_r(NULL, " ", &save)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4;
				nums = realloc(nums, cap * sizeof(*nums));
				allocations++;
			}
			nums[n++] = strtol(tok, NULL, 10);
		}
	}
	for (size_t i = 0; i < n; i++)
		sum += (unsigned long)nums[i] * (i + 1);
	free(nums);
	for (int f = 0; f < nf; f++)
		free(fields[f]);
	return sum;
}

int main(int argc, char **argv)
{
	long lines = argc > 1 ? atol(argv[1]) : 200000;
	char buf[256];
	unsigned long sum = 0;
	double t0 = now();
	for (long i = 0; i < lines; i++) {
		snprintf(buf, sizeof(buf), "%ld;%ld %ld %ld %ld;abc def %ld;%ld %ld %ld %ld %ld", i, i % 3, i % 5, i % 7,
			 i % 11, i, i % 13, i % 17, i % 19, i % 23, i % 29);
		sum += check_line(buf);
	}
	printf("tokens %ld lines %ld allocations %.6f s (sum %lu)\n", lines, allocations, now() - t0, sum);
	return 0;
}
