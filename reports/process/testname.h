/* The name a test runner gave the test a process runs ("failing" for ctest's
 * add_test(NAME failing COMMAND fail)), so that the verdict and the JUnit
 * report of a whole suite name the failed test as the runner does, not
 * only by its binary. */
#ifndef ETRACE_TESTNAME_H
#define ETRACE_TESTNAME_H

#include "reports/core/model.h"

/* The test p belongs to: the name its runner announced for p or one of its
 * ancestors, NULL when none did. Owned by the model. */
const char *process_test_name(const struct et_model *m, const struct et_process *p);

/* Its runner expected p's test to fail and it did (p or the ancestor the
 * test is named by has expected_fail): its failure is no finding. */
bool process_expected_fail(const struct et_model *m, const struct et_process *p);

#endif
