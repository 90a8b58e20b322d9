/* The failed tests of a runner that runs them in its own process
 * (failedtests.h). */
#include "failedtests.h"

#include <stdlib.h>
#include <string.h>

#include "reports/core/xalloc.h"

void failed_tests_add(struct failed_tests *f, const char *name, size_t n, const char *why, bool error)
{
	for (size_t i = 0; i < f->n; i++)
		if (strlen(f->name[i]) == n && memcmp(f->name[i], name, n) == 0)
			return;   /* the summary written twice (a plugin): one test */
	f->total++;
	f->errors += error;
	if (f->n == FAILED_TESTS_KEPT)
		return;
	f->name[f->n] = x_checked(strndup(name, n));
	f->why[f->n] = why && *why ? xstrdup(why) : NULL;
	f->n++;
}

void failed_tests_count(struct failed_tests *f, size_t total, size_t errors)
{
	if (total > f->total) {
		f->total = total;
		f->errors = errors;
	}
}

void failed_tests_free(struct failed_tests *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->why[i]);
	}
	free(f);
}
