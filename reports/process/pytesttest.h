/* pytest's failed tests, read from its summary (pytesttest.c), for the
 * test-name analysis (testname.c) and the verdict. */
#ifndef ETRACE_PYTESTTEST_H
#define ETRACE_PYTESTTEST_H

#include "reports/core/model.h"
#include "failedtests.h"

/* p wrote to its stdout (its last words have the data): when p is pytest,
 * its new summary lines ("FAILED nodeid - message", "ERROR nodeid") are
 * added to p->failed_tests. */
void pytesttest_on_stdout(struct et_process *p);

#endif
