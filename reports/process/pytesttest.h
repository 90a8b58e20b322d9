/* The tests pytest says failed, read from its summary (pytesttest.c), for
 * the test-name analysis (testname.c) and the verdict. */
#ifndef ETRACE_PYTESTTEST_H
#define ETRACE_PYTESTTEST_H

#include "reports/core/model.h"

#define FAILED_TESTS_KEPT 16

struct failed_tests {
	char *name[FAILED_TESTS_KEPT];   /* "tests/test_io.py::test_missing_file[param]" */
	char *why[FAILED_TESTS_KEPT];    /* what follows " - " on its line, or NULL */
	size_t n;                        /* kept */
	size_t total;                    /* FAILED and ERROR lines read, or the final count when more */
	size_t errors;                   /* of which ERROR (a fixture or the collection failed) */
	uint64_t seen;                   /* stdout bytes already looked at */
};

/* p wrote to its stdout (its last words have the data): when p is pytest,
 * its new summary lines ("FAILED nodeid - message", "ERROR nodeid") are
 * added to p->failed_tests. */
void pytesttest_on_stdout(struct et_process *p);
void pytesttest_free(struct failed_tests *f);

#endif
