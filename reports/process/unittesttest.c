/* unittest's failed tests (unittesttest.h). Python's unittest runner
 * (python3 -m unittest, a script's unittest.main(), CPython's own test
 * suite) writes each failure to stderr under a rule of 70 '=':
 *     ======================================================================
 *     FAIL: test_fail (test_u.T.test_fail)
 * (Python 3.10 and older: "(test_u.T)", the method then added), and ends
 * with "FAILED (failures=1, errors=1)". A script that calls unittest.main()
 * has no telling argv, so the stderr of every Python process is read; a
 * header counts only right after the rule and with a dotted name in its
 * parentheses, which a program's own "ERROR: ..." line does not have. */
#include "unittesttest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "reports/core/xalloc.h"
#include "symbolize/fileutil.h"
#include "lastwords.h"

#define UNITTEST_LINE_MAX 1024

static bool is_python(const struct et_process *p)
{
	const char *prog = p->exe ? p->exe : p->argv ? p->argv[0] : NULL;
	return prog && strncmp(path_base(prog), "python", 6) == 0;
}

static bool rule(const char *line)
{
	size_t n = strspn(line, "=");
	return n == 70 && line[n] == '\0';
}

/* "test_u.T.test_fail": letters, digits, '_' and at least one '.' */
static bool dotted(const char *s, size_t n)
{
	bool dot = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dot = true;
		else if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	}
	return dot && n && s[0] != '.' && s[n - 1] != '.';
}

/* "FAILED (failures=1, errors=2, skipped=3)": failures (unexpected
 * successes too) and errors; false when the line is not that */
static bool count_line(const char *line, size_t *total, size_t *errors)
{
	if (strncmp(line, "FAILED (", 8) != 0 || line[strlen(line) - 1] != ')')
		return false;
	*total = *errors = 0;
	for (const char *q = line + 8; *q && *q != ')';) {
		const char *eq = strchr(q, '=');
		if (!eq)
			return false;
		char *end;
		unsigned long n = strtoul(eq + 1, &end, 10);
		if (end == eq + 1)
			return false;
		size_t klen = (size_t)(eq - q);
		if (klen == 8 && memcmp(q, "failures", 8) == 0)
			*total += n;
		else if (klen == 6 && memcmp(q, "errors", 6) == 0)
			*total += n, *errors += n;
		else if (klen == 21 && memcmp(q, "unexpected successes", 20) == 0)
			*total += n;
		q = end;
		if (*q == ',' && q[1] == ' ')
			q += 2;
	}
	return true;
}

static void stderr_line(const char *line, void *arg)
{
	struct failed_tests *f = arg;
	bool after = f->after_rule;
	f->after_rule = rule(line);
	size_t total, errors;
	if (count_line(line, &total, &errors)) {
		failed_tests_count(f, total, errors);
		return;
	}
	if (!after)
		return;
	bool error = strncmp(line, "ERROR: ", 7) == 0;
	if (!error && strncmp(line, "FAIL: ", 6) != 0)
		return;
	const char *method = line + (error ? 7 : 6);
	const char *open = strchr(method, ' ');
	size_t mlen = open ? (size_t)(open - method) : 0;
	if (!open || open[1] != '(' || line[strlen(line) - 1] != ')')
		return;
	const char *id = open + 2;
	size_t n = strlen(id) - 1;
	if (!mlen || !dotted(id, n))
		return;
	/* 3.11: the id ends with the method; before: the class, the method added */
	bool whole = n > mlen && id[n - mlen - 1] == '.' && memcmp(id + n - mlen, method, mlen) == 0;
	char name[UNITTEST_LINE_MAX];
	int len = snprintf(name, sizeof(name), whole ? "%.*s" : "%.*s.%.*s", (int)n, id, (int)mlen, method);
	if (len > 0 && (size_t)len < sizeof(name))
		failed_tests_add(f, name, (size_t)len, NULL, error);
}

void unittesttest_on_stderr(struct et_process *p)
{
	if (!p->words || p->words->s[1].kept == 0 || !is_python(p))
		return;
	if (!p->failed_tests)
		p->failed_tests = xcalloc(1, sizeof(*p->failed_tests));
	struct failed_tests *f = p->failed_tests;
	lastwords_new_lines(&p->words->s[1], &f->seen_err, 6, UNITTEST_LINE_MAX, stderr_line, f);
}
