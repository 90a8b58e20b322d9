/* pytest's failed tests (pytesttest.h). pytest runs its tests inside its own
 * process, so no process is a test: the names are in its "short test
 * summary info", written at the end (shown by default since pytest 6):
 *     FAILED tests/test_io.py::test_missing_file - AssertionError: b'cat: ...
 *     ERROR tests/test_db.py::test_connect - ConnectionRefusedError: [Errno 111]
 *     ERROR tests/test_broken.py - ModuleNotFoundError: No module named 'x'
 * (ERROR: a fixture or the collection failed). Only these lines of a
 * process whose image is pytest are read: a node id has "::" or names a
 * .py file, so an ordinary "FAILED ..." line of its output does not match.
 * `pytest -v`'s progress lines ("test_io.py::test_x FAILED [ 50%]") put the
 * outcome last and are not read; the summary names the same tests. */
#include "pytesttest.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reports/core/xalloc.h"
#include "symbolize/fileutil.h"
#include "lastwords.h"

#define PYTEST_LINE_MAX 1024

static bool pytest_name(const char *s)
{
	return strcmp(s, "pytest") == 0 || strcmp(s, "pytest-3") == 0 || strcmp(s, "py.test") == 0 ||
	       strcmp(s, "py.test-3") == 0;
}

/* pytest, pytest-3, py.test; python3 /usr/bin/pytest-3; python3 -m pytest */
static bool is_pytest(const struct et_process *p)
{
	if (!p->argv || !p->argv[0])
		return false;
	if (pytest_name(path_base(p->argv[0])))
		return true;
	if (strncmp(path_base(p->argv[0]), "python", 6) != 0)
		return false;
	for (size_t i = 1; p->argv[i] && i < 4; i++) {
		const char *a = p->argv[i];
		if (strcmp(a, "-m") == 0)
			return p->argv[i + 1] && strcmp(p->argv[i + 1], "pytest") == 0;
		if (a[0] != '-')
			return pytest_name(path_base(a));
	}
	return false;
}

/* "tests/test_io.py::test_x[1-2]" or "tests/test_broken.py": no spaces */
static bool node_id(const char *s, size_t n)
{
	if (!n || memchr(s, ' ', n))
		return false;
	if (memmem(s, n, "::", 2))
		return true;
	return n > 3 && memcmp(s + n - 3, ".py", 3) == 0;
}

/* The last line, "2 failed, 1 passed, 1 error in 0.12s" (between '='
 * rules without -q): the failed tests and errors it counts, -1 when the
 * line is not that. The summary's FAILED lines may be in the part of a
 * long write etrace did not keep; this count is in its last bytes. */
static long counted(const char *line, long *errors)
{
	while (*line == '=' || *line == ' ')
		line++;
	const char *in = strstr(line, " in ");
	if (!in || !strchr(in, 's'))
		return -1;
	long failed = 0, errs = 0;
	bool any = false;
	for (const char *q = line; q < in;) {
		char *end;
		long n = strtol(q, &end, 10);
		if (end == q || *end != ' ' || n < 0)
			return -1;
		const char *word = end + 1;
		size_t len = strcspn(word, ", ");
		if (word + len > in)
			len = (size_t)(in - word);
		if (len == 6 && memcmp(word, "failed", 6) == 0)
			failed += n;
		else if ((len == 5 && memcmp(word, "error", 5) == 0) || (len == 6 && memcmp(word, "errors", 6) == 0))
			failed += n, errs += n;
		else if (!(len >= 5 && len <= 10))   /* passed, skipped, xfailed, xpassed, deselected, warnings, rerun */
			return -1;
		any = true;
		q = word + len;
		if (q < in && q[0] == ',' && q[1] == ' ')
			q += 2;
		else if (q != in)
			return -1;
	}
	*errors = errs;
	return any ? failed : -1;
}

static void summary_line(const char *line, void *arg)
{
	struct failed_tests *f = arg;
	long errs = 0, c = counted(line, &errs);
	if (c >= 0) {
		failed_tests_count(f, (size_t)c, (size_t)errs);
		return;
	}
	size_t skip;
	if (strncmp(line, "FAILED ", 7) == 0)
		skip = 7;
	else if (strncmp(line, "ERROR ", 6) == 0)
		skip = 6;
	else
		return;
	const char *id = line + skip;
	const char *sep = strstr(id, " - ");
	size_t n = sep ? (size_t)(sep - id) : strlen(id);
	while (n && id[n - 1] == ' ')
		n--;
	if (!node_id(id, n))
		return;
	failed_tests_add(f, id, n, sep ? sep + 3 : NULL, skip == 6);
}

void pytesttest_on_stdout(struct et_process *p)
{
	if (!p->words || p->words->s[0].kept == 0)
		return;
	if (!p->pytest)
		p->pytest = is_pytest(p) ? 1 : -1;
	if (p->pytest < 0)
		return;
	if (!p->failed_tests)
		p->failed_tests = xcalloc(1, sizeof(*p->failed_tests));
	struct failed_tests *f = p->failed_tests;
	lastwords_new_lines(&p->words->s[0], &f->seen, 8, PYTEST_LINE_MAX, summary_line, f);
}
