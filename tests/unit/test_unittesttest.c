/* unittesttest: unittest's failure headers name its failed tests, only
 * under its rule and with a dotted id; other lines name nothing. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "reports/core/model.h"
#include "reports/core/xalloc.h"
#include "reports/process/lastwords.h"
#include "reports/process/unittesttest.h"

#define RULE "======================================================================\n"

static struct et_process *python(struct et_model *m, int pid, const char *argv0)
{
	struct et_process *p = model_add_process(m, pid, 1, 0);
	p->argv = xcalloc(3, sizeof(char *));
	p->argv[0] = xstrdup(argv0);
	p->argv[1] = xstrdup("test_u.py");
	return p;
}

static void err(struct et_process *p, const char *text)
{
	lastwords_add(&p->words, 2, text, strlen(text), strlen(text));
	unittesttest_on_stderr(p);
}

static size_t total(const struct et_process *p)
{
	return p->failed_tests ? p->failed_tests->total : 0;
}

int main(void)
{
	struct et_model m;
	model_init(&m);

	/* Python 3.11: the id ends with the method; line by line, as stderr is written */
	struct et_process *p = python(&m, 100, "/usr/bin/python3");
	err(p, ".FE.\n");
	err(p, RULE);
	err(p, "ERROR: test_err (test_u.T.test_err)\n");
	err(p, "----------------------------------------------------------------------\n");
	err(p, "RuntimeError: boom\n\n" RULE "FAIL: test_fail (test_u.T.test_fail)\n");
	err(p, "AssertionError: 1 != 2\n\nRan 4 tests in 0.001s\n\nFAILED (failures=1, errors=1)\n");
	CHECK(total(p) == 2 && p->failed_tests->errors == 1 && p->failed_tests->n == 2);
	if (p->failed_tests && p->failed_tests->n == 2) {
		CHECK_STR(p->failed_tests->name[0], "test_u.T.test_err");
		CHECK_STR(p->failed_tests->name[1], "test_u.T.test_fail");
	}

	/* Python 3.10: the class only, the method added; the count wins when more */
	struct et_process *q = python(&m, 101, "python3.10");
	err(q, RULE "FAIL: test_x (pkg.mod.Case)\n");
	err(q, "FAILED (failures=3, skipped=2)\n");
	CHECK(total(q) == 3 && q->failed_tests->n == 1 && q->failed_tests->errors == 0);
	if (q->failed_tests && q->failed_tests->n == 1)
		CHECK_STR(q->failed_tests->name[0], "pkg.mod.Case.test_x");

	/* not after the rule, not a dotted id, not Python: nothing */
	struct et_process *r = python(&m, 102, "python3");
	err(r, "FAIL: test_x (test_u.T.test_x)\n");
	err(r, RULE "ERROR: could not connect (is the server up?)\n");
	err(r, RULE "FAIL: disk full (/var)\n");
	CHECK(total(r) == 0);
	struct et_process *s = python(&m, 103, "/bin/bash");
	err(s, RULE "FAIL: test_x (test_u.T.test_x)\nFAILED (failures=1)\n");
	CHECK(total(s) == 0 && s->failed_tests == NULL);

	/* a passing run */
	struct et_process *t = python(&m, 104, "python3");
	err(t, "....\n----------------------------------------------------------------------\nRan 4 tests in 0.001s\n\nOK\n");
	CHECK(total(t) == 0);

	model_free(&m);
	return unit_done();
}
