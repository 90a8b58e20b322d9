/* pytesttest: pytest's summary names its failed tests; other programs'
 * "FAILED" lines name nothing; the final count wins when lines were lost. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "reports/core/model.h"
#include "reports/core/xalloc.h"
#include "reports/process/lastwords.h"
#include "reports/process/pytesttest.h"

static char **argv_of(const char *a, const char *b, const char *c)
{
	char **v = xcalloc(4, sizeof(char *));
	v[0] = xstrdup(a);
	v[1] = b ? xstrdup(b) : NULL;
	v[2] = b && c ? xstrdup(c) : NULL;
	return v;
}

static void say(struct et_process *p, const char *text)
{
	lastwords_add(&p->words, 1, text, strlen(text), strlen(text));
	pytesttest_on_stdout(p);
}

static size_t total(const struct et_process *p)
{
	return p->failed_tests ? p->failed_tests->total : 0;
}

int main(void)
{
	struct et_model m;
	model_init(&m);

	/* python3 /usr/bin/pytest-3 -q: the summary, written in pieces */
	struct et_process *p = model_add_process(&m, 100, 1, 0);
	p->argv = argv_of("/usr/bin/python3", "/usr/bin/pytest-3", "-q");
	say(p, "..F.E                                                                    [100%]\n");
	say(p, "=========================== short test summary info ============================\n"
	       "FAILED tests/test_io.py::test_missing_file - AssertionError: b'cat: /nonexist...\n"
	       "ERROR tests/test_db.py::test_connect[pg-1] - ConnectionRefusedError: [Errno 111]\n"
	       "FAILED tests/test_io.py::test_n");
	CHECK(total(p) == 2);
	say(p, "o_message\n1 failed, 3 passed, 1 error in 0.12s\n");
	CHECK(total(p) == 3 && p->failed_tests->errors == 1);
	CHECK(p->failed_tests && p->failed_tests->n == 3);
	if (p->failed_tests && p->failed_tests->n == 3) {
		CHECK_STR(p->failed_tests->name[0], "tests/test_io.py::test_missing_file");
		CHECK_STR(p->failed_tests->why[0], "AssertionError: b'cat: /nonexist...");
		CHECK_STR(p->failed_tests->name[1], "tests/test_db.py::test_connect[pg-1]");
		CHECK_STR(p->failed_tests->name[2], "tests/test_io.py::test_no_message");
		CHECK(p->failed_tests->why[2] == NULL);
	}

	/* a collection error names the file; colours are dropped */
	struct et_process *q = model_add_process(&m, 101, 1, 0);
	q->argv = argv_of("python3", "-m", "pytest");
	say(q, "\x1b[31mERROR\x1b[0m tests/test_broken.py - ModuleNotFoundError: No module named 'x'\n");
	CHECK(total(q) == 1);
	CHECK(q->failed_tests && q->failed_tests->n == 1 &&
	      strcmp(q->failed_tests->name[0], "tests/test_broken.py") == 0);

	/* the summary's lines lost (the middle of a long write): the count */
	struct et_process *r = model_add_process(&m, 102, 1, 0);
	r->argv = argv_of("pytest", NULL, NULL);
	say(r, "============== 7 failed, 120 passed, 2 skipped, 3 warnings in 4.56s ==============\n");
	CHECK(total(r) == 7 && r->failed_tests->n == 0 && r->failed_tests->errors == 0);

	/* a passing run: nothing; -v's progress lines are not the summary */
	struct et_process *s = model_add_process(&m, 103, 1, 0);
	s->argv = argv_of("/usr/bin/pytest-3", "-v", NULL);
	say(s, "tests/test_io.py::test_missing_file FAILED                        [ 50%]\n"
	       "========================= 12 passed in 0.30s ==========================\n");
	CHECK(total(s) == 0);

	/* not pytest: a program's own FAILED lines, and a script named so */
	struct et_process *t = model_add_process(&m, 104, 1, 0);
	t->argv = argv_of("/usr/bin/make", "check", NULL);
	say(t, "FAILED tests/test_io.py::test_missing_file - oops\n1 failed, 1 passed in 0.1s\n");
	CHECK(total(t) == 0 && t->failed_tests == NULL);
	struct et_process *u = model_add_process(&m, 105, 1, 0);
	u->argv = argv_of("python3", "run_pytest_later.py", NULL);
	say(u, "FAILED tests/test_io.py::test_x - no\n");
	CHECK(total(u) == 0);

	/* lines that only look like the summary */
	struct et_process *w = model_add_process(&m, 106, 1, 0);
	w->argv = argv_of("pytest", NULL, NULL);
	say(w, "FAILED to connect to the database - retrying\nERROR in the fixture, see above\n"
	       "Ran 3 tests in 0.001s\n");
	CHECK(total(w) == 0);

	model_free(&m);
	return unit_done();
}
