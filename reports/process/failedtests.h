/* The tests a runner said failed, when its tests run inside its own process
 * (pytest, unittest): kept with that process for the verdict. */
#ifndef ETRACE_FAILEDTESTS_H
#define ETRACE_FAILEDTESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAILED_TESTS_KEPT 16

struct failed_tests {
	char *name[FAILED_TESTS_KEPT];   /* "tests/test_io.py::test_missing_file[param]", "test_io.T.test_x" */
	char *why[FAILED_TESTS_KEPT];    /* what the runner wrote after it, or NULL */
	size_t n;                        /* kept */
	size_t total;                    /* FAILED and ERROR lines read, or the final count when more */
	size_t errors;                   /* of which errors (a fixture, the collection, an exception) */
	uint64_t seen, seen_err;         /* bytes of stdout and stderr already looked at */
	bool after_rule;                 /* unittest: the last line was its rule of '=' */
};

/* One more failed test: name (n bytes) and why (NULL: none); error: it
 * errored rather than failed. A name already kept is not counted again. */
void failed_tests_add(struct failed_tests *f, const char *name, size_t n, const char *why, bool error);
/* The runner's final count, when it says more than the lines read. */
void failed_tests_count(struct failed_tests *f, size_t total, size_t errors);
void failed_tests_free(struct failed_tests *f);

#endif
