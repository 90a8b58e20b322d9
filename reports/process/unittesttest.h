/* Python unittest's failed tests, read from its stderr (unittesttest.c),
 * for the test-name analysis (testname.c) and the verdict. */
#ifndef ETRACE_UNITTESTTEST_H
#define ETRACE_UNITTESTTEST_H

#include "reports/core/model.h"
#include "failedtests.h"

/* p wrote to its stderr (its last words have the data): when p is a Python
 * process, the failures unittest's new lines report are added to
 * p->failed_tests. */
void unittesttest_on_stderr(struct et_process *p);

#endif
