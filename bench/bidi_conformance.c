/*
 * The benchmark's real allocation-heavy test: the Unicode bidi conformance
 * test (BidiCharacterTest.txt, Debian's unicode-data) run against Debian's
 * libfribidi, the workload of issue #10's table (fribidi's own
 * BidiCharacterTest timed out under heap tracing). Each line's code points
 * are resolved to embedding levels and reordered; the result is compared
 * with the expected levels and visual order. fribidi allocates its run
 * lists with malloc for every line: ~2 M allocations over the file.
 *
 * Usage: bidi_conformance [BidiCharacterTest.txt [passes]]
 * Prints "bidi lines N passed N failed N loop S s" and exits 0 when every
 * line passed, 1 when one failed (a change in behaviour under a tool),
 * 2 when the file cannot be read.
 */
#include <fribidi.h>
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

/* The next field of a ';'-separated line (NUL-terminated in place). */
static char *field(char **line)
{
	char *f = *line, *semi = f ? strchr(f, ';') : NULL;
	if (semi)
		*semi = '\0';
	*line = semi ? semi + 1 : NULL;
	return f;
}

/* One test line: 1 passed, 0 failed, -1 malformed (not counted). */
static int run_line(char *line)
{
	char *cps = field(&line), *dir = field(&line), *par = field(&line), *lv = field(&line), *order = field(&line);
	if (!order)
		return -1;
	size_t cap = strlen(cps) / 4 + 1;
	FriBidiChar *str = malloc(cap * sizeof(*str));
	FriBidiStrIndex len = 0;
	for (char *p = cps, *end; (void)(end = NULL), *p; p = end) {
		unsigned long cp = strtoul(p, &end, 16);
		if (end == p)
			break;
		if ((size_t)len < cap)
			str[len++] = (FriBidiChar)cp;
	}
	FriBidiCharType *types = malloc(len * sizeof(*types));
	FriBidiBracketType *brackets = malloc(len * sizeof(*brackets));
	FriBidiLevel *levels = malloc(len * sizeof(*levels));
	FriBidiStrIndex *map = malloc(len * sizeof(*map));
	int ok = 0;
	if (!str || !types || !brackets || !levels || !map || len == 0)
		goto out;
	FriBidiParType base = *dir == '0' ? FRIBIDI_PAR_LTR : *dir == '1' ? FRIBIDI_PAR_RTL : FRIBIDI_PAR_ON;
	fribidi_get_bidi_types(str, len, types);
	fribidi_get_bracket_types(str, len, types, brackets);
	if (!fribidi_get_par_embedding_levels_ex(types, brackets, len, &base, levels))
		goto out;
	for (FriBidiStrIndex i = 0; i < len; i++)
		map[i] = i;
	if (!fribidi_reorder_line(0, types, len, 0, base, levels, NULL, map))
		goto out;
	if (strtol(par, NULL, 10) != FRIBIDI_DIR_TO_LEVEL(base))
		goto out;
	/* levels: 'x' for a character rule X9 removes */
	char *p = lv;
	for (FriBidiStrIndex i = 0; i < len; i++) {
		while (*p == ' ')
			p++;
		if (*p == 'x') {
			p++;
			continue;
		}
		char *end;
		long want = strtol(p, &end, 10);
		if (end == p || want != levels[i])
			goto out;
		p = end;
	}
	/* the visual order, without the removed characters */
	p = order;
	for (FriBidiStrIndex i = 0; i < len; i++) {
		FriBidiStrIndex l = map[i];
		if (FRIBIDI_IS_EXPLICIT_OR_BN(types[l]))
			continue;
		char *end;
		long want = strtol(p, &end, 10);
		if (end == p || want != l)
			goto out;
		p = end;
	}
	ok = 1;
out:
	free(map);
	free(levels);
	free(brackets);
	free(types);
	free(str);
	return ok;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/usr/share/unicode/BidiCharacterTest.txt";
	int passes = argc > 2 ? atoi(argv[2]) : 1;
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	long lines = 0, passed = 0, failed = 0;
	double t0 = now();
	for (int pass = 0; pass < passes; pass++) {
		rewind(f);
		while (getline(&line, &cap, f) > 0) {
			if (*line == '#' || *line == '\n')
				continue;
			int r = run_line(line);
			if (r < 0)
				continue;
			lines++;
			passed += r;
			failed += !r;
		}
	}
	double t = now() - t0;
	free(line);
	fclose(f);
	printf("bidi lines %ld passed %ld failed %ld loop %.3f s\n", lines, passed, failed, t);
	return failed ? 1 : 0;
}
