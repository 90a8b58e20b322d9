/* The names `meson test` gives the tests it runs, read from its result
 * lines (mesontest.c), for the test-name analysis (testname.c). */
#ifndef ETRACE_MESONTEST_H
#define ETRACE_MESONTEST_H

#include "reports/core/model.h"

struct meson_runs;

/* p wrote to its stdout (its last words have the data): when p is
 * `meson test`, the failed children its new result lines name get their
 * test_name. *runs is made on first use. */
void mesontest_on_stdout(struct et_model *m, struct meson_runs **runs, struct et_process *p);
void mesontest_free(struct meson_runs *runs);

#endif
